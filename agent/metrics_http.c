/* The /metrics and /health endpoint: libmicrohttpd, one internal thread
 * polling a socket we bind ourselves (so a port in use is named in the
 * log, with errno's words, and the agent goes on without it). */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define BODY_MAX (16u << 20)
#define CONNECTIONS 16
#define CONNECTION_TIMEOUT_S 10
#define BACKLOG 16

static struct {
	struct MHD_Daemon *daemon;
	char *listen; /* what is served, or was tried */
	int port;
} srv;

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static bool split(const char *listen, char *host, size_t hlen, char *port, size_t plen, char *why, size_t len)
{
	const char *h = listen, *colon;
	size_t hl;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':') {
			snprintf(why, len, "expected [IPV6-ADDRESS]:PORT, e.g. [::1]:9469");
			return false;
		}
		h = listen + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon) {
			snprintf(why, len, "expected HOST:PORT, e.g. 127.0.0.1:9469");
			return false;
		}
		hl = (size_t)(colon - listen);
		if (memchr(listen, ':', hl)) {
			snprintf(why, len, "an IPv6 address goes in brackets, e.g. [::1]:9469");
			return false;
		}
	}
	if (hl == 0 || hl >= hlen) {
		snprintf(why, len, hl ? "host name too long" : "missing host (0.0.0.0: every interface)");
		return false;
	}
	const char *p = colon + 1;
	size_t pl = strlen(p);
	if (pl == 0 || pl > 5 || pl >= plen || strspn(p, "0123456789") != pl || atoi(p) > 65535) {
		snprintf(why, len, "the port must be a number from 0 to 65535 (0: any free port)");
		return false;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, p, pl + 1);
	return true;
}

bool ax_metrics_listen_valid(const char *listen, char *why, size_t len)
{
	char host[256], port[8];
	return !listen || !listen[0] || split(listen, host, sizeof(host), port, sizeof(port), why, len);
}

/* A listening socket on host:port; -1 with why. */
static int open_socket(const char *host, const char *port, int *family, char *why, size_t len)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(why, len, "%s", gai_strerror(rc));
		return -1;
	}
	int fd = -1, one = 1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			snprintf(why, len, "%s", strerror(errno));
			continue;
		}
		/* SO_REUSEADDR: a restart need not wait out TIME_WAIT (Linux still refuses a port someone listens on) */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, BACKLOG) != 0) {
			snprintf(why, len, "%s", strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		*family = ai->ai_family;
	}
	freeaddrinfo(res);
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\n")] = '\0';
	ax_debug("metrics", "%s", text);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
			     size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	(void)cls, (void)version, (void)upload, (void)upload_size, (void)req_cls;
	static const char text[] = "text/plain; charset=utf-8";
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET or HEAD only\n", 17);
	bool metrics = strcmp(url, "/metrics") == 0, health = strcmp(url, "/health") == 0, healthy = true;
	if (!metrics && !health) {
		static const char none[] = "annexa serves /metrics (Prometheus) and /health\n";
		return reply(c, MHD_HTTP_NOT_FOUND, text, none, sizeof(none) - 1);
	}
	struct ax_buf body;
	ax_buf_init(&body, BODY_MAX);
	int64_t now = ax_metrics_now_ms();
	ax_err err = metrics ? ax_metrics_render(&body, now) : ax_metrics_health(&body, now, &healthy);
	enum MHD_Result ret;
	if (err)
		ret = reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "out of memory\n", 14);
	else if (metrics)
		ret = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body.data, body.len);
	else
		ret = reply(c, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", body.data,
			    body.len);
	ax_buf_finish(&body);
	return ret;
}

/* The daemon on fd; its thread takes no signal (they are the main thread's). */
static struct MHD_Daemon *start_daemon(int fd, int family)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			 (family == AF_INET6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, answer, NULL,
						MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
						MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS,
						MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
						MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
						MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

void ax_metrics_serve(const char *listen)
{
	if (!listen)
		listen = "";
	if (srv.listen && strcmp(srv.listen, listen) == 0 && (srv.daemon || !listen[0]))
		return; /* already as asked; an address that failed is tried again */
	ax_metrics_stop();
	srv.listen = strdup(listen);
	if (!listen[0])
		return;
	char host[256], port[8], why[256];
	int family = AF_UNSPEC, fd = -1;
	if (split(listen, host, sizeof(host), port, sizeof(port), why, sizeof(why)))
		fd = open_socket(host, port, &family, why, sizeof(why));
	if (fd >= 0 && !(srv.daemon = start_daemon(fd, family))) {
		snprintf(why, sizeof(why), "the HTTP server did not start");
		if (fcntl(fd, F_GETFD) != -1) /* libmicrohttpd may have closed it */
			close(fd);
		fd = -1;
	}
	if (fd < 0) {
		ax_warn("metrics", "cannot serve /metrics and /health on %s (metrics_listen): %s; going on without them",
			listen, why);
		return;
	}
	srv.port = bound_port(fd);
	ax_info("metrics", "serving /metrics and /health on http://%s%s%s:%d/", family == AF_INET6 ? "[" : "", host,
		family == AF_INET6 ? "]" : "", srv.port);
}

int ax_metrics_port(void)
{
	return srv.daemon ? srv.port : 0;
}

void ax_metrics_stop(void)
{
	if (srv.daemon)
		MHD_stop_daemon(srv.daemon); /* closes the socket */
	srv.daemon = NULL;
	srv.port = 0;
	free(srv.listen);
	srv.listen = NULL;
}

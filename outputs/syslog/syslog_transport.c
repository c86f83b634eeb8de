/* syslog transport: sockets for udp://, tcp:// and tls:// (see the header). */
#define _GNU_SOURCE /* sendmmsg */
#include "outputs/syslog/syslog_transport.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "outputs/syslog/syslog_tls.h"

#define DATAGRAMS_PER_CALL 64
#define LINGER_MS 2000 /* at the end, how long the receiver may take to close its side */

struct ax_syslog_transport {
	struct ax_syslog_peer peer;
	struct ax_syslog_tls *tls; /* tls:// only */
	struct ax_syslog_tls_session *session;
	int fd;
};

int64_t ax_syslog_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ax_err ax_syslog_wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - ax_syslog_monotonic_ms();
		if (left <= 0)
			return AX_ERR_AGAIN;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return AX_OK; /* ready, or an error the next call reports */
		if (n < 0 && errno != EINTR)
			return AX_ERR_IO;
	}
}

static const char *const schemes[] = { "udp://", "tcp://", "tls://" };

static ax_err split_host_port(const char *hp, struct ax_syslog_peer *peer)
{
	const char *colon = strrchr(hp, ':');
	const char *host = hp, *host_end = colon;
	if (hp[0] == '[') { /* [IPv6]:PORT */
		host_end = strchr(hp, ']');
		if (!host_end || host_end[1] != ':')
			return AX_ERR_CONFIG;
		host = hp + 1;
		colon = host_end + 1;
	}
	if (!colon || host_end == host || (size_t)(host_end - host) >= sizeof(peer->host))
		return AX_ERR_CONFIG;
	const char *port = colon + 1;
	char *end;
	long n = strtol(port, &end, 10);
	if (!*port || *end || n < 1 || n > 65535 || strspn(port, "0123456789") != strlen(port))
		return AX_ERR_CONFIG;
	memcpy(peer->host, host, (size_t)(host_end - host));
	peer->host[host_end - host] = '\0';
	snprintf(peer->port, sizeof(peer->port), "%ld", n);
	return AX_OK;
}

ax_err ax_syslog_address_parse(const char *address, struct ax_syslog_peer *peer, char *why,
			       size_t why_len)
{
	memset(peer, 0, sizeof(*peer));
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(address, schemes[i], n) != 0)
			continue;
		peer->proto = (enum ax_syslog_proto)i;
		if (split_host_port(address + n, peer) == AX_OK)
			return AX_OK;
		break;
	}
	snprintf(why, why_len, "address '%s' must look like udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (PORT 1-65535)", address);
	return AX_ERR_CONFIG;
}

struct ax_syslog_transport *ax_syslog_transport_create(const struct ax_syslog_peer *peer,
						       const struct ax_syslog_tls_conf *tls,
						       char *why, size_t why_len)
{
	struct ax_syslog_transport *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	t->peer = *peer;
	t->fd = -1;
	if (peer->proto == AX_SYSLOG_TLS && !(t->tls = ax_syslog_tls_create(tls, why, why_len))) {
		free(t);
		return NULL;
	}
	return t;
}

void ax_syslog_transport_close(struct ax_syslog_transport *t)
{
	ax_syslog_tls_close(t->session);
	t->session = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* The end of a stream, so that the receiver reads everything sent before
 * it: closing a socket with bytes unread (a TLS 1.3 receiver's session
 * tickets) resets the connection, and a receiver that gets the reset drops
 * what it had not read yet. So the end is said (close_notify, FIN), and
 * what comes back is read until the receiver closes too, or LINGER_MS. */
static void finish_stream(struct ax_syslog_transport *t)
{
	ax_syslog_tls_close(t->session); /* close_notify */
	t->session = NULL;
	shutdown(t->fd, SHUT_WR);
	int64_t deadline = ax_syslog_monotonic_ms() + LINGER_MS;
	char scratch[4096];
	while (ax_syslog_wait_fd(t->fd, POLLIN, deadline) == AX_OK) {
		ssize_t n = recv(t->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			break;
	}
}

void ax_syslog_transport_destroy(struct ax_syslog_transport *t)
{
	if (!t)
		return;
	if (t->fd >= 0 && t->peer.proto != AX_SYSLOG_UDP)
		finish_stream(t);
	ax_syslog_transport_close(t);
	ax_syslog_tls_destroy(t->tls);
	free(t);
}

/* A receiver never writes to us, so a readable stream means it closed the
 * connection (or reset it); writing then would lose the batch silently. */
static bool tcp_alive(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

bool ax_syslog_transport_ready(struct ax_syslog_transport *t)
{
	if (t->fd < 0)
		return false;
	switch (t->peer.proto) {
	case AX_SYSLOG_UDP:
		return true;
	case AX_SYSLOG_TCP:
		return tcp_alive(t->fd);
	case AX_SYSLOG_TLS:
		return ax_syslog_tls_alive(t->session);
	}
	return false;
}

/* Non-blocking connect to one address, bounded by the deadline. */
static int connect_one(const struct addrinfo *ai, int64_t deadline_ms, int *error)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		*error = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	*error = errno;
	if (*error == EINPROGRESS) {
		socklen_t len = sizeof(*error);
		if (ax_syslog_wait_fd(fd, POLLOUT, deadline_ms) != AX_OK)
			*error = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, error, &len) != 0)
			*error = errno;
		if (*error == 0)
			return fd;
	}
	close(fd);
	return -1;
}

static ax_err open_socket(struct ax_syslog_transport *t, int64_t deadline_ms, char *why,
			  size_t why_len)
{
	const struct ax_syslog_peer *p = &t->peer;
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = p->proto == AX_SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *list;
	int rc = getaddrinfo(p->host, p->port, &hints, &list);
	if (rc != 0) {
		snprintf(why, why_len, "cannot resolve %s: %s", p->host, gai_strerror(rc));
		return AX_ERR_IO;
	}
	int error = 0;
	for (const struct addrinfo *ai = list; ai && t->fd < 0; ai = ai->ai_next)
		t->fd = connect_one(ai, deadline_ms, &error);
	freeaddrinfo(list);
	if (t->fd >= 0)
		return AX_OK;
	snprintf(why, why_len, "cannot connect to %s:%s: %s", p->host, p->port, strerror(error));
	return AX_ERR_IO;
}

ax_err ax_syslog_transport_connect(struct ax_syslog_transport *t, int64_t deadline_ms, char *why,
				   size_t why_len)
{
	ax_syslog_transport_close(t);
	ax_err err = open_socket(t, deadline_ms, why, why_len);
	if (err || t->peer.proto != AX_SYSLOG_TLS)
		return err;
	t->session = ax_syslog_tls_connect(t->tls, t->fd, t->peer.host, deadline_ms, why, why_len);
	if (t->session)
		return AX_OK;
	ax_syslog_transport_close(t);
	return AX_ERR_IO;
}

static ax_err write_all(int fd, const char *data, size_t len, int64_t deadline_ms)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return AX_ERR_IO;
		if (ax_syslog_wait_fd(fd, POLLOUT, deadline_ms) != AX_OK) {
			errno = ETIMEDOUT;
			return AX_ERR_IO;
		}
	}
	return AX_OK;
}

/* One sendmmsg() per DATAGRAMS_PER_CALL messages. */
static ax_err send_datagrams(int fd, const char *data, const size_t *ends, size_t count,
			     int64_t deadline_ms)
{
	struct mmsghdr msgs[DATAGRAMS_PER_CALL];
	struct iovec iov[DATAGRAMS_PER_CALL];
	size_t done = 0;
	while (done < count) {
		unsigned n = 0;
		for (; n < DATAGRAMS_PER_CALL && done + n < count; n++) {
			size_t i = done + n, start = i ? ends[i - 1] : 0;
			iov[n] = (struct iovec){ (void *)(data + start), ends[i] - start };
			msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
		}
		int sent = sendmmsg(fd, msgs, n, MSG_NOSIGNAL);
		if (sent >= 0) {
			done += (size_t)sent;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return AX_ERR_IO;
		if (ax_syslog_wait_fd(fd, POLLOUT, deadline_ms) != AX_OK) {
			errno = ETIMEDOUT;
			return AX_ERR_IO;
		}
	}
	return AX_OK;
}

ax_err ax_syslog_transport_send(struct ax_syslog_transport *t, const char *data,
				const size_t *ends, size_t count, int64_t deadline_ms, char *why,
				size_t why_len)
{
	size_t len = count ? ends[count - 1] : 0;
	ax_err err = AX_ERR_IO;
	switch (t->peer.proto) {
	case AX_SYSLOG_UDP:
		err = send_datagrams(t->fd, data, ends, count, deadline_ms);
		break;
	case AX_SYSLOG_TCP:
		err = write_all(t->fd, data, len, deadline_ms);
		break;
	case AX_SYSLOG_TLS:
		err = ax_syslog_tls_write(t->session, data, len, deadline_ms, why, why_len);
		break;
	}
	if (err && t->peer.proto != AX_SYSLOG_TLS)
		snprintf(why, why_len, "cannot send to %s:%s: %s", t->peer.host, t->peer.port, strerror(errno));
	if (err)
		ax_syslog_transport_close(t);
	return err;
}

/* bench_sink: the counting receiver of the benchmark suite (bench.py).
 *
 * usage: bench_sink syslog | hec [--token TOKEN]
 *
 * Listens on 127.0.0.1 (a free port), prints "port N" on stdout, and counts
 * what arrives, on any number of connections:
 *
 *   syslog  RFC 6587 frames on TCP: octet counting ("LEN SP MSG"), or one
 *           message a line when a frame starts with '<' (non-transparent);
 *   hec     Splunk HTTP Event Collector: POST /services/collector[/event[/1.0]]
 *           with Content-Length, gzip or not; the body's top-level JSON objects
 *           are counted as events, and every request is answered 200
 *           {"text":"Success","code":0}, as Splunk does. A wrong token (with
 *           --token) gets 403 code 4; /services/collector/health answers
 *           code 17; the ack endpoint 400 code 14 (acknowledgement is off).
 *
 * It is written to cost little beside the agent it measures: one thread, no
 * copies of syslog messages, HEC bodies scanned (and inflated) once.
 *
 * Commands on stdin, one a line, each answered with one line on stdout:
 *   count           "records R bytes B requests Q connections C errors E"
 *   wait N SECONDS  the same line, once R >= N or SECONDS have passed
 *   reset           "ok", the counters back to zero
 * It exits 0 when stdin closes. bytes: syslog message bytes (the length
 * prefix and LF excluded); HEC body bytes after inflating. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#define MAX_CONNS 64
#define MAX_REQUEST (256u << 20)
#define READ_SIZE (256u << 10)

enum mode { SYSLOG, HEC };

/* A JSON object scanner that survives chunk boundaries: counts the objects
 * that close at depth 0, braces inside strings excluded. */
struct scan {
	unsigned depth;
	bool in_string, escaped;
};

struct conn {
	int fd;
	/* syslog: where in the frame the stream is */
	enum { LEN, BODY, LINE } frame;
	uint64_t num, left;
	/* hec: the request being read */
	char *buf;
	size_t len, cap;
};

static struct {
	enum mode mode;
	const char *token;
	uint64_t records, bytes, requests, connections, errors;
	uint64_t wait_for;
	double wait_until;
	bool waiting;
} S;

static struct conn conns[MAX_CONNS];
static size_t nconns;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stats(void)
{
	printf("records %llu bytes %llu requests %llu connections %llu errors %llu\n",
	       (unsigned long long)S.records, (unsigned long long)S.bytes, (unsigned long long)S.requests,
	       (unsigned long long)S.connections, (unsigned long long)S.errors);
	fflush(stdout);
}

/* ---- syslog ---- */

static void syslog_feed(struct conn *c, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		if (c->frame == BODY) {
			size_t take = (size_t)end - (size_t)p < c->left ? (size_t)(end - p) : (size_t)c->left;
			p += take, c->left -= take, S.bytes += take;
			if (c->left == 0)
				S.records++, c->frame = LEN, c->num = 0;
		} else if (c->frame == LINE) {
			const char *lf = memchr(p, '\n', (size_t)(end - p));
			S.bytes += (uint64_t)((lf ? lf : end) - p);
			p = lf ? lf + 1 : end;
			if (lf)
				S.records++, c->frame = LEN, c->num = 0;
		} else if (*p >= '0' && *p <= '9') {
			c->num = c->num * 10 + (uint64_t)(*p++ - '0');
		} else if (*p == ' ') {
			p++, c->left = c->num, c->frame = c->num ? BODY : LEN;
		} else if (*p == '<' && c->num == 0) {
			c->frame = LINE;
		} else {
			p++, S.errors++; /* a stray byte: resynchronise on the next frame */
			c->num = 0;
		}
	}
}

/* ---- hec ---- */

static void scan(struct scan *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (s->in_string) {
			if (s->escaped)
				s->escaped = false;
			else if (ch == '\\')
				s->escaped = true;
			else if (ch == '"')
				s->in_string = false;
		} else if (ch == '"') {
			s->in_string = true;
		} else if (ch == '{' || ch == '[') {
			s->depth++;
		} else if ((ch == '}' || ch == ']') && s->depth > 0) {
			if (--s->depth == 0)
				S.records++;
		}
	}
	S.bytes += n;
}

static bool inflate_scan(struct scan *s, const unsigned char *body, size_t n)
{
	static unsigned char out[1u << 16];
	z_stream z = { 0 };
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return false;
	z.next_in = (unsigned char *)body;
	z.avail_in = (uInt)n;
	int rc = Z_OK;
	while (rc == Z_OK) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = inflate(&z, Z_NO_FLUSH);
		scan(s, out, sizeof(out) - z.avail_out);
		if (rc == Z_BUF_ERROR && z.avail_in == 0)
			break; /* truncated */
	}
	inflateEnd(&z);
	return rc == Z_STREAM_END;
}

static void reply(int fd, int status, const char *body)
{
	char head[256];
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 403 ? "Forbidden" : "Not Found";
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
			 reason, strlen(body), body);
	if (n > 0 && (size_t)n < sizeof(head) && write(fd, head, (size_t)n) != n)
		S.errors++;
}

/* The value of header name in the header block head..end (end: the CRLF
 * before the blank line), or NULL. */
static const char *header(const char *head, const char *end, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			*len = (size_t)((e && e < end ? e : end) - v);
			return v;
		}
	}
	return NULL;
}

static int hec_request(const char *head, const char *head_end, const unsigned char *body, size_t n,
		       const char **answer)
{
	size_t len = 0;
	const char *path = strchr(head, ' ');
	path = path ? path + 1 : "";
	size_t plen = strcspn(path, " ?");
	if (plen == strlen("/services/collector/health") && strncmp(path, "/services/collector/health", plen) == 0)
		return *answer = "{\"text\":\"HEC is healthy\",\"code\":17}", 200;
	if (plen == strlen("/services/collector/ack") && strncmp(path, "/services/collector/ack", plen) == 0)
		return *answer = "{\"text\":\"ACK is disabled\",\"code\":14}", 400;
	bool event = (plen == 19 && strncmp(path, "/services/collector", 19) == 0) ||
		     (plen == 25 && strncmp(path, "/services/collector/event", 25) == 0) ||
		     (plen == 29 && strncmp(path, "/services/collector/event/1.0", 29) == 0);
	if (!event)
		return *answer = "{\"text\":\"The requested URL was not found on this server.\",\"code\":404}", 404;
	const char *auth = header(head, head_end, "Authorization", &len);
	if (S.token && (!auth || len != 7 + strlen(S.token) || strncmp(auth, "Splunk ", 7) != 0 ||
			strncmp(auth + 7, S.token, len - 7) != 0))
		return *answer = "{\"text\":\"Invalid token\",\"code\":4}", 403;
	const char *enc = header(head, head_end, "Content-Encoding", &len);
	struct scan s = { 0 };
	S.requests++;
	if (enc && len == 4 && strncasecmp(enc, "gzip", 4) == 0) {
		if (!inflate_scan(&s, body, n))
			return S.errors++, *answer = "{\"text\":\"Invalid data format\",\"code\":6}", 400;
	} else {
		scan(&s, body, n);
	}
	return *answer = "{\"text\":\"Success\",\"code\":0}", 200;
}

/* Handles every complete request in the buffer; false: close the connection. */
static bool hec_feed(struct conn *c)
{
	for (;;) {
		if (c->len == 0)
			return true;
		c->buf[c->len] = '\0'; /* the buffer keeps a byte for it */
		char *head_end = strstr(c->buf, "\r\n\r\n");
		if (!head_end)
			return c->len < 65536;
		size_t len = 0, body_len = 0;
		const char *cl = header(c->buf, head_end, "Content-Length", &len);
		if (cl)
			body_len = strtoull(cl, NULL, 10);
		size_t head_len = (size_t)(head_end + 4 - c->buf);
		if (body_len > MAX_REQUEST)
			return false;
		if (c->len < head_len + body_len)
			return true;
		*head_end = '\0';
		const char *answer;
		int status = hec_request(c->buf, head_end, (unsigned char *)c->buf + head_len, body_len, &answer);
		const char *conn_hdr = header(c->buf, head_end, "Connection", &len);
		reply(c->fd, status, answer);
		memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
		c->len -= head_len + body_len;
		if (conn_hdr && len == 5 && strncasecmp(conn_hdr, "close", 5) == 0)
			return false;
	}
}

/* ---- connections ---- */

static void drop(size_t i)
{
	close(conns[i].fd);
	free(conns[i].buf);
	conns[i] = conns[--nconns];
}

static bool on_readable(struct conn *c)
{
	static char chunk[READ_SIZE];
	if (S.mode == SYSLOG) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		if (n <= 0)
			return n < 0 && errno == EINTR;
		syslog_feed(c, chunk, (size_t)n);
		return true;
	}
	if (c->cap - c->len < READ_SIZE + 1) {
		size_t cap = c->cap ? c->cap * 2 : 2 * READ_SIZE;
		char *b = cap <= MAX_REQUEST * 2u ? realloc(c->buf, cap) : NULL;
		if (!b)
			return false;
		c->buf = b, c->cap = cap;
	}
	ssize_t n = read(c->fd, c->buf + c->len, READ_SIZE);
	if (n <= 0)
		return n < 0 && errno == EINTR;
	c->len += (size_t)n;
	return hec_feed(c);
}

static void on_accept(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return;
	if (nconns == MAX_CONNS) {
		close(fd);
		S.errors++;
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conns[nconns++] = (struct conn){ .fd = fd };
	S.connections++;
}

/* One command line. */
static void on_command(char *line)
{
	unsigned long long n = 0;
	double secs = 0;
	if (strncmp(line, "count", 5) == 0) {
		stats();
	} else if (strncmp(line, "reset", 5) == 0) {
		S.records = S.bytes = S.requests = S.connections = S.errors = 0;
		puts("ok");
		fflush(stdout);
	} else if (sscanf(line, "wait %llu %lf", &n, &secs) == 2) {
		S.wait_for = n, S.wait_until = now() + secs, S.waiting = true;
	} else {
		puts("error: unknown command");
		fflush(stdout);
	}
}

/* false when stdin is done */
static bool on_stdin(void)
{
	static char cmd[256];
	static size_t len;
	ssize_t n = read(STDIN_FILENO, cmd + len, sizeof(cmd) - 1 - len);
	if (n <= 0)
		return n < 0 && errno == EINTR;
	len += (size_t)n;
	cmd[len] = '\0';
	char *nl;
	while ((nl = strchr(cmd, '\n'))) {
		*nl = '\0';
		on_command(cmd);
		len -= (size_t)(nl + 1 - cmd);
		memmove(cmd, nl + 1, len + 1);
	}
	if (len == sizeof(cmd) - 1)
		len = 0; /* a line too long for any command */
	return true;
}

static int listen_any(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		perror("bench_sink: listen");
		exit(1);
	}
	printf("port %u\n", (unsigned)ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "syslog") == 0 && argc == 2)
		S.mode = SYSLOG;
	else if (argc >= 2 && strcmp(argv[1], "hec") == 0 && (argc == 2 || (argc == 4 && strcmp(argv[2], "--token") == 0)))
		S.mode = HEC, S.token = argc == 4 ? argv[3] : NULL;
	else {
		fprintf(stderr, "usage: bench_sink syslog | hec [--token TOKEN]\n");
		return 2;
	}
	int lfd = listen_any();
	struct pollfd pfd[MAX_CONNS + 2];
	for (;;) {
		if (S.waiting && (S.records >= S.wait_for || now() >= S.wait_until))
			S.waiting = false, stats();
		pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < nconns; i++)
			pfd[i + 2] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		int timeout = S.waiting ? 50 : -1;
		if (poll(pfd, nconns + 2, timeout) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents && !on_stdin())
			break;
		for (size_t i = nconns; i-- > 0;)
			if (pfd[i + 2].revents && !on_readable(&conns[i]))
				drop(i);
		if (pfd[1].revents & POLLIN)
			on_accept(lfd);
	}
	while (nconns)
		drop(nconns - 1);
	close(lfd);
	return 0;
}

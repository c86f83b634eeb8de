/* bench_send: the floor of sending, for the benchmark suite (bench.py).
 *
 * usage: bench_send syslog PORT < LINES
 *        bench_send hec PORT TOKEN < LINES
 *
 * Sends each line of stdin (an enriched record) to bench_sink on
 * 127.0.0.1:PORT the way the agent's output would put it on the wire, with
 * nothing else to do: no parsing, no spool, no threads. Its CPU is what
 * the kernel charges for moving those bytes over loopback TCP (the
 * receiver's half included: loopback delivers in the sender's system
 * call) plus a copy and a few header bytes a record.
 *
 *   syslog  RFC 5424 messages with a fixed header, octet counting;
 *   hec     POST /services/collector/event, bodies of ~1 MiB of
 *           {"event":RECORD} objects, each answer read (keep-alive).
 *
 * Exits 0 once everything was sent (and, for hec, every answer was 200). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_AT (1u << 20) /* bytes gathered before a send, as the outputs batch */
#define HEADER "<134>1 2026-11-24T10:00:00.000000Z bench annexa 1 AzureActiveDirectory - "

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("bench_send: connect");
		exit(1);
	}
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("bench_send: send");
			exit(1);
		}
		p += w, n -= (size_t)w;
	}
}

/* Reads one answer (headers and its Content-Length body); false unless 200. */
static bool answer_ok(int fd)
{
	char buf[4096];
	size_t len = 0;
	const char *end = NULL;
	while (!end) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (r <= 0)
			return false;
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	const char *cl = strstr(buf, "Content-Length:");
	size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
	char rest[4096]; /* the rest of the body, when it came later */
	if (len < want && (want - len > sizeof(rest) || recv(fd, rest, want - len, MSG_WAITALL) != (ssize_t)(want - len)))
		return false;
	return strncmp(buf, "HTTP/1.1 200", 12) == 0;
}

static void post(int fd, const char *token, const char *body, size_t n)
{
	char head[256];
	int h = snprintf(head, sizeof(head),
			 "POST /services/collector/event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Splunk %s\r\n"
			 "Content-Length: %zu\r\n\r\n", token, n);
	send_all(fd, head, (size_t)h);
	send_all(fd, body, n);
	if (!answer_ok(fd)) {
		fprintf(stderr, "bench_send: the receiver did not answer 200\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	bool hec = argc == 4 && strcmp(argv[1], "hec") == 0;
	if (!hec && !(argc == 3 && strcmp(argv[1], "syslog") == 0)) {
		fprintf(stderr, "usage: bench_send syslog PORT < LINES | bench_send hec PORT TOKEN < LINES\n");
		return 2;
	}
	int fd = connect_to(atoi(argv[2]));
	char *out = malloc(SEND_AT + (1u << 20)), *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	while (out && (len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			len--;
		if (n + (size_t)len + 64 > SEND_AT + (1u << 20)) {
			fprintf(stderr, "bench_send: a line over 1 MiB\n");
			return 1;
		}
		if (hec) {
			n += (size_t)sprintf(out + n, "{\"event\":");
		} else {
			n += (size_t)sprintf(out + n, "%zu " HEADER, sizeof(HEADER) - 1 + (size_t)len);
		}
		memcpy(out + n, line, (size_t)len);
		n += (size_t)len;
		if (hec)
			out[n++] = '}';
		if (n >= SEND_AT) {
			hec ? post(fd, argv[3], out, n) : send_all(fd, out, n);
			n = 0;
		}
	}
	if (n)
		hec ? post(fd, argv[3], out, n) : send_all(fd, out, n);
	free(line);
	free(out);
	close(fd);
	return 0;
}

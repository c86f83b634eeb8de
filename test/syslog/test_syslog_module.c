/* test_syslog_module.c - the syslog output driven through its ops against
 * sockets this test owns on 127.0.0.1 (ports chosen by the kernel): UDP
 * datagrams and the oversize policy, octet-counted and LF-framed TCP,
 * reconnecting after the receiver closed, backoff while it refuses,
 * a write that times out, a TLS handshake that never completes and a TLS
 * setup that cannot load. */
#define _GNU_SOURCE /* memmem */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "outputs/output.h"

#define MAX_RECORDS 64
#define WAIT_MS 10000

static const char *const controls[] = { "8.15" };

struct fixture {
	char *dir;
	struct ax_diag diag;
	struct ax_config *cfg;
	struct ax_output *out;
	int server; /* the test's receiving socket */
	int conn;   /* an accepted TCP connection */
	char json[MAX_RECORDS][512];
	char ids[MAX_RECORDS][16];
	struct ax_record records[MAX_RECORDS];
	uint8_t rejected[MAX_RECORDS];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	f->server = f->conn = -1;
	ax_diag_init(&f->diag);
	unit_quiet_logs();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_output_destroy(f->out);
	ax_config_destroy(f->cfg);
	ax_diag_finish(&f->diag);
	if (f->server >= 0)
		close(f->server);
	if (f->conn >= 0)
		close(f->conn);
	unit_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A socket of type on 127.0.0.1 with a port the kernel picked. */
static int bound_socket(int type, int *port)
{
	int fd = socket(AF_INET, type, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Loads "[output "s"] type = syslog" plus keys and creates the output. */
static void create(struct fixture *f, const char *keys)
{
	char text[1024];
	snprintf(text, sizeof(text), "[output \"s\"]\ntype = syslog\n%s", keys);
	char *path = unit_write_file(f->dir, "annexa.conf", text, SIZE_MAX);
	f->cfg = ax_config_load(path, &f->diag);
	free(path);
	if (!f->cfg) {
		unit_diag_dump(&f->diag);
		fail_msg("config did not load:\n%s", text);
	}
	ax_err err;
	f->out = ax_output_create(ax_output_find("syslog"), "s", f->cfg->outputs[0].conf, &err);
	assert_non_null(f->out);
}

/* n records with Ids r-0.. ; record big (if < n) carries pad bytes of padding. */
static struct ax_batch batch(struct fixture *f, size_t n, size_t big, const char *pad)
{
	assert_true(n <= MAX_RECORDS);
	for (size_t i = 0; i < n; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "r-%zu", i);
		snprintf(f->json[i], sizeof(f->json[i]), "{\"Id\":\"%s\",%s\"iso27001\":{\"rule\":\"FB-001\"}}",
			 f->ids[i], i == big ? pad : "");
		f->records[i] = (struct ax_record){
			.json = f->json[i], .len = strlen(f->json[i]), .id = f->ids[i],
			.creation_time = "2024-05-06T07:08:09Z", .workload = "Exchange", .operation = "Send",
			.user = "u@example.com", .client_ip = "192.0.2.1", .category = "logging", .rule = "FB-001",
			.severity = AX_SEV_MEDIUM, .controls = controls, .ncontrols = 1,
			.source = "t", .content_type = "Audit.Exchange", .tenant = "t-1",
		};
	}
	return (struct ax_batch){ f->records, n };
}

static struct ax_output_result send_batch(struct fixture *f, const struct ax_batch *b)
{
	struct ax_output_result res = { .rejected = f->rejected };
	ax_output_send(f->out, b, &res);
	return res;
}

/* Waits for fd to be readable; fails the test after WAIT_MS. */
static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, WAIT_MS) != 1)
		fail_msg("nothing to read within %d ms", WAIT_MS);
}

static size_t recv_datagram(int fd, char *buf, size_t cap)
{
	wait_readable(fd);
	ssize_t n = recv(fd, buf, cap - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	return (size_t)n;
}

static void assert_nothing_queued(int fd)
{
	char c;
	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_udp_datagrams(void **state)
{
	struct fixture *f = *state;
	char keys[128], buf[2048];
	int port;
	f->server = bound_socket(SOCK_DGRAM, &port);
	snprintf(keys, sizeof(keys), "address = udp://127.0.0.1:%d\npayload = json\n", port);
	create(f, keys);
	struct ax_batch b = batch(f, 3, SIZE_MAX, "");
	struct ax_output_result res = send_batch(f, &b);
	assert_int_equal(res.status, AX_OUT_OK);
	for (size_t i = 0; i < 3; i++) {
		size_t n = recv_datagram(f->server, buf, sizeof(buf));
		assert_true(strncmp(buf, "<132>1 2024-05-06T07:08:09Z ", 28) == 0);
		assert_contains(buf, " Exchange [iso27001@32473 controls=\"8.15\" category=\"logging\" severity=\"medium\" rule=\"FB-001\"] {");
		assert_string_equal(buf + n - f->records[i].len, f->json[i]);
	}
	assert_nothing_queued(f->server);
}

static void test_udp_oversize_reject(void **state)
{
	struct fixture *f = *state;
	char keys[160];
	int port;
	f->server = bound_socket(SOCK_DGRAM, &port);
	/* the header and SD take ~140 bytes: record 1 goes over, the others not */
	snprintf(keys, sizeof(keys), "address = udp://127.0.0.1:%d\nudp_max_size = 480\nhostname = h\n", port);
	create(f, keys);
	char pad[400];
	snprintf(pad, sizeof(pad), "\"Pad\":\"%0300d\",", 0);
	struct ax_batch b = batch(f, 3, 1, pad);
	struct ax_output_result res = send_batch(f, &b);
	assert_int_equal(res.status, AX_OUT_REJECT);
	assert_int_equal(f->rejected[0], 0);
	assert_int_equal(f->rejected[1], 1);
	assert_int_equal(f->rejected[2], 0);
	assert_contains(res.message, "udp_max_size (480 bytes)");
	assert_int_equal(f->out->stats.rejected, 1);
	assert_nothing_queued(f->server); /* the others are sent again by the pipeline */
}

static void test_udp_oversize_truncate(void **state)
{
	struct fixture *f = *state;
	char keys[160], buf[2048], pad[400];
	int port;
	f->server = bound_socket(SOCK_DGRAM, &port);
	snprintf(keys, sizeof(keys), "address = udp://127.0.0.1:%d\nudp_max_size = 480\noversize = truncate\n", port);
	create(f, keys);
	snprintf(pad, sizeof(pad), "\"Pad\":\"%0300d\",", 0);
	struct ax_batch b = batch(f, 3, 1, pad);
	assert_int_equal(send_batch(f, &b).status, AX_OUT_OK);
	for (size_t i = 0; i < 3; i++) {
		size_t n = recv_datagram(f->server, buf, sizeof(buf));
		assert_true(i == 1 ? n == 480 : n < 480);
		assert_contains(buf, f->ids[i]);
	}
	struct ax_output_health h;
	f->out->ops->health(f->out, &h);
	assert_contains(h.last_error, "1 message(s) cut to udp_max_size");
}

/* The module's connection, accepted; *conn is set. */
static void accept_connection(struct fixture *f)
{
	wait_readable(f->server);
	if (f->conn >= 0)
		close(f->conn);
	f->conn = accept(f->server, NULL, NULL);
	assert_true(f->conn >= 0);
}

/* Reads octet-counted frames from conn until n arrived; checks each holds
 * the Id of record i and nothing follows. */
static void read_frames(struct fixture *f, size_t n)
{
	static char buf[1 << 16];
	size_t len = 0, frames = 0, off = 0;
	while (frames < n) {
		wait_readable(f->conn);
		ssize_t got = recv(f->conn, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(got > 0);
		len += (size_t)got;
		buf[len] = '\0';
		for (char *sp; frames < n && (sp = memchr(buf + off, ' ', len - off));) {
			size_t flen = strtoul(buf + off, NULL, 10);
			if (sp + 1 + flen > buf + len)
				break;
			assert_true(strncmp(sp + 1, "<132>1 ", 7) == 0);
			assert_true(memmem(sp + 1, flen, f->json[frames], f->records[frames].len) != NULL);
			assert_true(sp[flen] == '}'); /* the frame ends with the record */
			off = (size_t)(sp + 1 + flen - buf);
			frames++;
		}
	}
	assert_int_equal(off, len);
	assert_nothing_queued(f->conn);
}

static void test_tcp_reconnects_after_close(void **state)
{
	struct fixture *f = *state;
	char keys[128];
	int port;
	f->server = bound_socket(SOCK_STREAM, &port);
	snprintf(keys, sizeof(keys), "address = tcp://127.0.0.1:%d\n", port);
	create(f, keys);
	struct ax_batch b = batch(f, 3, SIZE_MAX, "");
	assert_int_equal(send_batch(f, &b).status, AX_OUT_OK);
	accept_connection(f);
	read_frames(f, 3);
	close(f->conn); /* the receiver goes away: the next batch must not vanish into it */
	f->conn = -1;
	assert_int_equal(send_batch(f, &b).status, AX_OUT_OK);
	accept_connection(f);
	read_frames(f, 3);
}

static void test_tcp_lf_framing(void **state)
{
	struct fixture *f = *state;
	char keys[128], buf[4096];
	int port;
	f->server = bound_socket(SOCK_STREAM, &port);
	snprintf(keys, sizeof(keys), "address = tcp://127.0.0.1:%d\nframing = lf\n", port);
	create(f, keys);
	struct ax_batch b = batch(f, 2, 0, "\n\"Ws\":\n1,");
	assert_int_equal(send_batch(f, &b).status, AX_OUT_OK);
	accept_connection(f);
	size_t len = 0;
	for (int lines = 0; lines < 2;) {
		wait_readable(f->conn);
		ssize_t n = recv(f->conn, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
		lines = 0;
		for (char *p = buf; (p = strchr(p, '\n')); p++)
			lines++;
	}
	char *first_end = strchr(buf, '\n');
	assert_true(strncmp(buf, "<132>1 ", 7) == 0);
	const char *joined = "{\"Id\":\"r-0\", \"Ws\": 1,\"iso27001\"";
	assert_true(memmem(buf, (size_t)(first_end - buf), joined, strlen(joined)) != NULL);
	assert_true(strncmp(first_end + 1, "<132>1 ", 7) == 0);
	assert_int_equal(buf[len - 1], '\n');
}

static void test_tcp_refused_backs_off(void **state)
{
	struct fixture *f = *state;
	char keys[128];
	int port;
	int fd = bound_socket(SOCK_STREAM, &port);
	close(fd); /* nobody listens there now */
	snprintf(keys, sizeof(keys), "address = tcp://127.0.0.1:%d\n", port);
	create(f, keys);
	struct ax_batch b = batch(f, 1, SIZE_MAX, "");
	int64_t first = 250;
	for (int i = 0; i < 3; i++, first *= 2) {
		struct ax_output_result res = send_batch(f, &b);
		assert_int_equal(res.status, AX_OUT_RETRY);
		assert_contains(res.message, "cannot connect to 127.0.0.1:");
		assert_contains(res.message, "refused");
		if (res.retry_after_ms < first || res.retry_after_ms > 2 * first)
			fail_msg("attempt %d: retry after %lld ms, expected %lld..%lld", i + 1,
				 (long long)res.retry_after_ms, (long long)first, (long long)(2 * first));
	}
	struct ax_output_health h;
	f->out->ops->health(f->out, &h);
	assert_int_equal(h.state, AX_OUTPUT_DEGRADED);
	assert_int_equal(h.retried, 3);
}

/* A receiver that never reads: the batch cannot be written in time, the
 * send says so and the connection is dropped (a partial frame is on it). */
static void test_tcp_write_timeout(void **state)
{
	struct fixture *f = *state;
	char keys[160];
	int port;
	f->server = bound_socket(SOCK_STREAM, &port);
	snprintf(keys, sizeof(keys), "address = tcp://127.0.0.1:%d\nwrite_timeout = 200ms\n", port);
	create(f, keys);
	size_t big = 48u << 20; /* far more than loopback socket buffers hold */
	char *json = malloc(big + 1);
	assert_non_null(json);
	memset(json, ' ', big);
	json[0] = '{';
	json[big - 1] = '}';
	json[big] = '\0';
	struct ax_batch b = batch(f, 1, SIZE_MAX, "");
	f->records[0].json = json;
	f->records[0].len = big;
	int64_t start = now_ms();
	struct ax_output_result res = send_batch(f, &b);
	free(json);
	assert_int_equal(res.status, AX_OUT_RETRY);
	assert_contains(res.message, "timed out");
	assert_true(now_ms() - start < WAIT_MS);
}

/* A receiver that accepts TCP but never answers the TLS handshake. */
static void test_tls_handshake_timeout(void **state)
{
	struct fixture *f = *state;
	char keys[160];
	int port;
	f->server = bound_socket(SOCK_STREAM, &port);
	snprintf(keys, sizeof(keys), "address = tls://127.0.0.1:%d\nconnect_timeout = 200ms\n", port);
	create(f, keys);
	struct ax_batch b = batch(f, 1, SIZE_MAX, "");
	int64_t start = now_ms();
	struct ax_output_result res = send_batch(f, &b);
	assert_int_equal(res.status, AX_OUT_RETRY);
	assert_contains(res.message, "TLS handshake with 127.0.0.1 failed: timed out");
	assert_true(now_ms() - start >= 200 && now_ms() - start < WAIT_MS);
}

static void test_tls_bad_ca_file(void **state)
{
	struct fixture *f = *state;
	char text[256];
	snprintf(text, sizeof(text), "[output \"s\"]\ntype = syslog\naddress = tls://127.0.0.1:6514\ntls_ca_file = %s/missing.pem\n", f->dir);
	char *path = unit_write_file(f->dir, "annexa.conf", text, SIZE_MAX);
	f->cfg = ax_config_load(path, &f->diag);
	free(path);
	assert_non_null(f->cfg);
	ax_err err;
	assert_null(ax_output_create(ax_output_find("syslog"), "s", f->cfg->outputs[0].conf, &err));
	assert_int_equal(err, AX_ERR_CONFIG);
}

/* What check-config says about wrong syslog keys. */
static void test_config_errors(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *keys, *msg;
	} v[] = {
		{ "address = syslog.example:514\n", "must look like udp://HOST:PORT" },
		{ "address = tcp://[::1:514\n", "must look like udp://HOST:PORT" },
		{ "address = udp://h:70000\n", "PORT 1-65535" },
		{ "address = tcp://h:514\ntls_ca_file = /x.pem\n", "need a tls:// address" },
		{ "address = tls://h:6514\ntls_cert_file = /c.pem\n", "tls_cert_file and tls_key_file go together" },
		{ "address = udp://h:514\nsd_id = iso27001\n", "sd_id 'iso27001' must look like NAME@NUMBER" },
		{ "address = udp://h:514\nsd_id = iso]27001@1\n", "must look like NAME@NUMBER" },
		{ "address = udp://h:514\napp_name = my app\n", "app_name 'my app' must be 1 to 48" },
		{ "address = udp://h:514\nhostname = a b\n", "hostname 'a b'" },
		{ "address = udp://h:514\nudp_max_size = 100\n", "udp_max_size" },
		{ "address = udp://h:514\noversize = drop\n", "oversize" },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(v); i++) {
		char text[512];
		snprintf(text, sizeof(text), "[output \"s\"]\ntype = syslog\n%s", v[i].keys);
		char *path = unit_write_file(f->dir, "annexa.conf", text, SIZE_MAX);
		ax_diag_finish(&f->diag);
		ax_diag_init(&f->diag);
		struct ax_config *cfg = ax_config_load(path, &f->diag);
		free(path);
		ax_config_destroy(cfg);
		if (cfg || !unit_diag_has(&f->diag, -1, v[i].msg)) {
			unit_diag_dump(&f->diag);
			fail_msg("expected '%s' for:\n%s", v[i].msg, text);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_datagrams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_oversize_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_oversize_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_reconnects_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_lf_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_refused_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_write_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_handshake_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_bad_ca_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_metrics.c - the metrics registry and what /metrics and /health say:
 * Prometheus text with every label value escaped, entries hidden once a
 * reload no longer has them, health judged by the thresholds, the address
 * checks, and the endpoint itself answering over a socket (a port in use
 * is a warning, not a failure). */
#include "unit.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "spool.h"
#include "version.h"

#define MIN_MS 60000LL

static const struct ax_health_conf health = { .output_failing_ms = 5 * MIN_MS, .source_silent_ms = 15 * MIN_MS };

static char *rendered(int64_t now)
{
	struct ax_buf b;
	ax_buf_init(&b, 1u << 20);
	assert_int_equal(ax_metrics_render(&b, now), AX_OK);
	assert_int_equal(ax_buf_cstr(&b), AX_OK);
	return b.data;
}

static char *health_of(int64_t now, bool *healthy)
{
	struct ax_buf b;
	ax_buf_init(&b, 1u << 20);
	assert_int_equal(ax_metrics_health(&b, now, healthy), AX_OK);
	assert_int_equal(ax_buf_cstr(&b), AX_OK);
	return b.data;
}

static void label_escaping(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "", "\"\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "line\nfeed", "\"line\\nfeed\"" },
		{ "\\\"\n", "\"\\\\\\\"\\n\"" },
		{ "tab\tand ünïcode", "\"tab\tand ünïcode\"" }, /* only these three are escaped */
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(cases); i++) {
		struct ax_buf b;
		ax_buf_init(&b, 1024);
		assert_int_equal(ax_metrics_add_label_value(&b, cases[i].in), AX_OK);
		assert_int_equal(ax_buf_cstr(&b), AX_OK);
		assert_string_equal(b.data, cases[i].out);
		ax_buf_finish(&b);
	}
}

/* Names come from the config, where they are tame; the text stays valid anyway. */
static void render_escapes_labels(void **state)
{
	(void)state;
	ax_metrics_begin_run(&health);
	struct ax_metrics_source *s = ax_metrics_source("we\"ird\\name\n");
	struct ax_metrics_output *o = ax_metrics_output("out\"1");
	assert_non_null(s);
	assert_non_null(o);
	ax_metrics_source_records(s, 3, 1);
	ax_metrics_output_delivered(o, 2);
	char *text = rendered(ax_metrics_now_ms());
	assert_contains(text, "annexa_records_in_total{source=\"we\\\"ird\\\\name\\n\"} 3\n");
	assert_contains(text, "annexa_records_dead_lettered_total{source=\"we\\\"ird\\\\name\\n\"} 1\n");
	assert_contains(text, "annexa_records_out_total{output=\"out\\\"1\"} 2\n");
	/* every line is a comment or a sample: no label broke a line */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(line[0] == '#' || strncmp(line, "annexa_", 7) == 0 || strncmp(line, "process_", 8) == 0);
	free(text);
	ax_metrics_shutdown();
}

static void render_every_family(void **state)
{
	(void)state;
	ax_metrics_begin_run(&health);
	struct ax_metrics_source *s = ax_metrics_source("m365");
	struct ax_metrics_output *o = ax_metrics_output("siem");
	struct ax_metrics_stream *st = ax_metrics_stream("m365", "tenant-1", "Audit.Exchange", 60000);
	ax_metrics_source_records(s, 10, 2);
	ax_metrics_source_records(s, 5, 0);
	ax_metrics_output_delivered(o, 12);
	ax_metrics_output_dead_lettered(o, 1);
	ax_metrics_output_dropped(o, 4);
	ax_metrics_output_retry(o);
	ax_metrics_output_retry(o);
	ax_metrics_stream_throttled(st);
	ax_metrics_stream_throttled(st);
	ax_metrics_stream_throttled(st);
	ax_metrics_stream_cursor(st, 1700000000, ax_metrics_now_ms() / 1000 - 30); /* the API's clock is 30 s behind */
	ax_metrics_stream_pulled(st);
	char *text = rendered(1700000090500LL);
	assert_contains(text, "# TYPE annexa_records_in_total counter\n");
	assert_contains(text, "annexa_build_info{version=\"" AX_VERSION "\"} 1\n");
	assert_contains(text, "process_start_time_seconds ");
	assert_contains(text, "process_resident_memory_bytes ");
	assert_contains(text, "annexa_records_in_total{source=\"m365\"} 15\n");
	assert_contains(text, "annexa_records_dead_lettered_total{source=\"m365\"} 2\n");
	assert_contains(text, "annexa_records_dead_lettered_total{output=\"siem\"} 1\n");
	assert_contains(text, "annexa_records_out_total{output=\"siem\"} 12\n");
	assert_contains(text, "annexa_records_dropped_total{output=\"siem\"} 4\n");
	assert_contains(text, "annexa_output_retries_total{output=\"siem\"} 2\n");
	assert_contains(text, "annexa_output_dead{output=\"siem\"} 0\n");
	assert_contains(text, "annexa_output_failing_seconds{output=\"siem\"} 0.000\n");
	assert_contains(text, "annexa_output_last_delivery_timestamp_seconds{output=\"siem\"} ");
	assert_contains(text, "annexa_last_record_timestamp_seconds{source=\"m365\"} ");
	assert_contains(text, "annexa_checkpoint_lag_seconds{source=\"m365\",tenant=\"tenant-1\","
			      "content_type=\"Audit.Exchange\"} 60.500\n");
	assert_contains(text, "annexa_api_throttled_total{source=\"m365\",tenant=\"tenant-1\","
			      "content_type=\"Audit.Exchange\"} 3\n");
	assert_contains(text, "annexa_last_pull_success_timestamp_seconds{source=\"m365\",tenant=\"tenant-1\",");
	assert_not_contains(text, "annexa_spool_bytes"); /* no spool, no spool metrics */
	free(text);
	ax_metrics_shutdown();
}

static void render_spool(void **state)
{
	(void)state;
	static const char *const outputs[] = { "a" };
	struct ax_spool_conf conf = { .dir = NULL, .max_size = 1 << 20, .max_record = 4096, .outputs = outputs,
				      .noutputs = 1 };
	ax_err err;
	atomic_int stop = 0;
	struct ax_spool *sp = ax_spool_open(&conf, &err);
	assert_non_null(sp);
	struct ax_record r = { .json = "{\"Id\":\"1\"}", .len = 10, .id = "1", .source = "s" };
	assert_int_equal(ax_spool_append(sp, &r, &stop), AX_OK);
	assert_int_equal(ax_spool_flush(sp, &stop), AX_OK);
	struct ax_spool_reader *rd = ax_spool_reader_open(sp, "a", &err);
	assert_non_null(ax_spool_next(rd));
	ax_spool_reader_close(rd);
	ax_metrics_begin_run(&health);
	ax_metrics_set_spool(sp, 1 << 20);
	char *text = rendered(ax_metrics_now_ms());
	assert_contains(text, "annexa_spool_max_bytes 1048576\n");
	assert_contains(text, "annexa_spool_segments 1\n");
	assert_contains(text, "annexa_spool_bytes ");
	assert_not_contains(text, "annexa_spool_bytes 0\n");
	assert_contains(text, "annexa_spool_frames_read_total{from=\"memory\"} 1\n");
	assert_contains(text, "annexa_spool_frames_read_total{from=\"segment\"} 0\n");
	free(text);
	ax_metrics_set_spool(NULL, 0);
	ax_spool_close(sp);
	ax_metrics_shutdown();
}

/* A reload: what the new config still has keeps counting, the rest is hidden. */
static void reload_keeps_and_hides(void **state)
{
	(void)state;
	ax_metrics_begin_run(&health);
	ax_metrics_source_records(ax_metrics_source("kept"), 7, 0);
	ax_metrics_source_records(ax_metrics_source("gone"), 1, 0);
	ax_metrics_output_failed(ax_metrics_output("out"), true, "refused");
	ax_metrics_begin_run(&health);
	struct ax_metrics_source *kept = ax_metrics_source("kept");
	ax_metrics_output("out");
	ax_metrics_source_records(kept, 1, 0);
	char *text = rendered(ax_metrics_now_ms());
	assert_contains(text, "annexa_records_in_total{source=\"kept\"} 8\n");
	assert_not_contains(text, "source=\"gone\"");
	assert_contains(text, "annexa_output_dead{output=\"out\"} 0\n"); /* a new instance */
	free(text);
	ax_metrics_shutdown();
}

static void health_outputs(void **state)
{
	(void)state;
	bool healthy = false;
	ax_metrics_begin_run(&health);
	struct ax_metrics_output *o = ax_metrics_output("siem");
	int64_t now = ax_metrics_now_ms();
	char *body = health_of(now, &healthy);
	assert_true(healthy);
	assert_string_equal(body, "{\"status\":\"ok\"}\n");
	free(body);

	ax_metrics_output_failed(o, false, "connection refused");
	now = ax_metrics_now_ms(); /* the failure's own clock reading is <= now */
	body = health_of(now + MIN_MS, &healthy);
	assert_true(healthy); /* failing, but not for 5 minutes yet */
	free(body);
	body = health_of(now + 6 * MIN_MS, &healthy);
	assert_false(healthy);
	assert_contains(body, "\"status\":\"unhealthy\"");
	assert_contains(body, "\"output\":\"siem\",\"state\":\"failing\"");
	assert_contains(body, "has been failing for 36");
	assert_contains(body, "connection refused");
	free(body);
	char *text = rendered(now + 6 * MIN_MS);
	assert_contains(text, "annexa_healthy 0\n");
	free(text);

	ax_metrics_output_ok(o);
	body = health_of(now + 6 * MIN_MS, &healthy);
	assert_true(healthy);
	free(body);

	ax_metrics_output_failed(o, true, "HTTP 403: \"token\" refused");
	body = health_of(now, &healthy);
	assert_false(healthy); /* dead: at once */
	assert_contains(body, "\"state\":\"dead\"");
	assert_contains(body, "\"reason\":\"output \\\"siem\\\" failed for good: HTTP 403: \\\"token\\\" refused\"");
	free(body);
	ax_metrics_shutdown();
}

static void health_sources(void **state)
{
	(void)state;
	bool healthy = false;
	ax_metrics_begin_run(&health);
	struct ax_metrics_stream *quick = ax_metrics_stream("m365", "t1", "Audit.General", 60000);
	struct ax_metrics_stream *slow = ax_metrics_stream("alerts", "t1", "alerts_v2", 3600000);
	int64_t now = ax_metrics_now_ms();
	char *body = health_of(now + 14 * MIN_MS, &healthy);
	assert_true(healthy);
	free(body);
	body = health_of(now + 16 * MIN_MS, &healthy);
	assert_false(healthy); /* never pulled since it started, 16 minutes ago */
	assert_contains(body, "\"source\":\"m365\",\"tenant\":\"t1\",\"content_type\":\"Audit.General\",\"state\":\"silent\"");
	assert_contains(body, "has not pulled successfully for 960s");
	assert_not_contains(body, "alerts_v2"); /* polls hourly: three hours of grace */
	free(body);
	ax_metrics_stream_pulled(quick);
	body = health_of(ax_metrics_now_ms() + 14 * MIN_MS, &healthy);
	assert_true(healthy);
	free(body);
	body = health_of(now + 4 * 60 * MIN_MS, &healthy);
	assert_false(healthy);
	assert_contains(body, "alerts_v2");
	free(body);
	ax_metrics_stream_pulled(slow);
	ax_metrics_stream_pulled(quick);
	body = health_of(ax_metrics_now_ms(), &healthy);
	assert_true(healthy);
	free(body);
	ax_metrics_shutdown();
}

static void null_hooks(void **state)
{
	(void)state; /* code run outside `annexa run` has no entries */
	ax_metrics_source_records(NULL, 1, 1);
	ax_metrics_output_delivered(NULL, 1);
	ax_metrics_output_dead_lettered(NULL, 1);
	ax_metrics_output_dropped(NULL, 1);
	ax_metrics_output_failed(NULL, true, "x");
	ax_metrics_output_retry(NULL);
	ax_metrics_output_ok(NULL);
	ax_metrics_stream_throttled(NULL);
	ax_metrics_stream_pulled(NULL);
	ax_metrics_stream_cursor(NULL, 1, 1);
}

static void listen_addresses(void **state)
{
	(void)state;
	char why[160];
	static const char *const good[] = { "", "127.0.0.1:9469", "0.0.0.0:0", "[::1]:9469", "localhost:65535" };
	static const char *const bad[] = { "9469", "127.0.0.1", "127.0.0.1:", ":9469", "127.0.0.1:65536",
					   "127.0.0.1:94a9", "::1:9469", "[::1]9469", "[::1" };
	for (size_t i = 0; i < UNIT_ARRAY_LEN(good); i++)
		assert_true(ax_metrics_listen_valid(good[i], why, sizeof(why)));
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++) {
		why[0] = '\0';
		assert_false(ax_metrics_listen_valid(bad[i], why, sizeof(why)));
		assert_true(why[0] != '\0');
	}
}

/* GET path over a socket to 127.0.0.1:port; the whole answer. */
static char *http_get(int port, const char *method, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char req[256];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	ssize_t got;
	while ((got = read(fd, out + len, cap - 1 - len)) > 0)
		len += (size_t)got;
	out[len] = '\0';
	close(fd);
	return out;
}

static void endpoint(void **state)
{
	(void)state;
	unit_quiet_logs();
	ax_metrics_begin_run(&health);
	ax_metrics_source_records(ax_metrics_source("live"), 42, 0);
	ax_metrics_serve("127.0.0.1:0");
	int port = ax_metrics_port();
	assert_true(port > 0);
	char *got = http_get(port, "GET", "/metrics");
	assert_contains(got, "HTTP/1.1 200");
	assert_contains(got, "text/plain; version=0.0.4");
	assert_contains(got, "annexa_records_in_total{source=\"live\"} 42\n");
	free(got);
	got = http_get(port, "GET", "/health");
	assert_contains(got, "HTTP/1.1 200");
	assert_contains(got, "{\"status\":\"ok\"}");
	free(got);
	ax_metrics_output_failed(ax_metrics_output("siem"), true, "refused");
	got = http_get(port, "GET", "/health");
	assert_contains(got, "HTTP/1.1 503");
	assert_contains(got, "application/json");
	assert_contains(got, "failed for good: refused");
	free(got);
	got = http_get(port, "POST", "/metrics");
	assert_contains(got, "HTTP/1.1 405");
	free(got);
	got = http_get(port, "GET", "/secret");
	assert_contains(got, "HTTP/1.1 404");
	free(got);

	/* the same address again (a reload): the server stays */
	ax_metrics_serve("127.0.0.1:0");
	assert_int_equal(ax_metrics_port(), port);

	/* a port in use: no server, no failure */
	int taken = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(taken, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(taken, 1), 0);
	assert_int_equal(getsockname(taken, (struct sockaddr *)&sa, &sl), 0);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));
	ax_metrics_serve(addr);
	assert_int_equal(ax_metrics_port(), 0);
	close(taken);
	ax_metrics_serve(""); /* off */
	assert_int_equal(ax_metrics_port(), 0);
	ax_metrics_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_escaping),
		cmocka_unit_test(render_escapes_labels),
		cmocka_unit_test(render_every_family),
		cmocka_unit_test(render_spool),
		cmocka_unit_test(reload_keeps_and_hides),
		cmocka_unit_test(health_outputs),
		cmocka_unit_test(health_sources),
		cmocka_unit_test(null_hooks),
		cmocka_unit_test(listen_addresses),
		cmocka_unit_test(endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

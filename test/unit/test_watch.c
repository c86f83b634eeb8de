/* test_watch.c - the gap watch: silence of a source, a content type and a
 * control past its threshold raises one evidence_gap and a record after it
 * one evidence_resumed naming that gap; the start of a run is a grace; the
 * API's horizon and a certificate's end from the metrics registry; a rule
 * with a "gap"; the silence.* keys the config accepts. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "catalog.h"
#include "ledger.h"
#include "metrics.h"
#include "watch.h"

#define NOW 1795478400 /* 2026-11-24T00:00:00Z */
#define MAX_SEEN 16


struct seen {
	char *json[MAX_SEEN];
	char type[MAX_SEEN][24];
	size_t n;
};

static void collect(void *arg, const struct ax_buf *json, const char *type, const char *source, const char *tenant,
		    const char *content_type)
{
	struct seen *s = arg;
	(void)source;
	(void)tenant;
	(void)content_type;
	assert_true(s->n < MAX_SEEN);
	s->json[s->n] = strndup(json->data, json->len);
	snprintf(s->type[s->n], sizeof(s->type[0]), "%s", type);
	s->n++;
}

static void forget(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->json[i]);
	s->n = 0;
}

/* A string member of the i-th record ("" when null). */
static char *member(const struct seen *s, size_t i, const char *name)
{
	static char out[512];
	char err[128];
	yajl_val root = yajl_tree_parse(s->json[i], err, sizeof(err));
	assert_non_null(root);
	const char *path[] = { name, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_any);
	snprintf(out, sizeof(out), "%s", YAJL_IS_STRING(v) ? v->u.string : "");
	yajl_tree_free(root);
	return out;
}

static void count(struct ax_ledger *l, const char *tenant, const char *source, const char *ctype, const char *control,
		  bool live, int64_t at)
{
	const char *controls[] = { control };
	struct ax_record r = { .json = "{}", .len = 2, .id = "x", .creation_time = "2026-11-23T10:00:00Z",
			       .controls = controls, .ncontrols = 1, .source = source, .content_type = ctype,
			       .tenant = tenant };
	ax_ledger_count(l, &r, live, at);
}

static struct ax_watch *watch_of(const char *const *kv, size_t n, int64_t started)
{
	struct ax_kv items[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		items[i] = (struct ax_kv){ (char *)kv[2 * i], (char *)kv[2 * i + 1] };
	struct ax_kvlist list = { items, n };
	ax_err err;
	struct ax_watch *w = ax_watch_create(&list, &unit_catalog, started, &err);
	assert_non_null(w);
	return w;
}

static void run(struct ax_watch *w, struct ax_ledger *l, int64_t now, struct seen *s)
{
	ax_watch_run(w, l, now, collect, s);
}

static void source_silence_raised_once_then_resumed(void **state)
{
	(void)state;
	ax_err err;
	size_t skipped;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, &skipped, &err);
	const char *kv[] = { "source.replay", "1h" };
	struct ax_watch *w = watch_of(kv, 1, NOW - 7200);
	struct seen s = { .n = 0 };
	count(l, "t1", "replay", "Audit.Exchange", "8.15", false, NOW);
	run(w, l, NOW + 3599, &s);
	assert_int_equal(s.n, 0); /* not yet */
	run(w, l, NOW + 3600, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.type[0], "evidence_gap");
	assert_string_equal(member(&s, 0, "reason"), "source_silent");
	assert_string_equal(member(&s, 0, "source"), "replay");
	assert_string_equal(member(&s, 0, "window_start"), "2026-11-24T00:00:00Z"); /* silent since */
	char gap_id[512];
	snprintf(gap_id, sizeof(gap_id), "%s", member(&s, 0, "Id"));
	run(w, l, NOW + 7200, &s);
	assert_int_equal(s.n, 1); /* raised once */
	count(l, "t1", "replay", "Audit.Exchange", "8.15", false, NOW + 7300);
	run(w, l, NOW + 7301, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.type[1], "evidence_resumed");
	assert_string_equal(member(&s, 1, "gap_id"), gap_id);
	assert_string_equal(member(&s, 1, "resumed_at"), "2026-11-24T02:01:40Z");
	run(w, l, NOW + 7302, &s);
	assert_int_equal(s.n, 2);
	forget(&s);
	ax_watch_destroy(w);
	ax_ledger_close(l);
}

/* The run started after the last record: silence counts from the start,
 * and file sources are not watched without a threshold of their own. */
static void start_is_a_grace_and_defaults(void **state)
{
	(void)state;
	ax_err err;
	size_t skipped;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, &skipped, &err);
	struct ax_watch *w = watch_of(NULL, 0, NOW);
	struct seen s = { .n = 0 };
	count(l, "t1", "m365", "Audit.Exchange", "8.15", true, NOW - 3 * 86400);
	count(l, "t1", "replay", "Audit.Exchange", "8.15", false, NOW - 3 * 86400);
	run(w, l, NOW + AX_WATCH_DEFAULT_S - 1, &s);
	assert_int_equal(s.n, 0);
	run(w, l, NOW + AX_WATCH_DEFAULT_S, &s);
	assert_int_equal(s.n, 1); /* the API source only */
	assert_string_equal(member(&s, 0, "source"), "m365");
	assert_string_equal(member(&s, 0, "window_start"), "2026-11-21T00:00:00Z");
	forget(&s);
	ax_watch_destroy(w);
	const char *off[] = { "source", "off" };
	w = watch_of(off, 1, NOW);
	struct ax_ledger_stream *st = ax_ledger_stream(l, "t1", "m365", "Audit.Exchange");
	st->party->silence = (struct ax_watch_mark){ 0, 0 };
	run(w, l, NOW + 30 * 86400, &s);
	assert_int_equal(s.n, 0);
	ax_watch_destroy(w);
	ax_ledger_close(l);
}

static void content_type_and_control_silence(void **state)
{
	(void)state;
	ax_err err;
	size_t skipped;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, &skipped, &err);
	const char *kv[] = { "Audit.Exchange", "10m", "control.5.17", "20m", "source", "off" };
	struct ax_watch *w = watch_of(kv, 3, NOW);
	struct seen s = { .n = 0 };
	count(l, "t1", "m365", "Audit.Exchange", "8.15", true, NOW);
	count(l, "t1", "m365", "Audit.SharePoint", "5.17", true, NOW);
	run(w, l, NOW + 600, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(member(&s, 0, "reason"), "content_type_silent");
	assert_string_equal(member(&s, 0, "content_type"), "Audit.Exchange");
	count(l, "t1", "m365", "Audit.SharePoint", "8.15", true, NOW + 900); /* not 5.17 */
	run(w, l, NOW + 1200, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(member(&s, 1, "reason"), "control_silent");
	assert_string_equal(member(&s, 1, "control"), "5.17");
	assert_string_equal(member(&s, 1, "tenant"), "t1");
	count(l, "t1", "replay", "Audit.General", "5.17", false, NOW + 1300);
	run(w, l, NOW + 1301, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.type[2], "evidence_resumed");
	assert_string_equal(member(&s, 2, "control"), "5.17");
	forget(&s);
	ax_watch_destroy(w);
	ax_ledger_close(l);
}

/* The horizon and the certificate come from the metrics registry. */
static void horizon_and_credential(void **state)
{
	(void)state;
	ax_err err;
	size_t skipped;
	struct ax_health_conf health = { 60000, 60000 };
	ax_metrics_begin_run(&health);
	struct ax_metrics_stream *m = ax_metrics_stream("m365", "t1", "Audit.Exchange", 60000);
	ax_metrics_stream_horizon(m, 7 * 86400);
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, &skipped, &err);
	const char *kv[] = { "source", "off" };
	struct ax_watch *w = watch_of(kv, 1, NOW);
	struct seen s = { .n = 0 };
	int64_t now = ax_metrics_now_ms() / 1000;
	ax_metrics_stream_cursor(m, now - 6 * 86400 + 60, now);
	run(w, l, now, &s);
	assert_int_equal(s.n, 0); /* 6 days less a minute */
	ax_metrics_stream_cursor(m, now - 6 * 86400 - 60, now);
	run(w, l, now, &s);
	assert_int_equal(s.n, 0); /* it may be a backfill passing through */
	run(w, l, now + AX_WATCH_STALLED_S, &s);
	assert_int_equal(s.n, 1); /* it stood still */
	assert_string_equal(member(&s, 0, "reason"), "horizon_near");
	run(w, l, now + AX_WATCH_STALLED_S, &s);
	assert_int_equal(s.n, 1);
	ax_metrics_stream_cursor(m, now - 3600, now);
	run(w, l, now + AX_WATCH_STALLED_S, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.type[1], "evidence_resumed");
	assert_string_equal(member(&s, 1, "reason"), "horizon_near");

	ax_metrics_stream_credential(m, now + 40 * 86400);
	run(w, l, now, &s);
	assert_int_equal(s.n, 2);
	ax_metrics_stream_credential(m, now + 29 * 86400);
	run(w, l, now, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(member(&s, 2, "reason"), "credential_expiring");
	run(w, l, now, &s);
	assert_int_equal(s.n, 3);
	ax_metrics_stream_credential(m, now + 400 * 86400); /* a new certificate */
	run(w, l, now, &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.type[3], "evidence_resumed");
	forget(&s);
	ax_watch_destroy(w);
	ax_ledger_close(l);
	ax_metrics_shutdown();
}

static void rule_gap_names_the_control(void **state)
{
	(void)state;
	struct ax_rule rule = { .id = "SECPOL-001", .name = "Unified audit log ingestion disabled",
				.gap = "audit_ingestion_disabled" };
	ax_cset_add(&rule.controls, (unsigned)ax_catalog_find2022(&unit_catalog, "8.16"));
	ax_cset_add(&rule.controls, (unsigned)ax_catalog_find2022(&unit_catalog, "8.15"));
	struct ax_record r = { .json = "{}", .len = 2, .id = "rec-1", .creation_time = "2026-11-23T08:14:02",
			       .operation = "Set-AdminAuditLogConfig", .user = "admin@contoso.example",
			       .source = "m365", .content_type = "Audit.Exchange", .tenant = "t1" };
	struct seen s = { .n = 0 };
	ax_watch_rule_gap(&rule, &r, &unit_catalog, NOW, collect, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(member(&s, 0, "reason"), "audit_ingestion_disabled");
	assert_string_equal(member(&s, 0, "control"), "8.15");
	assert_string_equal(member(&s, 0, "window_start"), "2026-11-23T08:14:02Z");
	assert_non_null(strstr(member(&s, 0, "detail"), "rec-1"));
	forget(&s);
}

struct key_case {
	const char *key, *value;
	bool valid;
};

static const struct key_case key_cases[] = {
	{ "source", "24h", true },          { "source.replay", "off", true }, { "Audit.Exchange", "6h", true },
	{ "control.8.15", "1d", true },     { "control.9.99", "1d", false },  { "control.", "1d", false },
	{ "source.", "1h", false },         { "source", "0", false },         { "source", "soon", false },
	{ "Audit.General", "500ms", false },
};

static void check_key_table(void **state)
{
	(void)state;
	char why[300];
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		why[0] = '\0';
		bool ok = ax_watch_check_key(key_cases[i].key, key_cases[i].value, why, sizeof(why));
		if (ok != key_cases[i].valid)
			fail_msg("silence.%s = %s: expected %s (%s)", key_cases[i].key, key_cases[i].value,
				 key_cases[i].valid ? "valid" : "invalid", why);
		if (!ok)
			assert_true(why[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(source_silence_raised_once_then_resumed),
		cmocka_unit_test(start_is_a_grace_and_defaults),
		cmocka_unit_test(content_type_and_control_silence),
		cmocka_unit_test(horizon_and_credential),
		cmocka_unit_test(rule_gap_names_the_control),
		cmocka_unit_test(check_key_table),
	};
	return cmocka_run_group_tests(tests, unit_catalog_setup, unit_catalog_teardown);
}

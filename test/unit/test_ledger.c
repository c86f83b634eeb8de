/* test_ledger.c - the evidence ledger: counts per stream, day and control,
 * acknowledgements per output, saved and read back exactly, pruned past
 * its retention, readable after a crash, and exact under concurrent acks. */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "ledger.h"

#define DAY 86400
#define NOW 1795478400 /* 2026-11-24T00:00:00Z */


static struct ax_record rec(const char *tenant, const char *source, const char *ctype, const char *time,
			    const char *const *controls, size_t n)
{
	return (struct ax_record){ .json = "{}", .len = 2, .id = "x", .creation_time = time, .workload = "Exchange",
				   .operation = "Send", .user = "", .client_ip = "", .category = "", .rule = "",
				   .controls = controls, .ncontrols = n, .source = source, .content_type = ctype,
				   .tenant = tenant };
}

static const struct ax_ledger_row *find_row(struct ax_ledger *l, const char *tenant, const char *ctype, const char *day)
{
	int32_t d;
	assert_true(ax_ledger_day_parse(day, &d));
	for (size_t i = 0; i < l->nrows; i++) {
		const struct ax_ledger_row *r = l->rows[i];
		if (r->day == d && strcmp(r->stream->content_type, ctype) == 0 &&
		    strcmp(r->stream->party->tenant->name, tenant) == 0)
			return r;
	}
	return NULL;
}

static const struct ax_ledger_cell *find_cell(struct ax_ledger *l, const struct ax_ledger_row *r, const char *id)
{
	int k = ax_ledger_control(l, id);
	assert_true(k >= 0);
	return r && r->slot[k] ? &r->cells[r->slot[k] - 1] : NULL;
}

static void days_and_times(void **state)
{
	(void)state;
	char text[11];
	int32_t d;
	assert_int_equal(ax_ledger_day(0), 0);
	assert_int_equal(ax_ledger_day(-1), -1);
	assert_int_equal(ax_ledger_day(NOW), NOW / DAY);
	ax_ledger_day_format(NOW / DAY, text);
	assert_string_equal(text, "2026-11-24");
	assert_true(ax_ledger_day_parse("2026-11-24", &d));
	assert_int_equal(d, NOW / DAY);
	assert_false(ax_ledger_day_parse("2026-11-24T00:00:00", &d));
	assert_false(ax_ledger_day_parse("yesterday", &d));
}

static void controls_by_id(void **state)
{
	(void)state;
	size_t skipped;
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, &skipped, &err);
	assert_non_null(l);
	for (size_t i = 0; i < unit_catalog.n2022; i++)
		assert_int_equal(ax_ledger_control(l, unit_catalog.c2022[i].id), (int)i);
	assert_int_equal(ax_ledger_control(l, "9.1"), -1);
	assert_int_equal(ax_ledger_control(l, "8.150"), -1);
	assert_int_equal(ax_ledger_control(l, "8."), -1);
	assert_int_equal(ax_ledger_control(l, "A.12.4.1"), -1);
	assert_int_equal(ax_ledger_control(l, ""), -1);
	ax_ledger_close(l);
}

static void counts_by_event_day(void **state)
{
	(void)state;
	static const char *const two[] = { "8.15", "5.17" }, *const one[] = { "8.15" };
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, NULL, &err);
	assert_non_null(l);
	struct ax_record a = rec("t1", "m365", "Audit.Exchange", "2026-11-23T07:00:00", two, 2);
	struct ax_record b = rec("t1", "m365", "Audit.Exchange", "2026-11-23 05:00:00", one, 1); /* a space for the T */
	struct ax_record c = rec("t1", "m365", "Audit.Exchange", "2026-11-22T23:59:59.9999999Z", one, 1);
	struct ax_record none = rec("t1", "m365", "Audit.Exchange", "", one, 1);           /* counts today */
	struct ax_record future = rec("t1", "m365", "Audit.Exchange", "2027-01-01T00:00:00", one, 1);
	struct ax_record other = rec("t2", "m365", "Audit.Exchange", "2026-11-23T07:00:00", one, 1);
	ax_ledger_count(l, &a, true, NOW);
	ax_ledger_count(l, &b, true, NOW);
	ax_ledger_count(l, &a, true, NOW);
	ax_ledger_count(l, &c, true, NOW);
	ax_ledger_count(l, &none, true, NOW);
	ax_ledger_count(l, &future, true, NOW);
	ax_ledger_count(l, &other, true, NOW);
	const struct ax_ledger_row *r = find_row(l, "t1", "Audit.Exchange", "2026-11-23");
	assert_non_null(r);
	assert_int_equal(r->records, 3);
	const struct ax_ledger_cell *log = find_cell(l, r, "8.15"), *auth = find_cell(l, r, "5.17");
	assert_int_equal(log->records, 3);
	assert_int_equal(auth->records, 2);
	assert_int_equal(log->first, NOW - DAY + 5 * 3600);
	assert_int_equal(log->last, NOW - DAY + 7 * 3600);
	assert_null(find_cell(l, r, "8.5"));
	r = find_row(l, "t1", "Audit.Exchange", "2026-11-22");
	assert_int_equal(r->records, 1);
	assert_int_equal(find_cell(l, r, "8.15")->last, NOW - DAY - 1);
	r = find_row(l, "t1", "Audit.Exchange", "2026-11-24");
	assert_int_equal(r->records, 2); /* no time, and a time more than a day ahead: now */
	assert_int_equal(find_row(l, "t2", "Audit.Exchange", "2026-11-23")->records, 1);
	assert_int_equal(l->nstreams, 2);
	assert_int_equal(l->nparties, 2);
	struct ax_ledger_stream *s = ax_ledger_stream(l, "t1", "m365", "Audit.Exchange");
	assert_int_equal(s->last_arrival, NOW);
	assert_int_equal(s->newest_event, NOW); /* the records counted at now */
	assert_true(s->live);
	assert_int_equal(s->party->tenant->ctl_last[ax_ledger_control(l, "5.17")], NOW);
	assert_int_equal(s->party->tenant->ctl_last[ax_ledger_control(l, "8.5")], 0);
	ax_ledger_close(l);
}

static void acks_per_output(void **state)
{
	(void)state;
	static const char *const two[] = { "8.15", "5.17" };
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, NULL, &err);
	int soc = ax_ledger_output(l, "soc"), high = ax_ledger_output(l, "high");
	assert_int_equal(soc, 0);
	assert_int_equal(high, 1);
	assert_int_equal(ax_ledger_output(l, "soc"), 0);
	struct ax_record batch[3];
	for (int i = 0; i < 3; i++) {
		batch[i] = rec("t1", "m365", "Audit.Exchange", "2026-11-23T07:00:00", two, 2);
		ax_ledger_count(l, &batch[i], true, NOW);
	}
	batch[2].workload = "annexa"; /* the agent's own records are not evidence */
	ax_ledger_ack(l, soc, batch, 3, NOW);
	ax_ledger_ack(l, high, batch, 1, NOW);
	ax_ledger_ack(l, -1, batch, 3, NOW); /* no slot: ignored */
	const struct ax_ledger_row *r = find_row(l, "t1", "Audit.Exchange", "2026-11-23");
	const struct ax_ledger_cell *c = find_cell(l, r, "5.17");
	size_t ci = (size_t)(c - r->cells);
	assert_int_equal(r->row_acked[soc], 2);
	assert_int_equal(r->row_acked[high], 1);
	assert_int_equal(r->acked[ci * r->width + (size_t)soc], 2);
	assert_int_equal(r->acked[ci * r->width + (size_t)high], 1);
	/* acked records whose count was lost (a crash) make their row */
	struct ax_record lost = rec("t9", "m365", "DLP.All", "2026-11-20T01:00:00", two, 2);
	ax_ledger_ack(l, high, &lost, 1, NOW);
	r = find_row(l, "t9", "DLP.All", "2026-11-20");
	assert_int_equal(r->records, 0);
	assert_int_equal(r->row_acked[high], 1);
	ax_ledger_close(l);
}

static void saved_and_read_back(void **state)
{
	(void)state;
	static const char *const three[] = { "5.1", "8.15", "8.34" };
	char *dir = unit_tmpdir(), path[600];
	snprintf(path, sizeof(path), "%s/ledger.jsonl", dir);
	ax_err err;
	size_t skipped = 99;
	struct ax_ledger *l = ax_ledger_open(path, &unit_catalog, 400, &skipped, &err);
	assert_non_null(l);
	assert_int_equal(skipped, 0); /* no file yet: empty */
	int out = ax_ledger_output(l, "out \"quoted\"");
	struct ax_record a = rec("tenant\twith\"odd\\chars", "m365", "Audit.SharePoint", "2026-11-23T10:11:12Z", three, 3);
	for (int i = 0; i < 5; i++)
		ax_ledger_count(l, &a, false, NOW);
	ax_ledger_ack(l, out, &a, 1, NOW);
	struct ax_ledger_gap g = { .reason = "blob_expired", .detail = "a blob expired", .content_id = "blob-1",
				   .from = NOW - 7200, .to = NOW - 3600, .control = ax_ledger_control(l, "8.15") };
	ax_ledger_gap(l, &a, &g, NOW - 60);
	struct ax_ledger_stream *s = ax_ledger_stream(l, a.tenant, "m365", "Audit.SharePoint");
	s->silence = (struct ax_watch_mark){ NOW - 30, NOW - 99 };
	s->horizon = (struct ax_watch_mark){ NOW - 20, NOW - 6 * 86400 };
	s->party->credential = (struct ax_watch_mark){ NOW - 5, NOW + 86400 };
	s->party->summarized = NOW / DAY - 2;
	s->party->tenant->ctl_mark[ax_ledger_control(l, "8.34")] = (struct ax_watch_mark){ NOW - 10, NOW - 70 };
	assert_int_equal(ax_ledger_save(l, NOW / DAY), AX_OK);
	struct ax_buf first;
	ax_buf_init(&first, 1u << 20);
	assert_int_equal(ax_ledger_render(l, &first), AX_OK);
	ax_ledger_close(l);

	l = ax_ledger_open(path, &unit_catalog, 400, &skipped, &err);
	assert_non_null(l);
	assert_int_equal(skipped, 0);
	const struct ax_ledger_row *r = find_row(l, a.tenant, "Audit.SharePoint", "2026-11-23");
	assert_non_null(r);
	assert_int_equal(r->records, 5);
	assert_int_equal(r->gaps, 1); /* noticed a minute before midnight */
	const struct ax_ledger_cell *c = find_cell(l, r, "8.34");
	assert_int_equal(c->records, 5);
	assert_int_equal(c->first, NOW - DAY + 10 * 3600 + 11 * 60 + 12);
	assert_int_equal(r->acked[(size_t)(c - r->cells) * r->width + 0], 1);
	assert_string_equal(l->outputs[0], "out \"quoted\"");
	assert_int_equal(l->ngaps, 1);
	struct ax_ledger_gap *lg = ax_ledger_gap_at(l, 0);
	assert_string_equal(lg->reason, "blob_expired");
	assert_string_equal(lg->content_id, "blob-1");
	assert_int_equal(lg->from, NOW - 7200);
	assert_int_equal(lg->control, ax_ledger_control(l, "8.15"));
	s = ax_ledger_stream(l, a.tenant, "m365", "Audit.SharePoint");
	assert_int_equal(s->silence.raised, NOW - 30);
	assert_int_equal(s->silence.since, NOW - 99);
	assert_int_equal(s->horizon.raised, NOW - 20);
	assert_int_equal(s->horizon.since, NOW - 6 * 86400);
	assert_int_equal(s->party->credential.raised, NOW - 5);
	assert_int_equal(s->party->credential.since, NOW + 86400);
	assert_false(s->live);
	assert_int_equal(s->party->summarized, NOW / DAY - 2);
	assert_int_equal(s->party->tenant->ctl_mark[ax_ledger_control(l, "8.34")].raised, NOW - 10);
	assert_int_equal(s->party->tenant->ctl_mark[ax_ledger_control(l, "8.34")].since, NOW - 70);
	assert_int_equal(s->party->tenant->ctl_last[ax_ledger_control(l, "5.1")], NOW);
	/* what is read back renders the same (the saved time aside) */
	struct ax_buf second;
	ax_buf_init(&second, 1u << 20);
	assert_int_equal(ax_ledger_render(l, &second), AX_OK);
	assert_int_equal(ax_buf_cstr(&first), AX_OK);
	assert_int_equal(ax_buf_cstr(&second), AX_OK);
	assert_string_equal(strchr(first.data, '\n'), strchr(second.data, '\n'));
	ax_buf_finish(&first);
	ax_buf_finish(&second);
	ax_ledger_close(l);
	unit_tmpdir_remove(dir);
}

static void pruned_past_retention(void **state)
{
	(void)state;
	static const char *const one[] = { "8.15" };
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 3, NULL, &err);
	char when[32];
	for (int back = 0; back < 6; back++) {
		struct ax_ledger_gap g = { .reason = "x", .control = -1 };
		snprintf(when, sizeof(when), "2026-11-%02dT12:00:00", 24 - back);
		struct ax_record r = rec("t", "s", "Audit.General", when, one, 1);
		ax_ledger_count(l, &r, false, NOW + 13 * 3600);
		ax_ledger_gap(l, &r, &g, NOW + 13 * 3600 - (int64_t)back * DAY);
	}
	assert_int_equal(l->nrows, 6);
	assert_int_equal(ax_ledger_save(l, NOW / DAY), AX_OK);
	assert_int_equal(l->nrows, 3); /* 22, 23 and 24 November */
	assert_null(find_row(l, "t", "Audit.General", "2026-11-21"));
	assert_non_null(find_row(l, "t", "Audit.General", "2026-11-22"));
	assert_int_equal(l->ngaps, 3);
	/* the index still finds the rows kept, and new ones */
	struct ax_record r = rec("t", "s", "Audit.General", "2026-11-22T01:00:00", one, 1);
	ax_ledger_count(l, &r, false, NOW);
	assert_int_equal(l->nrows, 3);
	assert_int_equal(find_row(l, "t", "Audit.General", "2026-11-22")->records, 2);
	ax_ledger_close(l);
}

static void survives_a_crash(void **state)
{
	(void)state;
	static const char *const one[] = { "8.15" };
	char *dir = unit_tmpdir(), path[600];
	snprintf(path, sizeof(path), "%s/ledger.jsonl", dir);
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(path, &unit_catalog, 400, NULL, &err);
	struct ax_record r = rec("t", "s", "Audit.General", "2026-11-23T01:00:00", one, 1);
	ax_ledger_count(l, &r, false, NOW);
	assert_int_equal(ax_ledger_save(l, NOW / DAY), AX_OK);
	ax_ledger_close(l);
	/* a crash during the next save leaves its temporary file: never read */
	free(unit_write_file(dir, "ledger.jsonl.tmp", "{\"kind\":\"day\",\"tenant\":\"t\",\"sour", SIZE_MAX));
	size_t skipped;
	l = ax_ledger_open(path, &unit_catalog, 400, &skipped, &err);
	assert_non_null(l);
	assert_int_equal(skipped, 0);
	assert_int_equal(find_row(l, "t", "Audit.General", "2026-11-23")->records, 1);
	ax_ledger_close(l);
	/* lines that do not parse (an edited file) are skipped, the rest read */
	char *text = unit_read_file(path, NULL);
	size_t n = strlen(text);
	char *edited = malloc(n + 200);
	snprintf(edited, n + 200, "%sgarbage\n{\"kind\":\"day\",\"tenant\":\"t\"}\n{\"kind\":\"martian\"}\n", text);
	free(unit_write_file(dir, "ledger.jsonl", edited, SIZE_MAX));
	l = ax_ledger_open(path, &unit_catalog, 400, &skipped, &err);
	assert_non_null(l);
	assert_int_equal(skipped, 3);
	assert_int_equal(find_row(l, "t", "Audit.General", "2026-11-23")->records, 1);
	ax_ledger_close(l);
	free(text);
	free(edited);
	unit_tmpdir_remove(dir);
}

struct acker {
	struct ax_ledger *l;
	int out;
};

#define ACKS 20000

static void *ack_many(void *arg)
{
	static const char *const one[] = { "8.15" };
	struct acker *a = arg;
	struct ax_record batch[10];
	for (int i = 0; i < 10; i++)
		batch[i] = rec(i % 2 ? "t1" : "t2", "s", "Audit.General", "2026-11-23T01:00:00", one, 1);
	for (int i = 0; i < ACKS / 10; i++)
		ax_ledger_ack(a->l, a->out, batch, 10, NOW);
	return NULL;
}

static void concurrent_acks(void **state)
{
	(void)state;
	static const char *const one[] = { "8.15" };
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, NULL, &err);
	struct acker a[3] = { { l, ax_ledger_output(l, "a") }, { l, ax_ledger_output(l, "b") },
			      { l, ax_ledger_output(l, "c") } };
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, ack_many, &a[i]), 0);
	struct ax_record r = rec("t1", "s", "Audit.General", "2026-11-23T02:00:00", one, 1);
	for (int i = 0; i < ACKS; i++)
		ax_ledger_count(l, &r, false, NOW);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	const struct ax_ledger_row *row = find_row(l, "t1", "Audit.General", "2026-11-23");
	assert_int_equal(row->records, ACKS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(row->row_acked[a[i].out], ACKS / 2);
	assert_int_equal(find_row(l, "t2", "Audit.General", "2026-11-23")->row_acked[a[2].out], ACKS / 2);
	ax_ledger_close(l);
}

static void gaps_ring_keeps_the_newest(void **state)
{
	(void)state;
	static const char *const one[] = { "8.15" };
	ax_err err;
	struct ax_ledger *l = ax_ledger_open(NULL, &unit_catalog, 400, NULL, &err);
	struct ax_record r = rec("t", "s", "Audit.General", "", one, 1);
	char reason[32];
	for (int i = 0; i < AX_LEDGER_MAX_GAPS + 10; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		struct ax_ledger_gap g = { .reason = reason, .control = -1 };
		ax_ledger_gap(l, &r, &g, NOW + i);
	}
	assert_int_equal(l->ngaps, AX_LEDGER_MAX_GAPS);
	assert_string_equal(ax_ledger_gap_at(l, 0)->reason, "r10");
	snprintf(reason, sizeof(reason), "r%d", AX_LEDGER_MAX_GAPS + 9);
	assert_string_equal(ax_ledger_gap_at(l, AX_LEDGER_MAX_GAPS - 1)->reason, reason);
	ax_ledger_close(l);
}

int main(void)
{
	unit_quiet_logs();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(days_and_times),
		cmocka_unit_test(controls_by_id),
		cmocka_unit_test(counts_by_event_day),
		cmocka_unit_test(acks_per_output),
		cmocka_unit_test(saved_and_read_back),
		cmocka_unit_test(pruned_past_retention),
		cmocka_unit_test(survives_a_crash),
		cmocka_unit_test(concurrent_acks),
		cmocka_unit_test(gaps_ring_keeps_the_newest),
	};
	return cmocka_run_group_tests(tests, unit_catalog_setup, unit_catalog_teardown);
}

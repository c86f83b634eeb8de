/* test_hec_format.c - HEC event envelopes (escaping of the shared members,
 * the record embedded byte for byte, indexed fields), the cutting of a
 * batch into requests by count and by bytes. gzip bodies: test_hec_gzip.c. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "outputs/splunk_hec/hec.h"

static const char *const controls[] = { "8.5", "5.17" };

static struct ax_record record(const char *json, const char *time)
{
	return (struct ax_record){
		.json = json, .len = strlen(json), .id = "id-1", .creation_time = time,
		.workload = "Exchange", .operation = "Set-Mailbox", .user = "", .client_ip = "",
		.category = "configuration_change", .severity = AX_SEV_HIGH, .controls = controls,
		.ncontrols = 2, .source = "replay", .content_type = "Audit.Exchange", .tenant = "",
	};
}

static void test_meta_escaped(void **state)
{
	(void)state;
	struct ax_buf meta;
	ax_buf_init(&meta, 4096);
	assert_int_equal(ax_hec_meta_render(&meta, "fwd\"1\\\n", "src\x01", "o365:management:activity", ""), AX_OK);
	assert_int_equal(ax_buf_cstr(&meta), AX_OK);
	assert_string_equal(meta.data, ",\"host\":\"fwd\\\"1\\\\\\n\",\"source\":\"src\\u0001\","
				       "\"sourcetype\":\"o365:management:activity\"");
	assert_int_equal(ax_hec_meta_render(&meta, "h", "s", "st", "m365\",\"x\":\"y"), AX_OK);
	assert_int_equal(ax_buf_cstr(&meta), AX_OK);
	assert_string_equal(meta.data, ",\"host\":\"h\",\"source\":\"s\",\"sourcetype\":\"st\","
				       "\"index\":\"m365\\\",\\\"x\\\":\\\"y\"");
	ax_buf_finish(&meta);
}

static void test_event_envelope(void **state)
{
	(void)state;
	struct ax_buf meta, body;
	ax_buf_init(&meta, 4096);
	ax_buf_init(&body, 1 << 20);
	assert_int_equal(ax_hec_meta_render(&meta, "h", "annexa", "o365:management:activity", "m365"), AX_OK);
	/* odd but valid JSON: kept byte for byte, never re-encoded */
	const char *json = "{ \"Id\" : \"id-1\",\"x\":\"\\u00e9\\/\" , \"n\":1.50E+2}";
	struct ax_record r = record(json, "2024-01-01T10:00:00.25Z");
	r.workload = "Ex\"change";
	r.tenant = "t-1";
	assert_int_equal(ax_hec_event_append(&body, &meta, &r), AX_OK);
	assert_int_equal(ax_buf_cstr(&body), AX_OK);
	char want[1024];
	snprintf(want, sizeof(want),
		 "{\"time\":1704103200.25,\"host\":\"h\",\"source\":\"annexa\",\"sourcetype\":\"o365:management:activity\","
		 "\"index\":\"m365\",\"event\":%s,\"fields\":{\"iso27001_controls\":[\"8.5\",\"5.17\"],"
		 "\"iso27001_category\":\"configuration_change\",\"iso27001_severity\":\"high\","
		 "\"workload\":\"Ex\\\"change\",\"tenant\":\"t-1\"}}", json);
	assert_string_equal(body.data, want);
	yajl_val v = yajl_tree_parse(body.data, NULL, 0);
	assert_non_null(v);
	yajl_tree_free(v);
	ax_buf_finish(&meta);
	ax_buf_finish(&body);
}

/* Splunk refuses empty indexed-field values: they are left out. */
static void test_empty_fields_left_out(void **state)
{
	(void)state;
	struct ax_buf meta, body;
	ax_buf_init(&meta, 4096);
	ax_buf_init(&body, 1 << 20);
	assert_int_equal(ax_hec_meta_render(&meta, "h", "s", "st", ""), AX_OK);
	struct ax_record r = record("{}", "");
	r.workload = "";
	r.category = "";
	r.severity = AX_SEV_INFORMATIONAL;
	assert_int_equal(ax_hec_event_append(&body, &meta, &r), AX_OK);
	assert_int_equal(ax_buf_cstr(&body), AX_OK);
	assert_contains(body.data, ",\"event\":{},\"fields\":{\"iso27001_controls\":[\"8.5\",\"5.17\"],"
				   "\"iso27001_severity\":\"informational\"}}");
	assert_not_contains(body.data, "\"index\"");
	assert_not_contains(body.data, "\"\"");
	ax_buf_finish(&meta);
	ax_buf_finish(&body);
}

struct fill_case {
	struct ax_buf meta, body;
	struct ax_record recs[8];
	char json[8][64];
};

static void setup_fill(struct fill_case *c)
{
	ax_buf_init(&c->meta, 4096);
	ax_buf_init(&c->body, 1 << 20);
	assert_int_equal(ax_hec_meta_render(&c->meta, "h", "s", "st", ""), AX_OK);
	for (int i = 0; i < 8; i++) {
		snprintf(c->json[i], sizeof(c->json[i]), "{\"Id\":\"rec-%d\"}", i);
		c->recs[i] = record(c->json[i], "2024-01-01T10:00:00");
	}
}

static size_t event_size(struct fill_case *c)
{
	ax_buf_clear(&c->body);
	assert_int_equal(ax_hec_event_append(&c->body, &c->meta, &c->recs[0]), AX_OK);
	return c->body.len;
}

static void test_split_by_count_and_bytes(void **state)
{
	(void)state;
	struct fill_case c;
	setup_fill(&c);
	const size_t todo[] = { 4, 1, 6, 0, 2 };
	size_t one = event_size(&c), taken;
	struct ax_hec_limits by_count = { 3, 1 << 20 };
	assert_int_equal(ax_hec_body_fill(&c.body, &c.meta, c.recs, todo, 5, &by_count, &taken), AX_OK);
	assert_int_equal(taken, 3);
	assert_int_equal(c.body.len, 3 * one);
	assert_int_equal(ax_buf_cstr(&c.body), AX_OK);
	/* in todo order: 4, 1, 6 */
	char *p4 = strstr(c.body.data, "rec-4"), *p1 = strstr(c.body.data, "rec-1"), *p6 = strstr(c.body.data, "rec-6");
	assert_true(p4 && p1 && p6 && p4 < p1 && p1 < p6);
	assert_null(strstr(c.body.data, "rec-0"));

	struct ax_hec_limits by_bytes = { 100, 2 * one + one / 2 };
	assert_int_equal(ax_hec_body_fill(&c.body, &c.meta, c.recs, todo, 5, &by_bytes, &taken), AX_OK);
	assert_int_equal(taken, 2);
	assert_int_equal(c.body.len, 2 * one);
	struct ax_hec_limits exact = { 100, 2 * one };
	assert_int_equal(ax_hec_body_fill(&c.body, &c.meta, c.recs, todo, 5, &exact, &taken), AX_OK);
	assert_int_equal(taken, 2);
	/* the rest of the batch: the count of what is left bounds it */
	assert_int_equal(ax_hec_body_fill(&c.body, &c.meta, c.recs, todo + 3, 2, &by_count, &taken), AX_OK);
	assert_int_equal(taken, 2);
	ax_buf_finish(&c.meta);
	ax_buf_finish(&c.body);
}

/* A record larger than batch_max_bytes still goes, alone. */
static void test_oversize_record_alone(void **state)
{
	(void)state;
	struct fill_case c;
	setup_fill(&c);
	const size_t todo[] = { 0, 1, 2 };
	struct ax_hec_limits tiny = { 100, 10 };
	size_t taken;
	assert_int_equal(ax_hec_body_fill(&c.body, &c.meta, c.recs, todo, 3, &tiny, &taken), AX_OK);
	assert_int_equal(taken, 1);
	assert_int_equal(c.body.len, event_size(&c));
	ax_buf_finish(&c.meta);
	ax_buf_finish(&c.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_escaped),
		cmocka_unit_test(test_event_envelope),
		cmocka_unit_test(test_empty_fields_left_out),
		cmocka_unit_test(test_split_by_count_and_bytes),
		cmocka_unit_test(test_oversize_record_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_blob.c - splitting response bodies into records (sources/blob.c):
 * byte ranges that give back each element exactly, ids decoded, Graph
 * envelopes with their nextLink, and hostile bodies: not an array, cut
 * short, trailing garbage, invalid UTF-8, deep nesting, huge ids. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "sources/blob.h"

static const struct ax_blob_spec array_spec = { .envelope = false, .id_key = "Id", .ts_key = NULL };
static const struct ax_blob_spec graph_spec = { .envelope = true, .id_key = "id", .ts_key = "lastUpdateDateTime" };

static char *element(const char *body, const struct ax_blob_item *it)
{
	return strndup(body + it->off, it->len);
}

static void assert_element(const char *body, const struct ax_blob *b, size_t i, const char *want)
{
	assert_true(i < b->count);
	char *got = element(body, &b->items[i]);
	assert_string_equal(got, want);
	free(got);
}

static void assert_id(const struct ax_blob *b, size_t i, const char *want)
{
	if (!want) {
		assert_int_equal(b->items[i].id_len, 0);
		return;
	}
	assert_int_equal(b->items[i].id_len, strlen(want));
	assert_string_equal(ax_blob_str(b, b->items[i].id), want);
}

static void test_records_and_ids(void **state)
{
	(void)state;
	const char *body = " [ {\"Id\":\"a1\",\"x\":[1,{\"Id\":\"inner\"}]} ,\n{\"RecordType\":15, \"id\" : \"b\\u0032\"},{}]  ";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 3);
	assert_element(body, &b, 0, "{\"Id\":\"a1\",\"x\":[1,{\"Id\":\"inner\"}]}");
	assert_element(body, &b, 1, "{\"RecordType\":15, \"id\" : \"b\\u0032\"}");
	assert_element(body, &b, 2, "{}");
	assert_id(&b, 0, "a1"); /* the record's own, not a nested one */
	assert_id(&b, 1, "b2"); /* decoded, matched in any case */
	assert_id(&b, 2, NULL);
	assert_int_equal(b.bad_len, 0);
	assert_string_equal(b.error, "");
	ax_blob_finish(&b);
}

static void test_elements_that_are_not_records(void **state)
{
	(void)state;
	const char *body = "[\"text\", 12.5e3 ,null,true,[1,2],{\"Id\":7}]";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 6);
	assert_element(body, &b, 0, "\"text\"");
	assert_element(body, &b, 1, "12.5e3");
	assert_element(body, &b, 2, "null");
	assert_element(body, &b, 3, "true");
	assert_element(body, &b, 4, "[1,2]");
	assert_element(body, &b, 5, "{\"Id\":7}");
	assert_id(&b, 5, "7"); /* a number id is kept as its text */
	ax_blob_finish(&b);
}

/* yajl takes \v and \f for blanks: an element's range must not start
 * with them (found by test/fuzz/fuzz_api). */
static void test_vertical_tab_and_form_feed(void **state)
{
	(void)state;
	const char *body = "[{\"Id\":\"a\"}\v,\f{\"Id\":\"b\"}\f,\v\"c\"]";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 3);
	assert_element(body, &b, 0, "{\"Id\":\"a\"}");
	assert_element(body, &b, 1, "{\"Id\":\"b\"}");
	assert_element(body, &b, 2, "\"c\"");
	ax_blob_finish(&b);
}

/* A body cut after a number: yajl hands the number over only when told
 * the body ended, and its range must still end at the body's end, not
 * wrap around below its start (found by test/fuzz/fuzz_api). */
static void test_cut_after_a_number(void **state)
{
	(void)state;
	const char *body = "[\"d\"  ,45";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_ERR_JSON);
	for (size_t i = 0; i < b.count; i++)
		assert_true(b.items[i].off + b.items[i].len <= strlen(body) && b.items[i].len <= strlen(body));
	assert_true(b.count >= 1);
	assert_element(body, &b, 0, "\"d\"");
	if (b.count == 2)
		assert_element(body, &b, 1, "45");
	assert_true(b.bad_off + b.bad_len <= strlen(body));
	ax_blob_finish(&b);
}

static void test_empty_array(void **state)
{
	(void)state;
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, "[]", 2), AX_OK);
	assert_int_equal(b.count, 0);
	ax_blob_finish(&b);
}

static void expect_bad(const char *body, size_t len, size_t records, const char *bad, const char *why)
{
	if (len == SIZE_MAX)
		len = strlen(body);
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, len), AX_ERR_JSON);
	assert_int_equal(b.count, records);
	assert_int_equal(b.bad_len, strlen(bad));
	assert_memory_equal(body + b.bad_off, bad, b.bad_len);
	assert_contains(b.error, why);
	ax_blob_finish(&b);
}

static void test_hostile_bodies(void **state)
{
	(void)state;
	expect_bad("{\"error\":{\"code\":\"AF20051\"}}", SIZE_MAX, 0, "{\"error\":{\"code\":\"AF20051\"}}", "not a JSON array");
	expect_bad("<html><body>Service unavailable</body></html>", SIZE_MAX, 0,
		   "<html><body>Service unavailable</body></html>", "invalid");
	/* cut short: the records before the fault stay */
	expect_bad("[{\"Id\":\"1\"},{\"Id\":\"2\"},{\"Id\":\"3\",\"Op", SIZE_MAX, 2, "{\"Id\":\"3\",\"Op", "premature EOF");
	expect_bad("[{\"Id\":\"1\"}] trailing", SIZE_MAX, 1, "trailing", "trailing garbage");
	expect_bad("\"just a string\"", SIZE_MAX, 0, "\"just a string\"", "not a JSON array");
	expect_bad("", 0, 0, "", "premature EOF");
	const char bad_utf8[] = "[{\"Id\":\"1\"},{\"Id\":\"\xff\xfe\"}]";
	expect_bad(bad_utf8, sizeof(bad_utf8) - 1, 1, "{\"Id\":\"\xff\xfe\"}]", "UTF8");
}

static void test_deep_nesting(void **state)
{
	(void)state;
	size_t depth = 100000, len = 2 * depth + 2;
	char *body = malloc(len + 1);
	assert_non_null(body);
	body[0] = '[';
	memset(body + 1, '[', depth);
	memset(body + 1 + depth, ']', depth);
	body[len - 1] = ']';
	body[len] = '\0';
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, len), AX_OK);
	assert_int_equal(b.count, 1);
	assert_int_equal(b.items[0].len, 2 * depth);
	ax_blob_finish(&b);
	free(body);
}

static void test_huge_id_is_not_kept(void **state)
{
	(void)state;
	size_t n = AX_BLOB_MAX_VALUE + 10;
	char *body = malloc(n + 16);
	if (!body) { /* not assert_non_null: GCC would see a path on with NULL */
		fail_msg("out of memory");
		return;
	}
	memcpy(body, "[{\"Id\":\"", 8);
	memset(body + 8, 'x', n);
	memcpy(body + 8 + n, "\"}]", 4); /* with its NUL */
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 1);
	assert_id(&b, 0, NULL);
	ax_blob_finish(&b);
	free(body);
}

static void test_graph_envelope(void **state)
{
	(void)state;
	const char *body = "{\"@odata.context\":\"x\",\"value\":[{\"id\":\"a\",\"lastUpdateDateTime\":\"2026-03-02T08:30:02.7654321Z\","
			   "\"evidence\":[{\"id\":\"nested\"}]},{\"id\":\"b\"}],\"@odata.nextLink\":\"https://g/next?$skip=2\"}";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &graph_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 2);
	assert_id(&b, 0, "a");
	assert_int_equal(b.items[0].ts_len, strlen("2026-03-02T08:30:02.7654321Z"));
	assert_string_equal(ax_blob_str(&b, b.items[0].ts), "2026-03-02T08:30:02.7654321Z");
	assert_id(&b, 1, "b");
	assert_int_equal(b.items[1].ts_len, 0);
	assert_element(body, &b, 1, "{\"id\":\"b\"}");
	assert_non_null(b.next_link);
	assert_string_equal(b.next_link, "https://g/next?$skip=2");
	/* the same split object, reused: nothing of the last body stays */
	const char *last = "{\"@odata.nextLink\":null,\"value\":[]}";
	assert_int_equal(ax_blob_split(&b, &graph_spec, last, strlen(last)), AX_OK);
	assert_int_equal(b.count, 0);
	assert_null(b.next_link);
	ax_blob_finish(&b);
}

static void test_graph_envelope_hostile(void **state)
{
	(void)state;
	struct ax_blob b;
	ax_blob_init(&b);
	const char *no_value = "{\"error\":{\"code\":\"TooManyRequests\"}}";
	assert_int_equal(ax_blob_split(&b, &graph_spec, no_value, strlen(no_value)), AX_ERR_JSON);
	assert_contains(b.error, "no \"value\"");
	const char *scalar = "{\"value\":5}";
	assert_int_equal(ax_blob_split(&b, &graph_spec, scalar, strlen(scalar)), AX_ERR_JSON);
	assert_contains(b.error, "not an array");
	const char *array = "[{\"id\":\"a\"}]";
	assert_int_equal(ax_blob_split(&b, &graph_spec, array, strlen(array)), AX_ERR_JSON);
	assert_contains(b.error, "not a JSON object");
	ax_blob_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_ids),
		cmocka_unit_test(test_elements_that_are_not_records),
		cmocka_unit_test(test_vertical_tab_and_form_feed),
		cmocka_unit_test(test_cut_after_a_number),
		cmocka_unit_test(test_empty_array),
		cmocka_unit_test(test_hostile_bodies),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge_id_is_not_kept),
		cmocka_unit_test(test_graph_envelope),
		cmocka_unit_test(test_graph_envelope_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_hec_done.c - the records of a pending batch already delivered:
 * known by their bytes, counted like a multiset (two identical records are
 * two deliveries), each entry excusing one record per pass. */
#include "unit.h"

#include <stdint.h>
#include <string.h>

#include "outputs/splunk_hec/hec.h"

static uint64_t key(const char *json)
{
	struct ax_record r = { .json = json, .len = strlen(json) };
	return ax_hec_done_key(&r);
}

static void test_keys(void **state)
{
	(void)state;
	assert_true(key("{\"Id\":\"a\"}") == key("{\"Id\":\"a\"}"));
	assert_true(key("{\"Id\":\"a\"}") != key("{\"Id\":\"b\"}"));
	assert_true(key("{\"Id\":\"a\"}") != key("{\"Id\":\"a\"} "));
	assert_true(key("") != key(" "));
	/* a record of 2,000 bytes and each one-byte change of it, and every
	 * length of it up to 64 (the last word is partial): all different */
	enum { N = 2000 };
	static char rec[N + 1];
	static uint64_t keys[N + 65];
	size_t n = 0;
	for (size_t i = 0; i < N; i++)
		rec[i] = (char)('a' + i * 7 % 26);
	keys[n++] = key(rec);
	for (size_t i = 0; i < N; i++) {
		rec[i] ^= 1;
		keys[n++] = key(rec);
		rec[i] ^= 1;
	}
	for (size_t len = 1; len <= 64; len++) {
		struct ax_record r = { .json = rec, .len = len };
		keys[n++] = ax_hec_done_key(&r);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (keys[i] == keys[j])
				fail_msg("variants %zu and %zu have one key", i, j);
}

static void test_multiset(void **state)
{
	(void)state;
	struct ax_hec_done d = { 0 };
	uint64_t a = key("a"), b = key("b"), c = key("c");
	assert_int_equal(ax_hec_done_add(&d, a), AX_OK);
	assert_int_equal(ax_hec_done_add(&d, b), AX_OK);
	assert_int_equal(ax_hec_done_add(&d, a), AX_OK);
	ax_hec_done_rewind(&d);
	assert_true(ax_hec_done_take(&d, a));
	assert_true(ax_hec_done_take(&d, a));
	assert_false(ax_hec_done_take(&d, a)); /* a third copy was not delivered */
	assert_true(ax_hec_done_take(&d, b));
	assert_false(ax_hec_done_take(&d, c));
	ax_hec_done_rewind(&d); /* the next pass over the same batch */
	assert_true(ax_hec_done_take(&d, b));
	assert_true(ax_hec_done_take(&d, a));
	ax_hec_done_clear(&d);
	ax_hec_done_rewind(&d);
	assert_false(ax_hec_done_take(&d, a));
	ax_hec_done_finish(&d);
}

static void test_many(void **state)
{
	(void)state;
	struct ax_hec_done d = { 0 };
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(ax_hec_done_add(&d, i * 2654435761u), AX_OK);
	ax_hec_done_rewind(&d);
	for (uint64_t i = 0; i < 5000; i += 7)
		assert_true(ax_hec_done_take(&d, i * 2654435761u));
	assert_false(ax_hec_done_take(&d, 5001 * 2654435761u));
	ax_hec_done_finish(&d);
	ax_hec_done_rewind(&d); /* finished: empty and still usable */
	assert_false(ax_hec_done_take(&d, 0));
	ax_hec_done_finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_multiset),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

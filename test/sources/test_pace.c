/* test_pace.c - the request pace of a quota pool (sources/pace.c): evenly
 * spread, so no window holds more than its share; shared by every stream of
 * the pool at the slowest rate asked; pools apart from one another. */
#include "unit.h"

#include "sources/pace.h"

/* Requests that may start when one is tried every ms from t0 for span ms. */
static int allowed(struct ax_pace *p, int64_t t0, int64_t span)
{
	int n = 0;
	for (int64_t t = t0; t < t0 + span; t++)
		n += ax_pace_take(p, t) == 0;
	return n;
}

static void test_even(void **state)
{
	(void)state;
	struct ax_pace *p = ax_pace_get("o365/tenant-even", 1500);
	assert_int_equal(ax_pace_take(p, 1000), 0);
	assert_int_equal(ax_pace_take(p, 1000), 40); /* 60 s / 1500 */
	assert_int_equal(ax_pace_take(p, 1039), 1);
	assert_int_equal(ax_pace_take(p, 1040), 0);
	assert_int_equal(allowed(p, 2000, 60000), 1500);
	/* any 10 s window holds a sixth of the minute's share, at most */
	for (int64_t from = 70000; from < 130000; from += 10000)
		assert_true(allowed(p, from, 10000) <= 250);
	ax_pace_put(p);
}

static void test_shared(void **state)
{
	(void)state;
	struct ax_pace *a = ax_pace_get("graph_audit/t/c", 60);
	struct ax_pace *b = ax_pace_get("graph_audit/t/c", 24);
	struct ax_pace *other = ax_pace_get("graph_audit/t2/c", 60);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, other);
	assert_int_equal(ax_pace_take(a, 0), 0);
	assert_int_equal(ax_pace_take(b, 0), 2500); /* the slower: 24 a minute, for both */
	assert_int_equal(ax_pace_take(other, 0), 0); /* another tenant's pool is its own */
	assert_int_equal(allowed(a, 10000, 60000) + allowed(b, 70000, 60000), 48);
	ax_pace_put(a);
	ax_pace_put(b);
	ax_pace_put(other);
	struct ax_pace *again = ax_pace_get("graph_audit/t/c", 60); /* the last put freed it: a fresh pool */
	assert_int_equal(ax_pace_take(again, 0), 0);
	assert_int_equal(ax_pace_take(again, 0), 1000);
	ax_pace_put(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_even),
		cmocka_unit_test(test_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_window.c - time as the APIs write it and the listing windows of the
 * Management Activity API (sources/window.c): at most 24 h, never before
 * the 7-day horizon (what lies before it reported as lost), the overlap
 * that finds late blobs, and where a first run starts. */
#include "unit.h"

#include <string.h>

#include "sources/window.h"

#define T0 1772409600LL /* 2026-03-02T00:00:00Z */

static int64_t parse(const char *s)
{
	int64_t t;
	assert_true(ax_time_parse(s, strlen(s), &t));
	return t;
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(parse("2026-03-02"), T0 * AX_TICKS_PER_SEC);
	assert_int_equal(parse("2026-03-02T09:15"), (T0 + 9 * 3600 + 15 * 60) * AX_TICKS_PER_SEC);
	assert_int_equal(parse("2026-03-02T09:15:00"), (T0 + 33300) * AX_TICKS_PER_SEC);
	assert_int_equal(parse("2026-03-02T09:15:00.123Z"), (T0 + 33300) * AX_TICKS_PER_SEC + 1230000);
	assert_int_equal(parse("2026-03-02T08:30:02.7654321Z"), (T0 + 30602) * AX_TICKS_PER_SEC + 7654321);
	assert_int_equal(parse("2026-03-02T08:30:02.765432198Z"), (T0 + 30602) * AX_TICKS_PER_SEC + 7654321);
	assert_int_equal(parse("2026-03-02T10:00:00+01:00"), (T0 + 9 * 3600) * AX_TICKS_PER_SEC);
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse("2024-02-29T00:00:00Z"), 1709164800LL * AX_TICKS_PER_SEC);
	const char *bad[] = { "", "2026", "2026-3-02", "2026-03-02T", "2026-03-02T25:00:00", "2026-13-01",
			      "2026-03-02T09:15:00.", "2026-03-02T09:15:00Zjunk", "2026-03-02 09:15:00",
			      "2026-03-02T09:15:00+1", "x026-03-02" };
	int64_t t;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++)
		assert_false(ax_time_parse(bad[i], strlen(bad[i]), &t));
}

static void test_format(void **state)
{
	(void)state;
	char api[20], utc[21], ticks[29];
	ax_time_format_api(T0 + 33300, api);
	assert_string_equal(api, "2026-03-02T09:15:00");
	ax_time_format_utc(T0 + 33300, utc);
	assert_string_equal(utc, "2026-03-02T09:15:00Z");
	ax_time_format_ticks((T0 + 30602) * AX_TICKS_PER_SEC + 7654321, ticks);
	assert_string_equal(ticks, "2026-03-02T08:30:02.7654321Z");
	ax_time_format_ticks(T0 * AX_TICKS_PER_SEC + 5, ticks);
	assert_string_equal(ticks, "2026-03-02T00:00:00.0000005Z");
	int64_t back = parse(ticks);
	assert_int_equal(back, T0 * AX_TICKS_PER_SEC + 5); /* round trip */
}

static void test_backfill_walks_24h_windows(void **state)
{
	(void)state;
	int64_t now = T0 + 3 * AX_DAY_S + 3600;
	int64_t cursor = ax_window_first_cursor(now, 3 * AX_DAY_S);
	assert_int_equal(cursor, T0 + 3600);
	struct ax_window w;
	int64_t last_end = cursor, windows = 0;
	while (ax_window_next(cursor, now, 0, &w)) {
		assert_int_equal(w.start, last_end);        /* contiguous: nothing between windows */
		assert_true(w.end - w.start <= AX_DAY_S);   /* at most 24 h */
		assert_true(w.end <= now);
		assert_int_equal(w.lost_to, w.lost_from);
		cursor = last_end = w.end;
		windows++;
	}
	assert_int_equal(windows, 3);
	assert_int_equal(cursor, now);
}

static void test_overlap(void **state)
{
	(void)state;
	int64_t now = T0 + 10 * 3600;
	struct ax_window w;
	assert_true(ax_window_next(T0 + 9 * 3600, now, 3600, &w));
	assert_int_equal(w.start, T0 + 8 * 3600); /* an hour before the checkpoint */
	assert_int_equal(w.end, now);
	assert_false(ax_window_next(now, now, 3600, &w)); /* caught up */
	/* backfilling with an overlap still moves forward, by 24 h less the overlap */
	assert_true(ax_window_next(T0, T0 + 5 * AX_DAY_S, 3600, &w));
	assert_int_equal(w.start, T0 - 3600);
	assert_int_equal(w.end, T0 + AX_DAY_S - 3600);
	assert_true(w.end > T0);
}

static void test_horizon_clamp(void **state)
{
	(void)state;
	int64_t now = T0 + 10 * AX_DAY_S;
	int64_t horizon = now - AX_HORIZON_S + AX_HORIZON_MARGIN_S;
	struct ax_window w;
	/* down for 10 days: what lies before the horizon is reported lost */
	assert_true(ax_window_next(T0, now, 3600, &w));
	assert_int_equal(w.lost_from, T0);
	assert_int_equal(w.lost_to, horizon);
	assert_int_equal(w.start, horizon); /* the overlap never reaches past the horizon */
	assert_int_equal(w.end, horizon + AX_DAY_S);
	/* just inside the horizon: nothing lost, the overlap is cut at it */
	assert_true(ax_window_next(horizon + 60, now, 3600, &w));
	assert_int_equal(w.lost_to, w.lost_from);
	assert_int_equal(w.start, horizon);
	/* a first run asking for more than 7 days starts at the horizon */
	assert_int_equal(ax_window_first_cursor(now, 30 * AX_DAY_S), horizon);
	assert_int_equal(ax_window_first_cursor(now, 0), now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_backfill_walks_24h_windows),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_horizon_clamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

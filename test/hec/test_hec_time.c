/* test_hec_time.c - the HEC "time" of an event, from CreationTime (O365:
 * no zone means UTC, space or T, optional fraction) or createdDateTime
 * (Graph: Z, up to 7 fractional digits); anything else falls back to the
 * time of sending. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outputs/splunk_hec/hec.h"

static void expect_time(const char *text, const char *want)
{
	char out[AX_HEC_TIME_LEN];
	if (!ax_hec_time(text, out))
		fail_msg("'%s' was not read as a time", text);
	if (strcmp(out, want) != 0)
		fail_msg("'%s' -> %s, expected %s", text, out, want);
}

static void test_o365_and_graph_forms(void **state)
{
	(void)state;
	expect_time("2024-01-01T10:00:00", "1704103200");      /* O365: no zone = UTC */
	expect_time("2024-01-01 10:00:00", "1704103200");      /* space instead of T */
	expect_time("2024-01-01t10:00:00z", "1704103200");
	expect_time("2024-01-01T10:00:00Z", "1704103200");     /* Graph */
	expect_time("2024-01-01T10:00:00.5", "1704103200.5");
	expect_time("2024-01-01T10:00:00.120Z", "1704103200.120");
	expect_time("2024-01-01T10:00:00.1234567Z", "1704103200.123456"); /* 7 digits: cut, not rounded */
	expect_time("2024-01-01T10:00:00.9999999Z", "1704103200.999999");
	expect_time("2022-12-12 15:57:57", "1670860677");
	expect_time("1970-01-01T00:00:00Z", "0");
	expect_time("2024-02-29T23:59:59", "1709251199");      /* leap day */
	expect_time("2016-12-31T23:59:60Z", "1483228800");     /* leap second: the next second */
}

static void test_offsets(void **state)
{
	(void)state;
	expect_time("2024-01-01T12:00:00+02:00", "1704103200");
	expect_time("2024-01-01T05:30:00-04:30", "1704103200");
	expect_time("2024-01-01T05:30:00-0430", "1704103200");
	expect_time("2024-01-01T11:00:00.25+01", "1704103200.25");
	expect_time("2024-01-01T00:00:00+10:00", "1704031200"); /* 2023-12-31T14:00:00Z */
}

/* Every 13th day from 1970 to 2199 against the C library's timegm. */
static void test_agrees_with_timegm(void **state)
{
	(void)state;
	for (time_t t = 0; t < 7258118400; t += 13 * 86400 + 3661) {
		struct tm tm;
		char text[40], want[32];
		gmtime_r(&t, &tm);
		strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want, sizeof(want), "%lld", (long long)timegm(&tm));
		expect_time(text, want);
	}
}

/* time() reads the kernel's coarse clock: it can lag CLOCK_REALTIME by a tick. */
static time_t realtime_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static void expect_fallback(const char *text)
{
	char out[AX_HEC_TIME_LEN];
	time_t before = realtime_sec();
	if (ax_hec_time(text, out))
		fail_msg("'%s' was read as %s; it is not a time", text ? text : "(null)", out);
	time_t after = realtime_sec();
	char *end;
	double t = strtod(out, &end);
	if (*end != '\0' || t < (double)before || t >= (double)after + 1)
		fail_msg("'%s': fallback %s is not the current time", text ? text : "(null)", out);
}

static void test_bad_times_fall_back_to_now(void **state)
{
	(void)state;
	const char *bad[] = {
		NULL, "", "garbage", "2024-01-01", "2024-01-01T10:00", "2024-13-01T10:00:00",
		"2024-00-10T10:00:00", "2023-02-29T10:00:00", "2100-02-29T10:00:00", "2024-04-31T10:00:00",
		"2024-01-01T24:00:00", "2024-01-01T10:60:00", "2024-01-01T10:00:61",
		"2024-01-01T10:00:00.", "2024-01-01T10:00:00Zjunk", "2024-01-01T10:00:00 ",
		" 2024-01-01T10:00:00", "2024-01-01X10:00:00", "2024-01-01T10:00:00+25:00",
		"2024-01-01T10:00:00+02:0", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01",
		"12024-01-01T10:00:00", "2024-1-01T10:00:00", "2024-01-01T10:00:00.12x",
		"1704103200", "Mon, 01 Jan 2024 10:00:00 GMT",
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++)
		expect_fallback(bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_o365_and_graph_forms),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_agrees_with_timegm),
		cmocka_unit_test(test_bad_times_fall_back_to_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

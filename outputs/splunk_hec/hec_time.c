/* The HEC "time" of an event: epoch seconds, sub-seconds after the point.
 *
 * The Management Activity API writes CreationTime without a zone
 * ("2024-01-01T10:00:00", UTC by its documentation), sometimes with
 * fractional seconds; Graph writes createdDateTime in ISO 8601 with "Z" and
 * up to 7 fractional digits. Both are read here without the C library's
 * time zone machinery; the fraction is copied digit by digit (at most 6:
 * Splunk keeps microseconds), never through a float. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hec.h"

#define MAX_FRACTION 6

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static long long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long long era = y / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD[T ]hh:mm:ss" → epoch seconds, before any zone. */
static bool date_time(const char **p, long long *secs)
{
	int y, mo, d, h, mi, s;
	if (!digits(p, 4, &y) || !expect(p, '-') || !digits(p, 2, &mo) || !expect(p, '-') ||
	    !digits(p, 2, &d))
		return false;
	if (**p != 'T' && **p != 't' && **p != ' ')
		return false;
	(*p)++;
	if (!digits(p, 2, &h) || !expect(p, ':') || !digits(p, 2, &mi) || !expect(p, ':') ||
	    !digits(p, 2, &s))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    s > 60) /* 60: a leap second */
		return false;
	*secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return true;
}

/* ".fffffff" → up to MAX_FRACTION digits in frac (NUL-terminated). */
static bool fraction(const char **p, char frac[MAX_FRACTION + 1])
{
	size_t n = 0;
	frac[0] = '\0';
	if (**p != '.' && **p != ',')
		return true;
	(*p)++;
	if (**p < '0' || **p > '9')
		return false;
	for (; **p >= '0' && **p <= '9'; (*p)++)
		if (n < MAX_FRACTION)
			frac[n++] = **p;
	frac[n] = '\0';
	return true;
}

/* "", "Z", "+hh:mm", "-hhmm", "+hh" → seconds east of UTC. */
static bool zone(const char **p, long long *offset)
{
	int h, m = 0;
	*offset = 0;
	if (**p == '\0')
		return true; /* no zone: UTC, as the Management Activity API means it */
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	int sign = **p == '+' ? 1 : **p == '-' ? -1 : 0;
	if (!sign)
		return false;
	(*p)++;
	if (!digits(p, 2, &h))
		return false;
	if (**p == ':')
		(*p)++;
	if (**p && !digits(p, 2, &m))
		return false;
	if (h > 23 || m > 59)
		return false;
	*offset = sign * (h * 3600LL + m * 60);
	return true;
}

static void now(char out[AX_HEC_TIME_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, AX_HEC_TIME_LEN, "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
}

bool ax_hec_time(const char *text, char out[AX_HEC_TIME_LEN])
{
	const char *p = text ? text : "";
	long long secs, offset;
	char frac[MAX_FRACTION + 1];
	if (!date_time(&p, &secs) || !fraction(&p, frac) || !zone(&p, &offset) || *p != '\0' ||
	    secs - offset < 0) {
		now(out);
		return false;
	}
	/* secs - offset >= 0: its digits, then ".frac" (snprintf cost more than the parse) */
	char digits_rev[24];
	size_t n = 0, at = 0;
	for (unsigned long long v = (unsigned long long)(secs - offset); n == 0 || v; v /= 10)
		digits_rev[n++] = (char)('0' + v % 10);
	while (n > 0 && at < AX_HEC_TIME_LEN - 1)
		out[at++] = digits_rev[--n];
	if (frac[0] && at < AX_HEC_TIME_LEN - 1)
		out[at++] = '.';
	for (size_t i = 0; frac[i] && at < AX_HEC_TIME_LEN - 1; i++)
		out[at++] = frac[i];
	out[at] = '\0';
	return true;
}

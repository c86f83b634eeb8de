#include "sources/window.h"

#include <stdio.h>
#include <time.h>

#include "civil.h"

/* Reads exactly n digits at *p. */
static bool digits(const char **p, const char *end, int n, int64_t *out)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (*p >= end || **p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

static bool expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* ".fffffff": up to 9 digits, kept to 100 ns. */
static bool fraction(const char **p, const char *end, int64_t *ticks)
{
	*ticks = 0;
	if (*p >= end || **p != '.')
		return true;
	(*p)++;
	int n = 0;
	int64_t scale = AX_TICKS_PER_SEC / 10;
	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, n++) {
		*ticks += (**p - '0') * scale;
		scale /= 10;
	}
	return n >= 1 && n <= 9;
}

/* "Z", "+HH:MM" or "-HH:MM": seconds to subtract to get UTC. */
static bool zone(const char **p, const char *end, int64_t *offset)
{
	int64_t h, m;
	*offset = 0;
	if (*p == end)
		return true;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	int sign = **p == '+' ? 1 : **p == '-' ? -1 : 0;
	if (!sign)
		return false;
	(*p)++;
	if (!digits(p, end, 2, &h) || !expect(p, end, ':') || !digits(p, end, 2, &m) || h > 23 || m > 59)
		return false;
	*offset = sign * (h * 3600 + m * 60);
	return true;
}

static bool clock_part(const char **p, const char *end, int64_t *secs, int64_t *frac)
{
	int64_t h = 0, mi = 0, s = 0;
	*secs = *frac = 0;
	if (*p == end || (**p != 'T' && **p != 't'))
		return true;
	(*p)++;
	if (!digits(p, end, 2, &h) || !expect(p, end, ':') || !digits(p, end, 2, &mi))
		return false;
	if (*p < end && **p == ':' && (!expect(p, end, ':') || !digits(p, end, 2, &s) || !fraction(p, end, frac)))
		return false;
	if (h > 23 || mi > 59 || s > 60)
		return false;
	*secs = h * 3600 + mi * 60 + s;
	return true;
}

bool ax_time_parse(const char *s, size_t len, int64_t *ticks)
{
	const char *p = s, *end = s + len;
	int64_t y, mo, d, secs, frac, offset;
	if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) ||
	    !expect(&p, end, '-') || !digits(&p, end, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	if (!clock_part(&p, end, &secs, &frac) || !zone(&p, end, &offset) || p != end)
		return false;
	int64_t epoch = ax_days_from_civil(y, mo, d) * AX_DAY_S + secs - offset;
	*ticks = epoch * AX_TICKS_PER_SEC + frac;
	return true;
}

static void split_utc(int64_t epoch_s, struct tm *tm)
{
	time_t t = (time_t)epoch_s;
	gmtime_r(&t, tm);
}

void ax_time_format_api(int64_t epoch_s, char out[20])
{
	struct tm tm;
	split_utc(epoch_s, &tm);
	strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
}

void ax_time_format_utc(int64_t epoch_s, char out[21])
{
	struct tm tm;
	split_utc(epoch_s, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ax_time_format_ticks(int64_t ticks, char out[29])
{
	int64_t secs = ticks / AX_TICKS_PER_SEC, frac = ticks % AX_TICKS_PER_SEC;
	if (frac < 0) {
		secs--;
		frac += AX_TICKS_PER_SEC;
	}
	char base[20];
	ax_time_format_api(secs, base);
	snprintf(out, 29, "%.19s.%07lldZ", base, (long long)frac);
}

bool ax_window_next(int64_t cursor, int64_t now, int64_t overlap, struct ax_window *w)
{
	int64_t horizon = now - AX_HORIZON_S + AX_HORIZON_MARGIN_S;
	w->lost_from = w->lost_to = 0;
	if (cursor < horizon) {
		w->lost_from = cursor;
		w->lost_to = horizon;
		cursor = horizon;
	}
	w->start = cursor - overlap > horizon ? cursor - overlap : horizon;
	w->end = w->start + AX_WINDOW_MAX_S < now ? w->start + AX_WINDOW_MAX_S : now;
	return w->end > cursor;
}

int64_t ax_window_first_cursor(int64_t now, int64_t backfill)
{
	int64_t horizon = now - AX_HORIZON_S + AX_HORIZON_MARGIN_S;
	return now - backfill > horizon ? now - backfill : horizon;
}

/* gen_records: the JSON writer's out-of-line parts, GUIDs and times. */
#include <stdarg.h>

#include "gen.h"

void gen_reserve(struct out *o, size_t n)
{
	if (o->len + n <= o->cap)
		return;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + n)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (!p) {
		fprintf(stderr, "gen_records: out of memory\n");
		exit(1);
	}
	o->p = p;
	o->cap = cap;
}

void gen_putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	gen_reserve(o, 256);
	for (;;) {
		size_t room = o->cap - o->len;
		va_start(ap, fmt);
		int n = vsnprintf(o->p + o->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			fprintf(stderr, "gen_records: bad format\n");
			exit(1);
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		gen_reserve(o, (size_t)n + 1);
	}
}

void gen_jstr(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	gen_reserve(o, 6 * n + 2); /* worst case: every byte a \u00XX escape */
	o->p[o->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			o->p[o->len++] = '\\';
			o->p[o->len++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			o->p[o->len++] = '\\';
			o->p[o->len++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20) {
			put(o, "\\u00", 4);
			o->p[o->len++] = hex[c >> 4];
			o->p[o->len++] = hex[c & 15];
		} else {
			o->p[o->len++] = (char)c;
		}
	}
	o->p[o->len++] = '"';
}

/* ---- identifiers and times ---- */

void gen_guid(struct rng *r, char dst[37])
{
	uint64_t a = rnd(r), b = rnd(r);
	snprintf(dst, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
		 (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000,
		 (unsigned long long)(b & 0xffffffffffffull));
}

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm). */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Management Activity API style: 2026-11-22T13:45:07; Graph: ...07.1234567Z */
void gen_fmt_time(char dst[32], int64_t ms, bool graph, struct rng *r)
{
	int64_t s = ms / 1000, days = s / 86400, sod = s % 86400;
	int y;
	unsigned mo, d;
	civil(days, &y, &mo, &d);
	int n = snprintf(dst, 32, "%04d-%02u-%02uT%02u:%02u:%02u", y, mo, d, (unsigned)(sod / 3600),
			 (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
	if (graph)
		snprintf(dst + n, (size_t)(32 - n), ".%03u%04uZ", (unsigned)(ms % 1000), below(r, 10000));
}

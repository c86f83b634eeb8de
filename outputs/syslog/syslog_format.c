/* syslog messages: RFC 5424 (header, timestamp, structured data) and
 * RFC 3164 headers, the payload, and RFC 6587 framing. */
#include "outputs/syslog/syslog_format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "outputs/syslog/syslog.h"

/* RFC 5424 §6: field length limits. */
#define HOSTNAME_MAX 255
#define APP_NAME_MAX 48
#define PROCID_MAX 128
#define MSGID_MAX 32
/* RFC 3164 §4.1.3: the TAG is at most 32 characters. */
#define TAG_MAX 32

int ax_syslog_pri(int facility, enum ax_severity severity)
{
	/* RFC 5424 §6.2.1 severities: 2 crit, 3 err, 4 warning, 5 notice, 6 info */
	static const int code[] = {
		[AX_SEV_INFORMATIONAL] = 6, [AX_SEV_LOW] = 5, [AX_SEV_MEDIUM] = 4,
		[AX_SEV_HIGH] = 3, [AX_SEV_CRITICAL] = 2,
	};
	int sev = (unsigned)severity <= AX_SEV_CRITICAL ? code[severity] : 6;
	return facility * 8 + sev;
}

static bool digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* ".123456789" → microseconds and how many digits the text had (max 6). */
static const char *fraction(const char *p, int32_t *usec, int *ndigits)
{
	*usec = 0;
	*ndigits = 0;
	if (*p != '.')
		return p;
	const char *d = ++p;
	for (; *p >= '0' && *p <= '9'; p++)
		if (p - d < 6)
			*usec = *usec * 10 + (*p - '0');
	*ndigits = p - d > 6 ? 6 : (int)(p - d);
	for (int i = *ndigits; i < 6; i++)
		*usec *= 10;
	return p == d ? NULL : p;
}

/* "", "Z", "+hh:mm", "-hhmm" → seconds east of UTC. */
static bool zone(const char *p, int *offset)
{
	int h, m;
	*offset = 0;
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
		return true;
	if ((*p != '+' && *p != '-') || !digits(p + 1, 2, &h))
		return false;
	const char *mm = p[3] == ':' ? p + 4 : p + 3;
	if (!digits(mm, 2, &m) || mm[2] != '\0' || h > 23 || m > 59)
		return false;
	*offset = (*p == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	return m == 2 && leap ? 29 : days[m - 1];
}

bool ax_syslog_parse_time(const char *t, int64_t *sec, int32_t *usec, int *frac_digits)
{
	int Y, M, D, h, m, s, offset;
	if (!(digits(t, 4, &Y) && t[4] == '-' && digits(t + 5, 2, &M) && t[7] == '-' &&
	      digits(t + 8, 2, &D) && (t[10] == 'T' || t[10] == 't' || t[10] == ' ') &&
	      digits(t + 11, 2, &h) && t[13] == ':' && digits(t + 14, 2, &m) && t[16] == ':' &&
	      digits(t + 17, 2, &s)))
		return false;
	const char *rest = fraction(t + 19, usec, frac_digits);
	if (!rest || !zone(rest, &offset) || M < 1 || M > 12 || h > 23 || m > 59 || s > 60)
		return false;
	if (D < 1 || D > days_in_month(Y, M)) /* 2023-02-30 is not a date */
		return false;
	*sec = ax_days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + (s > 59 ? 59 : s) - offset;
	return true;
}

void ax_syslog_event_init(struct ax_syslog_event *ev, const struct ax_record *r, int64_t now_ms)
{
	ev->r = r;
	if (!ax_syslog_parse_time(r->creation_time, &ev->sec, &ev->usec, &ev->frac_digits)) {
		ev->sec = now_ms / 1000;
		ev->usec = (int32_t)(now_ms % 1000) * 1000;
		ev->frac_digits = 3;
	}
	const char *rule = r->rule ? r->rule : "";
	size_t n = strnlen(rule, sizeof(ev->rule) - 1);
	memcpy(ev->rule, rule, n);
	ev->rule[n] = '\0';
}

/* n as width digits, zero-padded (n < 10^width). */
static char *put_digits(char *p, unsigned n, int width)
{
	for (int i = width - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
	return p + width;
}

void ax_syslog_utc(int64_t sec, struct ax_syslog_utc *t)
{
	int64_t days = sec / 86400, rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	ax_civil_from_days(days, &t->year, &t->month, &t->day);
	t->hour = (int)(rem / 3600);
	t->min = (int)(rem / 60 % 60);
	t->sec = (int)(rem % 60);
}

/* YYYY-MM-DDThh:mm:ss[.frac]Z, digit by digit: this runs for every message. */
static ax_err add_rfc3339(struct ax_buf *out, const struct ax_syslog_event *ev)
{
	struct ax_syslog_utc t;
	ax_syslog_utc(ev->sec, &t);
	int nfrac = ev->frac_digits > 6 ? 6 : ev->frac_digits > 0 ? ev->frac_digits : 0;
	char frac[8] = ".";
	put_digits(frac + 1, (unsigned)ev->usec % 1000000u, 6);
	if (t.year < 0 || t.year > 9999) /* not from a 4-digit year: as printf writes it */
		return ax_buf_addf(out, "%04lld-%02d-%02dT%02d:%02d:%02d%.*sZ", (long long)t.year, t.month,
				   t.day, t.hour, t.min, t.sec, nfrac ? nfrac + 1 : 0, frac);
	ax_err err = ax_buf_reserve(out, 28);
	if (err)
		return err;
	char *p = out->data + out->len;
	p = put_digits(p, (unsigned)t.year, 4);
	*p++ = '-';
	p = put_digits(p, (unsigned)t.month, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned)t.day, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)t.hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)t.min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)t.sec, 2);
	if (nfrac) {
		memcpy(p, frac, (size_t)nfrac + 1);
		p += nfrac + 1;
	}
	*p++ = 'Z';
	out->len = (size_t)(p - out->data);
	return AX_OK;
}

ax_err ax_syslog_add_controls(struct ax_buf *out, const struct ax_record *r, enum ax_syslog_escape how)
{
	ax_err err = AX_OK;
	for (size_t i = 0; i < r->ncontrols && !err; i++) {
		if (i)
			err = ax_buf_addc(out, ',');
		if (!err)
			err = ax_syslog_escape(out, r->controls[i], how);
	}
	return err;
}

static ax_err add_param(struct ax_buf *out, const char *name, const char *value)
{
	if (!value[0])
		return AX_OK;
	ax_err err = ax_buf_addc(out, ' ');
	err = err ? err : ax_buf_adds(out, name);
	err = err ? err : ax_buf_add(out, "=\"", 2);
	if (!err)
		err = ax_syslog_escape(out, value, AX_ESC_SD_VALUE);
	return err ? err : ax_buf_addc(out, '"');
}

/* [SD-ID controls="8.2,5.18" category="..." severity="..." rule="..."] */
static ax_err add_structured_data(struct ax_buf *out, const struct ax_syslog_style *s,
				  const struct ax_syslog_event *ev)
{
	const struct ax_record *r = ev->r;
	ax_err err = ax_buf_addc(out, '[');
	err = err ? err : ax_buf_adds(out, s->sd_id);
	if (!err && r->ncontrols) {
		err = ax_buf_adds(out, " controls=\"");
		err = err ? err : ax_syslog_add_controls(out, r, AX_ESC_SD_VALUE);
		err = err ? err : ax_buf_addc(out, '"');
	}
	err = err ? err : add_param(out, "category", r->category);
	if (!err && (unsigned)r->severity <= AX_SEV_CRITICAL)
		err = add_param(out, "severity", ax_severity_names[r->severity]);
	err = err ? err : add_param(out, "rule", ev->rule);
	return err ? err : ax_buf_addc(out, ']');
}

/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] */
static ax_err header_5424(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			  struct ax_buf *out)
{
	ax_err err = ax_buf_addc(out, '<');
	err = err ? err : ax_buf_add_u64(out, (unsigned)ax_syslog_pri(s->facility, ev->r->severity));
	err = err ? err : ax_buf_add(out, ">1 ", 3);
	err = err ? err : add_rfc3339(out, ev);
	err = err ? err : ax_buf_addc(out, ' ');
	err = err ? err : ax_syslog_header_field(out, s->hostname, HOSTNAME_MAX);
	err = err ? err : ax_buf_addc(out, ' ');
	err = err ? err : ax_syslog_header_field(out, s->app_name, APP_NAME_MAX);
	err = err ? err : ax_buf_addc(out, ' ');
	err = err ? err : ax_syslog_header_field(out, s->procid, PROCID_MAX);
	err = err ? err : ax_buf_addc(out, ' ');
	err = err ? err : ax_syslog_header_field(out, ev->r->workload, MSGID_MAX);
	err = err ? err : ax_buf_addc(out, ' ');
	err = err ? err : add_structured_data(out, s, ev);
	return err ? err : ax_buf_addc(out, ' ');
}

/* <PRI>Mmm dd hh:mm:ss HOST TAG: with the time in the agent's time zone,
 * as RFC 3164 receivers expect. */
static ax_err header_3164(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			  struct ax_buf *out)
{
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t t = (time_t)ev->sec;
	if (!localtime_r(&t, &tm))
		return AX_ERR_IO;
	ax_err err = ax_buf_addf(out, "<%d>%s %2d %02d:%02d:%02d ", ax_syslog_pri(s->facility, ev->r->severity),
				 months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	err = err ? err : ax_syslog_header_field(out, s->hostname, HOSTNAME_MAX);
	err = err ? err : ax_buf_addc(out, ' ');
	err = err ? err : ax_syslog_header_field(out, s->app_name, TAG_MAX);
	return err ? err : ax_buf_adds(out, ": ");
}

ax_err ax_syslog_header(const struct ax_syslog_style *s, const struct ax_syslog_event *ev, struct ax_buf *out)
{
	return s->format == SYSLOG_RFC3164 ? header_3164(s, ev, out) : header_5424(s, ev, out);
}

ax_err ax_syslog_message(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			 struct ax_buf *out, size_t *msg_start)
{
	ax_err err = ax_syslog_header(s, ev, out);
	if (err)
		return err;
	*msg_start = out->len;
	switch (s->payload) {
	case SYSLOG_CEF:
		return ax_syslog_payload_cef(s, ev, out);
	case SYSLOG_LEEF:
		return ax_syslog_payload_leef(s, ev, out);
	default:
		return ax_buf_add(out, ev->r->json, ev->r->len);
	}
}

ax_err ax_syslog_frame(int framing, struct ax_buf *out, const char *msg, size_t len)
{
	if (framing == SYSLOG_OCTET_COUNTING) {
		ax_err err = ax_buf_add_u64(out, len);
		err = err ? err : ax_buf_addc(out, ' ');
		return err ? err : ax_buf_add(out, msg, len);
	}
	size_t start = out->len;
	ax_err err = ax_buf_add(out, msg, len);
	if (err)
		return err;
	for (char *p = out->data + start; (p = memchr(p, '\n', (size_t)(out->data + out->len - p)));)
		*p = ' ';
	return ax_buf_addc(out, '\n');
}

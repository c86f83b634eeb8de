/* test_syslog_format.c - the syslog formatters with fixed vectors: PRI,
 * event times, RFC 5424 header and structured data, RFC 3164, CEF, LEEF,
 * RFC 6587 framing, and hostile field values that must not add a line,
 * break a CEF/LEEF field or close the SD element. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outputs/syslog/syslog.h"
#include "outputs/syslog/syslog_format.h"

#define NOW_MS 1704164645678LL /* 2024-01-02T03:04:05.678Z */
#define FFFD "\xEF\xBF\xBD"

#define JSON \
	"{\"Id\":\"rec-1\",\"iso27001\":{\"edition\":\"2022\",\"controls\":[\"8.2\",\"5.18\"]," \
	"\"category\":\"privileged_access\",\"severity\":\"high\",\"rule\":\"PRIV-001\"," \
	"\"rules\":[\"PRIV-001\"]},\"annexa\":{\"source\":\"replay\"}}"

static const char *const two_controls[] = { "8.2", "5.18" };

static struct ax_record record(void)
{
	return (struct ax_record){
		.json = JSON, .len = strlen(JSON), .id = "rec-1",
		.creation_time = "2022-12-12T15:57:57.1234567Z", .workload = "AzureActiveDirectory",
		.operation = "Add member to role.", .user = "admin@contoso.com",
		.client_ip = "203.0.113.9", .category = "privileged_access", .rule = "PRIV-001", .severity = AX_SEV_HIGH,
		.controls = two_controls, .ncontrols = 2, .source = "replay",
		.content_type = "Audit.AzureActiveDirectory", .tenant = "t-1",
	};
}

static struct ax_syslog_style style(int format, int payload)
{
	return (struct ax_syslog_style){
		.format = format, .payload = payload, .facility = 16, .hostname = "fwd-1",
		.app_name = "annexa", .procid = "4711", .sd_id = "iso27001@32473", .version = "0.1.0",
	};
}

/* The whole message; *msg is where its MSG part starts. Free the result. */
static char *format(const struct ax_syslog_style *s, const struct ax_record *r, const char **msg)
{
	struct ax_buf b;
	struct ax_syslog_event ev;
	size_t start;
	ax_buf_init(&b, 1 << 20);
	ax_syslog_event_init(&ev, r, NOW_MS);
	assert_int_equal(ax_syslog_message(s, &ev, &b, &start), AX_OK);
	assert_int_equal(ax_buf_cstr(&b), AX_OK);
	if (msg)
		*msg = b.data + start;
	return b.data;
}

static void assert_format(const struct ax_syslog_style *s, const struct ax_record *r, const char *want)
{
	char *got = format(s, r, NULL);
	assert_string_equal(got, want);
	free(got);
}

static void test_pri(void **state)
{
	(void)state;
	assert_int_equal(ax_syslog_pri(16, AX_SEV_CRITICAL), 130);
	assert_int_equal(ax_syslog_pri(16, AX_SEV_HIGH), 131);
	assert_int_equal(ax_syslog_pri(16, AX_SEV_MEDIUM), 132);
	assert_int_equal(ax_syslog_pri(16, AX_SEV_LOW), 133);
	assert_int_equal(ax_syslog_pri(16, AX_SEV_INFORMATIONAL), 134);
	assert_int_equal(ax_syslog_pri(0, AX_SEV_CRITICAL), 2);
	assert_int_equal(ax_syslog_pri(23, AX_SEV_INFORMATIONAL), 190);
	assert_int_equal(ax_syslog_pri(4, (enum ax_severity)42), 38); /* out of range: info */
}

static void test_parse_time(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t sec;
		int32_t usec;
		int digits;
	} good[] = {
		{ "2022-12-12 15:57:57", 1670860677, 0, 0 },
		{ "2022-12-12T15:57:57", 1670860677, 0, 0 },
		{ "2022-12-12T15:57:57Z", 1670860677, 0, 0 },
		{ "2022-12-12T15:57:57.5Z", 1670860677, 500000, 1 },
		{ "2022-12-12T15:57:57.1234567Z", 1670860677, 123456, 6 },
		{ "2022-12-12T17:57:57.12+02:00", 1670860677, 120000, 2 },
		{ "2022-12-12T14:57:57-0100", 1670860677, 0, 0 },
		{ "2024-02-29T00:00:00Z", 1709164800, 0, 0 },
	};
	static const char *const bad[] = {
		"", "garbage", "2022-12-12", "2022-12-12T15:57", "2022-12-12T15:57:57.Z",
		"2022-12-12T15:57:57X", "2022-13-01T00:00:00", "2023-02-29T00:00:00",
		"2022-12-12T24:00:00", "2022-12-12T15:57:57+2", "2022-12-12T15:57:57Z ",
		"2022-1a-12T15:57:57",
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(good); i++) {
		int64_t sec;
		int32_t usec;
		int digits;
		if (!ax_syslog_parse_time(good[i].text, &sec, &usec, &digits))
			fail_msg("'%s' did not parse", good[i].text);
		assert_int_equal(sec, good[i].sec);
		assert_int_equal(usec, good[i].usec);
		assert_int_equal(digits, good[i].digits);
	}
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++) {
		int64_t sec;
		int32_t usec;
		int digits;
		if (ax_syslog_parse_time(bad[i], &sec, &usec, &digits))
			fail_msg("'%s' parsed", bad[i]);
	}
}

/* The date arithmetic that replaced timegm and gmtime_r gives what they
 * give: every day of years 0000..9999 (and the day around them), each
 * month's days 0..32, and the timestamps the RFC 5424 header prints. */
static void test_dates_as_libc(void **state)
{
	(void)state;
	for (int64_t day = -719530; day <= 2932900; day += 1) {
		int64_t sec = day * 86400 + (day * 7919) % 86400;
		struct tm tm;
		time_t t = (time_t)sec;
		struct ax_syslog_utc u;
		assert_non_null(gmtime_r(&t, &tm));
		ax_syslog_utc(sec, &u);
		if (u.year != tm.tm_year + 1900 || u.month != tm.tm_mon + 1 || u.day != tm.tm_mday ||
		    u.hour != tm.tm_hour || u.min != tm.tm_min || u.sec != tm.tm_sec)
			fail_msg("day %lld: %lld-%d-%d %d:%d:%d", (long long)day, (long long)u.year, u.month, u.day,
				 u.hour, u.min, u.sec);
	}
	for (int y = 0; y <= 9999; y += (y < 2200 ? 1 : 37)) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 0; d <= 32; d++) {
				char text[40];
				snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.25+01:30", y, m, d, d % 24,
					 (d * 7) % 60, d == 31 ? 60 : d);
				struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = d % 24,
						 .tm_min = (d * 7) % 60, .tm_sec = d == 31 ? 59 : d };
				time_t want = timegm(&tm);
				bool valid = tm.tm_mday == d && tm.tm_mon == m - 1;
				int64_t sec;
				int32_t usec;
				int digits;
				bool ok = ax_syslog_parse_time(text, &sec, &usec, &digits);
				if (ok != valid || (ok && sec != (int64_t)want - 5400))
					fail_msg("%s: %s", text, ok ? "wrong seconds" : "refused");
			}
		}
	}
	/* the header's timestamp, fractions and all, as printf wrote it */
	static const char *const times[] = {
		"0000-01-01T00:00:00Z", "1969-12-31T23:59:59.9Z", "1970-01-01T00:00:00.000001Z",
		"2000-02-29T12:34:56.123Z", "9999-12-31T23:59:59.999999Z", "2022-12-12T15:57:57.1234567Z",
	};
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(times); i++) {
		struct ax_record r = record();
		r.creation_time = times[i];
		char *got = format(&s, &r, NULL);
		struct ax_syslog_event ev;
		ax_syslog_event_init(&ev, &r, NOW_MS);
		struct tm tm;
		time_t t = (time_t)ev.sec;
		char frac[8] = "", want[80];
		assert_non_null(gmtime_r(&t, &tm));
		if (ev.frac_digits > 0)
			snprintf(frac, sizeof(frac), ".%06d", (int)ev.usec);
		frac[ev.frac_digits > 0 ? ev.frac_digits + 1 : 0] = '\0';
		snprintf(want, sizeof(want), "<131>1 %04d-%02d-%02dT%02d:%02d:%02d%sZ fwd-1 ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		assert_contains(got, want);
		free(got);
	}
}

static void test_rfc5424(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	struct ax_record r = record();
	assert_format(&s, &r,
		      "<131>1 2022-12-12T15:57:57.123456Z fwd-1 annexa 4711 AzureActiveDirectory "
		      "[iso27001@32473 controls=\"8.2,5.18\" category=\"privileged_access\" severity=\"high\" rule=\"PRIV-001\"] " JSON);
	r.creation_time = "2020-07-29T10:28:45+02:00";
	r.severity = AX_SEV_LOW;
	r.workload = "";
	assert_format(&s, &r,
		      "<133>1 2020-07-29T08:28:45Z fwd-1 annexa 4711 - "
		      "[iso27001@32473 controls=\"8.2,5.18\" category=\"privileged_access\" severity=\"low\" rule=\"PRIV-001\"] " JSON);
}

static void test_time_falls_back_to_now(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	struct ax_record r = record();
	r.creation_time = "yesterday";
	char *got = format(&s, &r, NULL);
	assert_contains(got, "<131>1 2024-01-02T03:04:05.678Z fwd-1 ");
	free(got);
}

/* Header fields: PRINTUSASCII only, lengths capped (RFC 5424 §6). */
static void test_header_fields(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	struct ax_record r = record();
	char host[300];
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	s.hostname = host;
	s.app_name = "an nexa\xc3\xa9";
	r.workload = "Exchange Online\n<13>1 fake-header-that-is-long";
	char *got = format(&s, &r, NULL);
	char want[400];
	snprintf(want, sizeof(want), "<131>1 2022-12-12T15:57:57.123456Z %.255s an_nexa__ 4711 Exchange_Online_<13>1_fake-heade [", host);
	assert_contains(got, want);
	free(got);
}

/* Walks "[ID PARAM=\"VALUE\"...]" per RFC 5424 §6.3: returns the byte after
 * the element's closing ']' and checks every PARAM-VALUE is well formed. */
static const char *sd_end(const char *p)
{
	assert_int_equal(*p, '[');
	for (p++; *p && *p != ']';) {
		if (*p++ != '"')
			continue;
		for (; *p != '"'; p++) {
			assert_true(*p != '\0' && *p != '\n' && *p != '\r');
			assert_true(*p != ']'); /* an unescaped ']' would close the element */
			if (*p == '\\' && strchr("\"\\]", p[1]))
				p++;
		}
		p++;
	}
	assert_int_equal(*p, ']');
	return p + 1;
}

static void test_sd_escaping(void **state)
{
	(void)state;
	static const char *const hostile_controls[] = { "8.2\"] [evil@1 x=\"y", "5.18\\" };
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	struct ax_record r = record();
	r.category = "a\"b\\c]d\ne\rf\tg\x01h\xffi\xc2\x85j";
	r.controls = hostile_controls;
	const char *msg;
	char *got = format(&s, &r, &msg);
	assert_contains(got, " controls=\"8.2\\\"\\] [evil@1 x=\\\"y,5.18\\\\\"");
	assert_contains(got, " category=\"a\\\"b\\\\c\\]d e f g h" FFFD "i j\"");
	const char *after = sd_end(strchr(got, '['));
	assert_ptr_equal(after + 1, msg);
	assert_string_equal(msg, JSON);
	assert_null(strchr(got, '\n'));
	free(got);
}

static void test_sd_without_rule(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	struct ax_record r = record();
	r.json = "{\"Id\":\"x\"}";
	r.len = strlen(r.json);
	r.category = "";
	r.rule = "";
	char *got = format(&s, &r, NULL);
	assert_contains(got, "[iso27001@32473 controls=\"8.2,5.18\" severity=\"high\"] {\"Id\":\"x\"}");
	free(got);
}

/* The rule comes from the record's metadata, escaped as a PARAM-VALUE. */
static void test_rule_escaped(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_JSON);
	struct ax_record r = record();
	r.rule = "AUTH-\"002";
	char *got = format(&s, &r, NULL);
	assert_contains(got, " rule=\"AUTH-\\\"002\"]");
	free(got);
}

static void test_rfc3164(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC3164, SYSLOG_JSON);
	struct ax_record r = record();
	assert_format(&s, &r, "<131>Dec 12 15:57:57 fwd-1 annexa: " JSON);
	r.creation_time = "2023-01-05T08:09:10Z";
	r.severity = AX_SEV_CRITICAL;
	s.app_name = "a-very-long-application-name-that-exceeds-32";
	assert_format(&s, &r, "<130>Jan  5 08:09:10 fwd-1 a-very-long-application-name-tha: " JSON);
}

static void test_cef(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_CEF);
	struct ax_record r = record();
	const char *msg;
	char *got = format(&s, &r, &msg);
	assert_string_equal(msg,
		"CEF:0|annexa|annexa|0.1.0|PRIV-001|Add member to role.|8|rt=1670860677123 externalId=rec-1 "
		"cs1Label=iso27001Controls cs1=8.2,5.18 cs2Label=iso27001Severity cs2=high cat=privileged_access "
		"act=Add member to role. suser=admin@contoso.com src=203.0.113.9 "
		"destinationServiceName=AzureActiveDirectory cs3Label=tenant cs3=t-1 "
		"cs4Label=contentType cs4=Audit.AzureActiveDirectory");
	free(got);
}

/* Splits a CEF message's header on unescaped '|': the count of fields. */
static int cef_header_fields(const char *msg, const char **ext)
{
	int n = 0;
	for (const char *p = msg; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '|' && ++n == 7) {
			*ext = p + 1;
			return n + 1;
		}
	}
	return n + 1;
}

/* Counts the extension's key=value pairs: a pair starts at an unescaped
 * '=' whose key is the word just before it. */
static int cef_pairs(const char *ext)
{
	int n = 0;
	for (const char *p = ext; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '=')
			n++;
	}
	return n;
}

static void test_cef_hostile(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_CEF);
	struct ax_record r = record();
	r.operation = "Set|x\\y\nz=1";
	r.user = "a=b\tc\rd\xff\xc2\x85|";
	r.client_ip = "not an ip|x=y";
	const char *msg, *ext = NULL;
	char *got = format(&s, &r, &msg);
	assert_contains(msg, "|PRIV-001|Set\\|x\\\\y z=1|8|");
	assert_contains(msg, " act=Set|x\\\\y\\nz\\=1 ");
	assert_contains(msg, " suser=a\\=b c\\rd" FFFD " | ");
	assert_contains(msg, " cs5Label=clientIP cs5=not an ip|x\\=y ");
	assert_not_contains(msg, " src=");
	assert_int_equal(cef_header_fields(msg, &ext), 8);
	assert_non_null(ext);
	assert_int_equal(cef_pairs(ext), 16); /* the 15 keys of test_cef, cs5Label + cs5 for src */
	assert_null(strpbrk(got, "\n\r\t"));
	free(got);
}

static void test_client_ip_forms(void **state)
{
	(void)state;
	static const struct {
		const char *in, *src;
	} v[] = {
		{ "1.2.3.4:5678", "src=1.2.3.4 " },
		{ "[2001:db8::1]:443", "src=2001:db8::1 " },
		{ "2001:db8::1", "src=2001:db8::1 " },
		{ "::ffff:10.0.0.1", "src=::ffff:10.0.0.1 " },
		{ "1.2.3", "cs5=1.2.3 " },
	};
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_CEF);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(v); i++) {
		struct ax_record r = record();
		r.client_ip = v[i].in;
		char *got = format(&s, &r, NULL);
		assert_contains(got, v[i].src);
		free(got);
	}
}

static void test_leef(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC3164, SYSLOG_LEEF);
	struct ax_record r = record();
	const char *msg;
	char *got = format(&s, &r, &msg);
	assert_string_equal(msg,
		"LEEF:2.0|annexa|annexa|0.1.0|Add member to role.|x09|"
		"devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ\tdevTime=2022-12-12T15:57:57.123+0000\t"
		"cat=privileged_access\tsev=8\tisoControls=8.2,5.18\tisoSeverity=high\tisoRule=PRIV-001\t"
		"usrName=admin@contoso.com\tsrc=203.0.113.9\tworkload=AzureActiveDirectory\ttenant=t-1\t"
		"contentType=Audit.AzureActiveDirectory\trecordId=rec-1");
	free(got);
}

static void test_leef_hostile(void **state)
{
	(void)state;
	struct ax_syslog_style s = style(SYSLOG_RFC5424, SYSLOG_LEEF);
	struct ax_record r = record();
	r.operation = "Op|with\\pipe\tand\nlines";
	r.user = "tab\there\nnew\rline=eq|p\xc0\xaf";
	r.client_ip = "";
	const char *msg;
	char *got = format(&s, &r, &msg);
	assert_contains(msg, "|Op\\|with\\\\pipe and lines|x09|");
	assert_contains(msg, "\tusrName=tab here new line=eq|p" FFFD FFFD "\t");
	assert_not_contains(msg, "src=");
	assert_not_contains(msg, "clientIP=");
	size_t tabs = 0;
	for (const char *p = msg; *p; p++)
		tabs += *p == '\t';
	assert_int_equal(tabs, 11); /* 12 attributes */
	assert_null(strpbrk(got, "\n\r"));
	free(got);
}

static void test_framing(void **state)
{
	(void)state;
	struct ax_buf b;
	ax_buf_init(&b, 1024);
	assert_int_equal(ax_syslog_frame(SYSLOG_OCTET_COUNTING, &b, "hello\nworld", 11), AX_OK);
	assert_int_equal(ax_syslog_frame(SYSLOG_OCTET_COUNTING, &b, "x", 1), AX_OK);
	assert_int_equal(ax_buf_cstr(&b), AX_OK);
	assert_string_equal(b.data, "11 hello\nworld1 x");
	ax_buf_clear(&b);
	assert_int_equal(ax_syslog_frame(SYSLOG_LF, &b, "{\"a\":\n1}\n", 9), AX_OK);
	assert_int_equal(ax_syslog_frame(SYSLOG_LF, &b, "b", 1), AX_OK);
	assert_int_equal(ax_buf_cstr(&b), AX_OK);
	assert_string_equal(b.data, "{\"a\": 1} \nb\n");
	ax_buf_finish(&b);
}

static void test_utf8_cut(void **state)
{
	(void)state;
	const char *s = "a\xc3\xa9z\xf0\x9f\x94\x92"; /* a é z 🔒 */
	assert_int_equal(ax_syslog_utf8_cut(s, 8, 100), 8);
	assert_int_equal(ax_syslog_utf8_cut(s, 8, 1), 1);
	assert_int_equal(ax_syslog_utf8_cut(s, 8, 2), 1);
	assert_int_equal(ax_syslog_utf8_cut(s, 8, 3), 3);
	assert_int_equal(ax_syslog_utf8_cut(s, 8, 6), 4);
	assert_int_equal(ax_syslog_utf8_cut(s, 8, 7), 4);
	assert_int_equal(ax_syslog_utf8_cut("abc", 3, 0), 0);
}

static void test_escape_contexts(void **state)
{
	(void)state;
	static const struct {
		enum ax_syslog_escape how;
		const char *in, *out;
	} v[] = {
		{ AX_ESC_SD_VALUE, "q\"b\\r]|=", "q\\\"b\\\\r\\]|=" },
		{ AX_ESC_CEF_HEADER, "p|b\\e=\n", "p\\|b\\\\e= " },
		{ AX_ESC_CEF_VALUE, "p|b\\e=\n\r\t", "p|b\\\\e\\=\\n\\r " },
		{ AX_ESC_LEEF_HEADER, "p|b\\e=\t", "p\\|b\\\\e= " },
		{ AX_ESC_LEEF_VALUE, "p|b\\e=\t\n\x7f", "p|b\\e=   " },
		/* overlong, surrogate, above U+10FFFF, truncated sequence */
		{ AX_ESC_SD_VALUE, "\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82", FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD },
		{ AX_ESC_SD_VALUE, "ok \xe2\x82\xac \xf0\x9f\x94\x92", "ok \xe2\x82\xac \xf0\x9f\x94\x92" },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(v); i++) {
		struct ax_buf b;
		ax_buf_init(&b, 1024);
		assert_int_equal(ax_syslog_escape(&b, v[i].in, v[i].how), AX_OK);
		assert_int_equal(ax_buf_cstr(&b), AX_OK);
		assert_string_equal(b.data, v[i].out);
		ax_buf_finish(&b);
	}
}

int main(void)
{
	setenv("TZ", "UTC", 1); /* RFC 3164 times are local */
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pri),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_dates_as_libc),
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_time_falls_back_to_now),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_sd_escaping),
		cmocka_unit_test(test_sd_without_rule),
		cmocka_unit_test(test_rule_escaped),
		cmocka_unit_test(test_rfc3164),
		cmocka_unit_test(test_cef),
		cmocka_unit_test(test_cef_hostile),
		cmocka_unit_test(test_client_ip_forms),
		cmocka_unit_test(test_leef),
		cmocka_unit_test(test_leef_hostile),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_escape_contexts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* CEF and LEEF payloads of an enriched record.
 *
 * Where each field goes (also in outputs/syslog/README.md); empty fields
 * are left out:
 *
 *   record                  CEF (ArcSight CEF rev. 25)        LEEF 2.0 (QRadar)
 *   iso27001.rule           header Signature ID               isoRule
 *   Operation               header Name, act                  header EventID
 *   iso27001.severity       header Severity 1/3/5/8/10,       sev 1/3/5/8/10,
 *                           cs2=word (cs2Label=iso27001Severity) isoSeverity=word
 *   iso27001.controls       cs1 (cs1Label=iso27001Controls)   isoControls
 *   iso27001.category       cat                               cat
 *   UserId                  suser                             usrName
 *   ClientIP (an address)   src                               src
 *   ClientIP (otherwise)    cs5 (cs5Label=clientIP)           clientIP
 *   Workload                destinationServiceName            workload
 *   tenant                  cs3 (cs3Label=tenant)             tenant
 *   content type            cs4 (cs4Label=contentType)        contentType
 *   Id                      externalId                        recordId
 *   event time              rt (epoch milliseconds)           devTime (+ devTimeFormat)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "outputs/syslog/syslog_format.h"

static int severity_1_to_10(enum ax_severity severity)
{
	static const int n[] = {
		[AX_SEV_INFORMATIONAL] = 1, [AX_SEV_LOW] = 3, [AX_SEV_MEDIUM] = 5,
		[AX_SEV_HIGH] = 8, [AX_SEV_CRITICAL] = 10,
	};
	return (unsigned)severity <= AX_SEV_CRITICAL ? n[severity] : 1;
}

static const char *severity_word(enum ax_severity severity)
{
	return (unsigned)severity <= AX_SEV_CRITICAL ? ax_severity_names[severity] : "";
}

/* "1.2.3.4", "1.2.3.4:443", "2001:db8::1" or "[2001:db8::1]:443" → the
 * address alone; false when text holds no IP address. */
static bool client_address(const char *text, char *out, size_t len)
{
	unsigned char bin[16];
	const char *start = text, *end = text + strlen(text);
	if (text[0] == '[' && strchr(text, ']')) {
		start = text + 1;
		end = strchr(text, ']');
	} else if (strchr(text, ':') && strchr(text, ':') == strrchr(text, ':')) {
		end = strchr(text, ':'); /* IPv4:port */
	}
	size_t n = (size_t)(end - start);
	if (n == 0 || n >= len)
		return false;
	memcpy(out, start, n);
	out[n] = '\0';
	return inet_pton(AF_INET, out, bin) == 1 || inet_pton(AF_INET6, out, bin) == 1;
}

static const char *event_name(const struct ax_record *r)
{
	return r->operation[0] ? r->operation : r->category[0] ? r->category : "event";
}

/* ---- CEF ---- */

/* Starts " key=" (no space before the first pair of the extension). */
static ax_err cef_key(struct ax_buf *out, size_t ext_start, const char *key)
{
	return ax_buf_addf(out, "%s%s=", out->len == ext_start ? "" : " ", key);
}

static ax_err cef_pair(struct ax_buf *out, size_t ext_start, const char *key, const char *value)
{
	if (!value[0])
		return AX_OK;
	ax_err err = cef_key(out, ext_start, key);
	return err ? err : ax_syslog_escape(out, value, AX_ESC_CEF_VALUE);
}

/* csN with its label, as ArcSight custom strings come. */
static ax_err cef_custom(struct ax_buf *out, size_t ext_start, int n, const char *label,
			 const char *value)
{
	if (!value[0])
		return AX_OK;
	char key[8];
	snprintf(key, sizeof(key), "cs%d", n);
	ax_err err = ax_buf_addf(out, "%s%sLabel=%s", out->len == ext_start ? "" : " ", key, label);
	return err ? err : cef_pair(out, ext_start, key, value);
}

static ax_err cef_header(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			 struct ax_buf *out)
{
	ax_err err = ax_buf_adds(out, "CEF:0|annexa|annexa|");
	err = err ? err : ax_syslog_escape(out, s->version, AX_ESC_CEF_HEADER);
	err = err ? err : ax_buf_addc(out, '|');
	err = err ? err : ax_syslog_escape(out, ev->rule[0] ? ev->rule : "none", AX_ESC_CEF_HEADER);
	err = err ? err : ax_buf_addc(out, '|');
	err = err ? err : ax_syslog_escape(out, event_name(ev->r), AX_ESC_CEF_HEADER);
	return err ? err : ax_buf_addf(out, "|%d|", severity_1_to_10(ev->r->severity));
}

static ax_err cef_iso(const struct ax_syslog_event *ev, struct ax_buf *out, size_t ext)
{
	const struct ax_record *r = ev->r;
	ax_err err = AX_OK;
	if (r->ncontrols) {
		err = ax_buf_addf(out, "%scs1Label=iso27001Controls", out->len == ext ? "" : " ");
		err = err ? err : cef_key(out, ext, "cs1");
		err = err ? err : ax_syslog_add_controls(out, r, AX_ESC_CEF_VALUE);
	}
	err = err ? err : cef_custom(out, ext, 2, "iso27001Severity", severity_word(r->severity));
	return err ? err : cef_pair(out, ext, "cat", r->category);
}

ax_err ax_syslog_payload_cef(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			     struct ax_buf *out)
{
	const struct ax_record *r = ev->r;
	char ip[64];
	bool is_ip = client_address(r->client_ip, ip, sizeof(ip));
	ax_err err = cef_header(s, ev, out);
	size_t ext = out->len;
	err = err ? err : ax_buf_addf(out, "rt=%lld", (long long)ev->sec * 1000 + ev->usec / 1000);
	err = err ? err : cef_pair(out, ext, "externalId", r->id);
	err = err ? err : cef_iso(ev, out, ext);
	err = err ? err : cef_pair(out, ext, "act", r->operation);
	err = err ? err : cef_pair(out, ext, "suser", r->user);
	err = err ? err : cef_pair(out, ext, "src", is_ip ? ip : "");
	err = err ? err : cef_custom(out, ext, 5, "clientIP", is_ip ? "" : r->client_ip);
	err = err ? err : cef_pair(out, ext, "destinationServiceName", r->workload);
	err = err ? err : cef_custom(out, ext, 3, "tenant", r->tenant);
	return err ? err : cef_custom(out, ext, 4, "contentType", r->content_type);
}

/* ---- LEEF ---- */

static ax_err leef_pair(struct ax_buf *out, const char *key, const char *value)
{
	if (!value[0])
		return AX_OK;
	ax_err err = ax_buf_addf(out, "\t%s=", key);
	return err ? err : ax_syslog_escape(out, value, AX_ESC_LEEF_VALUE);
}

/* devTime in the format devTimeFormat announces. */
static ax_err leef_time(const struct ax_syslog_event *ev, struct ax_buf *out)
{
	struct tm tm;
	time_t t = (time_t)ev->sec;
	if (!gmtime_r(&t, &tm))
		return AX_ERR_IO;
	return ax_buf_addf(out, "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ\tdevTime=%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000",
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			   tm.tm_sec, (int)(ev->usec / 1000));
}

ax_err ax_syslog_payload_leef(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			      struct ax_buf *out)
{
	const struct ax_record *r = ev->r;
	char ip[64];
	bool is_ip = client_address(r->client_ip, ip, sizeof(ip));
	ax_err err = ax_buf_adds(out, "LEEF:2.0|annexa|annexa|");
	err = err ? err : ax_syslog_escape(out, s->version, AX_ESC_LEEF_HEADER);
	err = err ? err : ax_buf_addc(out, '|');
	err = err ? err : ax_syslog_escape(out, event_name(r), AX_ESC_LEEF_HEADER);
	err = err ? err : ax_buf_addf(out, "|x09|");
	err = err ? err : leef_time(ev, out);
	err = err ? err : leef_pair(out, "cat", r->category);
	err = err ? err : ax_buf_addf(out, "\tsev=%d", severity_1_to_10(r->severity));
	if (!err && r->ncontrols) {
		err = ax_buf_adds(out, "\tisoControls=");
		err = err ? err : ax_syslog_add_controls(out, r, AX_ESC_LEEF_VALUE);
	}
	err = err ? err : leef_pair(out, "isoSeverity", severity_word(r->severity));
	err = err ? err : leef_pair(out, "isoRule", ev->rule);
	err = err ? err : leef_pair(out, "usrName", r->user);
	err = err ? err : leef_pair(out, is_ip ? "src" : "clientIP", is_ip ? ip : r->client_ip);
	err = err ? err : leef_pair(out, "workload", r->workload);
	err = err ? err : leef_pair(out, "tenant", r->tenant);
	err = err ? err : leef_pair(out, "contentType", r->content_type);
	return err ? err : leef_pair(out, "recordId", r->id);
}

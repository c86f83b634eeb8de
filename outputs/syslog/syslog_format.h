/* syslog_format.h - one enriched record → one syslog message, and framing.
 *
 * Pure functions of their arguments (the clock is an argument), so unit
 * tests and fuzzers call them directly.
 *
 * Escaping, so that no field value can add a line, break a CEF or LEEF
 * field or close an SD element (invalid UTF-8 becomes U+FFFD everywhere):
 *
 *   where                     escaped with '\'   LF, CR       other controls
 *   RFC 5424 header fields    -- (PRINTUSASCII only: anything else is '_', length capped)
 *   SD PARAM-VALUE (§6.3.3)   " \ ]              space        space
 *   CEF header                | \                space        space
 *   CEF extension value       = \                \n \r        space
 *   LEEF header               | \                space        space
 *   LEEF attribute value      (LEEF has no escape) space      space (tab too)
 *
 * "Controls" are C0, DEL and C1 (U+0080..U+009F, where NEL lives). */
#ifndef AX_OUTPUTS_SYSLOG_SYSLOG_FORMAT_H
#define AX_OUTPUTS_SYSLOG_SYSLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "outputs/output.h"

/* How every message of an output looks. */
struct ax_syslog_style {
	int format;   /* enum syslog_format_kind */
	int payload;  /* enum syslog_payload_kind */
	int facility; /* 0 (kern) .. 23 (local7) */
	const char *hostname;
	const char *app_name;
	const char *procid;
	const char *sd_id;
	const char *version; /* annexa's, in CEF and LEEF headers */
};

/* What a message needs beyond struct ax_record, worked out once. */
struct ax_syslog_event {
	const struct ax_record *r;
	int64_t sec;       /* event time (UTC epoch), or now when unparseable */
	int32_t usec;
	int frac_digits;   /* sub-second digits to print, 0..6 */
	char rule[64];     /* iso27001.rule, "" when absent */
};

enum ax_syslog_escape {
	AX_ESC_SD_VALUE,
	AX_ESC_CEF_HEADER,
	AX_ESC_CEF_VALUE,
	AX_ESC_LEEF_HEADER,
	AX_ESC_LEEF_VALUE,
};

/* Fills ev for r; now_ms (UTC epoch ms) stands in for a missing time. */
void ax_syslog_event_init(struct ax_syslog_event *ev, const struct ax_record *r, int64_t now_ms);
/* Parses "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm]" (no zone: UTC, as
 * Microsoft 365 writes it). */
bool ax_syslog_parse_time(const char *text, int64_t *sec, int32_t *usec, int *frac_digits);
/* A UTC time broken down (gmtime_r without the C library's time zone work). */
struct ax_syslog_utc {
	int64_t year;
	int month, day, hour, min, sec; /* month 1..12, day 1..31 */
};
void ax_syslog_utc(int64_t sec, struct ax_syslog_utc *t);
/* facility * 8 + the syslog severity of the record's severity. */
int ax_syslog_pri(int facility, enum ax_severity severity);

/* Appends one message (unframed) to out; *msg_start is the offset of its
 * MSG part (the payload), the only part truncation may cut. */
ax_err ax_syslog_message(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			 struct ax_buf *out, size_t *msg_start) AX_WARN_UNUSED;
/* Appends the header alone (what ax_syslog_message writes before the MSG). */
ax_err ax_syslog_header(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			struct ax_buf *out) AX_WARN_UNUSED;
ax_err ax_syslog_payload_cef(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			     struct ax_buf *out) AX_WARN_UNUSED;
ax_err ax_syslog_payload_leef(const struct ax_syslog_style *s, const struct ax_syslog_event *ev,
			      struct ax_buf *out) AX_WARN_UNUSED;

/* Appends text escaped for the context how. */
ax_err ax_syslog_escape(struct ax_buf *out, const char *text, enum ax_syslog_escape how) AX_WARN_UNUSED;
/* Appends the record's controls, comma-separated, escaped for how. */
ax_err ax_syslog_add_controls(struct ax_buf *out, const struct ax_record *r,
			      enum ax_syslog_escape how) AX_WARN_UNUSED;
/* Appends text as an RFC 5424 header field: PRINTUSASCII, at most max bytes, "-" when empty. */
ax_err ax_syslog_header_field(struct ax_buf *out, const char *text, size_t max) AX_WARN_UNUSED;
/* Length of the longest prefix of text[0..len) not over max bytes that
 * does not end inside a UTF-8 sequence. */
size_t ax_syslog_utf8_cut(const char *text, size_t len, size_t max);

/* Appends msg framed for a stream (enum syslog_framing_kind): "LEN MSG"
 * (RFC 6587 octet counting) or MSG with every LF sent as a space, then LF. */
ax_err ax_syslog_frame(int framing, struct ax_buf *out, const char *msg, size_t len) AX_WARN_UNUSED;

#endif

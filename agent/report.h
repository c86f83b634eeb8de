/* report.h - `annexa report`: what the evidence ledger (ledger.h) says
 * about a period of UTC days, per ISO/IEC 27001:2022 control, as text, CSV,
 * JSON or one self-contained HTML page.
 *
 * Per control that had evidence in the period: the days with evidence and
 * their record counts, the first and last event, the sources (tenant,
 * source, content type) that evidenced it, its gap days (days the ledger
 * watched without evidence for it) and the evidence_gap records about it
 * (about one of its sources, or about its silence). Per theme (5
 * Organizational, 6 People, 7 Physical, 8 Technological): how many of its
 * controls had evidence. Then every evidence_gap record of the period.
 *
 * Days before the ledger's first day (annexa was not running yet) are "not
 * watched", not gaps. */
#ifndef AX_AGENT_REPORT_H
#define AX_AGENT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "catalog.h"
#include "err.h"
#include "ledger.h"

struct ax_report_control {
	int index;            /* in the catalog */
	uint64_t records;
	uint64_t *per_day;    /* ndays counts */
	uint32_t days_with;   /* days with evidence */
	uint32_t gap_days;    /* watched days without */
	int64_t first, last;  /* event times, epoch s */
	const struct ax_ledger_stream **streams; /* that evidenced it */
	size_t nstreams;
	size_t gaps;          /* evidence_gap records about it */
};

struct ax_report {
	struct ax_ledger *ledger;
	const struct ax_catalog *catalog;
	int32_t first_day, last_day; /* the period, both in */
	size_t ndays;
	int32_t watched_from;        /* first day the ledger watched, inside the period */
	size_t watched_days;         /* from it to the end */
	int64_t generated;           /* epoch s */
	struct ax_report_control *controls; /* those with evidence, in catalog order */
	size_t ncontrols;
	uint64_t records;            /* every record of the period, whatever its controls */
	uint32_t *day_gaps;          /* evidence_gap records per day */
	const struct ax_ledger_gap **gaps; /* of the period, in the order they came */
	size_t ngaps;
	const struct ax_ledger_stream **streams; /* every stream with records in the period */
	size_t nstreams;
};

enum ax_report_format { AX_REPORT_TEXT, AX_REPORT_CSV, AX_REPORT_JSON, AX_REPORT_HTML };

/* Builds the report of [first_day, last_day] from l (which it borrows). */
ax_err ax_report_build(struct ax_report *r, struct ax_ledger *l, int32_t first_day, int32_t last_day,
		       int64_t now) AX_WARN_UNUSED;
void ax_report_finish(struct ax_report *r);
ax_err ax_report_render(const struct ax_report *r, enum ax_report_format format, struct ax_buf *out) AX_WARN_UNUSED;

/* For the renderers (report.c, report_html.c). */
bool ax_report_watched(const struct ax_report *r, size_t day);
/* "5", "Organizational controls" for a 2022 control id. */
const char *ax_report_theme_name(const char *control_id);
/* Each theme: its digit, how many controls the catalog has in it, how many
 * had evidence, their records. */
struct ax_report_theme {
	char digit;
	const char *name;
	size_t controls, with_evidence;
	uint64_t records;
};
size_t ax_report_themes(const struct ax_report *r, struct ax_report_theme out[4]);
ax_err ax_report_html(const struct ax_report *r, struct ax_buf *out) AX_WARN_UNUSED;
/* The period's days and the generation time, as text. */
struct ax_report_names {
	char from[11], to[11], watched[11], generated[21];
};
void ax_report_names(const struct ax_report *r, struct ax_report_names *n);
/* YYYY-MM-DDTHH:MM:SSZ, "-" for 0. */
void ax_report_time(int64_t t, char out[21]);
/* s with & < > " ' as HTML entities. */
ax_err ax_report_esc_html(struct ax_buf *b, const char *s) AX_WARN_UNUSED;
/* "source/content type" of a control's streams, each once (tenants aside). */
ax_err ax_report_sources(const struct ax_report_control *c, const char *sep, bool html, struct ax_buf *out) AX_WARN_UNUSED;
/* Days as ranges: "2026-11-20..2026-11-22, 2026-11-24" of the watched days without evidence. */
ax_err ax_report_gap_days(const struct ax_report *r, const struct ax_report_control *c, const char *sep,
			  struct ax_buf *out) AX_WARN_UNUSED;

#endif

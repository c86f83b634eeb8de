/* report_html.c - the report as one HTML page with nothing outside it: the
 * style, and the heatmap of controls × days as inline SVG; readable on
 * screen and printed (A4 landscape, colours kept). Every text that comes
 * from records (tenants, details) is escaped. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "sources/window.h"

#define LABEL_W 64
#define TOP_H 78
#define ROW_H 16
#define MAX_CELL_W 22
#define MIN_CELL_W 6
#define HEAT_W 960

static const char style[] =
	"body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:24px;color:#1b1f24;font-size:13px}"
	"h1{font-size:20px;margin:0 0 6px}h2{font-size:15px;margin:26px 0 8px;border-bottom:1px solid #b8c0cc;"
	"padding-bottom:3px}p.meta{color:#444;margin:4px 0}"
	"table{border-collapse:collapse;font-size:12px;margin-bottom:8px}"
	"th,td{border:1px solid #c8ced8;padding:3px 6px;text-align:left;vertical-align:top}"
	"th{background:#eef1f5}td{overflow-wrap:anywhere}td.n{text-align:right;white-space:nowrap}"
	"td.t{white-space:nowrap;overflow-wrap:normal}"
	".gap{color:#b00020;font-weight:bold}.none{color:#666}.heat{overflow-x:auto}"
	"svg text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif}"
	"@page{size:A4 landscape;margin:12mm}"
	"@media print{body{margin:0;font-size:11px}.heat{overflow:visible}svg{max-width:100%;height:auto}"
	"tr,svg{break-inside:avoid}h2{break-after:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* Evidence in four shades by the day's share of the busiest day, gaps red,
 * days before the ledger started grey. */
static const char *const shades[] = { "#c6e48b", "#7bc96f", "#239a3b", "#196127" };
#define GAP_FILL "#f8c9c9"
#define UNWATCHED_FILL "#e4e4e4"

/* "<tag>text</tag>" with text escaped. */
static ax_err tagged(struct ax_buf *b, const char *open, const char *text, const char *close)
{
	ax_err err = ax_buf_adds(b, open);
	if (!err)
		err = ax_report_esc_html(b, text);
	return err ? err : ax_buf_adds(b, close);
}

static void day_name(int32_t day, char out[11])
{
	ax_ledger_day_format(day, out);
}

static const char *shade(uint64_t n, uint64_t max)
{
	if (!max)
		return shades[0];
	size_t i = (size_t)(n * 4 / (max + 1));
	return shades[i > 3 ? 3 : i];
}

static ax_err heat_labels(const struct ax_report *r, struct ax_buf *b, int cw)
{
	size_t every = r->ndays <= 62 ? 1 : 7;
	ax_err err = AX_OK;
	for (size_t d = 0; d < r->ndays && !err; d++) {
		if (d % every && d + 1 != r->ndays)
			continue;
		char day[11];
		day_name(r->first_day + (int32_t)d, day);
		int x = LABEL_W + (int)d * cw + cw / 2 + 3;
		err = ax_buf_addf(b, "<text class=\"day\" x=\"%d\" y=\"%d\" font-size=\"9\" transform=\"rotate(-60 %d %d)\">%s"
				  "</text>", x, TOP_H - 4, x, TOP_H - 4, day);
	}
	return err;
}

static ax_err heat_row(const struct ax_report *r, const struct ax_report_control *c, size_t row, int cw,
		       struct ax_buf *b)
{
	const struct ax_control *ctl = &r->catalog->c2022[c->index];
	uint64_t max = 0;
	for (size_t d = 0; d < r->ndays; d++)
		max = c->per_day[d] > max ? c->per_day[d] : max;
	int y = TOP_H + (int)row * ROW_H;
	ax_err err = ax_buf_addf(b, "<g class=\"control\" data-control=\"%s\"><text x=\"4\" y=\"%d\" font-size=\"11\">%s"
				 "<title>", ctl->id, y + ROW_H - 4, ctl->id);
	if (!err)
		err = ax_report_esc_html(b, ctl->title);
	if (!err)
		err = ax_buf_adds(b, "</title></text>");
	for (size_t d = 0; d < r->ndays && !err; d++) {
		char day[11];
		day_name(r->first_day + (int32_t)d, day);
		uint64_t n = c->per_day[d];
		bool watched = ax_report_watched(r, d);
		const char *fill = n ? shade(n, max) : watched ? GAP_FILL : UNWATCHED_FILL;
		const char *kind = n ? "evidence" : watched ? "gap" : "unwatched";
		err = ax_buf_addf(b, "<rect class=\"%s\" data-day=\"%s\" data-records=\"%" PRIu64 "\" x=\"%d\" y=\"%d\" "
				  "width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\"><title>%s %s: %" PRIu64 " records%s"
				  "</title></rect>", kind, day, n, LABEL_W + (int)d * cw, y, cw, ROW_H, fill, ctl->id, day, n,
				  n ? "" : watched ? " (no evidence)" : " (not watched)");
	}
	return err ? err : ax_buf_adds(b, "</g>");
}

/* The row under the controls: a red mark, with the count, on each day an
 * evidence_gap record was raised. */
static ax_err heat_gaps(const struct ax_report *r, int cw, int y, struct ax_buf *b)
{
	ax_err err = ax_buf_addf(b, "<g class=\"gaps\"><text x=\"4\" y=\"%d\" font-size=\"10\" fill=\"#b00020\">gaps"
				 "</text>", y + ROW_H - 4);
	for (size_t d = 0; d < r->ndays && !err; d++) {
		if (!r->day_gaps[d])
			continue;
		char day[11];
		day_name(r->first_day + (int32_t)d, day);
		int cx = LABEL_W + (int)d * cw + cw / 2;
		err = ax_buf_addf(b, "<g class=\"gap-mark\" data-day=\"%s\" data-gaps=\"%u\"><circle cx=\"%d\" cy=\"%d\" r=\"%d\" "
				  "fill=\"#b00020\"><title>%s: %u evidence_gap record(s)</title></circle><text x=\"%d\" y=\"%d\" "
				  "font-size=\"8\" fill=\"#fff\" text-anchor=\"middle\">%u</text></g>", day, r->day_gaps[d], cx,
				  y + ROW_H / 2, cw / 2 < 7 ? cw / 2 : 7, day, r->day_gaps[d], cx, y + ROW_H / 2 + 3,
				  r->day_gaps[d]);
	}
	return err ? err : ax_buf_adds(b, "</g>");
}

static ax_err heat_legend(int y, struct ax_buf *b)
{
	static const struct {
		const char *fill, *text;
	} keys[] = { { "#c6e48b", "few records" }, { "#196127", "the control's busiest days" },
		     { GAP_FILL, "no evidence (gap day)" }, { UNWATCHED_FILL, "before the ledger started" },
		     { "#b00020", "evidence_gap records" } };
	ax_err err = AX_OK;
	int x = 4;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !err; i++) {
		err = ax_buf_addf(b, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
				  "font-size=\"10\">%s</text>", x, y, keys[i].fill, x + 16, y + 10, keys[i].text);
		x += 24 + (int)strlen(keys[i].text) * 6;
	}
	return err;
}

static ax_err heatmap(const struct ax_report *r, struct ax_buf *b)
{
	int cw = (HEAT_W - LABEL_W) / (int)(r->ndays ? r->ndays : 1);
	cw = cw > MAX_CELL_W ? MAX_CELL_W : cw < MIN_CELL_W ? MIN_CELL_W : cw;
	int gaps_y = TOP_H + (int)r->ncontrols * ROW_H + 4;
	int width = LABEL_W + (int)r->ndays * cw + 8, height = gaps_y + ROW_H + 34;
	width = width < 820 ? 820 : width; /* the legend */
	ax_err err = ax_buf_addf(b, "<div class=\"heat\"><svg id=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" "
				 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"Evidence per "
				 "control and UTC day\">", width, height, width, height);
	if (!err)
		err = heat_labels(r, b, cw);
	for (size_t i = 0; i < r->ncontrols && !err; i++)
		err = heat_row(r, &r->controls[i], i, cw, b);
	if (!err)
		err = heat_gaps(r, cw, gaps_y, b);
	if (!err)
		err = heat_legend(gaps_y + ROW_H + 12, b);
	return err ? err : ax_buf_adds(b, "</svg></div>");
}

static ax_err themes_table(const struct ax_report *r, struct ax_buf *b)
{
	struct ax_report_theme th[4];
	ax_report_themes(r, th);
	ax_err err = ax_buf_adds(b, "<h2>Themes</h2><table id=\"themes\"><tr><th>theme</th><th>controls</th>"
				 "<th>with evidence</th><th>coverage</th><th>records</th></tr>");
	for (size_t t = 0; t < 4 && !err; t++)
		err = ax_buf_addf(b, "<tr data-theme=\"%c\"><td>%c %s</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
				  "<td class=\"n\">%zu%%</td><td class=\"n\">%" PRIu64 "</td></tr>", th[t].digit, th[t].digit,
				  th[t].name, th[t].controls, th[t].with_evidence,
				  th[t].controls ? th[t].with_evidence * 100 / th[t].controls : 0, th[t].records);
	return err ? err : ax_buf_adds(b, "</table>");
}

static ax_err control_row(const struct ax_report *r, const struct ax_report_control *c, struct ax_buf *b)
{
	const struct ax_control *ctl = &r->catalog->c2022[c->index];
	char first[21], last[21];
	ax_report_time(c->first, first);
	ax_report_time(c->last, last);
	ax_err err = ax_buf_addf(b, "<tr data-control=\"%s\"><td class=\"t\">%s</td>", ctl->id, ctl->id);
	if (!err)
		err = tagged(b, "<td>", ctl->title, "</td>");
	if (!err)
		err = ax_buf_addf(b, "<td class=\"n\">%u / %zu</td><td class=\"n\">%" PRIu64 "</td><td class=\"t\">%s</td>"
				  "<td class=\"t\">%s</td><td%s>", c->days_with, r->watched_days, c->records, first, last,
				  c->gap_days ? " class=\"gap t\"" : "");
	if (!err && c->gap_days)
		err = ax_report_gap_days(r, c, "<br>", b);
	if (!err)
		err = ax_buf_addf(b, "</td><td class=\"n%s\">%zu</td><td>", c->gaps ? " gap" : "", c->gaps);
	if (!err)
		err = ax_report_sources(c, "<br>", true, b);
	return err ? err : ax_buf_adds(b, "</td></tr>");
}

static ax_err controls_table(const struct ax_report *r, struct ax_buf *b)
{
	ax_err err = ax_buf_adds(b, "<h2>Controls</h2>");
	if (!r->ncontrols)
		return err ? err : ax_buf_adds(b, "<p class=\"none\">No control had evidence in this period.</p>");
	if (!err)
		err = ax_buf_adds(b, "<table id=\"controls\"><tr><th>control</th><th>title</th><th>days with evidence</th>"
				  "<th>records</th><th>first event</th><th>last event</th><th>no evidence on</th>"
				  "<th>evidence gaps</th><th>sources</th></tr>");
	for (size_t i = 0; i < r->ncontrols && !err; i++)
		err = control_row(r, &r->controls[i], b);
	return err ? err : ax_buf_adds(b, "</table>");
}

static ax_err gap_row(const struct ax_report *r, const struct ax_ledger_gap *g, struct ax_buf *b)
{
	char when[21], ws[21], we[21], day[11];
	ax_report_time(g->time, when);
	ax_report_time(g->from, ws);
	ax_report_time(g->to, we);
	day_name(g->day, day);
	ax_err err = ax_buf_addf(b, "<tr class=\"gap-record\" data-day=\"%s\"><td class=\"t\">%s</td>", day, when);
	if (!err)
		err = tagged(b, "<td>", g->stream->party->tenant->name[0] ? g->stream->party->tenant->name : "-", "</td>");
	if (!err)
		err = tagged(b, "<td>", g->stream->party->source, "");
	if (!err)
		err = tagged(b, "/", g->stream->content_type, "</td>");
	if (!err)
		err = tagged(b, "<td class=\"gap\">", g->reason, "</td>");
	if (!err)
		err = tagged(b, "<td>", g->control >= 0 ? r->catalog->c2022[g->control].id : "", "</td>");
	if (!err)
		err = ax_buf_addf(b, "<td class=\"t\">%s<br>%s</td>", ws, we);
	if (!err)
		err = tagged(b, "<td>", g->content_id ? g->content_id : "", "</td>");
	if (!err)
		err = tagged(b, "<td>", g->detail ? g->detail : "", "</td></tr>");
	return err;
}

static ax_err gaps_table(const struct ax_report *r, struct ax_buf *b)
{
	ax_err err = ax_buf_adds(b, "<h2>Evidence gaps</h2>");
	if (!r->ngaps)
		return err ? err : ax_buf_adds(b, "<p class=\"none\">No evidence_gap record in this period.</p>");
	if (!err)
		err = ax_buf_adds(b, "<table id=\"gaps\"><tr><th>noticed</th><th>tenant</th><th>source</th><th>reason</th>"
				  "<th>control</th><th>window</th><th>content</th><th>detail</th></tr>");
	for (size_t i = 0; i < r->ngaps && !err; i++)
		err = gap_row(r, r->gaps[i], b);
	return err ? err : ax_buf_adds(b, "</table>");
}

static ax_err header(const struct ax_report *r, struct ax_buf *b)
{
	struct ax_report_names n;
	ax_report_names(r, &n);
	ax_err err = ax_buf_addf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
				 "content=\"width=device-width\"><title>annexa evidence report %s to %s</title><style>%s"
				 "</style></head><body><h1>ISO/IEC 27001:2022 Annex A: evidence report</h1>"
				 "<p class=\"meta\" id=\"period\" data-from=\"%s\" data-to=\"%s\">Period <b>%s</b> to <b>%s</b> "
				 "(%zu UTC days), generated %s by annexa from its evidence ledger.</p>", n.from, n.to, style, n.from,
				 n.to, n.from, n.to, r->ndays, n.generated);
	if (!err)
		err = ax_buf_addf(b, "<p class=\"meta\">%" PRIu64 " records; %zu of %zu controls with evidence; "
				  "<span class=\"%s\">%zu evidence_gap record(s)</span>.</p>", r->records, r->ncontrols,
				  r->catalog->n2022, r->ngaps ? "gap" : "none", r->ngaps);
	if (!err && r->watched_from > r->first_day)
		err = ax_buf_addf(b, "<p class=\"meta\">The ledger starts on %s: the days before it were not watched "
				  "(grey), and are not counted as gaps.</p>", n.watched);
	if (!err)
		err = ax_buf_adds(b, "<p class=\"meta\">Sources: ");
	for (size_t i = 0; i < r->nstreams && !err; i++) {
		err = ax_buf_adds(b, i ? "; " : "");
		if (!err)
			err = ax_report_esc_html(b, r->streams[i]->party->source);
		if (!err)
			err = ax_buf_addc(b, '/');
		if (!err)
			err = ax_report_esc_html(b, r->streams[i]->content_type);
		if (!err)
			err = tagged(b, " (tenant ", r->streams[i]->party->tenant->name[0] ? r->streams[i]->party->tenant->name
								     : "none", ")");
	}
	return err ? err : ax_buf_adds(b, r->nstreams ? ".</p>" : "none.</p>");
}

ax_err ax_report_html(const struct ax_report *r, struct ax_buf *b)
{
	ax_err err = header(r, b);
	if (!err)
		err = themes_table(r, b);
	if (!err)
		err = ax_buf_adds(b, "<h2>Controls &times; days</h2>");
	if (!err)
		err = heatmap(r, b);
	if (!err)
		err = controls_table(r, b);
	if (!err)
		err = gaps_table(r, b);
	return err ? err : ax_buf_adds(b, "</body></html>\n");
}

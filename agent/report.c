#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sources/window.h"

static const struct {
	char digit;
	const char *name;
} themes[] = {
	{ '5', "Organizational controls" },
	{ '6', "People controls" },
	{ '7', "Physical controls" },
	{ '8', "Technological controls" },
};

const char *ax_report_theme_name(const char *control_id)
{
	for (size_t i = 0; i < sizeof(themes) / sizeof(themes[0]); i++)
		if (control_id[0] == themes[i].digit)
			return themes[i].name;
	return "Other";
}

bool ax_report_watched(const struct ax_report *r, size_t day)
{
	return r->first_day + (int32_t)day >= r->watched_from;
}

/* ---- building ---- */

static bool add_stream(const struct ax_ledger_stream ***list, size_t *n, const struct ax_ledger_stream *s)
{
	for (size_t i = 0; i < *n; i++)
		if ((*list)[i] == s)
			return true;
	const struct ax_ledger_stream **grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown)
		return false;
	grown[(*n)++] = s;
	*list = grown;
	return true;
}

static struct ax_report_control *control_of(struct ax_report *r, struct ax_report_control *by_index[], unsigned k)
{
	if (by_index[k])
		return by_index[k];
	struct ax_report_control *c = &r->controls[r->ncontrols++];
	memset(c, 0, sizeof(*c));
	c->index = (int)k;
	c->per_day = calloc(r->ndays, sizeof(*c->per_day));
	return c->per_day ? (by_index[k] = c) : NULL;
}

static int control_cmp(const void *a, const void *b)
{
	return ((const struct ax_report_control *)a)->index - ((const struct ax_report_control *)b)->index;
}

static bool gap_about(const struct ax_ledger_gap *g, const struct ax_report_control *c)
{
	if (g->control >= 0)
		return g->control == c->index;
	for (size_t i = 0; i < c->nstreams; i++)
		if (c->streams[i] == g->stream)
			return true;
	return false;
}

static ax_err add_rows(struct ax_report *r, struct ax_report_control *by_index[])
{
	struct ax_ledger *l = r->ledger;
	for (size_t i = 0; i < l->nrows; i++) {
		const struct ax_ledger_row *row = l->rows[i];
		if (row->day < r->first_day || row->day > r->last_day)
			continue;
		size_t d = (size_t)(row->day - r->first_day);
		r->records += row->records;
		if (row->records && !add_stream(&r->streams, &r->nstreams, row->stream))
			return AX_ERR_NOMEM;
		for (size_t k = 0; k < row->ncells; k++) {
			const struct ax_ledger_cell *cell = &row->cells[k];
			if (!cell->records || cell->control >= AX_CSET_MAX)
				continue;
			struct ax_report_control *c = control_of(r, by_index, cell->control);
			if (!c || !add_stream(&c->streams, &c->nstreams, row->stream))
				return AX_ERR_NOMEM;
			c->records += cell->records;
			c->per_day[d] += cell->records;
			if (!c->first || cell->first < c->first)
				c->first = cell->first;
			if (cell->last > c->last)
				c->last = cell->last;
		}
	}
	return AX_OK;
}

ax_err ax_report_build(struct ax_report *r, struct ax_ledger *l, int32_t first_day, int32_t last_day, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->ledger = l;
	r->catalog = l->catalog;
	r->first_day = first_day;
	r->last_day = last_day >= first_day ? last_day : first_day;
	r->ndays = (size_t)(r->last_day - first_day + 1);
	r->generated = now;
	int32_t oldest = INT32_MAX;
	for (size_t i = 0; i < l->nrows; i++)
		if (l->rows[i]->day < oldest)
			oldest = l->rows[i]->day;
	r->watched_from = oldest > first_day ? oldest : first_day;
	r->watched_days = r->watched_from <= r->last_day ? (size_t)(r->last_day - r->watched_from + 1) : 0;
	struct ax_report_control *by_index[AX_CSET_MAX] = { 0 };
	r->controls = calloc(AX_CSET_MAX, sizeof(*r->controls));
	r->day_gaps = calloc(r->ndays, sizeof(*r->day_gaps));
	r->gaps = calloc(l->ngaps + 1, sizeof(*r->gaps));
	if (!r->controls || !r->day_gaps || !r->gaps)
		return AX_ERR_NOMEM;
	ax_err err = add_rows(r, by_index);
	if (err)
		return err;
	qsort(r->controls, r->ncontrols, sizeof(*r->controls), control_cmp);
	for (size_t i = 0; i < l->ngaps; i++) {
		const struct ax_ledger_gap *g = ax_ledger_gap_at(l, i);
		if (g->day < first_day || g->day > r->last_day)
			continue;
		r->gaps[r->ngaps++] = g;
		r->day_gaps[g->day - first_day]++;
		for (size_t k = 0; k < r->ncontrols; k++)
			r->controls[k].gaps += gap_about(g, &r->controls[k]);
	}
	for (size_t k = 0; k < r->ncontrols; k++) {
		struct ax_report_control *c = &r->controls[k];
		for (size_t d = 0; d < r->ndays; d++) {
			c->days_with += c->per_day[d] > 0;
			c->gap_days += !c->per_day[d] && ax_report_watched(r, d);
		}
	}
	return AX_OK;
}

void ax_report_finish(struct ax_report *r)
{
	for (size_t i = 0; r->controls && i < r->ncontrols; i++) {
		free(r->controls[i].per_day);
		free(r->controls[i].streams);
	}
	free(r->controls);
	free(r->day_gaps);
	free(r->gaps);
	free(r->streams);
	memset(r, 0, sizeof(*r));
}

size_t ax_report_themes(const struct ax_report *r, struct ax_report_theme out[4])
{
	for (size_t t = 0; t < 4; t++) {
		out[t] = (struct ax_report_theme){ .digit = themes[t].digit, .name = themes[t].name };
		for (size_t i = 0; i < r->catalog->n2022; i++)
			out[t].controls += r->catalog->c2022[i].id[0] == themes[t].digit;
		for (size_t i = 0; i < r->ncontrols; i++) {
			if (r->catalog->c2022[r->controls[i].index].id[0] != themes[t].digit)
				continue;
			out[t].with_evidence++;
			out[t].records += r->controls[i].records;
		}
	}
	return 4;
}

/* ---- shared pieces ---- */

static void day_name(int32_t day, char out[11])
{
	ax_ledger_day_format(day, out);
}

void ax_report_time(int64_t t, char out[21])
{
	if (t)
		ax_time_format_utc(t, out);
	else
		strcpy(out, "-");
}

void ax_report_names(const struct ax_report *r, struct ax_report_names *n)
{
	day_name(r->first_day, n->from);
	day_name(r->last_day, n->to);
	day_name(r->watched_from, n->watched);
	ax_report_time(r->generated, n->generated);
}

ax_err ax_report_gap_days(const struct ax_report *r, const struct ax_report_control *c, const char *sep,
			  struct ax_buf *out)
{
	ax_err err = AX_OK;
	bool any = false;
	for (size_t d = 0; d < r->ndays && !err; d++) {
		if (c->per_day[d] || !ax_report_watched(r, d))
			continue;
		size_t end = d;
		while (end + 1 < r->ndays && !c->per_day[end + 1])
			end++;
		char a[11], b[11];
		day_name(r->first_day + (int32_t)d, a);
		day_name(r->first_day + (int32_t)end, b);
		err = end > d ? ax_buf_addf(out, "%s%s..%s", any ? sep : "", a, b) : ax_buf_addf(out, "%s%s", any ? sep : "", a);
		any = true;
		d = end;
	}
	return err;
}

static const char *tenant_name(const struct ax_ledger_stream *s)
{
	return s->party->tenant->name[0] ? s->party->tenant->name : "(none)";
}

/* ---- text ---- */

ax_err ax_report_esc_html(struct ax_buf *b, const char *s)
{
	ax_err err = AX_OK;
	for (; *s && !err; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;"
			      : *s == '\'' ? "&#39;" : NULL;
		err = e ? ax_buf_adds(b, e) : ax_buf_addc(b, *s);
	}
	return err;
}

ax_err ax_report_sources(const struct ax_report_control *c, const char *sep, bool html, struct ax_buf *out)
{
	ax_err err = AX_OK;
	for (size_t i = 0; i < c->nstreams && !err; i++) {
		const struct ax_ledger_stream *s = c->streams[i];
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(c->streams[k]->party->source, s->party->source) == 0 &&
			       strcmp(c->streams[k]->content_type, s->content_type) == 0;
		if (seen)
			continue;
		err = ax_buf_adds(out, i ? sep : "");
		if (!err)
			err = html ? ax_report_esc_html(out, s->party->source) : ax_buf_adds(out, s->party->source);
		if (!err)
			err = ax_buf_addc(out, '/');
		if (!err)
			err = html ? ax_report_esc_html(out, s->content_type) : ax_buf_adds(out, s->content_type);
	}
	return err;
}

static ax_err render_text(const struct ax_report *r, struct ax_buf *b)
{
	struct ax_report_names n;
	ax_report_names(r, &n);
	struct ax_report_theme th[4];
	ax_report_themes(r, th);
	ax_err err = ax_buf_addf(b, "annexa evidence report: %s .. %s (%zu UTC days), generated %s\n", n.from, n.to,
				 r->ndays, n.generated);
	if (!err && r->watched_from > r->first_day)
		err = ax_buf_addf(b, "the ledger starts on %s: the days before it were not watched\n", n.watched);
	if (!err)
		err = ax_buf_addf(b, "%" PRIu64 " records, %zu controls with evidence, %zu evidence_gap records\n\n",
				  r->records, r->ncontrols, r->ngaps);
	if (!err)
		err = ax_buf_addf(b, "%-26s %8s %14s %10s\n", "theme", "controls", "with evidence", "records");
	for (size_t t = 0; t < 4 && !err; t++)
		err = ax_buf_addf(b, "%c %-24s %8zu %14zu %10" PRIu64 "\n", th[t].digit, th[t].name, th[t].controls,
				  th[t].with_evidence, th[t].records);
	if (!err)
		err = ax_buf_addf(b, "\n%-7s %9s %10s %-20s %-20s %5s  %s\n", "control", "days", "records", "first event",
				  "last event", "gaps", "title / sources / gap days");
	for (size_t i = 0; i < r->ncontrols && !err; i++) {
		const struct ax_report_control *c = &r->controls[i];
		const struct ax_control *ctl = &r->catalog->c2022[c->index];
		char first[21], last[21], days[32];
		ax_report_time(c->first, first);
		ax_report_time(c->last, last);
		snprintf(days, sizeof(days), "%u/%zu", c->days_with, r->watched_days);
		err = ax_buf_addf(b, "%-7s %9s %10" PRIu64 " %-20s %-20s %5zu  %s\n%-77s  sources: ", ctl->id, days,
				  c->records, first, last, c->gaps, ctl->title, "");
		if (!err)
			err = ax_report_sources(c, ", ", false, b);
		if (!err && c->gap_days) {
			err = ax_buf_addf(b, "\n%-77s  no evidence on: ", "");
			if (!err)
				err = ax_report_gap_days(r, c, ", ", b);
		}
		if (!err)
			err = ax_buf_addc(b, '\n');
	}
	if (!err && r->ngaps)
		err = ax_buf_adds(b, "\nevidence gaps:\n");
	for (size_t i = 0; i < r->ngaps && !err; i++) {
		const struct ax_ledger_gap *g = r->gaps[i];
		char when[21], ws[21], we[21];
		ax_report_time(g->time, when);
		ax_report_time(g->from, ws);
		ax_report_time(g->to, we);
		err = ax_buf_addf(b, "%s  %s/%s (tenant %s)  %s%s%s  window %s .. %s  %s\n", when, g->stream->party->source,
				  g->stream->content_type, tenant_name(g->stream), g->reason,
				  g->control >= 0 ? " of " : "", g->control >= 0 ? r->catalog->c2022[g->control].id : "",
				  ws, we, g->detail ? g->detail : "");
	}
	return err;
}

/* ---- CSV (RFC 4180) ---- */

static ax_err csv_field(struct ax_buf *b, const char *s, bool last)
{
	ax_err err = ax_buf_addc(b, '"');
	if (!err && s[0] && strchr("=+-@", s[0])) /* a spreadsheet would take it for a formula */
		err = ax_buf_addc(b, '\'');
	for (; *s && !err; s++)
		err = *s == '"' ? ax_buf_adds(b, "\"\"") : ax_buf_addc(b, *s);
	if (!err)
		err = ax_buf_adds(b, last ? "\"\r\n" : "\",");
	return err;
}

static ax_err render_csv(const struct ax_report *r, struct ax_buf *b)
{
	struct ax_buf cell;
	ax_buf_init(&cell, 1u << 20);
	ax_err err = ax_buf_adds(b, "control,title,theme,days_with_evidence,days_watched,records,first_event,last_event,"
				 "gap_days,evidence_gaps,sources\r\n");
	size_t watched = r->watched_days;
	for (size_t i = 0; i < r->ncontrols && !err; i++) {
		const struct ax_report_control *c = &r->controls[i];
		const struct ax_control *ctl = &r->catalog->c2022[c->index];
		char first[21], last[21];
		ax_report_time(c->first, first);
		ax_report_time(c->last, last);
		err = csv_field(b, ctl->id, false);
		if (!err)
			err = csv_field(b, ctl->title, false);
		if (!err)
			err = csv_field(b, ax_report_theme_name(ctl->id), false);
		if (!err)
			err = ax_buf_addf(b, "%u,%zu,%" PRIu64 ",%s,%s,", c->days_with, watched, c->records, first, last);
		ax_buf_clear(&cell);
		if (!err)
			err = ax_report_gap_days(r, c, ";", &cell);
		if (!err)
			err = ax_buf_cstr(&cell);
		if (!err)
			err = csv_field(b, cell.data, false);
		if (!err)
			err = ax_buf_addf(b, "%zu,", c->gaps);
		ax_buf_clear(&cell);
		for (size_t k = 0; k < c->nstreams && !err; k++)
			err = ax_buf_addf(&cell, "%s%s/%s/%s", k ? ";" : "", tenant_name(c->streams[k]),
					  c->streams[k]->party->source, c->streams[k]->content_type);
		if (!err)
			err = ax_buf_cstr(&cell);
		if (!err)
			err = csv_field(b, cell.data, true);
	}
	ax_buf_finish(&cell);
	return err;
}

/* ---- JSON ---- */

static ax_err json_kv(struct ax_buf *b, const char *sep, const char *key, const char *value)
{
	ax_err err = ax_buf_addf(b, "%s\"%s\":", sep, key);
	if (!err)
		err = value ? ax_buf_add_json_str(b, value, strlen(value)) : ax_buf_adds(b, "null");
	return err;
}

static ax_err json_time(struct ax_buf *b, const char *key, int64_t t)
{
	char text[21];
	ax_report_time(t, text);
	return json_kv(b, ",", key, t ? text : NULL);
}

static ax_err json_stream(struct ax_buf *b, const struct ax_ledger_stream *s)
{
	ax_err err = json_kv(b, "{", "tenant", s->party->tenant->name[0] ? s->party->tenant->name : NULL);
	if (!err)
		err = json_kv(b, ",", "source", s->party->source);
	if (!err)
		err = json_kv(b, ",", "content_type", s->content_type);
	return err ? err : ax_buf_addc(b, '}');
}

static ax_err json_control(const struct ax_report *r, const struct ax_report_control *c, struct ax_buf *b)
{
	const struct ax_control *ctl = &r->catalog->c2022[c->index];
	ax_err err = json_kv(b, "{", "id", ctl->id);
	if (!err)
		err = json_kv(b, ",", "title", ctl->title);
	if (!err)
		err = json_kv(b, ",", "theme", ax_report_theme_name(ctl->id));
	if (!err)
		err = ax_buf_addf(b, ",\"records\":%" PRIu64 ",\"days_with_evidence\":%u,\"gap_days_count\":%u", c->records,
				  c->days_with, c->gap_days);
	if (!err)
		err = json_time(b, "first_event", c->first);
	if (!err)
		err = json_time(b, "last_event", c->last);
	if (!err)
		err = ax_buf_adds(b, ",\"days\":{");
	bool first = true;
	for (size_t d = 0; d < r->ndays && !err; d++) {
		char day[11];
		if (!c->per_day[d])
			continue;
		day_name(r->first_day + (int32_t)d, day);
		err = ax_buf_addf(b, "%s\"%s\":%" PRIu64, first ? "" : ",", day, c->per_day[d]);
		first = false;
	}
	if (!err)
		err = ax_buf_adds(b, "},\"gap_days\":[");
	first = true;
	for (size_t d = 0; d < r->ndays && !err; d++) {
		char day[11];
		if (c->per_day[d] || !ax_report_watched(r, d))
			continue;
		day_name(r->first_day + (int32_t)d, day);
		err = ax_buf_addf(b, "%s\"%s\"", first ? "" : ",", day);
		first = false;
	}
	if (!err)
		err = ax_buf_addf(b, "],\"evidence_gaps\":%zu,\"sources\":[", c->gaps);
	for (size_t k = 0; k < c->nstreams && !err; k++) {
		err = k ? ax_buf_addc(b, ',') : AX_OK;
		if (!err)
			err = json_stream(b, c->streams[k]);
	}
	return err ? err : ax_buf_adds(b, "]}");
}

static ax_err json_gap(const struct ax_report *r, const struct ax_ledger_gap *g, struct ax_buf *b)
{
	ax_err err = ax_buf_adds(b, "{\"stream\":");
	if (!err)
		err = json_stream(b, g->stream);
	if (!err)
		err = json_time(b, "time", g->time);
	if (!err)
		err = json_kv(b, ",", "reason", g->reason);
	if (!err)
		err = json_kv(b, ",", "control", g->control >= 0 ? r->catalog->c2022[g->control].id : NULL);
	if (!err)
		err = json_time(b, "window_start", g->from);
	if (!err)
		err = json_time(b, "window_end", g->to);
	if (!err)
		err = json_kv(b, ",", "content_id", g->content_id);
	if (!err)
		err = json_kv(b, ",", "detail", g->detail);
	return err ? err : ax_buf_addc(b, '}');
}

static ax_err render_json(const struct ax_report *r, struct ax_buf *b)
{
	struct ax_report_names n;
	ax_report_names(r, &n);
	struct ax_report_theme th[4];
	ax_report_themes(r, th);
	ax_err err = ax_buf_addf(b, "{\"period\":{\"from\":\"%s\",\"to\":\"%s\",\"days\":%zu,\"watched_from\":\"%s\","
				 "\"watched_days\":%zu},\"generated\":\"%s\",\"records\":%" PRIu64 ",\"themes\":[", n.from,
				 n.to, r->ndays, n.watched, r->watched_days, n.generated, r->records);
	for (size_t t = 0; t < 4 && !err; t++)
		err = ax_buf_addf(b, "%s{\"theme\":\"%c\",\"name\":\"%s\",\"controls\":%zu,\"with_evidence\":%zu,"
				  "\"records\":%" PRIu64 "}", t ? "," : "", th[t].digit, th[t].name, th[t].controls,
				  th[t].with_evidence, th[t].records);
	if (!err)
		err = ax_buf_adds(b, "],\"controls\":[");
	for (size_t i = 0; i < r->ncontrols && !err; i++) {
		err = i ? ax_buf_addc(b, ',') : AX_OK;
		if (!err)
			err = json_control(r, &r->controls[i], b);
	}
	if (!err)
		err = ax_buf_adds(b, "],\"gaps\":[");
	for (size_t i = 0; i < r->ngaps && !err; i++) {
		err = i ? ax_buf_addc(b, ',') : AX_OK;
		if (!err)
			err = json_gap(r, r->gaps[i], b);
	}
	return err ? err : ax_buf_adds(b, "]}\n");
}

ax_err ax_report_render(const struct ax_report *r, enum ax_report_format format, struct ax_buf *out)
{
	switch (format) {
	case AX_REPORT_TEXT:
		return render_text(r, out);
	case AX_REPORT_CSV:
		return render_csv(r, out);
	case AX_REPORT_JSON:
		return render_json(r, out);
	case AX_REPORT_HTML:
		return ax_report_html(r, out);
	}
	return AX_ERR_CONFIG;
}

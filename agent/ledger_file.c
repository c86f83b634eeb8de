/* ledger_file.c - the ledger as JSON lines: rendering it for a save, and
 * reading a saved one back (ledger.h says what the file holds). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "ledger.h"
#include "ledger_int.h"
#include "sources/statefile.h"
#include "sources/window.h"

#define LINE_MAX_BYTES (1u << 20)
#define FILE_MAX_BYTES (1u << 30)

/* ---- saving ---- */

static ax_err add_kv_str(struct ax_buf *b, const char *key, const char *value)
{
	ax_err err = ax_buf_addf(b, ",\"%s\":", key);
	if (!err)
		err = value ? ax_buf_add_json_str(b, value, strlen(value)) : ax_buf_adds(b, "null");
	return err;
}

static ax_err add_kv_time(struct ax_buf *b, const char *key, int64_t t)
{
	char text[21];
	if (!t)
		return ax_buf_addf(b, ",\"%s\":null", key);
	ax_time_format_utc(t, text);
	return ax_buf_addf(b, ",\"%s\":\"%s\"", key, text);
}

/* A watch mark as NAME_raised and NAME_since (NAME "": raised, since). */
static ax_err add_mark(struct ax_buf *b, const char *name, const struct ax_watch_mark *m)
{
	char key[32];
	snprintf(key, sizeof(key), "%s%sraised", name, name[0] ? "_" : "");
	ax_err err = add_kv_time(b, key, m->raised);
	snprintf(key, sizeof(key), "%s%ssince", name, name[0] ? "_" : "");
	return err ? err : add_kv_time(b, key, m->since);
}

static ax_err add_stream_names(struct ax_buf *b, const char *kind, const struct ax_ledger_stream *s)
{
	ax_err err = ax_buf_addf(b, "{\"kind\":\"%s\"", kind);
	if (!err)
		err = add_kv_str(b, "tenant", s->party->tenant->name);
	if (!err)
		err = add_kv_str(b, "source", s->party->source);
	if (!err)
		err = add_kv_str(b, "content_type", s->content_type);
	return err;
}

/* ,"acked":{"out":n,...} of the nonzero counts; nothing when there are none. */
static ax_err add_acked(struct ax_buf *b, const struct ax_ledger *l, const uint64_t *counts, size_t width)
{
	bool first = true;
	ax_err err = AX_OK;
	for (size_t o = 0; o < width && o < l->noutputs && !err; o++) {
		if (!counts[o])
			continue;
		err = ax_buf_adds(b, first ? ",\"acked\":{" : ",");
		if (!err)
			err = ax_buf_add_json_str(b, l->outputs[o], strlen(l->outputs[o]));
		if (!err)
			err = ax_buf_addf(b, ":%" PRIu64, counts[o]);
		first = false;
	}
	return err || first ? err : ax_buf_addc(b, '}');
}

static ax_err render_row(struct ax_buf *b, const struct ax_ledger *l, const struct ax_ledger_row *r)
{
	char day[11];
	ax_ledger_day_format(r->day, day);
	ax_err err = add_stream_names(b, "day", r->stream);
	if (!err)
		err = ax_buf_addf(b, ",\"day\":\"%s\",\"records\":%" PRIu64 ",\"gaps\":%" PRIu64, day, r->records,
				  r->gaps);
	if (!err && r->width)
		err = add_acked(b, l, r->row_acked, r->width);
	if (!err)
		err = ax_buf_adds(b, ",\"controls\":{");
	/* in catalog order, so the file reads like the catalog */
	bool first = true;
	for (size_t k = 0; k < AX_CSET_MAX && !err; k++) {
		if (!r->slot[k])
			continue;
		const struct ax_ledger_cell *c = &r->cells[r->slot[k] - 1];
		err = ax_buf_addf(b, "%s\"%s\":{\"records\":%" PRIu64, first ? "" : ",", l->catalog->c2022[k].id,
				  c->records);
		if (!err)
			err = add_kv_time(b, "first", c->records ? c->first : 0);
		if (!err)
			err = add_kv_time(b, "last", c->records ? c->last : 0);
		if (!err && r->width)
			err = add_acked(b, l, &r->acked[(size_t)(c - r->cells) * r->width], r->width);
		if (!err)
			err = ax_buf_addc(b, '}');
		first = false;
	}
	return err ? err : ax_buf_adds(b, "}}\n");
}

static ax_err render_gap(struct ax_buf *b, const struct ax_ledger *l, const struct ax_ledger_gap *g)
{
	char day[11];
	ax_ledger_day_format(g->day, day);
	ax_err err = add_stream_names(b, "gap", g->stream);
	if (!err)
		err = ax_buf_addf(b, ",\"day\":\"%s\"", day);
	if (!err)
		err = add_kv_time(b, "time", g->time);
	if (!err)
		err = add_kv_str(b, "reason", g->reason);
	if (!err)
		err = add_kv_str(b, "control", g->control >= 0 ? l->catalog->c2022[g->control].id : NULL);
	if (!err)
		err = add_kv_time(b, "window_start", g->from);
	if (!err)
		err = add_kv_time(b, "window_end", g->to);
	if (!err)
		err = add_kv_str(b, "content_id", g->content_id);
	if (!err)
		err = add_kv_str(b, "detail", g->detail);
	return err ? err : ax_buf_adds(b, "}\n");
}

static ax_err render_tenant(struct ax_buf *b, const struct ax_ledger *l, const struct ax_ledger_tenant *t)
{
	ax_err err = ax_buf_adds(b, "{\"kind\":\"tenant\"");
	if (!err)
		err = add_kv_str(b, "tenant", t->name);
	if (!err)
		err = ax_buf_adds(b, ",\"controls\":{");
	bool first = true;
	for (size_t k = 0; k < l->catalog->n2022 && k < AX_CSET_MAX && !err; k++) {
		if (!t->ctl_last[k] && !t->ctl_mark[k].raised)
			continue;
		err = ax_buf_addf(b, "%s\"%s\":{\"control\":\"%s\"", first ? "" : ",", l->catalog->c2022[k].id,
				  l->catalog->c2022[k].id);
		if (!err)
			err = add_kv_time(b, "last_arrival", t->ctl_last[k]);
		if (!err)
			err = add_mark(b, "", &t->ctl_mark[k]);
		if (!err)
			err = ax_buf_addc(b, '}');
		first = false;
	}
	return err ? err : ax_buf_adds(b, "}}\n");
}

static ax_err render_party(struct ax_buf *b, const struct ax_ledger_party *p)
{
	char day[11];
	ax_ledger_day_format(p->summarized, day);
	ax_err err = ax_buf_adds(b, "{\"kind\":\"party\"");
	if (!err)
		err = add_kv_str(b, "tenant", p->tenant->name);
	if (!err)
		err = add_kv_str(b, "source", p->source);
	if (!err)
		err = add_kv_time(b, "last_arrival", p->last_arrival);
	if (!err)
		err = add_mark(b, "silence", &p->silence);
	if (!err)
		err = add_mark(b, "credential", &p->credential);
	if (!err)
		err = add_kv_str(b, "summarized", p->summarized ? day : NULL);
	return err ? err : ax_buf_adds(b, "}\n");
}

static ax_err render_stream(struct ax_buf *b, const struct ax_ledger_stream *s)
{
	ax_err err = add_stream_names(b, "stream", s);
	if (!err)
		err = ax_buf_addf(b, ",\"live\":%s", s->live ? "true" : "false");
	if (!err)
		err = add_kv_time(b, "last_arrival", s->last_arrival);
	if (!err)
		err = add_kv_time(b, "newest_event", s->newest_event);
	if (!err)
		err = add_mark(b, "silence", &s->silence);
	if (!err)
		err = add_mark(b, "horizon", &s->horizon);
	return err ? err : ax_buf_adds(b, "}\n");
}

static int row_cmp(const void *x, const void *y)
{
	const struct ax_ledger_row *a = *(struct ax_ledger_row *const *)x, *b = *(struct ax_ledger_row *const *)y;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return (a->stream > b->stream) - (a->stream < b->stream);
}

ax_err ax_ledger_render(struct ax_ledger *l, struct ax_buf *out)
{
	char now[21];
	ax_time_format_utc((int64_t)time(NULL), now);
	ax_buf_clear(out);
	ax_err err = ax_buf_addf(out, "{\"kind\":\"ledger\",\"version\":1,\"saved\":\"%s\",\"retention_days\":%" PRId64 "}\n",
				 now, l->retention_days);
	for (size_t i = 0; i < l->ntenants && !err; i++)
		err = render_tenant(out, l, l->tenants[i]);
	for (size_t i = 0; i < l->nparties && !err; i++)
		err = render_party(out, l->parties[i]);
	for (size_t i = 0; i < l->nstreams && !err; i++)
		err = render_stream(out, l->streams[i]);
	if (l->nrows) /* the index holds pointers: order is free */
		qsort(l->rows, l->nrows, sizeof(*l->rows), row_cmp);
	for (size_t i = 0; i < l->nrows && !err; i++)
		err = render_row(out, l, l->rows[i]);
	for (size_t i = 0; i < l->ngaps && !err; i++)
		err = render_gap(out, l, ax_ledger_gap_at(l, i));
	return err;
}

/* ---- loading ---- */

struct loader {
	struct ax_ledger *l;
	struct ax_json_doc *doc;
	const struct ax_jnode *root;
};

static const char *get_str(const struct loader *ld, const struct ax_jnode *obj, const char *key)
{
	return ax_json_get_string(ld->doc, obj, key);
}

static uint64_t get_u64(const struct loader *ld, const struct ax_jnode *obj, const char *key)
{
	const struct ax_jnode *n = ax_json_get(ld->doc, obj, key, strlen(key));
	return n && n->type == AX_J_NUMBER ? strtoull(ax_json_text(ld->doc, n), NULL, 10) : 0;
}

static int64_t get_time(const struct loader *ld, const struct ax_jnode *obj, const char *key)
{
	return ax_ledger_parse_time(get_str(ld, obj, key));
}

static struct ax_watch_mark get_mark(const struct loader *ld, const struct ax_jnode *obj, const char *name)
{
	char raised[32], since[32];
	snprintf(raised, sizeof(raised), "%s%sraised", name, name[0] ? "_" : "");
	snprintf(since, sizeof(since), "%s%ssince", name, name[0] ? "_" : "");
	return (struct ax_watch_mark){ get_time(ld, obj, raised), get_time(ld, obj, since) };
}

static struct ax_ledger_stream *load_stream_of(const struct loader *ld)
{
	const char *tenant = get_str(ld, ld->root, "tenant"), *source = get_str(ld, ld->root, "source"),
		   *ctype = get_str(ld, ld->root, "content_type");
	return tenant && source && ctype ? ax_ledger_stream(ld->l, tenant, source, ctype) : NULL;
}

static bool load_acked(const struct loader *ld, const struct ax_jnode *obj, struct ax_ledger_row *r, size_t cell)
{
	const struct ax_jnode *acked = ax_json_get(ld->doc, obj, "acked", 5);
	if (!acked || acked->type != AX_J_OBJECT)
		return true;
	for (const struct ax_jnode *n = ax_json_first(ld->doc, acked); n; n = ax_json_next(ld->doc, n)) {
		int out = ax_ledger_output(ld->l, ax_json_key(ld->doc, n));
		if (out < 0 || n->type != AX_J_NUMBER || !ax_ledger_row_widen(r, (size_t)out))
			return false;
		uint64_t v = strtoull(ax_json_text(ld->doc, n), NULL, 10);
		if (cell == SIZE_MAX)
			r->row_acked[out] += v;
		else
			r->acked[cell * r->width + (size_t)out] += v;
	}
	return true;
}

static bool load_day(const struct loader *ld)
{
	struct ax_ledger_stream *s = load_stream_of(ld);
	int32_t day;
	const char *d = get_str(ld, ld->root, "day");
	if (!s || !d || !ax_ledger_day_parse(d, &day))
		return false;
	struct ax_ledger_row *r = ax_ledger_row(ld->l, s, day);
	if (!r)
		return false;
	r->records += get_u64(ld, ld->root, "records");
	r->gaps += get_u64(ld, ld->root, "gaps");
	if (!load_acked(ld, ld->root, r, SIZE_MAX))
		return false;
	const struct ax_jnode *controls = ax_json_get(ld->doc, ld->root, "controls", 8);
	for (const struct ax_jnode *n = controls && controls->type == AX_J_OBJECT ? ax_json_first(ld->doc, controls)
		     : NULL; n; n = ax_json_next(ld->doc, n)) {
		int k = ax_ledger_control(ld->l, ax_json_key(ld->doc, n));
		struct ax_ledger_cell *c = k >= 0 && n->type == AX_J_OBJECT ? ax_ledger_cell(r, (unsigned)k) : NULL;
		if (!c)
			return false;
		uint64_t records = get_u64(ld, n, "records");
		int64_t first = get_time(ld, n, "first"), last = get_time(ld, n, "last");
		if (records && (!c->records || first < c->first))
			c->first = first;
		if (records && last > c->last)
			c->last = last;
		c->records += records;
		if (!load_acked(ld, n, r, (size_t)(c - r->cells)))
			return false;
	}
	return true;
}

static bool load_gap(const struct loader *ld)
{
	struct ax_ledger_stream *s = load_stream_of(ld);
	int32_t day;
	const char *d = get_str(ld, ld->root, "day"), *control = get_str(ld, ld->root, "control");
	if (!s || !d || !ax_ledger_day_parse(d, &day))
		return false;
	struct ax_ledger_gap g = {
		.stream = s, .day = day, .time = get_time(ld, ld->root, "time"),
		.from = get_time(ld, ld->root, "window_start"), .to = get_time(ld, ld->root, "window_end"),
		.control = control ? ax_ledger_control(ld->l, control) : -1,
		.reason = (char *)get_str(ld, ld->root, "reason"), .detail = (char *)get_str(ld, ld->root, "detail"),
		.content_id = (char *)get_str(ld, ld->root, "content_id"),
	};
	ax_ledger_gap_keep(ld->l, &g);
	return true;
}

static bool load_tenant(const struct loader *ld)
{
	const char *name = get_str(ld, ld->root, "tenant");
	struct ax_ledger_tenant *t = name ? ax_ledger_tenant(ld->l, name) : NULL;
	const struct ax_jnode *controls = ax_json_get(ld->doc, ld->root, "controls", 8);
	if (!t || !controls || controls->type != AX_J_OBJECT)
		return false;
	for (const struct ax_jnode *n = ax_json_first(ld->doc, controls); n; n = ax_json_next(ld->doc, n)) {
		int k = ax_ledger_control(ld->l, ax_json_key(ld->doc, n));
		if (k < 0 || n->type != AX_J_OBJECT)
			return false;
		t->ctl_last[k] = get_time(ld, n, "last_arrival");
		t->ctl_mark[k] = get_mark(ld, n, "");
	}
	return true;
}

static bool load_party(const struct loader *ld)
{
	const char *tenant = get_str(ld, ld->root, "tenant"), *source = get_str(ld, ld->root, "source"),
		   *summarized = get_str(ld, ld->root, "summarized");
	struct ax_ledger_party *p = tenant && source ? ax_ledger_party(ld->l, tenant, source) : NULL;
	if (!p)
		return false;
	p->last_arrival = get_time(ld, ld->root, "last_arrival");
	p->silence = get_mark(ld, ld->root, "silence");
	p->credential = get_mark(ld, ld->root, "credential");
	if (summarized && !ax_ledger_day_parse(summarized, &p->summarized))
		return false;
	return true;
}

static bool load_stream(const struct loader *ld)
{
	struct ax_ledger_stream *s = load_stream_of(ld);
	if (!s)
		return false;
	const struct ax_jnode *live = ax_json_get(ld->doc, ld->root, "live", 4);
	s->live = live && live->type == AX_J_TRUE;
	s->last_arrival = get_time(ld, ld->root, "last_arrival");
	s->newest_event = get_time(ld, ld->root, "newest_event");
	s->silence = get_mark(ld, ld->root, "silence");
	s->horizon = get_mark(ld, ld->root, "horizon");
	return true;
}

static bool load_line(struct loader *ld, const char *line, size_t len)
{
	if (ax_json_parse(ld->doc, line, len))
		return false;
	ld->root = ax_json_root(ld->doc);
	const char *kind = ld->root->type == AX_J_OBJECT ? get_str(ld, ld->root, "kind") : NULL;
	if (!kind)
		return false;
	if (strcmp(kind, "day") == 0)
		return load_day(ld);
	if (strcmp(kind, "gap") == 0)
		return load_gap(ld);
	if (strcmp(kind, "tenant") == 0)
		return load_tenant(ld);
	if (strcmp(kind, "party") == 0)
		return load_party(ld);
	if (strcmp(kind, "stream") == 0)
		return load_stream(ld);
	return strcmp(kind, "ledger") == 0;
}

ax_err ax_ledger_load(struct ax_ledger *l, size_t *skipped)
{
	struct ax_buf b;
	bool exists;
	ax_buf_init(&b, FILE_MAX_BYTES);
	ax_err err = ax_state_read(l->path, &b, &exists);
	struct loader ld = { .l = l, .doc = ax_json_doc_create(16) };
	if (!err && !ld.doc)
		err = AX_ERR_NOMEM;
	for (size_t pos = 0; !err && exists && pos < b.len;) {
		const char *line = b.data + pos, *nl = memchr(line, '\n', b.len - pos);
		size_t len = nl ? (size_t)(nl - line) : b.len - pos;
		pos += len + 1;
		if (len && (len > LINE_MAX_BYTES || !load_line(&ld, line, len)))
			(*skipped)++;
	}
	ax_json_doc_destroy(ld.doc);
	ax_buf_finish(&b);
	memset(l->recent_streams, 0, sizeof(l->recent_streams));
	return err;
}


#include "evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "sources/dedup.h"
#include "sources/window.h"
#include "watch.h"

#define EVIDENCE(field) offsetof(struct ax_evidence_conf, field)
#define GAP_MAX_DEPTH 16 /* an evidence_gap record (sources/gap.c), enriched */
#define SUMMARY_DAYS_BACK 7 /* days missed while stopped that still get their summary */

const struct ax_option ax_evidence_options[] = {
	{ "retention", AX_OPT_DURATION, "400d", 0, EVIDENCE(retention), 86400000, 3650LL * 86400000, NULL,
	  "How long the evidence ledger (state_dir/ledger) keeps its daily counts, and so how far back "
	  "`annexa report` can look. Counted in whole UTC days." },
	{ "flush_interval", AX_OPT_DURATION, "60s", 0, EVIDENCE(flush_interval), 1000, 86400000, NULL,
	  "How often the ledger is saved (and when the agent stops): a crash loses at most this much of its counts, "
	  "never records." },
	{ "summary", AX_OPT_BOOL, "true", 0, EVIDENCE(summary), 0, 0, NULL,
	  "Send a daily evidence_summary record per tenant and source to the outputs: the past UTC day's record "
	  "counts per control and content type, gaps, and what each output acknowledged." },
	{ "summary_delay", AX_OPT_DURATION, "1h", 0, EVIDENCE(summary_delay), 0, 86400000, NULL,
	  "How long after a UTC day ends its evidence_summary goes out, so records the API lists late still count." },
	{ "silence.", AX_OPT_PREFIX, NULL, 0, EVIDENCE(silence), 0, 0, NULL,
	  "Gap watch thresholds: an evidence_gap record (severity high) when what had evidence sends none for this long, "
	  "an evidence_resumed record when it does again. silence.source = 24h (every source; unset: every API source "
	  "at 24h, file sources never), silence.source.NAME = 6h, silence.CONTENT_TYPE = 6h (silence.Audit.Exchange), "
	  "silence.control.ID = 24h (silence.control.8.15, per tenant, any source); \"off\" turns one off." },
	AX_OPTIONS_END,
};

struct ack_target {
	struct ax_evidence *ev;
	int out;
};

struct own_record {
	char *json, *source, *tenant, *content_type;
	size_t len;
	const char *type; /* a literal */
};

struct ax_evidence {
	struct ax_evidence_conf conf;
	struct ax_ledger *ledger;
	struct ax_watch *watch;
	struct ack_target targets[AX_LEDGER_MAX_OUTPUTS];
	int64_t next_save_ms, last_tick;
	bool save_failed, marks_changed;
	struct own_record *own;
	size_t nown;
	struct ax_json_doc *gap_doc; /* an evidence_gap record, parsed again (note_gap) */
};

static void own_free(struct own_record *o)
{
	free(o->json);
	free(o->source);
	free(o->tenant);
	free(o->content_type);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ax_evidence *ax_evidence_create(const struct ax_evidence_conf *conf, const char *state_dir,
				       const struct ax_catalog *catalog, ax_err *err)
{
	char dir[4096], path[4200];
	struct ax_evidence *ev = calloc(1, sizeof(*ev));
	if (!ev) {
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	ev->conf = *conf;
	if (state_dir) {
		snprintf(dir, sizeof(dir), "%s/ledger", state_dir);
		snprintf(path, sizeof(path), "%s/ledger.jsonl", dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			ax_error("evidence", "cannot create %s: %s", dir, strerror(errno));
			free(ev);
			*err = AX_ERR_IO;
			return NULL;
		}
	}
	size_t skipped = 0;
	ev->ledger = ax_ledger_open(state_dir ? path : NULL, catalog, (conf->retention + 86399999) / 86400000,
				    &skipped, err);
	if (!ev->ledger) {
		ax_error("evidence", "cannot read the evidence ledger %s: %s", path, ax_strerror(*err));
		free(ev);
		return NULL;
	}
	if (skipped)
		ax_warn("evidence", "%zu lines of %s could not be read and were left out", skipped, path);
	if (!(ev->watch = ax_watch_create(&conf->silence, catalog, (int64_t)time(NULL), err))) {
		ax_error("evidence", "cannot start the gap watch: %s", ax_strerror(*err));
		ax_ledger_close(ev->ledger);
		free(ev);
		return NULL;
	}
	ev->next_save_ms = mono_ms() + conf->flush_interval;
	return ev;
}

static void save(struct ax_evidence *ev, int64_t now)
{
	ax_err err = ax_ledger_save(ev->ledger, ax_ledger_day(now));
	if (err && !ev->save_failed)
		ax_error("evidence", "cannot save the evidence ledger %s: %s (the counts since the last save are lost "
			 "if the agent stops now)", ev->ledger->path, ax_strerror(err));
	else if (!err && ev->save_failed)
		ax_info("evidence", "the evidence ledger is saved again");
	ev->save_failed = err != AX_OK;
}

void ax_evidence_destroy(struct ax_evidence *ev)
{
	if (!ev)
		return;
	save(ev, (int64_t)time(NULL));
	if (ev->ledger->lost)
		ax_warn("evidence", "%" PRIu64 " records could not be counted in the ledger (out of memory)",
			ev->ledger->lost);
	ax_ledger_close(ev->ledger);
	ax_watch_destroy(ev->watch);
	for (size_t i = 0; i < ev->nown; i++)
		own_free(&ev->own[i]);
	free(ev->own);
	ax_json_doc_destroy(ev->gap_doc);
	free(ev);
}

struct ax_ledger *ax_evidence_ledger(struct ax_evidence *ev)
{
	return ev->ledger;
}

/* ---- what the pipeline spooled ---- */

static void own_add(struct ax_evidence *ev, const struct ax_buf *b, const char *type, const char *source,
		    const char *tenant, const char *content_type);

/* A record of the gap watch; its marks in the ledger are saved at once. */
static void watch_add(void *arg, const struct ax_buf *json, const char *type, const char *source, const char *tenant,
		      const char *content_type)
{
	struct ax_evidence *ev = arg;
	own_add(ev, json, type, source, tenant, content_type);
	ev->marks_changed = true;
}


static bool is_type(const char *type, const char *name)
{
	return type && type[0] == name[0] && strcmp(type, name) == 0;
}

static const char *member(const struct ax_json_doc *doc, const char *name)
{
	return ax_json_get_string(doc, ax_json_root(doc), name);
}

static int64_t member_time(const struct ax_json_doc *doc, const char *name)
{
	const char *s = member(doc, name);
	int64_t ticks;
	return s && ax_time_parse(s, strlen(s), &ticks) ? ticks / AX_TICKS_PER_SEC : 0;
}

/* The record is parsed again: the worker that parsed it has moved on to
 * others (and gap records are few). */
static void note_gap(struct ax_evidence *ev, const struct ax_processor *p, int64_t now)
{
	if (!ev->gap_doc && !(ev->gap_doc = ax_json_doc_create(GAP_MAX_DEPTH))) {
		ax_error("evidence", "the evidence_gap record %s is not in the ledger: out of memory", p->record.id);
		return;
	}
	const struct ax_json_doc *doc = ev->gap_doc;
	if (ax_json_parse(ev->gap_doc, p->record.json, p->record.len)) {
		ax_error("evidence", "the evidence_gap record %s is not in the ledger: it does not parse (%s)",
			 p->record.id, ax_json_error(ev->gap_doc));
		return;
	}
	const char *control = member(doc, "control");
	struct ax_ledger_gap g = {
		.reason = (char *)member(doc, "reason"), .detail = (char *)member(doc, "detail"),
		.content_id = (char *)member(doc, "content_id"), .from = member_time(doc, "window_start"),
		.to = member_time(doc, "window_end"), .time = now,
		.control = control ? ax_ledger_control(ev->ledger, control) : -1,
	};
	ax_ledger_gap(ev->ledger, &p->record, &g, now);
}

/* The agent's own evidence records (evidence_gap, _summary, _resumed) are
 * not counted as evidence; a gap is noted. */
static bool own_evidence(const char *type)
{
	return type && type[0] == 'e' &&
	       (is_type(type, "evidence_gap") || is_type(type, "evidence_summary") || is_type(type, "evidence_resumed"));
}

static bool live_type(const char *type)
{
	return is_type(type, "o365") || (type && strncmp(type, "graph", 5) == 0);
}

/* A record whose rule switches evidence off gets an evidence_gap record. */
static void watch_rules(struct ax_evidence *ev, const struct ax_processor *p, int64_t now)
{
	for (size_t i = 0; i < p->mapping.nused; i++)
		if (p->mapping.used[i]->gap)
			ax_watch_rule_gap(p->mapping.used[i], &p->record, ev->ledger->catalog, now, watch_add, ev);
}

void ax_evidence_spooled(struct ax_evidence *ev, const struct ax_processor *p)
{
	ax_evidence_spooled_n(ev, &p, 1);
}

void ax_evidence_spooled_n(struct ax_evidence *ev, const struct ax_processor *const *p, size_t n)
{
	int64_t now = (int64_t)time(NULL);
	ax_ledger_lock(ev->ledger);
	for (size_t i = 0; i < n; i++)
		if (!own_evidence(p[i]->origin.type))
			ax_ledger_count_locked(ev->ledger, &p[i]->record, live_type(p[i]->origin.type), now);
	ax_ledger_unlock(ev->ledger);
	for (size_t i = 0; i < n; i++) {
		if (is_type(p[i]->origin.type, "evidence_gap"))
			note_gap(ev, p[i], now);
		else if (!own_evidence(p[i]->origin.type))
			watch_rules(ev, p[i], now);
	}
}

static void on_acked(void *arg, const struct ax_record *records, size_t n)
{
	struct ack_target *t = arg;
	ax_ledger_ack(t->ev->ledger, t->out, records, n, (int64_t)time(NULL));
}

void ax_evidence_attach(struct ax_evidence *ev, struct ax_delivery *d)
{
	int out = ax_ledger_output(ev->ledger, d->out->name);
	if (out < 0) {
		ax_warn(d->out->name, "the evidence ledger counts at most %d outputs: not this one",
			AX_LEDGER_MAX_OUTPUTS);
		return;
	}
	ev->targets[out] = (struct ack_target){ ev, out };
	d->acked = on_acked;
	d->acked_arg = &ev->targets[out];
}

/* ---- records of the agent's own ---- */

/* Starts {"annexa_event":EVENT,"Id":…,"CreationTime":…,"Workload":"annexa","Operation":OP
 * with the Id derived from parts, so the same fact gives the same Id. */
static ax_err own_begin(struct ax_buf *b, const char *event, const char *op, const char *const *parts, size_t n,
			int64_t now)
{
	struct ax_key key;
	char created[20];
	if (!ax_key_of_parts(&key, parts, n))
		return AX_ERR_NOMEM;
	const uint8_t *k = key.b;
	ax_time_format_api(now, created);
	return ax_buf_addf(b, "{\"annexa_event\":\"%s\",\"Id\":\"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			   "%02x%02x%02x%02x%02x%02x\",\"CreationTime\":\"%s\",\"Workload\":\"annexa\",\"Operation\":\"%s\"",
			   event, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13],
			   k[14], k[15], created, op);
}

static ax_err add_member(struct ax_buf *b, const char *name, const char *value)
{
	ax_err err = ax_buf_addf(b, ",\"%s\":", name);
	if (!err)
		err = value ? ax_buf_add_json_str(b, value, strlen(value)) : ax_buf_adds(b, "null");
	return err;
}

static void own_add(struct ax_evidence *ev, const struct ax_buf *b, const char *type, const char *source,
		    const char *tenant, const char *content_type)
{
	struct own_record *grown = realloc(ev->own, (ev->nown + 1) * sizeof(*grown));
	if (!grown)
		goto fail;
	ev->own = grown;
	struct own_record *o = &ev->own[ev->nown];
	*o = (struct own_record){ .json = malloc(b->len), .len = b->len, .type = type,
				  .content_type = strdup(content_type), .source = strdup(source), .tenant = strdup(tenant) };
	if (!o->json || !o->source || !o->tenant || !o->content_type) {
		own_free(o);
		goto fail;
	}
	memcpy(o->json, b->data, b->len);
	ev->nown++;
	return;
fail:
	ax_error("evidence", "out of memory: a %s record for %s is lost", type, source);
}

/* ---- daily summaries ---- */

struct day_sums {
	uint64_t records, gaps;
	uint64_t controls[AX_CSET_MAX];
	uint64_t acked[AX_LEDGER_MAX_OUTPUTS];
};

static ax_err render_summary(struct ax_buf *b, struct ax_ledger *l, const struct ax_ledger_party *p, int32_t day,
			     int64_t now)
{
	struct day_sums s;
	char dayname[11];
	memset(&s, 0, sizeof(s));
	ax_ledger_day_format(day, dayname);
	const char *parts[] = { "evidence_summary", p->tenant->name, p->source, dayname };
	ax_err err = own_begin(b, "evidence_summary", "EvidenceSummary", parts, 4, now);
	if (!err)
		err = add_member(b, "tenant", p->tenant->name);
	if (!err)
		err = add_member(b, "source", p->source);
	if (!err)
		err = ax_buf_addf(b, ",\"day\":\"%s\",\"content_types\":{", dayname);
	bool first = true;
	for (size_t i = 0; i < l->nrows && !err; i++) {
		const struct ax_ledger_row *r = l->rows[i];
		if (r->day != day || r->stream->party != p)
			continue;
		s.records += r->records;
		s.gaps += r->gaps;
		for (size_t c = 0; c < r->ncells; c++)
			s.controls[r->cells[c].control] += r->cells[c].records;
		for (size_t o = 0; o < r->width && o < AX_LEDGER_MAX_OUTPUTS; o++)
			s.acked[o] += r->row_acked[o];
		if (!first)
			err = ax_buf_addc(b, ',');
		if (!err)
			err = ax_buf_add_json_str(b, r->stream->content_type, strlen(r->stream->content_type));
		if (!err)
			err = ax_buf_addf(b, ":%" PRIu64, r->records);
		first = false;
	}
	if (!err)
		err = ax_buf_addf(b, "},\"records\":%" PRIu64 ",\"gaps\":%" PRIu64 ",\"controls\":{", s.records, s.gaps);
	first = true;
	for (size_t k = 0; k < l->catalog->n2022 && k < AX_CSET_MAX && !err; k++) {
		if (s.controls[k])
			err = ax_buf_addf(b, "%s\"%s\":%" PRIu64, first ? "" : ",", l->catalog->c2022[k].id, s.controls[k]);
		first = first && !s.controls[k];
	}
	if (!err)
		err = ax_buf_adds(b, "},\"acked\":{");
	for (size_t o = 0; o < l->noutputs && !err; o++) {
		err = ax_buf_addf(b, "%s", o ? "," : "");
		if (!err)
			err = ax_buf_add_json_str(b, l->outputs[o], strlen(l->outputs[o]));
		if (!err)
			err = ax_buf_addf(b, ":%" PRIu64, s.acked[o]);
	}
	return err ? err : ax_buf_adds(b, "}}");
}

/* Every (tenant, source) gets a summary of each UTC day that ended
 * summary_delay ago since its last one; one it had never had starts with
 * the day it was first seen. */
static void summaries(struct ax_evidence *ev, int64_t now)
{
	struct ax_ledger *l = ev->ledger;
	int32_t today = ax_ledger_day(now);
	int64_t delay = ev->conf.summary_delay / 1000;
	struct ax_buf b;
	ax_buf_init(&b, 1u << 20);
	ax_ledger_lock(l);
	for (size_t i = 0; i < l->nparties; i++) {
		struct ax_ledger_party *p = l->parties[i];
		if (!p->summarized) /* new: its first summary is of the day it came */
			p->summarized = today - 1;
		for (int32_t d = p->summarized + 1; d < today && now >= ((int64_t)d + 1) * AX_DAY_S + delay; d++) {
			p->summarized = d;
			if (d < today - SUMMARY_DAYS_BACK)
				continue;
			ax_buf_clear(&b);
			if (render_summary(&b, l, p, d, now))
				ax_error("evidence", "cannot render the evidence_summary of %s", p->source);
			else
				own_add(ev, &b, "evidence_summary", p->source, p->tenant->name, "Annexa.Evidence");
		}
	}
	ax_ledger_unlock(l);
	ax_buf_finish(&b);
}

static void emit_own(struct ax_evidence *ev, ax_evidence_emit_fn emit, void *arg)
{
	for (size_t i = 0; i < ev->nown; i++) {
		struct own_record *o = &ev->own[i];
		struct ax_origin origin = { .source = o->source, .type = o->type, .content_type = o->content_type,
					    .tenant = o->tenant };
		emit(arg, o->json, o->len, &origin);
		own_free(o);
	}
	ev->nown = 0;
}

void ax_evidence_tick(struct ax_evidence *ev, int64_t now, ax_evidence_emit_fn emit, void *arg)
{
	if (now == ev->last_tick) /* once a second is enough */
		return;
	ev->last_tick = now;
	if (ev->conf.summary)
		summaries(ev, now);
	ax_ledger_lock(ev->ledger);
	ax_watch_run(ev->watch, ev->ledger, now, watch_add, ev);
	ax_ledger_unlock(ev->ledger);
	emit_own(ev, emit, arg);
	int64_t mono = mono_ms();
	if (mono >= ev->next_save_ms || ev->marks_changed) {
		ev->marks_changed = false;
		save(ev, now);
		ev->next_save_ms = mono + ev->conf.flush_interval;
	}
}

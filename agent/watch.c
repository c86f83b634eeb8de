#include "watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "log.h"
#include "metrics.h"
#include "sources/gap.h"
#include "sources/window.h"

struct threshold {
	char *name;
	int64_t s; /* 0: off */
};

struct ax_watch {
	const struct ax_catalog *catalog;
	int64_t started;
	int64_t every_source;            /* silence.source; -1: unset */
	struct threshold *sources, *types;
	size_t nsources, ntypes;
	int64_t control[AX_CSET_MAX];    /* 0: not watched */
	struct ax_buf text;
};

/* What a gap is about, and the threshold it broke. */
struct what {
	const char *reason, *source, *tenant, *content_type, *control;
	int64_t threshold;
};

/* ---- the thresholds ---- */

/* "off" is 0; otherwise a duration of at least a second. */
static bool parse_threshold(const char *value, int64_t *s)
{
	int64_t ms;
	if (strcmp(value, "off") == 0) {
		*s = 0;
		return true;
	}
	if (ax_parse_duration(value, &ms) || ms < 1000)
		return false;
	*s = ms / 1000;
	return true;
}

static bool is_control(const char *id)
{
	struct ax_catalog cat;
	struct ax_diag diag;
	ax_diag_init(&diag);
	bool found = ax_catalog_load(&cat, &diag) == AX_OK && ax_catalog_find2022(&cat, id) >= 0;
	ax_catalog_finish(&cat);
	ax_diag_finish(&diag);
	return found;
}

bool ax_watch_check_key(const char *key, const char *value, char *why, size_t why_len)
{
	int64_t s;
	if (!parse_threshold(value, &s)) {
		snprintf(why, why_len, "'%s' is not a silence threshold: a duration of at least 1s (\"6h\", \"2d\") or \"off\"",
			 value);
		return false;
	}
	if (strncmp(key, "control.", 8) == 0 && !is_control(key + 8)) {
		snprintf(why, why_len, "'%s' is not an ISO/IEC 27001:2022 Annex A control (see `annexa controls`)", key + 8);
		return false;
	}
	if (strcmp(key, "source.") == 0 || strcmp(key, "control.") == 0) {
		snprintf(why, why_len, "name the %s after the dot", key[0] == 's' ? "source" : "control");
		return false;
	}
	return true;
}

static ax_err add_threshold(struct threshold **list, size_t *n, const char *name, int64_t s)
{
	struct threshold *grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown)
		return AX_ERR_NOMEM;
	*list = grown;
	grown[*n] = (struct threshold){ strdup(name), s };
	return grown[(*n)++].name ? AX_OK : AX_ERR_NOMEM;
}

static ax_err add_key(struct ax_watch *w, const struct ax_kv *kv)
{
	int64_t s = 0;
	if (!parse_threshold(kv->value, &s))
		return AX_ERR_CONFIG; /* the config check said why */
	if (strcmp(kv->key, "source") == 0) {
		w->every_source = s;
	} else if (strncmp(kv->key, "source.", 7) == 0) {
		return add_threshold(&w->sources, &w->nsources, kv->key + 7, s);
	} else if (strncmp(kv->key, "control.", 8) == 0) {
		int k = ax_catalog_find2022(w->catalog, kv->key + 8);
		if (k < 0 || k >= AX_CSET_MAX)
			return AX_ERR_CONFIG;
		w->control[k] = s;
	} else {
		return add_threshold(&w->types, &w->ntypes, kv->key, s);
	}
	return AX_OK;
}

struct ax_watch *ax_watch_create(const struct ax_kvlist *silence, const struct ax_catalog *catalog, int64_t started,
				 ax_err *err)
{
	struct ax_watch *w = calloc(1, sizeof(*w));
	if (!w) {
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	*w = (struct ax_watch){ .catalog = catalog, .started = started, .every_source = -1 };
	ax_buf_init(&w->text, 64u << 10);
	*err = AX_OK;
	for (size_t i = 0; i < silence->count && !*err; i++)
		*err = add_key(w, &silence->items[i]);
	if (*err) {
		ax_watch_destroy(w);
		return NULL;
	}
	return w;
}

static void free_thresholds(struct threshold *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

void ax_watch_destroy(struct ax_watch *w)
{
	if (!w)
		return;
	free_thresholds(w->sources, w->nsources);
	free_thresholds(w->types, w->ntypes);
	ax_buf_finish(&w->text);
	free(w);
}

/* -1 when the list does not name it. */
static int64_t threshold_of(const struct threshold *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return list[i].s;
	return -1;
}

/* ---- the records ---- */

static void duration_text(int64_t s, char *out, size_t len)
{
	if (s >= 86400)
		snprintf(out, len, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, len, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, len, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
	else
		snprintf(out, len, "%" PRId64 "s", s);
}

static void emit(struct ax_watch *w, const struct ax_gap *g, int64_t resumed_at, ax_watch_add_fn add, void *arg)
{
	struct ax_key key;
	ax_err err = resumed_at ? ax_gap_render_resumed(g, resumed_at, &w->text) : ax_gap_render(g, &w->text, &key);
	if (err) {
		ax_error("evidence", "cannot render the %s record of %s (%s): out of memory", resumed_at ? "evidence_resumed" :
			 "evidence_gap", g->source, g->reason);
		return;
	}
	if (resumed_at)
		ax_info("evidence", "EVIDENCE RESUMED (%s): %s", g->reason, g->detail);
	else
		ax_error("evidence", "EVIDENCE GAP (%s): %s", g->reason, g->detail);
	add(arg, &w->text, resumed_at ? "evidence_resumed" : "evidence_gap", g->source, g->tenant,
	    g->content_type ? g->content_type : "Annexa.Evidence");
}

static struct ax_gap gap_of(const struct what *what, const struct ax_watch_mark *m, const char *detail, int64_t now)
{
	return (struct ax_gap){ .reason = what->reason, .source = what->source, .tenant = what->tenant,
				.content_type = what->content_type, .control = what->control, .from = m->since,
				.to = m->raised, .detail = detail, .now = now };
}

static void silence_subject(const struct what *what, char *out, size_t len)
{
	if (what->control)
		snprintf(out, len, "control %s of tenant %s", what->control, what->tenant);
	else if (what->content_type)
		snprintf(out, len, "%s of source \"%s\" (tenant %s)", what->content_type, what->source, what->tenant);
	else
		snprintf(out, len, "source \"%s\" (tenant %s)", what->source, what->tenant);
}

/* Raises what when it has been silent past its threshold since its last
 * record (last), or clears it once a record came after the raise. */
static void watch_silence(struct ax_watch *w, struct ax_watch_mark *m, int64_t last, const struct what *what,
			  int64_t now, ax_watch_add_fn add, void *arg)
{
	char subject[300], silent[32], detail[600], at[21];
	silence_subject(what, subject, sizeof(subject));
	if (m->raised) {
		if (last < m->raised) /* raised only when last < now - threshold: the same second is a new record */
			return;
		duration_text(last - m->since, silent, sizeof(silent));
		ax_time_format_utc(last, at);
		snprintf(detail, sizeof(detail), "records of %s arrive again (%s) after %s of silence", subject, at, silent);
		struct ax_gap g = gap_of(what, m, detail, now);
		emit(w, &g, last, add, arg);
		*m = (struct ax_watch_mark){ 0, 0 };
		return;
	}
	int64_t from = last > w->started ? last : w->started;
	if (!last || !what->threshold || now - from < what->threshold)
		return;
	*m = (struct ax_watch_mark){ .raised = now, .since = last };
	duration_text(what->threshold, silent, sizeof(silent));
	ax_time_format_utc(last, at);
	snprintf(detail, sizeof(detail), "no record of %s since %s, past its silence threshold of %s: check the source "
		 "(its log, /health) and the tenant's audit settings", subject, at, silent);
	struct ax_gap g = gap_of(what, m, detail, now);
	emit(w, &g, 0, add, arg);
}

/* ---- silence ---- */

static bool party_live(const struct ax_ledger *l, const struct ax_ledger_party *p)
{
	for (size_t i = 0; i < l->nstreams; i++)
		if (l->streams[i]->party == p && l->streams[i]->live)
			return true;
	return false;
}

static int64_t source_threshold(const struct ax_watch *w, const struct ax_ledger *l, const struct ax_ledger_party *p)
{
	int64_t s = threshold_of(w->sources, w->nsources, p->source);
	if (s >= 0)
		return s;
	if (w->every_source >= 0)
		return w->every_source;
	return party_live(l, p) ? AX_WATCH_DEFAULT_S : 0;
}

static void watch_sources(struct ax_watch *w, struct ax_ledger *l, int64_t now, ax_watch_add_fn add, void *arg)
{
	for (size_t i = 0; i < l->nparties; i++) {
		struct ax_ledger_party *p = l->parties[i];
		struct what what = { .reason = "source_silent", .source = p->source, .tenant = p->tenant->name,
				     .threshold = source_threshold(w, l, p) };
		watch_silence(w, &p->silence, p->last_arrival, &what, now, add, arg);
	}
	for (size_t i = 0; i < l->nstreams; i++) {
		struct ax_ledger_stream *s = l->streams[i];
		int64_t t = threshold_of(w->types, w->ntypes, s->content_type);
		struct what what = { .reason = "content_type_silent", .source = s->party->source,
				     .tenant = s->party->tenant->name, .content_type = s->content_type,
				     .threshold = t > 0 ? t : 0 };
		watch_silence(w, &s->silence, s->last_arrival, &what, now, add, arg);
	}
}

static void watch_controls(struct ax_watch *w, struct ax_ledger *l, int64_t now, ax_watch_add_fn add, void *arg)
{
	for (size_t i = 0; i < l->ntenants; i++) {
		struct ax_ledger_tenant *t = l->tenants[i];
		for (size_t k = 0; k < w->catalog->n2022 && k < AX_CSET_MAX; k++) {
			struct what what = { .reason = "control_silent", .source = "annexa", .tenant = t->name,
					     .control = w->catalog->c2022[k].id, .threshold = w->control[k] };
			watch_silence(w, &t->ctl_mark[k], t->ctl_last[k], &what, now, add, arg);
		}
	}
}

/* ---- what the API streams say: the horizon, the credential ---- */

struct stream_look {
	struct ax_watch *w;
	struct ax_ledger *l;
	int64_t now;
	ax_watch_add_fn add;
	void *arg;
};

static void watch_horizon(struct stream_look *x, struct ax_ledger_stream *s, const struct ax_stream_state *st)
{
	struct ax_watch_mark *m = &s->horizon;
	int64_t lag = st->server_now_s - st->cursor_s;
	if (st->cursor_s != s->cursor_seen) {
		s->cursor_seen = st->cursor_s;
		s->cursor_moved = x->now;
	}
	/* A backfill that starts days back moves through its first windows in
	 * moments: only a checkpoint that stands still near the horizon is raised. */
	bool stalled = m->raised || x->now - s->cursor_moved >= AX_WATCH_STALLED_S;
	bool near = st->horizon_s && st->cursor_s && lag > st->horizon_s - AX_HORIZON_WARN_S && stalled;
	if (near == (m->raised != 0))
		return;
	char detail[600], lagged[32], end[21];
	struct what what = { .reason = "horizon_near", .source = st->source, .tenant = st->tenant,
			     .content_type = st->content_type };
	duration_text(lag > 0 ? lag : 0, lagged, sizeof(lagged));
	if (near) {
		*m = (struct ax_watch_mark){ .raised = x->now, .since = st->cursor_s };
		ax_time_format_utc(st->cursor_s + st->horizon_s, end);
		snprintf(detail, sizeof(detail), "the checkpoint of %s (tenant %s) lags the API by %s: its records leave "
			 "the API's reach from %s on. Sources wait while the spool is full (spool_full = pause) or cannot "
			 "pull: bring the outputs back or make room", st->content_type, st->tenant, lagged, end);
	} else {
		snprintf(detail, sizeof(detail), "the checkpoint of %s (tenant %s) is back within reach of the API's "
			 "horizon (lag %s)", st->content_type, st->tenant, lagged);
	}
	struct ax_gap g = gap_of(&what, m, detail, x->now);
	g.to = m->since + st->horizon_s;
	emit(x->w, &g, near ? 0 : x->now, x->add, x->arg);
	if (!near)
		*m = (struct ax_watch_mark){ 0, 0 };
}

static void watch_credential(struct stream_look *x, struct ax_ledger_party *p, const struct ax_stream_state *st)
{
	struct ax_watch_mark *m = &p->credential;
	int64_t expires = st->credential_expires_s;
	bool near = expires && expires - x->now < AX_WATCH_CREDENTIAL_S;
	if (m->raised && m->since == expires)
		return; /* raised for this certificate */
	char detail[600], end[21];
	struct what what = { .reason = "credential_expiring", .source = st->source, .tenant = st->tenant };
	if (m->raised) { /* another certificate now */
		snprintf(detail, sizeof(detail), "source \"%s\" signs in with another certificate", st->source);
		struct ax_gap g = gap_of(&what, m, detail, x->now);
		emit(x->w, &g, x->now, x->add, x->arg);
		*m = (struct ax_watch_mark){ 0, 0 };
	}
	if (!near)
		return;
	*m = (struct ax_watch_mark){ .raised = x->now, .since = expires };
	ax_time_format_utc(expires, end);
	snprintf(detail, sizeof(detail), "the certificate source \"%s\" signs in with (certificate_file) expires at %s: "
		 "register a new one on the app, point certificate_file at it and reload (SIGHUP)", st->source, end);
	struct ax_gap g = gap_of(&what, m, detail, x->now);
	g.from = x->now;
	g.to = expires;
	emit(x->w, &g, 0, x->add, x->arg);
}

static void look_at_stream(void *arg, const struct ax_stream_state *st)
{
	struct stream_look *x = arg;
	struct ax_ledger_stream *s = ax_ledger_stream(x->l, st->tenant, st->source, st->content_type);
	if (!s)
		return;
	if (st->horizon_s)
		watch_horizon(x, s, st);
	watch_credential(x, s->party, st);
}

void ax_watch_run(struct ax_watch *w, struct ax_ledger *l, int64_t now, ax_watch_add_fn add, void *arg)
{
	watch_sources(w, l, now, add, arg);
	watch_controls(w, l, now, add, arg);
	struct stream_look look = { w, l, now, add, arg };
	ax_metrics_each_stream(now * 1000, look_at_stream, &look);
}

/* ---- a record that switches evidence off ---- */

void ax_watch_rule_gap(const struct ax_rule *rule, const struct ax_record *r, const struct ax_catalog *catalog,
		       int64_t now, ax_watch_add_fn add, void *arg)
{
	const char *control = NULL;
	for (size_t k = 0; k < catalog->n2022 && k < AX_CSET_MAX && !control; k++)
		if (ax_cset_has(&rule->controls, (unsigned)k))
			control = catalog->c2022[k].id;
	int64_t ticks = 0;
	bool timed = r->creation_time && ax_time_parse(r->creation_time, strlen(r->creation_time), &ticks);
	char detail[700];
	snprintf(detail, sizeof(detail), "record %s (%s by %s) matched rule %s (%s): the evidence it stands for stops "
		 "from then on", r->id ? r->id : "?", r->operation ? r->operation : "?", r->user ? r->user : "?", rule->id,
		 rule->name);
	struct ax_gap g = { .reason = rule->gap, .source = r->source, .tenant = r->tenant ? r->tenant : "",
			    .content_type = r->content_type, .control = control,
			    .from = timed ? ticks / AX_TICKS_PER_SEC : now, .detail = detail, .now = now };
	struct ax_buf text;
	struct ax_key key;
	ax_buf_init(&text, 64u << 10);
	if (ax_gap_render(&g, &text, &key) == AX_OK) {
		ax_error("evidence", "EVIDENCE GAP (%s): %s", g.reason, detail);
		add(arg, &text, "evidence_gap", g.source, g.tenant, g.content_type ? g.content_type : "Annexa.Evidence");
	} else {
		ax_error("evidence", "cannot render the evidence_gap record of rule %s: out of memory", rule->id);
	}
	ax_buf_finish(&text);
}

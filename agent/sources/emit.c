#include "sources/emit.h"

#include <string.h>

#include "lines.h"
#include "log.h"
#include "sources/window.h"

#define UNIT_RECORDS 2000

void ax_emitter_init(struct ax_emitter *e, struct ax_feed *feed, struct ax_seen *seen, const struct ax_origin *origin,
		     size_t max_record, const char *log_name)
{
	memset(e, 0, sizeof(*e));
	e->feed = feed;
	e->seen = seen;
	e->origin = *origin;
	e->gap_origin = *origin;
	e->gap_origin.type = "evidence_gap";
	e->max_record = max_record;
	e->log_name = log_name;
	ax_buf_init(&e->gap_text, 64u << 10);
}

void ax_emitter_finish(struct ax_emitter *e)
{
	if (e->cur)
		ax_feed_abandon(e->feed, e->cur);
	e->cur = NULL;
	ax_buf_finish(&e->gap_text);
}

bool ax_emit_flush(struct ax_emitter *e)
{
	struct ax_feed_unit *u = e->cur;
	e->cur = NULL;
	return !u || ax_feed_push(e->feed, u);
}

static bool full(const struct ax_feed_unit *u, size_t len)
{
	return u->unit.count >= UNIT_RECORDS || u->unit.data.len + len > AX_EMIT_UNIT_BYTES || u->njobs == AX_FEED_JOBS;
}

/* The unit to add a record of len bytes to. */
static struct ax_feed_unit *unit_for(struct ax_emitter *e, size_t len)
{
	if (e->cur && e->cur->unit.count > 0 && full(e->cur, len) && !ax_emit_flush(e))
		return NULL;
	if (!e->cur && (e->cur = ax_feed_take(e->feed)))
		e->cur->unit.origin = e->origin;
	return e->cur;
}

static bool add(struct ax_emitter *e, struct ax_feed_unit *u, const char *data, size_t len, uint64_t index,
		uint64_t offset, const struct ax_key *key, struct ax_feed_job *job, const char *reject)
{
	bool oversized = !reject && len > e->max_record;
	size_t keep = (oversized || reject) && len > AX_LINES_PREFIX_KEEP ? AX_LINES_PREFIX_KEEP : len;
	if (ax_unit_add(&u->unit, data, keep, index, offset, len, oversized))
		return false;
	u->unit.records[u->unit.count - 1].reject = reject;
	if (key && !ax_feed_add_key(u, key))
		return false;
	return !job || ax_feed_add_job(u, job);
}

bool ax_emit(struct ax_emitter *e, const char *data, size_t len, uint64_t index, uint64_t offset,
	     const struct ax_key *key, struct ax_feed_job *job, const char *reject)
{
	if (key && !ax_seen_claim(e->seen, key)) {
		e->repeats++;
		return true;
	}
	struct ax_feed_unit *u = unit_for(e, len);
	if (u && add(e, u, data, len, index, offset, key, job, reject)) {
		e->forwarded++;
		return true;
	}
	if (key)
		ax_seen_release(e->seen, key);
	if (u) /* out of memory: what the unit holds goes on, this record is retried with its blob */
		ax_error(e->log_name, "out of memory adding a record to a unit");
	return false;
}

bool ax_emit_gap(struct ax_emitter *e, const struct ax_gap *g, struct ax_feed_job *job)
{
	struct ax_key key;
	char from[21], to[21];
	ax_time_format_utc(g->from, from);
	ax_time_format_utc(g->to, to);
	ax_error(e->log_name, "EVIDENCE GAP (%s): %s [%s, %s)%s%s: %s", g->reason, g->content_type ? g->content_type : "",
		 g->from ? from : "?", g->to ? to : "?", g->content_id ? " blob " : "",
		 g->content_id ? g->content_id : "", g->detail);
	if (ax_gap_render(g, &e->gap_text, &key) || !ax_emit_flush(e))
		return false;
	if (!ax_seen_claim(e->seen, &key))
		return true; /* reported already */
	struct ax_feed_unit *u = ax_feed_take(e->feed);
	if (!u) {
		ax_seen_release(e->seen, &key);
		return false;
	}
	u->unit.origin = e->gap_origin;
	if (!add(e, u, e->gap_text.data, e->gap_text.len, 1, 0, &key, job, NULL)) {
		ax_feed_abandon(e->feed, u);
		return false;
	}
	e->gaps++;
	return ax_feed_push(e->feed, u);
}

void ax_emit_settle_keys(struct ax_seen *seen, const struct ax_feed_unit *u)
{
	for (size_t i = 0; i < u->nkeys; i++) {
		if (u->ok)
			ax_seen_confirm(seen, &u->keys[i]);
		else
			ax_seen_release(seen, &u->keys[i]);
	}
}

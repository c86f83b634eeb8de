#include "pipeline.h"

#include <stdio.h>
#include <time.h>

#include "log.h"
#include "sources/gap.h"
#include "version.h"

#define SYNC_EVERY_UNITS 16   /* a busy pipeline syncs once per this many units */
#define DISK_RETRY_MS 1000
#define NEVER_SAFE UINT64_MAX /* spooled_to of a unit whose records did not all get in */

enum spooled { SPOOLED, REFUSED, STOPPED };

ax_err ax_pipeline_init(struct ax_pipeline *p, const struct ax_agent_conf *agent, const struct ax_rules *rules,
			struct ax_spool *spool, struct ax_deadletter *dead_letter, const atomic_int *stop)
{
	*p = (struct ax_pipeline){ .spool = spool, .dead_letter = dead_letter, .agent = agent, .stop = stop,
				   .on_ack = agent->spool == AX_SPOOL_MEMORY };
	return ax_processor_init(&p->proc, rules, (unsigned)agent->max_depth, agent->max_record_size);
}

void ax_pipeline_finish(struct ax_pipeline *p)
{
	ax_processor_finish(&p->proc);
}

static void nap_ms(const atomic_int *stop, int64_t ms)
{
	for (int64_t left = ms; left > 0 && !atomic_load(stop); left -= 100) {
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Retries what a full disk refused until it is taken or the agent stops. */
static enum spooled spool_retry(struct ax_pipeline *p, const struct ax_record *rec)
{
	for (;;) {
		ax_err err = rec ? ax_spool_append(p->spool, rec, p->stop) : ax_spool_flush(p->spool, p->stop);
		if (!err)
			return SPOOLED;
		if (err == AX_ERR_AGAIN || (err == AX_ERR_IO && atomic_load(p->stop)))
			return STOPPED;
		if (err != AX_ERR_IO)
			return REFUSED;
		nap_ms(p->stop, DISK_RETRY_MS); /* the spool said why */
	}
}

static void dead_letter(struct ax_pipeline *p, const struct ax_unit *u, size_t i, const char *reason,
			struct ax_pipeline_counts *counts)
{
	const struct ax_unit_record *ur = &u->records[i];
	struct ax_dead_record rec = {
		.source = u->origin.source, .stage = "decode", .reason = reason, .line = ur->line,
		.offset = ur->offset, .length = ur->full_len, .raw = ax_unit_data(u, i), .raw_len = ur->len,
	};
	if (ax_deadletter_write(p->dead_letter, &rec))
		ax_error("run", "cannot write to the dead-letter file");
	counts->dead_lettered++;
}

static enum spooled handle_record(struct ax_pipeline *p, const struct ax_unit *u, size_t i,
				  const struct ax_origin *origin, struct ax_pipeline_counts *counts)
{
	const struct ax_unit_record *ur = &u->records[i];
	char reason[160];
	counts->records++;
	if (ur->reject) {
		dead_letter(p, u, i, ur->reject, counts);
	} else if (ur->oversized) {
		snprintf(reason, sizeof(reason), "record of %llu bytes exceeds max_record_size (%llu bytes)",
			 (unsigned long long)ur->full_len, (unsigned long long)p->agent->max_record_size);
		dead_letter(p, u, i, reason, counts);
	} else if (ax_process(&p->proc, ax_unit_data(u, i), ur->len, origin)) {
		dead_letter(p, u, i, p->proc.reason, counts);
	} else {
		enum spooled s = spool_retry(p, &p->proc.record);
		if (s == REFUSED)
			dead_letter(p, u, i, "the spool cannot take it (out of memory?)", counts);
		return s == STOPPED ? STOPPED : SPOOLED;
	}
	return SPOOLED;
}

static void add_pending(struct ax_pipeline *p, struct ax_unit *u)
{
	u->next = NULL;
	if (p->pending_tail)
		p->pending_tail->next = u;
	else
		p->pending = u;
	p->pending_tail = u;
}

/* spool_full = drop_oldest dropped records: an evidence_gap record says so. */
static void report_dropped(struct ax_pipeline *p, const struct ax_origin *origin)
{
	uint64_t n = ax_spool_take_dropped(p->spool);
	if (!n)
		return;
	char detail[160];
	snprintf(detail, sizeof(detail), "%llu records dropped from the full spool (spool_full = drop_oldest, "
		 "spool_max_size %llu bytes) before every output had them", (unsigned long long)n,
		 (unsigned long long)p->agent->spool_max_size);
	int64_t now = (int64_t)time(NULL);
	struct ax_gap gap = { .reason = "spool_dropped", .source = "spool", .tenant = "", .content_type = "",
			      .from = now, .to = now, .detail = detail, .now = now };
	struct ax_origin o = { .source = "spool", .type = "evidence_gap", .host = origin->host,
			       .version = origin->version };
	struct ax_buf text;
	struct ax_key key;
	ax_buf_init(&text, 4096);
	ax_error("spool", "EVIDENCE GAP (spool_dropped): %s", detail);
	if (ax_gap_render(&gap, &text, &key) || ax_process(&p->proc, text.data, text.len, &o) ||
	    spool_retry(p, &p->proc.record) != SPOOLED || spool_retry(p, NULL) != SPOOLED)
		ax_error("spool", "the evidence_gap record could not be spooled");
	ax_buf_finish(&text);
}

void ax_pipeline_consume(struct ax_pipeline *p, struct ax_unit *u, const struct ax_origin *origin,
			 struct ax_pipeline_counts *counts)
{
	bool all_in = true;
	for (size_t i = 0; i < u->count && all_in; i++)
		all_in = handle_record(p, u, i, origin, counts) != STOPPED;
	if (all_in) /* a unit ends a frame: readers see it at once */
		all_in = spool_retry(p, NULL) == SPOOLED;
	u->spooled_to = all_in ? ax_spool_end(p->spool) : NEVER_SAFE;
	p->unsynced++;
	add_pending(p, u);
	report_dropped(p, origin);
}

void ax_pipeline_settle(struct ax_pipeline *p, bool idle)
{
	if (!p->pending)
		return;
	uint64_t safe = UINT64_MAX - 1; /* everything written, once synced */
	if (p->on_ack) {
		safe = ax_spool_committed_min(p->spool);
	} else {
		if (!idle && p->unsynced < SYNC_EVERY_UNITS)
			return;
		if (ax_spool_sync(p->spool))
			return; /* said why; the units wait for the next try */
		p->unsynced = 0;
	}
	while (p->pending && (p->pending->spooled_to <= safe || p->pending->spooled_to == NEVER_SAFE)) {
		struct ax_unit *u = p->pending;
		p->pending = u->next;
		if (!p->pending)
			p->pending_tail = NULL;
		u->done(u, u->spooled_to != NEVER_SAFE);
	}
}

void ax_pipeline_abandon(struct ax_pipeline *p)
{
	while (p->pending) {
		struct ax_unit *u = p->pending;
		p->pending = u->next;
		u->done(u, false);
	}
	p->pending_tail = NULL;
}

#include "pipeline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "log.h"
#include "sources/gap.h"
#include "version.h"

#define SYNC_WAIT_MS 5        /* idle, how long the pipeline waits for the spool's syncer at a time */
#define DISK_RETRY_MS 1000
#define NEVER_SAFE UINT64_MAX /* spooled_to of a unit whose records did not all get in */
#define CHAIN_SAVE_MS 1000    /* the streams' positions are saved at most this often (chain.h) */

enum spooled { SPOOLED, REFUSED, STOPPED };

static void while_full(void *arg);

/* spool = memory: the streams' positions go to the journal before the
 * outputs can have the frame (chain.h). */
static void journal_chains(void *arg)
{
	struct ax_pipeline *p = arg;
	ax_chains_journal(&p->chains);
}

/* Workers for a unit's chunks: one a CPU, the pipeline's thread one of them. */
static ax_err start_workers(struct ax_pipeline *p, const struct ax_rules *rules, unsigned max_depth)
{
	unsigned cpus = ax_fanout_cpus();
	p->fanout = ax_fanout_create(cpus > 1 ? cpus - 1 : 0);
	if (!p->fanout)
		return AX_ERR_NOMEM;
	ax_err err = AX_OK;
	for (unsigned w = 0; w <= ax_fanout_helpers(p->fanout) && !err; w++)
		err = ax_kit_init(&p->kit[w], rules, max_depth);
	return err;
}

ax_err ax_pipeline_init(struct ax_pipeline *p, const struct ax_agent_conf *agent, const struct ax_rules *rules,
			struct ax_spool *spool, struct ax_deadletter *dead_letter, const atomic_int *stop)
{
	*p = (struct ax_pipeline){ .spool = spool, .dead_letter = dead_letter, .agent = agent, .stop = stop,
				   .on_ack = agent->spool == AX_SPOOL_MEMORY };
	ax_buf_init(&p->stream, 4096);
	unsigned depth = (unsigned)agent->max_depth;
	ax_err err = ax_processor_init(&p->own, rules, depth, agent->max_record_size);
	for (size_t c = 0; c < AX_FANOUT_JOBS; c++)
		for (size_t k = 0; k < AX_PIPELINE_CHUNK && !err; k++)
			err = ax_processor_init_lent(&p->chunk[c].proc[k], rules, agent->max_record_size);
	if (!err)
		err = start_workers(p, rules, depth);
	if (!err)
		err = ax_chains_init(&p->chains, agent->state_dir, agent->spool_fsync);
	if (!err)
		err = ax_chains_recover(&p->chains, spool);
	p->synced_end = ax_spool_end(spool);
	ax_spool_set_waiter(spool, while_full, p);
	if (p->on_ack)
		ax_spool_set_publisher(spool, journal_chains, p);
	return err;
}

void ax_pipeline_finish(struct ax_pipeline *p)
{
	/* The last positions, with the spool's end at the last sync: a spool
	 * emptied at this stop starts again at 0, and cannot be read for them. */
	ax_chains_save(&p->chains, p->synced_end);
	ax_chains_finish(&p->chains);
	ax_buf_finish(&p->stream);
	ax_fanout_destroy(p->fanout);
	for (size_t w = 0; w < 1 + AX_FANOUT_MAX_HELPERS; w++)
		ax_kit_finish(&p->kit[w]);
	for (size_t c = 0; c < AX_FANOUT_JOBS; c++)
		for (size_t k = 0; k < AX_PIPELINE_CHUNK; k++)
			ax_processor_finish(&p->chunk[c].proc[k]);
	ax_processor_finish(&p->own);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(const atomic_int *stop, int64_t ms)
{
	for (int64_t left = ms; left > 0 && !atomic_load(stop); left -= 100) {
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Puts proc's record in the spool (NULL: writes the open frame out); own
 * records go in at once, in a frame of their own. */
static ax_err spool_put(struct ax_pipeline *p, const struct ax_processor *proc)
{
	if (proc == &p->own)
		return ax_spool_write_own(p->spool, &proc->record);
	return proc ? ax_spool_append(p->spool, &proc->record, p->stop) : ax_spool_flush(p->spool, p->stop);
}

/* Tells the evidence ledger of the chunk's records spooled so far. */
static void count_spooled(struct ax_pipeline *p)
{
	if (p->nspooled)
		ax_evidence_spooled_n(p->evidence, p->spooled, p->nspooled);
	p->nspooled = 0;
}

/* An own record is told at once (p->own takes the next one); a chunk's
 * records once the chunk is spooled (count_spooled). */
static void note_spooled(struct ax_pipeline *p, const struct ax_processor *proc)
{
	if (proc == &p->own) {
		ax_evidence_spooled(p->evidence, proc);
		return;
	}
	if (p->nspooled == AX_PIPELINE_CHUNK)
		count_spooled(p);
	p->spooled[p->nspooled++] = proc;
}

/* Retries what a full disk refused until it is taken or the agent stops. */
static enum spooled spool_retry(struct ax_pipeline *p, const struct ax_processor *proc)
{
	for (;;) {
		ax_err err = spool_put(p, proc);
		if (!err) {
			if (proc && p->evidence)
				note_spooled(p, proc);
			return SPOOLED;
		}
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

/* The stream of a unit's records; NULL: no memory. */
static struct ax_chain_stream *stream_of(struct ax_pipeline *p, const struct ax_origin *origin)
{
	if (ax_chain_stream_name(origin, &p->stream))
		return NULL;
	return ax_chains_get(&p->chains, p->stream.data);
}

bool ax_pipeline_own(struct ax_pipeline *p, const char *json, size_t len, const struct ax_origin *origin)
{
	struct ax_chain_stream *stream = stream_of(p, origin);
	if (!stream)
		return false;
	bool behind = p->inflight.stream == stream;
	struct ax_seal seal = { .stream = stream->name, .prev = behind ? p->inflight.last : stream->link };
	if (ax_process_sealed(&p->own, json, len, origin, &seal))
		return false;
	if (p->on_ack) /* its frame goes out before its stream moves */
		ax_chains_journal_ahead(&p->chains, stream, &seal.next);
	if (spool_retry(p, &p->own) != SPOOLED)
		return false;
	if (behind) {
		p->inflight.last = seal.next;
		p->inflight.moved = true;
	} else {
		ax_chains_advance(&p->chains, stream, &seal.next);
	}
	if (!p->on_ack)
		ax_spool_sync_async(p->spool);
	return true;
}

/* Spools a sealed record and moves its stream past it, or past own records
 * numbered after it while it waited for room. One the spool refuses is
 * dead-lettered and its number taken by the next. At a stop, one waiting
 * for room after which own records were numbered goes in all the same, in
 * a frame of its own, so that no number is missing (its unit is read
 * again, at-least-once). */
static enum spooled spool_sealed(struct ax_pipeline *p, struct ax_processor *proc, const struct ax_seal *seal,
				 const struct ax_unit *u, size_t i, struct ax_chain_stream *stream,
				 struct ax_pipeline_counts *counts)
{
	p->inflight.stream = stream;
	p->inflight.last = seal->next;
	p->inflight.moved = false;
	struct ax_link taken = stream->link;
	enum spooled s = spool_retry(p, proc);
	if (s == SPOOLED)
		taken = seal->next;
	else if (s == REFUSED)
		dead_letter(p, u, i, "the spool cannot take it (out of memory?)", counts);
	if (p->inflight.moved) {
		if (s == STOPPED && ax_spool_write_own(p->spool, &proc->record) == AX_OK && p->evidence)
			ax_evidence_spooled(p->evidence, proc);
		taken = p->inflight.last;
	}
	p->inflight.stream = NULL;
	if (taken.seq != stream->link.seq)
		ax_chains_advance(&p->chains, stream, &taken);
	return s == STOPPED ? STOPPED : SPOOLED;
}

/* A record the workers leave as it is: it goes to the dead-letter file. */
static bool set_aside(const struct ax_unit_record *ur, const struct ax_chain_stream *stream)
{
	return ur->reject || ur->oversized || !stream;
}

/* A worker's share of a chunk: its records processed as numbered, and
 * their digests made side by side. */
static void process_share(void *arg, unsigned worker, size_t j, size_t n)
{
	struct ax_pipeline_chunk *c = arg;
	struct ax_processor *done[AX_CHAIN_GROUP];
	size_t ndone = 0;
	for (size_t end = j + n; j < end; j++) {
		size_t i = c->first + j;
		struct ax_processor *proc = &c->proc[j];
		if (!c->number[j])
			continue;
		struct ax_seal seal = { .stream = c->stream, .prev.seq = c->number[j] - 1 };
		proc->kit = &c->p->kit[worker];
		c->status[j] = ax_process_numbered(proc, ax_unit_data(c->u, i), c->u->records[i].len, c->origin, &seal);
		if (!c->status[j])
			done[ndone++] = proc;
	}
	if (ndone && ax_process_digest_n(done, ndone))
		for (size_t k = 0; k < ndone; k++) { /* said in done[0]'s reason: each dead letter says it */
			c->status[done[k] - c->proc] = AX_ERR_NOMEM;
			if (k)
				memcpy(done[k]->reason, done[0]->reason, sizeof(done[k]->reason));
		}
}

/* How many numbers c's records take if none of them fails. */
static uint64_t numbered(const struct ax_pipeline_chunk *c)
{
	uint64_t n = 0;
	for (size_t j = 0; j < c->n; j++)
		n += c->number[j] != 0;
	return n;
}

/* Numbers records [first, first + n) of the unit after seq, as if none
 * fails, and has the helpers start on them. */
static void start_chunk(struct ax_pipeline *p, struct ax_pipeline_chunk *c, const struct ax_unit *u,
			size_t first, const struct ax_origin *origin, struct ax_chain_stream *stream, uint64_t seq)
{
	size_t n = u->count - first < AX_PIPELINE_CHUNK ? u->count - first : AX_PIPELINE_CHUNK;
	for (size_t j = 0; j < n; j++)
		c->number[j] = set_aside(&u->records[first + j], stream) ? 0 : ++seq;
	c->p = p;
	c->u = u;
	c->first = first;
	c->n = n;
	c->origin = origin;
	c->stream = stream ? stream->name : "";
	ax_fanout_start(p->fanout, process_share, c, n, AX_CHAIN_GROUP);
}

/* Seals c's record j after the stream's last and spools it; renumbered
 * first if it was numbered otherwise (a record before it failed, or an own
 * record took a number while it waited). */
static enum spooled seal_record(struct ax_pipeline *p, struct ax_pipeline_chunk *c, size_t j,
				struct ax_chain_stream *stream, struct ax_pipeline_counts *counts)
{
	const struct ax_unit *u = c->u;
	size_t i = c->first + j;
	struct ax_processor *proc = &c->proc[j];
	struct ax_seal seal = { .stream = stream->name, .prev = stream->link };
	proc->kit = &p->kit[0];
	ax_err err = c->status[j];
	if (!err && c->number[j] != seal.prev.seq + 1) {
		err = ax_process_renumber(proc, &seal);
		if (!err)
			err = ax_process_digest_n(&proc, 1);
	}
	if (!err)
		err = ax_process_link(proc, &seal);
	if (err) {
		dead_letter(p, u, i, proc->reason, counts);
		return REFUSED;
	}
	return spool_sealed(p, proc, &seal, u, i, stream, counts);
}

static enum spooled handle_record(struct ax_pipeline *p, struct ax_pipeline_chunk *c, size_t j,
				  struct ax_chain_stream *stream, struct ax_pipeline_counts *counts)
{
	const struct ax_unit *u = c->u;
	size_t i = c->first + j;
	const struct ax_unit_record *ur = &u->records[i];
	char reason[160];
	counts->records++;
	if (ur->reject) {
		dead_letter(p, u, i, ur->reject, counts);
	} else if (ur->oversized) {
		snprintf(reason, sizeof(reason), "record of %llu bytes exceeds max_record_size (%llu bytes)",
			 (unsigned long long)ur->full_len, (unsigned long long)p->agent->max_record_size);
		dead_letter(p, u, i, reason, counts);
	} else if (!stream) {
		dead_letter(p, u, i, "out of memory", counts);
	} else {
		return seal_record(p, c, j, stream, counts);
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
			       .version = origin->version, .stream = AX_CHAIN_SPOOL_STREAM };
	struct ax_buf text;
	struct ax_key key;
	ax_buf_init(&text, 4096);
	ax_error("spool", "EVIDENCE GAP (spool_dropped): %s", detail);
	if (ax_gap_render(&gap, &text, &key) || !ax_pipeline_own(p, text.data, text.len, &o))
		ax_error("spool", "the evidence_gap record could not be spooled");
	ax_buf_finish(&text);
}

/* Chunk k of the unit, started numbered after the stream's last record
 * and the chunks started before it (from chunk `from` on), as if none of
 * them fails. */
static void start_ahead(struct ax_pipeline *p, const struct ax_unit *u, size_t k, size_t from,
			const struct ax_origin *origin, struct ax_chain_stream *stream)
{
	uint64_t seq = stream ? stream->link.seq : 0;
	for (size_t i = from; i < k; i++)
		seq += numbered(&p->chunk[i % AX_FANOUT_JOBS]);
	start_chunk(p, &p->chunk[k % AX_FANOUT_JOBS], u, k * AX_PIPELINE_CHUNK, origin, stream, seq);
}

void ax_pipeline_consume(struct ax_pipeline *p, struct ax_unit *u, const struct ax_origin *origin,
			 struct ax_pipeline_counts *counts)
{
	enum { AHEAD = AX_FANOUT_JOBS - 1 }; /* chunks the helpers work on while one is spooled */
	bool all_in = true;
	struct ax_chain_stream *stream = stream_of(p, origin);
	size_t chunks = (u->count + AX_PIPELINE_CHUNK - 1) / AX_PIPELINE_CHUNK;
	for (size_t k = 0; k < AHEAD && k < chunks; k++)
		start_ahead(p, u, k, 0, origin, stream);
	for (size_t k = 0; k < chunks && all_in; k++) {
		struct ax_pipeline_chunk *c = &p->chunk[k % AX_FANOUT_JOBS];
		ax_fanout_share(p->fanout);
		if (k + AHEAD < chunks) /* its slot's chunk, k - 1, is spooled */
			start_ahead(p, u, k + AHEAD, k, origin, stream);
		ax_fanout_retire(p->fanout);
		for (size_t j = 0; j < c->n && all_in; j++)
			all_in = handle_record(p, c, j, stream, counts) != STOPPED;
		count_spooled(p); /* before the chunk's slot takes the next chunk */
	}
	ax_fanout_join_all(p->fanout); /* chunks started after the spool stopped taking records */
	if (all_in) /* a unit ends a frame: readers see it at once */
		all_in = spool_retry(p, NULL) == SPOOLED;
	u->spooled_to = all_in ? ax_spool_end(p->spool) : NEVER_SAFE;
	p->unsynced++;
	add_pending(p, u);
	report_dropped(p, origin);
}

/* The streams' positions, saved after a sync (nothing spooled since) at
 * most once a second: what was numbered since the last save is found in
 * the spool at the next start (chain.h). */
static void save_chains(struct ax_pipeline *p)
{
	int64_t now = now_ms();
	if (!p->chains.dirty || now - p->chains_saved_ms < CHAIN_SAVE_MS || ax_spool_end(p->spool) != p->synced_end)
		return;
	ax_chains_save(&p->chains, p->synced_end); /* says why */
	p->chains_saved_ms = now;
}

/* spool = disk: what is durable. The spool's syncer thread syncs while
 * the pipeline goes on, asked after every unit (requests made during a
 * sync are served by one more): each unit is made safe, and its source's
 * checkpoint written in the source's thread, while the pipeline works on
 * the next ones. Syncing itself once the queue ran dry left the pipeline
 * idle for the sync, the checkpoint and the next read; asking every second
 * unit still left it waiting with the queue empty (a file source has 4
 * units in flight). Once a second the pipeline syncs itself,
 * so the streams' positions are saved with a spool synced to where they
 * are. Idle, it waits a little for the syncer. */
static bool synced_to(struct ax_pipeline *p, bool idle, uint64_t *safe)
{
	if (p->chains.dirty && now_ms() - p->chains_saved_ms >= CHAIN_SAVE_MS) {
		uint64_t end = ax_spool_end(p->spool);
		if (ax_spool_sync(p->spool))
			return false; /* said why; the units wait for the next try */
		p->unsynced = 0;
		*safe = end;
		return true;
	}
	if (idle || p->unsynced) {
		ax_spool_sync_async(p->spool);
		p->unsynced = 0;
	}
	*safe = ax_spool_synced(p->spool, idle ? p->pending->spooled_to : 0, idle ? SYNC_WAIT_MS : 0);
	return true;
}

void ax_pipeline_settle(struct ax_pipeline *p, bool idle)
{
	if (!p->pending) {
		save_chains(p); /* one owed since the last sync */
		return;
	}
	uint64_t safe = UINT64_MAX - 1; /* everything written */
	if (p->on_ack)
		safe = ax_spool_committed_min(p->spool);
	else if (!synced_to(p, idle, &safe))
		return;
	p->synced_end = p->on_ack ? ax_spool_end(p->spool) : safe;
	save_chains(p);
	while (p->pending && (p->pending->spooled_to <= safe || p->pending->spooled_to == NEVER_SAFE)) {
		struct ax_unit *u = p->pending;
		p->pending = u->next;
		if (!p->pending)
			p->pending_tail = NULL;
		u->done(u, u->spooled_to != NEVER_SAFE);
	}
}

/* An evidence record (evidence.h). */
static void emit_evidence(void *arg, const char *json, size_t len, const struct ax_origin *origin)
{
	struct ax_pipeline *p = arg;
	struct ax_origin o = *origin;
	o.host = ax_host_name(NULL);
	o.version = AX_VERSION;
	if (!ax_pipeline_own(p, json, len, &o))
		ax_error("evidence", "a %s record of %s could not be spooled", o.type, o.source);
}

void ax_pipeline_tick(struct ax_pipeline *p)
{
	if (p->evidence)
		ax_evidence_tick(p->evidence, (int64_t)time(NULL), emit_evidence, p);
}

/* The spool is full (spool_full = pause) and the pipeline waits in it:
 * the gap watch goes on meanwhile, so the horizon coming near is said by
 * a record now, not once there is room again. */
static void while_full(void *arg)
{
	ax_pipeline_tick(arg);
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

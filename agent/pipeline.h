/* pipeline.h - from a source's unit to the spool: decode, map, enrich,
 * spool each record (or dead-letter it), then tell the source once its
 * records are safe.
 *
 * Safe means durable in the spool (spool = disk: written and, with
 * spool_fsync, fdatasync'ed; several units share one sync), or with
 * spool = memory, acknowledged by every output. Units are told in the
 * order they came. */
#ifndef AX_AGENT_PIPELINE_H
#define AX_AGENT_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "config.h"
#include "deadletter.h"
#include "enrich.h"
#include "evidence.h"
#include "fanout.h"
#include "spool.h"
#include "unit.h"

#define AX_PIPELINE_CHUNK 32

struct ax_pipeline_counts {
	uint64_t records, dead_lettered;
};

struct ax_pipeline {
	/* A unit's records go through in chunks: decoded, mapped, rendered
	 * and hashed side by side (fanout.h; each worker with its kit), each
	 * record numbered as if none before it in its chunk fails (number[]);
	 * then linked into their stream and spooled one after the other, a
	 * record numbered otherwise renumbered. The helpers work on the next
	 * chunks meanwhile, numbered as if none of the chunks before them
	 * fails. */
	struct ax_pipeline_chunk {
		struct ax_processor proc[AX_PIPELINE_CHUNK];
		uint64_t number[AX_PIPELINE_CHUNK]; /* 0: not for processing (dead-lettered as it is) */
		ax_err status[AX_PIPELINE_CHUNK];
		/* the job */
		struct ax_pipeline *p;
		const struct ax_unit *u;
		size_t first, n; /* the unit's records at proc[0..n) */
		const struct ax_origin *origin;
		const char *stream;
	} chunk[AX_FANOUT_JOBS];
	struct ax_fanout *fanout;
	struct ax_kit kit[1 + AX_FANOUT_MAX_HELPERS];
	/* A record sealed into a stream and not yet spooled (the spool may
	 * wait for room): an own record of that stream spooled meanwhile takes
	 * a number after it, and last moves past it. */
	struct {
		struct ax_chain_stream *stream; /* NULL: none */
		struct ax_link last;
		bool moved;
	} inflight;
	struct ax_processor own; /* the agent's own records: spooled even while proc's wait for room */
	/* a chunk's records spooled and not yet told to the evidence ledger:
	 * told at the chunk's end, under one hold of its lock */
	const struct ax_processor *spooled[AX_PIPELINE_CHUNK];
	size_t nspooled;
	struct ax_spool *spool;
	struct ax_deadletter *dead_letter;
	const struct ax_agent_conf *agent;
	const atomic_int *stop;
	bool on_ack; /* spool = memory: a unit is safe once every output has it */
	struct ax_unit *pending, *pending_tail;
	unsigned unsynced; /* units spooled since the last sync asked for */
	struct ax_evidence *evidence; /* may be NULL: told of every record spooled */
	struct ax_chains chains; /* every stream's last seq and chain (chain.h) */
	struct ax_buf stream;    /* the name of the stream being spooled */
	int64_t chains_saved_ms;
	uint64_t synced_end; /* the spool's end at the last sync */
};

ax_err ax_pipeline_init(struct ax_pipeline *p, const struct ax_agent_conf *agent, const struct ax_rules *rules,
			struct ax_spool *spool, struct ax_deadletter *dead_letter, const atomic_int *stop) AX_WARN_UNUSED;
void ax_pipeline_finish(struct ax_pipeline *p);
/* Spools a unit's records, each sealed into its stream (chain.h); the
 * unit waits for settle. */
void ax_pipeline_consume(struct ax_pipeline *p, struct ax_unit *u, const struct ax_origin *origin,
			 struct ax_pipeline_counts *counts);
/* A record the agent makes itself (an evidence_gap...), sealed into its
 * stream and spooled at once, never behind the source records it may be
 * about (even while the spool waits for room), then synced. false: it
 * could not be (the reason was logged, or no memory). */
bool ax_pipeline_own(struct ax_pipeline *p, const char *json, size_t len, const struct ax_origin *origin);
/* Tells the sources about their safe units; idle (nothing more queued)
 * forces the sync that a busy pipeline spreads over several units. After
 * a sync, at most once a second, the streams' positions are saved
 * (state_dir/chain; ax_pipeline_finish saves the last ones). */
void ax_pipeline_settle(struct ax_pipeline *p, bool idle);
/* The pipeline thread's periodic work: evidence summaries, gap watch, ledger saves. */
void ax_pipeline_tick(struct ax_pipeline *p);
/* Every unit still waiting is told it is not safe (the agent stops). */
void ax_pipeline_abandon(struct ax_pipeline *p);
static inline bool ax_pipeline_settled(const struct ax_pipeline *p) { return !p->pending; }

#endif

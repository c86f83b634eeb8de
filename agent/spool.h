/* spool.h - the journal between the pipeline and the outputs.
 *
 * Enriched records are appended, in frames (spool_codec.h), to segment
 * files STATE_DIR/spool/OFFSET.seg; OFFSET is the logical position of the
 * segment's first byte, and positions only grow. Each output reads from its
 * own committed position, kept in STATE_DIR/spool/cursors, and a segment is
 * deleted once every output is past it. A source's checkpoint may move once
 * its records are durable (ax_spool_sync), so from the Microsoft API to the
 * receiver every record is delivered at least once.
 *
 * In memory (spool = memory) the segments are memfds and nothing survives
 * the process; the caller then releases a source's records only once every
 * output committed past them (ax_spool_committed_min).
 *
 * Startup repairs what a crash left: a segment's torn or corrupt tail is
 * cut back to its last valid frame, and said so. A corrupt frame met while
 * reading is skipped to the next valid one, and said so.
 *
 * Threads: one writer (append/flush/sync), one reader per output; each
 * call is safe beside the others. */
#ifndef AX_AGENT_SPOOL_H
#define AX_AGENT_SPOOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "outputs/output.h"

struct ax_metrics_output;

struct ax_spool_conf {
	const char *dir;          /* NULL: in memory */
	uint64_t max_size;        /* bytes of segments */
	bool drop_oldest;         /* when full, drop what only stalled outputs need; otherwise wait */
	int64_t stall_ms;         /* an output without progress for this long is stalled */
	int64_t catch_up_ms;      /* in memory: an output that committed this recently is waited for (0: never) */
	bool fsync;               /* ax_spool_sync makes the records durable */
	int compress_level;       /* zlib level of frames, 0: stored as is */
	size_t max_record;        /* the largest enriched record */
	const char *const *outputs; /* every output's name: each gets a cursor */
	struct ax_metrics_output *const *metrics; /* per output, counts what drop_oldest drops; may be NULL */
	size_t noutputs;
};

/* A position: the frame's logical offset and how many of its records are
 * behind. Always normalised: a frame read to its end is (next frame, 0). */
struct ax_spool_pos {
	uint64_t frame;
	uint32_t index;
};

struct ax_spool_stats {
	uint64_t bytes, segments;
	uint64_t appended;        /* records, this run */
	uint64_t dropped;         /* records dropped by drop_oldest, this run */
	uint64_t corrupt_bytes;   /* skipped or cut, this run */
	uint64_t frames_recent;   /* frames readers decoded in memory, this run */
	uint64_t frames_read_back; /* frames readers read back from the segments, this run */
	uint64_t written;         /* bytes written to the segments, this run (in memory: what outputs behind needed) */
};

struct ax_spool;
struct ax_spool_reader;

/* Opens (creating the directory 0700) or repairs the spool. Outputs not
 * seen before start at the end; when the cursors file is lost they start at
 * the oldest record, so nothing is skipped. */
struct ax_spool *ax_spool_open(const struct ax_spool_conf *conf, ax_err *err);
/* Writes the open frame and the cursors, then frees everything. */
void ax_spool_close(struct ax_spool *sp);

/* ---- the writer ---- */

/* Adds a record to the open frame; a full frame is written out. May wait
 * for room (spool_full = pause) until *stop: AX_ERR_AGAIN then, and the
 * record was not taken. AX_ERR_IO: the disk refused (full?); the record is
 * kept in the open frame, flush again later. */
ax_err ax_spool_append(struct ax_spool *sp, const struct ax_record *r, const atomic_int *stop) AX_WARN_UNUSED;
/* Writes the open frame out; the same errors as append. */
ax_err ax_spool_flush(struct ax_spool *sp, const atomic_int *stop) AX_WARN_UNUSED;
/* Writes r at once in a frame of its own, without waiting for room: the
 * spool may pass spool_max_size by it. For the agent's own few records
 * (evidence_gap and the like), which must not wait behind the records
 * they are about. AX_ERR_IO: the disk refused. */
ax_err ax_spool_write_own(struct ax_spool *sp, const struct ax_record *r) AX_WARN_UNUSED;
/* Run by the writer about five times a second while it waits for room
 * (append, flush), without the spool's lock: it may write_own. */
typedef void (*ax_spool_waiter)(void *arg);
void ax_spool_set_waiter(struct ax_spool *sp, ax_spool_waiter waiter, void *arg);
/* In memory only: run by the writer before each frame can reach the
 * readers. Nothing spooled survives the process: the pipeline journals the
 * streams' positions first (chain.h). */
typedef void (*ax_spool_publisher)(void *arg);
void ax_spool_set_publisher(struct ax_spool *sp, ax_spool_publisher publisher, void *arg);
/* Makes everything written durable (fdatasync, when conf.fsync). */
ax_err ax_spool_sync(struct ax_spool *sp) AX_WARN_UNUSED;
/* The same, done by a thread of the spool's own: returns at once, and the
 * writer goes on while the disk syncs. Requests made during a sync are
 * served by one more sync. */
void ax_spool_sync_async(struct ax_spool *sp);
/* The logical end of what is durable, by either sync (with fsync off or
 * in memory: the end); waits at most timeout_ms for it to reach want. */
uint64_t ax_spool_synced(struct ax_spool *sp, uint64_t want, int64_t timeout_ms);
/* The logical end of what was written. */
uint64_t ax_spool_end(struct ax_spool *sp);
/* The smallest committed position over every output (the end when there are none). */
uint64_t ax_spool_committed_min(struct ax_spool *sp);
/* How many records drop_oldest dropped since the last call. */
uint64_t ax_spool_take_dropped(struct ax_spool *sp);
void ax_spool_get_stats(struct ax_spool *sp, struct ax_spool_stats *st);

/* ---- readers, one per output ---- */

struct ax_spool_reader *ax_spool_reader_open(struct ax_spool *sp, const char *output, ax_err *err);
/* A reader of the records from logical position from on, with no cursor:
 * it reads (next), but cannot commit or wait. For scans at startup. */
struct ax_spool_reader *ax_spool_reader_open_at(struct ax_spool *sp, uint64_t from);
/* The logical position of the oldest record still held (the end when none). */
uint64_t ax_spool_start(struct ax_spool *sp);
void ax_spool_reader_close(struct ax_spool_reader *rd);
/* The next record, NULL when there is none yet. Valid until the next call. */
const struct ax_record *ax_spool_next(struct ax_spool_reader *rd);
/* Where the reader is: after the last record next() returned. */
struct ax_spool_pos ax_spool_tell(const struct ax_spool_reader *rd);
/* The output acknowledged every record before pos: persists it, and deletes
 * the segments every output is past. */
ax_err ax_spool_commit(struct ax_spool_reader *rd, struct ax_spool_pos pos) AX_WARN_UNUSED;
/* True when the reader committed everything written so far. */
bool ax_spool_caught_up(struct ax_spool_reader *rd);
/* Waits at most timeout_ms for a record after the reader's position; not
 * once *draining is set and the reader is caught up (it is done). */
void ax_spool_wait(struct ax_spool_reader *rd, int64_t timeout_ms, const atomic_int *draining);
/* Wakes the reader's ax_spool_wait to look at its draining again. */
void ax_spool_reader_wake(struct ax_spool_reader *rd);
/* Records dropped (drop_oldest) before this reader read them, since the last call. */
uint64_t ax_spool_reader_take_dropped(struct ax_spool_reader *rd);

#endif

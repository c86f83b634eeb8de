/* ledger.h - the evidence ledger: per tenant, source, content type, UTC
 * day and ISO/IEC 27001:2022 control, how many records were spooled, the
 * first and last event time (CreationTime / createdDateTime), and how many
 * each output acknowledged; plus the evidence_gap records seen, and what
 * the gap watch (evidence.h) needs to survive a restart.
 *
 * The day is the event's (its CreationTime in UTC), so a backfill counts
 * where the evidence belongs; a record without a readable time counts on
 * the day it was spooled. A record counts for each of its controls.
 *
 * It lives in memory and is saved as JSON lines to one file (written to a
 * temporary file, fsync'ed, renamed) every flush interval and when the
 * agent stops; a crash loses at most that interval of counts (the records
 * themselves are not lost: only the ledger's counts of them). Size: one
 * line per (stream, day) naming the controls that had evidence that day;
 * days older than the retention are pruned when it is saved.
 *
 * Threads: the pipeline counts, each output's sender acknowledges. Every
 * call takes the ledger's mutex for a few look-ups (no I/O, no allocation
 * but for the first record of a new stream, day or control). The readers
 * (evidence.c, the report) lock it, or use a ledger of their own. */
#ifndef AX_AGENT_LEDGER_H
#define AX_AGENT_LEDGER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "catalog.h"
#include "err.h"
#include "outputs/output.h"

#define AX_LEDGER_MAX_OUTPUTS 64
#define AX_LEDGER_RECENT_STREAMS 8 /* found without the hash: a file's mix of content types fits */
#define AX_LEDGER_MAX_GAPS 4096 /* gap entries kept; the oldest go first */
#define AX_LEDGER_RECENT 8      /* days of a stream found without the hash */

/* What the gap watch (watch.h) raised and has not cleared yet, kept across
 * restarts so that its evidence_resumed record names the same gap. */
struct ax_watch_mark {
	int64_t raised;        /* epoch s the evidence_gap went out, 0: none open */
	int64_t since;         /* what the gap is measured from (last arrival, cursor), epoch s */
};

struct ax_ledger_tenant {
	char *name;                          /* "" when the records name none */
	int64_t ctl_last[AX_CSET_MAX];       /* last spooled record of each control, epoch s; 0: never */
	struct ax_watch_mark ctl_mark[AX_CSET_MAX]; /* a control's silence */
};

/* One source of one tenant. */
struct ax_ledger_party {
	struct ax_ledger_tenant *tenant;
	char *source;
	int64_t last_arrival;  /* epoch s of the last record spooled, 0: never */
	struct ax_watch_mark silence;
	struct ax_watch_mark credential; /* its certificate expires soon */
	int32_t summarized;    /* the last day an evidence_summary went out for, 0: none */
};

/* One content type of one source of one tenant. */
struct ax_ledger_stream {
	struct ax_ledger_party *party;
	char *content_type;
	bool live;             /* from an API with a 7-day horizon (not a file) */
	int64_t last_arrival;  /* epoch s, 0: never */
	int64_t newest_event;  /* the latest event time seen, epoch s */
	struct ax_watch_mark silence;
	struct ax_watch_mark horizon; /* its checkpoint near the API's 7-day horizon */
	int64_t cursor_seen, cursor_moved; /* the checkpoint the watch last saw, since when (epoch s); not kept */
	struct ax_ledger_row *recent[AX_LEDGER_RECENT];
	uint32_t hash;
};

struct ax_ledger_cell {
	uint32_t control;      /* catalog index */
	uint64_t records;
	int64_t first, last;   /* event times, epoch s */
};

/* One stream's day. */
struct ax_ledger_row {
	struct ax_ledger_stream *stream;
	int32_t day;           /* days since 1970-01-01 (UTC) */
	uint64_t records;      /* records of the day, whatever their controls */
	uint64_t gaps;         /* evidence_gap records about the stream that day */
	uint8_t slot[AX_CSET_MAX]; /* control index → cell index + 1 */
	struct ax_ledger_cell *cells;
	size_t ncells, cap;
	uint64_t *acked;       /* [cell * width + output] */
	uint64_t *row_acked;   /* [output]: records acknowledged, whatever their controls */
	size_t width;
};

/* An evidence_gap record the pipeline spooled. */
struct ax_ledger_gap {
	struct ax_ledger_stream *stream;
	int32_t day;
	int64_t time;          /* when it was noticed, epoch s */
	int64_t from, to;      /* the window out of reach, 0: unknown */
	int control;           /* the control that went silent, -1: none */
	char *reason, *detail, *content_id;
};

struct ax_ledger {
	pthread_mutex_t lock;
	const struct ax_catalog *catalog;
	int8_t control_of[10][64]; /* "T.N" → catalog index, -1: none */
	char *path;            /* NULL: nothing saved */
	int64_t retention_days;
	char *outputs[AX_LEDGER_MAX_OUTPUTS];
	size_t noutputs;
	struct ax_ledger_tenant **tenants;
	size_t ntenants;
	struct ax_ledger_party **parties;
	size_t nparties;
	struct ax_ledger_stream **streams;
	size_t nstreams;
	struct ax_ledger_stream **stream_index; /* open addressing on the three names */
	size_t stream_index_cap;
	struct ax_ledger_stream *recent_streams[AX_LEDGER_RECENT_STREAMS]; /* looked up last */
	size_t recent_streams_next;
	struct ax_ledger_row **rows;
	size_t nrows, rows_cap;
	struct ax_ledger_row **index; /* open addressing on (stream, day) */
	size_t index_cap;
	struct ax_ledger_gap *gaps; /* a ring of AX_LEDGER_MAX_GAPS */
	size_t gap_start, ngaps;
	uint64_t lost;         /* records not counted: out of memory */
	char day_text[10];     /* the last event's date, and its start (epoch s) */
	int64_t day_start;
};

/* Loads path (a missing file is an empty ledger; NULL: memory only). A
 * file that cannot be read is an error; lines that do not parse are
 * skipped, said in *skipped. */
struct ax_ledger *ax_ledger_open(const char *path, const struct ax_catalog *catalog, int64_t retention_days,
				 size_t *skipped, ax_err *err);
void ax_ledger_close(struct ax_ledger *l);
/* Prunes what is older than the retention (today: days since the epoch)
 * and writes the file, atomically and durably. */
ax_err ax_ledger_save(struct ax_ledger *l, int32_t today) AX_WARN_UNUSED;
/* Renders the ledger as it would be saved (for save and tests). */
ax_err ax_ledger_render(struct ax_ledger *l, struct ax_buf *out) AX_WARN_UNUSED;

/* The index of an output for acks, -1 when AX_LEDGER_MAX_OUTPUTS are taken. */
int ax_ledger_output(struct ax_ledger *l, const char *name);

/* ---- the hot path ---- */

/* The pipeline spooled r (live: from an API with a 7-day horizon). */
void ax_ledger_count(struct ax_ledger *l, const struct ax_record *r, bool live, int64_t now);
/* The same with the lock held, so that the records of a chunk take it once. */
void ax_ledger_count_locked(struct ax_ledger *l, const struct ax_record *r, bool live, int64_t now);
/* The pipeline spooled an evidence_gap record about r's stream. */
void ax_ledger_gap(struct ax_ledger *l, const struct ax_record *r, const struct ax_ledger_gap *g, int64_t now);
/* Output out acknowledged these records. */
void ax_ledger_ack(struct ax_ledger *l, int out, const struct ax_record *records, size_t n, int64_t now);

/* ---- readers (with the lock held, or on a ledger of one's own) ---- */

static inline void ax_ledger_lock(struct ax_ledger *l) { pthread_mutex_lock(&l->lock); }
static inline void ax_ledger_unlock(struct ax_ledger *l) { pthread_mutex_unlock(&l->lock); }
/* The control index of a 2022 id such as "8.15", -1 if none. */
int ax_ledger_control(const struct ax_ledger *l, const char *id);
/* The i-th gap entry, oldest first. */
static inline struct ax_ledger_gap *ax_ledger_gap_at(struct ax_ledger *l, size_t i)
{
	return &l->gaps[(l->gap_start + i) % AX_LEDGER_MAX_GAPS];
}
/* The stream, created if needed (NULL: out of memory). */
struct ax_ledger_stream *ax_ledger_stream(struct ax_ledger *l, const char *tenant, const char *source,
					  const char *content_type);
struct ax_ledger_tenant *ax_ledger_tenant(struct ax_ledger *l, const char *name);

/* UTC days since the epoch of an epoch second, and back. */
static inline int32_t ax_ledger_day(int64_t t) { return (int32_t)(t >= 0 ? t / 86400 : (t - 86399) / 86400); }
/* "YYYY-MM-DD" (11 bytes with the NUL). */
void ax_ledger_day_format(int32_t day, char out[11]);
bool ax_ledger_day_parse(const char *s, int32_t *day);

#endif

/* emit.h - records from a response body into units, each record once.
 *
 * A record with an id is forwarded only when its key is new to the
 * stream's seen set (the key is claimed now, confirmed or released when
 * its unit comes back); one without is always forwarded. Units fill up to
 * a record count or a byte size, then go to the pipeline. Records larger
 * than max_record_size keep their first 64 KiB and go to the dead-letter
 * file, as lines of a file do. */
#ifndef AX_AGENT_SOURCES_EMIT_H
#define AX_AGENT_SOURCES_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "enrich.h"
#include "sources/feed.h"
#include "sources/gap.h"
#include "sources/seen.h"

/* A unit goes to the pipeline once it holds this much: every API stream
 * keeps one filling (hundreds with many tenants), so they stay small. */
#define AX_EMIT_UNIT_BYTES (512u << 10)

struct ax_emitter {
	struct ax_feed *feed;
	struct ax_seen *seen;
	struct ax_origin origin;     /* of the records (strings live as long as the stream) */
	struct ax_origin gap_origin; /* of gap records */
	size_t max_record;
	const char *log_name;
	struct ax_feed_unit *cur;
	struct ax_buf gap_text;
	uint64_t forwarded, repeats, gaps;
};

void ax_emitter_init(struct ax_emitter *e, struct ax_feed *feed, struct ax_seen *seen, const struct ax_origin *origin,
		     size_t max_record, const char *log_name);
void ax_emitter_finish(struct ax_emitter *e);
/* One record (job: what it belongs to, for the settle callback; may be
 * NULL). reject: static text when the bytes are known not to be a record.
 * False when the agent stops. */
bool ax_emit(struct ax_emitter *e, const char *data, size_t len, uint64_t index, uint64_t offset,
	     const struct ax_key *key, struct ax_feed_job *job, const char *reject);
/* Pushes the unit being filled. False when the agent stops. */
bool ax_emit_flush(struct ax_emitter *e);
/* Logs the gap and pushes its record at once (unless reported already). */
bool ax_emit_gap(struct ax_emitter *e, const struct ax_gap *g, struct ax_feed_job *job);
/* For settle callbacks: confirms (ok) or releases the unit's keys. */
void ax_emit_settle_keys(struct ax_seen *seen, const struct ax_feed_unit *u);

#endif

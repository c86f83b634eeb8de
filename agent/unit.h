/* unit.h - what a source hands the pipeline: raw records with their origin,
 * and a way to hear back once they are safe.
 *
 * A source fills a unit (a blob of the Management API, a page of Graph
 * alerts, a run of lines of a file) and pushes it on the queue. The
 * pipeline decodes, maps and spools its records, then calls done() once
 * they are safe (durable in the spool, or with spool = memory acknowledged
 * by every output): only then may the source move its checkpoint past them.
 * Units are done in the order they were pushed. ok = false means the
 * records are not safe (the agent is stopping); the checkpoint stays. */
#ifndef AX_AGENT_UNIT_H
#define AX_AGENT_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "enrich.h"
#include "err.h"

struct ax_unit_record {
	size_t off, len;   /* in data */
	uint64_t line;     /* where it came from, for the dead-letter file: */
	uint64_t offset;   /*   line number and byte offset in a file or blob */
	uint64_t full_len; /* > len when the record was cut (oversized) */
	bool oversized;
	const char *reject; /* set by a source that knows the bytes are no record: why (static text) */
};

struct ax_unit {
	struct ax_origin origin; /* strings owned by the source, stable while it lives */
	struct ax_buf data;
	struct ax_unit_record *records;
	size_t count, cap;
	void (*done)(struct ax_unit *unit, bool ok);
	void *owner;       /* the source's */
	uint64_t tag;      /* the source's, e.g. which window the unit belongs to */
	uint64_t spooled_to;  /* the pipeline's: the spool's end once the records are in */
	struct ax_unit *next; /* queue link, then the pipeline's */
};

void ax_unit_init(struct ax_unit *u, size_t max_bytes);
void ax_unit_finish(struct ax_unit *u);
void ax_unit_clear(struct ax_unit *u);
/* Copies one record's bytes in. */
ax_err ax_unit_add(struct ax_unit *u, const char *data, size_t len, uint64_t line, uint64_t offset,
		   uint64_t full_len, bool oversized) AX_WARN_UNUSED;
static inline const char *ax_unit_data(const struct ax_unit *u, size_t i) { return u->data.data + u->records[i].off; }

#endif

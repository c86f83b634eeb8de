/* verify.h - `annexa verify`: records read back from a SIEM (JSON lines,
 * in any order, several streams mixed) checked against their chains
 * (chain.h).
 *
 * Each line is parsed from its end (stream, seq, chain) and hashed once as
 * it is added; only 88 bytes of it are kept. At the end the lines are
 * grouped by stream and sorted by seq, and each stream is judged:
 *
 * - missing: numbers between the stream's first and last seq that no line
 *   carries (a deleted record; or one the agent dropped, a receiver
 *   refused, or an output's match.* filter kept away). What lies before the
 *   first or after the last line of a stream cannot be told from an export
 *   window's edge.
 * - broken: a record whose chain value is not SHA-256(chain of the record
 *   before it || SHA-256(R')): it was edited (or, if whoever edited it also
 *   recomputed its chain, the record after it shows as broken). seq 1 links
 *   to the zero value. A record whose predecessor is missing cannot be
 *   checked; it is not counted as broken (the hole is reported).
 * - duplicates: the same record (same bytes) more than once: at-least-once
 *   delivery sends a batch again after a timeout. Not tampering.
 * - conflicts: two different records with the same seq, both intact (a
 *   stream numbered twice: its state_dir was lost or restored).
 * - unreadable: a line that does not end the way an emitted record ends
 *   (not annexa's, or its end was altered).
 *
 * The input is clean when none of the last four but duplicates occur. */
#ifndef AX_AGENT_VERIFY_H
#define AX_AGENT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct ax_verify_range {
	uint64_t first, last;
};

struct ax_verify_finding {
	uint64_t seq;
	uint64_t line;  /* input line (1-based) */
	uint64_t other; /* duplicate: the line it copies; conflict: a line with another record of that seq */
};

struct ax_verify_stream {
	const char *name; /* as records carry it: JSON string content */
	uint64_t records; /* distinct records */
	uint64_t first, last;
	uint64_t missing_count;
	struct ax_verify_range *missing;
	size_t nmissing;
	struct ax_verify_finding *broken, *duplicates, *conflicts;
	size_t nbroken, nduplicates, nconflicts;
};

struct ax_verify_report {
	struct ax_verify_stream *streams; /* in the order they first appear */
	size_t nstreams;
	uint64_t records, missing, broken, duplicates, conflicts;
	uint64_t *unreadable; /* line numbers */
	size_t nunreadable;
};

struct ax_verify;

struct ax_verify *ax_verify_create(void);
void ax_verify_destroy(struct ax_verify *v);
/* One input line (blank lines are skipped). */
ax_err ax_verify_add(struct ax_verify *v, const char *line, size_t len, uint64_t number) AX_WARN_UNUSED;
/* Judges every stream; the report belongs to v. Call once, after the last add. */
ax_err ax_verify_finish(struct ax_verify *v, const struct ax_verify_report **report) AX_WARN_UNUSED;
static inline bool ax_verify_clean(const struct ax_verify_report *r)
{
	return !r->missing && !r->broken && !r->conflicts && !r->nunreadable;
}

#endif

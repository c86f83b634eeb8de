/* gap.h - the record a source emits when evidence was provably out of reach.
 *
 * Silence is never the failure mode: when the 7-day horizon passed while
 * the agent was down, a blob expired before it could be fetched, the
 * subscription was found disabled, or the credentials stopped working, the
 * source hands the pipeline a small record of its own, and logs it:
 *
 *   {"annexa_event":"evidence_gap","Id":"…","CreationTime":"…","Workload":"annexa",
 *    "Operation":"EvidenceGap","reason":"horizon_passed","source":"…","tenant":"…",
 *    "content_type":"…","window_start":"…Z","window_end":"…Z","content_id":null,
 *    "detail":"…"}
 *
 * It travels in a unit whose origin type is "evidence_gap", so the enriched
 * record says annexa.type = "evidence_gap". Its Id is derived from what it
 * reports, so the same gap reported twice carries the same Id. */
#ifndef AX_AGENT_SOURCES_GAP_H
#define AX_AGENT_SOURCES_GAP_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "sources/dedup.h"

struct ax_gap {
	const char *reason;       /* horizon_passed, blob_expired, blob_unavailable, subscription_disabled, access_denied… */
	const char *source, *tenant, *content_type;
	int64_t from, to;         /* the window out of reach, epoch seconds; 0: unknown */
	const char *content_id;   /* the blob, or NULL */
	const char *detail;       /* one line for people */
	int64_t now;              /* when it was noticed, epoch seconds */
};

/* The record's JSON in out (cleared first) and its dedup key. */
ax_err ax_gap_render(const struct ax_gap *g, struct ax_buf *out, struct ax_key *key) AX_WARN_UNUSED;

#endif

/* gap.h - the record annexa emits when evidence was provably out of reach,
 * and the one that says it flows again.
 *
 * Silence is never the failure mode: when the 7-day horizon passed while
 * the agent was down, a blob expired before it could be fetched, the
 * subscription was found disabled, or the credentials stopped working, the
 * source hands the pipeline a small record of its own, and logs it; the gap
 * watch (watch.h) does the same when evidence goes silent:
 *
 *   {"annexa_event":"evidence_gap","Id":"…","CreationTime":"…","Workload":"annexa",
 *    "Operation":"EvidenceGap","reason":"horizon_passed","source":"…","tenant":"…",
 *    "content_type":"…","control":null,"window_start":"…Z","window_end":"…Z",
 *    "content_id":null,"detail":"…"}
 *
 * It travels with the origin type "evidence_gap", so the enriched record
 * says annexa.type = "evidence_gap". Its Id is derived from what it
 * reports, so the same gap reported twice carries the same Id. A gap the
 * watch raised is cleared by
 *
 *   {"annexa_event":"evidence_resumed","Id":"…","CreationTime":"…","Workload":"annexa",
 *    "Operation":"EvidenceResumed","gap_id":"<the evidence_gap's Id>","reason":…,
 *    (the gap's members) …,"resumed_at":"…Z","detail":"…"} */
#ifndef AX_AGENT_SOURCES_GAP_H
#define AX_AGENT_SOURCES_GAP_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "sources/dedup.h"

struct ax_gap {
	const char *reason;       /* horizon_passed, blob_expired, blob_unavailable, subscription_disabled, access_denied… */
	const char *source, *tenant, *content_type;
	const char *control;      /* the 2022 control gone silent, or NULL */
	int64_t from, to;         /* the window out of reach, epoch seconds; 0: unknown */
	const char *content_id;   /* the blob, or NULL */
	const char *detail;       /* one line for people */
	int64_t now;              /* when it was noticed, epoch seconds */
};

/* The record's JSON in out (cleared first) and its dedup key. */
ax_err ax_gap_render(const struct ax_gap *g, struct ax_buf *out, struct ax_key *key) AX_WARN_UNUSED;
/* The evidence_resumed record of g (its detail saying what resumed), at. */
ax_err ax_gap_render_resumed(const struct ax_gap *g, int64_t at, struct ax_buf *out) AX_WARN_UNUSED;

#endif

/* enrich.h - decode → map → enrich for one raw record.
 *
 * Enrichment is a splice: the record's bytes are kept exactly and the
 * "iso27001" and "annexa" members are inserted before its closing brace. */
#ifndef AX_AGENT_ENRICH_H
#define AX_AGENT_ENRICH_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "chain.h"
#include "err.h"
#include "mapper.h"
#include "outputs/output.h"
#include "record.h"
#include "rules.h"

/* Where records come from: the annexa member of every record. */
struct ax_origin {
	const char *source; /* source section name */
	const char *type;   /* o365 | graph_alerts | graph_audit | file | map */
	const char *content_type; /* NULL: derived from the record */
	const char *tenant;       /* NULL: from the record */
	const char *host;
	const char *version;
	const char *stream;       /* NULL: from source, tenant and content type (chain.h) */
};

#define AX_ISO_CACHE_SLOTS 256
struct ax_iso_cache;

/* What processing takes besides a record: the mapper's and the iso
 * member's caches, and a SHA-256 hasher (made at first use). A processor
 * has its own, or uses the one lent it (ax_processor_init_lent): a thread's
 * processors then share warm caches. */
struct ax_kit {
	struct ax_match_cache *cache;
	struct ax_iso_cache *iso_cache;
	struct ax_chain_hasher *hasher;
	/* the record being processed, parsed: scratch, so it stays in the cache
	 * of the thread's core (a processor's record goes to another thread) */
	struct ax_json_doc *doc;
	struct ax_event ev;
};

ax_err ax_kit_init(struct ax_kit *k, const struct ax_rules *rules, unsigned max_depth) AX_WARN_UNUSED;
void ax_kit_finish(struct ax_kit *k);

struct ax_processor {
	const struct ax_rules *rules;
	struct ax_kit *kit; /* &own, or lent */
	struct ax_kit own;
	/* the annexa member's fixed parts, for the last origin seen */
	struct {
		char *source, *type, *host, *version;
	} origin;
	bool origin_ok;
	struct ax_buf origin_text;
	size_t origin_head;
	struct ax_mapping mapping;
	struct ax_buf out;
	struct ax_buf texts; /* the record's strings, copied from the kit's doc */
	const char *controls[AX_CSET_MAX];
	struct ax_record record;
	struct ax_chain_slot slot;      /* where a numbered record's chain value goes */
	uint8_t digest[AX_CHAIN_LEN];   /* ax_process_digest_n's */
	char ingested_at[32];
	long long ingested_sec;
	char reason[256]; /* why the last record failed */
};

ax_err ax_processor_init(struct ax_processor *p, const struct ax_rules *rules,
			 unsigned max_depth, size_t max_record) AX_WARN_UNUSED;
/* The same without a kit of its own: p->kit is set before each use. */
ax_err ax_processor_init_lent(struct ax_processor *p, const struct ax_rules *rules, size_t max_record) AX_WARN_UNUSED;
void ax_processor_finish(struct ax_processor *p);
/* Decodes, maps and enriches raw; on success p->record describes the
 * enriched record (valid until the next call). On failure p->reason says why
 * (AX_ERR_JSON, AX_ERR_TOO_DEEP, AX_ERR_NOT_OBJECT, AX_ERR_TOO_LARGE). */
ax_err ax_process(struct ax_processor *p, const char *raw, size_t len,
		  const struct ax_origin *origin) AX_WARN_UNUSED;
/* The same, and the record takes its place in a stream (chain.h): the
 * annexa member ends with stream, seq (seal->prev.seq + 1) and chain, and
 * seal->next says where the stream is after it. The caller moves its
 * stream there once the record is kept (spooled). seal NULL: ax_process. */
ax_err ax_process_sealed(struct ax_processor *p, const char *raw, size_t len, const struct ax_origin *origin,
			 struct ax_seal *seal) AX_WARN_UNUSED;
/* ax_process_sealed in two steps, so that the records of a stream can be
 * sealed in groups (ax_chain_seal_n). ax_process_numbered renders the
 * record as number seal->prev.seq + 1 of seal->stream, its chain value not
 * yet computed (p->record is complete once sealed); ax_process_seal
 * computes it from seal->prev, ax_process_seal_n those of p[0..n) (1 to
 * AX_CHAIN_GROUP records, each numbered one after the one before): p[0]'s
 * from seal[0].prev, then each seal[k].prev becomes seal[k - 1].next. A
 * failure to seal (no memory, no SHA-256) is said in the reason of p[0]. */
ax_err ax_process_numbered(struct ax_processor *p, const char *raw, size_t len, const struct ax_origin *origin,
			   const struct ax_seal *seal) AX_WARN_UNUSED;
ax_err ax_process_seal(struct ax_processor *p, struct ax_seal *seal) AX_WARN_UNUSED;
/* A numbered record given another number (seal->prev.seq + 1), not yet
 * sealed: its bytes are the same but for the digits of seq. */
ax_err ax_process_renumber(struct ax_processor *p, const struct ax_seal *seal) AX_WARN_UNUSED;
ax_err ax_process_seal_n(struct ax_processor *p, struct ax_seal *seal, size_t n) AX_WARN_UNUSED;
/* ax_process_seal in two steps: the digests of n numbered records (1 to
 * AX_CHAIN_GROUP, with p[0]'s kit) into each one's digest, which needs
 * nothing of the records before them; then one record's chain after
 * seal->prev (seal->next as ax_process_seal). */
ax_err ax_process_digest_n(struct ax_processor *const *p, size_t n) AX_WARN_UNUSED;
ax_err ax_process_link(struct ax_processor *p, struct ax_seal *seal) AX_WARN_UNUSED;
/* Content type of a record when its source does not say (map, file). */
const char *ax_event_content_type(const struct ax_event *ev);

#endif

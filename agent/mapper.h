/* mapper.h - evaluate the mapping rules for one decoded event.
 *
 * Semantics (schemas/README.md): every matching specific rule contributes
 * its controls; when none matched, the best fallback alone applies. The
 * primary rule (lowest priority number, then id) gives category and
 * severity; severity_from may override the severity from the record. */
#ifndef AX_AGENT_MAPPER_H
#define AX_AGENT_MAPPER_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "record.h"
#include "rules.h"

#define AX_MAP_MAX_USED 32

struct ax_mapping {
	const struct ax_rule *used[AX_MAP_MAX_USED]; /* primary first */
	size_t nused;
	enum ax_severity severity;
	struct ax_cset controls; /* 2022, direct evidence; never empty */
	struct ax_cset related;  /* 2022, minus controls */
	struct ax_cset c2013;    /* predecessors of controls */
	bool drift;
};

void ax_mapper_eval(const struct ax_rules *rules, const struct ax_event *ev, struct ax_mapping *out);

/* The same, remembering per (kind, workload, operation, record type, result
 * status) which rules can match, so most events only test conditions. One
 * cache per thread; bounded: AX_MATCH_CACHE_SLOTS entries. */
#define AX_MATCH_CACHE_SLOTS 1024
struct ax_match_cache;
struct ax_match_cache *ax_match_cache_create(const struct ax_rules *rules);
void ax_match_cache_destroy(struct ax_match_cache *cache);
void ax_mapper_eval_cached(const struct ax_rules *rules, struct ax_match_cache *cache,
			   const struct ax_event *ev, struct ax_mapping *out);

#endif

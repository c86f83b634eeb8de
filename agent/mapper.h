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

#endif

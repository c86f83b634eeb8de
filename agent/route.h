/* route.h - which outputs a record goes to: each output's match.* filter.
 *
 * A record passes when it is at least match.min_severity and, for each
 * non-empty list, matches one entry: its category, one of its controls (an
 * id such as 8.15 or a prefix such as 5.*), its workload (case-insensitive). */
#ifndef AX_AGENT_ROUTE_H
#define AX_AGENT_ROUTE_H

#include <stdbool.h>

#include "config.h"
#include "outputs/output.h"
#include "rules.h"

bool ax_route_match(const struct ax_output_common_conf *filter, const struct ax_record *record);
/* Every output's match.controls names a control of the catalog or a theme
 * (5.* to 8.*), and match.categories a category some rule yields. */
void ax_route_validate(const struct ax_config *cfg, const struct ax_rules *rules, struct ax_diag *diag);

#endif

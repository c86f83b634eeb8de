/* ledger_int.h - what ledger.c and ledger_file.c share, and no one else:
 * finding or making the parts of a ledger (the caller holds the lock, or
 * the ledger is not shared yet). */
#ifndef AX_AGENT_LEDGER_INT_H
#define AX_AGENT_LEDGER_INT_H

#include "ledger.h"

/* An event time as records write it, epoch s; 0 when it cannot be read. */
int64_t ax_ledger_parse_time(const char *s);
struct ax_ledger_party *ax_ledger_party(struct ax_ledger *l, const char *tenant, const char *source);
struct ax_ledger_row *ax_ledger_row(struct ax_ledger *l, struct ax_ledger_stream *s, int32_t day);
struct ax_ledger_cell *ax_ledger_cell(struct ax_ledger_row *r, unsigned control);
/* Room in r for the ack counts of output out. */
bool ax_ledger_row_widen(struct ax_ledger_row *r, size_t out);
/* Keeps a copy of g (its strings too), dropping the oldest when full. */
void ax_ledger_gap_keep(struct ax_ledger *l, const struct ax_ledger_gap *g);
/* Reads l->path into l; lines that do not parse are counted in *skipped. */
ax_err ax_ledger_load(struct ax_ledger *l, size_t *skipped) AX_WARN_UNUSED;

#endif

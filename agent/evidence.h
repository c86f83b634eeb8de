/* evidence.h - what `annexa run` does about evidence besides forwarding it:
 * the [evidence] section, the ledger (ledger.h) kept up to date by the
 * pipeline and the senders, the daily evidence_summary records, and the
 * gap watch.
 *
 * The pipeline calls ax_evidence_spooled for every record it spooled and
 * ax_evidence_tick from its loop; the tick saves the ledger every
 * flush_interval, and hands the pipeline the records the agent makes itself
 * (through emit, outside the ledger's lock), which the pipeline processes
 * and spools like any other:
 *
 *   {"annexa_event":"evidence_summary","Id":"…","CreationTime":"…","Workload":"annexa",
 *    "Operation":"EvidenceSummary","tenant":"…","source":"…","day":"2026-11-22",
 *    "records":1234,"gaps":0,"controls":{"8.15":1200,…},"content_types":{"Audit.Exchange":900,…},
 *    "acked":{"OUTPUT":1234,…}}
 *
 * one per tenant and source for each UTC day that ended (summary_delay
 * ago) while annexa knew the source, days missed while it was stopped
 * included (at most 7 back). Its annexa.type is "evidence_summary". */
#ifndef AX_AGENT_EVIDENCE_H
#define AX_AGENT_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "delivery.h"
#include "diag.h"
#include "enrich.h"
#include "err.h"
#include "evidence_conf.h"
#include "ledger.h"

/* Records the agent makes itself: JSON text and where it comes from. */
typedef void (*ax_evidence_emit_fn)(void *arg, const char *json, size_t len, const struct ax_origin *origin);

struct ax_evidence;

/* Opens state_dir/ledger/ledger.jsonl (state_dir NULL: memory only). */
struct ax_evidence *ax_evidence_create(const struct ax_evidence_conf *conf, const char *state_dir,
				       const struct ax_catalog *catalog, ax_err *err);
/* Saves the ledger (said when it cannot), then frees everything. */
void ax_evidence_destroy(struct ax_evidence *ev);
struct ax_ledger *ax_evidence_ledger(struct ax_evidence *ev);

/* The pipeline spooled p->record (its origin is the processor's last). */
void ax_evidence_spooled(struct ax_evidence *ev, const struct ax_processor *p);
/* The same for n records, the ledger's lock taken once for them: the
 * output threads take it to count what they delivered. */
void ax_evidence_spooled_n(struct ax_evidence *ev, const struct ax_processor *const *p, size_t n);
/* The output's acknowledged records go to the ledger (the delivery's acked hook). */
void ax_evidence_attach(struct ax_evidence *ev, struct ax_delivery *d);
/* Periodic work of the pipeline thread: summaries, the watch, saving. */
void ax_evidence_tick(struct ax_evidence *ev, int64_t now, ax_evidence_emit_fn emit, void *arg);

#endif

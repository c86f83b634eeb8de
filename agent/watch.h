/* watch.h - the gap watch: says out loud, in evidence_gap records
 * (sources/gap.h), when evidence stops, and clears each with an
 * evidence_resumed record once it flows again:
 *
 *   source_silent        a source (of a tenant) sent nothing for its threshold
 *   content_type_silent  a content type of a source (Audit.Exchange, DLP.All, …)
 *   control_silent       a control of a tenant had no record of any source
 *   horizon_near         a Management API checkpoint lags within a day of the
 *                        7 days the API keeps records (spool full, outputs down)
 *   credential_expiring  the certificate a source signs in with expires within 30 days
 *   a rule's "gap"       a record saying the evidence itself was switched off
 *                        (audit_ingestion_disabled); raised once, not cleared
 *
 * Thresholds come from the [evidence] section: silence.source (every
 * source; without it, every API source at 24 h and file sources never),
 * silence.source.NAME, silence.control.ID and silence.CONTENT_TYPE; "off"
 * turns one off. Silence counts only what had evidence before, from its
 * last record or from the start of the run, whichever is later (a stopped
 * agent is not a silent tenant: the backfill brings those records).
 *
 * What is raised is marked in the ledger (ledger.h), so a restart neither
 * raises it twice nor forgets to clear it. The watch runs on the pipeline
 * thread from the evidence tick, with the ledger's lock held. */
#ifndef AX_AGENT_WATCH_H
#define AX_AGENT_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "catalog.h"
#include "err.h"
#include "ledger.h"
#include "option.h"
#include "rules.h"

#define AX_WATCH_DEFAULT_S (24 * 3600)         /* API sources without silence.source */
#define AX_WATCH_CREDENTIAL_S (30 * 24 * 3600) /* a certificate this close to its end is raised */
#define AX_WATCH_STALLED_S 60 /* a checkpoint near the horizon is raised once it stood still this long */

/* A record the watch makes: its JSON and where it belongs. */
typedef void (*ax_watch_add_fn)(void *arg, const struct ax_buf *json, const char *type, const char *source,
				const char *tenant, const char *content_type);

struct ax_watch;

/* silence: the [evidence] silence.* keys, already checked by ax_watch_check_key. */
struct ax_watch *ax_watch_create(const struct ax_kvlist *silence, const struct ax_catalog *catalog, int64_t started,
				 ax_err *err);
void ax_watch_destroy(struct ax_watch *w);
/* The option check of silence.KEY = value (option.h); why when not valid. */
bool ax_watch_check_key(const char *key, const char *value, char *why, size_t why_len);

/* One look at the ledger and the API streams (metrics.h) at now, epoch s. */
void ax_watch_run(struct ax_watch *w, struct ax_ledger *l, int64_t now, ax_watch_add_fn add, void *arg);
/* r matched a rule with a gap: the evidence_gap it raises (on the rule's
 * first control, from the record's time, Id derived from the record's). */
void ax_watch_rule_gap(const struct ax_rule *rule, const struct ax_record *r, const struct ax_catalog *catalog,
		       int64_t now, ax_watch_add_fn add, void *arg);

#endif

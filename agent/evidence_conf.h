/* evidence_conf.h - the [evidence] section of the config file: how long
 * the evidence ledger keeps its counts, how often it is saved, the daily
 * evidence_summary records, the gap watch's silence thresholds (evidence.h
 * runs all of it). */
#ifndef AX_AGENT_EVIDENCE_CONF_H
#define AX_AGENT_EVIDENCE_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "option.h"

struct ax_evidence_conf {
	int64_t retention;       /* ms */
	int64_t flush_interval;  /* ms */
	bool summary;
	int64_t summary_delay;   /* ms */
	struct ax_kvlist silence; /* silence.KEY = threshold (watch.h) */
};

extern const struct ax_option ax_evidence_options[];

#endif

/* delivery.h - one output's side of the pipeline: its filter, the batch it
 * is filling, and sending that batch until the receiver took it.
 *
 * A batch is sent again after a transient failure (backoff with jitter, or
 * the receiver's Retry-After) until it is delivered or the caller's
 * deadline passes; records the receiver rejects for good go to the
 * dead-letter file with the output's name, and the rest are sent again. */
#ifndef AX_AGENT_DELIVERY_H
#define AX_AGENT_DELIVERY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "deadletter.h"
#include "metrics.h"
#include "outputs/output.h"

#define AX_DELIVERY_BATCH_RECORDS 500
#define AX_DELIVERY_BATCH_BYTES (4u << 20)

enum ax_delivery_state {
	AX_DELIVERY_OK,      /* nothing pending */
	AX_DELIVERY_FAILING, /* the batch is still pending: the deadline passed or stop was asked */
	AX_DELIVERY_DEAD,    /* the output failed for good (AX_OUT_FATAL) */
};

struct ax_delivery {
	struct ax_output *out;
	const struct ax_output_common_conf *filter;
	struct ax_deadletter *dead_letter;
	const atomic_int *stop; /* set by a signal: give up waiting */
	struct ax_batch_builder batch;
	uint8_t *rejected;
	size_t rejected_cap;
	enum ax_delivery_state state;
	unsigned attempts;        /* failed sends of the pending batch */
	uint64_t delivered, dead_lettered, routed;
	char last_error[256];
	/* Optional, set after init: told of the records the receiver took (the
	 * rejected ones are out), before the batch is cleared. Called from the
	 * sender's thread. */
	void (*acked)(void *arg, const struct ax_record *records, size_t count);
	void *acked_arg;
	struct ax_metrics_output *metrics; /* may be NULL */
};

void ax_delivery_init(struct ax_delivery *d, struct ax_output *out,
		      const struct ax_output_common_conf *filter, struct ax_deadletter *dead_letter,
		      const atomic_int *stop, size_t max_record);
void ax_delivery_finish(struct ax_delivery *d);
/* Adds r when it passes the filter; sends the batch once it is full. */
enum ax_delivery_state ax_delivery_add(struct ax_delivery *d, const struct ax_record *r,
				       int64_t patience_ms);
/* Sends what is pending, retrying for at most patience_ms of failures. */
enum ax_delivery_state ax_delivery_send(struct ax_delivery *d, int64_t patience_ms);

#endif

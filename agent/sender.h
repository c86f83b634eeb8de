/* sender.h - one output's thread: reads its records from the spool, keeps
 * those its filter passes, delivers them in batches and commits its spool
 * position once the receiver acknowledged them.
 *
 * A slow or dead output holds back only its own position; the other
 * outputs and the sources go on (until the spool is full). */
#ifndef AX_AGENT_SENDER_H
#define AX_AGENT_SENDER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "delivery.h"
#include "spool.h"

enum ax_sender_state {
	AX_SENDER_RUNNING,
	AX_SENDER_FAILING, /* gave up: a batch stayed undelivered for its patience */
	AX_SENDER_DEAD,    /* the output failed for good */
	AX_SENDER_DONE,    /* drained: everything spooled was delivered */
};

struct ax_sender {
	struct ax_delivery delivery;
	struct ax_spool_reader *reader;
	int64_t patience_ms;  /* how long a batch may fail before the sender gives up */
	atomic_int quit;      /* stop now, even with records pending */
	atomic_int draining;  /* stop once everything spooled is delivered */
	atomic_int state;     /* enum ax_sender_state */
	uint64_t dropped;     /* records the spool dropped before this output had them */
	pthread_t thread;
	bool started;
};

/* The delivery must be set up; the reader is the sender's from now on. */
ax_err ax_sender_start(struct ax_sender *s, struct ax_spool_reader *reader, int64_t patience_ms) AX_WARN_UNUSED;
/* Asks for the end: at once (quit) or once drained; then joins. */
void ax_sender_stop(struct ax_sender *s, bool quit);
void ax_sender_join(struct ax_sender *s);
/* True when it committed everything spooled, or stopped for good. */
bool ax_sender_settled(struct ax_sender *s);

#endif

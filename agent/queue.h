/* queue.h - units from the source threads to the pipeline thread.
 *
 * Bounded by the bytes it holds: a source that gets ahead of the pipeline
 * waits in push (backpressure), and the Microsoft 365 APIs keep the data
 * meanwhile. close() wakes everyone: push fails, pop drains then ends. */
#ifndef AX_AGENT_QUEUE_H
#define AX_AGENT_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unit.h"

struct ax_queue {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct ax_unit *head, *tail;
	size_t bytes, max_bytes;
	bool closed;
};

void ax_queue_init(struct ax_queue *q, size_t max_bytes);
void ax_queue_finish(struct ax_queue *q);
/* Waits for room (a unit larger than max_bytes waits for an empty queue).
 * False when the queue was closed: the unit was not taken. */
bool ax_queue_push(struct ax_queue *q, struct ax_unit *u);
/* The next unit, waiting at most timeout_ms; NULL on timeout or when closed and empty. */
struct ax_unit *ax_queue_pop(struct ax_queue *q, int64_t timeout_ms);
void ax_queue_close(struct ax_queue *q);

#endif

/* feed.h - a stream's units on their way to the pipeline and back.
 *
 * A fixed pool of units: the stream thread fills one, pushes it, and takes
 * the next. The pipeline calls done() from its own thread; the unit then
 * waits in a "returned" list until the stream thread settles it (confirms
 * or releases its record keys, counts its blobs as delivered), so every
 * piece of a stream's state is touched by one thread only. After a stop,
 * destroy settles what came back meanwhile. */
#ifndef AX_AGENT_SOURCES_FEED_H
#define AX_AGENT_SOURCES_FEED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "queue.h"
#include "sources/dedup.h"
#include "unit.h"

#define AX_FEED_JOBS 64

/* Something records come from (a blob, a page): a unit holding some of
 * them counts once in units_out until it is back. */
struct ax_feed_job {
	unsigned units_out;
	bool failed; /* a unit holding some of its records was not delivered */
};

struct ax_feed_unit {
	struct ax_unit unit;
	struct ax_key *keys;  /* the dedup keys its records claimed */
	size_t nkeys, keycap;
	struct ax_feed_job *jobs[AX_FEED_JOBS]; /* whose records it holds, each once */
	size_t njobs;
	bool ok;              /* what done() said */
	struct ax_feed_unit *next;
};

/* Called in the stream thread for each unit back from the pipeline, after
 * its jobs' units_out and failed were updated. */
typedef void (*ax_feed_settle_fn)(struct ax_feed_unit *u, void *arg);

struct ax_feed {
	pthread_mutex_t lock;
	pthread_cond_t returned_cond;
	struct ax_feed_unit *units;
	size_t nunits;
	struct ax_feed_unit *free_list;  /* stream thread only */
	struct ax_feed_unit *returned;   /* under lock */
	size_t out;                      /* pushed and not settled */
	struct ax_queue *queue;
	const atomic_int *stop;
	ax_feed_settle_fn settle;
	void *arg;
};

ax_err ax_feed_init(struct ax_feed *f, size_t nunits, size_t unit_bytes, struct ax_queue *queue,
		    const atomic_int *stop, ax_feed_settle_fn settle, void *arg) AX_WARN_UNUSED;
/* Settles what came back, then frees everything. Every pushed unit must be back. */
void ax_feed_finish(struct ax_feed *f);
/* An empty unit (settling returned ones while waiting); NULL when the agent stops. */
struct ax_feed_unit *ax_feed_take(struct ax_feed *f);
/* Remembers a claimed key with the unit (false: out of memory). */
bool ax_feed_add_key(struct ax_feed_unit *u, const struct ax_key *k);
/* Notes that the unit holds records of job; false when it holds AX_FEED_JOBS already. */
bool ax_feed_add_job(struct ax_feed_unit *u, struct ax_feed_job *job);
/* Hands u to the pipeline; a unit without records is settled at once, as
 * delivered. False when the agent stops (u is then settled as not delivered). */
bool ax_feed_push(struct ax_feed *f, struct ax_feed_unit *u);
/* Gives back a unit whose records will not be delivered (settled as such). */
void ax_feed_abandon(struct ax_feed *f, struct ax_feed_unit *u);
/* Settles the units back so far, without waiting. */
void ax_feed_settle(struct ax_feed *f);
/* Waits until every pushed unit was settled; false when the agent stops first. */
bool ax_feed_wait_all(struct ax_feed *f);

#endif

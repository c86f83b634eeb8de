#include "sources/feed.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 100

static void unit_done(struct ax_unit *unit, bool ok)
{
	struct ax_feed_unit *u = (struct ax_feed_unit *)unit;
	struct ax_feed *f = unit->owner;
	pthread_mutex_lock(&f->lock);
	u->ok = ok;
	u->next = f->returned;
	f->returned = u;
	pthread_cond_signal(&f->returned_cond);
	pthread_mutex_unlock(&f->lock);
}

ax_err ax_feed_init(struct ax_feed *f, size_t nunits, size_t unit_bytes, struct ax_queue *queue,
		    const atomic_int *stop, ax_feed_settle_fn settle, void *arg)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->returned_cond, NULL);
	f->queue = queue;
	f->stop = stop;
	f->settle = settle;
	f->arg = arg;
	f->units = calloc(nunits, sizeof(*f->units));
	if (!f->units)
		return AX_ERR_NOMEM;
	f->nunits = nunits;
	for (size_t i = 0; i < nunits; i++) {
		struct ax_feed_unit *u = &f->units[i];
		ax_unit_init(&u->unit, unit_bytes);
		u->unit.done = unit_done;
		u->unit.owner = f;
		u->next = f->free_list;
		f->free_list = u;
	}
	return AX_OK;
}

/* One unit of the free list keeps its memory, first in line; the others
 * give theirs back, so a stream between windows holds one unit's worth. */
static void recycle(struct ax_feed *f, struct ax_feed_unit *u)
{
	ax_unit_clear(&u->unit);
	u->nkeys = 0;
	u->njobs = 0;
	struct ax_feed_unit *first = f->free_list;
	if (first && first->unit.data.cap) {
		ax_unit_finish(&u->unit); /* it may be filled again */
		u->next = first->next;
		first->next = u;
	} else {
		u->next = first;
		f->free_list = u;
	}
}

static void settle_one(struct ax_feed *f, struct ax_feed_unit *u)
{
	for (size_t i = 0; i < u->njobs; i++) {
		u->jobs[i]->units_out--;
		u->jobs[i]->failed |= !u->ok;
	}
	f->settle(u, f->arg);
	recycle(f, u);
}

static void settle_list(struct ax_feed *f, struct ax_feed_unit *list)
{
	while (list) {
		struct ax_feed_unit *u = list;
		list = u->next;
		f->out--;
		settle_one(f, u);
	}
}

static struct ax_feed_unit *grab_returned(struct ax_feed *f)
{
	pthread_mutex_lock(&f->lock);
	struct ax_feed_unit *list = f->returned;
	f->returned = NULL;
	pthread_mutex_unlock(&f->lock);
	return list;
}

void ax_feed_settle(struct ax_feed *f)
{
	settle_list(f, grab_returned(f));
}

/* Waits up to WAIT_MS for a unit to come back. */
static void wait_return(struct ax_feed *f)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += WAIT_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	if (!f->returned)
		pthread_cond_timedwait(&f->returned_cond, &f->lock, &ts);
	pthread_mutex_unlock(&f->lock);
}

void ax_feed_finish(struct ax_feed *f)
{
	ax_feed_settle(f);
	for (size_t i = 0; f->units && i < f->nunits; i++) {
		ax_unit_finish(&f->units[i].unit);
		free(f->units[i].keys);
	}
	free(f->units);
	pthread_cond_destroy(&f->returned_cond);
	pthread_mutex_destroy(&f->lock);
	memset(f, 0, sizeof(*f));
}

struct ax_feed_unit *ax_feed_take(struct ax_feed *f)
{
	for (;;) {
		ax_feed_settle(f);
		if (atomic_load(f->stop))
			return NULL;
		if (f->free_list) {
			struct ax_feed_unit *u = f->free_list;
			f->free_list = u->next;
			return u;
		}
		wait_return(f);
	}
}

bool ax_feed_add_key(struct ax_feed_unit *u, const struct ax_key *k)
{
	if (u->nkeys == u->keycap) {
		size_t cap = u->keycap ? u->keycap * 2 : 256;
		struct ax_key *keys = realloc(u->keys, cap * sizeof(*keys));
		if (!keys)
			return false;
		u->keys = keys;
		u->keycap = cap;
	}
	u->keys[u->nkeys++] = *k;
	return true;
}

bool ax_feed_add_job(struct ax_feed_unit *u, struct ax_feed_job *job)
{
	for (size_t i = 0; i < u->njobs; i++)
		if (u->jobs[i] == job)
			return true;
	if (u->njobs == AX_FEED_JOBS)
		return false;
	u->jobs[u->njobs++] = job;
	job->units_out++;
	return true;
}

/* Settles u here, without the pipeline. */
static void settle_now(struct ax_feed *f, struct ax_feed_unit *u, bool ok)
{
	u->ok = ok;
	settle_one(f, u);
}

void ax_feed_abandon(struct ax_feed *f, struct ax_feed_unit *u)
{
	settle_now(f, u, false);
}

bool ax_feed_push(struct ax_feed *f, struct ax_feed_unit *u)
{
	if (u->unit.count == 0) {
		settle_now(f, u, true); /* nothing to deliver (every record a repeat) */
		return !atomic_load(f->stop);
	}
	f->out++;
	if (ax_queue_push(f->queue, &u->unit))
		return true;
	f->out--;
	settle_now(f, u, false); /* not taken: the agent is stopping */
	return false;
}

bool ax_feed_wait_all(struct ax_feed *f)
{
	for (;;) {
		ax_feed_settle(f);
		if (f->out == 0)
			return true;
		if (atomic_load(f->stop))
			return false;
		wait_return(f);
	}
}

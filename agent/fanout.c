#define _GNU_SOURCE /* CPU_COUNT */
#include "fanout.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct helper {
	struct ax_fanout *f;
	unsigned worker;
	pthread_t thread;
};

struct ax_fanout {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* helpers: a job, or quit */
	pthread_cond_t done; /* the caller: the last item done, or the last helper out */
	unsigned long generation; /* of the job; under lock */
	unsigned active;          /* helpers in a job; under lock */
	bool quit;
	/* the job: set under lock while no helper is active */
	ax_fanout_fn fn;
	void *arg;
	size_t items, grain;
	atomic_size_t next, finished;
	unsigned helpers;
	struct helper helper[AX_FANOUT_MAX_HELPERS];
};

unsigned ax_fanout_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

static void work(struct ax_fanout *f, unsigned worker)
{
	for (;;) {
		size_t first = atomic_fetch_add(&f->next, f->grain);
		if (first >= f->items)
			return;
		size_t n = f->items - first < f->grain ? f->items - first : f->grain;
		f->fn(f->arg, worker, first, n);
		if (atomic_fetch_add(&f->finished, n) + n == f->items) {
			pthread_mutex_lock(&f->lock);
			pthread_cond_signal(&f->done);
			pthread_mutex_unlock(&f->lock);
		}
	}
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct ax_fanout *f = h->f;
	unsigned long seen = 0;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the caller's */
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->quit && f->generation == seen)
			pthread_cond_wait(&f->wake, &f->lock);
		if (f->quit)
			break;
		seen = f->generation;
		f->active++;
		pthread_mutex_unlock(&f->lock);
		work(f, h->worker);
		pthread_mutex_lock(&f->lock);
		if (--f->active == 0)
			pthread_cond_signal(&f->done);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

struct ax_fanout *ax_fanout_create(unsigned helpers)
{
	struct ax_fanout *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	pthread_cond_init(&f->done, NULL);
	helpers = helpers < AX_FANOUT_MAX_HELPERS ? helpers : AX_FANOUT_MAX_HELPERS;
	for (; f->helpers < helpers; f->helpers++) {
		struct helper *h = &f->helper[f->helpers];
		*h = (struct helper){ .f = f, .worker = f->helpers + 1 };
		if (pthread_create(&h->thread, NULL, helper_main, h) != 0) {
			ax_fanout_destroy(f);
			return NULL;
		}
	}
	return f;
}

unsigned ax_fanout_helpers(const struct ax_fanout *f)
{
	return f->helpers;
}

void ax_fanout_start(struct ax_fanout *f, ax_fanout_fn fn, void *arg, size_t items, size_t grain)
{
	pthread_mutex_lock(&f->lock);
	while (f->active) /* a helper late for the last job, about to find it done */
		pthread_cond_wait(&f->done, &f->lock);
	f->fn = fn;
	f->arg = arg;
	f->items = items;
	f->grain = grain ? grain : 1;
	atomic_store(&f->next, 0);
	atomic_store(&f->finished, 0);
	if (f->helpers) {
		f->generation++;
		pthread_cond_broadcast(&f->wake);
	}
	pthread_mutex_unlock(&f->lock);
}

void ax_fanout_join(struct ax_fanout *f)
{
	work(f, 0);
	pthread_mutex_lock(&f->lock);
	while (atomic_load(&f->finished) < f->items)
		pthread_cond_wait(&f->done, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

void ax_fanout_run(struct ax_fanout *f, ax_fanout_fn fn, void *arg, size_t items, size_t grain)
{
	ax_fanout_start(f, fn, arg, items, grain);
	ax_fanout_join(f);
}

void ax_fanout_destroy(struct ax_fanout *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->quit = true;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < f->helpers; i++)
		pthread_join(f->helper[i].thread, NULL);
	pthread_cond_destroy(&f->done);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

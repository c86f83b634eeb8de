#define _GNU_SOURCE /* CPU_COUNT */
#include "fanout.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* How many times the caller looks at a job's last items before it sleeps
 * on them: a helper ends its last grain within microseconds. */
#define WAIT_SPINS 2000

struct helper {
	struct ax_fanout *f;
	unsigned worker;
	pthread_t thread;
};

struct job {
	ax_fanout_fn fn;
	void *arg;
	size_t items, grain;
	atomic_size_t next, finished;
	atomic_uint active; /* helpers in it */
};

/* No lock between the caller and the helpers but to sleep: each side
 * says it is about to sleep (sleepers, caller_waiting) before it looks
 * once more, and the other looks at that after it changed what the
 * sleeper waits for (sequentially consistent atomics). */
struct ax_fanout {
	/* Jobs are numbered from 0: job n is in job[n % AX_FANOUT_JOBS]. Written by the caller. */
	atomic_ulong started, retired;
	atomic_uint sleepers;      /* helpers asleep on wake, or about to be */
	atomic_bool caller_waiting; /* on done */
	atomic_bool quit;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* helpers: a job, or quit */
	pthread_cond_t done; /* the caller: a job's last item done */
	struct job job[AX_FANOUT_JOBS];
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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Wakes the threads asleep on cond. A sleeper looked at what it waits for
 * under the lock, so once the lock was free it is in pthread_cond_wait;
 * woken with the lock held, it would at once block on the lock again,
 * two switches more for each wake. */
static void wake(struct ax_fanout *f, pthread_cond_t *cond)
{
	pthread_mutex_lock(&f->lock);
	pthread_mutex_unlock(&f->lock);
	pthread_cond_broadcast(cond);
}

/* Claims a grain of j and does it; false when none was left. */
static bool work_grain(struct ax_fanout *f, struct job *j, unsigned worker)
{
	size_t first = atomic_fetch_add(&j->next, j->grain);
	if (first >= j->items)
		return false;
	size_t n = j->items - first < j->grain ? j->items - first : j->grain;
	j->fn(j->arg, worker, first, n);
	if (atomic_fetch_add(&j->finished, n) + n == j->items && atomic_load(&f->caller_waiting))
		wake(f, &f->done);
	return true;
}

static void work(struct ax_fanout *f, struct job *j, unsigned worker)
{
	while (work_grain(f, j, worker))
		;
}

/* The caller, while a helper ends the oldest job's last grain: a grain of
 * a later job, if one is left; false if none. */
static bool work_ahead(struct ax_fanout *f)
{
	unsigned long started = atomic_load(&f->started);
	for (unsigned long n = atomic_load(&f->retired) + 1; n < started; n++)
		if (work_grain(f, &f->job[n % AX_FANOUT_JOBS], 0))
			return true;
	return false;
}

/* Sleeps until job n is started, or quit. */
static void sleep_until_started(struct ax_fanout *f, unsigned long n)
{
	pthread_mutex_lock(&f->lock);
	atomic_fetch_add(&f->sleepers, 1);
	while (!atomic_load(&f->quit) && n >= atomic_load(&f->started))
		pthread_cond_wait(&f->wake, &f->lock);
	atomic_fetch_sub(&f->sleepers, 1);
	pthread_mutex_unlock(&f->lock);
}

/* A helper goes from job to job in order, and sleeps when it is ahead of
 * the caller: with the next job started before this one is done, it does
 * not sleep between them. */
static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct ax_fanout *f = h->f;
	unsigned long n = 0;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the caller's */
	while (!atomic_load(&f->quit)) {
		unsigned long retired = atomic_load(&f->retired);
		if (n < retired)
			n = retired; /* done without it */
		if (n >= atomic_load(&f->started)) {
			sleep_until_started(f, n);
			continue;
		}
		struct job *j = &f->job[n % AX_FANOUT_JOBS];
		atomic_fetch_add(&j->active, 1);
		if (n >= atomic_load(&f->retired)) /* else its slot may be taking the job after next */
			work(f, j, h->worker);
		atomic_fetch_sub(&j->active, 1);
		n++;
	}
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
	unsigned long n = atomic_load(&f->started);
	if (n - atomic_load(&f->retired) == AX_FANOUT_JOBS)
		ax_fanout_retire(f);
	struct job *j = &f->job[n % AX_FANOUT_JOBS];
	/* a helper late for the job retired from this slot leaves it at once,
	 * unless it lost its CPU on the way: then it needs the CPU back */
	for (int i = 0; atomic_load(&j->active); i++) {
		if (i >= WAIT_SPINS)
			sched_yield();
		cpu_relax();
	}
	j->fn = fn;
	j->arg = arg;
	j->items = items;
	j->grain = grain ? grain : 1;
	atomic_store(&j->next, 0);
	atomic_store(&j->finished, 0);
	atomic_store(&f->started, n + 1);
	if (atomic_load(&f->sleepers))
		wake(f, &f->wake);
}

void ax_fanout_share(struct ax_fanout *f)
{
	unsigned long n = atomic_load(&f->retired);
	if (n < atomic_load(&f->started))
		work(f, &f->job[n % AX_FANOUT_JOBS], 0);
}

static bool oldest_done(struct ax_fanout *f)
{
	unsigned long n = atomic_load(&f->retired);
	const struct job *j = &f->job[n % AX_FANOUT_JOBS];
	return n == atomic_load(&f->started) || atomic_load(&j->finished) >= j->items;
}

void ax_fanout_wait(struct ax_fanout *f)
{
	for (int i = 0; i < WAIT_SPINS;) {
		if (oldest_done(f))
			return;
		if (work_ahead(f)) {
			i = 0;
		} else {
			cpu_relax();
			i++;
		}
	}
	pthread_mutex_lock(&f->lock);
	atomic_store(&f->caller_waiting, true);
	while (!oldest_done(f))
		pthread_cond_wait(&f->done, &f->lock);
	atomic_store(&f->caller_waiting, false);
	pthread_mutex_unlock(&f->lock);
}

void ax_fanout_retire(struct ax_fanout *f)
{
	ax_fanout_wait(f);
	unsigned long n = atomic_load(&f->retired);
	if (n < atomic_load(&f->started))
		atomic_store(&f->retired, n + 1);
}

void ax_fanout_join(struct ax_fanout *f)
{
	ax_fanout_share(f);
	ax_fanout_retire(f);
}

void ax_fanout_join_all(struct ax_fanout *f)
{
	while (atomic_load(&f->retired) < atomic_load(&f->started))
		ax_fanout_join(f);
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
	atomic_store(&f->quit, true);
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < f->helpers; i++)
		pthread_join(f->helper[i].thread, NULL);
	pthread_cond_destroy(&f->done);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

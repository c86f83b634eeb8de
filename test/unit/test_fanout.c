/* test_fanout.c - a job's items shared out between the caller and helper
 * threads: every item done exactly once, by the caller alone without
 * helpers, by several threads with them (a job long enough that a helper
 * gets to it), and while the caller does something else between start and
 * join, or starts the next jobs; jobs one after another reuse the helpers,
 * which leave signals to the caller; a caller waiting for a helper's last
 * grain does the next job's meanwhile. */
#include "unit.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fanout.h"

#define ITEMS 5000

struct job {
	atomic_uint done[ITEMS];
	atomic_uint by[1 + AX_FANOUT_MAX_HELPERS];
	atomic_uint calls;
	size_t grain;
	bool wait_for_help; /* the caller's items wait until a helper has done one */
	atomic_uint helper_took_signals; /* items a helper did with SIGTERM or SIGHUP not blocked */
};

static void nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
}

static unsigned helped(struct job *j)
{
	unsigned n = 0;
	for (unsigned w = 1; w <= AX_FANOUT_MAX_HELPERS; w++)
		n += atomic_load(&j->by[w]);
	return n;
}

static void item(void *arg, unsigned worker, size_t first, size_t n)
{
	struct job *j = arg;
	assert_true(n >= 1 && n <= j->grain);
	assert_true(worker <= AX_FANOUT_MAX_HELPERS);
	for (size_t i = first; i < first + n; i++)
		atomic_fetch_add(&j->done[i], 1);
	atomic_fetch_add(&j->by[worker], (unsigned)n);
	atomic_fetch_add(&j->calls, 1);
	sigset_t now;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	if (worker && (!sigismember(&now, SIGTERM) || !sigismember(&now, SIGHUP)))
		atomic_fetch_add(&j->helper_took_signals, 1);
	for (int t = 0; worker == 0 && j->wait_for_help && t < 25000 && !helped(j); t++)
		nap_us(200); /* at most 5 s */
}

static struct job *new_job(size_t grain)
{
	struct job *j = calloc(1, sizeof(*j));
	assert_non_null(j);
	j->grain = grain;
	return j;
}

static void each_once(const struct job *j, size_t items)
{
	for (size_t i = 0; i < ITEMS; i++)
		assert_int_equal(atomic_load(&j->done[i]), i < items ? 1 : 0);
}

static void test_alone(void **state)
{
	(void)state;
	struct ax_fanout *f = ax_fanout_create(0);
	assert_non_null(f);
	assert_int_equal(ax_fanout_helpers(f), 0);
	struct job *j = new_job(4);
	ax_fanout_run(f, item, j, 1001, 4);
	each_once(j, 1001);
	assert_int_equal(atomic_load(&j->by[0]), 1001);
	assert_int_equal(atomic_load(&j->calls), 251); /* 250 of 4, one of 1 */
	free(j);
	ax_fanout_destroy(f);
}

static void test_helpers_share(void **state)
{
	(void)state;
	struct ax_fanout *f = ax_fanout_create(3);
	assert_non_null(f);
	assert_int_equal(ax_fanout_helpers(f), 3);
	for (int round = 0; round < 20; round++) {
		struct job *j = new_job(8);
		size_t items = round == 0 ? 0 : round == 1 ? 1 : ITEMS;
		j->wait_for_help = items == ITEMS;
		ax_fanout_run(f, item, j, items, 8);
		each_once(j, items);
		if (j->wait_for_help)
			assert_true(helped(j) > 0);
		assert_int_equal(atomic_load(&j->helper_took_signals), 0); /* signals are the caller's */
		free(j);
	}
	ax_fanout_destroy(f);
}

/* Between start and join the helpers work; the caller's join does the rest. */
static void test_start_then_join(void **state)
{
	(void)state;
	struct ax_fanout *f = ax_fanout_create(1);
	assert_non_null(f);
	for (int round = 0; round < 10; round++) {
		struct job *j = new_job(4);
		ax_fanout_start(f, item, j, 400, 4);
		for (int t = 0; t < 5000 && atomic_load(&j->by[1]) == 0; t++)
			nap_us(200); /* the caller busy elsewhere: the helper starts alone */
		assert_true(atomic_load(&j->by[1]) > 0);
		ax_fanout_join(f);
		each_once(j, 400);
		free(j);
	}
	ax_fanout_destroy(f);
}

/* Jobs at once, as the pipeline runs them: the caller claims its share
 * of the oldest, starts the one AX_FANOUT_JOBS - 1 after it, then retires
 * the oldest (every item of it done); the helpers take part in each. One
 * job more than AX_FANOUT_JOBS started retires the oldest first. */
static void test_jobs_ahead(void **state)
{
	(void)state;
	struct ax_fanout *f = ax_fanout_create(2);
	assert_non_null(f);
	enum { JOBS = 12, AHEAD = AX_FANOUT_JOBS - 1 };
	struct job *jobs[JOBS];
	for (int k = 0; k < JOBS; k++) {
		jobs[k] = new_job(4);
		jobs[k]->wait_for_help = true;
	}
	for (int k = 0; k < AHEAD; k++)
		ax_fanout_start(f, item, jobs[k], ITEMS, 4);
	for (int k = 0; k < JOBS; k++) {
		ax_fanout_share(f);
		if (k + AHEAD < JOBS)
			ax_fanout_start(f, item, jobs[k + AHEAD], ITEMS, 4);
		ax_fanout_retire(f);
		each_once(jobs[k], ITEMS);
		assert_true(helped(jobs[k]) > 0);
	}
	ax_fanout_join_all(f); /* none outstanding: nothing to do */
	for (int k = 0; k <= AX_FANOUT_JOBS; k++) {
		memset(jobs[k], 0, sizeof(*jobs[k]));
		jobs[k]->grain = 4;
		ax_fanout_start(f, item, jobs[k], k == AX_FANOUT_JOBS ? 7 : ITEMS, 4);
	}
	each_once(jobs[0], ITEMS); /* retired by the last start */
	ax_fanout_join(f);
	each_once(jobs[1], ITEMS);
	ax_fanout_join_all(f);
	for (int k = 2; k < AX_FANOUT_JOBS; k++)
		each_once(jobs[k], ITEMS);
	each_once(jobs[AX_FANOUT_JOBS], 7);
	for (int k = 0; k < JOBS; k++)
		free(jobs[k]);
	ax_fanout_destroy(f);
}

struct held {
	struct job *next; /* its items, ITEMS_NEXT of them, are what the holder waits for */
	atomic_bool started, next_done_first;
};

#define ITEMS_NEXT 40

/* A helper's grain that ends only once every item of the next job is done
 * (or after 5 s). */
static void held_item(void *arg, unsigned worker, size_t first, size_t n)
{
	(void)first, (void)n;
	struct held *h = arg;
	if (worker == 0)
		return;
	atomic_store(&h->started, true);
	for (int t = 0; t < 25000 && atomic_load(&h->next->calls) < ITEMS_NEXT / 4; t++)
		nap_us(200);
	atomic_store(&h->next_done_first, atomic_load(&h->next->calls) == ITEMS_NEXT / 4);
}

/* The oldest job's last grain is a helper's: the caller, waiting for it,
 * does the next job's grains instead of spinning or sleeping. */
static void test_wait_works_ahead(void **state)
{
	(void)state;
	struct ax_fanout *f = ax_fanout_create(1);
	assert_non_null(f);
	struct job *next = new_job(4);
	struct held h = { .next = next };
	ax_fanout_start(f, held_item, &h, 1, 1);
	for (int t = 0; t < 25000 && !atomic_load(&h.started); t++)
		nap_us(200); /* the helper has the held grain */
	assert_true(atomic_load(&h.started));
	ax_fanout_start(f, item, next, ITEMS_NEXT, 4);
	ax_fanout_wait(f);
	assert_true(atomic_load(&h.next_done_first));
	assert_int_equal(atomic_load(&next->by[0]), ITEMS_NEXT);
	each_once(next, ITEMS_NEXT);
	ax_fanout_retire(f);
	ax_fanout_join(f);
	free(next);
	ax_fanout_destroy(f);
}

static void test_cpus(void **state)
{
	(void)state;
	assert_true(ax_fanout_cpus() >= 1);
	struct ax_fanout *f = ax_fanout_create(AX_FANOUT_MAX_HELPERS + 5);
	assert_non_null(f);
	assert_int_equal(ax_fanout_helpers(f), AX_FANOUT_MAX_HELPERS); /* capped */
	ax_fanout_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_helpers_share),
		cmocka_unit_test(test_start_then_join),
		cmocka_unit_test(test_jobs_ahead),
		cmocka_unit_test(test_wait_works_ahead),
		cmocka_unit_test(test_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

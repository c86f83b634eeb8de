#include "sources/backoff.h"

#include <time.h>

#define SLICE_MS 100

void ax_backoff_init(struct ax_backoff *b, int64_t base_ms, int64_t max_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	b->base_ms = base_ms;
	b->max_ms = max_ms;
	b->attempt = 0;
	b->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)b << 16) ^ 0x9e3779b97f4a7c15ull;
}

/* xorshift64*: plenty for jitter, and no shared state between threads. */
static uint64_t next_random(struct ax_backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dull;
}

int64_t ax_backoff_next(struct ax_backoff *b)
{
	int64_t ceiling = b->base_ms;
	for (unsigned i = 0; i < b->attempt && ceiling < b->max_ms; i++)
		ceiling *= 2;
	if (ceiling > b->max_ms)
		ceiling = b->max_ms;
	b->attempt++;
	/* at least half the ceiling: a retry never comes right away */
	int64_t half = ceiling / 2;
	return half + (int64_t)(next_random(b) % (uint64_t)(ceiling - half + 1));
}

void ax_backoff_reset(struct ax_backoff *b)
{
	b->attempt = 0;
}

int64_t ax_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool ax_sleep(const atomic_int *stop, int64_t ms)
{
	int64_t until = ax_now_ms() + ms;
	for (;;) {
		if (atomic_load(stop))
			return false;
		int64_t left = until - ax_now_ms();
		if (left <= 0)
			return true;
		int64_t slice = left < SLICE_MS ? left : SLICE_MS;
		struct timespec ts = { slice / 1000, (long)(slice % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

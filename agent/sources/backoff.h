/* backoff.h - waiting between retries, and waiting that a stop cuts short.
 *
 * Exponential backoff with jitter (a random delay between half and all of
 * base * 2^n, capped), so that clients throttled together do not retry
 * together, and none retries at once. */
#ifndef AX_AGENT_SOURCES_BACKOFF_H
#define AX_AGENT_SOURCES_BACKOFF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ax_backoff {
	int64_t base_ms, max_ms;
	unsigned attempt;
	uint64_t rng;
};

void ax_backoff_init(struct ax_backoff *b, int64_t base_ms, int64_t max_ms);
/* The delay before the next try; each call doubles the range. */
int64_t ax_backoff_next(struct ax_backoff *b);
void ax_backoff_reset(struct ax_backoff *b);

/* Milliseconds on a monotonic clock. */
int64_t ax_now_ms(void);
/* Sleeps ms, checking stop at least every 100 ms. False when stopped. */
bool ax_sleep(const atomic_int *stop, int64_t ms);

#endif

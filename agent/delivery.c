#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "route.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 30000
#define SLEEP_SLICE_MS 100

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ax_delivery_init(struct ax_delivery *d, struct ax_output *out,
		      const struct ax_output_common_conf *filter, struct ax_deadletter *dead_letter,
		      const atomic_int *stop, size_t max_record)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	d->filter = filter;
	d->dead_letter = dead_letter;
	d->stop = stop;
	ax_batch_builder_init(&d->batch, AX_DELIVERY_BATCH_BYTES + max_record + (64u << 10));
}

void ax_delivery_finish(struct ax_delivery *d)
{
	ax_batch_builder_finish(&d->batch);
	free(d->rejected);
	d->rejected = NULL;
}

/* Exponential, capped, with ±25% jitter so that agents restarted together
 * do not hammer a receiver in step. */
static int64_t backoff_ms(unsigned attempts)
{
	int64_t ms = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	return ms * 3 / 4 + (int64_t)((unsigned)rand() % (unsigned)(ms / 2 + 1));
}

/* Sleeps ms, or less when a stop was asked. */
static void nap(const struct ax_delivery *d, int64_t ms)
{
	for (int64_t end = now_ms() + ms; !*d->stop && now_ms() < end;) {
		int64_t left = end - now_ms();
		int64_t slice = left < SLEEP_SLICE_MS ? left : SLEEP_SLICE_MS;
		struct timespec ts = { slice / 1000, (long)(slice % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void dead_letter(struct ax_delivery *d, const struct ax_record *r, const char *reason)
{
	struct ax_dead_record rec = {
		.source = r->source, .stage = d->out->name, .reason = reason,
		.length = r->len, .raw = r->json, .raw_len = r->len,
	};
	if (ax_deadletter_write(d->dead_letter, &rec))
		ax_error(d->out->name, "cannot write record %s to the dead-letter file", r->id);
	d->dead_lettered++;
	ax_metrics_output_dead_lettered(d->metrics, 1);
}

/* Dead-letters the rejected records; the others stay pending. */
static void drop_rejected(struct ax_delivery *d, struct ax_batch *b, struct ax_output_result *res)
{
	bool all = ax_output_rejected_count(b, res) == b->count;
	for (size_t i = 0; i < b->count; i++) {
		if (all || res->rejected[i]) {
			dead_letter(d, &b->records[i], res->message);
			d->rejected[i] = 1;
		}
	}
	ax_batch_builder_remove(&d->batch, d->rejected);
	ax_batch_builder_seal(&d->batch, b);
}

static bool grow_flags(struct ax_delivery *d, size_t n)
{
	if (n <= d->rejected_cap)
		return true;
	uint8_t *f = realloc(d->rejected, n);
	if (!f)
		return false;
	d->rejected = f;
	d->rejected_cap = n;
	return true;
}

/* One attempt; true when nothing of b is left to send. *retry_after_ms:
 * how long to wait before the next (0 after records were rejected: the
 * rest goes again at once). */
static bool attempt(struct ax_delivery *d, struct ax_batch *b, int64_t *retry_after_ms)
{
	struct ax_output_result res = { .rejected = grow_flags(d, b->count) ? d->rejected : NULL };
	ax_output_send(d->out, b, &res);
	*retry_after_ms = res.retry_after_ms;
	switch (res.status) {
	case AX_OUT_OK:
		d->delivered += b->count;
		ax_metrics_output_delivered(d->metrics, b->count);
		b->count = 0;
		return true;
	case AX_OUT_REJECT:
		if (!res.rejected) { /* no memory for flags: the records wait for the next try */
			snprintf(d->last_error, sizeof(d->last_error), "out of memory");
			return false;
		}
		drop_rejected(d, b, &res);
		*retry_after_ms = 0;
		return b->count == 0;
	case AX_OUT_FATAL:
		d->state = AX_DELIVERY_DEAD;
		break;
	case AX_OUT_RETRY:
		break;
	}
	snprintf(d->last_error, sizeof(d->last_error), "%s", res.message);
	ax_metrics_output_failed(d->metrics, res.status == AX_OUT_FATAL, d->last_error);
	return false;
}

enum ax_delivery_state ax_delivery_send(struct ax_delivery *d, int64_t patience_ms)
{
	if (d->state == AX_DELIVERY_DEAD || d->batch.count == 0)
		return d->state;
	struct ax_batch b;
	ax_batch_builder_seal(&d->batch, &b);
	int64_t give_up = now_ms() + patience_ms;
	for (;;) {
		int64_t retry_after = -1;
		if (attempt(d, &b, &retry_after)) {
			if (d->acked && d->batch.count)
				d->acked(d->acked_arg, d->batch.records, d->batch.count);
			d->attempts = 0;
			d->state = AX_DELIVERY_OK;
			ax_metrics_output_ok(d->metrics);
			ax_batch_builder_clear(&d->batch);
			return d->state;
		}
		if (d->state == AX_DELIVERY_DEAD)
			return d->state;
		d->attempts++;
		int64_t wait = retry_after >= 0 ? retry_after : backoff_ms(d->attempts);
		if (*d->stop || now_ms() + wait > give_up) {
			d->state = AX_DELIVERY_FAILING;
			return d->state;
		}
		ax_metrics_output_retry(d->metrics);
		nap(d, wait);
	}
}

enum ax_delivery_state ax_delivery_add(struct ax_delivery *d, const struct ax_record *r,
				       int64_t patience_ms)
{
	if (d->state == AX_DELIVERY_DEAD || !ax_route_match(d->filter, r))
		return d->state;
	if (ax_batch_builder_add(&d->batch, r)) {
		ax_error(d->out->name, "out of memory queueing record %s", r->id);
		return d->state;
	}
	d->routed++;
	if (d->batch.count >= AX_DELIVERY_BATCH_RECORDS ||
	    ax_batch_builder_bytes(&d->batch) >= AX_DELIVERY_BATCH_BYTES)
		return ax_delivery_send(d, patience_ms);
	return d->state;
}

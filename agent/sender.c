#include "sender.h"

#include <signal.h>

#include "log.h"
#include "thread.h"

#define IDLE_WAIT_MS 200
#define SKIPPED_COMMIT 4096 /* records filtered out between two commits */

static void commit(struct ax_sender *s)
{
	if (ax_spool_commit(s->reader, ax_spool_tell(s->reader)))
		ax_warn(s->delivery.out->name, "cannot save its spool position (records may be sent again after a restart)");
}

static bool gave_up(struct ax_sender *s, enum ax_delivery_state st)
{
	if (st == AX_DELIVERY_OK)
		return false;
	atomic_store(&s->state, st == AX_DELIVERY_DEAD ? AX_SENDER_DEAD : AX_SENDER_FAILING);
	return true;
}

/* Sends what the batch holds, commits it; false when the sender gave up. */
static bool send_pending(struct ax_sender *s)
{
	if (gave_up(s, ax_delivery_send(&s->delivery, s->patience_ms)))
		return false;
	commit(s);
	return true;
}

static void take_dropped(struct ax_sender *s)
{
	uint64_t n = ax_spool_reader_take_dropped(s->reader);
	if (n) {
		s->dropped += n;
		ax_warn(s->delivery.out->name, "%llu records were dropped from the full spool before it had them",
			(unsigned long long)n);
	}
}

static void run(struct ax_sender *s)
{
	unsigned skipped = 0;
	while (!atomic_load(&s->quit)) {
		const struct ax_record *r = ax_spool_next(s->reader);
		if (r) {
			uint64_t routed = s->delivery.routed;
			if (gave_up(s, ax_delivery_add(&s->delivery, r, s->patience_ms)))
				return;
			/* a full batch went out, or many records were filtered out */
			if (s->delivery.batch.count == 0 && (s->delivery.routed != routed || ++skipped >= SKIPPED_COMMIT)) {
				commit(s);
				skipped = 0;
			}
			continue;
		}
		/* everything written so far is read */
		skipped = 0;
		if (!send_pending(s))
			return;
		take_dropped(s);
		if (atomic_load(&s->draining) && ax_spool_caught_up(s->reader)) {
			atomic_store(&s->state, AX_SENDER_DONE);
			return;
		}
		ax_spool_wait(s->reader, IDLE_WAIT_MS, &s->draining);
	}
}

static void *thread_main(void *arg)
{
	struct ax_sender *s = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
	ax_thread_background("out", s->delivery.out->name);
	run(s);
	return NULL;
}

ax_err ax_sender_start(struct ax_sender *s, struct ax_spool_reader *reader, int64_t patience_ms)
{
	s->reader = reader;
	s->patience_ms = patience_ms;
	atomic_init(&s->quit, 0);
	atomic_init(&s->draining, 0);
	atomic_init(&s->state, AX_SENDER_RUNNING);
	s->delivery.stop = &s->quit;
	if (pthread_create(&s->thread, NULL, thread_main, s) != 0) {
		ax_error(s->delivery.out->name, "cannot start its thread");
		return AX_ERR_NOMEM;
	}
	s->started = true;
	return AX_OK;
}

void ax_sender_stop(struct ax_sender *s, bool quit)
{
	atomic_store(&s->draining, 1);
	if (quit)
		atomic_store(&s->quit, 1);
	if (s->started)
		ax_spool_reader_wake(s->reader);
}

void ax_sender_join(struct ax_sender *s)
{
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = false;
	if (s->reader && atomic_load(&s->state) == AX_SENDER_RUNNING && ax_spool_caught_up(s->reader))
		atomic_store(&s->state, AX_SENDER_DONE);
	ax_spool_reader_close(s->reader);
	s->reader = NULL;
}

bool ax_sender_settled(struct ax_sender *s)
{
	/* no reader: never started (the run failed to set up) or already joined */
	return !s->reader || atomic_load(&s->state) != AX_SENDER_RUNNING || ax_spool_caught_up(s->reader);
}

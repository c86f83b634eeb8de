/* send: a batch cut into requests (batch_max_records, batch_max_bytes of
 * uncompressed body), each POSTed and its answer acted on.
 *
 * - Delivered: the request's records are done (with ack = true: once their
 *   ackId is acknowledged, polled for after the last request).
 * - One event refused (400 + invalid-event-number): that record is flagged
 *   and the rest of the request is sent again at once. The events before it
 *   may already be indexed: they are sent again (at-least-once; every
 *   record carries its Id).
 * - Whole request refused: its records are flagged; the next request goes.
 * - Retry or fatal: stop; what was delivered so far stays done, so the
 *   pipeline's next try of this batch does not send it twice.
 * The result is AX_OUT_REJECT when records were flagged, so the pipeline
 * dead-letters them; the others are then all done and its resend is a
 * no-op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hec.h"

#define MAX_RETRY_AFTER_MS (300 * 1000) /* a Retry-After of hours would stall the pipeline */

struct send {
	struct ax_hec_output *h;
	const struct ax_batch *batch;
	struct ax_output_result *res;
	size_t n;                   /* records left in h->todo */
	size_t rejected;            /* records flagged */
	char first_reject[200];     /* which, and Splunk's answer */
	enum ax_hec_verdict stop;   /* AX_HEC_RETRY or AX_HEC_FATAL ends the sending */
};

static bool resize(void *p, size_t count, size_t size)
{
	void **ptr = p;
	void *q = realloc(*ptr, count * size);
	if (q)
		*ptr = q;
	return q != NULL;
}

/* Room for count records in every per-send array. */
static bool reserve(struct ax_hec_output *h, size_t count)
{
	if (count <= h->cap)
		return true;
	if (!resize(&h->todo, count, sizeof(*h->todo)) || !resize(&h->pending, count, sizeof(*h->pending)) ||
	    !resize(&h->ack_ids, count, sizeof(*h->ack_ids)) || !resize(&h->acked, count, sizeof(*h->acked)))
		return false;
	h->cap = count;
	return true;
}

/* todo = the records of the batch not delivered yet. */
static void plan(struct send *s)
{
	struct ax_hec_output *h = s->h;
	size_t known = 0;
	bool any = h->done.count > 0; /* the common case is none: no record need be hashed */
	ax_hec_done_rewind(&h->done);
	for (size_t i = 0; i < s->batch->count; i++) {
		if (any && ax_hec_done_take(&h->done, ax_hec_done_key(&s->batch->records[i])))
			known++;
		else
			h->todo[s->n++] = i;
	}
	if (known == 0) /* what the set holds belongs to an earlier batch */
		ax_hec_done_clear(&h->done);
	h->npending = 0;
}

static void stop(struct send *s, enum ax_hec_verdict v, const char *message, int64_t retry_after_ms)
{
	s->stop = v;
	size_t n = strnlen(message, sizeof(s->res->message) - 1); /* cut long ones short */
	memcpy(s->res->message, message, n);
	s->res->message[n] = '\0';
	if (retry_after_ms > MAX_RETRY_AFTER_MS)
		retry_after_ms = MAX_RETRY_AFTER_MS;
	s->res->retry_after_ms = retry_after_ms;
}

static void mark_done(struct send *s, size_t first, size_t count)
{
	for (size_t i = first; i < first + count; i++)
		if (ax_hec_done_add(&s->h->done, ax_hec_done_key(&s->batch->records[s->h->todo[i]])))
			return; /* out of memory: those records may be sent again */
}

/* Noted, not yet marked done: a batch delivered whole never needs its
 * records in the set. A later reject moves only todo entries behind pos. */
static void delivered(struct send *s, size_t pos, size_t taken, int64_t ack_id)
{
	s->h->pending[s->h->npending++] = (struct ax_hec_pending){ ack_id, pos, taken };
}

/* The batch goes again (retry, or without its refused records): what
 * Splunk took (and, with ack = true, acknowledged) is done. */
static void remember_done(struct send *s)
{
	struct ax_hec_output *h = s->h;
	for (size_t i = 0; i < h->npending; i++)
		if (!h->ack || h->acked[i])
			mark_done(s, h->pending[i].first, h->pending[i].count);
}

/* Flags todo[pos..pos+count) and takes them out of todo. */
static void reject(struct send *s, size_t pos, size_t count, const struct ax_hec_reply *r)
{
	struct ax_hec_output *h = s->h;
	if (!s->rejected) {
		char why[160];
		const struct ax_record *first = &s->batch->records[h->todo[pos]];
		ax_hec_reply_describe(r, h->ack, why, sizeof(why));
		snprintf(s->first_reject, sizeof(s->first_reject), "event %s: %s",
			 first->id[0] ? first->id : "(no Id)", why);
	}
	for (size_t i = pos; i < pos + count && s->res->rejected; i++)
		s->res->rejected[h->todo[i]] = 1;
	memmove(h->todo + pos, h->todo + pos + count, (s->n - pos - count) * sizeof(*h->todo));
	s->n -= count;
	s->rejected += count;
}

/* Body of the next request from todo[pos..], compressed when asked. */
static ax_err build(struct send *s, size_t pos, size_t *taken)
{
	struct ax_hec_output *h = s->h;
	ax_err err = ax_hec_body_fill(&h->body, &h->meta, s->batch->records, h->todo + pos, s->n - pos,
				      &h->limits, taken);
	if (!err && h->gzip)
		err = ax_hec_gzip(h->gzip, &h->gz, h->body.data, h->body.len);
	return err;
}

/* One request from todo[pos..]; returns how far pos moves. */
static size_t post_one(struct send *s, size_t pos)
{
	struct ax_hec_output *h = s->h;
	struct ax_hec_reply reply;
	char why[CURL_ERROR_SIZE + 256];
	size_t taken;
	if (build(s, pos, &taken)) {
		stop(s, AX_HEC_RETRY, "out of memory building a request", -1);
		return 0;
	}
	const struct ax_buf *b = h->gzip ? &h->gz : &h->body;
	ax_hec_http_post(h->http, h->event_url, h->event_headers, b->data, b->len, &reply, &h->resp,
			 why, sizeof(why));
	enum ax_hec_verdict v = ax_hec_reply_verdict(&reply, h->ack, taken);
	switch (v) {
	case AX_HEC_DELIVERED:
		delivered(s, pos, taken, reply.ack_id);
		return taken;
	case AX_HEC_REJECT_EVENT:
		reject(s, pos + (size_t)reply.invalid_event, 1, &reply);
		return 0; /* the events around it go again */
	case AX_HEC_REJECT_ALL:
		reject(s, pos, taken, &reply);
		return 0;
	case AX_HEC_RETRY:
	case AX_HEC_FATAL:
		if (reply.http)
			ax_hec_reply_describe(&reply, h->ack, why, sizeof(why));
		stop(s, v, why, reply.retry_after_ms);
		return 0;
	}
	return 0;
}

static void post_all(struct send *s)
{
	for (size_t pos = 0; pos < s->n && s->stop == AX_HEC_DELIVERED;)
		pos += post_one(s, pos);
}

static void wait_acks(struct send *s)
{
	struct ax_hec_output *h = s->h;
	char message[sizeof(s->res->message)];
	for (size_t i = 0; i < h->npending; i++) {
		h->ack_ids[i] = h->pending[i].ack_id;
		h->acked[i] = false;
	}
	struct ax_hec_ack_poll p = { h->http, h->ack_url, h->ack_headers, h->ack_timeout, &h->resp };
	enum ax_hec_verdict v = ax_hec_ack_wait(&p, h->ack_ids, h->acked, h->npending, message,
						sizeof(message));
	if (v == AX_HEC_FATAL || (v == AX_HEC_RETRY && s->stop == AX_HEC_DELIVERED))
		stop(s, v, message, -1);
}

static void conclude(struct send *s)
{
	struct ax_output_result *res = s->res;
	if (s->stop == AX_HEC_FATAL)
		res->status = AX_OUT_FATAL;
	else if (s->stop == AX_HEC_RETRY)
		res->status = AX_OUT_RETRY;
	else
		res->status = s->rejected ? AX_OUT_REJECT : AX_OUT_OK;
	if (res->status == AX_OUT_REJECT && s->rejected == 1)
		snprintf(res->message, sizeof(res->message), "HEC refused %s", s->first_reject);
	else if (res->status == AX_OUT_REJECT)
		snprintf(res->message, sizeof(res->message), "HEC refused %zu events, the first %s",
			 s->rejected, s->first_reject);
	if (res->status == AX_OUT_OK || res->status == AX_OUT_FATAL)
		ax_hec_done_clear(&s->h->done);
	else
		remember_done(s);
}

void ax_hec_send(struct ax_output *out, const struct ax_batch *batch, struct ax_output_result *result)
{
	struct send s = { .h = (struct ax_hec_output *)out, .batch = batch, .res = result,
			  .stop = AX_HEC_DELIVERED };
	if (!reserve(s.h, batch->count)) {
		stop(&s, AX_HEC_RETRY, "out of memory", -1);
		conclude(&s);
		return;
	}
	plan(&s);
	post_all(&s);
	if (s.h->ack && s.h->npending > 0 && s.stop != AX_HEC_FATAL)
		wait_acks(&s);
	conclude(&s);
}

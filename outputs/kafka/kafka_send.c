/* kafka output: send() - produce a batch, then wait for every delivery report.
 *
 * Key = the event's Id (one event always lands in the same partition), value
 * = the enriched record, headers = controls, severity and category. What a
 * delivery report becomes (codes: rdkafka.h, and the error table of the
 * Kafka protocol, https://kafka.apache.org/protocol#protocol_error_codes):
 *   - fatal producer error, authentication or authorization refused:
 *     AX_OUT_FATAL, the instance cannot send until an operator acts;
 *   - record too large or invalid: AX_OUT_REJECT with that record flagged
 *     (when the broker refused several records of one message set, the
 *     batch is first sent again one record at a time to find which);
 *   - anything else (timeouts, leader changes, brokers down, topic not there
 *     yet): AX_OUT_RETRY. The whole batch is sent again, so a record may
 *     arrive twice; it never silently does not arrive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"
#include "log.h"

/* A flush returns only when nothing at all is outstanding: with reports of a
 * batch given up on still due, a batch waits at most this much extra. */
#define WAIT_SLICE_MS 50
#define QUEUE_FULL_WAIT_MS 100
/* Upper bound of librdkafka's per-message framing (varints, attributes). */
#define MESSAGE_OVERHEAD 64
#define HEADER_MAX 1024 /* the controls header: 93 controls fit many times */

enum outcome { OUTCOME_OK, OUTCOME_REJECT, OUTCOME_RETRY, OUTCOME_FATAL };

static enum outcome outcome_of(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return OUTCOME_OK;
	case RD_KAFKA_RESP_ERR__FATAL:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return OUTCOME_FATAL;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
		return OUTCOME_REJECT;
	default:
		return OUTCOME_RETRY;
	}
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *severity_name(const struct ax_record *r)
{
	return r->severity <= AX_SEV_CRITICAL ? ax_severity_names[r->severity] : "";
}

/* The control ids, comma-separated; cut at HEADER_MAX - 1 bytes. */
static size_t join_controls(const struct ax_record *r, char *out)
{
	size_t used = 0;
	for (size_t i = 0; i < r->ncontrols && used < HEADER_MAX - 1; i++) {
		if (i)
			out[used++] = ',';
		size_t n = strnlen(r->controls[i], HEADER_MAX - 1 - used);
		memcpy(out + used, r->controls[i], n);
		used += n;
	}
	out[used] = '\0';
	return used;
}

static void set_header(rd_kafka_vu_t *vu, const char *name, const char *value, size_t len)
{
	vu->vtype = RD_KAFKA_VTYPE_HEADER;
	vu->u.header.name = name;
	vu->u.header.val = value;
	vu->u.header.size = (ssize_t)len;
}

/* The handle of topic, made the first time it is asked for; NULL when
 * librdkafka cannot make one (out of memory). */
static rd_kafka_topic_t *handle_of(struct ax_kafka *k, const char *topic)
{
	for (size_t i = 0; i < AX_KAFKA_HANDLES && k->handles[i].rkt; i++)
		if (strcmp(k->handles[i].name, topic) == 0)
			return k->handles[i].rkt;
	struct ax_kafka_handle *h = &k->handles[k->next_handle];
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, topic, NULL);
	if (!rkt)
		return NULL;
	if (h->rkt) /* messages in flight hold their own reference */
		rd_kafka_topic_destroy(h->rkt);
	h->rkt = rkt;
	snprintf(h->name, sizeof(h->name), "%s", topic);
	k->next_handle = (k->next_handle + 1) % AX_KAFKA_HANDLES;
	return rkt;
}

void ax_kafka_handles_free(struct ax_kafka *k)
{
	for (size_t i = 0; i < AX_KAFKA_HANDLES; i++) {
		if (k->handles[i].rkt)
			rd_kafka_topic_destroy(k->handles[i].rkt);
		k->handles[i].rkt = NULL;
	}
}

static rd_kafka_resp_err_t produce(struct ax_kafka *k, const char *topic, const struct ax_record *r,
				   struct ax_kafka_slot *slot)
{
	rd_kafka_vu_t vu[8];
	size_t n = 0;
	char controls[HEADER_MAX];
	rd_kafka_topic_t *rkt = handle_of(k, topic);
	if (rkt) {
		vu[n].vtype = RD_KAFKA_VTYPE_RKT;
		vu[n++].u.rkt = rkt;
	} else {
		vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
		vu[n++].u.cstr = topic;
	}
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[n].u.mem.ptr = (void *)r->json; /* copied: RD_KAFKA_MSG_F_COPY */
	vu[n++].u.mem.size = r->len;
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
	vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[n++].u.ptr = slot;
	if (r->id[0]) {
		vu[n].vtype = RD_KAFKA_VTYPE_KEY;
		vu[n].u.mem.ptr = (void *)r->id;
		vu[n++].u.mem.size = strlen(r->id);
	}
	if (k->headers) {
		set_header(&vu[n++], "iso27001.controls", controls, join_controls(r, controls));
		set_header(&vu[n++], "iso27001.severity", severity_name(r), strlen(severity_name(r)));
		set_header(&vu[n++], "iso27001.category", r->category, strlen(r->category));
	}
	rd_kafka_error_t *error = rd_kafka_produceva(k->rk, vu, n);
	if (!error)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_resp_err_t err = rd_kafka_error_code(error);
	rd_kafka_error_destroy(error);
	return err;
}

static rd_kafka_resp_err_t produce_one(struct ax_kafka *k, const struct ax_record *r,
				       struct ax_kafka_slot *slot, int64_t deadline)
{
	char topic[AX_KAFKA_TOPIC_MAX + 1];
	ax_kafka_topic_expand(k->topic, r, topic);
	for (;;) {
		rd_kafka_resp_err_t err = produce(k, topic, r, slot);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || monotonic_ms() >= deadline)
			return err;
		rd_kafka_poll(k->rk, QUEUE_FULL_WAIT_MS); /* delivery reports make room */
	}
}

/* What librdkafka counts against message.max.bytes, or a little more. */
static size_t wire_size(const struct ax_kafka *k, const struct ax_record *r)
{
	size_t size = r->len + strlen(r->id) + MESSAGE_OVERHEAD;
	if (k->headers) {
		size += 64 + strlen(severity_name(r)) + strlen(r->category);
		for (size_t i = 0; i < r->ncontrols; i++)
			size += strlen(r->controls[i]) + 1;
	}
	return size;
}

/* librdkafka refuses a message over message.max.bytes; finding those before
 * producing anything lets the rest of the batch be written once, not twice. */
static bool reject_oversized(struct ax_kafka *k, const struct ax_batch *b, struct ax_output_result *res)
{
	size_t n = 0, first = 0;
	for (size_t i = 0; i < b->count; i++) {
		if (wire_size(k, &b->records[i]) <= k->max_message)
			continue;
		if (n++ == 0)
			first = i;
		if (res->rejected)
			res->rejected[i] = 1;
	}
	if (n == 0)
		return false;
	res->status = AX_OUT_REJECT;
	snprintf(res->message, sizeof(res->message),
		 "record %s is %zu bytes, more than message.max.bytes (%zu) allows (%zu such records in the batch)",
		 b->records[first].id, b->records[first].len, k->max_message, n);
	return true;
}

static bool fatal(const struct ax_kafka *k, struct ax_output_result *res)
{
	char why[200];
	if (!rd_kafka_fatal_error(k->rk, why, sizeof(why)))
		return false;
	res->status = AX_OUT_FATAL;
	snprintf(res->message, sizeof(res->message), "fatal producer error: %s", why);
	return true;
}

static struct ax_kafka_tracker *tracker_new(struct ax_kafka *k, size_t count)
{
	struct ax_kafka_tracker *t = calloc(1, sizeof(*t) + count * sizeof(t->slots[0]));
	if (!t)
		return NULL;
	t->owner = k;
	t->count = count;
	for (size_t i = 0; i < count; i++)
		t->slots[i].tracker = t;
	return t;
}

static void tracker_forget(struct ax_kafka_tracker *t)
{
	for (struct ax_kafka_tracker **p = &t->owner->abandoned; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	free(t);
}

void ax_kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	(void)rk;
	struct ax_kafka *k = opaque;
	struct ax_kafka_slot *slot = msg->_private;
	struct ax_kafka_tracker *t = slot->tracker;
	slot->err = msg->err;
	t->pending--;
	if (msg->err)
		t->failed++;
	else
		k->brokers_down = false;
	if (!t->abandoned || t->pending)
		return;
	ax_info(k->base.name, "the last delivery report of a batch given up on came in: %zu of its %zu "
		"messages were written (the batch had been sent again)", t->count - t->failed, t->count);
	tracker_forget(t);
}

/* rd_kafka_flush, not rd_kafka_poll: it serves the same callbacks, and also
 * tells librdkafka to send now instead of lingering (linger.ms) for more
 * messages that will not come while send() waits. That halves the time of
 * a batch on loopback. */
static void wait_reports(struct ax_kafka *k, struct ax_kafka_tracker *t, int64_t deadline)
{
	rd_kafka_poll(k->rk, 0);
	for (int64_t left; t->pending && (left = deadline - monotonic_ms()) > 0;)
		rd_kafka_flush(k->rk, left < WAIT_SLICE_MS ? (int)left : WAIT_SLICE_MS);
}

static bool reports_missing(const struct ax_kafka *k, const struct ax_kafka_tracker *t,
			    struct ax_output_result *res)
{
	if (!t->pending)
		return false;
	res->status = AX_OUT_RETRY;
	snprintf(res->message, sizeof(res->message), "%zu of %zu delivery reports not in after %llds",
		 t->pending, t->count, (long long)k->wait_ms / 1000);
	return true;
}

static void describe(const struct ax_kafka *k, const struct ax_batch *b, const struct ax_kafka_tracker *t,
		     size_t first, size_t failed, struct ax_output_result *res)
{
	static const enum ax_output_status status_of[] = {
		[OUTCOME_OK] = AX_OUT_OK, [OUTCOME_REJECT] = AX_OUT_REJECT,
		[OUTCOME_RETRY] = AX_OUT_RETRY, [OUTCOME_FATAL] = AX_OUT_FATAL,
	};
	char topic[AX_KAFKA_TOPIC_MAX + 1];
	ax_kafka_topic_expand(k->topic, &b->records[first], topic);
	res->status = status_of[outcome_of(t->slots[first].err)];
	snprintf(res->message, sizeof(res->message), "topic %.100s: %.100s (%zu of %zu records not written)", topic,
		 rd_kafka_err2str(t->slots[first].err), failed, b->count);
}

/* Turns the reports into the batch's result; the worst outcome wins. */
static void conclude(struct ax_kafka *k, const struct ax_batch *b, const struct ax_kafka_tracker *t,
		     struct ax_output_result *res)
{
	enum outcome worst = OUTCOME_OK;
	size_t failed = 0, rejects = 0, first = 0;
	for (size_t i = 0; i < t->count; i++) {
		enum outcome o = outcome_of(t->slots[i].err);
		failed += o != OUTCOME_OK;
		rejects += o == OUTCOME_REJECT;
		if (o == OUTCOME_REJECT && res->rejected)
			res->rejected[i] = 1;
		if (o > worst) {
			worst = o;
			first = i;
		}
	}
	if (worst == OUTCOME_OK)
		return;
	describe(k, b, t, first, failed, res);
	if (worst != OUTCOME_REJECT || rejects < 2)
		return;
	/* A broker refuses a whole message set: with several records refused,
	 * which of them is at fault is unknown. Sending them one per message
	 * set finds out (Kafka's Java producer splits batches for this too). */
	k->one_by_one = true;
	res->status = AX_OUT_RETRY;
	res->retry_after_ms = 0;
	snprintf(res->message + strlen(res->message), sizeof(res->message) - strlen(res->message),
		 "; sending the batch one record at a time to find the records at fault");
}

static void produce_into(struct ax_kafka *k, const struct ax_batch *b, struct ax_kafka_tracker *t,
			 size_t i, int64_t deadline)
{
	struct ax_kafka_slot *slot = &t->slots[i];
	slot->err = produce_one(k, &b->records[i], slot, deadline);
	if (slot->err)
		t->failed++;
	else
		t->pending++;
}

static void send_together(struct ax_kafka *k, const struct ax_batch *b, struct ax_kafka_tracker *t,
			  struct ax_output_result *res)
{
	int64_t deadline = monotonic_ms() + k->wait_ms;
	for (size_t i = 0; i < b->count; i++)
		produce_into(k, b, t, i, deadline);
	wait_reports(k, t, deadline);
	if (!fatal(k, res) && !reports_missing(k, t, res))
		conclude(k, b, t, res);
}

/* Each record in a message set of its own: stops at the first one refused. */
static void send_one_by_one(struct ax_kafka *k, const struct ax_batch *b, struct ax_kafka_tracker *t,
			    struct ax_output_result *res)
{
	for (size_t i = 0; i < b->count; i++) {
		int64_t deadline = monotonic_ms() + k->wait_ms;
		produce_into(k, b, t, i, deadline);
		wait_reports(k, t, deadline);
		if (fatal(k, res) || reports_missing(k, t, res))
			return;
		rd_kafka_resp_err_t err = t->slots[i].err;
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			continue;
		if (outcome_of(err) == OUTCOME_REJECT && res->rejected)
			res->rejected[i] = 1;
		describe(k, b, t, i, 1, res);
		return;
	}
	k->one_by_one = false;
}

void ax_kafka_send(struct ax_output *out, const struct ax_batch *batch,
		   struct ax_output_result *result)
{
	struct ax_kafka *k = (struct ax_kafka *)out;
	if (fatal(k, result) || reject_oversized(k, batch, result))
		return;
	struct ax_kafka_tracker *t = tracker_new(k, batch->count);
	if (!t) {
		result->status = AX_OUT_RETRY;
		snprintf(result->message, sizeof(result->message), "out of memory");
		return;
	}
	if (k->one_by_one)
		send_one_by_one(k, batch, t, result);
	else
		send_together(k, batch, t, result);
	if (!t->pending) {
		free(t);
		return;
	}
	t->abandoned = true; /* its reports may still come: keep it until they do */
	t->next = k->abandoned;
	k->abandoned = t;
}

size_t ax_kafka_outstanding(const struct ax_kafka *k)
{
	size_t n = 0;
	for (const struct ax_kafka_tracker *t = k->abandoned; t; t = t->next)
		n += t->pending;
	return n;
}

void ax_kafka_trackers_free(struct ax_kafka *k)
{
	while (k->abandoned) {
		struct ax_kafka_tracker *t = k->abandoned;
		k->abandoned = t->next;
		free(t);
	}
}

/* test_kafka_send.c - send() against an in-process librdkafka mock cluster:
 * every broker answer, injected through the mock API, becomes the result
 * the pipeline expects (ok, retry, reject with the record flagged, fatal),
 * and what Kafka holds afterwards is counted by the partition's offsets. */
#include "ktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka_mock.h>

#define TOPIC "m365.exchange"
#define BATCH_MAX 64

struct fixture {
	rd_kafka_t *host; /* hosts the mock cluster, connects nowhere */
	rd_kafka_mock_cluster_t *cluster;
	struct ax_output *out;
	struct ktest_record events[BATCH_MAX];
	struct ax_record records[BATCH_MAX]; /* the batch, as the pipeline hands it */
	char ids[BATCH_MAX][32];
	uint8_t rejected[BATCH_MAX];
	struct ax_output_result result;
};

static int cluster_up(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	assert_int_equal(rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "socket.nagle.disable", "true", errstr, sizeof(errstr)),
			 RD_KAFKA_CONF_OK); /* the mock brokers' sockets: no 40 ms delayed-ACK stalls */
	f->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	assert_non_null(f->host);
	f->cluster = rd_kafka_mock_cluster_new(f->host, 1);
	assert_non_null(f->cluster);
	assert_int_equal(rd_kafka_mock_topic_create(f->cluster, TOPIC, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	*state = f;
	return 0;
}

static int cluster_down(void **state)
{
	struct fixture *f = *state;
	ax_output_destroy(f->out);
	rd_kafka_mock_cluster_destroy(f->cluster);
	rd_kafka_destroy(f->host);
	free(f);
	return 0;
}

/* The output under test, with the fixture's brokers and extra keys. */
static struct ax_output *start(struct fixture *f, const char *const *kv)
{
	struct ax_kafka_conf *c = ktest_conf(kv);
	ktest_set(c, "brokers", rd_kafka_mock_cluster_bootstraps(f->cluster));
	ax_err err;
	f->out = ax_output_create(&ax_output_kafka, "bus", c, &err);
	ktest_conf_free(c);
	assert_non_null(f->out);
	return f->out;
}

static rd_kafka_t *producer_of(struct fixture *f)
{
	return ((struct ax_kafka *)f->out)->rk;
}

/* Fills the batch with events first..first+count-1; returns count. */
static size_t fill(struct fixture *f, int first, size_t count)
{
	assert_true(count <= BATCH_MAX);
	for (size_t i = 0; i < count; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "event-%d", first + (int)i);
		ktest_record(&f->events[i], f->ids[i], "Exchange");
		f->records[i] = f->events[i].rec;
	}
	return count;
}

static enum ax_output_status send_batch(struct fixture *f, size_t count)
{
	struct ax_batch b = { .records = f->records, .count = count };
	f->result = (struct ax_output_result){ .rejected = f->rejected };
	ax_output_send(f->out, &b, &f->result);
	return f->result.status;
}

static int64_t written_to(struct fixture *f, const char *topic)
{
	int64_t low = -1, high = -1;
	rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(producer_of(f), topic, 0, &low, &high, 10000);
	if (err)
		fail_msg("watermarks of %s: %s", topic, rd_kafka_err2str(err));
	return high;
}

static int64_t written(struct fixture *f)
{
	return written_to(f, TOPIC);
}

static size_t flagged(const struct fixture *f, size_t count)
{
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		n += f->rejected[i] != 0;
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends b again until it is delivered, for at most timeout_ms. */
static void send_until_ok(struct fixture *f, size_t count, int64_t timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	while (send_batch(f, count) != AX_OUT_OK) {
		if (now_ms() > end)
			fail_msg("not delivered within %lld ms: %s", (long long)timeout_ms, f->result.message);
	}
}

/* Polls (through health) until no report of a batch given up on is due. */
static void wait_no_outstanding(struct fixture *f, int64_t timeout_ms)
{
	struct ax_output_health h;
	int64_t end = now_ms() + timeout_ms;
	while (ax_kafka_outstanding((struct ax_kafka *)f->out) && now_ms() < end)
		f->out->ops->health(f->out, &h);
	assert_int_equal(ax_kafka_outstanding((struct ax_kafka *)f->out), 0);
}

static void a_batch_is_ok_once_every_report_is_in(void **state)
{
	struct fixture *f = *state;
	start(f, NULL);
	assert_int_equal(send_batch(f, fill(f, 0, 50)), AX_OUT_OK);
	assert_int_equal(written(f), 50);
	assert_int_equal(send_batch(f, fill(f, 50, 10)), AX_OUT_OK);
	assert_int_equal(written(f), 60);
	struct ax_output_health h;
	f->out->ops->health(f->out, &h);
	assert_int_equal(h.state, AX_OUTPUT_UP);
	assert_int_equal(h.sent, 60);
	assert_true(h.last_success_ms > 0);
	assert_int_equal(ax_output_flush(f->out, 1000), AX_OK);
}

/* librdkafka retries these itself; idempotence keeps the retries from
 * writing a record twice. */
static void retriable_broker_errors_are_retried_without_duplicates(void **state)
{
	struct fixture *f = *state;
	start(f, NULL);
	assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->cluster, 1, 0 /* Produce */, 4,
		RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0,
		RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, 0),
		RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(send_batch(f, fill(f, 0, 40)), AX_OUT_OK);
	size_t left = 99;
	assert_int_equal(rd_kafka_mock_broker_error_stack_cnt(f->cluster, 1, 0, &left), RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(left, 0); /* the broker did answer with every error */
	assert_int_equal(written(f), 40);
}

/* The broker refuses a whole message set as too large: the batch is sent
 * again one record per message set, and the record still refused alone is
 * the one rejected. */
static void a_message_the_broker_finds_too_large_is_found_and_rejected(void **state)
{
	struct fixture *f = *state;
	start(f, NULL);
	rd_kafka_mock_push_request_errors(f->cluster, 0, 2, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
					  RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	size_t n = fill(f, 0, 10);
	assert_int_equal(send_batch(f, n), AX_OUT_RETRY);
	assert_int_equal(f->result.retry_after_ms, 0);
	assert_contains(f->result.message, "Message size too large (10 of 10 records not written)");
	assert_contains(f->result.message, "one record at a time");
	assert_int_equal(send_batch(f, n), AX_OUT_REJECT);
	assert_int_equal(flagged(f, n), 1);
	assert_true(f->rejected[0]);
	assert_int_equal(written(f), 0);
	for (size_t i = 0; i + 1 < n; i++) /* what the pipeline sends next: the rest */
		f->records[i] = f->records[i + 1];
	assert_int_equal(send_batch(f, n - 1), AX_OUT_OK);
	assert_int_equal(written(f), 9);
	assert_int_equal(send_batch(f, fill(f, 10, 10)), AX_OUT_OK); /* and back to whole batches */
	assert_int_equal(written(f), 19);
	assert_false(((struct ax_kafka *)f->out)->one_by_one);
}

/* Records over message.max.bytes are found before anything is produced,
 * so the rest of the batch is written once when it is sent again. */
static void an_oversized_record_is_rejected_before_producing(void **state)
{
	struct fixture *f = *state;
	start(f, (const char *const[]){ "rdkafka.message.max.bytes", "2000", NULL });
	size_t n = fill(f, 0, 5);
	char big[5000];
	memset(big, 'x', sizeof(big));
	f->records[2].json = big;
	f->records[2].len = sizeof(big);
	assert_int_equal(send_batch(f, n), AX_OUT_REJECT);
	assert_int_equal(flagged(f, n), 1);
	assert_true(f->rejected[2]);
	assert_contains(f->result.message, "record event-2 is 5000 bytes, more than message.max.bytes (2000)");
	assert_int_equal(written(f), 0);
	f->records[2] = f->records[4];
	assert_int_equal(send_batch(f, 4), AX_OUT_OK);
	assert_int_equal(written(f), 4);
}

static void refused_authorization_is_fatal(void **state)
{
	struct fixture *f = *state;
	start(f, NULL);
	rd_kafka_mock_push_request_errors(f->cluster, 0, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	assert_int_equal(send_batch(f, fill(f, 0, 5)), AX_OUT_FATAL);
	assert_contains(f->result.message, "topic m365.exchange: Broker: Topic authorization failed");
	struct ax_output_health h;
	f->out->ops->health(f->out, &h);
	assert_int_equal(h.state, AX_OUTPUT_DOWN);
}

static void a_fatal_producer_error_is_fatal(void **state)
{
	struct fixture *f = *state;
	start(f, NULL);
	assert_int_equal(send_batch(f, fill(f, 0, 3)), AX_OUT_OK);
	rd_kafka_test_fatal_error(producer_of(f), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected");
	assert_int_equal(send_batch(f, fill(f, 3, 3)), AX_OUT_FATAL);
	assert_contains(f->result.message, "fatal producer error");
	assert_contains(f->result.message, "injected");
	struct ax_output_health h;
	f->out->ops->health(f->out, &h);
	assert_int_equal(h.state, AX_OUTPUT_DOWN);
	assert_contains(h.last_error, "injected");
}

static void an_unreachable_broker_is_a_retry_until_it_is_back(void **state)
{
	struct fixture *f = *state;
	start(f, (const char *const[]){ "delivery_timeout", "1s", NULL });
	send_until_ok(f, fill(f, 0, 5), 30000); /* connected, producer id acquired */
	assert_int_equal(rd_kafka_mock_broker_set_down(f->cluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	size_t n = fill(f, 5, 5);
	assert_int_equal(send_batch(f, n), AX_OUT_RETRY);
	assert_true(f->result.message[0] != '\0');
	struct ax_output_health h;
	f->out->ops->health(f->out, &h);
	assert_int_not_equal(h.state, AX_OUTPUT_UP);
	assert_true(h.last_error[0] != '\0');
	assert_int_equal(rd_kafka_mock_broker_set_up(f->cluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	send_until_ok(f, n, 60000);
	assert_true(written(f) >= 10); /* at least once: a timed-out try may have been written too */
}

/* A batch whose reports do not come in time is given up on, but its
 * reports still land safely when they come (ASan watches this). */
static void late_reports_of_a_batch_given_up_on_land_safely(void **state)
{
	struct fixture *f = *state;
	start(f, (const char *const[]){ "delivery_timeout", "1s", "rdkafka.message.timeout.ms", "60000", NULL });
	struct ax_kafka *k = (struct ax_kafka *)f->out;
	send_until_ok(f, fill(f, 0, 2), 30000);
	wait_no_outstanding(f, 30000);
	assert_int_equal(rd_kafka_mock_broker_set_down(f->cluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	size_t n = fill(f, 2, 8);
	assert_int_equal(send_batch(f, n), AX_OUT_RETRY);
	assert_contains(f->result.message, "8 of 8 delivery reports not in");
	assert_int_equal(ax_kafka_outstanding(k), 8);
	assert_int_equal(rd_kafka_mock_broker_set_up(f->cluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	send_until_ok(f, n, 60000);
	wait_no_outstanding(f, 30000); /* the late reports came and were counted */
	assert_true(written(f) >= 10);
}

static void destroy_drops_what_is_still_outstanding(void **state)
{
	struct fixture *f = *state;
	start(f, (const char *const[]){ "delivery_timeout", "1s", "rdkafka.message.timeout.ms", "60000", NULL });
	assert_int_equal(rd_kafka_mock_broker_set_down(f->cluster, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	assert_int_equal(send_batch(f, fill(f, 0, 4)), AX_OUT_RETRY);
	assert_int_equal(ax_kafka_outstanding((struct ax_kafka *)f->out), 4);
	assert_int_equal(ax_output_flush(f->out, 100), AX_ERR_AGAIN);
	ax_output_destroy(f->out); /* logs the 4 dropped messages; frees their tracker */
	f->out = NULL;
}

static void a_full_local_queue_is_waited_out(void **state)
{
	struct fixture *f = *state;
	start(f, (const char *const[]){ "rdkafka.queue.buffering.max.messages", "4", NULL });
	assert_int_equal(send_batch(f, fill(f, 0, BATCH_MAX)), AX_OUT_OK);
	assert_int_equal(written(f), BATCH_MAX);
}

/* More topics than the output keeps handles for: each handle let go of is
 * made again when its topic comes back, and every record lands in its own. */
static void records_land_in_their_topic_beyond_the_handles_kept(void **state)
{
	struct fixture *f = *state;
	enum { TOPICS = AX_KAFKA_HANDLES + 4, ROUNDS = 3 };
	char ops[TOPICS][16], topic[32];
	for (int t = 0; t < TOPICS; t++) {
		snprintf(ops[t], sizeof(ops[t]), "op%d", t);
		snprintf(topic, sizeof(topic), "m365.op%d", t);
		assert_int_equal(rd_kafka_mock_topic_create(f->cluster, topic, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	start(f, (const char *const[]){ "topic", "m365.{operation}", NULL });
	for (int round = 0; round < ROUNDS; round++) {
		size_t n = fill(f, round * TOPICS, TOPICS);
		for (size_t i = 0; i < n; i++)
			f->records[i].operation = ops[(i + (size_t)round) % TOPICS];
		assert_int_equal(send_batch(f, n), AX_OUT_OK);
	}
	for (int t = 0; t < TOPICS; t++) {
		snprintf(topic, sizeof(topic), "m365.op%d", t);
		assert_int_equal(written_to(f, topic), ROUNDS);
	}
}

int main(void)
{
	unit_quiet_logs();
#define T(name) cmocka_unit_test_setup_teardown(name, cluster_up, cluster_down)
	const struct CMUnitTest tests[] = {
		T(a_batch_is_ok_once_every_report_is_in),
		T(retriable_broker_errors_are_retried_without_duplicates),
		T(a_message_the_broker_finds_too_large_is_found_and_rejected),
		T(an_oversized_record_is_rejected_before_producing),
		T(refused_authorization_is_fatal),
		T(a_fatal_producer_error_is_fatal),
		T(an_unreachable_broker_is_a_retry_until_it_is_back),
		T(late_reports_of_a_batch_given_up_on_land_safely),
		T(destroy_drops_what_is_still_outstanding),
		T(a_full_local_queue_is_waited_out),
		T(records_land_in_their_topic_beyond_the_handles_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

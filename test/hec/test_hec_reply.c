/* test_hec_reply.c - Splunk's answers mapped to what happens to the records
 * (delivered, retried, one event or the request refused, the output
 * stopped with advice), the ack poll answer, and messages that stay short
 * and printable. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "outputs/splunk_hec/hec.h"

static struct ax_hec_reply parse(long http, const char *body)
{
	struct ax_hec_reply r;
	ax_hec_reply_parse(&r, http, body);
	return r;
}

static enum ax_hec_verdict verdict(long http, const char *body, bool ack, size_t nevents)
{
	struct ax_hec_reply r = parse(http, body);
	return ax_hec_reply_verdict(&r, ack, nevents);
}

static void describe(long http, const char *body, bool ack, char *out, size_t len)
{
	struct ax_hec_reply r = parse(http, body);
	ax_hec_reply_describe(&r, ack, out, len);
}

static void test_success(void **state)
{
	(void)state;
	struct ax_hec_reply r = parse(200, "{\"text\":\"Success\",\"code\":0}");
	assert_int_equal(r.code, 0);
	assert_string_equal(r.text, "Success");
	assert_int_equal(r.ack_id, -1);
	assert_int_equal(ax_hec_reply_verdict(&r, false, 10), AX_HEC_DELIVERED);
	r = parse(200, "{\"text\":\"Success\",\"code\":0,\"ackId\":7}");
	assert_int_equal(r.ack_id, 7);
	assert_int_equal(ax_hec_reply_verdict(&r, true, 10), AX_HEC_DELIVERED);
	/* the status decides; a proxy's page in between does not matter */
	assert_int_equal(verdict(200, "<html>ok</html>", false, 1), AX_HEC_DELIVERED);
	assert_int_equal(verdict(200, "", false, 1), AX_HEC_DELIVERED);
}

static void test_invalid_event_number(void **state)
{
	(void)state;
	const char *body = "{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":3}";
	struct ax_hec_reply r = parse(400, body);
	assert_int_equal(r.code, 6);
	assert_int_equal(r.invalid_event, 3);
	assert_int_equal(ax_hec_reply_verdict(&r, false, 5), AX_HEC_REJECT_EVENT);
	assert_int_equal(ax_hec_reply_verdict(&r, false, 4), AX_HEC_REJECT_EVENT);
	/* a number outside the request cannot single an event out */
	assert_int_equal(ax_hec_reply_verdict(&r, false, 3), AX_HEC_REJECT_ALL);
	assert_int_equal(verdict(400, "{\"text\":\"x\",\"code\":6,\"invalid-event-number\":-1}", false, 5), AX_HEC_REJECT_ALL);
	assert_int_equal(verdict(400, "{\"text\":\"Event field is required\",\"code\":12,\"invalid-event-number\":0}", false, 5),
			 AX_HEC_REJECT_EVENT);
	assert_int_equal(verdict(400, "{\"text\":\"Invalid data format\",\"code\":6}", false, 5), AX_HEC_REJECT_ALL);
	char msg[256];
	describe(400, body, false, msg, sizeof(msg));
	assert_string_equal(msg, "HTTP 400, code 6 (Invalid data format); response: "
				 "{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":3}");
}

static void test_retried(void **state)
{
	(void)state;
	assert_int_equal(verdict(503, "{\"text\":\"Server is busy\",\"code\":9}", false, 5), AX_HEC_RETRY);
	assert_int_equal(verdict(503, "{\"text\":\"HEC is unhealthy, queues are full\",\"code\":18}", true, 5), AX_HEC_RETRY);
	assert_int_equal(verdict(429, "too many requests", false, 5), AX_HEC_RETRY);
	assert_int_equal(verdict(408, "", false, 5), AX_HEC_RETRY);
	assert_int_equal(verdict(500, "{\"text\":\"Internal server error\",\"code\":8}", false, 5), AX_HEC_RETRY);
	assert_int_equal(verdict(502, "<html>bad gateway</html>", false, 5), AX_HEC_RETRY);
	assert_int_equal(verdict(0, "", false, 5), AX_HEC_RETRY); /* no answer: connection, timeout */
}

static void expect_fatal(long http, const char *body, bool ack, const char *advice)
{
	char msg[256];
	assert_int_equal(verdict(http, body, ack, 5), AX_HEC_FATAL);
	describe(http, body, ack, msg, sizeof(msg));
	assert_contains(msg, advice);
}

static void test_fatal_with_advice(void **state)
{
	(void)state;
	expect_fatal(401, "{\"text\":\"Token is required\",\"code\":2}", false, "token / token_file");
	expect_fatal(401, "{\"text\":\"Invalid authorization\",\"code\":3}", false, "HEC token was refused");
	expect_fatal(403, "{\"text\":\"Invalid token\",\"code\":4}", false, "HEC token was refused");
	expect_fatal(403, "{\"text\":\"Token disabled\",\"code\":1}", true, "token is enabled");
	expect_fatal(400, "{\"text\":\"Incorrect index\",\"code\":7,\"invalid-event-number\":0}", false,
		     "index is not allowed");
	expect_fatal(400, "{\"text\":\"Data channel is missing\",\"code\":10}", false, "set ack = true");
	expect_fatal(400, "{\"text\":\"ACK is disabled\",\"code\":14}", true, "set ack = false");
	expect_fatal(200, "{\"text\":\"Success\",\"code\":0}", true, "enable it on the token in Splunk or set ack = false");
	expect_fatal(301, "", false, "redirects are not followed");
}

static void test_other_4xx_reject_the_request(void **state)
{
	(void)state;
	assert_int_equal(verdict(404, "{\"text\":\"The requested URL was not found on this server.\",\"code\":404}", false, 5),
			 AX_HEC_REJECT_ALL);
	assert_int_equal(verdict(413, "", false, 5), AX_HEC_REJECT_ALL);
	assert_int_equal(verdict(400, "{\"text\":\"No data\",\"code\":5}", false, 5), AX_HEC_REJECT_ALL);
	assert_int_equal(verdict(400, "{\"text\":\"Error in handling indexed fields\",\"code\":15,\"invalid-event-number\":2}", false, 5),
			 AX_HEC_REJECT_EVENT);
}

/* Bodies go to logs: capped, one printable line. */
static void test_body_excerpt(void **state)
{
	(void)state;
	char big[10000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[3] = '\n';
	big[4] = '\x1b';
	struct ax_hec_reply r = parse(400, big);
	assert_true(strlen(r.body) < sizeof(r.body));
	assert_memory_equal(r.body, "xxx??xx", 7);
	assert_string_equal(r.body + strlen(r.body) - 3, "...");
	char msg[256];
	ax_hec_reply_describe(&r, false, msg, sizeof(msg));
	assert_true(strlen(msg) < sizeof(msg));
	assert_null(strchr(msg, '\n'));
	r = parse(400, "{\"text\":\"a very long text that goes on and on and on and on and on and on and on and on and on\",\"code\":6}");
	assert_true(strlen(r.text) < sizeof(r.text));
}

static void test_acks(void **state)
{
	(void)state;
	const int64_t ids[] = { 0, 1, 5, 9 };
	bool acked[4] = { false, false, false, false };
	assert_int_equal(ax_hec_acks_parse("{\"acks\":{\"0\":true,\"1\":false,\"5\":true}}", ids, acked, 4), AX_OK);
	assert_true(acked[0]);
	assert_false(acked[1]);
	assert_true(acked[2]);
	assert_false(acked[3]); /* not in the answer: not acknowledged */
	/* an acknowledgement is never taken back by a later answer */
	assert_int_equal(ax_hec_acks_parse("{\"acks\":{\"0\":false,\"1\":true,\"9\":\"true\"}}", ids, acked, 4), AX_OK);
	assert_true(acked[0] && acked[1] && acked[2]);
	assert_false(acked[3]); /* "true" the string is not true */
	assert_int_equal(ax_hec_acks_parse("{\"acks\":[0,1]}", ids, acked, 4), AX_ERR_JSON);
	assert_int_equal(ax_hec_acks_parse("[]", ids, acked, 4), AX_ERR_JSON);
	assert_int_equal(ax_hec_acks_parse("not json", ids, acked, 4), AX_ERR_JSON);
	assert_int_equal(ax_hec_acks_parse("", ids, acked, 4), AX_ERR_JSON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_invalid_event_number),
		cmocka_unit_test(test_retried),
		cmocka_unit_test(test_fatal_with_advice),
		cmocka_unit_test(test_other_4xx_reject_the_request),
		cmocka_unit_test(test_body_excerpt),
		cmocka_unit_test(test_acks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

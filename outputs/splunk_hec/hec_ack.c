/* Indexer acknowledgement: a 200 only says Splunk received the events;
 * the ackId it returned turns true on /services/collector/ack once they are
 * indexed (Splunk docs, "About HTTP Event Collector Indexer
 * Acknowledgment"). Polls start fast and slow down, since indexing usually
 * takes a second or two but can take much longer under load. */
#include <stdio.h>
#include <time.h>

#include "hec.h"

#define FIRST_POLL_MS 100
#define MAX_POLL_MS 2000

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static size_t pending(const bool *acked, size_t n)
{
	size_t left = 0;
	for (size_t i = 0; i < n; i++)
		left += !acked[i];
	return left;
}

/* {"acks":[ids not acknowledged yet]} */
static ax_err query(struct ax_buf *b, const int64_t *ids, const bool *acked, size_t n)
{
	ax_buf_clear(b);
	ax_err err = ax_buf_adds(b, "{\"acks\":[");
	for (size_t i = 0, k = 0; !err && i < n; i++)
		if (!acked[i])
			err = ax_buf_addf(b, "%s%lld", k++ ? "," : "", (long long)ids[i]);
	return err ? err : ax_buf_adds(b, "]}");
}

/* One poll; false when Splunk says polling cannot work (message set). */
static bool poll_once(const struct ax_hec_ack_poll *p, struct ax_buf *q, const int64_t *ids,
		      bool *acked, size_t n, char *message, size_t len)
{
	struct ax_hec_reply reply;
	char why[CURL_ERROR_SIZE + 256];
	if (query(q, ids, acked, n)) {
		snprintf(message, len, "out of memory building an ack query");
		return true;
	}
	ax_hec_http_post(p->http, p->url, p->headers, q->data, q->len, &reply, p->resp, why, sizeof(why));
	if (reply.http == 200 && p->resp->data && ax_hec_acks_parse(p->resp->data, ids, acked, n) == AX_OK)
		return true;
	if (reply.http == 0) {
		snprintf(message, len, "ack poll: %s", why);
		return true;
	}
	ax_hec_reply_describe(&reply, true, message, len);
	return ax_hec_reply_verdict(&reply, true, 0) != AX_HEC_FATAL;
}

enum ax_hec_verdict ax_hec_ack_wait(const struct ax_hec_ack_poll *p, const int64_t *ids,
				    bool *acked, size_t n, char *message, size_t len)
{
	struct ax_buf q;
	ax_buf_init(&q, 1 << 20);
	int64_t deadline = now_ms() + p->timeout_ms;
	int64_t interval = FIRST_POLL_MS;
	enum ax_hec_verdict v = AX_HEC_DELIVERED;
	message[0] = '\0';
	while (pending(acked, n) > 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			char last[160];
			snprintf(last, sizeof(last), "%s", message);
			snprintf(message, len, "%zu of %zu requests not acknowledged within ack_timeout; "
				 "their events are sent again%s%s", pending(acked, n), n, last[0] ? "; last: " : "", last);
			v = AX_HEC_RETRY;
			break;
		}
		sleep_ms(interval < left ? interval : left);
		interval = interval * 2 < MAX_POLL_MS ? interval * 2 : MAX_POLL_MS;
		if (!poll_once(p, &q, ids, acked, n, message, len)) {
			v = AX_HEC_FATAL;
			break;
		}
	}
	ax_buf_finish(&q);
	return v;
}

/* Splunk's answers, and what each means for the records of a request.
 *
 * HEC answers {"text":"Success","code":0} (plus "ackId" with indexer
 * acknowledgement); errors carry a status code and a HEC code, and batch
 * errors the index of the event that failed, "invalid-event-number"
 * (Splunk docs, "Troubleshoot HTTP Event Collector", status codes):
 *   401/403, codes 1-4   token disabled, missing, malformed, invalid  → fatal
 *   400, code 7          index not allowed for this token              → fatal
 *   400, code 10         the token requires a channel (ack is on)     → fatal
 *   400, code 14         ack is disabled for this token                → fatal
 *   400 with invalid-event-number N                → that event is refused
 *   408, 429, 5xx (503 code 9: server busy)        → retry, Retry-After honoured
 *   other 4xx                                      → the request is refused
 * Bodies are read with yajl's tree API: they are small and capped. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "hec.h"

enum hec_code { /* Splunk's HEC status codes we act on */
	CODE_INCORRECT_INDEX = 7,
	CODE_CHANNEL_MISSING = 10,
	CODE_ACK_DISABLED = 14,
};

static long long integer(yajl_val root, const char *name)
{
	const char *path[] = { name, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);
	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The body's start, with anything unprintable replaced: it goes to logs. */
static void excerpt(char *out, size_t len, const char *body)
{
	size_t n = 0, i = 0;
	for (; body[i] && n + 4 < len; i++)
		out[n++] = isprint((unsigned char)body[i]) ? body[i] : '?';
	if (body[i]) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

void ax_hec_reply_parse(struct ax_hec_reply *r, long http, const char *body)
{
	r->http = http;
	r->code = r->invalid_event = -1;
	r->ack_id = -1;
	r->text[0] = '\0';
	excerpt(r->body, sizeof(r->body), body);
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	if (!YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return;
	}
	const char *text_path[] = { "text", NULL };
	const char *text = YAJL_GET_STRING(yajl_tree_get(root, text_path, yajl_t_string));
	snprintf(r->text, sizeof(r->text), "%s", text ? text : "");
	r->code = (long)integer(root, "code");
	r->invalid_event = (long)integer(root, "invalid-event-number");
	r->ack_id = integer(root, "ackId");
	yajl_tree_free(root);
}

static enum ax_hec_verdict bad_request(const struct ax_hec_reply *r, size_t nevents)
{
	switch (r->code) {
	case CODE_INCORRECT_INDEX:
	case CODE_CHANNEL_MISSING:
	case CODE_ACK_DISABLED:
		return AX_HEC_FATAL;
	}
	if (r->invalid_event >= 0 && (size_t)r->invalid_event < nevents)
		return AX_HEC_REJECT_EVENT;
	return AX_HEC_REJECT_ALL;
}

enum ax_hec_verdict ax_hec_reply_verdict(const struct ax_hec_reply *r, bool ack, size_t nevents)
{
	long s = r->http;
	if (s >= 200 && s < 300)
		return ack && r->ack_id < 0 ? AX_HEC_FATAL : AX_HEC_DELIVERED;
	if (s == 0 || s == 408 || s == 429 || s >= 500)
		return AX_HEC_RETRY;
	if (s == 401 || s == 403)
		return AX_HEC_FATAL;
	if (s >= 400)
		return s == 400 ? bad_request(r, nevents) : AX_HEC_REJECT_ALL;
	return AX_HEC_FATAL; /* 1xx, 3xx: not a HEC endpoint (redirects are not followed) */
}

/* What the user should do about a fatal answer. */
static const char *advice(const struct ax_hec_reply *r, bool ack)
{
	if (r->http == 401 || r->http == 403)
		return "the HEC token was refused: check token / token_file and that the token is enabled";
	if (r->http / 100 == 2 && ack)
		return "no ackId in the answer: indexer acknowledgement is off for this token; "
		       "enable it on the token in Splunk or set ack = false";
	switch (r->code) {
	case CODE_INCORRECT_INDEX:
		return "the index is not allowed for this token: fix index or the token's allowed indexes";
	case CODE_CHANNEL_MISSING:
		return "the token requires indexer acknowledgement: set ack = true";
	case CODE_ACK_DISABLED:
		return "indexer acknowledgement is off for this token: set ack = false or enable it on the token in Splunk";
	}
	if (r->http / 100 == 3 || r->http / 100 == 1)
		return "not a HEC answer: check url (redirects are not followed)";
	return NULL;
}

void ax_hec_reply_describe(const struct ax_hec_reply *r, bool ack, char *out, size_t len)
{
	const char *todo = ax_hec_reply_verdict(r, ack, SIZE_MAX) == AX_HEC_FATAL ? advice(r, ack) : NULL;
	int n = snprintf(out, len, "HTTP %ld", r->http);
	if (n >= 0 && (size_t)n < len && r->code >= 0)
		n += snprintf(out + n, len - (size_t)n, ", code %ld (%s)", r->code, r->text);
	if (n >= 0 && (size_t)n < len && todo)
		n += snprintf(out + n, len - (size_t)n, ": %s", todo);
	if (n >= 0 && (size_t)n < len && r->body[0])
		snprintf(out + n, len - (size_t)n, "; response: %s", r->body);
}

ax_err ax_hec_acks_parse(const char *body, const int64_t *ids, bool *acked, size_t n)
{
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	const char *path[] = { "acks", NULL };
	yajl_val acks = yajl_tree_get(root, path, yajl_t_object);
	if (!acks) {
		yajl_tree_free(root);
		return AX_ERR_JSON;
	}
	for (size_t i = 0; i < n; i++) {
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)ids[i]);
		const char *id_path[] = { key, NULL };
		if (YAJL_IS_TRUE(yajl_tree_get(acks, id_path, yajl_t_true)))
			acked[i] = true;
	}
	yajl_tree_free(root);
	return AX_OK;
}

/* fuzz_hec_reply.c - what the splunk_hec output reads from the receiver:
 * event POST answers ({"text","code","ackId","invalid-event-number"}) with
 * any HTTP status, and indexer acknowledgement answers ({"acks":{..}}).
 *
 * Input: a status byte, then the body. Properties: the verdict is one of
 * the five; a rejected event is one of the request's; the description is a
 * terminated, printable line. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "outputs/splunk_hec/hec.h"

#define MAX_BODY (64u << 10) /* the output caps answers far below this */

static const long statuses[] = { 200, 400, 401, 403, 404, 408, 413, 429, 500, 503, 0, 301 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > MAX_BODY)
		return 0;
	char *body = malloc(size);
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	long http = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	struct ax_hec_reply r;
	ax_hec_reply_parse(&r, http, body);
	FUZZ_CHECK(memchr(r.text, '\0', sizeof(r.text)) && memchr(r.body, '\0', sizeof(r.body)));
	for (const char *p = r.body; *p; p++)
		FUZZ_CHECK(isprint((unsigned char)*p));
	for (size_t nevents = 1; nevents <= 3; nevents++) {
		for (int ack = 0; ack < 2; ack++) {
			enum ax_hec_verdict v = ax_hec_reply_verdict(&r, ack, nevents);
			FUZZ_CHECK(v <= AX_HEC_FATAL);
			if (v == AX_HEC_REJECT_EVENT)
				FUZZ_CHECK(r.invalid_event >= 0 && (size_t)r.invalid_event < nevents);
			char line[512];
			ax_hec_reply_describe(&r, ack, line, sizeof(line));
			FUZZ_CHECK(memchr(line, '\0', sizeof(line)) != NULL);
		}
	}
	const int64_t ids[] = { 0, 1, 7, 4294967296LL, -1 };
	bool acked[5] = { false };
	if (ax_hec_acks_parse(body, ids, acked, 5) != AX_OK)
		for (size_t i = 0; i < 5; i++)
			FUZZ_CHECK(!acked[i]);
	free(body);
	return 0;
}

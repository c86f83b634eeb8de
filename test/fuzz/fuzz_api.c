/* fuzz_api.c - what the Microsoft 365 sources parse from the network:
 * Management Activity API content listings and subscription lists, blobs
 * (JSON arrays of records), Graph pages ({"value":[...],"@odata.nextLink"}),
 * the error bodies both APIs send, and token endpoint answers.
 *
 * Input: a selector byte, a status byte, then the body. Properties: every
 * record range the splitter reports lies inside the body, in order, and is
 * itself a JSON value, and the splitter's fast path gives what its yajl pass
 * gives (sources/blob.c); listing entries have an id and a URI. */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "../sources/blob_same.h"
#include "fuzz_common.h"
#include "secret.h"
#include "sources/api_errors.h"
#include "sources/blob.h"
#include "sources/mgmt_api.h"
#include "sources/token.h"

#define MAX_BODY (1u << 20)

static const long statuses[] = { 200, 201, 204, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504, 0, 302 };

static void listing(const char *body)
{
	struct ax_blob_refs refs = { 0 };
	if (ax_mgmt_parse_listing(body, "https://manage.office.com/api/v1.0/t/activity/feed/", &refs) == AX_OK)
		for (size_t i = 0; i < refs.count; i++)
			FUZZ_CHECK(refs.items[i].id && refs.items[i].id[0] && refs.items[i].uri && refs.items[i].uri[0]);
	ax_blob_refs_finish(&refs);
}

static void subscription(const char *body)
{
	enum ax_sub_state state = AX_SUB_NONE;
	if (ax_mgmt_subscription(body, "Audit.Exchange", &state) == AX_OK)
		FUZZ_CHECK(state == AX_SUB_NONE || state == AX_SUB_ENABLED || state == AX_SUB_DISABLED);
}

static void split(const char *body, size_t len, bool envelope)
{
	static const struct ax_blob_spec o365 = { .envelope = false, .id_key = "Id", .ts_key = NULL };
	static const struct ax_blob_spec graph = { .envelope = true, .id_key = "id", .ts_key = "lastUpdateDateTime" };
	struct ax_blob b;
	ax_blob_init(&b);
	ax_err err = ax_blob_split(&b, envelope ? &graph : &o365, body, len);
	FUZZ_CHECK(err == AX_OK || err == AX_ERR_JSON || err == AX_ERR_NOMEM);
	size_t prev_end = 0;
	for (size_t i = 0; i < b.count; i++) {
		const struct ax_blob_item *it = &b.items[i];
		FUZZ_CHECK(it->len > 0 && it->off >= prev_end && it->off + it->len <= len);
		prev_end = it->off + it->len;
		if (it->id_len)
			FUZZ_CHECK(it->id < b.strings.len && strlen(ax_blob_str(&b, it->id)) == it->id_len);
		char *copy = strndup(body + it->off, it->len);
		FUZZ_CHECK(copy != NULL);
		yajl_val v = yajl_tree_parse(copy, NULL, 0);
		FUZZ_CHECK(v != NULL); /* an element is a whole JSON value */
		yajl_tree_free(v);
		free(copy);
	}
	if (b.bad_len)
		FUZZ_CHECK(b.bad_off + b.bad_len <= len);
	if (err == AX_ERR_JSON)
		FUZZ_CHECK(b.error[0] != '\0');
	struct ax_blob y;
	ax_blob_init(&y);
	y.yajl_only = true;
	char why[512];
	ax_err yerr = ax_blob_split(&y, envelope ? &graph : &o365, body, len);
	FUZZ_CHECK(blob_differs(err, &b, yerr, &y, why, sizeof(why)) == NULL);
	ax_blob_finish(&y);
	ax_blob_finish(&b);
}

static void classify(const char *body, size_t len, long status, bool graph)
{
	char code[48], message[256];
	enum ax_api_class c = ax_api_classify(graph ? AX_API_GRAPH : AX_API_MANAGEMENT, status, body, len,
					      code, sizeof(code), message, sizeof(message));
	FUZZ_CHECK(c <= AX_CLASS_FAILED);
	FUZZ_CHECK(memchr(code, '\0', sizeof(code)) && memchr(message, '\0', sizeof(message)));
}

static void token(const char *body, size_t len, long status)
{
	static struct ax_token_client *tc;
	if (!tc) {
		static struct ax_secret *secret;
		secret = ax_secret_new("s3cr3t", 6);
		static struct ax_token_conf conf = {
			.token_url = "https://login.microsoftonline.com/t/oauth2/v2.0/token",
			.client_id = "c", .scope = "https://manage.office.com/.default",
		};
		conf.client_secret = secret;
		char why[256];
		tc = ax_token_client_create(&conf, why, sizeof(why));
		FUZZ_CHECK(tc != NULL);
	}
	char why[512] = "";
	ax_err err = ax_token_read_answer(tc, status, body, len, why, sizeof(why));
	if (err)
		FUZZ_CHECK(why[0] != '\0');
	else
		FUZZ_CHECK(ax_token_remaining(tc) > 0);
	ax_token_invalidate(tc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > MAX_BODY)
		return 0;
	size_t len = size - 2;
	char *body = malloc(len + 1); /* the HTTP client NUL-terminates what it read */
	if (!body)
		return 0;
	memcpy(body, data + 2, len);
	body[len] = '\0';
	long status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	switch (data[0] % 7) {
	case 0: listing(body); break;
	case 1: subscription(body); break;
	case 2: split(body, len, false); break;
	case 3: split(body, len, true); break;
	case 4: classify(body, len, status, false); break;
	case 5: classify(body, len, status, true); break;
	default: token(body, len, status); break;
	}
	free(body);
	return 0;
}

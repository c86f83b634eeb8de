/* splunk_hec output: the instance. Everything that does not change per
 * request is prepared here once: the two URLs, the header lists (the token
 * is only ever in them), the shared event members, the HTTP handle and,
 * with indexer acknowledgement, a channel id. No network I/O until send. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hec.h"
#include "host.h"
#include "log.h"

#define EVENT_PATH "/services/collector/event"
#define ACK_PATH "/services/collector/ack?channel="
#define CHANNEL_LEN 36
#define RESPONSE_MAX (64u << 10)
#define BODY_MAX ((size_t)1 << 30)

/* A random (version 4) UUID: the indexer-acknowledgement channel. */
static ax_err make_channel(char out[CHANNEL_LEN + 1])
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return AX_ERR_IO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, CHANNEL_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return AX_OK;
}

static char *join(const char *base, const char *path, const char *tail)
{
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	size_t len = n + strlen(path) + strlen(tail) + 1;
	char *s = malloc(len);
	if (s)
		snprintf(s, len, "%.*s%s%s", (int)n, base, path, tail);
	return s;
}

static void wipe_headers(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

/* Authorization first, then the rest; NULL when out of memory. */
static struct curl_slist *headers(const struct ax_secret *token, const char *const *rest)
{
	static const char prefix[] = "Authorization: Splunk ";
	size_t len = sizeof(prefix) + token->len;
	char *auth = malloc(len);
	if (!auth)
		return NULL;
	snprintf(auth, len, "%s%s", prefix, token->value);
	struct curl_slist *list = curl_slist_append(NULL, auth);
	explicit_bzero(auth, len);
	free(auth);
	for (size_t i = 0; list && rest[i]; i++) {
		struct curl_slist *more = curl_slist_append(list, rest[i]);
		if (!more)
			wipe_headers(list);
		list = more;
	}
	return list;
}

static ax_err make_headers(struct ax_hec_output *h, const struct ax_hec_conf *c)
{
	char channel[CHANNEL_LEN + 1], channel_header[CHANNEL_LEN + 40];
	if (make_channel(channel))
		return AX_ERR_IO;
	snprintf(channel_header, sizeof(channel_header), "X-Splunk-Request-Channel: %s", channel);
	/* "Expect:" turns off curl's 100-continue round trip on large bodies. */
	const char *ack[] = { "Content-Type: application/json", "Expect:", channel_header, NULL };
	const char *event[5] = { "Content-Type: application/json", "Expect:" };
	size_t n = 2;
	if (h->gzip)
		event[n++] = "Content-Encoding: gzip";
	if (c->ack)
		event[n++] = channel_header;
	h->event_headers = headers(c->token, event);
	h->ack_headers = c->ack ? headers(c->token, ack) : NULL;
	h->event_url = join(c->url, EVENT_PATH, "");
	h->ack_url = c->ack ? join(c->url, ACK_PATH, channel) : NULL;
	bool ok = h->event_headers && h->event_url && (!c->ack || (h->ack_headers && h->ack_url));
	return ok ? AX_OK : AX_ERR_NOMEM;
}

static ax_err setup(struct ax_hec_output *h, const struct ax_hec_conf *c)
{
	char why[CURL_ERROR_SIZE + 64];
	h->limits.max_records = (size_t)c->batch_max_records;
	h->limits.max_bytes = (size_t)c->batch_max_bytes;
	h->ack = c->ack;
	h->ack_timeout = c->ack_timeout;
	if (c->compress == AX_HEC_GZIP) {
		h->gzip = ax_hec_gzip_create((int)c->compress_level);
		if (!h->gzip)
			return AX_ERR_NOMEM;
	}
	ax_err err = make_headers(h, c);
	if (!err)
		err = ax_hec_meta_render(&h->meta, ax_host_name(c->host), c->source,
					 c->sourcetype, c->index);
	if (err)
		return err;
	struct ax_hec_http_options o = {
		.tls_verify = c->tls_verify, .ca_file = c->tls_ca_file,
		.timeout_ms = c->timeout, .cookies = c->ack,
	};
	h->http = ax_hec_http_create(&o, why, sizeof(why));
	if (!h->http) {
		ax_error(h->base.name, "%s", why);
		return AX_ERR_IO;
	}
	return AX_OK;
}

static void hec_destroy(struct ax_output *out)
{
	struct ax_hec_output *h = (struct ax_hec_output *)out;
	if (!h)
		return;
	ax_hec_http_destroy(h->http);
	wipe_headers(h->event_headers);
	wipe_headers(h->ack_headers);
	free(h->event_url);
	free(h->ack_url);
	ax_buf_finish(&h->meta);
	ax_buf_finish(&h->body);
	ax_buf_finish(&h->gz);
	ax_hec_gzip_destroy(h->gzip);
	ax_buf_finish(&h->resp);
	ax_hec_done_finish(&h->done);
	free(h->todo);
	free(h->pending);
	free(h->ack_ids);
	free(h->acked);
	ax_output_finish_base(&h->base);
	free(h);
}

static struct ax_output *hec_create(const char *name, const void *conf, ax_err *err)
{
	const struct ax_hec_conf *c = conf;
	struct ax_hec_output *h = calloc(1, sizeof(*h));
	if (!h || ax_output_init_base(&h->base, &ax_output_splunk_hec, name)) {
		*err = AX_ERR_NOMEM;
		free(h);
		return NULL;
	}
	ax_buf_init(&h->meta, 64u << 10);
	ax_buf_init(&h->body, BODY_MAX);
	ax_buf_init(&h->gz, BODY_MAX);
	ax_buf_init(&h->resp, RESPONSE_MAX);
	*err = setup(h, c);
	if (*err) {
		ax_error(name, "cannot set up the HEC output: %s", ax_strerror(*err));
		hec_destroy(&h->base);
		return NULL;
	}
	if (!c->tls_verify)
		ax_warn(name, "tls_verify = false: the server's certificate is not checked, so anyone "
			      "on the path can read the events and the token");
	return &h->base;
}

const struct ax_output_ops ax_output_splunk_hec = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "splunk_hec", "Splunk HTTP Event Collector (batched, gzip, indexer acknowledgement)",
		  ax_hec_tables, sizeof(struct ax_hec_conf), ax_hec_validate },
	.create = hec_create,
	.send = ax_hec_send,
	.destroy = hec_destroy,
};

/* One libcurl easy handle per instance, reused so the connection (and its
 * TLS session) stays open between requests.
 *
 * TLS: certificate and host name checks unless tls_verify = false, TLS 1.2
 * at least. Proxies come from libcurl's environment (https_proxy, no_proxy).
 * Redirects are not followed: the token must not travel to another host.
 * Nothing here logs or returns a request header: one carries the token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hec.h"
#include "version.h"

#define CONNECT_TIMEOUT_MS 10000
/* libcurl copies a large POST body through this buffer, one send() per
 * fill: its 64 KiB default cut a 1 MiB request into 16 sends and as many
 * loopback wakeups. */
#define UPLOAD_BUFFER_BYTES (256L * 1024)

struct ax_hec_http {
	CURL *curl;
	struct ax_buf *resp;
	bool overflow; /* the answer did not fit: the transfer was stopped */
	char error[CURL_ERROR_SIZE];
};

/* Keeps the answer in the response buffer; one larger than its max (no
 * HEC answer is) stops the transfer at once rather than reading it to the
 * timeout: it is not an acknowledgement, and the batch goes again. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ax_hec_http *h = arg;
	size_t n = size * nmemb;
	if (n > h->resp->max - h->resp->len) {
		h->overflow = true;
		return 0;
	}
	return ax_buf_add(h->resp, data, n) ? 0 : n;
}

static CURLcode configure(struct ax_hec_http *h, const struct ax_hec_http_options *o)
{
	CURL *c = h->curl;
	long timeout = (long)o->timeout_ms;
	CURLcode rc = CURLE_OK;
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->error);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
					timeout < CONNECT_TIMEOUT_MS ? timeout : (long)CONNECT_TIMEOUT_MS);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_USERAGENT, "annexa/" AX_VERSION);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_POST, 1L);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER_BYTES);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L);
	rc = rc ? rc : curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L);
	if (o->ca_file && o->ca_file[0])
		rc = rc ? rc : curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->cookies)
		rc = rc ? rc : curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
	return rc;
}

struct ax_hec_http *ax_hec_http_create(const struct ax_hec_http_options *o, char *why, size_t len)
{
	struct ax_hec_http *h = calloc(1, sizeof(*h));
	if (!h || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, len, "out of memory");
		free(h);
		return NULL;
	}
	h->curl = curl_easy_init();
	CURLcode rc = h->curl ? configure(h, o) : CURLE_OUT_OF_MEMORY;
	if (rc) {
		snprintf(why, len, "libcurl: %s", curl_easy_strerror(rc));
		ax_hec_http_destroy(h);
		return NULL;
	}
	return h;
}

void ax_hec_http_destroy(struct ax_hec_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_global_cleanup();
	free(h);
}

static int64_t retry_after_ms(CURL *c)
{
	curl_off_t secs = -1;
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &secs) != CURLE_OK || secs <= 0)
		return -1;
	return (int64_t)secs * 1000;
}

void ax_hec_http_post(struct ax_hec_http *h, const char *url, const struct curl_slist *headers,
		      const char *body, size_t len, struct ax_hec_reply *reply, struct ax_buf *resp,
		      char *why, size_t why_len)
{
	CURL *c = h->curl;
	ax_buf_clear(resp);
	h->resp = resp;
	h->overflow = false;
	h->error[0] = '\0';
	why[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (h->overflow)
		snprintf(why, why_len, "%s: an answer larger than %zu bytes, cut: not an acknowledgement", url, resp->max);
	else
		snprintf(why, why_len, "%s: %s", url, h->error[0] ? h->error : curl_easy_strerror(rc));
	if (ax_buf_cstr(resp))
		ax_buf_clear(resp); /* no room for the NUL: parse nothing */
	ax_hec_reply_parse(reply, status, resp->len ? resp->data : "");
	reply->retry_after_ms = retry_after_ms(c);
}

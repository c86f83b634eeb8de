#include "sources/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct ax_http {
	CURL *easy;
	struct ax_http_options opts;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ax_http_global_init(void)
{
	pthread_once(&curl_once, curl_init);
}

struct ax_http *ax_http_create(const struct ax_http_options *opts)
{
	ax_http_global_init();
	struct ax_http *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->opts = *opts;
	h->easy = curl_easy_init();
	if (!h->easy) {
		free(h);
		return NULL;
	}
	return h;
}

void ax_http_destroy(struct ax_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->easy);
	free(h);
}

void ax_http_response_init(struct ax_http_response *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	ax_buf_init(&r->body, max_body);
	r->retry_after_ms = -1;
}

void ax_http_response_reset(struct ax_http_response *r)
{
	r->status = 0;
	ax_buf_clear(&r->body);
	r->retry_after_ms = -1;
	free(r->next_page);
	r->next_page = NULL;
	r->date = 0;
	r->too_large = false;
	r->error[0] = '\0';
}

void ax_http_response_finish(struct ax_http_response *r)
{
	ax_http_response_reset(r);
	ax_buf_finish(&r->body);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct ax_http_response *r = arg;
	if (ax_buf_add(&r->body, data, size * n) == AX_OK)
		return size * n;
	r->too_large = true;
	return 0;
}

/* Header value without its name, leading blanks or the trailing CRLF. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	const char *v = line + n + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return strndup(v, (size_t)(end - v));
}

/* Retry-After: delay-seconds or an HTTP date. */
static int64_t retry_after_ms(const char *v)
{
	char *end;
	long long s = strtoll(v, &end, 10);
	if (end != v && *end == '\0' && s >= 0)
		return s * 1000;
	time_t at = curl_getdate(v, NULL);
	if (at < 0)
		return -1;
	time_t now = time(NULL);
	return at > now ? (int64_t)(at - now) * 1000 : 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct ax_http_response *r = arg;
	size_t len = size * n;
	char *v;
	if ((v = header_value(line, len, "Retry-After"))) {
		r->retry_after_ms = retry_after_ms(v);
		free(v);
	} else if ((v = header_value(line, len, "NextPageUri")) || (v = header_value(line, len, "NextPageUrl"))) {
		free(r->next_page);
		r->next_page = v;
	} else if ((v = header_value(line, len, "Date"))) {
		time_t t = curl_getdate(v, NULL);
		r->date = t > 0 ? (int64_t)t : 0;
		free(v);
	}
	return len;
}

struct curl_slist *ax_http_header_list(const char *const *headers, const char *content_type)
{
	struct curl_slist *list = NULL, *next;
	char line[256];
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		if (!(list = curl_slist_append(list, line)))
			return NULL;
	}
	for (size_t i = 0; headers && headers[i]; i++) {
		if (!(next = curl_slist_append(list, headers[i]))) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = next;
	}
	return list;
}

void ax_http_header_list_free(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

/* libcurl calls it a few times a second during a transfer. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((const atomic_int *)arg) ? 1 : 0;
}

void ax_http_setup(CURL *c, const struct ax_http_options *opts, const char *url,
		   struct curl_slist *headers, const char *body, size_t body_len,
		   struct ax_http_response *resp)
{
	long low_speed_s = opts->timeout_ms < 30000 ? (long)(opts->timeout_ms / 1000) : 30;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)opts->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(opts->timeout_ms < 10000 ? opts->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_speed_s > 0 ? low_speed_s : 1L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L); /* libcurl's defaults, said out loud */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	/* a Content-Length past the cap is refused before any byte is read;
	 * without one (chunked, compressed) on_body stops at the cap */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)resp->body.max);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when the server offers it */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "annexa");
	if (opts->proxy && opts->proxy[0])
		curl_easy_setopt(c, CURLOPT_PROXY, opts->proxy);
	if (opts->ca_file && opts->ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
	if (opts->stop) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)opts->stop);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
}

ax_err ax_http_outcome(CURL *easy, CURLcode rc, struct ax_http_response *resp)
{
	if ((rc == CURLE_WRITE_ERROR && resp->too_large) || rc == CURLE_FILESIZE_EXCEEDED) {
		resp->too_large = true;
		snprintf(resp->error, sizeof(resp->error), "response larger than %zu bytes", resp->body.max);
		return AX_ERR_TOO_LARGE;
	}
	if (rc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
		return AX_ERR_IO;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
	return ax_buf_cstr(&resp->body);
}

ax_err ax_http_request(struct ax_http *h, const char *url, const char *const *headers,
		       const char *content_type, const char *body, size_t body_len,
		       struct ax_http_response *resp)
{
	ax_http_response_reset(resp);
	struct curl_slist *list = ax_http_header_list(headers, content_type);
	if ((headers || content_type) && !list)
		return AX_ERR_NOMEM;
	ax_http_setup(h->easy, &h->opts, url, list, body, body_len, resp);
	CURLcode rc = curl_easy_perform(h->easy);
	curl_slist_free_all(list);
	return ax_http_outcome(h->easy, rc, resp);
}

ax_err ax_http_add_escaped(struct ax_http *h, struct ax_buf *b, const char *s)
{
	char *e = curl_easy_escape(h->easy, s, 0);
	if (!e)
		return AX_ERR_NOMEM;
	ax_err err = ax_buf_adds(b, e);
	curl_free(e);
	return err;
}

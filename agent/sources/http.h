/* http.h - the HTTP client the Microsoft 365 sources share (libcurl).
 *
 * One easy handle per client, reused for keep-alive. Response bodies are
 * capped (a body larger than the cap is an error, never buffered whole),
 * and the few headers the APIs steer clients with are kept. Nothing here
 * logs a request's headers: they carry bearer tokens. */
#ifndef AX_AGENT_SOURCES_HTTP_H
#define AX_AGENT_SOURCES_HTTP_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct ax_http_response {
	long status;            /* 0: no HTTP answer (see error) */
	struct ax_buf body;
	int64_t retry_after_ms; /* Retry-After, -1 when absent */
	char *next_page;        /* NextPageUri / NextPageUrl header, or NULL */
	int64_t date;           /* the server's Date, epoch seconds, 0 when absent */
	bool too_large;         /* the body passed max_body: the request failed */
	char error[256];        /* transport error, for logs */
};

struct ax_http_options {
	const char *proxy;    /* NULL or "": libcurl's environment (https_proxy, no_proxy) */
	int64_t timeout_ms;   /* whole request; also: abort below 1 KiB/s for min(30 s, this) */
	size_t max_body;
	const char *ca_file;  /* NULL: the system's */
	const atomic_int *stop; /* NULL, or: a request in progress ends soon after it is set */
};

struct ax_http;

/* libcurl's global set-up, once per process (ax_http_create does it too). */
void ax_http_global_init(void);
struct ax_http *ax_http_create(const struct ax_http_options *opts);
void ax_http_destroy(struct ax_http *h);
void ax_http_response_init(struct ax_http_response *r, size_t max_body);
void ax_http_response_finish(struct ax_http_response *r);

/* body NULL: GET, else POST with content_type. headers: NULL-terminated
 * "Name: value" lines. AX_OK when an HTTP answer came (any status);
 * AX_ERR_IO for transport failures, AX_ERR_TOO_LARGE past max_body. */
ax_err ax_http_request(struct ax_http *h, const char *url, const char *const *headers,
		       const char *content_type, const char *body, size_t body_len,
		       struct ax_http_response *resp) AX_WARN_UNUSED;

/* The pieces of ax_http_request, for requests run in parallel (curl multi).
 * headers: as above; NULL when allocation failed (and some were asked for). */
struct curl_slist *ax_http_header_list(const char *const *headers, const char *content_type);
/* Frees a list from ax_http_header_list, wiping each line first: one
 * carries a bearer token. NULL-safe. */
void ax_http_header_list_free(struct curl_slist *list);
/* Resets easy and sets it up to run one request into resp. */
void ax_http_setup(CURL *easy, const struct ax_http_options *opts, const char *url,
		   struct curl_slist *headers, const char *body, size_t body_len,
		   struct ax_http_response *resp);
/* After the transfer: the result of ax_http_request for libcurl's rc. */
ax_err ax_http_outcome(CURL *easy, CURLcode rc, struct ax_http_response *resp) AX_WARN_UNUSED;
/* Prepares resp for a new request (ax_http_request does it itself). */
void ax_http_response_reset(struct ax_http_response *r);

/* The URL-encoded form of s appended to b. */
ax_err ax_http_add_escaped(struct ax_http *h, struct ax_buf *b, const char *s) AX_WARN_UNUSED;

#endif

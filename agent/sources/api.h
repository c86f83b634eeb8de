/* api.h - requests to the Microsoft 365 APIs, with the discipline they ask
 * for (m365-api.md section 7).
 *
 * One engine per stream thread: a token client, a curl multi handle and a
 * few easy handles. Every request ends in one final result; on the way:
 *   401                      a fresh token, and one retry at once (then backoff)
 *   AF429 (429 or 403), 429  wait Retry-After, or back off; every request of
 *                            the engine waits, the quota is the tenant's
 *   AF50000.., 5xx, 408,     exponential backoff with jitter, as long as it
 *   network failures         takes (until the agent stops)
 * What retrying cannot fix (credentials, tenant, permission, content type)
 * ends as AX_API_FATAL, at once. Requests start no faster than the quota
 * pool's pace (pace.h) allows. Waits never pass 100 ms without looking at
 * the stop flag. Nothing here logs a request header: they carry the token. */
#ifndef AX_AGENT_SOURCES_API_H
#define AX_AGENT_SOURCES_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sources/http.h"
#include "sources/token.h"

struct ax_metrics_stream;

enum ax_api_family { AX_API_MANAGEMENT, AX_API_GRAPH };

enum ax_api_result {
	AX_API_OK,           /* 2xx: resp holds the answer */
	AX_API_GONE,         /* the resource is gone for good (expired or unknown blob, 404) */
	AX_API_UNSUBSCRIBED, /* AF20022, AF20023: no enabled subscription */
	AX_API_BAD_WINDOW,   /* AF20030, AF20055, AF20031: window or page refused */
	AX_API_FATAL,        /* only the operator can fix it: credentials, tenant, permission */
	AX_API_FAILED,       /* refused (another 4xx), or an answer larger than allowed */
	AX_API_STOPPED,      /* the agent is stopping */
};

struct ax_api_conf {
	const char *name;            /* for logs */
	enum ax_api_family family;
	struct ax_token_conf token;
	struct ax_http_options http;
	const char *const *headers;  /* extra request headers, NULL-terminated; may be NULL */
	const atomic_int *stop;
	unsigned parallel;           /* requests at once, at least 1 */
	const char *pace_key;        /* the quota pool the requests count against (pace.h); NULL: unpaced */
	unsigned requests_per_minute; /* of that pool, for every stream drawing on it */
	struct ax_metrics_stream *metrics; /* counts the throttled requests; may be NULL */
};

struct ax_api_req {
	char *url;          /* owned (freed by finish) */
	const char *body;   /* NULL: GET; else POST as application/json */
	bool once;          /* its effect may have happened when the answer was lost: a network
			     * failure or 5xx ends it (AX_API_FAILED), the caller looks first */
	void *user;
	enum ax_api_result result;
	struct ax_http_response resp;
	char code[48];      /* the answer's error code ("AF20051", "TooManyRequests"), or "" */
	char why[320];      /* what went wrong, for logs; "" on success */
	/* the engine's */
	unsigned attempts, auth_failures;
	int64_t not_before;
	CURL *easy;
	struct curl_slist *headers;
	bool final, told;
};

/* What a done callback makes of a finished request. */
enum ax_api_verdict {
	AX_API_KEEP,  /* final */
	AX_API_AGAIN, /* the answer was unusable (malformed): back off and ask again */
};
typedef enum ax_api_verdict (*ax_api_done_fn)(struct ax_api_req *r, void *arg);

struct ax_api;

/* NULL with why when the certificate or key cannot be read, or out of memory. */
struct ax_api *ax_api_create(const struct ax_api_conf *conf, char *why, size_t len);
void ax_api_destroy(struct ax_api *api);

void ax_api_req_init(struct ax_api_req *r, size_t max_body);
void ax_api_req_finish(struct ax_api_req *r);

/* Runs every request to its end, up to conf->parallel at once; done (may
 * be NULL) hears of each as it ends, stopped ones included. */
void ax_api_run(struct ax_api *api, struct ax_api_req **reqs, size_t n, ax_api_done_fn done, void *arg);
/* One request to its end; its result. */
enum ax_api_result ax_api_call(struct ax_api *api, struct ax_api_req *r);

/* Now, in epoch seconds, on the server's clock (from its last Date header). */
int64_t ax_api_server_now(const struct ax_api *api);
/* Requests throttled and retried so far, for a stream's summary. */
uint64_t ax_api_throttled(const struct ax_api *api);
uint64_t ax_api_retried(const struct ax_api *api);

#endif

#include "sources/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "sources/api_errors.h"
#include "sources/backoff.h"
#include "sources/pace.h"

#define WAIT_SLICE_MS 100
#define TRANSIENT_BASE_MS 500
#define THROTTLE_BASE_MS 2000
#define BACKOFF_MAX_MS 60000
#define AUTH_FAILURES_FATAL 6
#define TOKEN_RESPONSE_MAX (64u << 10)
/* Requests in flight over every engine of the process: each holds its
 * answer in memory (a blob may be tens of MiB), so this bounds what the
 * sources hold however many tenants and content types run. */
#define REQUESTS_AT_ONCE 16
#define SLOT_WAIT_MS 20

static atomic_int requests_out;

struct ax_api {
	struct ax_api_conf conf;
	struct ax_token_client *token;
	struct ax_http *token_http;
	CURLM *multi;
	CURL **idle;         /* easy handles not in use */
	size_t nidle;
	size_t in_flight;
	struct ax_backoff transient, throttle, token_backoff;
	int64_t paused_until; /* monotonic ms: throttled, or no token */
	struct ax_pace *pace; /* NULL: unpaced */
	int64_t paced_until;  /* monotonic ms: no request starts before (the pace, or no free slot) */
	int64_t skew;         /* server clock - ours, seconds */
	uint64_t throttled, retried;
};

/* ---- set-up ---- */

struct ax_api *ax_api_create(const struct ax_api_conf *conf, char *why, size_t len)
{
	struct ax_api *api = calloc(1, sizeof(*api));
	if (!api) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	api->conf = *conf;
	if (api->conf.parallel == 0)
		api->conf.parallel = 1;
	struct ax_http_options token_opts = conf->http;
	token_opts.max_body = TOKEN_RESPONSE_MAX;
	token_opts.stop = conf->stop;
	ax_http_global_init();
	api->token = ax_token_client_create(&api->conf.token, why, len);
	api->token_http = ax_http_create(&token_opts);
	api->multi = curl_multi_init();
	if (conf->pace_key)
		api->pace = ax_pace_get(conf->pace_key, conf->requests_per_minute);
	api->idle = calloc(api->conf.parallel, sizeof(*api->idle));
	for (size_t i = 0; api->idle && i < api->conf.parallel; i++)
		if ((api->idle[api->nidle] = curl_easy_init()))
			api->nidle++;
	if (api->token)
		ax_metrics_stream_credential(conf->metrics, ax_token_certificate_expiry(api->token));
	if (!api->token || !api->token_http || !api->multi || api->nidle != api->conf.parallel ||
	    (conf->pace_key && !api->pace)) {
		if (api->token)
			snprintf(why, len, "out of memory");
		ax_api_destroy(api);
		return NULL;
	}
	ax_backoff_init(&api->transient, TRANSIENT_BASE_MS, BACKOFF_MAX_MS);
	ax_backoff_init(&api->throttle, THROTTLE_BASE_MS, BACKOFF_MAX_MS);
	ax_backoff_init(&api->token_backoff, TRANSIENT_BASE_MS, BACKOFF_MAX_MS);
	return api;
}

void ax_api_destroy(struct ax_api *api)
{
	if (!api)
		return;
	for (size_t i = 0; i < api->nidle; i++)
		curl_easy_cleanup(api->idle[i]);
	free(api->idle);
	if (api->multi)
		curl_multi_cleanup(api->multi);
	ax_http_destroy(api->token_http);
	ax_token_client_destroy(api->token);
	ax_pace_put(api->pace);
	free(api);
}

void ax_api_req_init(struct ax_api_req *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	ax_http_response_init(&r->resp, max_body);
}

void ax_api_req_finish(struct ax_api_req *r)
{
	ax_http_response_finish(&r->resp);
	ax_http_header_list_free(r->headers); /* the bearer token */
	free(r->url);
	r->url = NULL;
	r->headers = NULL;
}

int64_t ax_api_server_now(const struct ax_api *api)
{
	return (int64_t)time(NULL) + api->skew;
}

uint64_t ax_api_throttled(const struct ax_api *api)
{
	return api->throttled;
}

uint64_t ax_api_retried(const struct ax_api *api)
{
	return api->retried;
}

/* ---- one request's life ---- */

static void finish_req(struct ax_api_req *r, enum ax_api_result result)
{
	r->result = result;
	r->final = true;
}

static void set_why(struct ax_api_req *r, const char *what, const char *message)
{
	if (r->code[0])
		snprintf(r->why, sizeof(r->why), "HTTP %ld %s: %s", r->resp.status, r->code, message);
	else if (r->resp.status)
		snprintf(r->why, sizeof(r->why), "HTTP %ld%s%s", r->resp.status, message[0] ? ": " : "", message);
	else
		snprintf(r->why, sizeof(r->why), "%s", what);
}

static void retry_later(struct ax_api *api, struct ax_api_req *r, int64_t delay_ms, const char *kind)
{
	api->retried++;
	r->not_before = ax_now_ms() + delay_ms;
	ax_warn(api->conf.name, "%s (%s): again in %lld ms", kind, r->why, (long long)delay_ms);
}

/* A failure that a retry may cure, unless the request must not be sent twice. */
static void failed_for_now(struct ax_api *api, struct ax_api_req *r, int64_t delay_ms, const char *kind)
{
	if (r->once)
		finish_req(r, AX_API_FAILED);
	else
		retry_later(api, r, delay_ms, kind);
}

static void throttled(struct ax_api *api, struct ax_api_req *r)
{
	int64_t wait = r->resp.retry_after_ms >= 0 ? r->resp.retry_after_ms : ax_backoff_next(&api->throttle);
	api->throttled++;
	ax_metrics_stream_throttled(api->conf.metrics);
	api->paused_until = ax_now_ms() + wait;
	retry_later(api, r, wait, "throttled");
}

static void auth_refused(struct ax_api *api, struct ax_api_req *r)
{
	ax_token_invalidate(api->token);
	if (++r->auth_failures >= AUTH_FAILURES_FATAL) {
		ax_error(api->conf.name, "the API refuses every fresh access token (%s): check the app's "
			 "permissions and admin consent", r->why);
		finish_req(r, AX_API_FATAL);
	} else if (r->auth_failures == 1) {
		api->retried++;
		r->not_before = 0; /* the token expired or was revoked: one retry at once */
		ax_info(api->conf.name, "access token refused (HTTP 401): retrying with a new one");
	} else {
		retry_later(api, r, ax_backoff_next(&api->transient), "access token refused again");
	}
}

static void note_date(struct ax_api *api, const struct ax_http_response *resp)
{
	if (resp->date > 0)
		api->skew = resp->date - (int64_t)time(NULL);
}

static const enum ax_api_result final_of[] = {
	[AX_CLASS_GONE] = AX_API_GONE,
	[AX_CLASS_UNSUBSCRIBED] = AX_API_UNSUBSCRIBED,
	[AX_CLASS_BAD_WINDOW] = AX_API_BAD_WINDOW,
	[AX_CLASS_FATAL] = AX_API_FATAL,
	[AX_CLASS_FAILED] = AX_API_FAILED,
};

/* A Management API 403 whose body names no error code. */
static bool bare_forbidden(const struct ax_api *api, const struct ax_api_req *r, enum ax_api_class cls)
{
	return cls == AX_CLASS_FATAL && api->conf.family == AX_API_MANAGEMENT && r->resp.status == 403 && !r->code[0];
}

/* An HTTP answer came: final, or when to ask again. */
static void judge_answer(struct ax_api *api, struct ax_api_req *r)
{
	char message[200];
	note_date(api, &r->resp);
	enum ax_api_class cls = ax_api_classify(api->conf.family, r->resp.status, r->resp.body.data, r->resp.body.len,
						r->code, sizeof(r->code), message, sizeof(message));
	set_why(r, "", message);
	if (cls == AX_CLASS_OK) {
		r->why[0] = '\0';
		ax_backoff_reset(&api->transient);
		ax_backoff_reset(&api->throttle);
		finish_req(r, AX_API_OK);
	} else if (cls == AX_CLASS_AUTH) {
		auth_refused(api, r);
	} else if (cls == AX_CLASS_THROTTLED) {
		throttled(api, r);
	} else if (bare_forbidden(api, r, cls) && ++r->auth_failures < AUTH_FAILURES_FATAL) {
		/* AF429 comes as 403 too: a 403 that names no code (its body lost or garbled) is
		 * waited out like throttling, a few times, before it counts as a refusal */
		throttled(api, r);
	} else if (cls == AX_CLASS_TRANSIENT) {
		int64_t wait = r->resp.retry_after_ms >= 0 ? r->resp.retry_after_ms : ax_backoff_next(&api->transient);
		failed_for_now(api, r, wait, "server error");
	} else {
		finish_req(r, final_of[cls]);
	}
}

static void judge(struct ax_api *api, struct ax_api_req *r, CURLcode rc)
{
	ax_err err = ax_http_outcome(r->easy, rc, &r->resp);
	r->code[0] = '\0';
	if (err == AX_ERR_TOO_LARGE) {
		snprintf(r->why, sizeof(r->why), "%s", r->resp.error);
		finish_req(r, AX_API_FAILED);
	} else if (err) {
		snprintf(r->why, sizeof(r->why), "%s", r->resp.error[0] ? r->resp.error : ax_strerror(err));
		failed_for_now(api, r, ax_backoff_next(&api->transient), "request failed");
	} else {
		judge_answer(api, r);
	}
}

/* ---- the engine ---- */

/* The bearer header, or false (and the requests wait or fail) without one. */
static const char *token_header(struct ax_api *api, struct ax_api_req **reqs, size_t n)
{
	char why[512];
	ax_err err;
	const char *h = ax_token_header(api->token, api->token_http, &err, why, sizeof(why));
	if (h) {
		ax_backoff_reset(&api->token_backoff);
		return h;
	}
	if (err == AX_ERR_AGAIN || err == AX_ERR_NOMEM) {
		int64_t wait = ax_backoff_next(&api->token_backoff);
		api->paused_until = ax_now_ms() + wait;
		ax_warn(api->conf.name, "%s: again in %lld ms", why, (long long)wait);
		return NULL;
	}
	ax_error(api->conf.name, "%s", why);
	for (size_t i = 0; i < n; i++)
		if (!reqs[i]->final && !reqs[i]->easy) {
			snprintf(reqs[i]->why, sizeof(reqs[i]->why), "%.300s", why);
			finish_req(reqs[i], AX_API_FATAL);
		}
	return NULL;
}

static bool start(struct ax_api *api, struct ax_api_req *r, const char *bearer)
{
	const char *fixed[] = { bearer, "Accept: application/json", NULL };
	struct curl_slist *list = ax_http_header_list(fixed, r->body ? "application/json" : NULL);
	for (size_t i = 0; list && api->conf.headers && api->conf.headers[i]; i++) {
		struct curl_slist *more = curl_slist_append(list, api->conf.headers[i]);
		if (!more) {
			ax_http_header_list_free(list);
			list = NULL;
		}
		list = more;
	}
	if (!list)
		return false;
	r->headers = list;
	r->easy = api->idle[--api->nidle];
	r->attempts++;
	ax_http_response_reset(&r->resp);
	ax_http_setup(r->easy, &api->conf.http, r->url, list, r->body, r->body ? strlen(r->body) : 0, &r->resp);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_multi_add_handle(api->multi, r->easy);
	api->in_flight++;
	return true;
}

static bool take_slot(void)
{
	int n = atomic_load(&requests_out);
	while (n < REQUESTS_AT_ONCE)
		if (atomic_compare_exchange_weak(&requests_out, &n, n + 1))
			return true;
	return false;
}

static void give_slot(void)
{
	atomic_fetch_sub(&requests_out, 1);
}

static void release(struct ax_api *api, struct ax_api_req *r)
{
	give_slot();
	curl_multi_remove_handle(api->multi, r->easy);
	api->idle[api->nidle++] = r->easy;
	api->in_flight--;
	r->easy = NULL;
	ax_http_header_list_free(r->headers);
	r->headers = NULL;
}

/* True when a request may start now: one of the process's slots is free
 * (and taken) and the quota's pace lets it (and counts it). */
static bool may_start(struct ax_api *api, int64_t now)
{
	if (!take_slot()) {
		api->paced_until = now + SLOT_WAIT_MS;
		return false;
	}
	int64_t wait = api->pace ? ax_pace_take(api->pace, now) : 0;
	api->paced_until = now + wait;
	if (wait)
		give_slot();
	return wait == 0;
}

static void start_ready(struct ax_api *api, struct ax_api_req **reqs, size_t n)
{
	int64_t now = ax_now_ms();
	for (size_t i = 0; i < n && api->nidle && now >= api->paused_until && now >= api->paced_until; i++) {
		struct ax_api_req *r = reqs[i];
		if (r->final || r->easy || r->not_before > now)
			continue;
		const char *bearer = token_header(api, reqs, n);
		if (!bearer || !may_start(api, now))
			return;
		if (!start(api, r, bearer)) {
			give_slot();
			snprintf(r->why, sizeof(r->why), "out of memory");
			retry_later(api, r, ax_backoff_next(&api->transient), "cannot start a request");
		}
	}
}

static void collect(struct ax_api *api)
{
	CURLMsg *msg;
	int queued;
	while ((msg = curl_multi_info_read(api->multi, &queued))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct ax_api_req *r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		judge(api, r, msg->data.result);
		release(api, r);
	}
}

static void stop_all(struct ax_api *api, struct ax_api_req **reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (reqs[i]->final)
			continue;
		if (reqs[i]->easy)
			release(api, reqs[i]);
		finish_req(reqs[i], AX_API_STOPPED);
	}
}

/* Tells done of every request that ended since; returns how many are still going. */
static size_t announce(struct ax_api *api, struct ax_api_req **reqs, size_t n, ax_api_done_fn done, void *arg)
{
	size_t left = 0;
	for (size_t i = 0; i < n; i++) {
		struct ax_api_req *r = reqs[i];
		if (r->final && !r->told) {
			r->told = true;
			if (done && done(r, arg) == AX_API_AGAIN && r->result != AX_API_STOPPED) {
				r->final = r->told = false;
				snprintf(r->why, sizeof(r->why), "unusable answer");
				retry_later(api, r, ax_backoff_next(&api->transient), "unusable answer");
			}
		}
		left += !r->final;
	}
	return left;
}

void ax_api_run(struct ax_api *api, struct ax_api_req **reqs, size_t n, ax_api_done_fn done, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i]->final = reqs[i]->told = false;
		reqs[i]->attempts = reqs[i]->auth_failures = 0;
		reqs[i]->not_before = 0;
		reqs[i]->why[0] = reqs[i]->code[0] = '\0';
	}
	for (size_t left = n; left > 0;) {
		if (atomic_load(api->conf.stop))
			stop_all(api, reqs, n);
		else
			start_ready(api, reqs, n);
		int running;
		curl_multi_perform(api->multi, &running);
		collect(api);
		left = announce(api, reqs, n, done, arg);
		if (left && api->in_flight)
			curl_multi_poll(api->multi, NULL, 0, WAIT_SLICE_MS, NULL);
		else if (left)
			ax_sleep(api->conf.stop, WAIT_SLICE_MS / 2);
	}
}

enum ax_api_result ax_api_call(struct ax_api *api, struct ax_api_req *r)
{
	struct ax_api_req *one[] = { r };
	ax_api_run(api, one, 1, NULL, NULL);
	return r->result;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "sources/backoff.h"
#include "sources/ms_stream.h"
#include "sources/o365.h"
#include "sources/window.h"

#define UNITS_IN_FLIGHT 8
#define START_SPACING_S (15 * 60)   /* Microsoft: at least 15 minutes between two starts */
#define FATAL_PAUSE_MS (10 * 60 * 1000)
#define AGAIN_PAUSE_MS 5000
#define BLOB_IDS 200000             /* contentIds remembered: far more than 7 days of blobs */
#define SUB_ANSWER_MAX (1u << 20)

/* ---- creation ---- */

static ax_err open_state(struct o365_stream *s)
{
	const char *tenant = s->conf->tenant_id;
	char *ids = ax_ms_state_path(s->env, s->source, tenant, s->content_type, "ids", s->name);
	char *blobs = ax_ms_state_path(s->env, s->source, tenant, s->content_type, "blobs", s->name);
	s->checkpoint_path = ax_ms_state_path(s->env, s->source, tenant, s->content_type, "checkpoint", s->name);
	ax_err err = ids && blobs && s->checkpoint_path ? AX_OK : AX_ERR_IO;
	if (!err && !(s->records = ax_seen_open(ids, (size_t)s->conf->dedup_ids, s->name, &err)))
		ax_error(s->name, "cannot open %s: %s", ids, ax_strerror(err));
	if (!err && !(s->blobs = ax_seen_open(blobs, BLOB_IDS, s->name, &err)))
		ax_error(s->name, "cannot open %s: %s", blobs, ax_strerror(err));
	if (!err)
		err = ax_ms_load_checkpoint(s->checkpoint_path, &s->cp, &s->have_cursor, s->name);
	if (!err && s->have_cursor)
		ax_metrics_stream_cursor(s->metrics, s->cp.cursor, ax_metrics_now_ms() / 1000);
	free(ids);
	free(blobs);
	return err;
}

struct o365_stream *o365_stream_create(const char *source, const struct ax_ms_source_conf *conf,
				       const char *content_type, const struct ax_endpoints *ends,
				       const struct ax_source_env *env, ax_err *err)
{
	struct o365_stream *s = calloc(1, sizeof(*s));
	size_t n = strlen(source) + strlen(content_type) + 2;
	if (!s || !(s->name = malloc(n))) {
		free(s);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	snprintf(s->name, n, "%s/%s", source, content_type);
	s->conf = conf;
	s->env = env;
	s->source = source;
	s->content_type = content_type;
	s->ends = ends;
	s->publisher = conf->publisher_id && conf->publisher_id[0] ? conf->publisher_id : conf->tenant_id;
	s->overlap_s = conf->list_overlap / 1000;
	s->metrics = ax_metrics_stream(source, conf->tenant_id, content_type, conf->poll_interval);
	ax_metrics_stream_horizon(s->metrics, AX_HORIZON_S);
	ax_blob_init(&s->split);
	*err = ax_feed_init(&s->feed, UNITS_IN_FLIGHT, AX_EMIT_UNIT_BYTES + env->agent->max_record_size + (64u << 10),
			    env->queue, env->stop, o365_window_settle, s);
	if (!*err)
		*err = open_state(s);
	if (!*err && !(s->api = ax_ms_api(conf, ends, AX_API_MANAGEMENT, "o365", s->name, env->stop,
					   (unsigned)conf->parallel_fetches, NULL, s->metrics)))
		*err = AX_ERR_CONFIG;
	if (*err) {
		o365_stream_destroy(s);
		return NULL;
	}
	struct ax_origin origin = { .source = source, .type = "o365", .content_type = content_type,
				    .tenant = conf->tenant_id };
	ax_emitter_init(&s->emit, &s->feed, s->records, &origin, env->agent->max_record_size, s->name);
	return s;
}

/* ---- persistence ---- */

static void save(struct o365_stream *s)
{
	ax_err err = ax_seen_sync(s->records);
	if (!err)
		err = ax_seen_sync(s->blobs);
	if (err)
		ax_error(s->name, "cannot write its seen ids under %s: %s", s->env->agent->state_dir, ax_strerror(err));
	if (ax_checkpoint_save(s->checkpoint_path, &s->cp))
		ax_error(s->name, "cannot write its checkpoint %s", s->checkpoint_path);
	ax_metrics_stream_cursor(s->metrics, s->cp.cursor, ax_api_server_now(s->api));
}

static void summary(const struct o365_stream *s)
{
	ax_info(s->name, "%llu windows, %llu blobs delivered, %llu out of reach, %llu records forwarded, "
		"%llu repeats dropped, %llu requests throttled, %llu retried",
		(unsigned long long)s->windows, (unsigned long long)s->blobs_fetched, (unsigned long long)s->blobs_gone,
		(unsigned long long)s->emit.forwarded, (unsigned long long)s->emit.repeats,
		(unsigned long long)ax_api_throttled(s->api), (unsigned long long)ax_api_retried(s->api));
}

void o365_stream_destroy(struct o365_stream *s)
{
	if (!s)
		return;
	if (s->emit.feed) {
		summary(s);
		ax_emitter_finish(&s->emit);
		ax_feed_settle(&s->feed); /* what came back after the stop */
		if (s->records && s->blobs)
			save(s);
	}
	if (s->feed.units)
		ax_feed_finish(&s->feed);
	o365_window_clear(s);
	ax_blob_refs_finish(&s->refs);
	ax_blob_finish(&s->split);
	ax_seen_close(s->records);
	ax_seen_close(s->blobs);
	ax_api_destroy(s->api);
	free(s->checkpoint_path);
	free(s->name);
	free(s);
}

bool o365_gap(struct o365_stream *s, const char *reason, int64_t from, int64_t to, const char *content_id,
	      const char *detail, struct ax_feed_job *job)
{
	struct ax_gap g = { .reason = reason, .source = s->source, .tenant = s->conf->tenant_id,
			    .content_type = s->content_type, .from = from, .to = to, .content_id = content_id,
			    .detail = detail, .now = ax_api_server_now(s->api) };
	return ax_emit_gap(&s->emit, &g, job);
}

/* ---- the subscription ---- */

static enum o365_outcome outcome_of(struct o365_stream *s, const struct ax_api_req *r, const char *what)
{
	switch (r->result) {
	case AX_API_OK:
		return O365_DONE;
	case AX_API_STOPPED:
		return O365_STOPPED;
	case AX_API_FATAL:
		ax_error(s->name, "%s: %s", what, r->why);
		snprintf(s->fatal_why, sizeof(s->fatal_why), "%s", r->why);
		return O365_FATAL;
	case AX_API_UNSUBSCRIBED:
		return O365_RESUBSCRIBE;
	default:
		ax_warn(s->name, "%s: %s", what, r->why);
		return O365_AGAIN;
	}
}

static enum o365_outcome request(struct o365_stream *s, const char *op, const char *body, struct ax_api_req *r)
{
	char *url = ax_mgmt_url(s->ends->api_root, op, body ? s->content_type : NULL, s->publisher, 0, 0);
	if (!url)
		return O365_AGAIN;
	free(r->url);
	r->url = url;
	r->body = body;
	ax_api_call(s->api, r);
	return outcome_of(s, r, op);
}

static enum o365_outcome current_state(struct o365_stream *s, enum ax_sub_state *state)
{
	struct ax_api_req r;
	ax_api_req_init(&r, SUB_ANSWER_MAX);
	enum o365_outcome out = request(s, "subscriptions/list", NULL, &r);
	if (out == O365_DONE && ax_mgmt_subscription(r.resp.body.data, s->content_type, state)) {
		ax_warn(s->name, "subscriptions/list: the answer is not a list of subscriptions");
		out = O365_AGAIN;
	}
	ax_api_req_finish(&r);
	return out;
}

static enum o365_outcome start(struct o365_stream *s)
{
	int64_t now = ax_api_server_now(s->api);
	if (s->cp.subscribed_at && now - s->cp.subscribed_at < START_SPACING_S) {
		ax_info(s->name, "subscription not enabled yet; the last start was %llds ago, waiting for 15 minutes to pass",
			(long long)(now - s->cp.subscribed_at));
		return O365_AGAIN;
	}
	struct ax_api_req r;
	ax_api_req_init(&r, SUB_ANSWER_MAX);
	r.once = true; /* a start whose answer was lost may have started it: list again first */
	enum o365_outcome out = request(s, "subscriptions/start", "{}", &r);
	if (out == O365_DONE && !ax_mgmt_started(r.resp.body.data, s->content_type)) {
		ax_warn(s->name, "subscriptions/start: the answer is not the subscription, enabled (a proxy's page?): "
			"listing the subscriptions again");
		out = O365_AGAIN;
	}
	ax_api_req_finish(&r);
	if (out == O365_DONE) {
		ax_info(s->name, "subscription started");
		s->cp.subscribed_at = ax_api_server_now(s->api);
		save(s);
	} else if (out == O365_RESUBSCRIBE) {
		snprintf(s->fatal_why, sizeof(s->fatal_why), "the subscription is disabled by an administrator and cannot "
			 "be started (AF20023)");
		ax_error(s->name, "%s", s->fatal_why);
		out = O365_FATAL;
	}
	return out;
}

static enum o365_outcome subscribe(struct o365_stream *s)
{
	if (s->subscribed)
		return O365_DONE;
	enum ax_sub_state state = AX_SUB_NONE;
	enum o365_outcome out = current_state(s, &state);
	if (out != O365_DONE)
		return out;
	if (state != AX_SUB_ENABLED && s->have_cursor && !s->sub_gap_reported) {
		s->sub_gap_reported = true;
		if (!o365_gap(s, "subscription_disabled", s->cp.cursor, ax_api_server_now(s->api), NULL,
			      "the subscription was found not enabled: blobs created while it was stopped are never listed",
			      NULL))
			return O365_STOPPED;
	}
	if (state != AX_SUB_ENABLED)
		out = start(s);
	s->subscribed = out == O365_DONE;
	if (s->subscribed)
		s->sub_gap_reported = false;
	return out;
}

/* ---- rounds ---- */

static bool report_fatal(struct o365_stream *s)
{
	if (s->fatal_reported)
		return true;
	s->fatal_reported = true;
	int64_t now = ax_api_server_now(s->api);
	char detail[400];
	snprintf(detail, sizeof(detail), "the API refused this source's credentials, tenant or permissions: %s",
		 s->fatal_why[0] ? s->fatal_why : "see the log");
	return o365_gap(s, "access_denied", s->have_cursor ? s->cp.cursor : now, now, NULL, detail, NULL);
}

/* One window: pulled, then the checkpoint moves. True when caught up. */
static enum o365_outcome round_once(struct o365_stream *s, bool *caught_up)
{
	enum o365_outcome out = subscribe(s);
	if (out != O365_DONE)
		return out;
	int64_t now = ax_api_server_now(s->api);
	if (!s->have_cursor) {
		s->cp.cursor = ax_window_first_cursor(now, s->conf->backfill / 1000);
		s->have_cursor = true;
		ax_metrics_stream_cursor(s->metrics, s->cp.cursor, now); /* lag and horizon, before a window is done */
	}
	struct ax_window w;
	if (!ax_window_next(s->cp.cursor, now, s->overlap_s, &w)) {
		*caught_up = true;
		return O365_DONE;
	}
	if (w.lost_to > w.lost_from && !o365_gap(s, "horizon_passed", w.lost_from, w.lost_to, NULL,
						 "the checkpoint is older than the 7 days the API keeps", NULL))
		return O365_STOPPED;
	out = o365_window_pull(s, w.start, w.end);
	if (out == O365_DONE) {
		s->cp.cursor = w.end;
		s->windows++;
		save(s);
		*caught_up = w.end >= now;
	}
	return out;
}

static int64_t pause_after(struct o365_stream *s, enum o365_outcome out, bool caught_up)
{
	if (out == O365_DONE)
		return caught_up ? s->conf->poll_interval : 0;
	if (out == O365_RESUBSCRIBE) {
		s->subscribed = false;
		return 0;
	}
	return out == O365_FATAL ? FATAL_PAUSE_MS : AGAIN_PAUSE_MS;
}

void *o365_stream_run(void *arg)
{
	struct o365_stream *s = arg;
	for (;;) {
		bool caught_up = false;
		enum o365_outcome out = round_once(s, &caught_up);
		if (out == O365_FATAL && !report_fatal(s))
			break;
		if (out == O365_DONE) {
			s->fatal_reported = false;
			ax_metrics_stream_pulled(s->metrics);
		}
		if (out == O365_STOPPED || !ax_sleep(s->env->stop, pause_after(s, out, caught_up)))
			break;
	}
	return NULL;
}

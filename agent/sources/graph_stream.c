#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "sources/backoff.h"
#include "sources/graph.h"
#include "sources/ms_stream.h"
#include "sources/window.h"

#define UNITS_IN_FLIGHT 4
#define MALFORMED_TRIES 5
#define FATAL_PAUSE_MS (10 * 60 * 1000)
#define AGAIN_PAUSE_MS 5000

enum poll_outcome { POLL_DONE, POLL_AGAIN, POLL_FATAL, POLL_STOPPED };

static const char *const graph_headers[] = { "Prefer: include-unknown-enum-members", NULL };

/* ---- creation ---- */

static void settle(struct ax_feed_unit *u, void *arg)
{
	struct graph_stream *g = arg;
	ax_emit_settle_keys(g->seen, u);
}

static ax_err open_state(struct graph_stream *g)
{
	const char *tenant = g->conf->tenant_id;
	char *ids = ax_ms_state_path(g->env, g->source, tenant, g->list->name, "ids", g->name);
	g->checkpoint_path = ax_ms_state_path(g->env, g->source, tenant, g->list->name, "checkpoint", g->name);
	ax_err err = ids && g->checkpoint_path ? AX_OK : AX_ERR_IO;
	if (!err && !(g->seen = ax_seen_open(ids, (size_t)g->conf->dedup_ids, g->name, &err)))
		ax_error(g->name, "cannot open %s: %s", ids, ax_strerror(err));
	if (!err)
		err = ax_ms_load_checkpoint(g->checkpoint_path, &g->cp, &g->have_cursor, g->name);
	if (!err && g->have_cursor)
		ax_metrics_stream_cursor(g->metrics, g->cp.cursor / AX_TICKS_PER_SEC, ax_metrics_now_ms() / 1000);
	free(ids);
	return err;
}

struct graph_stream *graph_stream_create(const char *source, const struct ax_ms_source_conf *conf,
					 const struct graph_list *list, const struct ax_endpoints *ends,
					 const struct ax_source_env *env, ax_err *err)
{
	struct graph_stream *g = calloc(1, sizeof(*g));
	size_t n = strlen(source) + strlen(list->name) + 2;
	if (!g || !(g->name = malloc(n))) {
		free(g);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	snprintf(g->name, n, "%s/%s", source, list->name);
	g->list = list;
	g->conf = conf;
	g->env = env;
	g->source = source;
	g->ends = ends;
	g->orderby = true;
	g->metrics = ax_metrics_stream(source, conf->tenant_id, list->content_type, conf->poll_interval);
	ax_blob_init(&g->split);
	*err = ax_feed_init(&g->feed, UNITS_IN_FLIGHT, AX_EMIT_UNIT_BYTES + env->agent->max_record_size + (64u << 10),
			    env->queue, env->stop, settle, g);
	if (!*err)
		*err = open_state(g);
	if (!*err && !(g->api = ax_ms_api(conf, ends, AX_API_GRAPH, list->type, g->name, env->stop, 1, graph_headers,
					  g->metrics)))
		*err = AX_ERR_CONFIG;
	if (*err) {
		graph_stream_destroy(g);
		return NULL;
	}
	struct ax_origin origin = { .source = source, .type = list->type, .content_type = list->content_type,
				    .tenant = conf->tenant_id };
	ax_emitter_init(&g->emit, &g->feed, g->seen, &origin, env->agent->max_record_size, g->name);
	return g;
}

static void save(struct graph_stream *g)
{
	if (ax_seen_sync(g->seen))
		ax_error(g->name, "cannot write its seen ids under %s", g->env->agent->state_dir);
	if (ax_checkpoint_save(g->checkpoint_path, &g->cp))
		ax_error(g->name, "cannot write its checkpoint %s", g->checkpoint_path);
	ax_metrics_stream_cursor(g->metrics, g->cp.cursor / AX_TICKS_PER_SEC, ax_api_server_now(g->api));
}

void graph_stream_destroy(struct graph_stream *g)
{
	if (!g)
		return;
	if (g->emit.feed) {
		ax_info(g->name, "%llu entries forwarded, %llu repeats dropped, %llu requests throttled, %llu retried",
			(unsigned long long)g->emit.forwarded, (unsigned long long)g->emit.repeats,
			(unsigned long long)ax_api_throttled(g->api), (unsigned long long)ax_api_retried(g->api));
		ax_emitter_finish(&g->emit);
		ax_feed_settle(&g->feed);
		save(g);
	}
	if (g->feed.units)
		ax_feed_finish(&g->feed);
	ax_blob_finish(&g->split);
	ax_seen_close(g->seen);
	ax_api_destroy(g->api);
	free(g->checkpoint_path);
	free(g->name);
	free(g);
}

/* ---- a poll ---- */

/* {graph}/v1.0/{path}?$filter={ts} ge {from}&$orderby={ts} asc&$top={n} */
static char *list_url(const struct graph_stream *g, int64_t from)
{
	char when[29], filter[128], order[64];
	ax_time_format_ticks(from, when);
	snprintf(filter, sizeof(filter), "%s ge %s", g->list->ts_field, when);
	snprintf(order, sizeof(order), "%s asc", g->list->ts_field);
	char *f = curl_easy_escape(NULL, filter, 0), *o = curl_easy_escape(NULL, order, 0);
	size_t n = strlen(g->ends->graph_root) + strlen(g->list->path) + (f ? strlen(f) : 0) + (o ? strlen(o) : 0) + 64;
	char *url = f && o ? malloc(n) : NULL;
	if (url && g->orderby)
		snprintf(url, n, "%s%s?$filter=%s&$orderby=%s&$top=%lld", g->ends->graph_root, g->list->path, f, o,
			 (long long)g->conf->page_size);
	else if (url)
		snprintf(url, n, "%s%s?$filter=%s&$top=%lld", g->ends->graph_root, g->list->path, f,
			 (long long)g->conf->page_size);
	curl_free(f);
	curl_free(o);
	return url;
}

static enum ax_api_verdict on_page(struct ax_api_req *r, void *arg)
{
	struct graph_stream *g = arg;
	static const struct ax_blob_spec spec_ids = { .envelope = true, .id_key = "id", .ts_key = NULL };
	struct ax_blob_spec spec = spec_ids;
	spec.ts_key = g->list->ts_field;
	if (r->result != AX_API_OK)
		return AX_API_KEEP;
	if (ax_blob_split(&g->split, &spec, r->resp.body.data, r->resp.body.len) != AX_ERR_JSON)
		return AX_API_KEEP;
	ax_warn(g->name, "page: %s (malformed answer %u)", g->split.error, ++g->unusable);
	if (g->unusable < MALFORMED_TRIES)
		return AX_API_AGAIN;
	r->result = AX_API_FAILED;
	snprintf(r->why, sizeof(r->why), "malformed page: %s", g->split.error);
	return AX_API_KEEP;
}

static bool key_of(const struct graph_stream *g, const struct ax_blob_item *it, struct ax_key *key)
{
	const struct ax_blob *b = &g->split;
	if (!it->id_len)
		return false;
	if (!g->list->versioned)
		return ax_key_of(key, ax_blob_str(b, it->id), it->id_len);
	const char *parts[] = { ax_blob_str(b, it->id), it->ts_len ? ax_blob_str(b, it->ts) : "" };
	return ax_key_of_parts(key, parts, 2);
}

/* Forwards the page's entries; notes the newest timestamp. */
static bool emit_page(struct graph_stream *g, const char *body)
{
	const struct ax_blob *b = &g->split;
	g->page_max_ts = INT64_MIN;
	for (size_t i = 0; i < b->count; i++) {
		const struct ax_blob_item *it = &b->items[i];
		struct ax_key key;
		int64_t ts;
		if (it->ts_len && ax_time_parse(ax_blob_str(b, it->ts), it->ts_len, &ts) && ts > g->page_max_ts)
			g->page_max_ts = ts;
		bool keyed = key_of(g, it, &key);
		if (!ax_emit(&g->emit, body + it->off, it->len, i + 1, it->off, keyed ? &key : NULL, NULL, NULL))
			return false;
	}
	return ax_emit_flush(&g->emit); /* a page on its way while the next is asked for (maybe throttled) */
}

static enum poll_outcome outcome_of(struct graph_stream *g, const struct ax_api_req *r)
{
	switch (r->result) {
	case AX_API_OK:
		return POLL_DONE;
	case AX_API_STOPPED:
		return POLL_STOPPED;
	case AX_API_FATAL:
		ax_error(g->name, "%s", r->why);
		snprintf(g->fatal_why, sizeof(g->fatal_why), "%s", r->why);
		return POLL_FATAL;
	default:
		if (r->resp.status == 400 && g->orderby) {
			ax_warn(g->name, "%s: asking again without $orderby", r->why);
			g->orderby = false; /* the cursor does not need the order, only every page */
		} else {
			ax_warn(g->name, "%s", r->why);
		}
		return POLL_AGAIN;
	}
}

/* The next page's URL: the nextLink as given, or, when a full page came
 * without one, the same query from the page's newest timestamp. */
static char *next_url(struct graph_stream *g, int64_t *from)
{
	if (g->split.next_link)
		return strdup(g->split.next_link);
	if ((int64_t)g->split.count < g->conf->page_size || g->page_max_ts <= *from)
		return NULL;
	ax_warn(g->name, "a full page came without @odata.nextLink: continuing from its newest entry");
	*from = g->page_max_ts;
	return list_url(g, *from);
}

static enum poll_outcome read_pages(struct graph_stream *g, int64_t from, int64_t *newest)
{
	struct ax_api_req r;
	ax_api_req_init(&r, (size_t)g->conf->max_response_size);
	r.url = list_url(g, from);
	enum poll_outcome out = r.url ? POLL_DONE : POLL_AGAIN;
	while (out == POLL_DONE && r.url) {
		struct ax_api_req *one[] = { &r };
		g->unusable = 0;
		ax_api_run(g->api, one, 1, on_page, g);
		out = outcome_of(g, &r);
		if (out == POLL_DONE && !emit_page(g, r.resp.body.data))
			out = POLL_STOPPED;
		if (out != POLL_DONE)
			break;
		if (g->page_max_ts > *newest)
			*newest = g->page_max_ts;
		free(r.url);
		r.url = next_url(g, &from);
	}
	ax_api_req_finish(&r);
	return out;
}

static enum poll_outcome poll_once(struct graph_stream *g)
{
	int64_t now = ax_api_server_now(g->api) * AX_TICKS_PER_SEC;
	if (!g->have_cursor) {
		g->cp.cursor = now - g->conf->backfill * (AX_TICKS_PER_SEC / 1000);
		g->have_cursor = true;
		ax_metrics_stream_cursor(g->metrics, g->cp.cursor / AX_TICKS_PER_SEC, now / AX_TICKS_PER_SEC);
	}
	int64_t newest = g->cp.cursor;
	uint64_t forwarded = g->emit.forwarded, repeats = g->emit.repeats;
	enum poll_outcome out = read_pages(g, g->cp.cursor - g->conf->list_overlap * (AX_TICKS_PER_SEC / 1000), &newest);
	if (out == POLL_DONE && !ax_emit_flush(&g->emit))
		out = POLL_STOPPED;
	if (out != POLL_STOPPED && !ax_feed_wait_all(&g->feed))
		out = POLL_STOPPED;
	if (out == POLL_DONE) {
		g->cp.cursor = newest;
		save(g);
	}
	if (g->emit.forwarded != forwarded || out != POLL_DONE)
		ax_info(g->name, "%llu entries forwarded, %llu repeats dropped%s",
			(unsigned long long)(g->emit.forwarded - forwarded),
			(unsigned long long)(g->emit.repeats - repeats), out == POLL_DONE ? "" : " (not complete)");
	return out;
}

static bool report_fatal(struct graph_stream *g)
{
	if (g->fatal_reported)
		return true;
	g->fatal_reported = true;
	int64_t now = ax_api_server_now(g->api);
	char detail[400];
	snprintf(detail, sizeof(detail), "Graph refused this source's credentials, tenant or permissions: %s",
		 g->fatal_why[0] ? g->fatal_why : "see the log");
	struct ax_gap gap = { .reason = "access_denied", .source = g->source, .tenant = g->conf->tenant_id,
			      .content_type = g->list->content_type,
			      .from = g->have_cursor ? g->cp.cursor / AX_TICKS_PER_SEC : now, .to = now,
			      .detail = detail,
			      .now = now };
	return ax_emit_gap(&g->emit, &gap, NULL);
}

void *graph_stream_run(void *arg)
{
	struct graph_stream *g = arg;
	for (;;) {
		enum poll_outcome out = poll_once(g);
		if (out == POLL_FATAL && !report_fatal(g))
			break;
		if (out == POLL_DONE) {
			g->fatal_reported = false;
			ax_metrics_stream_pulled(g->metrics);
		}
		int64_t pause = out == POLL_DONE ? g->conf->poll_interval : out == POLL_FATAL ? FATAL_PAUSE_MS
											 : AGAIN_PAUSE_MS;
		if (out == POLL_STOPPED || !ax_sleep(g->env->stop, pause))
			break;
	}
	return NULL;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sources/o365.h"
#include "sources/window.h"

#define LISTING_MAX (64u << 20)
/* Malformed answers (and blob 404s without an error code) asked again before
 * they count: only such answers count, not 5xx or resets in between. */
#define MALFORMED_TRIES 5

static const struct ax_blob_spec blob_spec = { .envelope = false, .id_key = "Id", .ts_key = NULL };

/* ---- listing ---- */

struct listing {
	struct o365_stream *s;
	bool malformed;
	unsigned unusable; /* malformed answers to the page being asked for */
};

static enum ax_api_verdict on_page(struct ax_api_req *r, void *arg)
{
	struct listing *l = arg;
	if (r->result != AX_API_OK)
		return AX_API_KEEP;
	ax_err err = ax_mgmt_parse_listing(r->resp.body.data, l->s->ends->api_root, &l->s->refs);
	if (err != AX_ERR_JSON)
		return AX_API_KEEP;
	ax_warn(l->s->name, "content listing: the answer is not a JSON array (malformed answer %u)", ++l->unusable);
	if (l->unusable < MALFORMED_TRIES)
		return AX_API_AGAIN;
	l->malformed = true;
	return AX_API_KEEP;
}

static enum o365_outcome outcome_of(struct o365_stream *s, enum ax_api_result result, const char *why)
{
	if (result == AX_API_FATAL)
		snprintf(s->fatal_why, sizeof(s->fatal_why), "%s", why);
	switch (result) {
	case AX_API_OK:
		return O365_DONE;
	case AX_API_STOPPED:
		return O365_STOPPED;
	case AX_API_UNSUBSCRIBED:
		ax_warn(s->name, "content listing: no enabled subscription (%s)", why);
		return O365_RESUBSCRIBE;
	case AX_API_FATAL:
		ax_error(s->name, "content listing: %s", why);
		return O365_FATAL;
	case AX_API_BAD_WINDOW:
		ax_warn(s->name, "content listing: window refused (%s): realigning with the server's clock", why);
		return O365_AGAIN;
	default:
		ax_warn(s->name, "content listing: %s", why);
		return O365_AGAIN;
	}
}

/* Every page of [start, end) into s->refs. */
static enum o365_outcome list_window(struct o365_stream *s, int64_t start, int64_t end)
{
	struct listing l = { .s = s };
	struct ax_api_req r;
	ax_api_req_init(&r, LISTING_MAX);
	r.url = ax_mgmt_url(s->ends->api_root, "subscriptions/content", s->content_type, s->publisher, start, end);
	enum o365_outcome out = r.url ? O365_DONE : O365_AGAIN;
	size_t pages = 0;
	while (out == O365_DONE) {
		struct ax_api_req *one[] = { &r };
		l.unusable = 0;
		ax_api_run(s->api, one, 1, on_page, &l);
		out = outcome_of(s, l.malformed ? AX_API_FAILED : r.result, l.malformed ? "malformed page" : r.why);
		pages++;
		if (out != O365_DONE || !r.resp.next_page)
			break;
		char *next = ax_mgmt_with_publisher(r.resp.next_page, s->publisher);
		free(r.url);
		r.url = next;
		out = next ? O365_DONE : O365_AGAIN;
	}
	if (out == O365_DONE)
		ax_debug(s->name, "%zu blobs listed in %zu pages", s->refs.count, pages);
	if (s->refs.skipped)
		ax_warn(s->name, "%zu listing entries without a contentId were skipped", s->refs.skipped);
	ax_api_req_finish(&r);
	return out;
}

/* ---- blobs ---- */

/* A blob is settled once everything from it came back: its contentId is
 * then remembered (delivered) or forgotten (to be fetched again). */
static void check_job(struct o365_stream *s, struct o365_job *j)
{
	if (j->settled || !j->emitted || j->feed.units_out)
		return;
	j->settled = true;
	if (j->feed.failed) {
		ax_seen_release(s->blobs, &j->key);
	} else {
		ax_seen_confirm(s->blobs, &j->key);
		s->blobs_fetched++;
	}
}

void o365_window_settle(struct ax_feed_unit *u, void *arg)
{
	struct o365_stream *s = arg;
	ax_emit_settle_keys(s->records, u);
	for (size_t i = 0; i < u->njobs; i++)
		check_job(s, (struct o365_job *)u->jobs[i]);
}

static bool emit_records(struct o365_stream *s, struct o365_job *j, const char *body)
{
	const struct ax_blob *b = &s->split;
	for (size_t i = 0; i < b->count; i++) {
		const struct ax_blob_item *it = &b->items[i];
		struct ax_key key;
		bool keyed = it->id_len && ax_key_of(&key, ax_blob_str(b, it->id), it->id_len);
		if (!ax_emit(&s->emit, body + it->off, it->len, i + 1, it->off, keyed ? &key : NULL, &j->feed, NULL))
			return false;
	}
	if (b->error[0])
		ax_warn(s->name, "blob %s: %s; %zu records before the fault forwarded, the rest (%zu bytes) dead-lettered",
			j->ref->id, b->error, b->count, b->bad_len);
	return !b->bad_len || ax_emit(&s->emit, body + b->bad_off, b->bad_len, b->count + 1, b->bad_off, NULL,
				      &j->feed, "unparsable part of a Management API blob");
}

static bool blob_gone(struct o365_stream *s, struct o365_job *j, const char *reason, const char *why)
{
	char detail[400];
	snprintf(detail, sizeof(detail), "the blob could not be fetched: %s", why);
	s->blobs_gone++;
	return o365_gap(s, reason, j->ref->created, j->ref->created, j->ref->id, detail, &j->feed);
}

static const char *gone_reason(const struct ax_api_req *r)
{
	return strcmp(r->code, "AF20051") == 0 ? "blob_expired" : "blob_unavailable";
}

static enum ax_api_verdict on_blob(struct ax_api_req *r, void *arg)
{
	struct o365_stream *s = arg;
	struct o365_job *j = r->user;
	bool ok = false;
	j->result = r->result;
	if (r->result == AX_API_OK) {
		ax_err err = ax_blob_split(&s->split, &blob_spec, r->resp.body.data, r->resp.body.len);
		if (err == AX_ERR_JSON && ++j->unusable < MALFORMED_TRIES) {
			ax_warn(s->name, "blob %s: %s (malformed answer %u)", j->ref->id, s->split.error, j->unusable);
			return AX_API_AGAIN;
		}
		ok = err != AX_ERR_NOMEM && emit_records(s, j, r->resp.body.data);
	} else if (r->result == AX_API_GONE && !r->code[0] && ++j->unusable < MALFORMED_TRIES) {
		/* the API says why a blob is gone (AF20050, AF20051); a bare 404 may be a glitch */
		ax_warn(s->name, "blob %s: %s without an error code (answer %u)", j->ref->id, r->why, j->unusable);
		return AX_API_AGAIN;
	} else if (r->result == AX_API_GONE) {
		ok = blob_gone(s, j, gone_reason(r), r->why);
	} else if (r->result == AX_API_FAILED) {
		ok = blob_gone(s, j, "blob_unreadable", r->why);
	}
	j->emitted = ok;
	j->feed.failed |= !ok;
	check_job(s, j);
	ax_buf_finish(&r->resp.body); /* its records were copied into units: keep no window of blobs in memory */
	return AX_API_KEEP;
}

/* ---- the window ---- */

void o365_window_clear(struct o365_stream *s)
{
	for (size_t i = 0; i < s->njobs; i++)
		ax_api_req_finish(&s->jobs[i].req);
	free(s->jobs);
	s->jobs = NULL;
	s->njobs = 0;
}

/* One job per blob not delivered before; expired ones get their gap at once. */
static bool plan_jobs(struct o365_stream *s, size_t *nfetch)
{
	o365_window_clear(s);
	*nfetch = 0;
	s->jobs = calloc(s->refs.count ? s->refs.count : 1, sizeof(*s->jobs));
	if (!s->jobs)
		return false;
	int64_t now = ax_api_server_now(s->api);
	for (size_t i = 0; i < s->refs.count; i++) {
		struct o365_job *j = &s->jobs[s->njobs];
		j->ref = &s->refs.items[i];
		if (!ax_key_of(&j->key, j->ref->id, strlen(j->ref->id)) || !ax_seen_claim(s->blobs, &j->key))
			continue; /* delivered before, or listed twice */
		ax_api_req_init(&j->req, (size_t)s->conf->max_response_size);
		j->req.user = j;
		s->njobs++;
		if (j->ref->expires && j->ref->expires <= now) {
			j->emitted = blob_gone(s, j, "blob_expired", "its contentExpiration has passed");
			j->feed.failed = !j->emitted;
			check_job(s, j);
		} else {
			j->req.url = ax_mgmt_with_publisher(j->ref->uri, s->publisher);
			j->fetching = j->req.url != NULL;
			*nfetch += j->fetching;
		}
	}
	return true;
}

static enum o365_outcome fetch_blobs(struct o365_stream *s, size_t nfetch)
{
	struct ax_api_req **reqs = calloc(nfetch ? nfetch : 1, sizeof(*reqs));
	if (!reqs)
		return O365_AGAIN;
	size_t n = 0;
	for (size_t i = 0; i < s->njobs; i++)
		if (s->jobs[i].fetching)
			reqs[n++] = &s->jobs[i].req;
	ax_api_run(s->api, reqs, n, on_blob, s);
	free(reqs);
	enum o365_outcome out = ax_emit_flush(&s->emit) ? O365_DONE : O365_STOPPED;
	for (size_t i = 0; i < s->njobs && out == O365_DONE; i++) {
		const struct o365_job *j = &s->jobs[i];
		if (j->fetching && !j->emitted)
			out = outcome_of(s, j->result == AX_API_OK ? AX_API_FAILED : j->result, j->req.why);
	}
	return out;
}

/* Once every unit is back: blobs not delivered are forgotten, to be fetched again. */
static bool release_undelivered(struct o365_stream *s)
{
	bool all = true;
	for (size_t i = 0; i < s->njobs; i++) {
		struct o365_job *j = &s->jobs[i];
		if (!j->settled) {
			j->emitted = true;
			j->feed.failed = true;
			check_job(s, j);
		}
		all = all && !j->feed.failed;
	}
	return all;
}

enum o365_outcome o365_window_pull(struct o365_stream *s, int64_t start, int64_t end)
{
	o365_window_clear(s);
	ax_blob_refs_clear(&s->refs);
	uint64_t forwarded = s->emit.forwarded, repeats = s->emit.repeats;
	enum o365_outcome out = list_window(s, start, end);
	size_t nfetch = 0;
	if (out == O365_DONE && !plan_jobs(s, &nfetch))
		out = O365_AGAIN;
	if (out == O365_DONE)
		out = fetch_blobs(s, nfetch);
	if (out != O365_STOPPED && !ax_feed_wait_all(&s->feed))
		out = O365_STOPPED;
	if (out != O365_STOPPED && !release_undelivered(s) && out == O365_DONE)
		out = O365_AGAIN;
	char from[21], to[21];
	ax_time_format_utc(start, from);
	ax_time_format_utc(end, to);
	ax_info(s->name, "window [%s, %s): %zu blobs listed, %zu new, %llu records forwarded, %llu repeats dropped%s",
		from, to, s->refs.count, s->njobs, (unsigned long long)(s->emit.forwarded - forwarded),
		(unsigned long long)(s->emit.repeats - repeats), out == O365_DONE ? "" : " (not complete)");
	return out;
}

/* o365.h - type = o365: the Office 365 Management Activity API.
 *
 * One stream per content type, each in a thread of its own, with its own
 * token, HTTP handles, checkpoint and seen sets (record Ids, blob
 * contentIds), in state_dir/sources/SOURCE/TENANT/. A stream's round:
 *   1. make sure its subscription is enabled: list first, start only when
 *      it is not, never twice within 15 minutes (o365_stream.c);
 *   2. the next window [start, end) of at most 24 h inside the 7-day
 *      horizon, starting list_overlap before the checkpoint (window.h);
 *   3. list it, following NextPageUri verbatim; fetch its unseen blobs in
 *      parallel, split each, forward each unseen record (o365_window.c);
 *   4. once every unit of the window came back delivered, move the
 *      checkpoint to the window's end.
 * Internal to the o365 source. */
#ifndef AX_AGENT_SOURCES_O365_H
#define AX_AGENT_SOURCES_O365_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sources/api.h"
#include "sources/blob.h"
#include "sources/checkpoint.h"
#include "sources/cloud.h"
#include "sources/emit.h"
#include "sources/feed.h"
#include "sources/mgmt_api.h"
#include "sources/seen.h"
#include "sources/source.h"

/* How a round ended. */
enum o365_outcome {
	O365_DONE,       /* the window is delivered */
	O365_AGAIN,      /* try the window again after a pause */
	O365_RESUBSCRIBE, /* the subscription is not enabled (any more) */
	O365_FATAL,      /* only the operator can fix it: wait long */
	O365_STOPPED,
};

/* A blob of the window in progress. */
struct o365_job {
	struct ax_feed_job feed;  /* first: units holding its records */
	struct ax_blob_ref *ref;
	struct ax_key key;        /* of its contentId */
	struct ax_api_req req;
	bool fetching;            /* req is in use */
	bool emitted;             /* every record (or its gap record) was handed on */
	bool settled;             /* its contentId was confirmed or released */
	enum ax_api_result result;
	unsigned unusable;        /* answers asked again: malformed, or a 404 without a code */
};

struct o365_stream {
	const struct ax_ms_source_conf *conf;
	const struct ax_source_env *env;
	const char *source;       /* the section name */
	const char *content_type;
	char *name;               /* "SOURCE/CONTENT_TYPE", for logs */
	const struct ax_endpoints *ends;
	const char *publisher;
	struct ax_api *api;
	struct ax_feed feed;
	struct ax_emitter emit;
	struct ax_seen *records, *blobs;
	char *checkpoint_path;
	struct ax_checkpoint cp;
	bool have_cursor;        /* cp.cursor is set (not a first run) */
	bool subscribed;         /* found or made enabled in this run */
	bool fatal_reported;     /* the gap of the current fatal episode was emitted */
	bool sub_gap_reported;   /* the gap of a subscription found not enabled was emitted */
	char fatal_why[320];     /* what the API said when it last ended a round as fatal */
	struct ax_blob_refs refs; /* the window's blobs */
	struct o365_job *jobs;
	size_t njobs;
	struct ax_blob split;
	int64_t overlap_s;
	pthread_t thread;
	bool started;
	uint64_t windows, blobs_fetched, blobs_gone;
	struct ax_metrics_stream *metrics;
};

struct o365_stream *o365_stream_create(const char *source, const struct ax_ms_source_conf *conf,
				       const char *content_type, const struct ax_endpoints *ends,
				       const struct ax_source_env *env, ax_err *err);
void o365_stream_destroy(struct o365_stream *s);
void *o365_stream_run(void *arg);

/* o365_window.c: lists the window and forwards its records. */
enum o365_outcome o365_window_pull(struct o365_stream *s, int64_t start, int64_t end);
/* The settle callback of a stream's feed. */
void o365_window_settle(struct ax_feed_unit *u, void *arg);
/* Frees the blobs of the last window (every unit of it must be back). */
void o365_window_clear(struct o365_stream *s);
/* Emits a gap record for the stream; false when the agent stops. */
bool o365_gap(struct o365_stream *s, const char *reason, int64_t from, int64_t to, const char *content_id,
	      const char *detail, struct ax_feed_job *job);

#endif

/* graph.h - type = graph_alerts (security/alerts_v2) and type = graph_audit
 * (auditLogs/directoryAudits, auditLogs/signIns): Microsoft Graph lists
 * read by a time cursor.
 *
 * One stream per list, in a thread of its own. A poll asks for everything
 * whose timestamp is >= cursor - list_overlap, oldest first, and follows
 * @odata.nextLink verbatim (a full page without one continues from the
 * last timestamp seen: some services drop the link). An entry is forwarded
 * unless its key was seen: the id for audit entries, the id and its
 * lastUpdateDateTime for alerts, so an alert that changes is forwarded
 * again while repeats are not. Entries sharing the cursor's timestamp are
 * read again on the next poll (ge, not gt) and dropped as seen: none is
 * lost across a page boundary. Once every unit of a poll came back
 * delivered, the cursor moves to the newest timestamp read.
 * Internal to the Graph sources. */
#ifndef AX_AGENT_SOURCES_GRAPH_H
#define AX_AGENT_SOURCES_GRAPH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sources/api.h"
#include "sources/blob.h"
#include "sources/checkpoint.h"
#include "sources/cloud.h"
#include "sources/emit.h"
#include "sources/feed.h"
#include "sources/seen.h"
#include "sources/source.h"

struct graph_list {
	const char *name;         /* alerts_v2, directoryAudits, signIns: the state file's name */
	const char *path;         /* under {graph_url}/v1.0/ */
	const char *ts_field;     /* the cursor's field */
	const char *content_type; /* annexa.content_type of its records */
	const char *type;         /* the source type */
	bool versioned;           /* entries change: the key is id + timestamp */
};

struct graph_stream {
	const struct graph_list *list;
	const struct ax_ms_source_conf *conf;
	const struct ax_source_env *env;
	const char *source;
	char *name;               /* "SOURCE/LIST", for logs */
	const struct ax_endpoints *ends;
	struct ax_api *api;
	struct ax_feed feed;
	struct ax_emitter emit;
	struct ax_seen *seen;
	char *checkpoint_path;
	struct ax_checkpoint cp;  /* cursor: 100 ns ticks */
	bool have_cursor, orderby, fatal_reported;
	char fatal_why[320];      /* what Graph said when it last ended a poll as fatal */
	struct ax_blob split;
	int64_t page_max_ts;      /* newest timestamp of the page being read */
	unsigned unusable;        /* malformed answers to the page being asked for */
	pthread_t thread;
	bool started;
	struct ax_metrics_stream *metrics;
};

struct graph_stream *graph_stream_create(const char *source, const struct ax_ms_source_conf *conf,
					 const struct graph_list *list, const struct ax_endpoints *ends,
					 const struct ax_source_env *env, ax_err *err);
void graph_stream_destroy(struct graph_stream *g);
void *graph_stream_run(void *arg);

#endif

/* source.h - the source types and their configuration.
 *
 * A source pulls raw records (Microsoft 365 APIs, files) and hands them to the
 * pipeline with their origin. This header declares the option tables and
 * config structs of each type; the config loader finds a type by name. */
#ifndef AX_AGENT_SOURCES_SOURCE_H
#define AX_AGENT_SOURCES_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

#include "config.h"
#include "option.h"
#include "secret.h"

enum ax_cloud { AX_CLOUD_COMMERCIAL, AX_CLOUD_GCC, AX_CLOUD_GCC_HIGH, AX_CLOUD_DOD };

/* type = o365 | graph_alerts | graph_audit: one shape, a few keys apart. */
struct ax_ms_source_conf {
	int cloud;
	char *tenant_id;
	char *client_id;
	struct ax_secret *client_secret;
	char *certificate_file;
	char *private_key_file;
	struct ax_strlist content_types; /* o365 */
	struct ax_strlist logs;          /* graph_audit */
	int64_t poll_interval;
	int64_t backfill;
	char *login_url;
	char *api_url;
	char *graph_url;
	char *proxy;
	char *publisher_id;
	char *ca_file;
	int64_t request_timeout;
	uint64_t max_response_size;
	int64_t dedup_ids;
	int64_t list_overlap;
	int64_t parallel_fetches;  /* o365 */
	int64_t page_size;         /* Graph */
	int64_t requests_per_minute; /* the quota pool's pace (pace.h) */
};

struct ax_file_source_conf {
	char *path;
	bool follow;
	bool checkpoint; /* resume each file where the last run's delivery ended */
};

/* What a running source gets from the agent. */
struct ax_source_env {
	const struct ax_agent_conf *agent;
	struct ax_queue *queue;          /* where units go */
	const atomic_int *stop; /* set when the agent stops: return from run */
};

/* A running source: created from its section, run in a thread of its own. */
struct ax_source {
	const struct ax_source_ops *ops;
	char *name;
	const struct ax_source_env *env;
};

struct ax_source_ops {
	const char *type; /* the [source] type */
	struct ax_source *(*create)(const char *name, const void *conf, const struct ax_source_env *env,
				    ax_err *err);
	/* The thread body: pushes units until the source has no more (a
	 * replay: returns true) or env->stop is set (returns false). */
	bool (*run)(struct ax_source *src);
	/* Whether run ends by itself (a replay) rather than at a stop. */
	bool (*finite)(const struct ax_source *src);
	/* After run returned and every unit it pushed came back through done(). */
	void (*destroy)(struct ax_source *src);
};

/* The implementation of a source type; NULL when this version has none yet. */
const struct ax_source_ops *ax_source_ops_find(const char *type);

const struct ax_conf_kind *ax_source_kind_find(const char *name);
void ax_source_kind_names(char *out, size_t len);
/* NULL-terminated, for generated documentation. */
extern const struct ax_conf_kind *const ax_source_kinds[];

#endif

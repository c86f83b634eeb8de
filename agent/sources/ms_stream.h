/* ms_stream.h - what every Microsoft 365 stream (an o365 content type, a
 * Graph list) sets up the same way: its API engine, its files in state_dir,
 * its checkpoint. */
#ifndef AX_AGENT_SOURCES_MS_STREAM_H
#define AX_AGENT_SOURCES_MS_STREAM_H

#include <stdbool.h>

#include "sources/api.h"
#include "sources/checkpoint.h"
#include "sources/cloud.h"
#include "sources/source.h"

/* The engine of a stream (a token for the family's scope, the source's HTTP
 * settings, paced by the quota pool of its source type: per tenant for the
 * Management API, per app and tenant for Graph); NULL after logging why. */
struct ax_api *ax_ms_api(const struct ax_ms_source_conf *c, const struct ax_endpoints *e, enum ax_api_family family,
			 const char *type, const char *name, const atomic_int *stop, unsigned parallel, const char *const *headers,
			 struct ax_metrics_stream *metrics);
/* state_dir/sources/SOURCE/TENANT/FILE.SUFFIX, the directories made; NULL
 * after logging why. */
char *ax_ms_state_path(const struct ax_source_env *env, const char *source, const char *tenant, const char *file,
		       const char *suffix, const char *name);
/* Reads the checkpoint; a damaged one is logged and ignored (a first run). */
ax_err ax_ms_load_checkpoint(const char *path, struct ax_checkpoint *cp, bool *have_cursor, const char *name)
	AX_WARN_UNUSED;

#endif

#include "sources/ms_stream.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sources/statefile.h"
#include "sources/window.h"

struct ax_api *ax_ms_api(const struct ax_ms_source_conf *c, const struct ax_endpoints *e, enum ax_api_family family,
			 const char *type, const char *name, const atomic_int *stop, unsigned parallel,
			 const char *const *headers, struct ax_metrics_stream *metrics)
{
	char why[512], pool[512];
	snprintf(pool, sizeof(pool), "%s/%s%s%s", type, c->tenant_id, family == AX_API_GRAPH ? "/" : "",
		 family == AX_API_GRAPH ? c->client_id : "");
	struct ax_api_conf ac = {
		.name = name,
		.family = family,
		.token = { .token_url = e->token_url, .client_id = c->client_id,
			   .scope = family == AX_API_MANAGEMENT ? e->api_scope : e->graph_scope,
			   .client_secret = c->client_secret, .certificate_file = c->certificate_file,
			   .private_key_file = c->private_key_file },
		.http = { .proxy = c->proxy, .timeout_ms = c->request_timeout, .max_body = (size_t)c->max_response_size,
			  .ca_file = c->ca_file },
		.headers = headers,
		.stop = stop,
		.parallel = parallel,
		.pace_key = pool,
		.requests_per_minute = (unsigned)c->requests_per_minute,
		.metrics = metrics,
	};
	struct ax_api *api = ax_api_create(&ac, why, sizeof(why));
	if (!api)
		ax_error(name, "%s", why);
	return api;
}

char *ax_ms_state_path(const struct ax_source_env *env, const char *source, const char *tenant, const char *file,
		       const char *suffix, const char *name)
{
	ax_err err;
	char *dir = ax_state_dir(env->agent->state_dir, source, tenant, &err);
	if (!dir) {
		ax_error(name, "cannot create its state directory under %s (state_dir): %s", env->agent->state_dir,
			 ax_strerror(err));
		return NULL;
	}
	char *path = ax_state_path(dir, file, suffix);
	free(dir);
	return path;
}

ax_err ax_ms_load_checkpoint(const char *path, struct ax_checkpoint *cp, bool *have_cursor, const char *name)
{
	bool found = false;
	ax_err err = ax_checkpoint_load(path, cp, &found);
	if (err == AX_ERR_JSON) {
		ax_error(name, "checkpoint %s is damaged: starting as on a first run (backfill)", path);
		memset(cp, 0, sizeof(*cp));
		err = AX_OK;
	} else if (err) {
		ax_error(name, "cannot read checkpoint %s", path);
	}
	*have_cursor = !err && found && cp->cursor != 0;
	if (*have_cursor)
		ax_info(name, "resuming from its checkpoint");
	return err;
}

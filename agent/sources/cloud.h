/* cloud.h - the endpoints of a Microsoft cloud (m365-api.md 1.6), with the
 * operator's overrides (an emulator, a reverse proxy).
 *
 * Tokens are asked for the cloud's own resource (scope) even when the API
 * is reached through an override: the override changes where requests go,
 * not whose token they carry. */
#ifndef AX_AGENT_SOURCES_CLOUD_H
#define AX_AGENT_SOURCES_CLOUD_H

#include "err.h"
#include "sources/source.h"

struct ax_endpoints {
	char *token_url;    /* {login}/{tenant}/oauth2/v2.0/token */
	char *api_root;     /* {api}/api/v1.0/{tenant}/activity/feed/ */
	char *graph_root;   /* {graph}/v1.0/ */
	char *api_scope;    /* {cloud's management host}/.default */
	char *graph_scope;  /* {cloud's graph host}/.default */
};

ax_err ax_endpoints_init(struct ax_endpoints *e, const struct ax_ms_source_conf *conf) AX_WARN_UNUSED;
void ax_endpoints_finish(struct ax_endpoints *e);

#endif

#include "sources/cloud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cloud_hosts {
	const char *login, *api, *graph;
};

/* Indexed by enum ax_cloud. */
static const struct cloud_hosts clouds[] = {
	{ "https://login.microsoftonline.com", "https://manage.office.com", "https://graph.microsoft.com" },
	{ "https://login.microsoftonline.com", "https://manage-gcc.office.com", "https://graph.microsoft.com" },
	{ "https://login.microsoftonline.us", "https://manage.office365.us", "https://graph.microsoft.us" },
	{ "https://login.microsoftonline.us", "https://manage.protection.apps.mil", "https://dod-graph.microsoft.us" },
};

/* "%s" filled with base (override or default) without its trailing slashes. */
static char *compose(const char *override, const char *def, const char *fmt, const char *arg)
{
	const char *base = override && override[0] ? override : def;
	int n = (int)strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	size_t size = (size_t)n + strlen(fmt) + (arg ? strlen(arg) : 0) + 1;
	char *out = malloc(size);
	if (out)
		snprintf(out, size, fmt, n, base, arg ? arg : "");
	return out;
}

ax_err ax_endpoints_init(struct ax_endpoints *e, const struct ax_ms_source_conf *conf)
{
	const struct cloud_hosts *h = &clouds[conf->cloud];
	memset(e, 0, sizeof(*e));
	e->token_url = compose(conf->login_url, h->login, "%.*s/%s/oauth2/v2.0/token", conf->tenant_id);
	e->api_root = compose(conf->api_url, h->api, "%.*s/api/v1.0/%s/activity/feed/", conf->tenant_id);
	e->graph_root = compose(conf->graph_url, h->graph, "%.*s/v1.0/%s", NULL);
	e->api_scope = compose(NULL, h->api, "%.*s/.default%s", NULL);
	e->graph_scope = compose(NULL, h->graph, "%.*s/.default%s", NULL);
	if (e->token_url && e->api_root && e->graph_root && e->api_scope && e->graph_scope)
		return AX_OK;
	ax_endpoints_finish(e);
	return AX_ERR_NOMEM;
}

void ax_endpoints_finish(struct ax_endpoints *e)
{
	free(e->token_url);
	free(e->api_root);
	free(e->graph_root);
	free(e->api_scope);
	free(e->graph_scope);
	memset(e, 0, sizeof(*e));
}

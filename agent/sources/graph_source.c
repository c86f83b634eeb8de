/* type = graph_alerts and type = graph_audit as running sources: one thread
 * per Graph list (graph.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sources/graph.h"

static const struct graph_list alerts_list = {
	"alerts_v2", "security/alerts_v2", "lastUpdateDateTime", "Graph.SecurityAlerts", "graph_alerts", true,
};
static const struct graph_list audit_lists[] = {
	{ "directoryAudits", "auditLogs/directoryAudits", "activityDateTime", "Graph.DirectoryAudits", "graph_audit", false },
	{ "signIns", "auditLogs/signIns", "createdDateTime", "Graph.SignIns", "graph_audit", false },
};

struct graph_source {
	struct ax_source base;
	struct ax_endpoints ends;
	struct graph_stream *streams[2];
	size_t nstreams;
};

extern const struct ax_source_ops ax_source_graph_alerts_ops;
extern const struct ax_source_ops ax_source_graph_audit_ops;

static void graph_destroy(struct ax_source *src)
{
	struct graph_source *g = (struct graph_source *)src;
	if (!g)
		return;
	for (size_t i = 0; i < g->nstreams; i++)
		graph_stream_destroy(g->streams[i]);
	ax_endpoints_finish(&g->ends);
	free(g->base.name);
	free(g);
}

static struct graph_source *new_source(const char *name, const struct ax_ms_source_conf *c,
				       const struct ax_source_ops *ops, const struct ax_source_env *env, ax_err *err)
{
	struct graph_source *g = calloc(1, sizeof(*g));
	if (!g || !(g->base.name = strdup(name))) {
		free(g);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	g->base.ops = ops;
	g->base.env = env;
	*err = ax_endpoints_init(&g->ends, c);
	return g;
}

static void add_stream(struct graph_source *g, const struct ax_ms_source_conf *c, const struct graph_list *list,
		       ax_err *err)
{
	g->streams[g->nstreams] = graph_stream_create(g->base.name, c, list, &g->ends, g->base.env, err);
	g->nstreams += g->streams[g->nstreams] != NULL;
}

static struct ax_source *alerts_create(const char *name, const void *conf, const struct ax_source_env *env,
				       ax_err *err)
{
	struct graph_source *g = new_source(name, conf, &ax_source_graph_alerts_ops, env, err);
	if (g && !*err)
		add_stream(g, conf, &alerts_list, err);
	if (g && *err) {
		graph_destroy(&g->base);
		return NULL;
	}
	return g ? &g->base : NULL;
}

static struct ax_source *audit_create(const char *name, const void *conf, const struct ax_source_env *env,
				      ax_err *err)
{
	const struct ax_ms_source_conf *c = conf;
	struct graph_source *g = new_source(name, conf, &ax_source_graph_audit_ops, env, err);
	for (size_t i = 0; g && !*err && i < sizeof(audit_lists) / sizeof(audit_lists[0]); i++)
		if (ax_strlist_contains(&c->logs, audit_lists[i].name))
			add_stream(g, c, &audit_lists[i], err);
	if (g && *err) {
		graph_destroy(&g->base);
		return NULL;
	}
	return g ? &g->base : NULL;
}

static bool graph_run(struct ax_source *src)
{
	struct graph_source *g = (struct graph_source *)src;
	for (size_t i = 0; i < g->nstreams; i++) {
		struct graph_stream *s = g->streams[i];
		s->started = pthread_create(&s->thread, NULL, graph_stream_run, s) == 0;
		if (!s->started)
			ax_error(s->name, "cannot start its thread");
	}
	for (size_t i = 0; i < g->nstreams; i++)
		if (g->streams[i]->started)
			pthread_join(g->streams[i]->thread, NULL);
	return false;
}

static bool graph_finite(const struct ax_source *src)
{
	(void)src;
	return false;
}

const struct ax_source_ops ax_source_graph_alerts_ops = {
	.type = "graph_alerts",
	.create = alerts_create,
	.run = graph_run,
	.finite = graph_finite,
	.destroy = graph_destroy,
};

const struct ax_source_ops ax_source_graph_audit_ops = {
	.type = "graph_audit",
	.create = audit_create,
	.run = graph_run,
	.finite = graph_finite,
	.destroy = graph_destroy,
};

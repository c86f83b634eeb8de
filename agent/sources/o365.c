/* type = o365 as a running source: one thread per content type (o365.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sources/o365.h"

struct o365_source {
	struct ax_source base;
	const struct ax_ms_source_conf *conf;
	struct ax_endpoints ends;
	struct o365_stream **streams;
	size_t nstreams;
};

extern const struct ax_source_ops ax_source_o365_ops;

static void o365_destroy(struct ax_source *src)
{
	struct o365_source *o = (struct o365_source *)src;
	if (!o)
		return;
	for (size_t i = 0; i < o->nstreams; i++)
		o365_stream_destroy(o->streams[i]);
	free(o->streams);
	ax_endpoints_finish(&o->ends);
	free(o->base.name);
	free(o);
}

static struct ax_source *o365_create(const char *name, const void *conf, const struct ax_source_env *env,
				     ax_err *err)
{
	const struct ax_ms_source_conf *c = conf;
	struct o365_source *o = calloc(1, sizeof(*o));
	if (!o || !(o->base.name = strdup(name))) {
		free(o);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	o->base.ops = &ax_source_o365_ops;
	o->base.env = env;
	o->conf = c;
	*err = ax_endpoints_init(&o->ends, c);
	if (!*err && !(o->streams = calloc(c->content_types.count ? c->content_types.count : 1, sizeof(*o->streams))))
		*err = AX_ERR_NOMEM;
	for (size_t i = 0; !*err && i < c->content_types.count; i++) {
		o->streams[i] = o365_stream_create(o->base.name, c, c->content_types.items[i], &o->ends, env, err);
		o->nstreams += o->streams[i] != NULL;
	}
	if (*err) {
		o365_destroy(&o->base);
		return NULL;
	}
	return &o->base;
}

static bool o365_run(struct ax_source *src)
{
	struct o365_source *o = (struct o365_source *)src;
	for (size_t i = 0; i < o->nstreams; i++) {
		struct o365_stream *s = o->streams[i];
		s->started = pthread_create(&s->thread, NULL, o365_stream_run, s) == 0;
		if (!s->started)
			ax_error(s->name, "cannot start its thread");
	}
	for (size_t i = 0; i < o->nstreams; i++)
		if (o->streams[i]->started)
			pthread_join(o->streams[i]->thread, NULL);
	return false;
}

static bool o365_finite(const struct ax_source *src)
{
	(void)src;
	return false;
}

const struct ax_source_ops ax_source_o365_ops = {
	.type = "o365",
	.create = o365_create,
	.run = o365_run,
	.finite = o365_finite,
	.destroy = o365_destroy,
};

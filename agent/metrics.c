#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "version.h"

#define WHY_MAX 256
#define SILENT_POLLS 3 /* a stream may miss this many polls before it counts as silent */

/* Each value is read on its own: relaxed atomics, no order between them. */
typedef atomic_uint_fast64_t counter;
typedef atomic_int_fast64_t gauge;

struct ax_metrics_source {
	struct ax_metrics_source *next;
	char *name;
	atomic_bool active;
	counter in, dead_lettered;
	gauge last_record_ms;
};

struct ax_metrics_output {
	struct ax_metrics_output *next;
	char *name;
	atomic_bool active, dead;
	counter delivered, dead_lettered, dropped, retries;
	gauge failing_since_ms; /* 0: not failing */
	gauge last_delivery_ms;
	char why[WHY_MAX];      /* the last failure; under reg.lock */
};

struct ax_metrics_stream {
	struct ax_metrics_stream *next;
	char *source, *tenant, *content_type;
	atomic_bool active;
	counter throttled;
	gauge cursor_s, skew_ms, last_pull_ms, since_ms, poll_interval_ms, horizon_s, credential_s;
};

static struct {
	pthread_mutex_t lock; /* the lists, the spool pointer, the why texts */
	struct ax_metrics_source *sources;
	struct ax_metrics_output *outputs;
	struct ax_metrics_stream *streams;
	struct ax_spool *spool;
	uint64_t spool_max;
	struct ax_health_conf health;
	int64_t start_ms;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline uint64_t get(counter *c) { return atomic_load_explicit(c, memory_order_relaxed); }
static inline void add(counter *c, uint64_t n) { atomic_fetch_add_explicit(c, n, memory_order_relaxed); }
static inline int64_t gget(const gauge *g) { return atomic_load_explicit(g, memory_order_relaxed); }
static inline void gset(gauge *g, int64_t v) { atomic_store_explicit(g, v, memory_order_relaxed); }

int64_t ax_metrics_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the registry ---- */

void ax_metrics_begin_run(const struct ax_health_conf *health)
{
	pthread_mutex_lock(&reg.lock);
	if (!reg.start_ms)
		reg.start_ms = ax_metrics_now_ms();
	reg.health = *health;
	for (struct ax_metrics_source *s = reg.sources; s; s = s->next)
		atomic_store(&s->active, false);
	for (struct ax_metrics_output *o = reg.outputs; o; o = o->next)
		atomic_store(&o->active, false);
	for (struct ax_metrics_stream *s = reg.streams; s; s = s->next)
		atomic_store(&s->active, false);
	pthread_mutex_unlock(&reg.lock);
}

struct ax_metrics_source *ax_metrics_source(const char *name)
{
	pthread_mutex_lock(&reg.lock);
	struct ax_metrics_source *s = reg.sources;
	while (s && strcmp(s->name, name) != 0)
		s = s->next;
	if (!s && (s = calloc(1, sizeof(*s)))) {
		if ((s->name = strdup(name))) {
			struct ax_metrics_source **at = &reg.sources; /* in the order made: the config's */
			while (*at)
				at = &(*at)->next;
			*at = s;
		} else {
			free(s);
			s = NULL;
		}
	}
	if (s)
		atomic_store(&s->active, true);
	pthread_mutex_unlock(&reg.lock);
	return s;
}

struct ax_metrics_output *ax_metrics_output(const char *name)
{
	pthread_mutex_lock(&reg.lock);
	struct ax_metrics_output *o = reg.outputs;
	while (o && strcmp(o->name, name) != 0)
		o = o->next;
	if (!o && (o = calloc(1, sizeof(*o)))) {
		if ((o->name = strdup(name))) {
			struct ax_metrics_output **at = &reg.outputs;
			while (*at)
				at = &(*at)->next;
			*at = o;
		} else {
			free(o);
			o = NULL;
		}
	}
	if (o) { /* a new instance of the output: its failures are history */
		atomic_store(&o->dead, false);
		gset(&o->failing_since_ms, 0);
		o->why[0] = '\0';
		atomic_store(&o->active, true);
	}
	pthread_mutex_unlock(&reg.lock);
	return o;
}

static bool same_stream(const struct ax_metrics_stream *s, const char *source, const char *tenant, const char *ct)
{
	return strcmp(s->source, source) == 0 && strcmp(s->tenant, tenant) == 0 && strcmp(s->content_type, ct) == 0;
}

static void stream_free(struct ax_metrics_stream *s)
{
	free(s->source);
	free(s->tenant);
	free(s->content_type);
	free(s);
}

struct ax_metrics_stream *ax_metrics_stream(const char *source, const char *tenant, const char *content_type,
					    int64_t poll_interval_ms)
{
	pthread_mutex_lock(&reg.lock);
	struct ax_metrics_stream *s = reg.streams;
	while (s && !same_stream(s, source, tenant, content_type))
		s = s->next;
	if (!s && (s = calloc(1, sizeof(*s)))) {
		s->source = strdup(source);
		s->tenant = strdup(tenant);
		s->content_type = strdup(content_type);
		if (s->source && s->tenant && s->content_type) {
			struct ax_metrics_stream **at = &reg.streams;
			while (*at)
				at = &(*at)->next;
			*at = s;
		} else {
			stream_free(s);
			s = NULL;
		}
	}
	if (s) { /* silence is counted from now on */
		gset(&s->since_ms, ax_metrics_now_ms());
		gset(&s->poll_interval_ms, poll_interval_ms);
		atomic_store(&s->active, true);
	}
	pthread_mutex_unlock(&reg.lock);
	return s;
}

void ax_metrics_set_spool(struct ax_spool *spool, uint64_t max_size)
{
	pthread_mutex_lock(&reg.lock);
	reg.spool = spool;
	reg.spool_max = max_size;
	pthread_mutex_unlock(&reg.lock);
}

void ax_metrics_shutdown(void)
{
	ax_metrics_stop();
	pthread_mutex_lock(&reg.lock);
	while (reg.sources) {
		struct ax_metrics_source *s = reg.sources;
		reg.sources = s->next;
		free(s->name);
		free(s);
	}
	while (reg.outputs) {
		struct ax_metrics_output *o = reg.outputs;
		reg.outputs = o->next;
		free(o->name);
		free(o);
	}
	while (reg.streams) {
		struct ax_metrics_stream *s = reg.streams;
		reg.streams = s->next;
		stream_free(s);
	}
	reg.spool = NULL;
	reg.start_ms = 0;
	pthread_mutex_unlock(&reg.lock);
}

/* ---- hooks ---- */

void ax_metrics_source_records(struct ax_metrics_source *m, uint64_t in, uint64_t dead_lettered)
{
	if (!m || (!in && !dead_lettered))
		return;
	add(&m->in, in);
	add(&m->dead_lettered, dead_lettered);
	gset(&m->last_record_ms, ax_metrics_now_ms());
}

void ax_metrics_output_delivered(struct ax_metrics_output *m, uint64_t n)
{
	if (!m)
		return;
	add(&m->delivered, n);
	gset(&m->last_delivery_ms, ax_metrics_now_ms());
}

void ax_metrics_output_dead_lettered(struct ax_metrics_output *m, uint64_t n)
{
	if (m)
		add(&m->dead_lettered, n);
}

void ax_metrics_output_dropped(struct ax_metrics_output *m, uint64_t n)
{
	if (m)
		add(&m->dropped, n);
}

void ax_metrics_output_failed(struct ax_metrics_output *m, bool fatal, const char *why)
{
	if (!m)
		return;
	pthread_mutex_lock(&reg.lock);
	snprintf(m->why, sizeof(m->why), "%s", why ? why : "");
	if (!gget(&m->failing_since_ms))
		gset(&m->failing_since_ms, ax_metrics_now_ms());
	if (fatal)
		atomic_store(&m->dead, true);
	pthread_mutex_unlock(&reg.lock);
}

void ax_metrics_output_retry(struct ax_metrics_output *m)
{
	if (m)
		add(&m->retries, 1);
}

void ax_metrics_output_ok(struct ax_metrics_output *m)
{
	if (m)
		gset(&m->failing_since_ms, 0);
}

void ax_metrics_stream_throttled(struct ax_metrics_stream *m)
{
	if (m)
		add(&m->throttled, 1);
}

void ax_metrics_stream_pulled(struct ax_metrics_stream *m)
{
	if (m)
		gset(&m->last_pull_ms, ax_metrics_now_ms());
}

void ax_metrics_stream_cursor(struct ax_metrics_stream *m, int64_t cursor_s, int64_t server_now_s)
{
	if (!m || cursor_s <= 0)
		return;
	gset(&m->skew_ms, server_now_s * 1000 - ax_metrics_now_ms() / 1000 * 1000);
	gset(&m->cursor_s, cursor_s);
}

void ax_metrics_stream_horizon(struct ax_metrics_stream *m, int64_t horizon_s)
{
	if (m)
		gset(&m->horizon_s, horizon_s);
}

void ax_metrics_stream_credential(struct ax_metrics_stream *m, int64_t expires_s)
{
	if (m)
		gset(&m->credential_s, expires_s);
}

static struct ax_stream_state state_of(struct ax_metrics_stream *s, int64_t now_ms)
{
	return (struct ax_stream_state){
		.source = s->source, .tenant = s->tenant, .content_type = s->content_type, .cursor_s = gget(&s->cursor_s),
		.server_now_s = (now_ms + gget(&s->skew_ms)) / 1000, .horizon_s = gget(&s->horizon_s),
		.credential_expires_s = gget(&s->credential_s),
	};
}

void ax_metrics_each_stream(int64_t now_ms, void (*fn)(void *arg, const struct ax_stream_state *st), void *arg)
{
	pthread_mutex_lock(&reg.lock);
	for (struct ax_metrics_stream *s = reg.streams; s; s = s->next) {
		if (!atomic_load(&s->active))
			continue;
		struct ax_stream_state st = state_of(s, now_ms);
		fn(arg, &st);
	}
	pthread_mutex_unlock(&reg.lock);
}

/* ---- the text format ---- */

ax_err ax_metrics_add_label_value(struct ax_buf *out, const char *value)
{
	ax_err err = ax_buf_addc(out, '"');
	for (const char *p = value; !err && *p; p++) {
		if (*p == '\\')
			err = ax_buf_adds(out, "\\\\");
		else if (*p == '"')
			err = ax_buf_adds(out, "\\\"");
		else if (*p == '\n')
			err = ax_buf_adds(out, "\\n");
		else
			err = ax_buf_addc(out, *p);
	}
	return err ? err : ax_buf_addc(out, '"');
}

/* A family's header. */
static ax_err family(struct ax_buf *out, const char *name, const char *type, const char *help)
{
	return ax_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"...} value: labels are NULL-terminated pairs. */
static ax_err sample(struct ax_buf *out, const char *name, const char *const *labels, const char *value)
{
	ax_err err = ax_buf_adds(out, name);
	for (size_t i = 0; !err && labels && labels[i]; i += 2) {
		err = ax_buf_addf(out, "%s%s=", i ? "," : "{", labels[i]);
		if (!err)
			err = ax_metrics_add_label_value(out, labels[i + 1]);
	}
	if (!err && labels && labels[0])
		err = ax_buf_addc(out, '}');
	return err ? err : ax_buf_addf(out, " %s\n", value);
}

static ax_err sample_u(struct ax_buf *out, const char *name, const char *const *labels, uint64_t v)
{
	char text[32];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	return sample(out, name, labels, text);
}

static ax_err sample_ms(struct ax_buf *out, const char *name, const char *const *labels, int64_t ms)
{
	char text[48];
	snprintf(text, sizeof(text), "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
	return sample(out, name, labels, text);
}

static ax_err render_process(struct ax_buf *out)
{
	const char *version[] = { "version", AX_VERSION, NULL };
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	int64_t cpu_ms = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
			 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		long size;
		if (fscanf(f, "%ld %ld", &size, &pages) != 2)
			pages = 0;
		fclose(f);
	}
	ax_err err = family(out, "annexa_build_info", "gauge", "The running annexa: its version in a label, value 1.");
	if (!err)
		err = sample(out, "annexa_build_info", version, "1");
	if (!err)
		err = family(out, "process_start_time_seconds", "gauge", "Start time of the process, seconds since the epoch.");
	if (!err)
		err = sample_ms(out, "process_start_time_seconds", NULL, reg.start_ms);
	if (!err)
		err = family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
	if (!err)
		err = sample_ms(out, "process_cpu_seconds_total", NULL, cpu_ms);
	if (!err)
		err = family(out, "process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.");
	if (!err)
		err = sample_u(out, "process_resident_memory_bytes", NULL, (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE));
	return err;
}

static ax_err render_sources(struct ax_buf *out)
{
	ax_err err = family(out, "annexa_records_in_total", "counter", "Records read from a source.");
	for (struct ax_metrics_source *s = reg.sources; !err && s; s = s->next) {
		const char *l[] = { "source", s->name, NULL };
		if (atomic_load(&s->active))
			err = sample_u(out, "annexa_records_in_total", l, get(&s->in));
	}
	if (!err)
		err = family(out, "annexa_records_dead_lettered_total", "counter",
			     "Records written to the dead-letter file: {source} could not be processed, "
			     "{output} the output's receiver refused them for good.");
	for (struct ax_metrics_source *s = reg.sources; !err && s; s = s->next) {
		const char *l[] = { "source", s->name, NULL };
		if (atomic_load(&s->active))
			err = sample_u(out, "annexa_records_dead_lettered_total", l, get(&s->dead_lettered));
	}
	for (struct ax_metrics_output *o = reg.outputs; !err && o; o = o->next) {
		const char *l[] = { "output", o->name, NULL };
		if (atomic_load(&o->active))
			err = sample_u(out, "annexa_records_dead_lettered_total", l, get(&o->dead_lettered));
	}
	if (!err)
		err = family(out, "annexa_last_record_timestamp_seconds", "gauge",
			     "When a source last handed over a record, seconds since the epoch.");
	for (struct ax_metrics_source *s = reg.sources; !err && s; s = s->next) {
		const char *l[] = { "source", s->name, NULL };
		if (atomic_load(&s->active) && gget(&s->last_record_ms))
			err = sample_ms(out, "annexa_last_record_timestamp_seconds", l, gget(&s->last_record_ms));
	}
	return err;
}

/* One counter family over every active output. */
static ax_err output_counters(struct ax_buf *out, const char *name, const char *help, size_t field)
{
	ax_err err = family(out, name, "counter", help);
	for (struct ax_metrics_output *o = reg.outputs; !err && o; o = o->next) {
		const char *l[] = { "output", o->name, NULL };
		if (atomic_load(&o->active))
			err = sample_u(out, name, l, get((counter *)((char *)o + field)));
	}
	return err;
}

static ax_err render_outputs(struct ax_buf *out, int64_t now)
{
	ax_err err = output_counters(out, "annexa_records_out_total", "Records an output's receiver acknowledged.",
				     offsetof(struct ax_metrics_output, delivered));
	if (!err)
		err = output_counters(out, "annexa_records_dropped_total",
				      "Records dropped from the full spool (spool_full = drop_oldest) before an output had them.",
				      offsetof(struct ax_metrics_output, dropped));
	if (!err)
		err = output_counters(out, "annexa_output_retries_total", "Batches an output sent again after a failure.",
				      offsetof(struct ax_metrics_output, retries));
	if (!err)
		err = family(out, "annexa_output_failing_seconds", "gauge",
			     "How long an output has been failing to deliver its pending batch; 0 when it is not.");
	for (struct ax_metrics_output *o = reg.outputs; !err && o; o = o->next) {
		const char *l[] = { "output", o->name, NULL };
		int64_t since = gget(&o->failing_since_ms);
		if (atomic_load(&o->active))
			err = sample_ms(out, "annexa_output_failing_seconds", l, since && now > since ? now - since : 0);
	}
	if (!err)
		err = family(out, "annexa_output_dead", "gauge", "1 when an output failed for good (it sends nothing more).");
	for (struct ax_metrics_output *o = reg.outputs; !err && o; o = o->next) {
		const char *l[] = { "output", o->name, NULL };
		if (atomic_load(&o->active))
			err = sample(out, "annexa_output_dead", l, atomic_load(&o->dead) ? "1" : "0");
	}
	if (!err)
		err = family(out, "annexa_output_last_delivery_timestamp_seconds", "gauge",
			     "When an output's receiver last acknowledged records, seconds since the epoch.");
	for (struct ax_metrics_output *o = reg.outputs; !err && o; o = o->next) {
		const char *l[] = { "output", o->name, NULL };
		if (atomic_load(&o->active) && gget(&o->last_delivery_ms))
			err = sample_ms(out, "annexa_output_last_delivery_timestamp_seconds", l, gget(&o->last_delivery_ms));
	}
	return err;
}

static ax_err render_spool(struct ax_buf *out)
{
	if (!reg.spool)
		return AX_OK;
	struct ax_spool_stats st;
	ax_spool_get_stats(reg.spool, &st);
	ax_err err = family(out, "annexa_spool_bytes", "gauge", "Bytes of records in the spool.");
	if (!err)
		err = sample_u(out, "annexa_spool_bytes", NULL, st.bytes);
	if (!err)
		err = family(out, "annexa_spool_max_bytes", "gauge", "Largest size of the spool (spool_max_size).");
	if (!err)
		err = sample_u(out, "annexa_spool_max_bytes", NULL, reg.spool_max);
	if (!err)
		err = family(out, "annexa_spool_segments", "gauge", "Segment files of the spool.");
	if (!err)
		err = sample_u(out, "annexa_spool_segments", NULL, st.segments);
	if (!err)
		err = family(out, "annexa_spool_frames_read_total", "counter",
			     "Frames of records the outputs read: from=\"memory\", the latest ones, kept for outputs "
			     "close behind; from=\"segment\", read back from the spool (an output behind).");
	const char *memory[] = { "from", "memory", NULL }, *segment[] = { "from", "segment", NULL };
	if (!err)
		err = sample_u(out, "annexa_spool_frames_read_total", memory, st.frames_recent);
	if (!err)
		err = sample_u(out, "annexa_spool_frames_read_total", segment, st.frames_read_back);
	if (!err)
		err = family(out, "annexa_spool_written_bytes_total", "counter",
			     "Bytes the spool wrote to its segments: on disk, every frame; in memory, only the frames "
			     "an output still needed when they left the latest ones.");
	if (!err)
		err = sample_u(out, "annexa_spool_written_bytes_total", NULL, st.written);
	return err;
}

static ax_err render_streams(struct ax_buf *out, int64_t now)
{
	ax_err err = family(out, "annexa_checkpoint_lag_seconds", "gauge",
			    "Now minus the checkpoint's cursor of a Microsoft 365 stream (o365: the end of the last "
			    "window delivered; Graph: the newest entry delivered).");
	for (struct ax_metrics_stream *s = reg.streams; !err && s; s = s->next) {
		const char *l[] = { "source", s->source, "tenant", s->tenant, "content_type", s->content_type, NULL };
		int64_t cursor = gget(&s->cursor_s) * 1000, server_now = now + gget(&s->skew_ms);
		if (atomic_load(&s->active) && cursor)
			err = sample_ms(out, "annexa_checkpoint_lag_seconds", l, server_now > cursor ? server_now - cursor : 0);
	}
	if (!err)
		err = family(out, "annexa_api_throttled_total", "counter",
			     "Requests the Microsoft 365 APIs answered with 429 or AF429 (throttled), each retried later.");
	for (struct ax_metrics_stream *s = reg.streams; !err && s; s = s->next) {
		const char *l[] = { "source", s->source, "tenant", s->tenant, "content_type", s->content_type, NULL };
		if (atomic_load(&s->active))
			err = sample_u(out, "annexa_api_throttled_total", l, get(&s->throttled));
	}
	if (!err)
		err = family(out, "annexa_credential_expiry_timestamp_seconds", "gauge",
			     "When the certificate a Microsoft 365 stream signs in with expires, seconds since the epoch.");
	for (struct ax_metrics_stream *s = reg.streams; !err && s; s = s->next) {
		const char *l[] = { "source", s->source, "tenant", s->tenant, "content_type", s->content_type, NULL };
		if (atomic_load(&s->active) && gget(&s->credential_s))
			err = sample_ms(out, "annexa_credential_expiry_timestamp_seconds", l, gget(&s->credential_s) * 1000);
	}
	if (!err)
		err = family(out, "annexa_last_pull_success_timestamp_seconds", "gauge",
			     "When a Microsoft 365 stream last completed a pull, seconds since the epoch.");
	for (struct ax_metrics_stream *s = reg.streams; !err && s; s = s->next) {
		const char *l[] = { "source", s->source, "tenant", s->tenant, "content_type", s->content_type, NULL };
		if (atomic_load(&s->active) && gget(&s->last_pull_ms))
			err = sample_ms(out, "annexa_last_pull_success_timestamp_seconds", l, gget(&s->last_pull_ms));
	}
	return err;
}

/* ---- health ---- */

/* Adds one problem to the /health body; the first also gives "reason". */
struct judge {
	struct ax_buf *out;
	size_t count;
	ax_err err;
};

static void problem(struct judge *j, const char *kind, const char *name, const char *state, int64_t for_ms,
		    const char *detail, const struct ax_metrics_stream *s)
{
	char reason[WHY_MAX + 200];
	if (s && strcmp(state, "near_horizon") == 0)
		snprintf(reason, sizeof(reason), "source \"%s\" (%s): its checkpoint lags the API by %llds, within a day "
			 "of the %llds the API keeps records", s->source, s->content_type, (long long)(for_ms / 1000),
			 (long long)gget(&s->horizon_s));
	else if (s)
		snprintf(reason, sizeof(reason), "source \"%s\" (%s) has not pulled successfully for %llds", s->source,
			 s->content_type, (long long)(for_ms / 1000));
	else if (strcmp(state, "dead") == 0)
		snprintf(reason, sizeof(reason), "output \"%s\" failed for good: %s", name, detail);
	else
		snprintf(reason, sizeof(reason), "output \"%s\" has been failing for %llds: %s", name,
			 (long long)(for_ms / 1000), detail);
	struct ax_buf *b = j->out;
	ax_err err = j->err;
	if (!err && j->count == 0) {
		err = ax_buf_adds(b, "{\"status\":\"unhealthy\",\"reason\":");
		if (!err)
			err = ax_buf_add_json_str(b, reason, strlen(reason));
		if (!err)
			err = ax_buf_adds(b, ",\"problems\":[");
	}
	if (!err)
		err = ax_buf_addf(b, "%s{\"%s\":", j->count ? "," : "", kind);
	if (!err)
		err = ax_buf_add_json_str(b, name, strlen(name));
	if (!err && s) {
		err = ax_buf_adds(b, ",\"tenant\":");
		if (!err)
			err = ax_buf_add_json_str(b, s->tenant, strlen(s->tenant));
		if (!err)
			err = ax_buf_adds(b, ",\"content_type\":");
		if (!err)
			err = ax_buf_add_json_str(b, s->content_type, strlen(s->content_type));
	}
	if (!err)
		err = ax_buf_addf(b, ",\"state\":\"%s\",\"seconds\":%lld,\"reason\":", state, (long long)(for_ms / 1000));
	if (!err)
		err = ax_buf_add_json_str(b, reason, strlen(reason));
	if (!err)
		err = ax_buf_addc(b, '}');
	j->err = err;
	j->count++;
}

static void judge_outputs(struct judge *j, int64_t now)
{
	for (struct ax_metrics_output *o = reg.outputs; o; o = o->next) {
		int64_t since = gget(&o->failing_since_ms);
		if (!atomic_load(&o->active))
			continue;
		if (atomic_load(&o->dead))
			problem(j, "output", o->name, "dead", since ? now - since : 0, o->why, NULL);
		else if (since && now - since >= reg.health.output_failing_ms)
			problem(j, "output", o->name, "failing", now - since, o->why, NULL);
	}
}

static void judge_streams(struct judge *j, int64_t now)
{
	for (struct ax_metrics_stream *s = reg.streams; s; s = s->next) {
		int64_t last = gget(&s->last_pull_ms), since = gget(&s->since_ms);
		int64_t limit = reg.health.source_silent_ms, polls = SILENT_POLLS * gget(&s->poll_interval_ms);
		if (last < since)
			last = since; /* never pulled in this run: silent since the stream started */
		if (polls > limit)
			limit = polls;
		if (atomic_load(&s->active) && now - last >= limit)
			problem(j, "source", s->source, "silent", now - last, NULL, s);
		struct ax_stream_state st = state_of(s, now);
		int64_t lag = st.server_now_s - st.cursor_s;
		if (atomic_load(&s->active) && st.horizon_s && st.cursor_s && lag > st.horizon_s - AX_HORIZON_WARN_S)
			problem(j, "source", s->source, "near_horizon", lag * 1000, NULL, s);
	}
}

static void judge(struct judge *j, int64_t now)
{
	judge_outputs(j, now);
	judge_streams(j, now);
}

ax_err ax_metrics_health(struct ax_buf *out, int64_t now_ms, bool *healthy)
{
	struct judge j = { .out = out };
	pthread_mutex_lock(&reg.lock);
	judge(&j, now_ms);
	pthread_mutex_unlock(&reg.lock);
	*healthy = j.count == 0;
	if (j.err)
		return j.err;
	return ax_buf_adds(out, j.count ? "]}\n" : "{\"status\":\"ok\"}\n");
}

ax_err ax_metrics_render(struct ax_buf *out, int64_t now_ms)
{
	struct ax_buf scratch;
	struct judge j = { .out = &scratch };
	ax_buf_init(&scratch, 1u << 20);
	pthread_mutex_lock(&reg.lock);
	judge(&j, now_ms);
	ax_err err = render_process(out);
	if (!err)
		err = family(out, "annexa_healthy", "gauge", "1 when /health answers 200, 0 when it answers 503.");
	if (!err)
		err = sample(out, "annexa_healthy", NULL, j.count ? "0" : "1");
	if (!err)
		err = render_sources(out);
	if (!err)
		err = render_outputs(out, now_ms);
	if (!err)
		err = render_spool(out);
	if (!err)
		err = render_streams(out, now_ms);
	pthread_mutex_unlock(&reg.lock);
	ax_buf_finish(&scratch);
	return err;
}

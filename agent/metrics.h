/* metrics.h - the agent's counters and gauges, and the /metrics and /health
 * endpoint that serves them ([agent] metrics_listen).
 *
 * A registry, one per process, keeps an entry per source, per output and
 * per Microsoft 365 stream (a source's content type or Graph list). The
 * pipeline, the senders and the sources update their entry through the
 * one-line hooks below: relaxed atomics, no lock, and every hook accepts
 * NULL (code run outside `annexa run`, unit tests). The HTTP thread only
 * reads. Entries live until ax_metrics_shutdown, and a SIGHUP reload finds
 * its sources' and outputs' entries again by name, so counters go on
 * across reloads; entries a reload no longer has are no longer shown.
 *
 * Rendering is the Prometheus text format (version 0.0.4): every label value
 * escaped (backslash, double quote, line feed), nothing a secret could be in
 * (names, tenant ids, counts, and the error text outputs already log). */
#ifndef AX_AGENT_METRICS_H
#define AX_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct ax_spool;
struct ax_metrics_source;
struct ax_metrics_output;
struct ax_metrics_stream;

/* What /health judges by; milliseconds. */
struct ax_health_conf {
	int64_t output_failing_ms; /* an output failing this long is unhealthy (a dead one at once) */
	int64_t source_silent_ms;  /* a stream without a successful pull this long is unhealthy */
};

/* ---- the registry (the main thread's) ---- */

/* A new run of a config: every entry is hidden until got again. */
void ax_metrics_begin_run(const struct ax_health_conf *health);
/* The entry of a name, made the first time; NULL when out of memory. */
struct ax_metrics_source *ax_metrics_source(const char *name);
struct ax_metrics_output *ax_metrics_output(const char *name);
/* poll_interval_ms: the stream pulls at least this often when healthy. */
struct ax_metrics_stream *ax_metrics_stream(const char *source, const char *tenant, const char *content_type,
					    int64_t poll_interval_ms);
/* The spool whose size is shown; NULL before it is closed. */
void ax_metrics_set_spool(struct ax_spool *spool, uint64_t max_size);
/* Stops the endpoint and frees every entry (the end of the process). */
void ax_metrics_shutdown(void);

/* ---- hooks ---- */

/* Records read from a source, and how many of them went to the dead-letter file. */
void ax_metrics_source_records(struct ax_metrics_source *m, uint64_t in, uint64_t dead_lettered);
/* The receiver acknowledged n records. */
void ax_metrics_output_delivered(struct ax_metrics_output *m, uint64_t n);
/* The receiver refused n records for good (dead-lettered). */
void ax_metrics_output_dead_lettered(struct ax_metrics_output *m, uint64_t n);
/* n records were dropped from the full spool before this output had them. */
void ax_metrics_output_dropped(struct ax_metrics_output *m, uint64_t n);
/* A send failed (fatal: for good); why is the output's message. */
void ax_metrics_output_failed(struct ax_metrics_output *m, bool fatal, const char *why);
/* A failed batch is sent again. */
void ax_metrics_output_retry(struct ax_metrics_output *m);
/* The pending batch is done with: the output is not failing. */
void ax_metrics_output_ok(struct ax_metrics_output *m);
/* The API answered 429 or AF429. */
void ax_metrics_stream_throttled(struct ax_metrics_stream *m);
/* A pull (a window, a poll) ended well. */
void ax_metrics_stream_pulled(struct ax_metrics_stream *m);
/* The checkpoint's cursor and the API's clock now, epoch seconds: the lag
 * is measured on the API's clock, whatever ours says. */
void ax_metrics_stream_cursor(struct ax_metrics_stream *m, int64_t cursor_s, int64_t server_now_s);
/* The API keeps the stream's records this long (the Management API: 7
 * days): a checkpoint within a day of it is unhealthy, and the gap watch
 * raises it. 0: no horizon. */
void ax_metrics_stream_horizon(struct ax_metrics_stream *m, int64_t horizon_s);
/* The stream's credential (its certificate) expires then, epoch seconds; 0: unknown. */
void ax_metrics_stream_credential(struct ax_metrics_stream *m, int64_t expires_s);

/* What the gap watch reads of each active stream. */
struct ax_stream_state {
	const char *source, *tenant, *content_type;
	int64_t cursor_s;            /* 0: none yet */
	int64_t server_now_s;        /* the API's clock now */
	int64_t horizon_s;           /* 0: none */
	int64_t credential_expires_s; /* 0: unknown */
};
#define AX_HORIZON_WARN_S (24 * 3600) /* a checkpoint this close to the horizon is raised */

/* Calls fn for every active stream, under the registry's lock. */
void ax_metrics_each_stream(int64_t now_ms, void (*fn)(void *arg, const struct ax_stream_state *st), void *arg);

/* ---- what the endpoint serves (also for tests) ---- */

/* Every metric, as of now_ms (epoch milliseconds). */
ax_err ax_metrics_render(struct ax_buf *out, int64_t now_ms) AX_WARN_UNUSED;
/* The /health body; *healthy false: answer 503. */
ax_err ax_metrics_health(struct ax_buf *out, int64_t now_ms, bool *healthy) AX_WARN_UNUSED;
/* A Prometheus label value, quoted and escaped. */
ax_err ax_metrics_add_label_value(struct ax_buf *out, const char *value) AX_WARN_UNUSED;
int64_t ax_metrics_now_ms(void);

/* ---- the endpoint (metrics_http.c) ---- */

/* "HOST:PORT" or "[V6]:PORT" (PORT 0: any free port) is well formed; why otherwise. */
bool ax_metrics_listen_valid(const char *listen, char *why, size_t len);
/* Serves listen ("" turns it off). A new address replaces the old one; the
 * same address keeps the running server. An address that cannot be bound
 * (in use) is a warning, never an error: the agent goes on without it. */
void ax_metrics_serve(const char *listen);
/* The port being served, 0 when none. */
int ax_metrics_port(void);
/* Stops serving (ax_metrics_shutdown does too). */
void ax_metrics_stop(void);

#endif

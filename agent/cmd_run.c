/* annexa run -c FILE: sources → decode → map → enrich → route → outputs.
 *
 * Each source runs in a thread of its own and hands units of raw records
 * to the pipeline thread, which enriches, routes and delivers them and
 * then tells the source (its checkpoint may move). When every source is a file with follow = false,
 * the run is a replay: it ends once every record was delivered to every
 * output whose filter it passes, and fails if an output stayed unreachable
 * for shutdown_timeout. SIGTERM and SIGINT stop reading; what was read is
 * still delivered within shutdown_timeout. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "deadletter.h"
#include "delivery.h"
#include "enrich.h"
#include "log.h"
#include "route.h"
#include "rules.h"
#include "queue.h"
#include "sources/source.h"
#include "version.h"

#define QUEUE_BYTES (64u << 20)
#define POP_WAIT_MS 200

struct run_source {
	const struct ax_section_conf *sec;
	struct ax_source *src;
	pthread_t thread;
	bool started;
	atomic_bool finished; /* run() returned */
	bool replay_done;     /* ... and said it read everything */
	uint64_t records, dead_lettered;
};

struct run {
	struct ax_config *cfg;
	struct ax_rules *rules;
	struct ax_processor proc;
	struct ax_deadletter dl;
	struct ax_queue queue;
	struct ax_source_env env;
	struct run_source *sources;
	struct ax_output **outputs;
	struct ax_delivery *deliveries;
	size_t nsources, noutputs;
	bool replay;
	const char *host;
};

/* Set by SIGTERM/SIGINT, read by every thread: a lock-free atomic is
 * both async-signal-safe and race-free. */
static atomic_int stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a receiver closing a socket is an error, not a death */
}

static void usage(FILE *f)
{
	fprintf(f, "usage: annexa run -c FILE\n"
		   "Pulls records from the configured sources, maps them to ISO/IEC 27001 controls\n"
		   "and delivers them to the configured outputs.\n");
}

static int parse_args(int argc, char **argv, const char **path)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c') {
			*path = optarg;
		} else if (c == 'h') {
			usage(stdout);
			exit(AX_EXIT_OK);
		} else {
			usage(stderr);
			return AX_EXIT_USAGE;
		}
	}
	if (!*path || optind < argc) {
		usage(stderr);
		return AX_EXIT_USAGE;
	}
	return AX_EXIT_OK;
}

static int load_config(struct run *r, const char *path)
{
	struct ax_diag diag;
	ax_diag_init(&diag);
	r->cfg = ax_config_load(path, &diag);
	if (r->cfg)
		r->rules = ax_rules_load(&r->cfg->agent.mapping_files, &diag);
	if (r->rules)
		ax_route_validate(r->cfg, r->rules, &diag);
	ax_diag_print(&diag, stderr);
	bool ok = diag.count == 0;
	ax_diag_finish(&diag);
	if (ok)
		ax_log_set_level((enum ax_log_level)r->cfg->agent.log_level);
	return ok ? AX_EXIT_OK : AX_EXIT_USAGE;
}

static int create_sources(struct run *r)
{
	r->sources = calloc(r->cfg->nsources ? r->cfg->nsources : 1, sizeof(*r->sources));
	if (!r->sources)
		return AX_EXIT_FAILURE;
	r->replay = true;
	for (size_t i = 0; i < r->cfg->nsources; i++) {
		const struct ax_section_conf *sec = &r->cfg->sources[i];
		const struct ax_source_ops *ops = ax_source_ops_find(sec->kind->name);
		struct run_source *s = &r->sources[r->nsources];
		if (!ops) {
			ax_error(sec->name, "%s:%d: source type '%s' is not available in annexa %s yet; use type = file",
				 r->cfg->path, sec->line, sec->kind->name, AX_VERSION);
			return AX_EXIT_USAGE;
		}
		ax_err err;
		s->sec = sec;
		s->src = ops->create(sec->name, sec->conf, &r->env, &err);
		if (!s->src)
			return AX_EXIT_FAILURE;
		atomic_init(&s->finished, false);
		r->replay = r->replay && ops->finite(s->src);
		r->nsources++;
	}
	if (r->nsources == 0)
		ax_warn("run", "no [source] section: nothing to do");
	return AX_EXIT_OK;
}

static int create_outputs(struct run *r)
{
	size_t n = r->cfg->noutputs;
	r->outputs = calloc(n, sizeof(*r->outputs));
	r->deliveries = calloc(n, sizeof(*r->deliveries));
	if (!r->outputs || !r->deliveries)
		return AX_EXIT_FAILURE;
	for (size_t i = 0; i < n; i++) {
		const struct ax_section_conf *sec = &r->cfg->outputs[i];
		ax_err err;
		r->outputs[i] = ax_output_create(ax_output_find(sec->kind->name), sec->name, sec->conf, &err);
		if (!r->outputs[i])
			return AX_EXIT_FAILURE;
		ax_delivery_init(&r->deliveries[i], r->outputs[i], sec->conf, &r->dl, &stop_requested,
				 r->cfg->agent.max_record_size);
		r->noutputs++;
	}
	return AX_EXIT_OK;
}

static int setup(struct run *r, const char *path)
{
	int rc = load_config(r, path);
	if (rc)
		return rc;
	const struct ax_agent_conf *agent = &r->cfg->agent;
	ax_host_configure(agent->host);
	r->host = ax_host_name(NULL);
	if (ax_processor_init(&r->proc, r->rules, (unsigned)agent->max_depth, agent->max_record_size))
		return AX_EXIT_FAILURE;
	if (ax_deadletter_open(&r->dl, agent->dead_letter[0] ? agent->dead_letter : NULL)) {
		ax_error("run", "cannot open the dead-letter file %s (set [agent] dead_letter to a writable path)",
			 agent->dead_letter);
		return AX_EXIT_FAILURE;
	}
	ax_queue_init(&r->queue, QUEUE_BYTES);
	r->env = (struct ax_source_env){ .agent = agent, .queue = &r->queue, .stop = &stop_requested };
	rc = create_outputs(r);
	return rc ? rc : create_sources(r);
}

/* ---- source threads ---- */

static void *source_thread(void *arg)
{
	struct run_source *s = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the pipeline thread's */
	s->replay_done = s->src->ops->run(s->src);
	atomic_store(&s->finished, true);
	return NULL;
}

static int start_sources(struct run *r)
{
	for (size_t i = 0; i < r->nsources; i++) {
		if (pthread_create(&r->sources[i].thread, NULL, source_thread, &r->sources[i]) != 0) {
			ax_error(r->sources[i].sec->name, "cannot start its thread");
			return AX_EXIT_FAILURE;
		}
		r->sources[i].started = true;
	}
	return AX_EXIT_OK;
}

static bool sources_finished(const struct run *r)
{
	for (size_t i = 0; i < r->nsources; i++)
		if (!atomic_load(&r->sources[i].finished))
			return false;
	return true;
}

/* ---- the pipeline ---- */

static struct run_source *source_of(struct run *r, const struct ax_unit *u)
{
	for (size_t i = 0; i < r->nsources; i++)
		if (strcmp(r->sources[i].sec->name, u->origin.source) == 0)
			return &r->sources[i];
	return &r->sources[0];
}

static void dead_letter_record(struct run *r, struct run_source *s, const struct ax_unit *u, size_t i,
			       const char *reason)
{
	const struct ax_unit_record *ur = &u->records[i];
	struct ax_dead_record rec = {
		.source = u->origin.source, .stage = "decode", .reason = reason, .line = ur->line,
		.offset = ur->offset, .length = ur->full_len, .raw = ax_unit_data(u, i), .raw_len = ur->len,
	};
	if (ax_deadletter_write(&r->dl, &rec))
		ax_error("run", "cannot write to the dead-letter file");
	s->dead_lettered++;
}

static void route(struct run *r, const struct ax_record *rec)
{
	for (size_t i = 0; i < r->noutputs; i++)
		ax_delivery_add(&r->deliveries[i], rec, r->cfg->agent.shutdown_timeout);
}

static void handle_record(struct run *r, struct run_source *s, const struct ax_unit *u, size_t i,
			  const struct ax_origin *origin)
{
	const struct ax_unit_record *ur = &u->records[i];
	char reason[160];
	s->records++;
	if (ur->reject) {
		dead_letter_record(r, s, u, i, ur->reject);
	} else if (ur->oversized) {
		snprintf(reason, sizeof(reason), "record of %llu bytes exceeds max_record_size (%llu bytes)",
			 (unsigned long long)ur->full_len, (unsigned long long)r->cfg->agent.max_record_size);
		dead_letter_record(r, s, u, i, reason);
	} else if (ax_process(&r->proc, ax_unit_data(u, i), ur->len, origin)) {
		dead_letter_record(r, s, u, i, r->proc.reason);
	} else {
		route(r, &r->proc.record);
	}
}

static bool all_delivered(const struct run *r)
{
	for (size_t i = 0; i < r->noutputs; i++)
		if (r->deliveries[i].state != AX_DELIVERY_OK)
			return false;
	return true;
}

static void send_all(struct run *r, int64_t patience_ms)
{
	for (size_t i = 0; i < r->noutputs; i++)
		ax_delivery_send(&r->deliveries[i], patience_ms);
}

/* Decodes, maps and delivers a unit, then tells its source. */
static void consume(struct run *r, struct ax_unit *u)
{
	struct run_source *s = source_of(r, u);
	struct ax_origin origin = u->origin;
	origin.host = r->host;
	origin.version = AX_VERSION;
	for (size_t i = 0; i < u->count; i++)
		handle_record(r, s, u, i, &origin);
	/* A live source waits for its receivers as long as it takes; a replay
	 * gives up after shutdown_timeout. */
	send_all(r, r->replay ? r->cfg->agent.shutdown_timeout : INT64_MAX / 2);
	u->done(u, all_delivered(r));
}

static void pipeline(struct run *r)
{
	while (!stop_requested && !(r->replay && !all_delivered(r))) {
		struct ax_unit *u = ax_queue_pop(&r->queue, POP_WAIT_MS);
		if (u)
			consume(r, u);
		else if (sources_finished(r))
			break;
	}
}

/* Stop: the sources end, what they queued is still delivered. */
static void drain(struct run *r)
{
	if (stop_requested)
		ax_info("run", "stopping: delivering what was read (at most %llds)",
			(long long)r->cfg->agent.shutdown_timeout / 1000);
	stop_requested = 1;
	ax_queue_close(&r->queue);
	for (size_t i = 0; i < r->nsources; i++)
		if (r->sources[i].started)
			pthread_join(r->sources[i].thread, NULL);
	struct ax_unit *u;
	while ((u = ax_queue_pop(&r->queue, 0))) {
		if (all_delivered(r))
			consume(r, u);
		else
			u->done(u, false);
	}
}

static void flush_outputs(struct run *r)
{
	for (size_t i = 0; i < r->noutputs; i++)
		if (ax_output_flush(r->outputs[i], r->cfg->agent.shutdown_timeout))
			ax_warn(r->outputs[i]->name, "flush did not finish within shutdown_timeout");
}

/* 0 when every routed record was delivered or dead-lettered. */
static int report(const struct run *r)
{
	int rc = AX_EXIT_OK;
	for (size_t i = 0; i < r->nsources; i++)
		ax_info(r->sources[i].sec->name, "%llu records read, %llu dead-lettered",
			(unsigned long long)r->sources[i].records, (unsigned long long)r->sources[i].dead_lettered);
	for (size_t i = 0; i < r->noutputs; i++) {
		const struct ax_delivery *d = &r->deliveries[i];
		ax_info(d->out->name, "%llu records routed, %llu delivered, %llu dead-lettered",
			(unsigned long long)d->routed, (unsigned long long)d->delivered,
			(unsigned long long)d->dead_lettered);
		if (d->state == AX_DELIVERY_OK)
			continue;
		ax_error(d->out->name, "%s: %llu records not delivered: %s", d->state == AX_DELIVERY_DEAD
			 ? "output failed" : "receiver unreachable past shutdown_timeout",
			 (unsigned long long)(d->routed - d->delivered - d->dead_lettered), d->last_error);
		rc = AX_EXIT_FAILURE;
	}
	return rc;
}

static void cleanup(struct run *r)
{
	for (size_t i = 0; i < r->nsources; i++)
		if (r->sources[i].src)
			r->sources[i].src->ops->destroy(r->sources[i].src);
	for (size_t i = 0; i < r->noutputs; i++) {
		ax_delivery_finish(&r->deliveries[i]);
		ax_output_destroy(r->outputs[i]);
	}
	if (r->env.queue)
		ax_queue_finish(&r->queue);
	free(r->sources);
	free(r->outputs);
	free(r->deliveries);
	ax_deadletter_close(&r->dl);
	ax_processor_finish(&r->proc);
	ax_rules_destroy(r->rules);
	ax_config_destroy(r->cfg);
	ax_output_plugins_unload();
}

int ax_cmd_run(int argc, char **argv)
{
	struct run r = { 0 };
	const char *path = NULL;
	int rc = parse_args(argc, argv, &path);
	if (rc)
		return rc;
	catch_stop_signals();
	rc = setup(&r, path);
	if (rc == AX_EXIT_OK)
		rc = start_sources(&r);
	if (rc == AX_EXIT_OK)
		pipeline(&r);
	if (r.env.queue) {
		drain(&r);
		stop_requested = 0; /* the final delivery must not be cut short by the stop itself */
		send_all(&r, r.cfg->agent.shutdown_timeout);
		flush_outputs(&r);
	}
	if (rc == AX_EXIT_OK)
		rc = report(&r);
	cleanup(&r);
	return rc;
}

/* annexa run -c FILE: sources → decode → map → enrich → spool → outputs.
 *
 * Each source runs in a thread of its own and hands units of raw records
 * to the pipeline (this thread), which enriches and spools them and then
 * tells the source (its checkpoint may move). Each output has a thread of
 * its own (sender.h) reading the spool. When every source is a file with
 * follow = false, the run is a replay: it ends once every record was
 * delivered to every output whose filter it passes, and fails if an output
 * stayed unreachable for shutdown_timeout. SIGTERM and SIGINT stop the
 * sources; the outputs get shutdown_timeout to deliver what is spooled,
 * and what they could not stays in the spool (disk) for the next start.
 * SIGHUP reloads the config: a valid one replaces the running sources and
 * outputs (what is spooled stays, sources resume from their checkpoints);
 * an invalid one is refused and the running one stays. Under systemd
 * (Type=notify) each of these steps is told with sd_notify: READY once
 * every source and output runs, RELOADING and READY again around a reload,
 * STOPPING at the stop, with a STATUS line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "deadletter.h"
#include "evidence.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "queue.h"
#include "route.h"
#include "rules.h"
#include "sender.h"
#include "spool.h"
#include "thread.h"
#include "sources/source.h"
#include "version.h"

#define QUEUE_BYTES (32u << 20)
#define POP_WAIT_MS 200
#define SPOOL_CATCH_UP_MS 1000 /* spool = memory: an output that committed this recently is waited for */
#define SPOOL_STALL_MS 5000 /* spool_full = drop_oldest: an output this long without progress is dropped from */
#define ACK_POLL_MS 5 /* spool = memory: how often waiting units look for acknowledgements */
#define END_POLL_MS 5 /* a replay read to its end: how often it looks whether its outputs have everything */

struct run_source {
	const struct ax_section_conf *sec;
	struct ax_source *src;
	pthread_t thread;
	bool started;
	atomic_bool finished; /* run() returned */
	bool replay_done;     /* ... and said it read everything */
	struct ax_pipeline_counts counts;
	struct ax_metrics_source *metrics;
};

struct run {
	struct ax_config *cfg;
	struct ax_rules *rules;
	struct ax_pipeline pipeline;
	struct ax_spool *spool;
	struct ax_deadletter dl;
	struct ax_queue queue;
	struct ax_source_env env;
	struct run_source *sources;
	struct ax_output **outputs;
	struct ax_sender *senders;
	size_t nsources, noutputs;
	bool replay;
	const char *host;
	int lock_fd;
	struct ax_evidence *evidence;
	struct ax_config *next_cfg; /* a reload's, validated */
	struct ax_rules *next_rules;
};

/* Set by SIGTERM/SIGINT (stop) and SIGHUP (reload), read by the sources
 * and the pipeline: a lock-free atomic is both async-signal-safe and
 * race-free. */
static atomic_int stop_requested, reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a receiver closing a socket is an error, not a death */
	signal(SIGXFSZ, SIG_IGN); /* so is a file size limit: the write fails, the spool waits */
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

/* The config and its rules, validated; both NULL when it is not valid (said why). */
static int load_config(const char *path, struct ax_config **cfg, struct ax_rules **rules)
{
	struct ax_diag diag;
	ax_diag_init(&diag);
	*rules = NULL;
	*cfg = ax_config_load(path, &diag);
	if (*cfg)
		*rules = ax_rules_load(&(*cfg)->agent.mapping_files, &diag);
	if (*rules)
		ax_route_validate(*cfg, *rules, &diag);
	ax_diag_print(&diag, stderr);
	bool ok = diag.count == 0;
	ax_diag_finish(&diag);
	if (!ok) {
		ax_rules_destroy(*rules);
		ax_config_destroy(*cfg);
		*cfg = NULL;
		*rules = NULL;
		return AX_EXIT_USAGE;
	}
	ax_log_set_level((enum ax_log_level)(*cfg)->agent.log_level);
	return AX_EXIT_OK;
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
		s->metrics = ax_metrics_source(sec->name);
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
	r->outputs = calloc(n + 1, sizeof(*r->outputs));
	r->senders = calloc(n + 1, sizeof(*r->senders));
	if (!r->outputs || !r->senders)
		return AX_EXIT_FAILURE;
	for (size_t i = 0; i < n; i++) {
		const struct ax_section_conf *sec = &r->cfg->outputs[i];
		ax_err err;
		r->outputs[i] = ax_output_create(ax_output_find(sec->kind->name), sec->name, sec->conf, &err);
		if (!r->outputs[i])
			return AX_EXIT_FAILURE;
		ax_delivery_init(&r->senders[i].delivery, r->outputs[i], sec->conf, &r->dl, NULL,
				 r->cfg->agent.max_record_size);
		r->senders[i].delivery.metrics = ax_metrics_output(sec->name);
		r->noutputs++;
	}
	return AX_EXIT_OK;
}

/* state_dir, and the lock that keeps a second instance off it. */
static int lock_state_dir(struct run *r)
{
	const char *dir = r->cfg->agent.state_dir;
	char path[4096];
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		ax_error("run", "cannot create state_dir %s: %s", dir, strerror(errno));
		return AX_EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/annexa.lock", dir);
	r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lock_fd < 0) {
		ax_error("run", "cannot open %s: %s", path, strerror(errno));
		return AX_EXIT_FAILURE;
	}
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(r->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		ax_error("run", "another annexa (pid %s) is running with state_dir %s; stop it, or give this one "
			 "a state_dir of its own", pid[0] ? pid : "unknown", dir);
		return AX_EXIT_FAILURE;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(r->lock_fd, 0) != 0 || pwrite(r->lock_fd, pid, (size_t)len, 0) != len)
		ax_warn("run", "cannot write the pid into %s", path);
	return AX_EXIT_OK;
}

static int open_spool(struct run *r)
{
	const struct ax_agent_conf *agent = &r->cfg->agent;
	const char **names = calloc(r->noutputs + 1, sizeof(*names));
	struct ax_metrics_output **metrics = calloc(r->noutputs + 1, sizeof(*metrics));
	char dir[4096];
	if (!names || !metrics) {
		free(names);
		free(metrics);
		return AX_EXIT_FAILURE;
	}
	for (size_t i = 0; i < r->noutputs; i++) {
		names[i] = r->outputs[i]->name;
		metrics[i] = r->senders[i].delivery.metrics;
	}
	snprintf(dir, sizeof(dir), "%s/spool", agent->state_dir);
	struct ax_spool_conf conf = {
		.dir = agent->spool == AX_SPOOL_DISK ? dir : NULL, .max_size = agent->spool_max_size,
		.drop_oldest = agent->spool_full == AX_SPOOL_DROP_OLDEST, .stall_ms = SPOOL_STALL_MS,
		.catch_up_ms = SPOOL_CATCH_UP_MS,
		.fsync = agent->spool_fsync,
		.compress_level = (int)agent->spool_compress, .max_record = agent->max_record_size,
		.outputs = names, .noutputs = r->noutputs, .metrics = metrics,
	};
	ax_err err;
	r->spool = ax_spool_open(&conf, &err);
	free(names);
	free(metrics);
	ax_metrics_set_spool(r->spool, agent->spool_max_size);
	if (!r->spool)
		ax_error("run", "cannot open the spool in %s: %s", conf.dir ? conf.dir : "memory", ax_strerror(err));
	return r->spool ? AX_EXIT_OK : AX_EXIT_FAILURE;
}

/* The ledger, told by the pipeline and by every output. */
static int open_evidence(struct run *r)
{
	ax_err err;
	r->evidence = ax_evidence_create(&r->cfg->evidence, r->cfg->agent.state_dir, &r->rules->catalog, &err);
	if (!r->evidence)
		return AX_EXIT_FAILURE;
	r->pipeline.evidence = r->evidence;
	for (size_t i = 0; i < r->noutputs; i++)
		ax_evidence_attach(r->evidence, &r->senders[i].delivery);
	return AX_EXIT_OK;
}

/* Takes cfg and rules. */
static int setup(struct run *r, struct ax_config *cfg, struct ax_rules *rules)
{
	int rc;
	r->cfg = cfg;
	r->rules = rules;
	const struct ax_agent_conf *agent = &r->cfg->agent;
	ax_host_configure(agent->host);
	r->host = ax_host_name(NULL);
	if ((rc = lock_state_dir(r)))
		return rc;
	/* after the lock: a second instance refused says only that */
	ax_metrics_begin_run(&(struct ax_health_conf){ .output_failing_ms = agent->health_output_failing,
						       .source_silent_ms = agent->health_source_silent });
	ax_metrics_serve(agent->metrics_listen);
	if (ax_deadletter_open(&r->dl, agent->dead_letter[0] ? agent->dead_letter : NULL)) {
		ax_error("run", "cannot open the dead-letter file %s (set [agent] dead_letter to a writable path)",
			 agent->dead_letter);
		return AX_EXIT_FAILURE;
	}
	if ((rc = create_outputs(r)) || (rc = open_spool(r)))
		return rc;
	if (ax_pipeline_init(&r->pipeline, agent, r->rules, r->spool, &r->dl, &stop_requested))
		return AX_EXIT_FAILURE;
	if ((rc = open_evidence(r)))
		return rc;
	ax_queue_init(&r->queue, QUEUE_BYTES);
	r->env = (struct ax_source_env){ .agent = agent, .queue = &r->queue, .stop = &stop_requested };
	return create_sources(r);
}

/* ---- source threads ---- */

static void *source_thread(void *arg)
{
	struct run_source *s = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the pipeline thread's */
	ax_thread_background("src", s->sec->name);
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

static void consume(struct run *r, struct ax_unit *u)
{
	struct ax_origin origin = u->origin;
	struct run_source *s = source_of(r, u);
	uint64_t in = s->counts.records, dead = s->counts.dead_lettered;
	origin.host = r->host;
	origin.version = AX_VERSION;
	ax_pipeline_consume(&r->pipeline, u, &origin, &s->counts);
	ax_metrics_source_records(s->metrics, s->counts.records - in, s->counts.dead_lettered - dead);
}

static int start_senders(struct run *r)
{
	/* A live source waits for its receivers as long as it takes; a replay
	 * gives up after shutdown_timeout. */
	int64_t patience = r->replay ? r->cfg->agent.shutdown_timeout : INT64_MAX / 2;
	for (size_t i = 0; i < r->noutputs; i++) {
		ax_err err;
		struct ax_spool_reader *rd = ax_spool_reader_open(r->spool, r->outputs[i]->name, &err);
		if (!rd || ax_sender_start(&r->senders[i], rd, patience)) {
			ax_spool_reader_close(rd);
			ax_error(r->outputs[i]->name, "cannot start");
			return AX_EXIT_FAILURE;
		}
	}
	return AX_EXIT_OK;
}

static bool senders_settled(struct run *r)
{
	for (size_t i = 0; i < r->noutputs; i++)
		if (!ax_sender_settled(&r->senders[i]))
			return false;
	return true;
}

static bool a_sender_gave_up(struct run *r)
{
	for (size_t i = 0; i < r->noutputs; i++)
		if (atomic_load(&r->senders[i].state) != AX_SENDER_RUNNING &&
		    atomic_load(&r->senders[i].state) != AX_SENDER_DONE)
			return true;
	return false;
}

/* A replay is over when everything read was spooled and delivered. */
static bool replay_over(struct run *r)
{
	return sources_finished(r) && ax_pipeline_settled(&r->pipeline) && senders_settled(r);
}

/* A valid new config ends this run for a new one; an invalid one is refused. */
static bool reload_ready(struct run *r, const char *path)
{
	reload_requested = 0;
	ax_info("run", "SIGHUP: reloading %s", path);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading %s", path);
	if (load_config(path, &r->next_cfg, &r->next_rules)) {
		ax_error("run", "reload refused: %s is not valid (see above); the running configuration stays", path);
		sd_notifyf(0, "READY=1\nSTATUS=reload refused: %s is not valid; the running configuration stays", path);
		return false;
	}
	return true;
}

static void pipeline(struct run *r, const char *path)
{
	while (!stop_requested && !(r->replay && a_sender_gave_up(r))) {
		if (reload_requested && reload_ready(r, path))
			break;
		bool waiting = !ax_pipeline_settled(&r->pipeline);
		/* a replay whose sources are done waits for its senders: nothing wakes the queue then */
		bool ending = r->replay && sources_finished(r);
		struct ax_unit *u = ax_queue_pop(&r->queue, waiting && r->pipeline.on_ack ? ACK_POLL_MS
								: waiting ? 0 : ending ? END_POLL_MS : POP_WAIT_MS);
		if (u)
			consume(r, u);
		ax_pipeline_settle(&r->pipeline, !u);
		ax_pipeline_tick(&r->pipeline);
		if (!u && r->replay && replay_over(r))
			break;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stop: the sources end, what they queued is spooled, the outputs get
 * timeout ms to deliver what is spooled. */
static void drain(struct run *r, int64_t timeout)
{
	if (stop_requested) {
		ax_info("run", "stopping: delivering what was read (at most %llds)", (long long)timeout / 1000);
		sd_notifyf(0, "STOPPING=1\nSTATUS=stopping: delivering what was read (at most %llds)",
			   (long long)timeout / 1000);
	}
	stop_requested = 1;
	ax_queue_close(&r->queue);
	for (size_t i = 0; i < r->nsources; i++)
		if (r->sources[i].started)
			pthread_join(r->sources[i].thread, NULL);
	struct ax_unit *u;
	while ((u = ax_queue_pop(&r->queue, 0)))
		consume(r, u);
	ax_pipeline_settle(&r->pipeline, true);
	for (size_t i = 0; i < r->noutputs; i++)
		ax_sender_stop(&r->senders[i], false);
	for (int64_t end = now_ms() + timeout; now_ms() < end && !senders_settled(r);) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
		ax_pipeline_settle(&r->pipeline, true);
	}
	for (size_t i = 0; i < r->noutputs; i++) {
		ax_sender_stop(&r->senders[i], true);
		ax_sender_join(&r->senders[i]);
	}
	ax_pipeline_settle(&r->pipeline, true);
	ax_pipeline_abandon(&r->pipeline);
}

static void flush_outputs(struct run *r)
{
	for (size_t i = 0; i < r->noutputs; i++)
		if (ax_output_flush(r->outputs[i], r->cfg->agent.shutdown_timeout))
			ax_warn(r->outputs[i]->name, "flush did not finish within shutdown_timeout");
}

/* A replay fails when an output did not get everything; a stopped live
 * run leaves what is undelivered in the spool. */
static int report(const struct run *r)
{
	int rc = AX_EXIT_OK;
	for (size_t i = 0; i < r->nsources; i++)
		ax_info(r->sources[i].sec->name, "%llu records read, %llu dead-lettered",
			(unsigned long long)r->sources[i].counts.records,
			(unsigned long long)r->sources[i].counts.dead_lettered);
	for (size_t i = 0; i < r->noutputs; i++) {
		const struct ax_sender *s = &r->senders[i];
		const struct ax_delivery *d = &s->delivery;
		ax_info(d->out->name, "%llu records routed, %llu delivered, %llu dead-lettered",
			(unsigned long long)d->routed, (unsigned long long)d->delivered,
			(unsigned long long)d->dead_lettered);
		int state = atomic_load(&s->state);
		if (state == AX_SENDER_DONE)
			continue;
		if (!r->replay && state != AX_SENDER_DEAD) {
			ax_warn(d->out->name, "stopped with records still to deliver; %s", r->cfg->agent.spool ==
				AX_SPOOL_DISK ? "they wait in the spool for the next start"
				: "their sources send them again at the next start");
			continue;
		}
		ax_error(d->out->name, "%s: %llu records not delivered: %s", state == AX_SENDER_DEAD ? "output failed"
			 : "receiver unreachable past shutdown_timeout",
			 (unsigned long long)(d->routed - d->delivered - d->dead_lettered), d->last_error);
		rc = AX_EXIT_FAILURE;
	}
	return rc;
}

static void cleanup(struct run *r, bool last)
{
	for (size_t i = 0; i < r->nsources; i++)
		if (r->sources[i].src)
			r->sources[i].src->ops->destroy(r->sources[i].src);
	for (size_t i = 0; i < r->noutputs; i++) {
		ax_delivery_finish(&r->senders[i].delivery);
		ax_output_destroy(r->outputs[i]);
	}
	if (r->env.queue)
		ax_queue_finish(&r->queue);
	free(r->sources);
	free(r->outputs);
	free(r->senders);
	ax_metrics_set_spool(NULL, 0);
	ax_spool_close(r->spool);
	ax_evidence_destroy(r->evidence); /* saves the ledger: every sender is joined */
	ax_pipeline_finish(&r->pipeline);
	ax_deadletter_close(&r->dl);
	ax_rules_destroy(r->rules);
	ax_config_destroy(r->cfg);
	if (last) /* a reloaded config's outputs use them */
		ax_output_plugins_unload();
	if (r->lock_fd >= 0)
		close(r->lock_fd);
}

/* One run of a config; true when a reload asks for another (in *cfg). */
static bool run_config(const char *path, struct ax_config **cfg, struct ax_rules **rules, int *rc)
{
	struct run r = { .lock_fd = -1 };
	*rc = setup(&r, *cfg, *rules);
	if (*rc == AX_EXIT_OK)
		*rc = start_senders(&r);
	if (*rc == AX_EXIT_OK)
		*rc = start_sources(&r);
	if (*rc == AX_EXIT_OK) {
		sd_notifyf(0, "READY=1\nSTATUS=running: %zu sources, %zu outputs", r.nsources, r.noutputs);
		pipeline(&r, path);
	}
	if (stop_requested && r.next_cfg) { /* a stop came with the reload: the stop wins */
		ax_rules_destroy(r.next_rules);
		ax_config_destroy(r.next_cfg);
		r.next_cfg = NULL;
		r.next_rules = NULL;
	}
	bool reload = r.next_cfg != NULL;
	if (r.env.queue) {
		/* a reload only lets the batches in flight finish: the rest waits in the spool */
		drain(&r, reload ? 0 : r.cfg->agent.shutdown_timeout);
		flush_outputs(&r);
	}
	if (*rc == AX_EXIT_OK && !reload)
		*rc = report(&r);
	*cfg = r.next_cfg;
	*rules = r.next_rules;
	cleanup(&r, !reload);
	stop_requested = 0;
	return reload && *rc == AX_EXIT_OK;
}

int ax_cmd_run(int argc, char **argv)
{
	const char *path = NULL;
	struct ax_config *cfg;
	struct ax_rules *rules;
	int rc = parse_args(argc, argv, &path);
	if (rc)
		return rc;
	catch_signals();
	if ((rc = load_config(path, &cfg, &rules)))
		return rc;
	while (run_config(path, &cfg, &rules, &rc))
		ax_info("run", "configuration reloaded from %s", path);
	ax_metrics_shutdown();
	return rc;
}

/* annexa run -c FILE: sources → decode → map → enrich → route → outputs.
 *
 * One pipeline thread. When every source is a file with follow = false,
 * the run is a replay: it ends once every record was delivered to every
 * output whose filter it passes, and fails if an output stayed unreachable
 * for shutdown_timeout. SIGTERM and SIGINT stop reading; what was read is
 * still delivered within shutdown_timeout. */
#include <getopt.h>
#include <signal.h>
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
#include "sources/file_source.h"
#include "version.h"

#define LINES_PER_TURN 256
#define IDLE_MS 200

struct run_source {
	const struct ax_section_conf *sec;
	struct ax_file_source *file;
	struct ax_origin origin;
	bool done;
	uint64_t records, dead_lettered;
};

struct run {
	struct ax_config *cfg;
	struct ax_rules *rules;
	struct ax_processor proc;
	struct ax_deadletter dl;
	struct run_source *sources;
	struct ax_output **outputs;
	struct ax_delivery *deliveries;
	size_t nsources, noutputs;
	bool replay;
};

static volatile sig_atomic_t stop_requested;

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

static int open_sources(struct run *r)
{
	const struct ax_agent_conf *agent = &r->cfg->agent;
	r->sources = calloc(r->cfg->nsources ? r->cfg->nsources : 1, sizeof(*r->sources));
	if (!r->sources)
		return AX_EXIT_FAILURE;
	r->replay = true;
	for (size_t i = 0; i < r->cfg->nsources; i++) {
		const struct ax_section_conf *sec = &r->cfg->sources[i];
		struct run_source *s = &r->sources[r->nsources];
		if (strcmp(sec->kind->name, "file") != 0) {
			ax_error(sec->name, "%s:%d: source type '%s' is not available in annexa %s yet; use type = file",
				 r->cfg->path, sec->line, sec->kind->name, AX_VERSION);
			return AX_EXIT_USAGE;
		}
		const struct ax_file_source_conf *fc = sec->conf;
		ax_err err;
		s->sec = sec;
		s->file = ax_file_source_open(sec->name, fc, agent->max_record_size, &err);
		if (!s->file)
			return AX_EXIT_FAILURE;
		s->origin = (struct ax_origin){
			.source = sec->name, .type = "file", .host = ax_host_name(agent->host), .version = AX_VERSION,
		};
		r->replay = r->replay && !fc->follow;
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
	if (ax_processor_init(&r->proc, r->rules, (unsigned)agent->max_depth, agent->max_record_size))
		return AX_EXIT_FAILURE;
	if (ax_deadletter_open(&r->dl, agent->dead_letter[0] ? agent->dead_letter : NULL)) {
		ax_error("run", "cannot open the dead-letter file %s (set [agent] dead_letter to a writable path)",
			 agent->dead_letter);
		return AX_EXIT_FAILURE;
	}
	rc = create_outputs(r);
	return rc ? rc : open_sources(r);
}

static void dead_letter_line(struct run *r, struct run_source *s, const struct ax_line *line,
			     const char *reason)
{
	if (ax_deadletter_write_line(&r->dl, s->sec->name, line, reason))
		ax_error("run", "cannot write to the dead-letter file");
	s->dead_lettered++;
}

static void route(struct run *r, const struct ax_record *rec)
{
	for (size_t i = 0; i < r->noutputs; i++)
		ax_delivery_add(&r->deliveries[i], rec, r->cfg->agent.shutdown_timeout);
}

static void handle_line(struct run *r, struct run_source *s, const struct ax_line *line)
{
	char reason[160];
	if (ax_line_is_blank(line))
		return;
	s->records++;
	if (line->oversized) {
		snprintf(reason, sizeof(reason), "record of %llu bytes exceeds max_record_size (%llu bytes)",
			 (unsigned long long)line->full_len, (unsigned long long)r->cfg->agent.max_record_size);
		dead_letter_line(r, s, line, reason);
	} else if (ax_process(&r->proc, line->data, line->len, &s->origin)) {
		dead_letter_line(r, s, line, r->proc.reason);
	} else {
		route(r, &r->proc.record);
	}
}

/* Up to LINES_PER_TURN lines of one source. Returns false when it had nothing. */
static bool pull(struct run *r, struct run_source *s)
{
	struct ax_line line;
	for (int n = 0; n < LINES_PER_TURN && !stop_requested; n++) {
		ax_err err = ax_file_source_next(s->file, &line);
		if (err == AX_ERR_AGAIN)
			return n > 0;
		if (err) {
			s->done = true; /* the end, or a read error already logged */
			return n > 0;
		}
		handle_line(r, s, &line);
	}
	return true;
}

static bool any_output_dead(const struct run *r)
{
	for (size_t i = 0; i < r->noutputs; i++)
		if (r->deliveries[i].state != AX_DELIVERY_OK)
			return true;
	return false;
}

static void send_all(struct run *r, int64_t patience_ms)
{
	for (size_t i = 0; i < r->noutputs; i++)
		ax_delivery_send(&r->deliveries[i], patience_ms);
}

static void idle(void)
{
	struct timespec ts = { 0, IDLE_MS * 1000000L };
	nanosleep(&ts, NULL);
}

static void pipeline(struct run *r)
{
	while (!stop_requested && !(r->replay && any_output_dead(r))) {
		bool busy = false, open = false;
		for (size_t i = 0; i < r->nsources; i++) {
			if (r->sources[i].done)
				continue;
			busy = pull(r, &r->sources[i]) || busy;
			open = open || !r->sources[i].done;
		}
		if (!open)
			break;
		if (!busy) { /* following and nothing new: deliver what is waiting */
			send_all(r, r->cfg->agent.shutdown_timeout);
			idle();
		}
	}
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
	for (size_t i = 0; i < r->noutputs; i++) {
		ax_delivery_finish(&r->deliveries[i]);
		ax_output_destroy(r->outputs[i]);
	}
	for (size_t i = 0; i < r->nsources; i++)
		ax_file_source_close(r->sources[i].file);
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
	if (rc == AX_EXIT_OK) {
		pipeline(&r);
		if (stop_requested)
			ax_info("run", "stopping: delivering what was read (at most %llds)",
				(long long)r.cfg->agent.shutdown_timeout / 1000);
		stop_requested = 0; /* the final delivery must not be cut short by the stop itself */
		send_all(&r, r.cfg->agent.shutdown_timeout);
		for (size_t i = 0; i < r.noutputs; i++)
			if (ax_output_flush(r.outputs[i], r.cfg->agent.shutdown_timeout))
				ax_warn(r.outputs[i]->name, "flush did not finish within shutdown_timeout");
		rc = report(&r);
	}
	cleanup(&r);
	return rc;
}

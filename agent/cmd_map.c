/* annexa map: stdin JSON lines → stdout enriched JSON lines, no network. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "deadletter.h"
#include "enrich.h"
#include "lines.h"
#include "log.h"
#include "rules.h"
#include "version.h"

struct map_run {
	struct ax_agent_conf agent;
	struct ax_strlist rule_files;
	const char *dead_letter;
	struct ax_rules *rules;
	/* Records are sealed in groups (ax_process_seal_n): proc[0..held)
	 * hold the group's first ones while the next renders. */
	struct ax_processor proc[AX_CHAIN_GROUP];
	struct ax_kit kit; /* lent to each: one match cache, warm for all */
	struct ax_seal seal[AX_CHAIN_GROUP];
	size_t held;
	struct ax_deadletter dl;
	struct ax_line_reader lines;
	struct ax_origin origin;
	struct ax_buf stream; /* map's own stream (chain.h): numbered from 1 at each run */
	struct ax_link link;
	uint64_t records, enriched;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: annexa map [--dead-letter FILE] [--rules FILE]... [--max-record-size SIZE] [--max-depth N]\n"
		   "Reads Microsoft 365 records as JSON lines on stdin and writes them, enriched with\n"
		   "their ISO/IEC 27001 controls, to stdout. Bad records go to the dead-letter file.\n");
}

static int parse_args(struct map_run *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dead-letter", required_argument, NULL, 'd' },
		{ "rules", required_argument, NULL, 'r' },
		{ "max-record-size", required_argument, NULL, 's' },
		{ "max-depth", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[256];
	const struct ax_option *size_opt = NULL, *depth_opt = NULL;
	for (const struct ax_option *o = ax_agent_options; o->name; o++) {
		if (strcmp(o->name, "max_record_size") == 0)
			size_opt = o;
		if (strcmp(o->name, "max_depth") == 0)
			depth_opt = o;
	}
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char **items;
		switch (c) {
		case 'd':
			m->dead_letter = optarg;
			break;
		case 'r':
			items = realloc(m->rule_files.items, (m->rule_files.count + 1) * sizeof(*items));
			if (!items)
				return AX_EXIT_FAILURE;
			m->rule_files.items = items;
			items[m->rule_files.count++] = optarg;
			break;
		case 's':
		case 'D':
			if (ax_option_set(c == 's' ? size_opt : depth_opt, &m->agent, optarg, optarg, why, sizeof(why))) {
				fprintf(stderr, "annexa map: --%s: %s\n", c == 's' ? "max-record-size" : "max-depth", why);
				return AX_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			exit(AX_EXIT_OK);
		default:
			usage(stderr);
			return AX_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "annexa map: unexpected argument '%s' (input comes from stdin)\n", argv[optind]);
		return AX_EXIT_USAGE;
	}
	return AX_EXIT_OK;
}

static int setup(struct map_run *m)
{
	struct ax_diag diag;
	ax_diag_init(&diag);
	m->rules = ax_rules_load(&m->rule_files, &diag);
	ax_diag_print(&diag, stderr);
	ax_diag_finish(&diag);
	if (!m->rules)
		return AX_EXIT_USAGE;
	if (ax_kit_init(&m->kit, m->rules, (unsigned)m->agent.max_depth))
		return AX_EXIT_FAILURE;
	for (size_t k = 0; k < AX_CHAIN_GROUP; k++) {
		if (ax_processor_init_lent(&m->proc[k], m->rules, m->agent.max_record_size))
			return AX_EXIT_FAILURE;
		m->proc[k].kit = &m->kit;
	}
	if (ax_deadletter_open(&m->dl, m->dead_letter) ||
	    ax_lines_init(&m->lines, STDIN_FILENO, m->agent.max_record_size))
		return AX_EXIT_FAILURE;
	m->origin = (struct ax_origin){
		.source = "stdin", .type = "map", .host = ax_host_name(m->agent.host), .version = AX_VERSION,
	};
	ax_buf_init(&m->stream, 4096);
	return ax_chain_stream_name(&m->origin, &m->stream) ? AX_EXIT_FAILURE : AX_EXIT_OK;
}

/* Writes the lines of iov[0..n), however the kernel cuts the writes (a pipe takes what fits). */
static int write_out(struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(STDOUT_FILENO, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ax_error("map", "cannot write to standard output: %s", strerror(w < 0 ? errno : EIO));
			return AX_EXIT_FAILURE;
		}
		size_t done = (size_t)w;
		for (; n > 0 && done >= iov->iov_len; iov++, n--)
			done -= iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return AX_EXIT_OK;
}

static int dead_letter(struct map_run *m, const struct ax_line *line, const char *reason)
{
	return ax_deadletter_write_line(&m->dl, m->origin.source, line, reason) ? AX_EXIT_FAILURE : AX_EXIT_OK;
}

static int seal_failed(struct map_run *m)
{
	ax_error("map", "%s", m->proc[0].reason);
	return AX_EXIT_FAILURE;
}

/* Seals the records held and writes them out, in one writev: copying them
 * together first cost more than the call. */
static int put_held(struct map_run *m)
{
	size_t n = m->held;
	if (n == 0)
		return AX_EXIT_OK;
	m->held = 0;
	if (ax_process_seal_n(m->proc, m->seal, n))
		return seal_failed(m);
	m->link = m->seal[n - 1].next;
	struct iovec iov[2 * AX_CHAIN_GROUP];
	for (size_t k = 0; k < n; k++) {
		iov[2 * k] = (struct iovec){ (void *)m->proc[k].record.json, m->proc[k].record.len };
		iov[2 * k + 1] = (struct iovec){ "\n", 1 };
	}
	return write_out(iov, (int)(2 * n));
}

static int handle_line(struct map_run *m, const struct ax_line *line)
{
	if (ax_line_is_blank(line))
		return AX_EXIT_OK;
	m->records++;
	if (line->oversized) {
		char reason[128];
		snprintf(reason, sizeof(reason), "record of %llu bytes exceeds max_record_size (%llu bytes)",
			 (unsigned long long)line->full_len, (unsigned long long)m->agent.max_record_size);
		return dead_letter(m, line, reason);
	}
	struct ax_processor *p = &m->proc[m->held];
	struct ax_seal *seal = &m->seal[m->held];
	*seal = (struct ax_seal){ .stream = m->stream.data, .prev = m->link };
	seal->prev.seq += m->held;
	if (ax_process_numbered(p, line->data, line->len, &m->origin, seal))
		return dead_letter(m, line, p->reason);
	m->enriched++;
	return ++m->held < AX_CHAIN_GROUP ? AX_EXIT_OK : put_held(m);
}

static int run(struct map_run *m)
{
	struct ax_line line;
	ax_err err;
	int rc = AX_EXIT_OK;
	while (rc == AX_EXIT_OK && (err = ax_lines_next(&m->lines, &line)) == AX_OK)
		rc = handle_line(m, &line);
	if (rc == AX_EXIT_OK && err != AX_ERR_LAST) {
		ax_error("map", "cannot read standard input: %s", ax_strerror(err));
		rc = AX_EXIT_FAILURE;
	}
	return rc == AX_EXIT_OK ? put_held(m) : rc;
}

static void cleanup(struct map_run *m)
{
	ax_lines_finish(&m->lines);
	ax_deadletter_close(&m->dl);
	for (size_t k = 0; k < AX_CHAIN_GROUP; k++)
		ax_processor_finish(&m->proc[k]);
	ax_kit_finish(&m->kit);
	ax_buf_finish(&m->stream);
	ax_rules_destroy(m->rules);
	free(m->rule_files.items);
	ax_agent_conf_finish(&m->agent);
}

int ax_cmd_map(int argc, char **argv)
{
	struct map_run m = { 0 };
	if (ax_agent_conf_defaults(&m.agent))
		return AX_EXIT_FAILURE;
	int rc = parse_args(&m, argc, argv);
	if (rc == AX_EXIT_OK)
		rc = setup(&m);
	if (rc == AX_EXIT_OK)
		rc = run(&m);
	if (m.rules)
		ax_info("map", "%llu records: %llu enriched, %llu dead-lettered%s%s",
			(unsigned long long)m.records, (unsigned long long)m.enriched,
			(unsigned long long)m.dl.count, m.dead_letter ? " to " : "",
			m.dead_letter ? m.dead_letter : "");
	cleanup(&m);
	return rc;
}

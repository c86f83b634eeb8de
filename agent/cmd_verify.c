/* annexa verify [--format text|json] [FILE|-]: the records a SIEM exported
 * (JSON lines), checked against their evidence chains (verify.h). Exit 0
 * when nothing is missing, broken, conflicting or unreadable; 1 otherwise;
 * 2 on a usage error or an input that cannot be read. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lines.h"
#include "verify.h"

#define MAX_LINE (256u << 20)
#define TEXT_LIST_MAX 20 /* findings of a kind listed per stream in text; json lists all */

static void usage(FILE *f)
{
	fprintf(f, "usage: annexa verify [--format text|json] [FILE|-]\n"
		   "Reads records annexa emitted (JSON lines, as a SIEM exported them, any order; stdin\n"
		   "without FILE) and checks each stream's seq and chain: reports missing numbers,\n"
		   "broken links, duplicates and conflicting records. Exit 0 when intact, 1 when\n"
		   "something is missing or broken, 2 on a usage error.\n");
}

static int parse_args(int argc, char **argv, const char **path, bool *json)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'f' && (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0)) {
			*json = strcmp(optarg, "json") == 0;
		} else if (c == 'f') {
			fprintf(stderr, "annexa verify: --format: '%s' is not one of text, json\n", optarg);
			return AX_EXIT_USAGE;
		} else if (c == 'h') {
			usage(stdout);
			exit(AX_EXIT_OK);
		} else {
			usage(stderr);
			return AX_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "annexa verify: one input at most ('%s' is extra)\n", argv[optind + 1]);
		return AX_EXIT_USAGE;
	}
	*path = optind < argc ? argv[optind] : "-";
	return AX_EXIT_OK;
}

/* Feeds every line of fd to v; AX_EXIT_USAGE when the input cannot be read. */
static int read_input(struct ax_verify *v, int fd, const char *name)
{
	struct ax_line_reader lines;
	struct ax_line line;
	ax_err err = ax_lines_init(&lines, fd, MAX_LINE);
	while (!err && (err = ax_lines_next(&lines, &line)) == AX_OK) {
		if (line.oversized) /* only its first bytes are kept: its end cannot be checked */
			err = ax_verify_add(v, "?", 1, line.number);
		else
			err = ax_verify_add(v, line.data, line.len, line.number);
	}
	ax_lines_finish(&lines);
	if (err == AX_ERR_LAST)
		return AX_EXIT_OK;
	fprintf(stderr, "annexa verify: cannot read %s: %s\n", name, ax_strerror(err));
	return AX_EXIT_USAGE;
}

static void print_range(const struct ax_verify_range *m)
{
	if (m->first == m->last)
		printf("  missing: seq %" PRIu64 "\n", m->first);
	else
		printf("  missing: seq %" PRIu64 "-%" PRIu64 " (%" PRIu64 ")\n", m->first, m->last,
		       m->last - m->first + 1);
}

static void more(size_t n)
{
	if (n > TEXT_LIST_MAX)
		printf("  ... and %zu more (--format json lists them all)\n", n - TEXT_LIST_MAX);
}

static void print_stream_text(const struct ax_verify_stream *s)
{
	size_t bad = s->missing_count + s->nbroken + s->nconflicts;
	printf("stream %s: %" PRIu64 " records, seq %" PRIu64 "-%" PRIu64, s->name, s->records, s->first, s->last);
	if (bad || s->nduplicates)
		printf(": %" PRIu64 " missing, %zu broken, %zu duplicates, %zu conflicting\n", s->missing_count,
		       s->nbroken, s->nduplicates, s->nconflicts);
	else
		printf(": intact\n");
	if (s->first > 1)
		printf("  (seq %" PRIu64 " is the first in the input: its link to %" PRIu64 " is not checked)\n",
		       s->first, s->first - 1);
	for (size_t i = 0; i < s->nmissing && i < TEXT_LIST_MAX; i++)
		print_range(&s->missing[i]);
	more(s->nmissing);
	for (size_t i = 0; i < s->nbroken && i < TEXT_LIST_MAX; i++) {
		const struct ax_verify_finding *f = &s->broken[i];
		if (f->seq == 1)
			printf("  broken: seq 1, line %" PRIu64 ": does not chain to the start of the stream (the record "
			       "was changed)\n", f->line);
		else
			printf("  broken: seq %" PRIu64 ", line %" PRIu64 ": does not chain to seq %" PRIu64 " (the record, "
			       "or the one before it, was changed)\n", f->seq, f->line, f->seq - 1);
	}
	more(s->nbroken);
	for (size_t i = 0; i < s->nduplicates && i < TEXT_LIST_MAX; i++)
		printf("  duplicate: seq %" PRIu64 ", line %" PRIu64 " (a copy of line %" PRIu64 ")\n",
		       s->duplicates[i].seq, s->duplicates[i].line, s->duplicates[i].other);
	more(s->nduplicates);
	for (size_t i = 0; i < s->nconflicts && i < TEXT_LIST_MAX; i++)
		printf("  conflicting: seq %" PRIu64 ", line %" PRIu64 " (line %" PRIu64 " holds another record "
		       "with this seq)\n", s->conflicts[i].seq, s->conflicts[i].line, s->conflicts[i].other);
	more(s->nconflicts);
}

static void print_text(const struct ax_verify_report *r)
{
	for (size_t i = 0; i < r->nstreams; i++)
		print_stream_text(&r->streams[i]);
	for (size_t i = 0; i < r->nunreadable && i < TEXT_LIST_MAX; i++)
		printf("unreadable: line %" PRIu64 " does not end with an annexa seq and chain\n", r->unreadable[i]);
	more(r->nunreadable);
	printf("annexa verify: %zu streams, %" PRIu64 " records: %" PRIu64 " missing, %" PRIu64 " broken, %" PRIu64
	       " duplicates, %" PRIu64 " conflicting, %zu unreadable lines: %s\n", r->nstreams, r->records, r->missing,
	       r->broken, r->duplicates, r->conflicts, r->nunreadable, ax_verify_clean(r) ? "intact" : "NOT INTACT");
}

static void print_findings(const char *key, const char *other, const struct ax_verify_finding *f, size_t n)
{
	printf(",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"seq\":%" PRIu64 ",\"line\":%" PRIu64, i ? "," : "", f[i].seq, f[i].line);
		if (other)
			printf(",\"%s\":%" PRIu64, other, f[i].other);
		printf("}");
	}
	printf("]");
}

static void print_json(const struct ax_verify_report *r)
{
	printf("{\"intact\":%s,\"records\":%" PRIu64 ",\"missing\":%" PRIu64 ",\"broken\":%" PRIu64
	       ",\"duplicates\":%" PRIu64 ",\"conflicts\":%" PRIu64 ",\"unreadable\":[", ax_verify_clean(r) ? "true" : "false",
	       r->records, r->missing, r->broken, r->duplicates, r->conflicts);
	for (size_t i = 0; i < r->nunreadable; i++)
		printf("%s%" PRIu64, i ? "," : "", r->unreadable[i]);
	printf("],\"streams\":[");
	for (size_t i = 0; i < r->nstreams; i++) {
		const struct ax_verify_stream *s = &r->streams[i];
		/* the name is JSON string content already, as the records carry it */
		printf("%s{\"stream\":\"%s\",\"records\":%" PRIu64 ",\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64
		       ",\"missing_count\":%" PRIu64 ",\"missing\":[", i ? "," : "", s->name, s->records, s->first, s->last,
		       s->missing_count);
		for (size_t k = 0; k < s->nmissing; k++)
			printf("%s{\"first\":%" PRIu64 ",\"last\":%" PRIu64 "}", k ? "," : "", s->missing[k].first,
			       s->missing[k].last);
		printf("]");
		print_findings("broken", NULL, s->broken, s->nbroken);
		print_findings("duplicates", "copy_of", s->duplicates, s->nduplicates);
		print_findings("conflicts", "other_line", s->conflicts, s->nconflicts);
		printf("}");
	}
	printf("]}\n");
}

int ax_cmd_verify(int argc, char **argv)
{
	const char *path = NULL;
	bool json = false;
	int rc = parse_args(argc, argv, &path, &json);
	if (rc)
		return rc;
	bool stdin_in = strcmp(path, "-") == 0;
	int fd = stdin_in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return AX_EXIT_USAGE;
	}
	struct ax_verify *v = ax_verify_create();
	const struct ax_verify_report *r = NULL;
	rc = v ? read_input(v, fd, stdin_in ? "standard input" : path) : AX_EXIT_FAILURE;
	if (rc == AX_EXIT_OK && ax_verify_finish(v, &r)) {
		fprintf(stderr, "annexa verify: out of memory\n");
		rc = AX_EXIT_FAILURE;
	}
	if (rc == AX_EXIT_OK) {
		if (json)
			print_json(r);
		else
			print_text(r);
		rc = ax_verify_clean(r) ? AX_EXIT_OK : AX_EXIT_FAILURE;
	}
	if (fflush(stdout) != 0 && rc == AX_EXIT_OK)
		rc = AX_EXIT_FAILURE;
	ax_verify_destroy(v);
	if (!stdin_in)
		close(fd);
	return rc;
}

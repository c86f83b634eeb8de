/* annexa report -c FILE [--since 30d|DATE] [--until DATE] [--format text|csv|json|html] [-o FILE]:
 * the evidence ledger of the config's state_dir over a period of UTC days
 * (report.h). It reads the ledger as `annexa run` last saved it (every
 * [evidence] flush_interval), so it may run beside the agent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "diag.h"
#include "ledger.h"
#include "report.h"

#define MAX_DAYS 3660

static void usage(FILE *f)
{
	fprintf(f, "usage: annexa report -c FILE [--since 30d|YYYY-MM-DD] [--until YYYY-MM-DD]\n"
		   "                     [--format text|csv|json|html] [-o FILE]\n"
		   "Per ISO/IEC 27001:2022 control, from the evidence ledger in the config's state_dir: days with\n"
		   "evidence, record counts, gap days and evidence_gap records, sources; per theme, how many\n"
		   "controls had evidence. --since: days back from --until (default today, UTC), both days in;\n"
		   "html is one self-contained page with a heatmap of controls x days, readable printed.\n");
}

struct args {
	const char *config, *since, *until, *output;
	enum ax_report_format format;
};

static bool parse_format(const char *s, enum ax_report_format *f)
{
	static const char *const names[] = { "text", "csv", "json", "html" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum ax_report_format)i;
			return true;
		}
	return false;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },  { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*a = (struct args){ .since = "30d", .format = AX_REPORT_TEXT };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 's': a->since = optarg; break;
		case 'u': a->until = optarg; break;
		case 'o': a->output = optarg; break;
		case 'f':
			if (!parse_format(optarg, &a->format)) {
				fprintf(stderr, "annexa report: unknown format '%s' (text, csv, json, html)\n", optarg);
				return AX_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); exit(AX_EXIT_OK);
		default: usage(stderr); return AX_EXIT_USAGE;
		}
	}
	if (!a->config || optind < argc) {
		usage(stderr);
		return AX_EXIT_USAGE;
	}
	return AX_EXIT_OK;
}

/* The period: --until (default today) and --since (a duration in whole
 * days back, both ends in, or a first day). */
static int period(const struct args *a, int64_t now, int32_t *first, int32_t *last)
{
	*last = ax_ledger_day(now);
	if (a->until && !ax_ledger_day_parse(a->until, last)) {
		fprintf(stderr, "annexa report: --until %s: expected a day, YYYY-MM-DD\n", a->until);
		return AX_EXIT_USAGE;
	}
	int64_t ms;
	if (ax_ledger_day_parse(a->since, first)) {
		/* a first day */
	} else if (ax_parse_duration(a->since, &ms) == AX_OK && ms >= 86400000 && ms % 86400000 == 0) {
		*first = *last - (int32_t)(ms / 86400000) + 1;
	} else {
		fprintf(stderr, "annexa report: --since %s: expected whole days (30d) or a first day, YYYY-MM-DD\n",
			a->since);
		return AX_EXIT_USAGE;
	}
	if (*first > *last || *last - *first >= MAX_DAYS) {
		fprintf(stderr, "annexa report: the period must hold 1 to %d days\n", MAX_DAYS);
		return AX_EXIT_USAGE;
	}
	return AX_EXIT_OK;
}

static int write_out(const char *path, const struct ax_buf *b)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "annexa report: cannot write %s: %s\n", path, strerror(errno));
		return AX_EXIT_FAILURE;
	}
	bool ok = fwrite(b->data, 1, b->len, f) == b->len;
	if (path)
		ok = fclose(f) == 0 && ok;
	else
		ok = fflush(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "annexa report: cannot write %s\n", path ? path : "to stdout");
	return ok ? AX_EXIT_OK : AX_EXIT_FAILURE;
}

static int report(const struct args *a, const struct ax_config *cfg, const struct ax_catalog *cat, int32_t first,
		  int32_t last, int64_t now)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/ledger/ledger.jsonl", cfg->agent.state_dir);
	FILE *probe = fopen(path, "r");
	if (!probe) {
		fprintf(stderr, "annexa report: cannot read the evidence ledger %s: %s (has `annexa run` run with this "
				"state_dir?)\n", path, strerror(errno));
		return AX_EXIT_FAILURE;
	}
	fclose(probe);
	ax_err err;
	size_t skipped = 0;
	struct ax_ledger *l = ax_ledger_open(path, cat, MAX_DAYS, &skipped, &err);
	if (!l) {
		fprintf(stderr, "annexa report: cannot read %s: %s\n", path, ax_strerror(err));
		return AX_EXIT_FAILURE;
	}
	if (skipped)
		fprintf(stderr, "annexa report: warning: %zu lines of %s could not be read and are left out\n", skipped,
			path);
	struct ax_report r;
	struct ax_buf out;
	ax_buf_init(&out, 1u << 30);
	err = ax_report_build(&r, l, first, last, now);
	if (!err)
		err = ax_report_render(&r, a->format, &out);
	int rc = err ? AX_EXIT_FAILURE : write_out(a->output, &out);
	if (err)
		fprintf(stderr, "annexa report: %s\n", ax_strerror(err));
	ax_buf_finish(&out);
	ax_report_finish(&r);
	ax_ledger_close(l);
	return rc;
}

int ax_cmd_report(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, &a);
	int64_t now = (int64_t)time(NULL);
	int32_t first, last;
	if (rc || (rc = period(&a, now, &first, &last)))
		return rc;
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(a.config, &diag);
	struct ax_catalog cat = { 0 };
	bool have_cat = cfg && ax_catalog_load(&cat, &diag) == AX_OK;
	ax_diag_print(&diag, stderr);
	ax_diag_finish(&diag);
	rc = !cfg ? AX_EXIT_USAGE : !have_cat ? AX_EXIT_FAILURE : report(&a, cfg, &cat, first, last, now);
	ax_catalog_finish(&cat);
	ax_config_destroy(cfg);
	return rc;
}

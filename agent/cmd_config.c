/* annexa check-config: validates a config file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "route.h"
#include "rules.h"

static int check_file(const char *path)
{
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(path, &diag);
	struct ax_rules *rules = cfg ? ax_rules_load(&cfg->agent.mapping_files, &diag) : NULL;
	size_t before = diag.count;
	if (rules)
		ax_route_validate(cfg, rules, &diag);
	if (diag.count > before) {
		ax_rules_destroy(rules);
		rules = NULL;
	}
	ax_diag_print(&diag, stderr);
	int rc = rules ? AX_EXIT_OK : AX_EXIT_USAGE;
	if (rules) {
		printf("%s: OK: %zu source(s), %zu output(s), %zu mapping rules (%s)\n", path,
		       cfg->nsources, cfg->noutputs, rules->count, rules->mapping_version);
		for (size_t i = 0; i < cfg->nsources; i++)
			printf("  source \"%s\" (%s)\n", cfg->sources[i].name, cfg->sources[i].kind->name);
		for (size_t i = 0; i < cfg->noutputs; i++)
			printf("  output \"%s\" (%s)\n", cfg->outputs[i].name, cfg->outputs[i].kind->name);
	} else {
		fprintf(stderr, "%s: %zu error(s)\n", path, diag.count);
	}
	ax_rules_destroy(rules);
	ax_config_destroy(cfg);
	ax_diag_finish(&diag);
	return rc;
}

int ax_cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c') {
			fprintf(stderr, "usage: annexa check-config -c FILE\n");
			return AX_EXIT_USAGE;
		}
		path = optarg;
	}
	if (!path || optind < argc) {
		fprintf(stderr, "usage: annexa check-config -c FILE\n");
		return AX_EXIT_USAGE;
	}
	return check_file(path);
}

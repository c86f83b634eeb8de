/* annexa check-config and annexa options: the config file and its reference. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "outputs/output.h"
#include "route.h"
#include "rules.h"
#include "sources/source.h"

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

/* ---- the option reference, generated from the tables ---- */

static void print_value_list(const char *const *values)
{
	for (size_t i = 0; values[i]; i++)
		printf("%s`%s`", i ? ", " : "", values[i]);
}

static void print_option(const struct ax_option *o)
{
	const char *suffix = o->type == AX_OPT_PREFIX ? "*" : "";
	printf("| `%s%s` | %s | ", o->name, suffix, ax_option_type_name(o->type));
	if (o->flags & AX_OPT_REQUIRED)
		printf("required");
	else if (o->def && o->def[0])
		printf("`%s`", o->def);
	else
		printf("(empty)");
	printf(" | %s", o->description);
	if (o->values) {
		printf(" One of: ");
		print_value_list(o->values);
		printf(".");
	}
	if (o->type == AX_OPT_SECRET)
		printf(" Also `%s_file`: a file holding the value.", o->name);
	printf(" |\n");
}

static void print_tables(const char *heading, const char *description,
			 const struct ax_option *const *tables)
{
	printf("\n### %s\n\n%s\n\n| key | type | default | description |\n|---|---|---|---|\n",
	       heading, description);
	for (; *tables; tables++)
		for (const struct ax_option *o = *tables; o->name; o++)
			print_option(o);
}

int ax_cmd_options(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char heading[128];
	const struct ax_option *const agent[] = { ax_agent_options, NULL };
	print_tables("[agent]", "Settings of the agent itself.", agent);
	for (size_t i = 0; ax_source_kinds[i]; i++) {
		snprintf(heading, sizeof(heading), "[source \"NAME\"] type = %s", ax_source_kinds[i]->name);
		print_tables(heading, ax_source_kinds[i]->description, ax_source_kinds[i]->tables);
	}
	for (size_t i = 0; ax_output_builtins[i]; i++) {
		const struct ax_conf_kind *k = &ax_output_builtins[i]->conf;
		snprintf(heading, sizeof(heading), "[output \"NAME\"] type = %s", k->name);
		print_tables(heading, k->description, k->tables);
	}
	return AX_EXIT_OK;
}

/* annexa: ISO/IEC 27001 evidence from Microsoft 365, for the SIEM you own. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: annexa COMMAND [OPTIONS]\n\n"
		"commands:\n"
		"  run           -c FILE: pull from the sources, deliver to the outputs\n"
		"  map           stdin JSON lines -> stdout enriched JSON lines (no network)\n"
		"  check-config  -c FILE: validate a config file, print every error as FILE:LINE\n"
		"  controls      list the ISO/IEC 27001:2022 controls and the rules evidencing each\n"
		"  options       print every config key, from the option tables (--format markdown|ini|json)\n"
		"  --version     print the version\n"
		"  --help        print this help\n\n"
		"exit codes: 0 ok, 1 runtime failure, 2 usage or config error\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "run", ax_cmd_run },
		{ "map", ax_cmd_map },
		{ "check-config", ax_cmd_check_config },
		{ "controls", ax_cmd_controls },
		{ "options", ax_cmd_options },
	};
	if (argc < 2) {
		usage(stderr);
		return AX_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("annexa %s\n", AX_VERSION);
		return AX_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return AX_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "annexa: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return AX_EXIT_USAGE;
}

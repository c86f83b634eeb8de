/* annexa: ISO/IEC 27001 evidence from Microsoft 365, for the SIEM you own. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: annexa COMMAND [OPTIONS]\n\n"
		"commands:\n"
		"  run           -c FILE [--allow-root]: pull from the sources, deliver to the outputs\n"
		"  map           stdin JSON lines -> stdout enriched JSON lines (no network)\n"
		"  check-config  -c FILE: validate a config file, print every error as FILE:LINE\n"
		"  controls      list the ISO/IEC 27001:2022 controls and the rules evidencing each\n"
		"  options       print every config key, from the option tables (--format markdown|ini|json)\n"
		"  report        -c FILE [--since 30d] [--format text|csv|json|html]: evidence per control from the ledger\n"
		"  verify        [--format text|json] [FILE|-]: check exported records' seq and chain\n"
		"  --version     print the version\n"
		"  --help        print this help\n\n"
		"exit codes: 0 ok, 1 runtime failure, 2 usage or config error\n");
}

/* `annexa run` holds credentials and reads from the internet: it runs as a
 * user of its own (packaging/annexa.service), never as root by accident.
 * --allow-root (or ANNEXA_ALLOW_ROOT=1, for containers and test harnesses
 * that cannot add a flag) says it is meant; the flag is taken out of argv. */
static int check_root(int *argc, char **argv)
{
	bool allowed = false;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--allow-root") == 0) {
			allowed = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
			(*argc)--;
			i--;
		}
	}
	const char *env = getenv("ANNEXA_ALLOW_ROOT");
	allowed = allowed || (env && strcmp(env, "1") == 0);
	if (geteuid() != 0)
		return AX_EXIT_OK;
	if (!allowed) {
		fprintf(stderr, "annexa: refusing to run as root: run it as a user of its own (the packaged "
				"systemd unit does), or pass --allow-root if this is meant\n");
		return AX_EXIT_USAGE;
	}
	fprintf(stderr, "annexa: warning: running as root (--allow-root): a flaw in a parser would own the machine\n");
	return AX_EXIT_OK;
}

/* A core dump of `annexa run` would hold its secrets in the clear: none
 * is written (the hard limit too, so nothing below raises it again). */
static void no_core_dumps(void)
{
	const struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		fprintf(stderr, "annexa: warning: cannot turn core dumps off; one would hold secrets\n");
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
		{ "report", ax_cmd_report },
		{ "verify", ax_cmd_verify },
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
	if (strcmp(argv[1], "run") == 0) {
		int rc = check_root(&argc, argv);
		if (rc != AX_EXIT_OK)
			return rc;
		no_core_dumps();
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "annexa: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return AX_EXIT_USAGE;
}

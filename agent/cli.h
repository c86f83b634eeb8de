/* cli.h - the subcommands of the annexa program. Each returns the exit code:
 * 0 ok, 1 runtime failure, 2 usage or config error. */
#ifndef AX_AGENT_CLI_H
#define AX_AGENT_CLI_H

#define AX_EXIT_OK 0
#define AX_EXIT_FAILURE 1
#define AX_EXIT_USAGE 2

#include "host.h"

int ax_cmd_run(int argc, char **argv);
int ax_cmd_map(int argc, char **argv);
int ax_cmd_check_config(int argc, char **argv);
int ax_cmd_controls(int argc, char **argv);
int ax_cmd_options(int argc, char **argv);
int ax_cmd_report(int argc, char **argv);
int ax_cmd_verify(int argc, char **argv);

#endif

/* config.h - the INI config file → validated per-module config structs.
 *
 * The file has one [agent] section, any number of [source "NAME"] and
 * [output "NAME"] sections. Parsing is libinih's; what the keys mean comes
 * from the option tables of the agent and of each source and output type.
 * Every problem is collected as "FILE:LINE: message" in a struct ax_diag. */
#ifndef AX_AGENT_CONFIG_H
#define AX_AGENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "err.h"
#include "evidence_conf.h"
#include "option.h"

/* What a [source] or [output] type needs the config loader to know. */
struct ax_conf_kind {
	const char *name;
	const char *description;
	const struct ax_option *const *tables; /* NULL-terminated */
	size_t conf_size;
	/* Optional: checks that span several keys. */
	void (*validate)(const void *conf, const char *file, int line, struct ax_diag *diag);
};

enum ax_spool_kind { AX_SPOOL_DISK, AX_SPOOL_MEMORY };
enum ax_spool_full { AX_SPOOL_PAUSE, AX_SPOOL_DROP_OLDEST };

struct ax_agent_conf {
	char *state_dir;
	int spool; /* enum ax_spool_kind */
	uint64_t spool_max_size;
	int spool_full;
	bool spool_fsync;
	int64_t spool_compress;
	char *dead_letter;
	struct ax_strlist mapping_files;
	char *plugin_dir;
	char *metrics_listen;
	int64_t health_output_failing; /* ms */
	int64_t health_source_silent;  /* ms */
	int log_level; /* enum ax_log_level */
	int64_t shutdown_timeout;
	uint64_t max_record_size;
	int64_t max_depth;
	char *host;
	bool strict_permissions;
};

struct ax_section_conf {
	char *name;
	int line;
	const struct ax_conf_kind *kind;
	void *conf; /* kind->conf_size bytes, filled by kind->tables */
};

struct ax_config {
	char *path;
	struct ax_agent_conf agent;
	struct ax_evidence_conf evidence;
	int evidence_line; /* of the [evidence] section, 0: none */
	struct ax_section_conf *sources;
	size_t nsources;
	struct ax_section_conf *outputs;
	size_t noutputs;
};

extern const struct ax_option ax_agent_options[];

/* Loads and validates path. Returns NULL when there were errors (all in diag). */
struct ax_config *ax_config_load(const char *path, struct ax_diag *diag);
void ax_config_destroy(struct ax_config *cfg);
/* The agent section with every default applied (for `annexa map` without -c). */
ax_err ax_agent_conf_defaults(struct ax_agent_conf *agent) AX_WARN_UNUSED;
void ax_agent_conf_finish(struct ax_agent_conf *agent);

#endif

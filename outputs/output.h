/* output.h - the output module interface: the whole contract of a module.
 *
 * A module is a `const struct ax_output_ops` (its name, description, option
 * tables and hooks). Built-in modules are listed in output.c; external ones
 * are shared objects in plugin_dir exporting AX_OUTPUT_PLUGIN_SYMBOL with the
 * same struct and abi_version == AX_OUTPUT_ABI_VERSION.
 *
 * Threading: every hook is called from the pipeline thread that owns the
 * instance; a module that runs threads of its own (librdkafka) keeps them
 * inside. Ownership: the batch and its records are borrowed for the call
 * only; copy what you keep. */
#ifndef AX_OUTPUTS_OUTPUT_H
#define AX_OUTPUTS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "option.h"

#define AX_OUTPUT_ABI_VERSION 1
#define AX_OUTPUT_PLUGIN_SYMBOL "ax_output_plugin_v1"

enum ax_severity {
	AX_SEV_INFORMATIONAL,
	AX_SEV_LOW,
	AX_SEV_MEDIUM,
	AX_SEV_HIGH,
	AX_SEV_CRITICAL,
};

/* One enriched record, as the pipeline hands it to outputs. Strings are
 * NUL-terminated; fields absent from the event are "" (never NULL). */
struct ax_record {
	const char *json; /* the enriched record, one line, no newline */
	size_t len;
	const char *id;
	const char *creation_time; /* as in the event */
	const char *workload;
	const char *operation;
	const char *user;
	const char *client_ip;
	const char *category;
	const char *rule; /* the primary mapping rule's id */
	enum ax_severity severity;
	const char *const *controls; /* 2022 ids, direct evidence */
	size_t ncontrols;
	const char *source;       /* source section name */
	const char *content_type;
	const char *tenant;
};

struct ax_batch {
	const struct ax_record *records;
	size_t count;
};

enum ax_output_status {
	AX_OUT_OK = 0, /* every record accepted */
	AX_OUT_RETRY,  /* transient: send the batch again after retry_after_ms */
	AX_OUT_REJECT, /* permanent for the records flagged in rejected[]: dead-letter
			* them; the others were not delivered and are sent again. No
			* flag set: the whole batch is rejected. */
	AX_OUT_FATAL,  /* permanent for the instance (bad credentials, bad topic) */
};

struct ax_output_result {
	enum ax_output_status status;
	int64_t retry_after_ms; /* AX_OUT_RETRY: -1 lets the pipeline back off */
	/* batch->count flags, zeroed by the caller; NULL: the module cannot
	 * single records out and rejects the whole batch. */
	uint8_t *rejected;
	char message[256]; /* for logs and health; never a secret */
};

enum ax_output_state { AX_OUTPUT_UP, AX_OUTPUT_DEGRADED, AX_OUTPUT_DOWN };

struct ax_output_health {
	enum ax_output_state state;
	uint64_t sent;
	uint64_t retried;
	uint64_t rejected;
	int64_t last_success_ms; /* epoch ms, 0: never */
	char last_error[256];
};

struct ax_output;

struct ax_output_ops {
	unsigned abi_version; /* AX_OUTPUT_ABI_VERSION */
	/* name = the `type` of an [output] section; tables and conf_size describe
	 * its keys. The common `match.*` keys are added by the agent. */
	struct ax_conf_kind conf;

	/* Mandatory. Builds an instance from a validated config; no network I/O.
	 * Returns NULL with *err set (and the reason logged) on failure. */
	struct ax_output *(*create)(const char *name, const void *conf, ax_err *err);
	/* Mandatory. Delivers a batch; may block up to the module's own timeout. */
	void (*send)(struct ax_output *out, const struct ax_batch *batch,
		     struct ax_output_result *result);
	/* Optional. Delivers what the module buffers, within deadline_ms. */
	ax_err (*flush)(struct ax_output *out, int64_t deadline_ms);
	/* Optional. Cheap, never blocks. */
	void (*health)(struct ax_output *out, struct ax_output_health *health);
	/* Mandatory. NULL-safe; frees everything. */
	void (*destroy)(struct ax_output *out);
};

/* Every instance starts with this. */
struct ax_output {
	const struct ax_output_ops *ops;
	char *name;
	struct ax_output_health stats;
};

/* Every output's config struct starts with this (the match.* keys). */
struct ax_output_common_conf {
	int min_severity; /* enum ax_severity */
	struct ax_strlist categories;
	struct ax_strlist controls; /* ids or prefixes like "5.*" */
	struct ax_strlist workloads;
};

extern const struct ax_option ax_output_common_options[];
extern const char *const ax_severity_names[]; /* indexed by enum ax_severity */

const struct ax_output_ops *ax_output_find(const char *type);
const struct ax_conf_kind *ax_output_kind_find(const char *type);
void ax_output_kind_names(char *out, size_t len);
/* NULL-terminated list of the built-in modules. */
extern const struct ax_output_ops *const ax_output_builtins[];

/* External modules (outputs/plugin.c). Loads {dir}/{type}.so: returns 0
 * with *ops set, -1 when there is no such file, 1 when it exists but is not
 * a usable module (why says what and names the file). */
int ax_output_plugin_load(const char *dir, const char *type, const struct ax_output_ops **ops,
			  char *why, size_t len);
const struct ax_output_ops *ax_output_plugin_find(const char *type);
void ax_output_plugins_unload(void);

/* Wrappers: default hooks, counters and logging in one place. */
struct ax_output *ax_output_create(const struct ax_output_ops *ops, const char *name,
				   const void *conf, ax_err *err);
void ax_output_send(struct ax_output *out, const struct ax_batch *batch,
		    struct ax_output_result *result);
ax_err ax_output_flush(struct ax_output *out, int64_t deadline_ms) AX_WARN_UNUSED;
/* How many records an AX_OUT_REJECT result rejects. */
size_t ax_output_rejected_count(const struct ax_batch *batch, const struct ax_output_result *result);
void ax_output_destroy(struct ax_output *out);
/* For modules: fills the base struct. */
ax_err ax_output_init_base(struct ax_output *out, const struct ax_output_ops *ops,
			   const char *name) AX_WARN_UNUSED;
void ax_output_finish_base(struct ax_output *out);

#endif

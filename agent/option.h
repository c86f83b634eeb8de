/* option.h - option tables: the one description of every config key.
 *
 * Each module (the agent, each source type, each output type) declares a
 * static table of struct ax_option. The same table drives config parsing and
 * validation, `annexa check-config` messages, `annexa options` (the generated
 * reference in the README and man page) and defaults: a default is written as
 * text and parsed by the same code as user input.
 *
 * Values are stored at `offset` in the module's config struct:
 *   STRING   char *            (NULL when unset without default)
 *   INT      int64_t
 *   BOOL     bool
 *   SIZE     uint64_t          bytes; "512", "64KiB", "4MiB", "1GiB"
 *   DURATION int64_t           milliseconds; "250ms", "30s", "5m", "24h", "7d"
 *   ENUM     int               index into `values`
 *   LIST     struct ax_strlist comma-separated; checked against `values` if set
 *   SECRET   struct ax_secret* key NAME takes the value (usually ${ENV}),
 *                              key NAME_file a file holding it
 *   PREFIX   struct ax_kvlist  every key starting with NAME (e.g. "rdkafka.")
 */
#ifndef AX_AGENT_OPTION_H
#define AX_AGENT_OPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum ax_opt_type {
	AX_OPT_STRING,
	AX_OPT_INT,
	AX_OPT_BOOL,
	AX_OPT_SIZE,
	AX_OPT_DURATION,
	AX_OPT_ENUM,
	AX_OPT_LIST,
	AX_OPT_SECRET,
	AX_OPT_PREFIX,
};

enum ax_opt_flags {
	AX_OPT_REQUIRED = 1 << 0,
};

struct ax_option {
	const char *name;
	enum ax_opt_type type;
	const char *def;           /* default as text, NULL: none */
	unsigned flags;
	size_t offset;             /* into the module's config struct */
	int64_t min, max;          /* INT, SIZE, DURATION (ms); both 0: unbounded */
	const char *const *values; /* ENUM, LIST: allowed values, NULL-terminated */
	const char *description;
};

#define AX_OPTIONS_END { .name = NULL }

struct ax_strlist {
	char **items;
	size_t count;
};

struct ax_kv {
	char *key;
	char *value;
};

struct ax_kvlist {
	struct ax_kv *items;
	size_t count;
};

/* Parses text into the option's field of conf. On failure writes a
 * human-readable reason (never echoing a secret) to why. */
ax_err ax_option_set(const struct ax_option *opt, void *conf, const char *key,
		     const char *text, char *why, size_t why_len) AX_WARN_UNUSED;
/* Finds the option a key belongs to in a NULL-terminated list of tables. */
const struct ax_option *ax_option_find(const struct ax_option *const *tables, const char *key);
/* Appends "a, b, c" (every key the tables accept) to out. */
void ax_option_list_keys(const struct ax_option *const *tables, char *out, size_t len);
/* Applies defaults to every option of the tables. */
ax_err ax_options_defaults(const struct ax_option *const *tables, void *conf) AX_WARN_UNUSED;
/* Frees every string, list and secret the tables put into conf. */
void ax_options_free(const struct ax_option *const *tables, void *conf);
const char *ax_option_type_name(enum ax_opt_type type);
bool ax_strlist_contains(const struct ax_strlist *l, const char *s);

ax_err ax_parse_size(const char *text, uint64_t *out) AX_WARN_UNUSED;
ax_err ax_parse_duration(const char *text, int64_t *ms) AX_WARN_UNUSED;
ax_err ax_parse_bool(const char *text, bool *out) AX_WARN_UNUSED;

#endif

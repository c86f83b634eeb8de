#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "log.h"
#include "metrics.h"
#include "outputs/output.h"
#include "secret.h"
#include "sources/source.h"
#include "watch.h"

static const char *const spool_values[] = { "disk", "memory", NULL };
static const char *const spool_full_values[] = { "pause", "drop_oldest", NULL };
static const char *const log_level_values[] = { "error", "warning", "info", "debug", NULL };

#define AGENT(field) offsetof(struct ax_agent_conf, field)

const struct ax_option ax_agent_options[] = {
	{ "state_dir", AX_OPT_STRING, "/var/lib/annexa", 0, AGENT(state_dir), 0, 0, NULL,
	  "Directory for checkpoints, the spool and the evidence ledger." },
	{ "spool", AX_OPT_ENUM, "disk", 0, AGENT(spool), 0, 0, spool_values,
	  "Where records wait for the outputs: disk (state_dir/spool; a source's checkpoint moves once its records are "
	  "on disk) or memory (nothing on disk; a checkpoint moves only once every output acknowledged, so the "
	  "sources slow down to the slowest output)." },
	{ "spool_max_size", AX_OPT_SIZE, "1GiB", 0, AGENT(spool_max_size), 1048576, INT64_MAX, NULL,
	  "Largest size of the spool." },
	{ "spool_fsync", AX_OPT_BOOL, "true", 0, AGENT(spool_fsync), 0, 0, NULL,
	  "fdatasync the spool before a source's checkpoint moves and before an output takes a frame, so a "
	  "power loss loses nothing and gives no number twice; false leaves that to the kernel (a crash of the "
	  "agent alone still loses nothing)." },
	{ "spool_compress", AX_OPT_INT, "0", 0, AGENT(spool_compress), 0, 9, NULL,
	  "zlib level of the spool's frames, 1-9; 0 stores them as they are. Level 1 shrinks Microsoft 365 "
	  "records about 6x for a few ms of CPU per MiB." },
	{ "spool_full", AX_OPT_ENUM, "pause", 0, AGENT(spool_full), 0, 0, spool_full_values,
	  "What to do when the spool is full: pause the sources, or drop the oldest records that only stalled outputs "
	  "(nothing acknowledged for 5 s) still need: counted, logged and reported as an evidence_gap record. Healthy "
	  "outputs that are merely behind are waited for either way." },
	{ "dead_letter", AX_OPT_STRING, "/var/lib/annexa/dead-letter.jsonl", 0, AGENT(dead_letter), 0, 0, NULL,
	  "JSON-lines file receiving records that could not be decoded or were rejected by an output, with the reason." },
	{ "mapping_files", AX_OPT_LIST, "", 0, AGENT(mapping_files), 0, 0, NULL,
	  "Extra mapping rule files, applied over the built-in rules." },
	{ "plugin_dir", AX_OPT_STRING, "/usr/lib/annexa/plugins", 0, AGENT(plugin_dir), 0, 0, NULL,
	  "Directory searched for external output modules (shared objects)." },
	{ "metrics_listen", AX_OPT_STRING, "127.0.0.1:9469", 0, AGENT(metrics_listen), 0, 0, NULL,
	  "Address of the Prometheus /metrics and /health endpoint; empty turns it off." },
	{ "health_output_failing", AX_OPT_DURATION, "5m", 0, AGENT(health_output_failing), 1000, 604800000, NULL,
	  "/health answers 503 once an output has failed to deliver for this long (at once when it failed for good)." },
	{ "health_source_silent", AX_OPT_DURATION, "15m", 0, AGENT(health_source_silent), 1000, 604800000, NULL,
	  "/health answers 503 once a Microsoft 365 source (one of its content types or Graph lists) has not "
	  "completed a pull for this long, or for 3 of its poll_interval when that is longer." },
	{ "log_level", AX_OPT_ENUM, "info", 0, AGENT(log_level), 0, 0, log_level_values,
	  "Least severe log message written to stderr." },
	{ "shutdown_timeout", AX_OPT_DURATION, "30s", 0, AGENT(shutdown_timeout), 0, 86400000, NULL,
	  "How long outputs may take to deliver what they hold when the agent stops." },
	{ "max_record_size", AX_OPT_SIZE, "4MiB", 0, AGENT(max_record_size), 1024, 1073741824, NULL,
	  "Records larger than this go to the dead-letter file instead of being decoded." },
	{ "max_depth", AX_OPT_INT, "64", 0, AGENT(max_depth), 2, 10000, NULL,
	  "Records nested deeper than this (objects and arrays) go to the dead-letter file." },
	{ "host", AX_OPT_STRING, "", 0, AGENT(host), 0, 0, NULL,
	  "Host name written into annexa.host of every record; empty: the machine's host name." },
	{ "strict_permissions", AX_OPT_BOOL, "false", 0, AGENT(strict_permissions), 0, 0, NULL,
	  "Refuse a secret file (a KEY_file key) that others than its owner and group may read, anyone may write "
	  "(mode wider than 0640), or that belongs to a user other than the agent's or root; false: a warning at "
	  "every start." },
	AX_OPTIONS_END,
};

static const struct ax_option *const agent_tables[] = { ax_agent_options, NULL };
static const struct ax_option *const evidence_tables[] = { ax_evidence_options, NULL };

/* ---- raw sections, as libinih hands them over ---- */

struct raw_entry {
	char *key;
	char *value;
	int line;
};

struct raw_section {
	char *header; /* text between the brackets */
	int line;
	struct raw_entry *entries;
	size_t count;
};

struct reader {
	FILE *file;
	const char *path;
	int line;
	bool continuation; /* the current line starts with white space */
	bool after_key;    /* a key was read since the last section header */
	struct raw_section *sections;
	size_t nsections;
	struct ax_diag *diag;
	bool failed; /* out of memory */
};

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Mirrors libinih: an indented line after a key continues that key's
 * value, even when it looks like a section header. */
static void note_header(struct reader *r, char *line)
{
	char *s = trim(line);
	if (*s != '[' || (r->continuation && r->after_key))
		return;
	char *close = strchr(s, ']');
	if (!close)
		return; /* libinih reports it */
	struct raw_section *secs = realloc(r->sections, (r->nsections + 1) * sizeof(*secs));
	if (!secs) {
		r->failed = true;
		return;
	}
	r->sections = secs;
	struct raw_section *sec = &secs[r->nsections];
	memset(sec, 0, sizeof(*sec));
	sec->header = strndup(s + 1, (size_t)(close - s - 1));
	sec->line = r->line;
	r->after_key = false;
	if (!sec->header)
		r->failed = true;
	else
		r->nsections++;
}

/* libinih reads through this, one line a call: counting here gives every
 * key its line number, which the Debian build of libinih does not pass. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	if (!fgets(str, num, r->file))
		return NULL;
	r->line++;
	size_t len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(r->file)) {
		ax_diag_add(r->diag, r->path, r->line, "line longer than %d characters; split the value over continuation lines (indented)", num - 2);
		int c;
		while ((c = fgetc(r->file)) != EOF && c != '\n')
			;
		str[0] = '\0';
		return str;
	}
	r->continuation = len > 0 && (str[0] == ' ' || str[0] == '\t');
	char copy[INI_MAX_LINE + 1];
	if (len < sizeof(copy)) {
		memcpy(copy, str, len + 1);
		note_header(r, copy);
	}
	return str;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	(void)section;
	struct reader *r = user;
	r->after_key = true;
	if (r->nsections == 0) {
		ax_diag_add(r->diag, r->path, r->line, "key '%s' before any section; put it under [agent]", name);
		return 1;
	}
	struct raw_section *sec = &r->sections[r->nsections - 1];
	struct raw_entry *last = sec->count ? &sec->entries[sec->count - 1] : NULL;
	if (r->continuation && last && strcmp(last->key, name) == 0) {
		size_t n = strlen(last->value);
		char *joined = realloc(last->value, n + strlen(value) + 2);
		if (!joined) {
			r->failed = true;
			return 1;
		}
		joined[n] = ' ';
		strcpy(joined + n + 1, value);
		last->value = joined;
		return 1;
	}
	struct raw_entry *entries = realloc(sec->entries, (sec->count + 1) * sizeof(*entries));
	if (!entries) {
		r->failed = true;
		return 1;
	}
	sec->entries = entries;
	struct raw_entry *e = &entries[sec->count];
	e->key = strdup(name);
	e->value = strdup(value);
	e->line = r->line;
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		r->failed = true;
		return 1;
	}
	sec->count++;
	return 1;
}

static void raw_sections_free(struct reader *r)
{
	for (size_t i = 0; i < r->nsections; i++) {
		struct raw_section *sec = &r->sections[i];
		for (size_t j = 0; j < sec->count; j++) {
			free(sec->entries[j].key);
			explicit_bzero(sec->entries[j].value, strlen(sec->entries[j].value));
			free(sec->entries[j].value);
		}
		free(sec->entries);
		free(sec->header);
	}
	free(r->sections);
}

/* ---- ${ENV} expansion ---- */

/* Expands ${NAME}; "$$" is a literal "$". Returns NULL on error (why set). */
static char *expand_env(const char *value, char *why, size_t why_len)
{
	size_t cap = strlen(value) + 1, len = 0;
	char *out = malloc(cap);
	if (!out) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	for (const char *p = value; *p;) {
		const char *piece = p;
		size_t n = 1;
		if (p[0] == '$' && p[1] == '$') {
			p += 2;
		} else if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (!end) {
				snprintf(why, why_len, "unterminated ${ in value");
				goto fail;
			}
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
			piece = getenv(name);
			if (!piece) {
				snprintf(why, why_len, "environment variable %s is not set", name);
				goto fail;
			}
			n = strlen(piece);
			p = end + 1;
		} else {
			p++;
		}
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *grown = realloc(out, cap);
			if (!grown)
				goto fail;
			out = grown;
		}
		memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
	return out;
fail:
	explicit_bzero(out, len);
	free(out);
	return NULL;
}

/* ---- applying option tables ---- */

static void report_unknown_key(const char *path, const struct raw_entry *e,
			       const struct ax_option *const *tables, const char *where,
			       struct ax_diag *diag)
{
	char keys[2048];
	ax_option_list_keys(tables, keys, sizeof(keys));
	bool typed = strcmp(where, "[agent]") != 0; /* sources and outputs also take 'type' */
	ax_diag_add(diag, path, e->line, "unknown key '%s' in %s; valid keys: %s%s", e->key, where,
		    typed ? "type, " : "", keys);
}

/* An earlier entry setting the same option (token and token_file do), or NULL. */
static const struct raw_entry *set_before(const struct raw_section *sec, size_t idx,
					  const struct ax_option *const *tables, const struct ax_option *opt)
{
	for (size_t j = 0; j < idx; j++)
		if (ax_option_find(tables, sec->entries[j].key) == opt)
			return &sec->entries[j];
	return NULL;
}

/* An earlier entry with this very key (of a prefix: rdkafka.acks twice), or NULL. */
static const struct raw_entry *key_before(const struct raw_section *sec, size_t idx, const char *key)
{
	for (size_t j = 0; j < idx; j++)
		if (strcmp(sec->entries[j].key, key) == 0)
			return &sec->entries[j];
	return NULL;
}

static void apply_entry(const char *path, const struct raw_section *sec, size_t idx,
			const struct ax_option *const *tables, void *conf, const char *where,
			struct ax_diag *diag)
{
	const struct raw_entry *e = &sec->entries[idx];
	const struct ax_option *opt = ax_option_find(tables, e->key);
	if (!opt) {
		report_unknown_key(path, e, tables, where, diag);
		return;
	}
	const struct raw_entry *earlier = opt->type != AX_OPT_PREFIX ? set_before(sec, idx, tables, opt)
								     : key_before(sec, idx, e->key);
	if (earlier && strcmp(earlier->key, e->key) == 0) {
		ax_diag_add(diag, path, e->line, "duplicate key '%s' in %s", e->key, where);
		return;
	}
	if (earlier) {
		ax_diag_add(diag, path, e->line, "'%s' and '%s' (line %d) set the same value in %s: keep one",
			    e->key, earlier->key, earlier->line, where);
		return;
	}
	char why[768];
	char *value = expand_env(e->value, why, sizeof(why));
	if (!value) {
		ax_diag_add(diag, path, e->line, "%s: %s", e->key, why);
		return;
	}
	if (ax_option_set(opt, conf, e->key, value, why, sizeof(why)))
		ax_diag_add(diag, path, e->line, "%s: %s", e->key, why[0] ? why : "invalid value");
	explicit_bzero(value, strlen(value));
	free(value);
}

/* Whether a key of sec sets opt (NAME or NAME_file for a secret). Found
 * through the whole tables: a table of opt alone would go on reading the
 * options after it, and a later key (payload) would pass for a required
 * one (address). */
static bool is_set(const struct ax_option *opt, const struct ax_option *const *tables,
		   const struct raw_section *sec)
{
	for (size_t i = 0; i < sec->count; i++)
		if (ax_option_find(tables, sec->entries[i].key) == opt)
			return true;
	return false;
}

static void check_required(const char *path, const struct raw_section *sec,
			   const struct ax_option *const *tables, const char *where,
			   struct ax_diag *diag)
{
	const struct ax_option *const *all = tables;
	for (; *tables; tables++) {
		for (const struct ax_option *opt = *tables; opt->name; opt++) {
			if (!(opt->flags & AX_OPT_REQUIRED) || is_set(opt, all, sec))
				continue;
			if (opt->type == AX_OPT_SECRET)
				ax_diag_add(diag, path, sec->line, "%s: missing required key '%s' (or '%s_file')", where, opt->name, opt->name);
			else
				ax_diag_add(diag, path, sec->line, "%s: missing required key '%s'", where, opt->name);
		}
	}
}

static void apply_section(const char *path, const struct raw_section *sec, size_t skip_type,
			  const struct ax_option *const *tables, void *conf, const char *where,
			  struct ax_diag *diag)
{
	for (size_t i = 0; i < sec->count; i++)
		if (i != skip_type)
			apply_entry(path, sec, i, tables, conf, where, diag);
	check_required(path, sec, tables, where, diag);
}

/* ---- sections ---- */

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

/* Splits `source "name"` into its kind word and name; false if malformed. */
static bool split_header(const char *header, char *word, size_t wlen, char *name, size_t nlen)
{
	const char *q = strchr(header, '"');
	if (!q) {
		snprintf(word, wlen, "%s", header);
		name[0] = '\0';
		return true;
	}
	const char *q2 = strchr(q + 1, '"');
	if (!q2 || q2[1])
		return false;
	const char *w = q;
	while (w > header && isspace((unsigned char)w[-1]))
		w--;
	snprintf(word, wlen, "%.*s", (int)(w - header), header);
	snprintf(name, nlen, "%.*s", (int)(q2 - q - 1), q + 1);
	return true;
}

static ssize_t find_type(const struct raw_section *sec)
{
	for (size_t i = 0; i < sec->count; i++)
		if (strcmp(sec->entries[i].key, "type") == 0)
			return (ssize_t)i;
	return -1;
}

typedef const struct ax_conf_kind *(*kind_lookup)(const char *name);
typedef void (*kind_names)(char *out, size_t len);

struct section_family {
	const char *word; /* "source" or "output" */
	kind_lookup find;
	kind_names names;
};

static bool name_taken(const struct ax_section_conf *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return true;
	return false;
}

/* An output type from plugin_dir; NULL (with the reason in diag when the
 * file exists but is unusable) otherwise. */
static const struct ax_conf_kind *plugin_kind(const char *dir, const char *type, const char *path,
					      int line, struct ax_diag *diag)
{
	const struct ax_output_ops *ops;
	char why[600];
	int rc = ax_output_plugin_load(dir, type, &ops, why, sizeof(why));
	if (rc > 0)
		ax_diag_add(diag, path, line, "%s", why);
	return rc == 0 ? &ops->conf : NULL;
}

/* The files the section's *_file keys of secrets name: fit to hold a
 * secret, or a warning (an error when strict). */
static void check_secret_files(const char *path, const struct raw_section *sec,
			       const struct ax_option *const *tables, const char *where, bool strict,
			       struct ax_diag *diag)
{
	for (size_t i = 0; i < sec->count; i++) {
		const struct raw_entry *e = &sec->entries[i];
		const struct ax_option *opt = ax_option_find(tables, e->key);
		if (!opt || opt->type != AX_OPT_SECRET || strcmp(e->key, opt->name) == 0)
			continue; /* not NAME_file */
		char why[768];
		char *file = expand_env(e->value, why, sizeof(why));
		if (file && ax_secret_file_check(file, why, sizeof(why))) {
			if (strict)
				ax_diag_add(diag, path, e->line, "%s %s: %s (strict_permissions = true)", where, e->key, why);
			else
				ax_warn("config", "%s:%d: %s %s: %s", path, e->line, where, e->key, why);
		}
		free(file);
	}
}

static void load_named_section(const char *path, const struct raw_section *sec, const char *name,
			       const struct section_family *fam, const char *plugin_dir, bool strict,
			       struct ax_section_conf **list, size_t *n, struct ax_diag *diag)
{
	char where[300], names[512];
	snprintf(where, sizeof(where), "[%s \"%s\"]", fam->word, name);
	if (!valid_name(name)) {
		ax_diag_add(diag, path, sec->line, "%s: name may only hold letters, digits, '_', '-' and '.'", where);
		return;
	}
	if (name_taken(*list, *n, name)) {
		ax_diag_add(diag, path, sec->line, "%s is defined twice", where);
		return;
	}
	fam->names(names, sizeof(names));
	size_t before_type = diag->count;
	ssize_t t = find_type(sec);
	if (t < 0) {
		ax_diag_add(diag, path, sec->line, "%s: missing key 'type' (one of: %s)", where, names);
		return;
	}
	const struct ax_conf_kind *kind = fam->find(sec->entries[t].value);
	if (!kind && plugin_dir)
		kind = plugin_kind(plugin_dir, sec->entries[t].value, path, sec->entries[t].line, diag);
	if (!kind) {
		if (diag->count == before_type)
			ax_diag_add(diag, path, sec->entries[t].line, "%s: unknown type '%s' (one of: %s%s%s%s)", where,
				    sec->entries[t].value, names, plugin_dir ? "; or a plugin " : "",
				    plugin_dir ? plugin_dir : "", plugin_dir ? "/TYPE.so" : "");
		return;
	}
	void *conf = calloc(1, kind->conf_size);
	struct ax_section_conf *grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!conf || !grown || ax_options_defaults(kind->tables, conf)) {
		ax_diag_add(diag, path, sec->line, "%s: out of memory", where);
		if (conf)
			ax_options_free(kind->tables, conf);
		free(conf);
		if (grown)
			*list = grown;
		return;
	}
	*list = grown;
	struct ax_section_conf *s = &grown[(*n)++];
	s->name = strdup(name);
	s->line = sec->line;
	s->kind = kind;
	s->conf = conf;
	size_t before = diag->count;
	apply_section(path, sec, (size_t)t, kind->tables, conf, where, diag);
	check_secret_files(path, sec, kind->tables, where, strict, diag);
	if (diag->count == before && kind->validate)
		kind->validate(conf, path, sec->line, diag);
}

static const struct section_family source_family = { "source", ax_source_kind_find, ax_source_kind_names };
static const struct section_family output_family = { "output", ax_output_kind_find, ax_output_kind_names };

/* metrics_listen is bound at startup; check-config already tells a malformed one. */
static void check_metrics_listen(const struct ax_config *cfg, const struct raw_section *sec, struct ax_diag *diag)
{
	char why[160];
	if (ax_metrics_listen_valid(cfg->agent.metrics_listen, why, sizeof(why)))
		return;
	int line = sec->line;
	for (size_t i = 0; i < sec->count; i++)
		if (strcmp(sec->entries[i].key, "metrics_listen") == 0)
			line = sec->entries[i].line;
	ax_diag_add(diag, cfg->path, line, "metrics_listen: %s", why);
}

/* [evidence], and the silence.* thresholds of the gap watch (watch.h). */
static void apply_evidence(struct ax_config *cfg, const struct raw_section *sec, struct ax_diag *diag)
{
	char why[300];
	apply_section(cfg->path, sec, SIZE_MAX, evidence_tables, &cfg->evidence, "[evidence]", diag);
	for (size_t i = 0; i < sec->count; i++) {
		const struct raw_entry *e = &sec->entries[i];
		if (strncmp(e->key, "silence.", 8) == 0 && !ax_watch_check_key(e->key + 8, e->value, why, sizeof(why)))
			ax_diag_add(diag, cfg->path, e->line, "%s: %s", e->key, why);
	}
}

static void load_section(struct ax_config *cfg, const struct raw_section *sec, bool *agent_seen,
			 struct ax_diag *diag)
{
	char word[64], name[256];
	if (!split_header(sec->header, word, sizeof(word), name, sizeof(name))) {
		ax_diag_add(diag, cfg->path, sec->line, "malformed section header [%s]; expected [agent], [source \"NAME\"] or [output \"NAME\"]", sec->header);
		return;
	}
	if (strcmp(word, "agent") == 0 && !name[0]) {
		if (*agent_seen)
			ax_diag_add(diag, cfg->path, sec->line, "[agent] is defined twice");
		else
			apply_section(cfg->path, sec, SIZE_MAX, agent_tables, &cfg->agent, "[agent]", diag);
		if (!*agent_seen)
			check_metrics_listen(cfg, sec, diag);
		*agent_seen = true;
	} else if (strcmp(word, "evidence") == 0 && !name[0]) {
		if (cfg->evidence_line)
			ax_diag_add(diag, cfg->path, sec->line, "[evidence] is defined twice");
		else
			apply_evidence(cfg, sec, diag);
		cfg->evidence_line = sec->line;
	} else if (strcmp(word, "source") == 0 && name[0]) {
		load_named_section(cfg->path, sec, name, &source_family, NULL, cfg->agent.strict_permissions,
				   &cfg->sources, &cfg->nsources, diag);
	} else if (strcmp(word, "output") == 0 && name[0]) {
		load_named_section(cfg->path, sec, name, &output_family, cfg->agent.plugin_dir,
				   cfg->agent.strict_permissions, &cfg->outputs, &cfg->noutputs, diag);
	} else {
		ax_diag_add(diag, cfg->path, sec->line, "unknown section [%s]; expected [agent], [evidence], [source \"NAME\"] or [output \"NAME\"]", sec->header);
	}
}

ax_err ax_agent_conf_defaults(struct ax_agent_conf *agent)
{
	memset(agent, 0, sizeof(*agent));
	return ax_options_defaults(agent_tables, agent);
}

void ax_agent_conf_finish(struct ax_agent_conf *agent)
{
	ax_options_free(agent_tables, agent);
}

static void parse_file(struct ax_config *cfg, struct reader *r, struct ax_diag *diag)
{
	int rc = ini_parse_stream(read_line, r, on_entry, r);
	if (rc > 0)
		ax_diag_add(diag, cfg->path, rc, "syntax error: expected [section], 'key = value' or a comment");
	else if (rc < 0 || r->failed)
		ax_diag_add(diag, cfg->path, 0, "cannot parse: out of memory");
}

/* silence.source.NAME must name a [source "NAME"]. */
static void check_silenced_sources(const struct ax_config *cfg, struct ax_diag *diag)
{
	for (size_t i = 0; i < cfg->evidence.silence.count; i++) {
		const char *key = cfg->evidence.silence.items[i].key;
		if (strncmp(key, "source.", 7) != 0)
			continue;
		size_t j = 0;
		while (j < cfg->nsources && strcmp(cfg->sources[j].name, key + 7) != 0)
			j++;
		if (j == cfg->nsources)
			ax_diag_add(diag, cfg->path, cfg->evidence_line, "silence.%s in [evidence]: there is no [source \"%s\"]",
				    key, key + 7);
	}
}

struct ax_config *ax_config_load(const char *path, struct ax_diag *diag)
{
	size_t before = diag->count;
	struct ax_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path)) || ax_agent_conf_defaults(&cfg->agent) ||
	    ax_options_defaults(evidence_tables, &cfg->evidence)) {
		ax_diag_add(diag, path, 0, "out of memory");
		ax_config_destroy(cfg);
		return NULL;
	}
	struct reader r = { .path = path, .diag = diag };
	if (!(r.file = fopen(path, "r"))) {
		ax_diag_add(diag, path, 0, "cannot open config file: %s", strerror(errno));
		ax_config_destroy(cfg);
		return NULL;
	}
	parse_file(cfg, &r, diag);
	fclose(r.file);
	/* [agent] first, wherever it is: outputs need its plugin_dir. */
	bool agent_seen = false;
	for (size_t i = 0; i < r.nsections; i++)
		if (strcmp(r.sections[i].header, "agent") == 0)
			load_section(cfg, &r.sections[i], &agent_seen, diag);
	for (size_t i = 0; i < r.nsections; i++)
		if (strcmp(r.sections[i].header, "agent") != 0)
			load_section(cfg, &r.sections[i], &agent_seen, diag);
	raw_sections_free(&r);
	check_silenced_sources(cfg, diag);
	if (diag->count == before && cfg->noutputs == 0)
		ax_diag_add(diag, path, 0, "no [output \"NAME\"] section: records would go nowhere");
	if (diag->count > before) {
		ax_config_destroy(cfg);
		return NULL;
	}
	return cfg;
}

static void free_sections(struct ax_section_conf *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].conf)
			ax_options_free(list[i].kind->tables, list[i].conf);
		free(list[i].conf);
		free(list[i].name);
	}
	free(list);
}

void ax_config_destroy(struct ax_config *cfg)
{
	if (!cfg)
		return;
	ax_agent_conf_finish(&cfg->agent);
	ax_options_free(evidence_tables, &cfg->evidence);
	free_sections(cfg->sources, cfg->nsources);
	free_sections(cfg->outputs, cfg->noutputs);
	free(cfg->path);
	free(cfg);
}

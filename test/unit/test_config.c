/* test_config.c - the INI file through ax_config_load: sections, keys and
 * their errors (always FILE:LINE), ${ENV} expansion, secrets from files,
 * continuation lines. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "outputs/output.h"
#include "secret.h"
#include "sources/source.h"

struct fixture {
	char *dir;
	char *path; /* the config file of the current test */
	struct ax_diag diag;
	struct ax_config *cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	ax_diag_init(&f->diag);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_config_destroy(f->cfg);
	ax_diag_finish(&f->diag);
	free(f->path);
	unit_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Writes text as the config file and loads it. */
static struct ax_config *load(struct fixture *f, const char *text)
{
	ax_config_destroy(f->cfg);
	ax_diag_finish(&f->diag);
	free(f->path);
	f->path = unit_write_file(f->dir, "annexa.conf", text, SIZE_MAX);
	f->cfg = ax_config_load(f->path, &f->diag);
	return f->cfg;
}

static void load_ok(struct fixture *f, const char *text)
{
	if (!load(f, text) || f->diag.count) {
		unit_diag_dump(&f->diag);
		fail_msg("config did not load:\n%s", text);
	}
}

/* Loading fails with a diagnostic at line holding text. */
static void load_fails(struct fixture *f, const char *text, int line, const char *msg)
{
	if (load(f, text))
		fail_msg("config loaded, expected '%s' at line %d:\n%s", msg, line, text);
	if (!unit_diag_has(&f->diag, line, msg)) {
		unit_diag_dump(&f->diag);
		fail_msg("no diagnostic '%s' at line %d", msg, line);
	}
	for (size_t i = 0; i < f->diag.count; i++)
		assert_string_equal(f->diag.items[i].file, f->path);
}

/* A key's value in a section's conf, found through its option table. */
static void *field(const struct ax_section_conf *s, const char *key)
{
	const struct ax_option *o = ax_option_find(s->kind->tables, key);
	if (!o)
		fail_msg("%s has no key %s", s->kind->name, key);
	return (char *)s->conf + o->offset;
}

#define OUTPUT_FILE "[output \"debug\"]\ntype = file\n"

/* ---- sections ---- */

static void test_minimal(void **state)
{
	struct fixture *f = *state;
	load_ok(f, OUTPUT_FILE);
	assert_string_equal(f->cfg->path, f->path);
	/* No [agent]: every default. */
	assert_string_equal(f->cfg->agent.state_dir, "/var/lib/annexa");
	assert_int_equal(f->cfg->nsources, 0);
	assert_int_equal(f->cfg->noutputs, 1);
	const struct ax_section_conf *o = &f->cfg->outputs[0];
	assert_string_equal(o->name, "debug");
	assert_int_equal(o->line, 1);
	assert_string_equal(o->kind->name, "file");
	assert_string_equal(*(char **)field(o, "path"), "-");
	const struct ax_output_common_conf *m = o->conf;
	assert_int_equal(m->min_severity, AX_SEV_INFORMATIONAL);
	assert_int_equal(m->categories.count, 0);
}

static void test_full(void **state)
{
	struct fixture *f = *state;
	char *secret = unit_write_file(f->dir, "contoso.secret", "cl13nt-s3cret\n", SIZE_MAX);
	char text[2048];
	snprintf(text, sizeof(text),
		 "; annexa config\n"
		 "# both comment styles\n"
		 "[agent]\n"
		 "state_dir = /srv/annexa   ; inline comment\n"
		 "spool_max_size = 2GiB\n"
		 "spool_full = drop_oldest\n"
		 "log_level = debug\n"
		 "mapping_files = /etc/annexa/a.json, /etc/annexa/b.json\n"
		 "\n"
		 "[source \"contoso\"]\n"
		 "type = o365\n"
		 "cloud = gcc_high\n"
		 "tenant_id = 11111111-2222-3333-4444-555555555555\n"
		 "client_id = app\n"
		 "client_secret_file = %s\n"
		 "content_types = Audit.Exchange, DLP.All\n"
		 "poll_interval = 5m\n"
		 "\n"
		 "[source \"replay\"]\n"
		 "type = file\n"
		 "path = /var/log/m365/*.jsonl\n"
		 "follow = yes\n"
		 "\n"
		 "[output \"bus\"]\n"
		 "type = kafka\n"
		 "brokers = k1:9092,k2:9092\n"
		 "rdkafka.compression.codec = zstd\n"
		 "rdkafka.linger.ms = 5\n"
		 "match.min_severity = high\n"
		 "match.categories = privileged_access, configuration_change\n"
		 "\n"
		 "[output \"debug\"]\n"
		 "type = file\n"
		 "path = /tmp/annexa.jsonl\n",
		 secret);
	load_ok(f, text);
	const struct ax_agent_conf *a = &f->cfg->agent;
	assert_string_equal(a->state_dir, "/srv/annexa");
	assert_int_equal(a->spool_max_size, 2ULL << 30);
	assert_int_equal(a->spool_full, AX_SPOOL_DROP_OLDEST);
	assert_int_equal(a->log_level, 3);
	assert_int_equal(a->mapping_files.count, 2);
	assert_string_equal(a->mapping_files.items[1], "/etc/annexa/b.json");
	assert_string_equal(a->dead_letter, "/var/lib/annexa/dead-letter.jsonl"); /* default kept */

	assert_int_equal(f->cfg->nsources, 2);
	const struct ax_section_conf *s = &f->cfg->sources[0];
	assert_string_equal(s->name, "contoso");
	assert_int_equal(s->line, 10);
	assert_string_equal(s->kind->name, "o365");
	const struct ax_ms_source_conf *ms = s->conf;
	assert_int_equal(ms->cloud, AX_CLOUD_GCC_HIGH);
	assert_string_equal(ms->tenant_id, "11111111-2222-3333-4444-555555555555");
	assert_non_null(ms->client_secret);
	assert_string_equal(ms->client_secret->value, "cl13nt-s3cret");
	assert_int_equal(ms->content_types.count, 2);
	assert_string_equal(ms->content_types.items[1], "DLP.All");
	assert_int_equal(ms->poll_interval, 300000);
	assert_int_equal(ms->backfill, 86400000); /* default */

	s = &f->cfg->sources[1];
	assert_string_equal(s->kind->name, "file");
	const struct ax_file_source_conf *fs = s->conf;
	assert_string_equal(fs->path, "/var/log/m365/*.jsonl");
	assert_true(fs->follow);

	assert_int_equal(f->cfg->noutputs, 2);
	const struct ax_section_conf *o = &f->cfg->outputs[0];
	assert_string_equal(o->name, "bus");
	assert_string_equal(o->kind->name, "kafka");
	assert_string_equal(*(char **)field(o, "brokers"), "k1:9092,k2:9092");
	assert_string_equal(*(char **)field(o, "topic"), "m365.{workload}");
	const struct ax_kvlist *kv = field(o, "rdkafka.x");
	assert_int_equal(kv->count, 2);
	assert_string_equal(kv->items[0].key, "compression.codec");
	assert_string_equal(kv->items[0].value, "zstd");
	assert_string_equal(kv->items[1].key, "linger.ms");
	const struct ax_output_common_conf *m = o->conf;
	assert_int_equal(m->min_severity, AX_SEV_HIGH);
	assert_int_equal(m->categories.count, 2);
	assert_string_equal(*(char **)field(&f->cfg->outputs[1], "path"), "/tmp/annexa.jsonl");
	free(secret);
}

/* ---- errors, each with its line ---- */

struct error_case {
	const char *text;
	int line;
	const char *msg;
};

static const struct error_case errors[] = {
	{ "[agent]\nstate_dirr = /x\n" OUTPUT_FILE, 2,
	  "unknown key 'state_dirr' in [agent]; valid keys: state_dir, spool, spool_max_size, spool_fsync, "
	  "spool_compress, spool_full, dead_letter, mapping_files, plugin_dir, metrics_listen, health_output_failing, "
	  "health_source_silent, log_level, "
	  "shutdown_timeout, max_record_size, max_depth, host, strict_permissions" },
	{ OUTPUT_FILE "paht = /tmp/x\n", 3,
	  "unknown key 'paht' in [output \"debug\"]; valid keys: type, match.min_severity, "
	  "match.categories, match.controls, match.workloads, path" },
	{ "[output \"h\"]\ntype = splunk_hec\nurl = https://s:8088\ntoken = t\ntokn_file = /x\n", 5,
	  "valid keys: type, match.min_severity, match.categories, match.controls, match.workloads, "
	  "url, token, token_file, index," },
	{ "[output \"k\"]\ntype = kafka\nbrokers = k:9092\nrdkafka = x\n", 4,
	  "unknown key 'rdkafka' in [output \"k\"]; valid keys: type, match.min_severity, "
	  "match.categories, match.controls, match.workloads, brokers, topic, " },
	{ "[output \"k\"]\ntype = kafka\nbrokers = k:9092\nrdkafka = x\n", 4, ", rdkafka.*" },
	{ "[agent]\nlog_level = info\nlog_level = debug\n" OUTPUT_FILE, 3,
	  "duplicate key 'log_level' in [agent]" },
	{ OUTPUT_FILE "path = /a\npath = /b\n", 4, "duplicate key 'path' in [output \"debug\"]" },
	{ "[agent]\n[agent]\n" OUTPUT_FILE, 2, "[agent] is defined twice" },
	{ OUTPUT_FILE OUTPUT_FILE, 3, "[output \"debug\"] is defined twice" },
	{ "[source \"s\"]\ntype = file\npath = /a\n[source \"s\"]\ntype = file\npath = /b\n" OUTPUT_FILE, 4,
	  "[source \"s\"] is defined twice" },
	{ "[output \"x\"]\npath = /a\n", 1,
	  "[output \"x\"]: missing key 'type' (one of: file, syslog, kafka, splunk_hec)" },
	{ "[output \"x\"]\ntype = elastic\n", 2,
	  "[output \"x\"]: unknown type 'elastic' (one of: file, syslog, kafka, splunk_hec" },
	{ "[source \"x\"]\ntype = imap\n" OUTPUT_FILE, 2,
	  "[source \"x\"]: unknown type 'imap' (one of: o365, graph_alerts, graph_audit, file)" },
	{ "[source \"x\"]\ntype = file\n" OUTPUT_FILE, 1, "[source \"x\"]: missing required key 'path'" },
	{ "[output \"h\"]\ntype = splunk_hec\nurl = https://s:8088\n", 1,
	  "[output \"h\"]: missing required key 'token' (or 'token_file')" },
	{ "[output \"a b\"]\ntype = file\n", 1, "name may only hold letters, digits, '_', '-' and '.'" },
	{ "[output \"\"]\ntype = file\n", 1, "unknown section [output \"\"]" },
	{ "[output \"x]\ntype = file\n", 1, "malformed section header [output \"x]" },
	{ "[output \"x\" extra]\ntype = file\n", 1, "malformed section header" },
	{ "[outputs \"x\"]\ntype = file\n", 1, "unknown section [outputs \"x\"]" },
	{ "[agent \"x\"]\n" OUTPUT_FILE, 1, "unknown section [agent \"x\"]" },
	{ "[output]\ntype = file\n", 1, "unknown section [output]" },
	{ "state_dir = /x\n" OUTPUT_FILE, 1, "key 'state_dir' before any section; put it under [agent]" },
	{ "[agent]\nthis is not ini\n" OUTPUT_FILE, 2,
	  "syntax error: expected [section], 'key = value' or a comment" },
	{ "[agent]\nspool_max_size = 12 parsecs\n" OUTPUT_FILE, 2,
	  "spool_max_size: '12 parsecs' is not a size such as 512KiB, 4MiB or 1GiB" },
	{ "[agent]\nspool_max_size = 1KiB\n" OUTPUT_FILE, 2, "spool_max_size: '1KiB' is out of range" },
	{ "[agent]\nspool_full = block\n" OUTPUT_FILE, 2,
	  "spool_full: 'block' is not one of: pause, drop_oldest" },
	{ "[agent]\nmax_depth = deep\n" OUTPUT_FILE, 2, "max_depth: 'deep' is not an integer" },
	{ "[source \"r\"]\ntype = file\npath = /a\nfollow = sometimes\n" OUTPUT_FILE, 4,
	  "follow: 'sometimes' is not a boolean (true or false)" },
	{ OUTPUT_FILE "match.min_severity = urgent\n", 3,
	  "match.min_severity: 'urgent' is not one of: informational, low, medium, high, critical" },
	{ "[source \"o\"]\ntype = o365\ntenant_id = t\nclient_id = c\nclient_secret = s\n"
	  "content_types = Audit.Exchange, Audit.Teams\n" OUTPUT_FILE, 6,
	  "content_types: 'Audit.Teams' is not one of: Audit.AzureActiveDirectory, Audit.Exchange," },
	{ "[source \"o\"]\ntype = o365\ntenant_id = t\nclient_id = c\n" OUTPUT_FILE, 1,
	  "missing credentials: set client_secret_file, or certificate_file and private_key_file" },
	{ "[output \"k\"]\ntype = kafka\nbrokers = k:9092\ntopic = m365.{nope}\n", 1, "unknown field {nope}" },
	{ "[agent]\n", 0, "no [output \"NAME\"] section: records would go nowhere" },
	{ "", 0, "no [output \"NAME\"] section" },
};

static void test_errors(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(errors); i++)
		load_fails(f, errors[i].text, errors[i].line, errors[i].msg);
}

/* Every problem is reported, not just the first. */
static void test_all_errors_collected(void **state)
{
	struct fixture *f = *state;
	load_fails(f,
		   "[agent]\n"
		   "bogus = 1\n"
		   "log_level = loud\n"
		   "[output \"a\"]\n"
		   "type = nope\n"
		   "[output \"b\"]\n"
		   "type = file\n"
		   "path = /x\n"
		   "colour = red\n",
		   2, "unknown key 'bogus'");
	assert_int_equal(f->diag.count, 4);
	assert_true(unit_diag_has(&f->diag, 3, "log_level: 'loud'"));
	assert_true(unit_diag_has(&f->diag, 5, "unknown type 'nope'"));
	assert_true(unit_diag_has(&f->diag, 9, "unknown key 'colour'"));
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	snprintf(path, sizeof(path), "%s/none.conf", f->dir);
	assert_null(ax_config_load(path, &f->diag));
	assert_int_equal(f->diag.count, 1);
	assert_int_equal(f->diag.items[0].line, 0);
	assert_string_equal(f->diag.items[0].file, path);
	assert_contains(f->diag.items[0].msg, "cannot open config file: No such file or directory");
}

/* What `annexa check-config` prints: FILE:LINE: message, FILE: message. */
static void test_diag_print(void **state)
{
	struct fixture *f = *state;
	load_fails(f, "[agent]\nnope = 1\n", 2, "unknown key 'nope'");
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	assert_non_null(mem);
	ax_diag_print(&f->diag, mem);
	fclose(mem);
	char want[4400];
	snprintf(want, sizeof(want), "%s:2: unknown key 'nope' in [agent]; valid keys: ", f->path);
	assert_memory_equal(out, want, strlen(want));
	snprintf(want, sizeof(want), "\n%s: no [output \"NAME\"] section", f->path);
	assert_not_contains(out, want); /* not reported once something else is wrong */
	free(out);

	load_fails(f, "[agent]\n", 0, "no [output");
	mem = open_memstream(&out, &len);
	ax_diag_print(&f->diag, mem);
	fclose(mem);
	snprintf(want, sizeof(want), "%s: no [output \"NAME\"] section: records would go nowhere\n", f->path);
	assert_string_equal(out, want);
	free(out);
}

/* ---- ${ENV} ---- */

struct env_case {
	const char *value;
	const char *want;
};

static const struct env_case env_cases[] = {
	{ "${AX_UNIT_DIR}", "/srv/ax" },
	{ "${AX_UNIT_DIR}/state", "/srv/ax/state" },
	{ "pre-${AX_UNIT_DIR}-${AX_UNIT_NAME}-post", "pre-/srv/ax-node1-post" },
	{ "${AX_UNIT_EMPTY}", "" },
	{ "cost$$5", "cost$5" },
	{ "$$${AX_UNIT_NAME}", "$node1" },
	{ "$${AX_UNIT_NAME}", "${AX_UNIT_NAME}" },
	{ "a$b", "a$b" },
	{ "trailing$", "trailing$" },
	{ "$$$$", "$$" },
	{ "{AX_UNIT_NAME}", "{AX_UNIT_NAME}" },
};

static void test_env(void **state)
{
	struct fixture *f = *state;
	setenv("AX_UNIT_DIR", "/srv/ax", 1);
	setenv("AX_UNIT_NAME", "node1", 1);
	setenv("AX_UNIT_EMPTY", "", 1);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(env_cases); i++) {
		char text[512];
		snprintf(text, sizeof(text), "[agent]\nstate_dir = %s\n" OUTPUT_FILE, env_cases[i].value);
		load_ok(f, text);
		if (strcmp(f->cfg->agent.state_dir, env_cases[i].want) != 0)
			fail_msg("'%s' gave '%s', want '%s'", env_cases[i].value, f->cfg->agent.state_dir,
				 env_cases[i].want);
	}
	/* Expansion happens before parsing: a variable can hold a size. */
	setenv("AX_UNIT_SIZE", "3MiB", 1);
	load_ok(f, "[agent]\nmax_record_size = ${AX_UNIT_SIZE}\n" OUTPUT_FILE);
	assert_int_equal(f->cfg->agent.max_record_size, 3u << 20);
	unsetenv("AX_UNIT_DIR");
	unsetenv("AX_UNIT_NAME");
	unsetenv("AX_UNIT_EMPTY");
	unsetenv("AX_UNIT_SIZE");
}

static void test_env_errors(void **state)
{
	struct fixture *f = *state;
	unsetenv("AX_UNIT_SURELY_UNSET");
	load_fails(f, "[agent]\nstate_dir = ${AX_UNIT_SURELY_UNSET}/x\n" OUTPUT_FILE, 2,
		   "state_dir: environment variable AX_UNIT_SURELY_UNSET is not set");
	load_fails(f, "[agent]\nstate_dir = ${oops\n" OUTPUT_FILE, 2,
		   "state_dir: unterminated ${ in value");
	/* The variable's value is checked like any other value. */
	setenv("AX_UNIT_LEVEL", "chatty", 1);
	load_fails(f, "[agent]\nlog_level = ${AX_UNIT_LEVEL}\n" OUTPUT_FILE, 2,
		   "log_level: 'chatty' is not one of: error, warning, info, debug");
	unsetenv("AX_UNIT_LEVEL");
}

/* ---- secrets ---- */

#define O365_HEAD "[source \"o\"]\ntype = o365\ntenant_id = t\nclient_id = c\n"

static void test_secret_env(void **state)
{
	struct fixture *f = *state;
	setenv("AX_UNIT_SECRET", "env-s3cret-value", 1);
	load_ok(f, O365_HEAD "client_secret = ${AX_UNIT_SECRET}\n" OUTPUT_FILE);
	const struct ax_ms_source_conf *ms = f->cfg->sources[0].conf;
	assert_string_equal(ms->client_secret->value, "env-s3cret-value");
	unsetenv("AX_UNIT_SECRET");
}

static void test_secret_file(void **state)
{
	struct fixture *f = *state;
	char *token = unit_write_file(f->dir, "hec.token", "hec-t0ken-value\r\n", SIZE_MAX);
	char text[4400];
	snprintf(text, sizeof(text),
		 "[output \"h\"]\ntype = splunk_hec\nurl = https://splunk:8088\ntoken_file = %s\n", token);
	load_ok(f, text);
	const struct ax_secret *const *s = field(&f->cfg->outputs[0], "token");
	assert_non_null(*s);
	assert_string_equal((*s)->value, "hec-t0ken-value");
	assert_int_equal((*s)->len, 15);

	/* ${ENV} in the file name. */
	setenv("AX_UNIT_SECRETS", f->dir, 1);
	load_ok(f, "[output \"h\"]\ntype = splunk_hec\nurl = https://splunk:8088\n"
		   "token_file = ${AX_UNIT_SECRETS}/hec.token\n");
	s = field(&f->cfg->outputs[0], "token");
	assert_string_equal((*s)->value, "hec-t0ken-value");
	unsetenv("AX_UNIT_SECRETS");

	/* Both forms at once: the same option twice. */
	snprintf(text, sizeof(text),
		 "[output \"h\"]\ntype = splunk_hec\nurl = https://splunk:8088\ntoken = abc\ntoken_file = %s\n",
		 token);
	if (load(f, text) == NULL) {
		/* Either rejected ... */
		assert_true(f->diag.count > 0);
	} else {
		/* ... or the later one wins; never a leak (ASan checks). */
		s = field(&f->cfg->outputs[0], "token");
		assert_string_equal((*s)->value, "hec-t0ken-value");
	}
	free(token);
}

static void test_secret_file_errors(void **state)
{
	struct fixture *f = *state;
	char text[4400];
	snprintf(text, sizeof(text), O365_HEAD "client_secret_file = %s/absent\n" OUTPUT_FILE, f->dir);
	load_fails(f, text, 5, "client_secret_file: cannot read secret file");
	assert_true(unit_diag_has(&f->diag, 5, "No such file or directory"));

	char *empty = unit_write_file(f->dir, "empty.secret", "\n", SIZE_MAX);
	snprintf(text, sizeof(text), O365_HEAD "client_secret_file = %s\n" OUTPUT_FILE, empty);
	load_fails(f, text, 5, "is empty");
	free(empty);

	load_fails(f, O365_HEAD "client_secret =\n" OUTPUT_FILE, 5,
		   "client_secret: empty value (set it, or use client_secret_file)");
}

/* Secrets never reach a diagnostic, whatever else is wrong. */
static void test_secret_not_echoed(void **state)
{
	struct fixture *f = *state;
	char *sf = unit_write_file(f->dir, "s", "F1le-s3cret-91b2\n", SIZE_MAX);
	char text[4400];
	snprintf(text, sizeof(text),
		 "[source \"o\"]\ntype = o365\ntenant_id = t\nclient_id = c\n"
		 "client_secret = Env-s3cret-7f3a\nclient_secret = Env-s3cret-7f3a\n"
		 "client_secret_file = %s\nbogus = Env-s3cret-7f3a\n"
		 "[output \"h\"]\ntype = splunk_hec\nurl = u\ntoken = Env-s3cret-7f3a\ntoken = again\n",
		 sf);
	assert_null(load(f, text));
	assert_true(f->diag.count >= 2);
	for (size_t i = 0; i < f->diag.count; i++) {
		assert_not_contains(f->diag.items[i].msg, "Env-s3cret-7f3a");
		assert_not_contains(f->diag.items[i].msg, "F1le-s3cret-91b2");
	}
	free(sf);
}

/* ---- continuation lines, long lines ---- */

static void test_continuation(void **state)
{
	struct fixture *f = *state;
	load_ok(f, O365_HEAD
		"client_secret = s\n"
		"content_types = Audit.AzureActiveDirectory, Audit.Exchange,\n"
		"    Audit.SharePoint, Audit.General,\n"
		"\tDLP.All\n"
		"poll_interval = 90s\n" OUTPUT_FILE);
	const struct ax_ms_source_conf *ms = f->cfg->sources[0].conf;
	assert_int_equal(ms->content_types.count, 5);
	assert_string_equal(ms->content_types.items[0], "Audit.AzureActiveDirectory");
	assert_string_equal(ms->content_types.items[2], "Audit.SharePoint");
	assert_string_equal(ms->content_types.items[4], "DLP.All");
	assert_int_equal(ms->poll_interval, 90000);

	/* A string value continues with one space between the parts. */
	load_ok(f, "[agent]\nstate_dir = /srv/a\n  b\n" OUTPUT_FILE);
	assert_string_equal(f->cfg->agent.state_dir, "/srv/a b");

	/* An error in a continued value is reported at the key's line. */
	load_fails(f, "[agent]\n\nmapping_files = a,\n  b\nlog_level = info\n  loud\n" OUTPUT_FILE, 5,
		   "log_level: 'info loud' is not one of");
}

static void test_long_line(void **state)
{
	struct fixture *f = *state;
	char text[1024];
	char value[400];
	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(text, sizeof(text), "[agent]\nlog_level = info\nstate_dir = /%s\n" OUTPUT_FILE, value);
	load_fails(f, text, 3,
		   "line longer than 198 characters; split the value over continuation lines (indented)");
	/* The rest of the file is still read: its lines keep their numbers. */
	assert_int_equal(f->diag.count, 1);

	snprintf(text, sizeof(text), "[agent]\nlog_level = info\nstate_dir = /%s\nbad = 1\n" OUTPUT_FILE, value);
	load_fails(f, text, 4, "unknown key 'bad'");

	/* 198 characters is fine. */
	char ok[200];
	memset(ok, 'y', sizeof(ok));
	int prefix = snprintf(ok, sizeof(ok), "state_dir = /");
	ok[prefix] = 'y';
	ok[198] = '\0';
	snprintf(text, sizeof(text), "[agent]\n%s\n" OUTPUT_FILE, ok);
	load_ok(f, text);
	assert_int_equal(strlen(f->cfg->agent.state_dir), 198 - 12);
}

static void test_crlf(void **state)
{
	struct fixture *f = *state;
	load_ok(f, "[agent]\r\nlog_level = debug\r\n\r\n[output \"debug\"]\r\ntype = file\r\npath = /tmp/x\r\n");
	assert_int_equal(f->cfg->agent.log_level, 3);
	assert_string_equal(*(char **)field(&f->cfg->outputs[0], "path"), "/tmp/x");
	load_fails(f, "[agent]\r\nnope = 1\r\n" OUTPUT_FILE, 2, "unknown key 'nope'");
}

int main(void)
{
	unit_quiet_logs();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_minimal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_errors_collected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diag_print, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_not_echoed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crlf, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_option.c - option tables: parsing every type, defaults, bad values
 * and their messages, key look-up, and the built-in tables themselves. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "option.h"
#include "outputs/output.h"
#include "secret.h"
#include "sources/source.h"

/* A module config with one field of every type. */
struct tconf {
	char *name;
	int64_t count;
	bool enabled;
	uint64_t max_size;
	int64_t interval;
	int mode;
	struct ax_strlist tags;
	struct ax_strlist kinds;
	struct ax_secret *token;
	struct ax_kvlist pass;
	char *nodef;
};

#define T(field) offsetof(struct tconf, field)

static const char *const mode_values[] = { "fast", "safe", NULL };
static const char *const kind_values[] = { "x", "y", "z", NULL };

static const struct ax_option topts[] = {
	{ "name", AX_OPT_STRING, "annexa", 0, T(name), 0, 0, NULL, "A string." },
	{ "count", AX_OPT_INT, "5", 0, T(count), 1, 100, NULL, "An integer from 1 to 100." },
	{ "enabled", AX_OPT_BOOL, "true", 0, T(enabled), 0, 0, NULL, "A bool." },
	{ "max_size", AX_OPT_SIZE, "4MiB", 0, T(max_size), 1024, 1073741824, NULL, "A size." },
	{ "interval", AX_OPT_DURATION, "30s", 0, T(interval), 0, 0, NULL, "A duration." },
	{ "mode", AX_OPT_ENUM, "safe", 0, T(mode), 0, 0, mode_values, "An enum." },
	{ "tags", AX_OPT_LIST, "a, b", 0, T(tags), 0, 0, NULL, "A free list." },
	{ "kinds", AX_OPT_LIST, "", 0, T(kinds), 0, 0, kind_values, "A checked list." },
	{ "token", AX_OPT_SECRET, NULL, 0, T(token), 0, 0, NULL, "A secret." },
	{ "pass.", AX_OPT_PREFIX, NULL, 0, T(pass), 0, 0, NULL, "Pass-through keys." },
	{ "nodef", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, T(nodef), 0, 0, NULL, "No default." },
	AX_OPTIONS_END,
};

static const struct ax_option *const ttables[] = { topts, NULL };

static const struct ax_option *opt(const char *key)
{
	const struct ax_option *o = ax_option_find(ttables, key);
	if (!o)
		fail_msg("no option for key '%s'", key);
	return o;
}

/* ax_option_set on a zeroed conf with the defaults applied. */
static ax_err set(struct tconf *c, const char *key, const char *text, char *why, size_t len)
{
	return ax_option_set(opt(key), c, key, text, why, len);
}

static int setup_conf(void **state)
{
	struct tconf *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	assert_int_equal(ax_options_defaults(ttables, c), AX_OK);
	*state = c;
	return 0;
}

static int teardown_conf(void **state)
{
	ax_options_free(ttables, *state);
	free(*state);
	return 0;
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	struct tconf *c = *state;
	assert_string_equal(c->name, "annexa");
	assert_int_equal(c->count, 5);
	assert_true(c->enabled);
	assert_int_equal(c->max_size, 4u << 20);
	assert_int_equal(c->interval, 30000);
	assert_int_equal(c->mode, 1);
	assert_int_equal(c->tags.count, 2);
	assert_string_equal(c->tags.items[0], "a");
	assert_string_equal(c->tags.items[1], "b");
	assert_int_equal(c->kinds.count, 0);
	assert_null(c->token);
	assert_int_equal(c->pass.count, 0);
	assert_null(c->nodef);
}

static void test_free_resets(void **state)
{
	struct tconf *c = *state;
	char why[256];
	assert_int_equal(set(c, "token", "s", why, sizeof(why)), AX_OK);
	assert_int_equal(set(c, "pass.x", "1", why, sizeof(why)), AX_OK);
	ax_options_free(ttables, c);
	assert_null(c->name);
	assert_null(c->tags.items);
	assert_int_equal(c->tags.count, 0);
	assert_null(c->token);
	assert_null(c->pass.items);
	assert_int_equal(c->pass.count, 0);
	/* Freeing twice is harmless: teardown frees again. */
}

/* ---- good values of every type, one table ---- */

struct good_case {
	const char *key;
	const char *text;
	int64_t want; /* INT, SIZE, DURATION, BOOL, ENUM */
};

static const struct good_case good_numbers[] = {
	{ "count", "1", 1 },
	{ "count", "100", 100 },
	{ "count", "42", 42 },
	{ "count", " 42", 42 },
	{ "count", "+7", 7 },
	{ "max_size", "1024", 1024 },
	{ "max_size", "1024B", 1024 },
	{ "max_size", "64KiB", 65536 },
	{ "max_size", "4MiB", 4194304 },
	{ "max_size", "1GiB", 1073741824 },
	{ "max_size", "1.5KiB", 1536 },
	{ "max_size", "2 MiB", 2097152 },
	{ "interval", "250ms", 250 },
	{ "interval", "30s", 30000 },
	{ "interval", "45", 45000 },
	{ "interval", "5m", 300000 },
	{ "interval", "24h", 86400000 },
	{ "interval", "7d", 604800000 },
	{ "interval", "1.5s", 1500 },
	{ "interval", "0s", 0 },
	{ "enabled", "false", 0 },
	{ "enabled", "true", 1 },
	{ "enabled", "no", 0 },
	{ "enabled", "yes", 1 },
	{ "enabled", "off", 0 },
	{ "enabled", "on", 1 },
	{ "enabled", "0", 0 },
	{ "enabled", "1", 1 },
	{ "enabled", "FALSE", 0 },
	{ "enabled", "Yes", 1 },
	{ "mode", "fast", 0 },
	{ "mode", "safe", 1 },
};

static int64_t value_of(const struct tconf *c, const char *key)
{
	if (strcmp(key, "count") == 0)
		return c->count;
	if (strcmp(key, "max_size") == 0)
		return (int64_t)c->max_size;
	if (strcmp(key, "interval") == 0)
		return c->interval;
	if (strcmp(key, "enabled") == 0)
		return c->enabled;
	if (strcmp(key, "mode") == 0)
		return c->mode;
	fail_msg("no value_of for %s", key);
	return -1;
}

static void test_good_values(void **state)
{
	struct tconf *c = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(good_numbers); i++) {
		const struct good_case *g = &good_numbers[i];
		char why[256] = "untouched";
		ax_err err = set(c, g->key, g->text, why, sizeof(why));
		if (err != AX_OK || value_of(c, g->key) != g->want)
			fail_msg("%s = '%s': err %d (%s), value %lld, want %lld", g->key, g->text, err,
				 why, (long long)value_of(c, g->key), (long long)g->want);
		assert_string_equal(why, ""); /* cleared on success */
	}
}

/* ---- bad values, with the message a user sees ---- */

struct bad_case {
	const char *key;
	const char *text;
	const char *why;
};

static const struct bad_case bad_values[] = {
	{ "count", "", "'' is not an integer" },
	{ "count", "4x", "'4x' is not an integer" },
	{ "count", "42 ", "'42 ' is not an integer" },
	{ "count", "0x10", "'0x10' is not an integer" },
	{ "count", "1.5", "'1.5' is not an integer" },
	{ "count", "0", "'0' is out of range" },
	{ "count", "101", "'101' is out of range" },
	{ "count", "-1", "'-1' is out of range" },
	{ "count", "99999999999999999999", "'99999999999999999999' is not an integer" },
	{ "max_size", "", "'' is not a size such as 512KiB, 4MiB or 1GiB" },
	{ "max_size", "4 mib", "'4 mib' is not a size such as 512KiB, 4MiB or 1GiB" },
	{ "max_size", "4MB", "'4MB' is not a size" },
	{ "max_size", "-4MiB", "'-4MiB' is not a size" },
	{ "max_size", "MiB", "'MiB' is not a size" },
	{ "max_size", "12 parsecs", "'12 parsecs' is not a size" },
	{ "max_size", "512", "'512' is out of range" },
	{ "max_size", "2GiB", "'2GiB' is out of range" },
	{ "max_size", "9000000TiB", "'9000000TiB' is not a size" },
	{ "interval", "", "'' is not a duration such as 500ms, 30s, 5m, 24h or 7d" },
	{ "interval", "10 min", "'10 min' is not a duration" },
	{ "interval", "-5s", "'-5s' is not a duration" },
	{ "interval", "1w", "'1w' is not a duration" },
	{ "interval", "5S", "'5S' is not a duration" },
	{ "enabled", "maybe", "'maybe' is not a boolean (true or false)" },
	{ "enabled", "", "'' is not a boolean" },
	{ "enabled", "truee", "'truee' is not a boolean" },
	{ "mode", "FAST", "'FAST' is not one of: fast, safe" },
	{ "mode", "", "'' is not one of: fast, safe" },
	{ "mode", "slow", "'slow' is not one of: fast, safe" },
	{ "kinds", "x, w", "'w' is not one of: x, y, z" },
	{ "kinds", "X", "'X' is not one of: x, y, z" },
	{ "token", "", "empty value (set it, or use token_file)" },
};

static void test_bad_values(void **state)
{
	struct tconf *c = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad_values); i++) {
		const struct bad_case *b = &bad_values[i];
		char why[256] = "";
		ax_err err = set(c, b->key, b->text, why, sizeof(why));
		if (err != AX_ERR_CONFIG || !strstr(why, b->why))
			fail_msg("%s = '%s': err %d, why '%s', want '%s'", b->key, b->text, err, why, b->why);
	}
}

/* A rejected value leaves the previous one in place. */
static void test_bad_value_keeps_old(void **state)
{
	struct tconf *c = *state;
	char why[256];
	assert_int_equal(set(c, "count", "77", why, sizeof(why)), AX_OK);
	assert_int_equal(set(c, "count", "1000", why, sizeof(why)), AX_ERR_CONFIG);
	assert_int_equal(c->count, 77);
	assert_int_equal(set(c, "kinds", "y", why, sizeof(why)), AX_OK);
	assert_int_equal(set(c, "kinds", "z, nope", why, sizeof(why)), AX_ERR_CONFIG);
	assert_int_equal(c->kinds.count, 1);
	assert_string_equal(c->kinds.items[0], "y");
	assert_int_equal(set(c, "mode", "fast", why, sizeof(why)), AX_OK);
	assert_int_equal(set(c, "mode", "nope", why, sizeof(why)), AX_ERR_CONFIG);
	assert_int_equal(c->mode, 0);
}

/* A short why buffer is cut, never overrun (ASan watches). */
static void test_short_why(void **state)
{
	struct tconf *c = *state;
	char why[8];
	assert_int_equal(set(c, "mode", "a-long-bad-value", why, sizeof(why)), AX_ERR_CONFIG);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_memory_equal(why, "'a-long", 7);
}

/* ---- strings and lists ---- */

static void test_string(void **state)
{
	struct tconf *c = *state;
	char why[64];
	assert_int_equal(set(c, "name", "", why, sizeof(why)), AX_OK);
	assert_string_equal(c->name, "");
	assert_int_equal(set(c, "name", " spaced value ", why, sizeof(why)), AX_OK);
	assert_string_equal(c->name, " spaced value "); /* kept as given: the INI reader trims */
	assert_int_equal(set(c, "nodef", "x", why, sizeof(why)), AX_OK);
	assert_string_equal(c->nodef, "x");
}

struct list_case {
	const char *text;
	size_t count;
	const char *items[4];
};

static const struct list_case lists[] = {
	{ "", 0, { NULL } },
	{ " , ,", 0, { NULL } },
	{ "one", 1, { "one" } },
	{ "a,b,c", 3, { "a", "b", "c" } },
	{ "  a , b  ,c  ", 3, { "a", "b", "c" } },
	{ "a,,b", 2, { "a", "b" } },
	{ "a b, c", 2, { "a b", "c" } },
	{ "Audit.Exchange,\tDLP.All", 2, { "Audit.Exchange", "DLP.All" } },
};

static void test_lists(void **state)
{
	struct tconf *c = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(lists); i++) {
		char lwhy[64];
		assert_int_equal(set(c, "tags", lists[i].text, lwhy, sizeof(lwhy)), AX_OK);
		if (c->tags.count != lists[i].count)
			fail_msg("'%s': %zu items, want %zu", lists[i].text, c->tags.count, lists[i].count);
		for (size_t k = 0; k < lists[i].count; k++)
			assert_string_equal(c->tags.items[k], lists[i].items[k]);
	}
	char why[64];
	assert_int_equal(set(c, "kinds", "z,x", why, sizeof(why)), AX_OK);
	assert_true(ax_strlist_contains(&c->kinds, "z"));
	assert_true(ax_strlist_contains(&c->kinds, "x"));
	assert_false(ax_strlist_contains(&c->kinds, "y"));
	assert_false(ax_strlist_contains(&c->kinds, "X"));
}

/* ---- secrets ---- */

static void test_secret_value(void **state)
{
	struct tconf *c = *state;
	char why[256];
	assert_int_equal(set(c, "token", "hunter2", why, sizeof(why)), AX_OK);
	assert_non_null(c->token);
	assert_int_equal(c->token->len, 7);
	assert_string_equal(c->token->value, "hunter2");
	/* Set again: replaced, the old one freed (ASan checks the leak). */
	assert_int_equal(set(c, "token", "other", why, sizeof(why)), AX_OK);
	assert_string_equal(c->token->value, "other");
}

struct secret_file_case {
	const char *content;
	size_t len;
	const char *want; /* NULL: error */
	const char *why;
};

static const struct secret_file_case secret_files[] = {
	{ "s3cr3t", 6, "s3cr3t", NULL },
	{ "s3cr3t\n", 7, "s3cr3t", NULL },
	{ "s3cr3t\r\n", 8, "s3cr3t", NULL },
	{ "s3cr3t\n\n\n", 9, "s3cr3t", NULL },
	{ " padded \n", 9, " padded ", NULL },
	{ "two\nlines\n", 10, "two\nlines", NULL },
	{ "", 0, NULL, "is empty" },
	{ "\n", 1, NULL, "is empty" },
};

static void test_secret_file(void **state)
{
	struct tconf *c = *state;
	char *dir = unit_tmpdir();
	for (size_t i = 0; i < UNIT_ARRAY_LEN(secret_files); i++) {
		const struct secret_file_case *s = &secret_files[i];
		char *path = unit_write_file(dir, "token", s->content, s->len);
		char why[512] = "";
		ax_err err = set(c, "token_file", path, why, sizeof(why));
		if (s->want) {
			if (err || !c->token || strcmp(c->token->value, s->want) != 0)
				fail_msg("case %zu: err %d why '%s'", i, err, why);
			assert_int_equal(c->token->len, strlen(s->want));
		} else {
			assert_int_equal(err, AX_ERR_CONFIG);
			assert_contains(why, s->why);
			assert_contains(why, path);
		}
		free(path);
	}
	unit_tmpdir_remove(dir);
}

static void test_secret_file_errors(void **state)
{
	struct tconf *c = *state;
	char *dir = unit_tmpdir();
	char why[512];
	char missing[4200];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(set(c, "token_file", missing, why, sizeof(why)), AX_ERR_CONFIG);
	assert_contains(why, "cannot read secret file");
	assert_contains(why, "No such file or directory");

	/* 64 KiB is the most a secret file may hold. */
	size_t big = 64 * 1024 + 1;
	char *data = malloc(big);
	assert_non_null(data);
	memset(data, 'k', big);
	char *path = unit_write_file(dir, "big", data, big);
	assert_int_equal(set(c, "token_file", path, why, sizeof(why)), AX_ERR_CONFIG);
	assert_contains(why, "larger than 64 KiB");
	assert_not_contains(why, "kkkk"); /* never echoes the content */
	free(path);
	path = unit_write_file(dir, "max", data, big - 1);
	assert_int_equal(set(c, "token_file", path, why, sizeof(why)), AX_OK);
	assert_int_equal(c->token->len, big - 1);
	free(path);
	free(data);
	unit_tmpdir_remove(dir);
}

/* ---- key look-up ---- */

static void test_find(void **state)
{
	(void)state;
	static const struct { const char *key; const char *opt; } cases[] = {
		{ "name", "name" },          { "count", "count" },
		{ "token", "token" },        { "token_file", "token" },
		{ "pass.a", "pass." },       { "pass.a.b.c", "pass." },
		{ "Name", NULL },            { "token_files", NULL },
		{ "tokenfile", NULL },       { "token_", NULL },
		{ "pass.", NULL },           { "pass", NULL },
		{ "", NULL },                { "name ", NULL },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(cases); i++) {
		const struct ax_option *o = ax_option_find(ttables, cases[i].key);
		if (cases[i].opt == NULL && o)
			fail_msg("'%s' found option %s", cases[i].key, o->name);
		if (cases[i].opt && (!o || strcmp(o->name, cases[i].opt) != 0))
			fail_msg("'%s' found %s, want %s", cases[i].key, o ? o->name : "nothing", cases[i].opt);
	}
}

static void test_prefix(void **state)
{
	struct tconf *c = *state;
	char why[64];
	assert_int_equal(set(c, "pass.compression.codec", "zstd", why, sizeof(why)), AX_OK);
	assert_int_equal(set(c, "pass.acks", "all", why, sizeof(why)), AX_OK);
	assert_int_equal(c->pass.count, 2);
	assert_string_equal(c->pass.items[0].key, "compression.codec");
	assert_string_equal(c->pass.items[0].value, "zstd");
	assert_string_equal(c->pass.items[1].key, "acks");
	assert_string_equal(c->pass.items[1].value, "all");
}

static void test_list_keys(void **state)
{
	(void)state;
	char keys[512];
	ax_option_list_keys(ttables, keys, sizeof(keys));
	assert_string_equal(keys, "name, count, enabled, max_size, interval, mode, tags, kinds, "
				  "token, token_file, pass.*, nodef");
	/* Cut short, still terminated and never overrun. */
	for (size_t len = 1; len < 40; len++) {
		char *small = malloc(len);
		assert_non_null(small);
		ax_option_list_keys(ttables, small, len);
		assert_true(strlen(small) < len);
		assert_memory_equal(small, keys, strlen(small));
		free(small);
	}
}

static void test_type_names(void **state)
{
	(void)state;
	static const char *const names[] = { "string", "integer", "bool", "size", "duration",
					     "enum", "list", "secret", "prefix" };
	for (int t = AX_OPT_STRING; t <= AX_OPT_PREFIX; t++)
		assert_string_equal(ax_option_type_name((enum ax_opt_type)t), names[t]);
}

/* The parse helpers used outside option tables (annexa map's flags). */
static void test_parse_helpers(void **state)
{
	(void)state;
	uint64_t size;
	int64_t ms;
	bool b;
	assert_int_equal(ax_parse_size("3KiB", &size), AX_OK);
	assert_int_equal(size, 3072);
	assert_int_equal(ax_parse_size("1TiB", &size), AX_OK);
	assert_int_equal(size, 1ULL << 40);
	assert_int_equal(ax_parse_size("3 KB", &size), AX_ERR_CONFIG);
	assert_int_equal(ax_parse_duration("2h", &ms), AX_OK);
	assert_int_equal(ms, 7200000);
	assert_int_equal(ax_parse_duration("2 h", &ms), AX_OK);
	assert_int_equal(ms, 7200000);
	assert_int_equal(ax_parse_duration("h", &ms), AX_ERR_CONFIG);
	assert_int_equal(ax_parse_bool("ON", &b), AX_OK);
	assert_true(b);
	assert_int_equal(ax_parse_bool("nein", &b), AX_ERR_CONFIG);
}

/* ---- the built-in tables: every default parses, every key is documented ---- */

static void check_table(const char *where, const struct ax_option *const *tables, size_t conf_size)
{
	void *conf = calloc(1, conf_size);
	assert_non_null(conf);
	if (ax_options_defaults(tables, conf) != AX_OK)
		fail_msg("%s: a default does not parse", where);
	ax_options_free(tables, conf);
	free(conf);
	for (const struct ax_option *const *t = tables; *t; t++) {
		for (const struct ax_option *o = *t; o->name; o++) {
			if (!o->description || !o->description[0])
				fail_msg("%s: %s has no description", where, o->name);
			if (o->type == AX_OPT_ENUM && !o->values)
				fail_msg("%s: enum %s has no values", where, o->name);
			if ((o->flags & AX_OPT_REQUIRED) && o->def)
				fail_msg("%s: %s is required but has a default", where, o->name);
			if (o->type == AX_OPT_ENUM && o->def) {
				bool found = false;
				for (size_t v = 0; o->values[v]; v++)
					found = found || strcmp(o->values[v], o->def) == 0;
				if (!found)
					fail_msg("%s: default of %s is not one of its values", where, o->name);
			}
			const struct ax_option *first = ax_option_find(tables, o->name);
			if (o->type != AX_OPT_PREFIX && first != o)
				fail_msg("%s: key %s is declared twice", where, o->name);
		}
	}
}

static void test_builtin_tables(void **state)
{
	(void)state;
	static const struct ax_option *const agent[] = { ax_agent_options, NULL };
	check_table("[agent]", agent, sizeof(struct ax_agent_conf));
	size_t n = 0;
	for (size_t i = 0; ax_source_kinds[i]; i++, n++)
		check_table(ax_source_kinds[i]->name, ax_source_kinds[i]->tables, ax_source_kinds[i]->conf_size);
	assert_int_equal(n, 4);
	n = 0;
	for (size_t i = 0; ax_output_builtins[i]; i++, n++) {
		const struct ax_conf_kind *k = &ax_output_builtins[i]->conf;
		assert_int_equal(ax_output_builtins[i]->abi_version, AX_OUTPUT_ABI_VERSION);
		/* Every output takes the match.* keys, and its conf starts with them. */
		assert_ptr_equal(k->tables[0], ax_output_common_options);
		assert_true(k->conf_size >= sizeof(struct ax_output_common_conf));
		check_table(k->name, k->tables, k->conf_size);
	}
	assert_int_equal(n, 4);
}

/* The documented defaults of [agent] (README, DESIGN.md). */
static void test_agent_defaults(void **state)
{
	(void)state;
	struct ax_agent_conf a;
	assert_int_equal(ax_agent_conf_defaults(&a), AX_OK);
	assert_string_equal(a.state_dir, "/var/lib/annexa");
	assert_int_equal(a.spool_max_size, 1ULL << 30);
	assert_int_equal(a.spool_full, AX_SPOOL_PAUSE);
	assert_string_equal(a.dead_letter, "/var/lib/annexa/dead-letter.jsonl");
	assert_int_equal(a.mapping_files.count, 0);
	assert_string_equal(a.plugin_dir, "/usr/lib/annexa/plugins");
	assert_string_equal(a.metrics_listen, "127.0.0.1:9469");
	assert_int_equal(a.log_level, 2); /* info */
	assert_int_equal(a.shutdown_timeout, 30000);
	assert_int_equal(a.max_record_size, 4u << 20);
	assert_int_equal(a.max_depth, 64);
	assert_string_equal(a.host, "");
	ax_agent_conf_finish(&a);
	assert_null(a.state_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_free_resets, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_good_values, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_bad_values, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_bad_value_keeps_old, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_short_why, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_string, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_lists, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_secret_value, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_secret_file, setup_conf, teardown_conf),
		cmocka_unit_test_setup_teardown(test_secret_file_errors, setup_conf, teardown_conf),
		cmocka_unit_test(test_find),
		cmocka_unit_test_setup_teardown(test_prefix, setup_conf, teardown_conf),
		cmocka_unit_test(test_list_keys),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test(test_builtin_tables),
		cmocka_unit_test(test_agent_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

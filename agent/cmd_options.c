/* annexa options: every config key, from the option tables.
 *
 *   --format markdown  the reference in README.md (the default)
 *   --format ini       packaging/annexa.conf.example: a config file where
 *                      every key stands commented out with its default
 *   --format json      the tables as data; packaging/gen_man.py turns it
 *                      (with `annexa --help`) into the man page annexa(1)
 *
 * The three walk the same list of sections, so a key added to a table is in
 * every generated document at the next build; a section that appears once
 * (like [agent]) is listed in `singletons` below. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "outputs/output.h"
#include "sources/source.h"
#include "version.h"

static const struct ax_option *const agent_tables[] = { ax_agent_options, NULL };
static const struct ax_option *const evidence_tables[] = { ax_evidence_options, NULL };

/* Sections without a name, in the order of the file. */
static const struct singleton {
	const char *name;
	const char *description;
	const struct ax_option *const *tables;
} singletons[] = {
	{ "agent", "Settings of the agent itself.", agent_tables },
	{ "evidence", "The evidence ledger (per tenant, source, control and UTC day: records and what each output "
		      "acknowledged), its daily evidence_summary records, and the gap watch.", evidence_tables },
};

struct section {
	const char *word; /* "agent", "source", "output" */
	const char *type; /* NULL for a singleton */
	const char *description;
	const struct ax_option *const *tables;
};

typedef void (*section_fn)(const struct section *s, void *ctx);

static void each_section(section_fn fn, void *ctx)
{
	for (size_t i = 0; i < sizeof(singletons) / sizeof(singletons[0]); i++) {
		struct section s = { singletons[i].name, NULL, singletons[i].description, singletons[i].tables };
		fn(&s, ctx);
	}
	for (size_t i = 0; ax_source_kinds[i]; i++) {
		const struct ax_conf_kind *k = ax_source_kinds[i];
		struct section s = { "source", k->name, k->description, k->tables };
		fn(&s, ctx);
	}
	for (size_t i = 0; ax_output_builtins[i]; i++) {
		const struct ax_conf_kind *k = &ax_output_builtins[i]->conf;
		struct section s = { "output", k->name, k->description, k->tables };
		fn(&s, ctx);
	}
}

#define EACH_OPTION(s, o) \
	for (const struct ax_option *const *t_ = (s)->tables; *t_; t_++) \
		for (const struct ax_option *o = *t_; o->name; o++)

static bool has_default(const struct ax_option *o)
{
	return !(o->flags & AX_OPT_REQUIRED) && o->def && o->def[0];
}

/* ---- markdown: the README reference ---- */

static void md_values(const char *const *values)
{
	for (size_t i = 0; values[i]; i++)
		printf("%s`%s`", i ? ", " : "", values[i]);
}

static void md_option(const struct ax_option *o)
{
	const char *suffix = o->type == AX_OPT_PREFIX ? "*" : "";
	printf("| `%s%s` | %s | ", o->name, suffix, ax_option_type_name(o->type));
	if (o->flags & AX_OPT_REQUIRED)
		printf("required");
	else if (has_default(o))
		printf("`%s`", o->def);
	else
		printf("(empty)");
	printf(" | %s", o->description);
	if (o->values) {
		printf(" One of: ");
		md_values(o->values);
		printf(".");
	}
	if (o->type == AX_OPT_SECRET)
		printf(" Also `%s_file`: a file holding the value.", o->name);
	printf(" |\n");
}

static void md_section(const struct section *s, void *ctx)
{
	(void)ctx;
	if (s->type)
		printf("\n### [%s \"NAME\"] type = %s\n", s->word, s->type);
	else
		printf("\n### [%s]\n", s->word);
	printf("\n%s\n\n| key | type | default | description |\n|---|---|---|---|\n", s->description);
	EACH_OPTION(s, o)
		md_option(o);
}

/* ---- ini: the commented example config ---- */

#define INI_WIDTH 78

/* Prints text as ';'-comment lines of at most INI_WIDTH columns, cut at
 * spaces (a word longer than a line stands alone). */
static void ini_comment(const char *prefix, const char *text)
{
	size_t col = 0;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t w = strcspn(p, " ");
		if (!w)
			break;
		if (col && col + 1 + w > INI_WIDTH) {
			printf("\n");
			col = 0;
		}
		if (!col)
			col = (size_t)printf("%s", prefix) - 1;
		col += (size_t)printf(" %.*s", (int)w, p);
		p += w;
	}
	if (col)
		printf("\n");
}

static void ini_option(const struct ax_option *o)
{
	struct ax_buf b;
	ax_buf_init(&b, 4096);
	ax_err err = ax_buf_addf(&b, "%s", o->description);
	if (!err && o->values) {
		err = ax_buf_adds(&b, " One of:");
		for (size_t i = 0; !err && o->values[i]; i++)
			err = ax_buf_addf(&b, "%s %s", i ? "," : "", o->values[i]);
		if (!err)
			err = ax_buf_addc(&b, '.');
	}
	if (!err)
		err = ax_buf_addf(&b, " (%s%s)", ax_option_type_name(o->type),
				  o->flags & AX_OPT_REQUIRED ? ", required" : "");
	if (!err)
		err = ax_buf_cstr(&b);
	printf("\n");
	ini_comment(";", err ? o->description : b.data);
	ax_buf_finish(&b);
	switch (o->type) {
	case AX_OPT_PREFIX:
		printf(";%sNAME = VALUE\n", o->name);
		break;
	case AX_OPT_SECRET:
		printf("; ${ENV}, or %s_file = PATH: a file holding it.\n", o->name);
		printf(";%s =%s%s\n", o->name, has_default(o) ? " " : "", has_default(o) ? o->def : "");
		printf(";%s_file =\n", o->name);
		break;
	default:
		printf(";%s =%s%s\n", o->name, has_default(o) ? " " : "", has_default(o) ? o->def : "");
		break;
	}
}

static void ini_section(const struct section *s, void *ctx)
{
	(void)ctx;
	printf("\n");
	if (!s->type) {
		ini_comment(";", s->description);
		printf("[%s]\n", s->word);
	} else {
		printf("; ---- [%s \"NAME\"] type = %s ----\n", s->word, s->type);
		ini_comment(";", s->description);
		printf(";[%s \"%s\"]\n;type = %s\n", s->word, s->type, s->type);
	}
	EACH_OPTION(s, o)
		ini_option(o);
}

static const char ini_head[] =
	"; annexa.conf: every option of annexa, each with its default.\n"
	";\n"
	"; Generated from the option tables (`annexa options --format ini`); annexa(1)\n"
	"; describes the same keys. A line ';key = value' shows a key with its default:\n"
	"; remove the ';' to set it. Sections that start ';[' are templates: remove the\n"
	"; ';' of the header, of 'type' and of the keys you set.\n"
	";\n"
	"; [agent] once; [source \"NAME\"] and [output \"NAME\"] as many as needed, each\n"
	"; with a type; NAME is yours. Comments start with ';' or '#'. Sizes take KiB,\n"
	"; MiB, GiB; durations ms, s, m, h, d; lists are comma-separated. ${NAME} is\n"
	"; the environment variable NAME. Secrets never stand in this file: KEY_file =\n"
	"; PATH (the file's content) or KEY = ${ENV}. Check a file with\n"
	"; `annexa check-config -c FILE`.\n";

/* What runs out of the box: a local pipe, so the service starts and shows
 * what annexa does before any credential is set. */
static const char ini_starter[] =
	"\n"
	"; ---- what runs until you configure a source and an output above ----\n"
	";\n"
	"; JSON lines appended to /var/lib/annexa/inbox.jsonl (Microsoft 365 audit\n"
	"; records exported from the tenant, for example) come out enriched in\n"
	"; /var/lib/annexa/enriched.jsonl. Remove these two sections once the real\n"
	"; ones are in place.\n"
	"\n"
	"[source \"inbox\"]\n"
	"type = file\n"
	"path = /var/lib/annexa/inbox.jsonl\n"
	"follow = true\n"
	"\n"
	"[output \"local\"]\n"
	"type = file\n"
	"path = /var/lib/annexa/enriched.jsonl\n";

/* ---- json: the tables as data ---- */

struct json_ctx {
	struct ax_buf b;
	bool first;
	ax_err err;
};

static void json_str(struct json_ctx *j, const char *name, const char *value)
{
	if (j->err)
		return;
	j->err = ax_buf_addf(&j->b, "\"%s\":", name);
	if (!j->err)
		j->err = value ? ax_buf_add_json_str(&j->b, value, strlen(value)) : ax_buf_adds(&j->b, "null");
}

static void json_option(struct json_ctx *j, const struct ax_option *o, bool first)
{
	if (!j->err)
		j->err = ax_buf_adds(&j->b, first ? "{" : ",{");
	json_str(j, "name", o->name);
	if (!j->err)
		j->err = ax_buf_adds(&j->b, ",");
	json_str(j, "type", ax_option_type_name(o->type));
	if (!j->err)
		j->err = ax_buf_adds(&j->b, ",");
	json_str(j, "default", has_default(o) ? o->def : NULL);
	if (!j->err)
		j->err = ax_buf_addf(&j->b, ",\"required\":%s,", o->flags & AX_OPT_REQUIRED ? "true" : "false");
	json_str(j, "description", o->description);
	if (!j->err)
		j->err = ax_buf_adds(&j->b, ",\"values\":[");
	for (size_t i = 0; o->values && o->values[i] && !j->err; i++) {
		j->err = ax_buf_adds(&j->b, i ? "," : "");
		if (!j->err)
			j->err = ax_buf_add_json_str(&j->b, o->values[i], strlen(o->values[i]));
	}
	if (!j->err)
		j->err = ax_buf_adds(&j->b, "]}");
}

static void json_section(const struct section *s, void *ctx)
{
	struct json_ctx *j = ctx;
	if (!j->err)
		j->err = ax_buf_adds(&j->b, j->first ? "\n{" : ",\n{");
	j->first = false;
	json_str(j, "section", s->word);
	if (!j->err)
		j->err = ax_buf_adds(&j->b, ",");
	json_str(j, "type", s->type);
	if (!j->err)
		j->err = ax_buf_adds(&j->b, ",");
	json_str(j, "description", s->description);
	if (!j->err)
		j->err = ax_buf_adds(&j->b, ",\"options\":[");
	bool first = true;
	EACH_OPTION(s, o) {
		json_option(j, o, first);
		first = false;
	}
	if (!j->err)
		j->err = ax_buf_adds(&j->b, "]}");
}

static int print_json(void)
{
	struct json_ctx j = { .first = true };
	ax_buf_init(&j.b, 16u << 20);
	j.err = ax_buf_addf(&j.b, "{\"version\":\"%s\",\"sections\":[", AX_VERSION);
	each_section(json_section, &j);
	if (!j.err)
		j.err = ax_buf_adds(&j.b, "\n]}\n");
	int rc = AX_EXIT_OK;
	if (j.err || fwrite(j.b.data, 1, j.b.len, stdout) != j.b.len) {
		fprintf(stderr, "annexa options: %s\n", j.err ? ax_strerror(j.err) : "cannot write");
		rc = AX_EXIT_FAILURE;
	}
	ax_buf_finish(&j.b);
	return rc;
}

int ax_cmd_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "markdown";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (c != 'f')
			goto usage;
		format = optarg;
	}
	if (optind < argc)
		goto usage;
	if (strcmp(format, "markdown") == 0) {
		each_section(md_section, NULL);
	} else if (strcmp(format, "ini") == 0) {
		printf("%s", ini_head);
		each_section(ini_section, NULL);
		printf("%s", ini_starter);
	} else if (strcmp(format, "json") == 0) {
		return print_json();
	} else {
		goto usage;
	}
	return fflush(stdout) == 0 ? AX_EXIT_OK : AX_EXIT_FAILURE;
usage:
	fprintf(stderr, "usage: annexa options [--format markdown|ini|json]\n");
	return AX_EXIT_USAGE;
}

#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_tree.h>
#include <zlib.h>

#include "schema_data.h"

#define MAPPINGS_PREFIX "schemas/mappings/"
#define CATEGORIES_FILE "schemas/categories.json"
#define USER_FILE_MAX (64u << 20)

struct ax_op_slot {
	char *op; /* NULL: empty slot */
	unsigned *rules;
	size_t count;
};

/* Where a problem is: "FILE: rule ID: ...". */
struct ctx {
	const char *file;
	const char *rule;
	struct ax_diag *diag;
	const struct ax_catalog *cat;
	yajl_val categories;
};

__attribute__((format(printf, 2, 3))) static void problem(struct ctx *c, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->rule)
		ax_diag_add(c->diag, c->file, 0, "rule %s: %s", c->rule, msg);
	else
		ax_diag_add(c->diag, c->file, 0, "%s", msg);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static yajl_val member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	return yajl_tree_get(obj, path, yajl_t_any);
}

static bool only_keys(struct ctx *c, yajl_val obj, const char *const *allowed, const char *what)
{
	bool ok = true;
	for (size_t i = 0; i < YAJL_GET_OBJECT(obj)->len; i++) {
		const char *k = YAJL_GET_OBJECT(obj)->keys[i];
		size_t j = 0;
		while (allowed[j] && strcmp(allowed[j], k) != 0)
			j++;
		if (!allowed[j]) {
			problem(c, "unknown key '%s' in %s", k, what);
			ok = false;
		}
	}
	return ok;
}

/* A scalar as the lower-case text rules compare with. */
static char *scalar_text(yajl_val v)
{
	char *s = NULL;
	if (YAJL_IS_STRING(v))
		s = strdup(v->u.string);
	else if (YAJL_IS_NUMBER(v))
		s = strdup(v->u.number.r);
	else if (YAJL_IS_TRUE(v))
		s = strdup("true");
	else if (YAJL_IS_FALSE(v))
		s = strdup("false");
	if (s)
		lower(s);
	return s;
}

static bool push(struct ax_strlist *l, char *s)
{
	char **items = s ? realloc(l->items, (l->count + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(s);
		return false;
	}
	l->items = items;
	l->items[l->count++] = s;
	return true;
}

static void strlist_free(struct ax_strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* A non-empty array of scalars → lower-case list. */
static bool scalar_list(struct ctx *c, yajl_val v, const char *what, struct ax_strlist *out)
{
	if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len == 0) {
		problem(c, "%s must be a non-empty array", what);
		return false;
	}
	for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++) {
		yajl_val item = YAJL_GET_ARRAY(v)->values[i];
		if (YAJL_IS_OBJECT(item) || YAJL_IS_ARRAY(item) || YAJL_IS_NULL(item)) {
			problem(c, "%s[%zu] must be a string, number or boolean", what, i);
			return false;
		}
		if (!push(out, scalar_text(item)))
			return false;
	}
	return true;
}

/* ---- field paths ---- */

static const char *const namevalue_arrays[] = {
	"Parameters", "ExtendedProperties", "OperationProperties", "DeviceProperties", NULL,
};

static bool is_namevalue_array(const char *head, size_t len)
{
	for (size_t i = 0; namevalue_arrays[i]; i++)
		if (strlen(namevalue_arrays[i]) == len && strncmp(namevalue_arrays[i], head, len) == 0)
			return true;
	return false;
}

static bool parse_walk(struct ax_path *p, const char *text)
{
	p->kind = AX_PATH_WALK;
	for (const char *s = text;;) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);
		struct ax_path_step *steps = realloc(p->steps, (p->nsteps + 1) * sizeof(*steps));
		if (!steps)
			return false;
		p->steps = steps;
		struct ax_path_step *st = &steps[p->nsteps++];
		st->each = len > 3 && strncmp(s + len - 3, "[*]", 3) == 0;
		st->name = strndup(s, st->each ? len - 3 : len);
		if (!st->name || !st->name[0])
			return false;
		if (!dot)
			return true;
		s = dot + 1;
	}
}

static bool parse_path(struct ctx *c, const char *text, struct ax_path *p)
{
	memset(p, 0, sizeof(*p));
	p->root_key = -1;
	const char *dot = strchr(text, '.');
	size_t head = dot ? (size_t)(dot - text) : strlen(text);
	bool ok = true;
	if (strcmp(text, "*") == 0) {
		p->kind = AX_PATH_RAW;
	} else if (dot && dot[1] && is_namevalue_array(text, head)) {
		p->kind = AX_PATH_NAMEVALUE;
		p->array = strndup(text, head);
		p->name = strdup(dot + 1);
		ok = p->array && p->name;
	} else if (dot && dot[1] && head == 18 && strncmp(text, "ModifiedProperties", 18) == 0) {
		p->kind = AX_PATH_MODIFIED;
		p->array = strndup(text, head);
		p->name = strdup(dot + 1);
		ok = p->array && p->name;
		size_t n = ok ? strlen(p->name) : 0;
		if (ok && n > 9 && strcmp(p->name + n - 9, ".NewValue") == 0) {
			p->name[n - 9] = '\0';
		} else if (ok && n > 9 && strcmp(p->name + n - 9, ".OldValue") == 0) {
			p->name[n - 9] = '\0';
			p->old_value = true;
		}
	} else {
		ok = parse_walk(p, text);
	}
	if (!ok)
		problem(c, "malformed field path '%s'", text);
	return ok;
}

/* Decode picks out the member a path starts at (ax_rules.keys), so the
 * mapper need not search the record for it. */
static void key_path(struct ax_keyset *keys, struct ax_path *p)
{
	const char *first = ax_path_first(p);
	if (first)
		p->root_key = ax_keyset_add(keys, first, strlen(first));
}

static void key_conds(struct ax_keyset *keys, struct ax_conds *cs)
{
	for (size_t i = 0; i < cs->count; i++)
		key_path(keys, &cs->items[i].path);
}

static void key_paths(struct ax_rules *rs)
{
	ax_keyset_init(&rs->keys);
	for (size_t i = 0; i < rs->count; i++) {
		struct ax_rule *r = &rs->rules[i];
		key_conds(&rs->keys, &r->where);
		key_conds(&rs->keys, &r->where_any);
		key_conds(&rs->keys, &r->exclude);
		if (r->has_severity_from)
			key_path(&rs->keys, &r->severity_from);
	}
}

static void path_free(struct ax_path *p)
{
	for (size_t i = 0; i < p->nsteps; i++)
		free(p->steps[i].name);
	free(p->steps);
	free(p->array);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

/* ---- conditions ---- */

static const char *const op_names[] = {
	[AX_OP_EQUALS] = "equals", [AX_OP_IN] = "in", [AX_OP_CONTAINS] = "contains",
	[AX_OP_STARTSWITH] = "startswith", [AX_OP_EXISTS] = "exists",
	[AX_OP_NOT_EXISTS] = "not_exists", [AX_OP_GTE] = "gte", [AX_OP_LTE] = "lte",
	[AX_OP_RAW_CONTAINS] = "raw_contains",
};

static int op_of(const char *name)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strcmp(op_names[i], name) == 0)
			return (int)i;
	return -1;
}

static bool parse_cond_value(struct ctx *c, yajl_val v, struct ax_cond *cond)
{
	switch (cond->op) {
	case AX_OP_EXISTS:
	case AX_OP_NOT_EXISTS:
		return true;
	case AX_OP_IN:
		return scalar_list(c, v, "condition value", &cond->values);
	case AX_OP_GTE:
	case AX_OP_LTE:
		if (!YAJL_IS_NUMBER(v)) {
			problem(c, "condition %s needs a number", op_names[cond->op]);
			return false;
		}
		cond->number = YAJL_GET_DOUBLE(v);
		return true;
	default:
		if (!v || YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v) || YAJL_IS_NULL(v)) {
			problem(c, "condition %s needs a string, number or boolean value", op_names[cond->op]);
			return false;
		}
		return push(&cond->values, scalar_text(v));
	}
}

static bool parse_cond(struct ctx *c, yajl_val v, struct ax_cond *cond)
{
	static const char *const keys[] = { "field", "op", "value", NULL };
	memset(cond, 0, sizeof(*cond));
	if (!YAJL_IS_OBJECT(v)) {
		problem(c, "a condition must be an object {field, op, value}");
		return false;
	}
	if (!only_keys(c, v, keys, "condition"))
		return false;
	yajl_val field = member(v, "field"), op = member(v, "op");
	if (!YAJL_IS_STRING(field) || !YAJL_IS_STRING(op)) {
		problem(c, "a condition needs string \"field\" and \"op\"");
		return false;
	}
	int o = op_of(op->u.string);
	if (o < 0) {
		problem(c, "unknown condition op '%s' (equals, in, contains, startswith, exists, not_exists, gte, lte, raw_contains)", op->u.string);
		return false;
	}
	cond->op = (enum ax_cond_op)o;
	if ((cond->op == AX_OP_RAW_CONTAINS) != (strcmp(field->u.string, "*") == 0)) {
		problem(c, "raw_contains works on field \"*\" (the whole record) and \"*\" only with raw_contains");
		return false;
	}
	return parse_path(c, field->u.string, &cond->path) &&
	       parse_cond_value(c, member(v, "value"), cond);
}

static void conds_free(struct ax_conds *cs)
{
	for (size_t i = 0; i < cs->count; i++) {
		path_free(&cs->items[i].path);
		strlist_free(&cs->items[i].values);
	}
	free(cs->items);
	memset(cs, 0, sizeof(*cs));
}

static bool parse_conds(struct ctx *c, yajl_val v, const char *what, struct ax_conds *out)
{
	if (!v)
		return true;
	if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len == 0) {
		problem(c, "match.%s must be a non-empty array of conditions", what);
		return false;
	}
	size_t n = YAJL_GET_ARRAY(v)->len;
	out->items = calloc(n, sizeof(*out->items));
	if (!out->items)
		return false;
	for (size_t i = 0; i < n; i++) {
		/* Counted even when it fails, so conds_free frees what it parsed. */
		if (!parse_cond(c, YAJL_GET_ARRAY(v)->values[i], &out->items[out->count++]))
			return false;
	}
	return true;
}

/* ---- match ---- */

static bool parse_kinds(struct ctx *c, yajl_val v, unsigned *kinds)
{
	struct ax_strlist l = { 0 };
	bool ok = !v || scalar_list(c, v, "match.kind", &l);
	for (size_t i = 0; ok && i < l.count; i++) {
		if (strcmp(l.items[i], "o365") == 0)
			*kinds |= AX_KIND_BIT_O365;
		else if (strcmp(l.items[i], "graph_alert") == 0)
			*kinds |= AX_KIND_BIT_GRAPH_ALERT;
		else {
			problem(c, "match.kind: unknown kind '%s' (o365, graph_alert)", l.items[i]);
			ok = false;
		}
	}
	strlist_free(&l);
	return ok;
}

static bool parse_record_types(struct ctx *c, yajl_val v, struct ax_rule *r)
{
	if (!v)
		return true;
	r->has_record_type = true;
	if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len == 0) {
		problem(c, "match.record_type must be a non-empty array of integers");
		return false;
	}
	size_t n = YAJL_GET_ARRAY(v)->len;
	r->record_types = calloc(n, sizeof(long));
	for (size_t i = 0; r->record_types && i < n; i++) {
		yajl_val item = YAJL_GET_ARRAY(v)->values[i];
		if (!YAJL_IS_INTEGER(item) || YAJL_GET_INTEGER(item) < 0) {
			problem(c, "match.record_type[%zu] is not a non-negative integer", i);
			return false;
		}
		r->record_types[r->nrecord_types++] = (long)YAJL_GET_INTEGER(item);
	}
	return r->record_types != NULL;
}

static bool optional_list(struct ctx *c, yajl_val match, const char *key, struct ax_strlist *out)
{
	yajl_val v = member(match, key);
	char what[64];
	snprintf(what, sizeof(what), "match.%s", key);
	return !v || scalar_list(c, v, what, out);
}

static bool parse_match(struct ctx *c, yajl_val m, struct ax_rule *r)
{
	static const char *const keys[] = {
		"kind", "workload", "record_type", "record_type_names", "operation", "operation_glob",
		"result_status", "where", "where_any", "exclude", NULL,
	};
	if (!YAJL_IS_OBJECT(m)) {
		problem(c, "\"match\" must be an object");
		return false;
	}
	if (!only_keys(c, m, keys, "match"))
		return false;
	if (member(m, "record_type_names"))
		r->has_record_type = true;
	return parse_kinds(c, member(m, "kind"), &r->kinds) &&
	       optional_list(c, m, "workload", &r->workloads) &&
	       parse_record_types(c, member(m, "record_type"), r) &&
	       optional_list(c, m, "record_type_names", &r->record_type_names) &&
	       optional_list(c, m, "operation", &r->operations) &&
	       optional_list(c, m, "operation_glob", &r->globs) &&
	       optional_list(c, m, "result_status", &r->result_status) &&
	       parse_conds(c, member(m, "where"), "where", &r->where) &&
	       parse_conds(c, member(m, "where_any"), "where_any", &r->where_any) &&
	       parse_conds(c, member(m, "exclude"), "exclude", &r->exclude);
}

/* ---- yield ---- */

static int severity_of(const char *s)
{
	for (int i = 0; ax_severity_names[i]; i++)
		if (strcmp(ax_severity_names[i], s) == 0)
			return i;
	return -1;
}

static bool parse_severity(struct ctx *c, yajl_val v, const char *what, enum ax_severity *out)
{
	int s = YAJL_IS_STRING(v) ? severity_of(v->u.string) : -1;
	if (s < 0) {
		problem(c, "%s must be one of informational, low, medium, high, critical", what);
		return false;
	}
	*out = (enum ax_severity)s;
	return true;
}

static bool parse_severity_from(struct ctx *c, yajl_val v, struct ax_rule *r)
{
	static const char *const keys[] = { "field", "map", NULL };
	if (!v)
		return true;
	if (!YAJL_IS_OBJECT(v)) {
		problem(c, "severity_from must be an object {field, map}");
		return false;
	}
	if (!only_keys(c, v, keys, "severity_from"))
		return false;
	yajl_val field = member(v, "field"), map = member(v, "map");
	if (!YAJL_IS_STRING(field) || strcmp(field->u.string, "*") == 0 || !YAJL_IS_OBJECT(map) ||
	    YAJL_GET_OBJECT(map)->len == 0) {
		problem(c, "severity_from needs a string \"field\" (a field path, not \"*\") and a non-empty object \"map\"");
		return false;
	}
	if (!parse_path(c, field->u.string, &r->severity_from))
		return false;
	r->has_severity_from = true;
	size_t n = YAJL_GET_OBJECT(map)->len;
	r->sev_map = calloc(n, sizeof(*r->sev_map));
	for (size_t i = 0; r->sev_map && i < n; i++) {
		struct ax_sev_map *e = &r->sev_map[r->nsev_map];
		if (!parse_severity(c, YAJL_GET_OBJECT(map)->values[i], "severity_from.map value", &e->to))
			return false;
		if (!(e->from = strdup(YAJL_GET_OBJECT(map)->keys[i])))
			return false;
		lower(e->from);
		r->nsev_map++;
	}
	return r->sev_map != NULL;
}

static bool parse_controls(struct ctx *c, yajl_val v, const char *what, bool required,
			   struct ax_cset *out)
{
	if (!YAJL_IS_ARRAY(v) || (required && YAJL_GET_ARRAY(v)->len == 0)) {
		problem(c, "\"%s\" must be %sarray of ISO/IEC 27001:2022 control ids", what,
			required ? "a non-empty " : "an ");
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++) {
		yajl_val item = YAJL_GET_ARRAY(v)->values[i];
		int idx = YAJL_IS_STRING(item) ? ax_catalog_find2022(c->cat, item->u.string) : -1;
		if (idx < 0) {
			problem(c, "%s: unknown control id '%s' (not in the 2022 catalog)", what,
				YAJL_IS_STRING(item) ? item->u.string : "(not a string)");
			ok = false;
			continue;
		}
		ax_cset_add(out, (unsigned)idx);
	}
	return ok;
}

static bool valid_rule_id(const char *id)
{
	if (!isupper((unsigned char)*id))
		return false;
	for (; *id; id++)
		if (!isupper((unsigned char)*id) && !isdigit((unsigned char)*id) && *id != '-')
			return false;
	return true;
}

static bool copy_string(struct ctx *c, yajl_val v, const char *what, char **out)
{
	if (!YAJL_IS_STRING(v) || !v->u.string[0]) {
		problem(c, "\"%s\" must be a non-empty string", what);
		return false;
	}
	return (*out = strdup(v->u.string)) != NULL;
}

/* "gap": the reason of the evidence_gap a matching record raises, in snake_case. */
static bool parse_gap(struct ctx *c, yajl_val v, struct ax_rule *r)
{
	if (!v)
		return true;
	if (!YAJL_IS_STRING(v) || !v->u.string[0] || strspn(v->u.string, "abcdefghijklmnopqrstuvwxyz_") != strlen(v->u.string)) {
		problem(c, "\"gap\" must be a reason in snake_case (e.g. audit_ingestion_disabled)");
		return false;
	}
	return (r->gap = strdup(v->u.string)) != NULL;
}

static bool parse_yield(struct ctx *c, yajl_val v, struct ax_rule *r)
{
	yajl_val prio = member(v, "priority"), drift = member(v, "drift");
	if (!YAJL_IS_INTEGER(prio) || YAJL_GET_INTEGER(prio) < 1 || YAJL_GET_INTEGER(prio) > 1000) {
		problem(c, "\"priority\" must be an integer from 1 to 1000");
		return false;
	}
	r->priority = (int)YAJL_GET_INTEGER(prio);
	r->fallback = r->priority >= AX_FALLBACK_PRIORITY;
	if (drift && !YAJL_IS_TRUE(drift) && !YAJL_IS_FALSE(drift)) {
		problem(c, "\"drift\" must be true or false");
		return false;
	}
	r->drift = YAJL_IS_TRUE(drift);
	if (!parse_gap(c, member(v, "gap"), r) || !copy_string(c, member(v, "category"), "category", &r->category))
		return false;
	if (!member(c->categories, r->category)) {
		problem(c, "unknown category '%s' (see %s)", r->category, CATEGORIES_FILE);
		return false;
	}
	if (!parse_severity(c, member(v, "severity"), "\"severity\"", &r->severity) ||
	    !parse_severity_from(c, member(v, "severity_from"), r) ||
	    !parse_controls(c, member(v, "controls"), "controls", true, &r->controls) ||
	    !parse_controls(c, member(v, "related"), "related", false, &r->related))
		return false;
	for (size_t i = 0; i < c->cat->n2022; i++)
		if (ax_cset_has(&r->controls, (unsigned)i))
			ax_cset_or(&r->controls_2013, &c->cat->to2013[i]);
	return true;
}

static void rule_free(struct ax_rule *r)
{
	free(r->id);
	free(r->name);
	free(r->file);
	free(r->category);
	free(r->gap);
	strlist_free(&r->workloads);
	strlist_free(&r->operations);
	strlist_free(&r->globs);
	strlist_free(&r->result_status);
	strlist_free(&r->record_type_names);
	free(r->record_types);
	conds_free(&r->where);
	conds_free(&r->where_any);
	conds_free(&r->exclude);
	path_free(&r->severity_from);
	for (size_t i = 0; i < r->nsev_map; i++)
		free(r->sev_map[i].from);
	free(r->sev_map);
	memset(r, 0, sizeof(*r));
}

static bool parse_rule(struct ctx *c, yajl_val v, struct ax_rule *r)
{
	static const char *const keys[] = {
		"id", "name", "priority", "match", "category", "severity", "severity_from",
		"controls", "related", "drift", "gap", "judgement", "confidence", "rationale", "refs", NULL,
	};
	memset(r, 0, sizeof(*r));
	if (!YAJL_IS_OBJECT(v)) {
		problem(c, "a rule must be an object");
		return false;
	}
	yajl_val id = member(v, "id");
	if (!YAJL_IS_STRING(id) || !valid_rule_id(id->u.string)) {
		problem(c, "a rule needs an \"id\" of capitals, digits and '-' (e.g. AUTH-001)");
		return false;
	}
	c->rule = id->u.string;
	yajl_val rationale = member(v, "rationale");
	bool ok = only_keys(c, v, keys, "rule") && (r->id = strdup(c->rule)) &&
		  (r->file = strdup(c->file)) && copy_string(c, member(v, "name"), "name", &r->name) &&
		  parse_match(c, member(v, "match"), r) && parse_yield(c, v, r);
	if (ok && (!YAJL_IS_STRING(rationale) || !rationale->u.string[0])) {
		problem(c, "every rule needs a short \"rationale\"");
		ok = false;
	}
	c->rule = NULL;
	return ok;
}

/* ---- files ---- */

struct rule_set {
	struct ax_rule *rules;
	size_t count, cap;
};

static struct ax_rule *find_rule(struct rule_set *set, const char *id)
{
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->rules[i].id, id) == 0)
			return &set->rules[i];
	return NULL;
}

/* A user file's rule with a built-in id replaces the built-in one. */
static void add_rule(struct ctx *c, struct rule_set *set, struct ax_rule *r, bool user)
{
	struct ax_rule *old = find_rule(set, r->id);
	if (old && (!user || strcmp(old->file, r->file) == 0)) {
		c->rule = r->id;
		problem(c, "duplicate rule id (also in %s)", old->file);
		c->rule = NULL;
		rule_free(r);
		return;
	}
	if (old) {
		rule_free(old);
		*old = *r;
		return;
	}
	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 256;
		struct ax_rule *grown = realloc(set->rules, cap * sizeof(*grown));
		if (!grown) {
			rule_free(r);
			return;
		}
		set->rules = grown;
		set->cap = cap;
	}
	set->rules[set->count++] = *r;
}

static void load_file(struct ctx *c, const char *text, struct rule_set *set, bool user)
{
	char err[512];
	yajl_val root = yajl_tree_parse(text, err, sizeof(err));
	yajl_val rules = root ? member(root, "rules") : NULL;
	if (!root)
		problem(c, "invalid JSON: %s", err);
	else if (!YAJL_IS_ARRAY(rules))
		problem(c, "expected an object with an array \"rules\"");
	for (size_t i = 0; YAJL_IS_ARRAY(rules) && i < YAJL_GET_ARRAY(rules)->len; i++) {
		struct ax_rule r;
		if (parse_rule(c, YAJL_GET_ARRAY(rules)->values[i], &r))
			add_rule(c, set, &r, user);
		else
			rule_free(&r);
	}
	yajl_tree_free(root);
}

static char *read_user_file(struct ctx *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		problem(c, "cannot open rule file: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	bool sized = fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size <= USER_FILE_MAX;
	char *data = sized ? malloc((size_t)st.st_size + 1) : NULL;
	size_t n = data ? fread(data, 1, (size_t)st.st_size, f) : 0;
	bool bad = !data || ferror(f) || n != (size_t)st.st_size;
	fclose(f);
	if (bad) {
		problem(c, "cannot read rule file (read error or larger than 64 MiB)");
		free(data);
		return NULL;
	}
	data[n] = '\0';
	return data;
}

/* ---- checks across rules ---- */

static bool lists_overlap(const struct ax_strlist *a, const struct ax_strlist *b)
{
	if (!a->count || !b->count)
		return true; /* no criterion: matches all */
	for (size_t i = 0; i < a->count; i++)
		if (ax_strlist_contains(b, a->items[i]))
			return true;
	return false;
}

/* The literal text of a glob before its first wildcard. */
static size_t glob_prefix_len(const char *glob)
{
	return strcspn(glob, "*?[");
}

static bool globs_may_meet(const char *x, const char *y)
{
	size_t n = glob_prefix_len(x), m = glob_prefix_len(y);
	return strncmp(x, y, n < m ? n : m) == 0;
}

/* Whether some operation can satisfy both rules' operation criteria; what
 * it is, for the message. */
static bool operations_meet(const struct ax_rule *a, const struct ax_rule *b, char *what, size_t len)
{
	bool a_any = !a->operations.count && !a->globs.count, b_any = !b->operations.count && !b->globs.count;
	if (a_any || b_any) {
		snprintf(what, len, "%s", a_any && b_any ? "any operation" : "the other rule's operations");
		return true;
	}
	for (size_t i = 0; i < a->operations.count; i++) {
		const char *op = a->operations.items[i];
		bool hit = ax_strlist_contains(&b->operations, op);
		for (size_t k = 0; !hit && k < b->globs.count; k++)
			hit = fnmatch(b->globs.items[k], op, 0) == 0;
		if (hit) {
			snprintf(what, len, "operation '%s'", op);
			return true;
		}
	}
	for (size_t i = 0; i < a->globs.count; i++) {
		for (size_t k = 0; k < b->operations.count; k++) {
			if (fnmatch(a->globs.items[i], b->operations.items[k], 0) == 0) {
				snprintf(what, len, "operation '%s'", b->operations.items[k]);
				return true;
			}
		}
		for (size_t k = 0; k < b->globs.count; k++) {
			if (globs_may_meet(a->globs.items[i], b->globs.items[k])) {
				snprintf(what, len, "operations like '%s' and '%s'", a->globs.items[i], b->globs.items[k]);
				return true;
			}
		}
	}
	return false;
}

static bool record_types_meet(const struct ax_rule *a, const struct ax_rule *b)
{
	if (!a->nrecord_types || !b->nrecord_types)
		return true;
	for (size_t i = 0; i < a->nrecord_types; i++)
		for (size_t k = 0; k < b->nrecord_types; k++)
			if (a->record_types[i] == b->record_types[k])
				return true;
	return false;
}

/* Conditions (where, exclude) are not compared: rules that differ only
 * there must still differ in priority, so the outcome never depends on ids. */
static bool may_match_the_same(const struct ax_rule *a, const struct ax_rule *b, char *what, size_t len)
{
	return !(a->kinds && b->kinds && !(a->kinds & b->kinds)) && lists_overlap(&a->workloads, &b->workloads) &&
	       lists_overlap(&a->result_status, &b->result_status) && record_types_meet(a, b) &&
	       operations_meet(a, b, what, len);
}

static void check_conflicts(struct ax_rules *rs, struct ax_diag *diag)
{
	char what[300];
	for (size_t i = 0; i < rs->count; i++) {
		for (size_t j = i + 1; j < rs->count && rs->rules[j].priority == rs->rules[i].priority; j++) {
			const struct ax_rule *a = &rs->rules[i], *b = &rs->rules[j];
			if (strcmp(a->category, b->category) == 0 || !may_match_the_same(a, b, what, sizeof(what)))
				continue;
			ax_diag_add(diag, b->file, 0, "rule %s: same priority (%d) as rule %s (%s) and both can match %s, but categories differ (%s, %s): give one a lower priority number", b->id, b->priority, a->id, a->file, what, b->category, a->category);
		}
	}
}

static bool matches_everything(const struct ax_rule *r)
{
	return !r->kinds && !r->workloads.count && !r->operations.count && !r->globs.count &&
	       !r->result_status.count && !r->has_record_type && !r->where.count &&
	       !r->where_any.count && !r->exclude.count;
}

static bool has_baseline(const struct ax_rules *rs)
{
	for (size_t i = 0; i < rs->count; i++)
		if (rs->rules[i].fallback && matches_everything(&rs->rules[i]))
			return true;
	return false;
}

static int rule_order(const void *x, const void *y)
{
	const struct ax_rule *a = x, *b = y;
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* ---- operation index ---- */

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct ax_op_slot *slot_for(const struct ax_rules *rs, const char *op)
{
	size_t mask = rs->nslots - 1;
	for (size_t i = hash(op) & mask;; i = (i + 1) & mask)
		if (!rs->slots[i].op || strcmp(rs->slots[i].op, op) == 0)
			return &rs->slots[i];
}

static bool index_rule(struct ax_rules *rs, unsigned r)
{
	const struct ax_rule *rule = &rs->rules[r];
	if (rule->globs.count || !rule->operations.count) {
		rs->scan[rs->nscan++] = r;
		return true;
	}
	for (size_t k = 0; k < rule->operations.count; k++) {
		struct ax_op_slot *s = slot_for(rs, rule->operations.items[k]);
		if (!s->op && !(s->op = strdup(rule->operations.items[k])))
			return false;
		if (s->count && s->rules[s->count - 1] == r)
			continue; /* the same operation twice in one rule */
		unsigned *grown = realloc(s->rules, (s->count + 1) * sizeof(*grown));
		if (!grown)
			return false;
		s->rules = grown;
		s->rules[s->count++] = r;
	}
	return true;
}

static bool build_index(struct ax_rules *rs)
{
	size_t ops = 0;
	for (size_t i = 0; i < rs->count; i++)
		ops += rs->rules[i].operations.count;
	rs->nslots = 16;
	while (rs->nslots < ops * 2)
		rs->nslots *= 2;
	rs->slots = calloc(rs->nslots, sizeof(*rs->slots));
	rs->scan = calloc(rs->count ? rs->count : 1, sizeof(*rs->scan));
	if (!rs->slots || !rs->scan)
		return false;
	for (unsigned i = 0; i < rs->count; i++)
		if (!index_rule(rs, i))
			return false;
	return true;
}

const unsigned *ax_rules_by_operation(const struct ax_rules *rs, const char *op_lc, size_t *n)
{
	const struct ax_op_slot *s = slot_for(rs, op_lc);
	*n = s->op ? s->count : 0;
	return s->rules;
}

/* ---- loading ---- */

static void set_version(struct ax_rules *rs, uLong crc, const char *base)
{
	snprintf(rs->mapping_version, sizeof(rs->mapping_version), "%s+%08lx", base, crc & 0xffffffffUL);
}

static const char *builtin_version(void)
{
	static char version[32] = "0";
	for (const struct ax_schema_file *f = ax_schema_files; f->name; f++) {
		if (strncmp(f->name, MAPPINGS_PREFIX, strlen(MAPPINGS_PREFIX)) != 0)
			continue;
		yajl_val root = yajl_tree_parse(f->data, NULL, 0);
		yajl_val v = root ? member(root, "version") : NULL;
		if (YAJL_IS_STRING(v))
			snprintf(version, sizeof(version), "%s", v->u.string);
		yajl_tree_free(root);
		break;
	}
	return version;
}

static uLong load_all(struct ctx *c, const struct ax_strlist *user_files, bool builtin_rules,
		      struct rule_set *set)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	for (const struct ax_schema_file *f = ax_schema_files; builtin_rules && f->name; f++) {
		if (strncmp(f->name, MAPPINGS_PREFIX, strlen(MAPPINGS_PREFIX)) != 0)
			continue;
		c->file = f->name;
		load_file(c, f->data, set, false);
		crc = crc32(crc, (const Bytef *)f->data, (uInt)f->len);
	}
	for (size_t i = 0; user_files && i < user_files->count; i++) {
		c->file = user_files->items[i];
		char *text = read_user_file(c, c->file);
		if (!text)
			continue;
		load_file(c, text, set, true);
		crc = crc32(crc, (const Bytef *)text, (uInt)strlen(text));
		free(text);
	}
	return crc;
}

static yajl_val load_categories(struct ax_diag *diag)
{
	const struct ax_schema_file *f = ax_schema_file(CATEGORIES_FILE);
	yajl_val root = f ? yajl_tree_parse(f->data, NULL, 0) : NULL;
	if (!root || !YAJL_IS_OBJECT(member(root, "categories")))
		ax_diag_add(diag, CATEGORIES_FILE, 0, "missing or not an object with \"categories\"");
	return root;
}

struct ax_rules *ax_rules_load(const struct ax_strlist *user_files, struct ax_diag *diag)
{
	return ax_rules_load_from(user_files, true, diag);
}

struct ax_rules *ax_rules_load_from(const struct ax_strlist *user_files, bool builtin_rules,
				    struct ax_diag *diag)
{
	size_t before = diag->count;
	struct ax_rules *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	yajl_val categories = NULL;
	if (ax_catalog_load(&rs->catalog, diag) || !(categories = load_categories(diag)))
		goto fail;
	struct ctx c = { .diag = diag, .cat = &rs->catalog, .categories = member(categories, "categories") };
	struct rule_set set = { 0 };
	uLong crc = load_all(&c, user_files, builtin_rules, &set);
	rs->rules = set.rules;
	rs->count = set.count;
	qsort(rs->rules, rs->count, sizeof(*rs->rules), rule_order);
	for (unsigned i = 0; i < rs->count; i++)
		rs->rules[i].rank = i;
	check_conflicts(rs, diag);
	if (!has_baseline(rs))
		ax_diag_add(diag, MAPPINGS_PREFIX, 0, "no baseline: a fallback rule (priority >= %d) with an empty \"match\" is needed so no record leaves without a control", AX_FALLBACK_PRIORITY);
	if (diag->count > before || !build_index(rs))
		goto fail;
	key_paths(rs);
	set_version(rs, crc, builtin_version());
	yajl_tree_free(categories);
	return rs;
fail:
	yajl_tree_free(categories);
	ax_rules_destroy(rs);
	return NULL;
}

void ax_rules_destroy(struct ax_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->count; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nslots; i++) {
		free(rs->slots[i].op);
		free(rs->slots[i].rules);
	}
	free(rs->slots);
	free(rs->scan);
	ax_catalog_finish(&rs->catalog);
	free(rs);
}

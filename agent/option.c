#include "option.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#define FIELD(conf, opt, type) ((type *)((char *)(conf) + (opt)->offset))
#define SECRET_FILE_SUFFIX "_file"
#define SECRET_FILE_MAX (64 * 1024)

const char *ax_option_type_name(enum ax_opt_type type)
{
	switch (type) {
	case AX_OPT_STRING: return "string";
	case AX_OPT_INT: return "integer";
	case AX_OPT_BOOL: return "bool";
	case AX_OPT_SIZE: return "size";
	case AX_OPT_DURATION: return "duration";
	case AX_OPT_ENUM: return "enum";
	case AX_OPT_LIST: return "list";
	case AX_OPT_SECRET: return "secret";
	case AX_OPT_PREFIX: return "prefix";
	}
	return "?";
}

/* Splits "123unit" into a number and its unit; both must be present and sane. */
static ax_err split_number(const char *text, double *num, const char **unit)
{
	errno = 0;
	char *end;
	while (isspace((unsigned char)*text))
		text++;
	if (!isdigit((unsigned char)*text))
		return AX_ERR_CONFIG;
	*num = strtod(text, &end);
	if (errno || end == text)
		return AX_ERR_CONFIG;
	while (isspace((unsigned char)*end))
		end++;
	*unit = end;
	return AX_OK;
}

struct unit {
	const char *name;
	double factor;
};

static ax_err scale(const char *text, const struct unit *units, double *out)
{
	double num;
	const char *unit;
	if (split_number(text, &num, &unit))
		return AX_ERR_CONFIG;
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(unit, u->name) == 0) {
			*out = num * u->factor;
			return AX_OK;
		}
	}
	return AX_ERR_CONFIG;
}

ax_err ax_parse_size(const char *text, uint64_t *out)
{
	static const struct unit units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1024.0 }, { "MiB", 1048576.0 },
		{ "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 }, { NULL, 0 },
	};
	double v;
	if (scale(text, units, &v) || v > 9.0e18)
		return AX_ERR_CONFIG;
	*out = (uint64_t)v;
	return AX_OK;
}

ax_err ax_parse_duration(const char *text, int64_t *ms)
{
	static const struct unit units[] = {
		{ "ms", 1 }, { "", 1000 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { NULL, 0 },
	};
	double v;
	if (scale(text, units, &v) || v > 9.0e15)
		return AX_ERR_CONFIG;
	*ms = (int64_t)v;
	return AX_OK;
}

ax_err ax_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return AX_OK;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return AX_OK;
		}
	}
	return AX_ERR_CONFIG;
}

static void join_values(const char *const *values, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; values[i] && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", values[i]);
}

static int enum_index(const char *const *values, const char *text)
{
	for (int i = 0; values[i]; i++)
		if (strcmp(values[i], text) == 0)
			return i;
	return -1;
}

static bool out_of_range(const struct ax_option *opt, int64_t v)
{
	return (opt->min || opt->max) && (v < opt->min || v > opt->max);
}

/* A bound in the unit users write: 64KiB, 7d, 100. */
static void format_bound(const struct ax_option *opt, int64_t v, char *out, size_t len)
{
	static const struct unit {
		const char *name;
		int64_t size;
	} sizes[] = { { "GiB", 1LL << 30 }, { "MiB", 1LL << 20 }, { "KiB", 1LL << 10 }, { NULL, 0 } },
	  durations[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { NULL, 0 } };
	const struct unit *u = opt->type == AX_OPT_SIZE ? sizes : opt->type == AX_OPT_DURATION ? durations : NULL;
	for (; u && u->name; u++) {
		if (v && v % u->size == 0) {
			snprintf(out, len, "%lld%s", (long long)(v / u->size), u->name);
			return;
		}
	}
	snprintf(out, len, "%lld%s", (long long)v, opt->type == AX_OPT_DURATION ? "ms" : "");
}

static void strlist_free(struct ax_strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static ax_err strlist_push(struct ax_strlist *l, const char *s, size_t len)
{
	char **items = realloc(l->items, (l->count + 1) * sizeof(*items));
	if (!items)
		return AX_ERR_NOMEM;
	l->items = items;
	if (!(items[l->count] = strndup(s, len)))
		return AX_ERR_NOMEM;
	l->count++;
	return AX_OK;
}

bool ax_strlist_contains(const struct ax_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

static ax_err parse_list(const struct ax_option *opt, const char *text, struct ax_strlist *out,
			 char *why, size_t why_len)
{
	struct ax_strlist l = { 0 };
	const char *p = text;
	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *s = p;
		while (s < end && isspace((unsigned char)*s))
			s++;
		const char *e = end;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e > s && strlist_push(&l, s, (size_t)(e - s))) {
			strlist_free(&l);
			return AX_ERR_NOMEM;
		}
		if (e > s && opt->values && enum_index(opt->values, l.items[l.count - 1]) < 0) {
			char allowed[512];
			join_values(opt->values, allowed, sizeof(allowed));
			snprintf(why, why_len, "'%s' is not one of: %s", l.items[l.count - 1], allowed);
			strlist_free(&l);
			return AX_ERR_CONFIG;
		}
		p = comma ? comma + 1 : end;
	}
	strlist_free(out);
	*out = l;
	return AX_OK;
}

static ax_err read_secret_file(const char *path, struct ax_secret **out, char *why, size_t why_len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, why_len, "cannot read secret file %s: %s", path, strerror(errno));
		return AX_ERR_CONFIG;
	}
	char *data = malloc(SECRET_FILE_MAX + 1);
	size_t n = data ? fread(data, 1, SECRET_FILE_MAX + 1, f) : 0;
	bool failed = !data || ferror(f);
	fclose(f);
	if (failed || n > SECRET_FILE_MAX) {
		snprintf(why, why_len, "cannot read secret file %s: %s", path,
			 failed ? "read error" : "larger than 64 KiB");
		if (data)
			explicit_bzero(data, n);
		free(data);
		return AX_ERR_CONFIG;
	}
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	ax_secret_free(*out);
	*out = ax_secret_new(data, n);
	explicit_bzero(data, n);
	free(data);
	if (n == 0) {
		snprintf(why, why_len, "secret file %s is empty", path);
		return AX_ERR_CONFIG;
	}
	return *out ? AX_OK : AX_ERR_NOMEM;
}

static ax_err set_secret(const struct ax_option *opt, void *conf, const char *key,
			 const char *text, char *why, size_t why_len)
{
	struct ax_secret **slot = FIELD(conf, opt, struct ax_secret *);
	if (strcmp(key, opt->name) != 0)
		return read_secret_file(text, slot, why, why_len);
	if (!*text) {
		snprintf(why, why_len, "empty value (set it, or use %s%s)", opt->name, SECRET_FILE_SUFFIX);
		return AX_ERR_CONFIG;
	}
	ax_secret_free(*slot);
	*slot = ax_secret_new(text, strlen(text));
	return *slot ? AX_OK : AX_ERR_NOMEM;
}

static ax_err set_prefixed(const struct ax_option *opt, void *conf, const char *key, const char *text)
{
	struct ax_kvlist *l = FIELD(conf, opt, struct ax_kvlist);
	struct ax_kv *items = realloc(l->items, (l->count + 1) * sizeof(*items));
	if (!items)
		return AX_ERR_NOMEM;
	l->items = items;
	struct ax_kv *kv = &items[l->count];
	kv->key = strdup(key + strlen(opt->name));
	kv->value = strdup(text);
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		return AX_ERR_NOMEM;
	}
	l->count++;
	return AX_OK;
}

static ax_err set_number(const struct ax_option *opt, void *conf, const char *text, char *why,
			 size_t why_len)
{
	int64_t v = 0;
	uint64_t size = 0;
	ax_err err = AX_OK;
	const char *expect = "";
	switch (opt->type) {
	case AX_OPT_INT: {
		char *end;
		errno = 0;
		long long ll = strtoll(text, &end, 10);
		err = (errno || end == text || *end) ? AX_ERR_CONFIG : AX_OK;
		v = ll;
		expect = "an integer";
		break;
	}
	case AX_OPT_SIZE:
		err = ax_parse_size(text, &size);
		v = (int64_t)size;
		expect = "a size such as 512KiB, 4MiB or 1GiB";
		break;
	default:
		err = ax_parse_duration(text, &v);
		expect = "a duration such as 500ms, 30s, 5m, 24h or 7d";
		break;
	}
	if (err) {
		snprintf(why, why_len, "'%s' is not %s", text, expect);
		return AX_ERR_CONFIG;
	}
	if (out_of_range(opt, v)) {
		char lo[32], hi[32];
		format_bound(opt, opt->min, lo, sizeof(lo));
		format_bound(opt, opt->max, hi, sizeof(hi));
		snprintf(why, why_len, "'%s' is out of range (%s to %s)", text, lo, hi);
		return AX_ERR_CONFIG;
	}
	if (opt->type == AX_OPT_INT)
		*FIELD(conf, opt, int64_t) = v;
	else if (opt->type == AX_OPT_SIZE)
		*FIELD(conf, opt, uint64_t) = size;
	else
		*FIELD(conf, opt, int64_t) = v;
	return AX_OK;
}

static ax_err set_enum(const struct ax_option *opt, void *conf, const char *text, char *why,
		       size_t why_len)
{
	int i = enum_index(opt->values, text);
	if (i < 0) {
		char allowed[512];
		join_values(opt->values, allowed, sizeof(allowed));
		snprintf(why, why_len, "'%s' is not one of: %s", text, allowed);
		return AX_ERR_CONFIG;
	}
	*FIELD(conf, opt, int) = i;
	return AX_OK;
}

ax_err ax_option_set(const struct ax_option *opt, void *conf, const char *key, const char *text,
		     char *why, size_t why_len)
{
	why[0] = '\0';
	switch (opt->type) {
	case AX_OPT_STRING: {
		char *copy = strdup(text);
		if (!copy)
			return AX_ERR_NOMEM;
		free(*FIELD(conf, opt, char *));
		*FIELD(conf, opt, char *) = copy;
		return AX_OK;
	}
	case AX_OPT_BOOL:
		if (ax_parse_bool(text, FIELD(conf, opt, bool))) {
			snprintf(why, why_len, "'%s' is not a boolean (true or false)", text);
			return AX_ERR_CONFIG;
		}
		return AX_OK;
	case AX_OPT_INT:
	case AX_OPT_SIZE:
	case AX_OPT_DURATION:
		return set_number(opt, conf, text, why, why_len);
	case AX_OPT_ENUM:
		return set_enum(opt, conf, text, why, why_len);
	case AX_OPT_LIST:
		return parse_list(opt, text, FIELD(conf, opt, struct ax_strlist), why, why_len);
	case AX_OPT_SECRET:
		return set_secret(opt, conf, key, text, why, why_len);
	case AX_OPT_PREFIX:
		return set_prefixed(opt, conf, key, text);
	}
	return AX_ERR_CONFIG;
}

static bool key_matches(const struct ax_option *opt, const char *key)
{
	size_t n = strlen(opt->name);
	switch (opt->type) {
	case AX_OPT_PREFIX:
		return strncmp(key, opt->name, n) == 0 && key[n];
	case AX_OPT_SECRET:
		return strncmp(key, opt->name, n) == 0 &&
		       (!key[n] || strcmp(key + n, SECRET_FILE_SUFFIX) == 0);
	default:
		return strcmp(key, opt->name) == 0;
	}
}

const struct ax_option *ax_option_find(const struct ax_option *const *tables, const char *key)
{
	for (; *tables; tables++)
		for (const struct ax_option *opt = *tables; opt->name; opt++)
			if (key_matches(opt, key))
				return opt;
	return NULL;
}

void ax_option_list_keys(const struct ax_option *const *tables, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (; *tables; tables++) {
		for (const struct ax_option *opt = *tables; opt->name && used < len; opt++) {
			const char *suffix = opt->type == AX_OPT_PREFIX ? "*" : "";
			used += (size_t)snprintf(out + used, len - used, "%s%s%s", used ? ", " : "",
						 opt->name, suffix);
			if (opt->type == AX_OPT_SECRET && used < len)
				used += (size_t)snprintf(out + used, len - used, ", %s%s", opt->name,
							 SECRET_FILE_SUFFIX);
		}
	}
}

ax_err ax_options_defaults(const struct ax_option *const *tables, void *conf)
{
	char why[256];
	for (; *tables; tables++) {
		for (const struct ax_option *opt = *tables; opt->name; opt++) {
			if (!opt->def)
				continue;
			ax_err err = ax_option_set(opt, conf, opt->name, opt->def, why, sizeof(why));
			if (err)
				return err; /* a bad default is a bug; the table test catches it */
		}
	}
	return AX_OK;
}

static void free_option(const struct ax_option *opt, void *conf)
{
	switch (opt->type) {
	case AX_OPT_STRING:
		free(*FIELD(conf, opt, char *));
		*FIELD(conf, opt, char *) = NULL;
		break;
	case AX_OPT_LIST:
		strlist_free(FIELD(conf, opt, struct ax_strlist));
		break;
	case AX_OPT_SECRET:
		ax_secret_free(*FIELD(conf, opt, struct ax_secret *));
		*FIELD(conf, opt, struct ax_secret *) = NULL;
		break;
	case AX_OPT_PREFIX: {
		struct ax_kvlist *l = FIELD(conf, opt, struct ax_kvlist);
		for (size_t i = 0; i < l->count; i++) {
			free(l->items[i].key);
			free(l->items[i].value);
		}
		free(l->items);
		l->items = NULL;
		l->count = 0;
		break;
	}
	default:
		break;
	}
}

void ax_options_free(const struct ax_option *const *tables, void *conf)
{
	for (; *tables; tables++)
		for (const struct ax_option *opt = *tables; opt->name; opt++)
			free_option(opt, conf);
}

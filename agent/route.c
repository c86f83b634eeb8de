#include "route.h"

#include <string.h>
#include <strings.h>

static bool list_has_ci(const struct ax_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* "5.*" matches 5.1 ... 5.37; anything else is an exact id. */
static bool control_matches(const char *pattern, const char *id)
{
	size_t n = strlen(pattern);
	if (n >= 2 && strcmp(pattern + n - 2, ".*") == 0)
		return strncmp(pattern, id, n - 1) == 0;
	return strcmp(pattern, id) == 0;
}

static bool controls_match(const struct ax_strlist *patterns, const struct ax_record *r)
{
	for (size_t i = 0; i < patterns->count; i++)
		for (size_t j = 0; j < r->ncontrols; j++)
			if (control_matches(patterns->items[i], r->controls[j]))
				return true;
	return false;
}

bool ax_route_match(const struct ax_output_common_conf *f, const struct ax_record *r)
{
	if ((int)r->severity < f->min_severity)
		return false;
	if (f->categories.count && !list_has_ci(&f->categories, r->category))
		return false;
	if (f->workloads.count && !list_has_ci(&f->workloads, r->workload))
		return false;
	return !f->controls.count || controls_match(&f->controls, r);
}

static bool known_category(const struct ax_rules *rs, const char *category)
{
	for (size_t i = 0; i < rs->count; i++)
		if (strcasecmp(rs->rules[i].category, category) == 0)
			return true;
	return false;
}

static bool known_control(const struct ax_rules *rs, const char *pattern)
{
	static const char *const themes[] = { "5.*", "6.*", "7.*", "8.*" };
	for (size_t i = 0; i < sizeof(themes) / sizeof(themes[0]); i++)
		if (strcmp(pattern, themes[i]) == 0)
			return true;
	return ax_catalog_find2022(&rs->catalog, pattern) >= 0;
}

void ax_route_validate(const struct ax_config *cfg, const struct ax_rules *rs, struct ax_diag *diag)
{
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct ax_section_conf *o = &cfg->outputs[i];
		const struct ax_output_common_conf *f = o->conf;
		for (size_t j = 0; j < f->controls.count; j++)
			if (!known_control(rs, f->controls.items[j]))
				ax_diag_add(diag, cfg->path, o->line, "[output \"%s\"]: match.controls: '%s' is not an ISO/IEC 27001:2022 control (ids such as 8.15, or 5.* to 8.*; see annexa controls)",
					    o->name, f->controls.items[j]);
		for (size_t j = 0; j < f->categories.count; j++)
			if (!known_category(rs, f->categories.items[j]))
				ax_diag_add(diag, cfg->path, o->line, "[output \"%s\"]: match.categories: no mapping rule yields the category '%s' (see schemas/categories.json)",
					    o->name, f->categories.items[j]);
	}
}

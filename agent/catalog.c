#include "catalog.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "schema_data.h"

#define FILE_2022 "schemas/iso27001-2022.json"
#define FILE_2013 "schemas/iso27001-2013.json"
#define FILE_MAP "schemas/iso27001-2013-2022.json"

int ax_control_id_cmp(const char *a, const char *b)
{
	if (a[0] == 'A' && a[1] == '.')
		a += 2;
	if (b[0] == 'A' && b[1] == '.')
		b += 2;
	for (;;) {
		char *ea, *eb;
		long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*ea != '.' || *eb != '.')
			return (*ea == '.') - (*eb == '.');
		a = ea + 1;
		b = eb + 1;
	}
}

static int control_cmp(const void *x, const void *y)
{
	return ax_control_id_cmp(((const struct ax_control *)x)->id, ((const struct ax_control *)y)->id);
}

static yajl_val parse_file(const char *name, struct ax_diag *diag)
{
	const struct ax_schema_file *f = ax_schema_file(name);
	if (!f) {
		ax_diag_add(diag, name, 0, "missing from this build");
		return NULL;
	}
	char err[256];
	yajl_val root = yajl_tree_parse(f->data, err, sizeof(err));
	if (!root)
		ax_diag_add(diag, name, 0, "invalid JSON: %s", err);
	return root;
}

static const char *string_at(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static ax_err load_controls(const char *name, const char *group_key, struct ax_control **out,
			    size_t *n, struct ax_diag *diag)
{
	yajl_val root = parse_file(name, diag);
	const char *path[] = { "controls", NULL };
	yajl_val arr = root ? yajl_tree_get(root, path, yajl_t_array) : NULL;
	if (!arr || YAJL_GET_ARRAY(arr)->len > AX_CSET_MAX) {
		if (root)
			ax_diag_add(diag, name, 0, "expected \"controls\": an array of at most %d controls", AX_CSET_MAX);
		yajl_tree_free(root);
		return AX_ERR_RULES;
	}
	size_t len = YAJL_GET_ARRAY(arr)->len;
	*out = calloc(len ? len : 1, sizeof(**out));
	for (size_t i = 0; *out && i < len; i++) {
		yajl_val c = YAJL_GET_ARRAY(arr)->values[i];
		const char *id = string_at(c, "id");
		if (!id) {
			ax_diag_add(diag, name, 0, "control #%zu has no \"id\"", i + 1);
			continue;
		}
		struct ax_control *ctl = &(*out)[(*n)++];
		ctl->id = strdup(id);
		ctl->title = dup_or_empty(string_at(c, "title"));
		ctl->group = dup_or_empty(string_at(c, group_key));
		const char *np[] = { "new_in_2022", NULL };
		ctl->new_in_2022 = YAJL_IS_TRUE(yajl_tree_get(c, np, yajl_t_true));
	}
	yajl_tree_free(root);
	if (!*out)
		return AX_ERR_NOMEM;
	qsort(*out, *n, sizeof(**out), control_cmp);
	return AX_OK;
}

static int find(const struct ax_control *list, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].id, id) == 0)
			return (int)i;
	return -1;
}

int ax_catalog_find2022(const struct ax_catalog *cat, const char *id)
{
	return find(cat->c2022, cat->n2022, id);
}

static void load_predecessors(struct ax_catalog *cat, yajl_val map, size_t i, struct ax_diag *diag)
{
	const char *path[] = { cat->c2022[i].id, NULL };
	yajl_val list = yajl_tree_get(map, path, yajl_t_array);
	if (!list) {
		ax_diag_add(diag, FILE_MAP, 0, "no entry for 2022 control %s", cat->c2022[i].id);
		return;
	}
	for (size_t k = 0; k < YAJL_GET_ARRAY(list)->len; k++) {
		const char *id = YAJL_GET_STRING(YAJL_GET_ARRAY(list)->values[k]);
		int j = id ? find(cat->c2013, cat->n2013, id) : -1;
		if (j < 0)
			ax_diag_add(diag, FILE_MAP, 0, "%s: '%s' is not a 2013 control", cat->c2022[i].id, id ? id : "(not a string)");
		else
			ax_cset_add(&cat->to2013[i], (unsigned)j);
	}
}

static ax_err load_correspondence(struct ax_catalog *cat, struct ax_diag *diag)
{
	yajl_val root = parse_file(FILE_MAP, diag);
	const char *path[] = { "map_2022_to_2013", NULL };
	yajl_val map = root ? yajl_tree_get(root, path, yajl_t_object) : NULL;
	cat->to2013 = calloc(cat->n2022 ? cat->n2022 : 1, sizeof(*cat->to2013));
	if (!map || !cat->to2013) {
		if (root)
			ax_diag_add(diag, FILE_MAP, 0, "expected object \"map_2022_to_2013\"");
		yajl_tree_free(root);
		return AX_ERR_RULES;
	}
	size_t before = diag->count;
	for (size_t i = 0; i < cat->n2022; i++)
		load_predecessors(cat, map, i, diag);
	yajl_tree_free(root);
	return diag->count == before ? AX_OK : AX_ERR_RULES;
}

ax_err ax_catalog_load(struct ax_catalog *cat, struct ax_diag *diag)
{
	memset(cat, 0, sizeof(*cat));
	size_t before = diag->count;
	ax_err err = load_controls(FILE_2022, "theme", &cat->c2022, &cat->n2022, diag);
	if (!err)
		err = load_controls(FILE_2013, "group", &cat->c2013, &cat->n2013, diag);
	if (!err)
		err = load_correspondence(cat, diag);
	if (!err && diag->count > before)
		err = AX_ERR_RULES;
	return err;
}

static void free_controls(struct ax_control *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].id);
		free(list[i].title);
		free(list[i].group);
	}
	free(list);
}

void ax_catalog_finish(struct ax_catalog *cat)
{
	free_controls(cat->c2022, cat->n2022);
	free_controls(cat->c2013, cat->n2013);
	free(cat->to2013);
	memset(cat, 0, sizeof(*cat));
}

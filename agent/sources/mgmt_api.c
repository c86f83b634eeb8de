#include "sources/mgmt_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "sources/window.h"

#define MAX_URL 8192

static char *finish_url(struct ax_buf *b, ax_err err)
{
	if (!err)
		err = ax_buf_cstr(b);
	if (err) {
		ax_buf_finish(b);
		return NULL;
	}
	return b->data;
}

char *ax_mgmt_url(const char *root, const char *op, const char *content_type, const char *publisher,
		  int64_t start, int64_t end)
{
	struct ax_buf b;
	ax_buf_init(&b, MAX_URL);
	char sep = '?';
	ax_err err = ax_buf_addf(&b, "%s%s", root, op);
	if (!err && content_type) {
		err = ax_buf_addf(&b, "%ccontentType=%s", sep, content_type);
		sep = '&';
	}
	if (!err && (start || end)) {
		char from[20], to[20];
		ax_time_format_api(start, from);
		ax_time_format_api(end, to);
		err = ax_buf_addf(&b, "%cstartTime=%s&endTime=%s", sep, from, to);
		sep = '&';
	}
	if (!err && publisher && publisher[0])
		err = ax_buf_addf(&b, "%cPublisherIdentifier=%s", sep, publisher);
	return finish_url(&b, err);
}

static bool has_publisher(const char *url)
{
	const char *q = strchr(url, '?');
	for (const char *p = q; p; p = strpbrk(p + 1, "&")) {
		if (strncasecmp(p + 1, "PublisherIdentifier=", 20) == 0)
			return true;
	}
	return false;
}

char *ax_mgmt_with_publisher(const char *url, const char *publisher)
{
	struct ax_buf b;
	ax_buf_init(&b, MAX_URL);
	ax_err err = ax_buf_adds(&b, url);
	if (!err && publisher && publisher[0] && !has_publisher(url))
		err = ax_buf_addf(&b, "%cPublisherIdentifier=%s", strchr(url, '?') ? '&' : '?', publisher);
	return finish_url(&b, err);
}

static const char *string_of(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? v->u.string : NULL;
}

/* A subscription without status counts as enabled, as in the documented sample. */
static bool enabled(const char *status)
{
	return !status || strcasecmp(status, "enabled") == 0;
}

ax_err ax_mgmt_subscription(const char *body, const char *content_type, enum ax_sub_state *state)
{
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	*state = AX_SUB_NONE;
	if (!YAJL_IS_ARRAY(root)) {
		yajl_tree_free(root);
		return AX_ERR_JSON;
	}
	for (size_t i = 0; i < root->u.array.len; i++) {
		yajl_val sub = root->u.array.values[i];
		const char *ct = string_of(sub, "contentType"), *status = string_of(sub, "status");
		if (!ct || strcmp(ct, content_type) != 0)
			continue;
		*state = enabled(status) ? AX_SUB_ENABLED : AX_SUB_DISABLED;
		break;
	}
	yajl_tree_free(root);
	return AX_OK;
}

bool ax_mgmt_started(const char *body, const char *content_type)
{
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	const char *ct = string_of(root, "contentType"), *status = string_of(root, "status");
	bool started = YAJL_IS_OBJECT(root) && (!ct || strcmp(ct, content_type) == 0) && enabled(status);
	yajl_tree_free(root);
	return started;
}

static int64_t seconds_of(const char *text)
{
	int64_t ticks;
	return text && ax_time_parse(text, strlen(text), &ticks) ? ticks / AX_TICKS_PER_SEC : 0;
}

static ax_err add_ref(struct ax_blob_refs *refs, const char *root, yajl_val entry)
{
	const char *id = string_of(entry, "contentId"), *uri = string_of(entry, "contentUri");
	if (!id || !id[0]) {
		refs->skipped++;
		return AX_OK;
	}
	if (refs->count == refs->cap) {
		size_t cap = refs->cap ? refs->cap * 2 : 64;
		struct ax_blob_ref *items = realloc(refs->items, cap * sizeof(*items));
		if (!items)
			return AX_ERR_NOMEM;
		refs->items = items;
		refs->cap = cap;
	}
	struct ax_blob_ref *r = &refs->items[refs->count];
	r->id = strdup(id);
	if (uri && uri[0]) {
		r->uri = strdup(uri);
	} else if (r->id) {
		size_t n = strlen(root) + strlen("audit/") + strlen(id) + 1;
		if ((r->uri = malloc(n)))
			snprintf(r->uri, n, "%saudit/%s", root, id);
	}
	r->created = seconds_of(string_of(entry, "contentCreated"));
	r->expires = seconds_of(string_of(entry, "contentExpiration"));
	if (!r->id || !r->uri) {
		free(r->id);
		free(r->uri);
		return AX_ERR_NOMEM;
	}
	refs->count++;
	return AX_OK;
}

ax_err ax_mgmt_parse_listing(const char *body, const char *root, struct ax_blob_refs *refs)
{
	yajl_val list = yajl_tree_parse(body, NULL, 0);
	ax_err err = YAJL_IS_ARRAY(list) ? AX_OK : AX_ERR_JSON;
	for (size_t i = 0; !err && i < list->u.array.len; i++) {
		if (YAJL_IS_OBJECT(list->u.array.values[i]))
			err = add_ref(refs, root, list->u.array.values[i]);
		else
			refs->skipped++;
	}
	yajl_tree_free(list);
	return err;
}

void ax_blob_refs_clear(struct ax_blob_refs *refs)
{
	for (size_t i = 0; i < refs->count; i++) {
		free(refs->items[i].id);
		free(refs->items[i].uri);
	}
	refs->count = 0;
	refs->skipped = 0;
}

void ax_blob_refs_finish(struct ax_blob_refs *refs)
{
	ax_blob_refs_clear(refs);
	free(refs->items);
	memset(refs, 0, sizeof(*refs));
}

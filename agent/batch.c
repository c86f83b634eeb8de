#include "batch.h"

#include <stdlib.h>
#include <string.h>

enum { S_JSON, S_ID, S_TIME, S_WORKLOAD, S_OPERATION, S_USER, S_IP, S_CATEGORY, S_RULE, S_SOURCE,
       S_CTYPE, S_TENANT, S_CONTROLS, AX_BATCH_STRINGS };

void ax_batch_builder_init(struct ax_batch_builder *b, size_t max_bytes)
{
	memset(b, 0, sizeof(*b));
	ax_buf_init(&b->data, max_bytes);
}

void ax_batch_builder_finish(struct ax_batch_builder *b)
{
	ax_buf_finish(&b->data);
	free(b->records);
	free(b->offsets);
	free(b->controls);
	free(b->control_offs);
	memset(b, 0, sizeof(*b));
}

void ax_batch_builder_clear(struct ax_batch_builder *b)
{
	ax_buf_clear(&b->data);
	b->count = 0;
	b->ncontrols = 0;
}

static ax_err grow(struct ax_batch_builder *b, size_t ncontrols)
{
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ax_record *r = realloc(b->records, cap * sizeof(*r));
		if (r)
			b->records = r;
		size_t *o = realloc(b->offsets, cap * AX_BATCH_STRINGS * sizeof(*o));
		if (o)
			b->offsets = o;
		if (!r || !o)
			return AX_ERR_NOMEM;
		b->cap = cap;
	}
	if (b->ncontrols + ncontrols > b->controls_cap) {
		size_t cap = (b->ncontrols + ncontrols) * 2;
		const char **c = realloc(b->controls, cap * sizeof(*c));
		if (c)
			b->controls = c;
		size_t *o = realloc(b->control_offs, cap * sizeof(*o));
		if (o)
			b->control_offs = o;
		if (!c || !o)
			return AX_ERR_NOMEM;
		b->controls_cap = cap;
	}
	return AX_OK;
}

ax_err ax_batch_builder_add(struct ax_batch_builder *b, const struct ax_record *r)
{
	ax_err err = grow(b, r->ncontrols);
	if (err)
		return err;
	size_t *off = &b->offsets[b->count * AX_BATCH_STRINGS];
	const char *strings[AX_BATCH_STRINGS] = {
		[S_JSON] = r->json, [S_ID] = r->id, [S_TIME] = r->creation_time, [S_WORKLOAD] = r->workload,
		[S_OPERATION] = r->operation, [S_USER] = r->user, [S_IP] = r->client_ip,
		[S_CATEGORY] = r->category, [S_RULE] = r->rule, [S_SOURCE] = r->source, [S_CTYPE] = r->content_type,
		[S_TENANT] = r->tenant,
	};
	/* One reservation, then plain copies: this runs for every record. */
	size_t lens[S_CONTROLS], total = 0;
	for (int i = S_JSON; i < S_CONTROLS; i++) { /* NULL counts as "" */
		lens[i] = i == S_JSON ? r->len : strings[i] ? strlen(strings[i]) : 0;
		total += lens[i] + 1;
	}
	for (size_t k = 0; k < r->ncontrols; k++)
		total += strlen(r->controls[k]) + 1;
	err = ax_buf_reserve(&b->data, total);
	if (err)
		return err;
	for (int i = S_JSON; i < S_CONTROLS; i++) {
		off[i] = b->data.len;
		if (lens[i])
			memcpy(b->data.data + b->data.len, strings[i], lens[i]);
		b->data.data[b->data.len + lens[i]] = '\0';
		b->data.len += lens[i] + 1;
	}
	/* Control ids are copied too: they may point into the catalog, but
	 * a record read back from the spool has them in the reader's frame
	 * buffer, which the next frame overwrites while the batch still fills. */
	off[S_CONTROLS] = b->ncontrols;
	for (size_t k = 0; k < r->ncontrols; k++) {
		size_t n = strlen(r->controls[k]) + 1;
		b->control_offs[b->ncontrols++] = b->data.len;
		memcpy(b->data.data + b->data.len, r->controls[k], n);
		b->data.len += n;
	}
	b->records[b->count] = *r;
	b->count++;
	return AX_OK;
}

void ax_batch_builder_seal(struct ax_batch_builder *b, struct ax_batch *out)
{
	for (size_t i = 0; i < b->count; i++) {
		const size_t *off = &b->offsets[i * AX_BATCH_STRINGS];
		struct ax_record *r = &b->records[i];
		const char *d = b->data.data;
		r->json = d + off[S_JSON];
		r->id = d + off[S_ID];
		r->creation_time = d + off[S_TIME];
		r->workload = d + off[S_WORKLOAD];
		r->operation = d + off[S_OPERATION];
		r->user = d + off[S_USER];
		r->client_ip = d + off[S_IP];
		r->category = d + off[S_CATEGORY];
		r->rule = d + off[S_RULE];
		r->source = d + off[S_SOURCE];
		r->content_type = d + off[S_CTYPE];
		r->tenant = d + off[S_TENANT];
		r->controls = r->ncontrols ? b->controls + off[S_CONTROLS] : NULL;
	}
	for (size_t k = 0; k < b->ncontrols; k++)
		b->controls[k] = b->data.data + b->control_offs[k];
	out->records = b->records;
	out->count = b->count;
}

void ax_batch_builder_remove(struct ax_batch_builder *b, const uint8_t *drop)
{
	size_t kept = 0;
	for (size_t i = 0; i < b->count; i++) {
		if (drop[i])
			continue;
		b->records[kept] = b->records[i];
		memmove(&b->offsets[kept * AX_BATCH_STRINGS], &b->offsets[i * AX_BATCH_STRINGS],
			AX_BATCH_STRINGS * sizeof(*b->offsets));
		kept++;
	}
	b->count = kept;
}

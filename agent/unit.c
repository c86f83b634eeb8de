#include "unit.h"

#include <stdlib.h>
#include <string.h>

void ax_unit_init(struct ax_unit *u, size_t max_bytes)
{
	memset(u, 0, sizeof(*u));
	ax_buf_init(&u->data, max_bytes);
}

void ax_unit_finish(struct ax_unit *u)
{
	ax_buf_finish(&u->data);
	free(u->records);
	u->records = NULL;
	u->count = u->cap = 0;
}

void ax_unit_clear(struct ax_unit *u)
{
	ax_buf_clear(&u->data);
	u->count = 0;
}

ax_err ax_unit_add(struct ax_unit *u, const char *data, size_t len, uint64_t line, uint64_t offset,
		   uint64_t full_len, bool oversized)
{
	if (u->count == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 256;
		struct ax_unit_record *r = realloc(u->records, cap * sizeof(*r));
		if (!r)
			return AX_ERR_NOMEM;
		u->records = r;
		u->cap = cap;
	}
	size_t off = u->data.len;
	ax_err err = ax_buf_add(&u->data, data, len);
	if (err)
		return err;
	u->records[u->count++] = (struct ax_unit_record){ off, len, line, offset, full_len, oversized, NULL };
	return AX_OK;
}

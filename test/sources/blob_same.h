/* blob_same.h - whether two splits of one body (sources/blob.c's fast path
 * and its yajl pass) gave the same: return code, items, kept strings,
 * nextLink, bad range and error text. For test_blob.c and fuzz_api.c. */
#ifndef AX_TEST_SOURCES_BLOB_SAME_H
#define AX_TEST_SOURCES_BLOB_SAME_H

#include <stdio.h>
#include <string.h>

#include "sources/blob.h"

/* NULL when they are the same; else what differs, in why. */
static inline const char *blob_differs(ax_err ea, const struct ax_blob *a, ax_err eb, const struct ax_blob *b,
				       char *why, size_t n)
{
	why[0] = '\0';
	if (ea != eb)
		snprintf(why, n, "returned %d and %d", (int)ea, (int)eb);
	else if (a->count != b->count)
		snprintf(why, n, "%zu and %zu items", a->count, b->count);
	else if (a->strings.len != b->strings.len ||
		 (a->strings.len && memcmp(a->strings.data, b->strings.data, a->strings.len) != 0))
		snprintf(why, n, "kept strings differ (%zu and %zu bytes)", a->strings.len, b->strings.len);
	else if ((a->next_link == NULL) != (b->next_link == NULL) ||
		 (a->next_link && strcmp(a->next_link, b->next_link) != 0))
		snprintf(why, n, "nextLink '%s' and '%s'", a->next_link ? a->next_link : "(none)",
			 b->next_link ? b->next_link : "(none)");
	else if (a->bad_off != b->bad_off || a->bad_len != b->bad_len)
		snprintf(why, n, "bad range %zu+%zu and %zu+%zu", a->bad_off, a->bad_len, b->bad_off, b->bad_len);
	else if (strcmp(a->error, b->error) != 0)
		snprintf(why, n, "error '%s' and '%s'", a->error, b->error);
	else
		for (size_t i = 0; i < a->count; i++) {
			const struct ax_blob_item *x = &a->items[i], *y = &b->items[i];
			if (x->off != y->off || x->len != y->len || x->id != y->id || x->id_len != y->id_len ||
			    x->ts != y->ts || x->ts_len != y->ts_len) {
				snprintf(why, n, "item %zu: %zu+%zu id %u+%u ts %u+%u, and %zu+%zu id %u+%u ts %u+%u", i,
					 x->off, x->len, x->id, x->id_len, x->ts, x->ts_len, y->off, y->len, y->id,
					 y->id_len, y->ts, y->ts_len);
				break;
			}
		}
	return why[0] ? why : NULL;
}

#endif

/* buf.h - growable byte buffer with a hard size limit.
 *
 * Used for everything that accumulates bytes: enriched records, batches,
 * dead-letter lines. The limit makes unbounded growth an error instead of an
 * out-of-memory kill; clearing keeps the allocation so hot loops reuse it. */
#ifndef AX_AGENT_BUF_H
#define AX_AGENT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

struct ax_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void ax_buf_init(struct ax_buf *b, size_t max);
void ax_buf_finish(struct ax_buf *b);
static inline void ax_buf_clear(struct ax_buf *b) { b->len = 0; }
ax_err ax_buf_reserve(struct ax_buf *b, size_t extra) AX_WARN_UNUSED;
ax_err ax_buf_add_slow(struct ax_buf *b, const void *data, size_t len) AX_WARN_UNUSED;
/* Appends len bytes. Inline: the formatters call it a few dozen times per
 * record, mostly with room to spare (the buffer keeps its allocation). */
AX_WARN_UNUSED static inline ax_err ax_buf_add(struct ax_buf *b, const void *data, size_t len)
{
	if (len < b->cap - b->len && len <= b->max - b->len) { /* room, and the NUL's */
		if (len)
			memcpy(b->data + b->len, data, len);
		b->len += len;
		return AX_OK;
	}
	return ax_buf_add_slow(b, data, len);
}
AX_WARN_UNUSED static inline ax_err ax_buf_addc(struct ax_buf *b, char c)
{
	if (b->cap - b->len > 1 && b->len < b->max) {
		b->data[b->len++] = c;
		return AX_OK;
	}
	return ax_buf_add_slow(b, &c, 1);
}
ax_err ax_buf_adds(struct ax_buf *b, const char *s) AX_WARN_UNUSED;
ax_err ax_buf_addf(struct ax_buf *b, const char *fmt, ...) AX_WARN_UNUSED
	__attribute__((format(printf, 2, 3)));
/* Appends v in decimal (as printf's %llu), without printf's cost. */
ax_err ax_buf_add_u64(struct ax_buf *b, uint64_t v) AX_WARN_UNUSED;
/* Appends s as a JSON string literal, quotes included. */
ax_err ax_buf_add_json_str(struct ax_buf *b, const char *s, size_t len) AX_WARN_UNUSED;
/* NUL-terminates without counting the NUL in len. */
ax_err ax_buf_cstr(struct ax_buf *b) AX_WARN_UNUSED;

#endif

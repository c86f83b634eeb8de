/* buf.h - growable byte buffer with a hard size limit.
 *
 * Used for everything that accumulates bytes: enriched records, batches,
 * dead-letter lines. The limit makes unbounded growth an error instead of an
 * out-of-memory kill; clearing keeps the allocation so hot loops reuse it. */
#ifndef AX_AGENT_BUF_H
#define AX_AGENT_BUF_H

#include <stddef.h>
#include <stdint.h>

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
ax_err ax_buf_add(struct ax_buf *b, const void *data, size_t len) AX_WARN_UNUSED;
ax_err ax_buf_addc(struct ax_buf *b, char c) AX_WARN_UNUSED;
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

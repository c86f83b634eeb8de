#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

void ax_buf_init(struct ax_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void ax_buf_finish(struct ax_buf *b)
{
	free(b->data);
	ax_buf_init(b, b->max);
}

ax_err ax_buf_reserve(struct ax_buf *b, size_t extra)
{
	if (extra > b->max || b->len > b->max - extra)
		return AX_ERR_TOO_LARGE;
	size_t need = b->len + extra + 1; /* room for a terminating NUL */
	if (need <= b->cap)
		return AX_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *data = realloc(b->data, cap);
	if (!data)
		return AX_ERR_NOMEM;
	b->data = data;
	b->cap = cap;
	return AX_OK;
}

ax_err ax_buf_add_slow(struct ax_buf *b, const void *data, size_t len)
{
	ax_err err = ax_buf_reserve(b, len);
	if (err)
		return err;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return AX_OK;
}

ax_err ax_buf_adds(struct ax_buf *b, const char *s)
{
	return ax_buf_add(b, s, strlen(s));
}

ax_err ax_buf_addf(struct ax_buf *b, const char *fmt, ...)
{
	/* Formatted once into the room there is; a second time only when the
	 * text did not fit (formatting twice, to measure first, cost as much). */
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return AX_ERR_IO;
	ax_err err = ax_buf_reserve(b, (size_t)n);
	if (err)
		return err; /* what vsnprintf wrote past len does not count */
	if ((size_t)n >= room) {
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return AX_OK;
}

ax_err ax_buf_add_u64(struct ax_buf *b, uint64_t v)
{
	char digits[20];
	size_t n = 0;
	do
		digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(digits));
	return ax_buf_add(b, digits + sizeof(digits) - n, n);
}

ax_err ax_buf_add_json_str(struct ax_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* Worst case every byte becomes \u00XX. */
	if (len > (b->max / 6))
		return AX_ERR_TOO_LARGE;
	ax_err err = ax_buf_reserve(b, len * 6 + 2);
	if (err)
		return err;
	char *out = b->data + b->len;
	*out++ = '"';
	/* most strings need no escape: copy them at once */
	size_t plain = ax_jscan_string_stop((const unsigned char *)s, 0, len);
	memcpy(out, s, plain);
	out += plain;
	for (size_t i = plain; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*out++ = '\\';
			*out++ = (char)c;
		} else if (c < 0x20) {
			*out++ = '\\';
			switch (c) {
			case '\n': *out++ = 'n'; break;
			case '\r': *out++ = 'r'; break;
			case '\t': *out++ = 't'; break;
			default:
				*out++ = 'u';
				*out++ = '0';
				*out++ = '0';
				*out++ = hex[c >> 4];
				*out++ = hex[c & 15];
			}
		} else {
			*out++ = (char)c;
		}
	}
	*out++ = '"';
	b->len = (size_t)(out - b->data);
	return AX_OK;
}

ax_err ax_buf_cstr(struct ax_buf *b)
{
	ax_err err = ax_buf_reserve(b, 0);
	if (err)
		return err;
	b->data[b->len] = '\0';
	return AX_OK;
}

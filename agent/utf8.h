/* utf8.h - strict UTF-8 validation (RFC 3629): no overlong forms, no
 * UTF-16 surrogates, nothing above U+10FFFF. yajl only checks the shape of
 * sequences and json.c's fast path none, so records are checked here before
 * they are parsed. */
#ifndef AX_AGENT_UTF8_H
#define AX_AGENT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Offset of the first byte that is not valid UTF-8, or len. */
size_t ax_utf8_invalid_at(const char *s, size_t len);

static inline bool ax_utf8_valid(const char *s, size_t len)
{
	return ax_utf8_invalid_at(s, len) == len;
}

#endif

/* ascii.h - case-insensitive comparison of ASCII names (JSON keys, field
 * values), as strcasecmp in the C locale but without its locale look-ups:
 * it runs for most keys and several values of every record. Bytes outside
 * A-Z/a-z compare exactly. */
#ifndef AX_AGENT_ASCII_H
#define AX_AGENT_ASCII_H

#include <stdbool.h>
#include <stddef.h>

static inline unsigned char ax_ascii_lower(unsigned char c)
{
	return (unsigned)(c - 'A') <= 'Z' - 'A' ? (unsigned char)(c | 0x20) : c;
}

static inline bool ax_ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) - 'a' > 'z' - 'a'))
			return false;
	}
	return true;
}

static inline bool ax_ascii_streq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned x = (unsigned char)*a, y = (unsigned char)*b;
		if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) - 'a' > 'z' - 'a'))
			return false;
		if (!x)
			return true;
	}
}

#endif

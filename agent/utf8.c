#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the sequence at s[i] (2..4), or 0 when it is not valid. */
static size_t sequence_len(const unsigned char *s, size_t i, size_t len)
{
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned char c = s[i];
	size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || len - i < n)
		return 0;
	uint32_t cp = c & (0x7f >> n);
	for (size_t k = 1; k < n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i + k] & 0x3f);
	}
	if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool ascii32(const unsigned char *p)
{
	uint64_t w[4];
	memcpy(w, p, sizeof(w));
	return ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull) == 0;
}

size_t ax_utf8_invalid_at(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		/* Audit records are mostly ASCII: skip such bytes 32 at a time. */
		if (len - i >= 32 && ascii32(s + i)) {
			i += 32;
		} else if (s[i] < 0x80) {
			i++;
		} else {
			size_t n = sequence_len(s, i, len);
			if (n == 0)
				return i;
			i += n;
		}
	}
	return len;
}

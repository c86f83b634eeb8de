#include "utf8.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* How many bytes from p on are ASCII, looking at 64 then 16 (SSE2) or 8 at
 * a time; at most len, and less than len only at a byte >= 0x80. */
static size_t ascii_run(const unsigned char *p, size_t len)
{
	size_t i = 0;
#ifdef __SSE2__
	for (; len - i >= 64; i += 64) {
		const __m128i *q = (const __m128i *)(const void *)(p + i);
		__m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(q), _mm_loadu_si128(q + 1)),
					   _mm_or_si128(_mm_loadu_si128(q + 2), _mm_loadu_si128(q + 3)));
		if (_mm_movemask_epi8(any))
			break; /* the loop below finds where */
	}
	for (; len - i >= 16; i += 16) {
		unsigned high = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
		if (high)
			return i + (size_t)__builtin_ctz(high);
	}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; len - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, sizeof(w));
		if (w & 0x8080808080808080ull)
			return i + (size_t)__builtin_ctzll(w & 0x8080808080808080ull) / 8;
	}
#endif
	while (i < len && p[i] < 0x80)
		i++;
	return i;
}

size_t ax_utf8_invalid_at(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	/* Audit records are mostly ASCII: runs of it are skipped at once, and
	 * each sequence between them checked. */
	while ((i += ascii_run(s + i, len - i)) < len) {
		size_t n = sequence_len(s, i, len);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

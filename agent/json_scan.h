/* json_scan.h - the strict JSON scanner json.c's fast path and
 * sources/blob.c's share: blanks, strings, numbers and literals as RFC 8259
 * writes them (a subset of what yajl takes), and a value skipper that only
 * validates. Bytes >= 0x80 are not looked at: callers check the whole input
 * as strict UTF-8 first (utf8.h), which is stricter than yajl's own check.
 *
 * Offsets are into s[0..len); a function that fails returns AX_JSCAN_FAIL,
 * and the caller then hands the input to yajl, which decides and words the
 * error. Internal to the agent. */
#ifndef AX_AGENT_JSON_SCAN_H
#define AX_AGENT_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define AX_JSCAN_FAIL SIZE_MAX
/* Containers nested deeper than this (below where the skip started) are
 * yajl's: the skipper recurses. */
#define AX_JSCAN_MAX_DEPTH 128

/* The blanks RFC 8259 allows (yajl also takes \v and \f: not here). */
static inline bool ax_jscan_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline size_t ax_jscan_blanks(const unsigned char *s, size_t i, size_t len)
{
	while (i < len && ax_jscan_blank(s[i]))
		i++;
	return i;
}

/* The first byte from i on that ends or escapes a string or may not be in
 * one ('"', '\\', a control character); len when there is none. */
static inline size_t ax_jscan_string_stop(const unsigned char *s, size_t i, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x1f);
	for (; len - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
					   _mm_cmpeq_epi8(_mm_subs_epu8(x, space), _mm_setzero_si128())); /* x <= 0x1f */
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	for (; len - i >= 8; i += 8) {
		uint64_t w, q, b;
		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		/* a zero byte in q or b, or a byte of w under 0x20 */
		if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) | ((w - ones * 0x20) & ~w & highs))
			break;
	}
	while (i < len && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20)
		i++;
	return i;
}

static inline size_t ax_jscan_digits(const unsigned char *s, size_t i, size_t len)
{
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* The end of the number at s[i] (i < len):
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline size_t ax_jscan_number(const unsigned char *s, size_t i, size_t len)
{
	size_t d;
	if (s[i] == '-')
		i++;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return AX_JSCAN_FAIL;
	i = s[i] == '0' ? i + 1 : ax_jscan_digits(s, i, len);
	if (i < len && s[i] == '.') {
		d = ++i;
		if ((i = ax_jscan_digits(s, i, len)) == d)
			return AX_JSCAN_FAIL;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		if ((i = ax_jscan_digits(s, i, len)) == d)
			return AX_JSCAN_FAIL;
	}
	return i;
}

/* Whether word (n bytes) is at s[i]. */
static inline bool ax_jscan_word(const unsigned char *s, size_t i, size_t len, const char *word, size_t n)
{
	return len - i >= n && memcmp(s + i, word, n) == 0;
}

/* The end of the string whose opening quote is s[i - 1], escapes (\u with
 * four hex digits too) checked, not decoded. */
size_t ax_jscan_skip_string(const unsigned char *s, size_t i, size_t len);

/* The end of the value at s[i] (no blanks before it), checked, not decoded;
 * depth: how deep it already is, counted against AX_JSCAN_MAX_DEPTH. */
size_t ax_jscan_skip_value(const unsigned char *s, size_t i, size_t len, unsigned depth);

#endif

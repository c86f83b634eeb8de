#include "crc32.h"

#include <limits.h>
#include <stdbool.h>
#include <zlib.h>

uint32_t ax_crc32_zlib(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) { /* crc32_z takes a z_size_t; keep to uInt for old zlibs */
		uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

#if defined(AX_HAVE_ISAL)
#include <isa-l/crc.h>

/* ISA-L folds with the widest carry-less multiplication the CPU has
 * (VPCLMULQDQ with AVX-512): about twice the rate of fold() below. */
uint32_t ax_crc32(uint32_t crc, const void *buf, size_t len)
{
	return crc32_gzip_refl(crc, buf, len);
}

#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FOLD_MIN 64

/* Folds len bytes (len >= 64, a multiple of 16) into crc, which is taken
 * and returned inverted (the register, not zlib's value). The constants
 * are x^(4*128+32), x^(4*128-32), x^(128+32), x^(128-32) and x^64 mod P,
 * bit-reflected, then P and floor(x^64 / P) for the Barrett reduction (the
 * ones Chromium's zlib and the Linux kernel use for this polynomial). */
__attribute__((target("pclmul,sse4.1"))) static uint32_t fold(const unsigned char *buf, size_t len, uint32_t crc)
{
	const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
	const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
	const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124);
	const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
	__m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;

	x1 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x00));
	x2 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x10));
	x3 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x20));
	x4 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x30));
	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
	x0 = k1k2;
	buf += 64;
	len -= 64;
	for (; len >= 64; buf += 64, len -= 64) { /* four lanes of 128 bits */
		x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
		x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
		x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
		x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
		x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
		x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
		x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
		x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x00)));
		x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x10)));
		x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x20)));
		x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x30)));
	}
	/* the four lanes into one */
	x0 = k3k4;
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
	for (; len >= 16; buf += 16, len -= 16) {
		x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
		x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, _mm_loadu_si128((const __m128i *)(const void *)buf)), x5);
	}
	/* 128 bits to 64 */
	x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
	x3 = _mm_setr_epi32(~0, 0, ~0, 0);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
	x0 = k5k0;
	x2 = _mm_srli_si128(x1, 4);
	x1 = _mm_and_si128(x1, x3);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_xor_si128(x1, x2);
	/* Barrett reduction to 32 bits */
	x0 = poly;
	x2 = _mm_and_si128(x1, x3);
	x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
	x2 = _mm_and_si128(x2, x3);
	x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
	x1 = _mm_xor_si128(x1, x2);
	return (uint32_t)_mm_extract_epi32(x1, 1);
}

static bool have_clmul(void)
{
	static int known = -1; /* every thread finds the same answer */
	int have = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
		__atomic_store_n(&known, have, __ATOMIC_RELAXED);
	}
	return have;
}

uint32_t ax_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	if (len >= FOLD_MIN && have_clmul()) {
		size_t chunk = len & ~(size_t)15;
		crc = ~fold(p, chunk, ~crc);
		p += chunk;
		len -= chunk;
	}
	return len ? ax_crc32_zlib(crc, p, len) : crc;
}

#else

uint32_t ax_crc32(uint32_t crc, const void *buf, size_t len)
{
	return ax_crc32_zlib(crc, buf, len);
}

#endif

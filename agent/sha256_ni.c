/* SHA-256 (FIPS 180-4) with the SHA extensions: the round and message
 * schedule steps as in Intel's "Intel SHA Extensions" (2013), four rounds per
 * step; the state lives in the ABEF/CDGH order those instructions use. */
#include "sha256_ni.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define NI __attribute__((target("sha,sse4.1,ssse3")))
#define BLOCK 64

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t IV[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

struct state {
	__m128i abef, cdgh;
};

bool ax_sha256_ni_usable(void)
{
	static int known = -1; /* every thread finds the same answer */
	int have = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (have < 0) {
		unsigned a, b, c, d; /* cpuid: clang's __builtin_cpu_supports knows no "sha" */
		have = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3) &&
		       __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
		__atomic_store_n(&known, have, __ATOMIC_RELAXED);
	}
	return have;
}

NI static inline __m128i big_endian_words(const uint8_t *p)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
}

/* The next four message words from the sixteen before them (w0 oldest). */
NI static inline __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
	__m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
	return _mm_sha256msg2_epu32(t, w3);
}

NI static inline void rounds4(struct state *s, __m128i w, int step)
{
	__m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * step]));
	s->cdgh = _mm_sha256rnds2_epu32(s->cdgh, s->abef, wk);
	s->abef = _mm_sha256rnds2_epu32(s->abef, s->cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

/* One block of each of n messages (n a constant where it is inlined): the
 * same steps, interleaved, so the SHA unit works on one while another's
 * round waits for its result. */
NI static inline __attribute__((always_inline)) void compress_lanes(struct state *s, const uint8_t *const *block,
								   int n)
{
	struct state in[AX_SHA256_LANES];
	__m128i w[AX_SHA256_LANES][4];
	for (int k = 0; k < n; k++) {
		in[k] = s[k];
		for (int i = 0; i < 4; i++)
			w[k][i] = big_endian_words(block[k] + 16 * i);
	}
#pragma GCC unroll 16
	for (int step = 0; step < 16; step++) {
#pragma GCC unroll 4
		for (int k = 0; k < n; k++) {
			if (step >= 4)
				w[k][step & 3] = schedule(w[k][step & 3], w[k][(step + 1) & 3], w[k][(step + 2) & 3],
							  w[k][(step + 3) & 3]);
			rounds4(&s[k], w[k][step & 3], step);
		}
	}
	for (int k = 0; k < n; k++) {
		s[k].abef = _mm_add_epi32(s[k].abef, in[k].abef);
		s[k].cdgh = _mm_add_epi32(s[k].cdgh, in[k].cdgh);
	}
}

NI static void compress1(struct state *s, const uint8_t *const *block)
{
	compress_lanes(s, block, 1);
}

NI static void compress2(struct state *s, const uint8_t *const *block)
{
	compress_lanes(s, block, 2);
}

NI static void compress4(struct state *s, const uint8_t *const *block)
{
	compress_lanes(s, block, 4);
}

NI static void start(struct state *s)
{
	__m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&IV[0]), 0xB1);
	__m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&IV[4]), 0x1B);
	s->abef = _mm_alignr_epi8(dcba, efgh, 8);
	s->cdgh = _mm_blend_epi16(efgh, dcba, 0xF0);
}

NI static void digest(const struct state *s, uint8_t out[AX_SHA256_LEN])
{
	__m128i feba = _mm_shuffle_epi32(s->abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(s->cdgh, 0xB1);
	__m128i abcd = _mm_blend_epi16(feba, dchg, 0xF0);
	__m128i efgh = _mm_alignr_epi8(dchg, feba, 8);
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	_mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(abcd, swap));
	_mm_storeu_si128((__m128i *)(out + 16), _mm_shuffle_epi8(efgh, swap));
}

/* A message as the blocks compress takes: the whole blocks where they lie,
 * the one across the pieces' seam and the padded end copied. */
struct blocks {
	const struct ax_sha256_msg *m;
	size_t whole, count; /* blocks of message bytes only; in all */
	uint8_t seam[BLOCK], end[2 * BLOCK];
};

static void copy_out(const struct ax_sha256_msg *m, size_t at, size_t len, uint8_t *dst)
{
	const uint8_t *p0 = m->piece[0], *p1 = m->piece[1];
	size_t l0 = m->len[0];
	size_t first = at < l0 ? (l0 - at < len ? l0 - at : len) : 0;
	if (first)
		memcpy(dst, p0 + at, first);
	if (len > first)
		memcpy(dst + first, p1 + (at + first - l0), len - first);
}

static void blocks_init(struct blocks *b, const struct ax_sha256_msg *m)
{
	size_t total = m->len[0] + m->len[1], rest = total % BLOCK;
	b->m = m;
	b->whole = total / BLOCK;
	size_t pad = rest + 9 <= BLOCK ? 1 : 2; /* 0x80, zeros, the length in bits */
	b->count = b->whole + pad;
	memset(b->end, 0, sizeof(b->end));
	copy_out(m, b->whole * BLOCK, rest, b->end);
	b->end[rest] = 0x80;
	uint64_t bits = (uint64_t)total * 8;
	for (int i = 0; i < 8; i++)
		b->end[pad * BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
}

static const uint8_t *block_at(struct blocks *b, size_t i)
{
	if (i >= b->whole)
		return b->end + (i - b->whole) * BLOCK;
	size_t at = i * BLOCK, l0 = b->m->len[0];
	if (at + BLOCK <= l0)
		return (const uint8_t *)b->m->piece[0] + at;
	if (at >= l0)
		return (const uint8_t *)b->m->piece[1] + (at - l0);
	copy_out(b->m, at, BLOCK, b->seam);
	return b->seam;
}

/* Block i of m lanes, in groups of four, two and one. */
NI static void compress_some(struct state *s, const uint8_t *const *block, size_t m)
{
	size_t done = 0;
	for (; m - done >= 4; done += 4)
		compress4(s + done, block + done);
	for (; m - done >= 2; done += 2)
		compress2(s + done, block + done);
	if (done < m)
		compress1(s + done, block + done);
}

/* Block i of the lanes that still have one. */
NI static void compress_step(struct state *s, struct blocks *b, size_t n, size_t i)
{
	struct state live[AX_SHA256_LANES];
	const uint8_t *block[AX_SHA256_LANES] = { 0 };
	size_t lane[AX_SHA256_LANES], m = 0;
	for (size_t k = 0; k < n; k++) {
		if (i < b[k].count) {
			lane[m] = k;
			live[m] = s[k];
			block[m++] = block_at(&b[k], i);
		}
	}
	compress_some(live, block, m);
	for (size_t k = 0; k < m; k++)
		s[lane[k]] = live[k];
}

NI void ax_sha256_ni_lanes(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN])
{
	struct blocks b[AX_SHA256_LANES];
	struct state s[AX_SHA256_LANES];
	size_t all = SIZE_MAX, count = 0; /* blocks every lane has; the longest lane's */
	n = n < AX_SHA256_LANES ? n : AX_SHA256_LANES; /* as promised; the compiler cannot know */
	for (size_t k = 0; k < n; k++) {
		blocks_init(&b[k], &m[k]);
		start(&s[k]);
		all = b[k].count < all ? b[k].count : all;
		count = b[k].count > count ? b[k].count : count;
	}
	size_t i = 0;
	for (; i < all; i++) {
		const uint8_t *block[AX_SHA256_LANES] = { 0 };
		for (size_t k = 0; k < n; k++)
			block[k] = block_at(&b[k], i);
		compress_some(s, block, n);
	}
	for (; i < count; i++)
		compress_step(s, b, n, i);
	for (size_t k = 0; k < n; k++)
		digest(&s[k], out[k]);
}

#else

bool ax_sha256_ni_usable(void)
{
	return false;
}

void ax_sha256_ni_lanes(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN])
{
	(void)m;
	memset(out, 0, n * AX_SHA256_LEN);
}

#endif

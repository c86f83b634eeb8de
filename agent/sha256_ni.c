/* SHA-256 (FIPS 180-4) with the SHA extensions: the round and message
 * schedule steps as in Intel's "Intel SHA Extensions" (2013), four rounds per
 * step; the state lives in the ABEF/CDGH order those instructions use. */
#include "sha256_ni.h"

#include "sha256_blocks.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define NI __attribute__((target("sha,sse4.1,ssse3")))
#define WIDTH 4 /* messages interleaved */

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
	__m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&ax_sha256_k[4 * step]));
	s->cdgh = _mm_sha256rnds2_epu32(s->cdgh, s->abef, wk);
	s->abef = _mm_sha256rnds2_epu32(s->abef, s->cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

/* One block of each of n messages (n a constant where it is inlined): the
 * same steps, interleaved, so the SHA unit works on one while another's
 * round waits for its result. */
NI static inline __attribute__((always_inline)) void compress_lanes(struct state *s, const uint8_t *const *block,
								   int n)
{
	struct state in[WIDTH];
	__m128i w[WIDTH][4];
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

/* The state of a chaining value a..h. */
NI static struct state state_of(const uint32_t h[8])
{
	return (struct state){ _mm_set_epi32((int)h[0], (int)h[1], (int)h[4], (int)h[5]),
			       _mm_set_epi32((int)h[2], (int)h[3], (int)h[6], (int)h[7]) };
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

/* One block of each of m lanes, in groups of four, two and one. */
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

/* Up to WIDTH messages side by side, message k from block at[k] on, until
 * each has none left. */
NI static void run_group(struct state *s, struct ax_sha256_blocks *b, const size_t *at, size_t n)
{
	size_t steps = 0;
	for (size_t k = 0; k < n; k++)
		steps = b[k].count - at[k] > steps ? b[k].count - at[k] : steps;
	for (size_t j = 0; j < steps; j++) {
		struct state live[WIDTH];
		const uint8_t *block[WIDTH] = { 0 };
		size_t lane[WIDTH], m = 0;
		for (size_t k = 0; k < n; k++) {
			if (at[k] + j < b[k].count) {
				lane[m] = k;
				live[m] = s[k];
				block[m++] = ax_sha256_block_at(&b[k], at[k] + j);
			}
		}
		if (m == n) { /* every lane: no copies */
			compress_some(s, block, n);
			continue;
		}
		compress_some(live, block, m);
		for (size_t k = 0; k < m; k++)
			s[lane[k]] = live[k];
	}
}

NI void ax_sha256_ni_resume(struct ax_sha256_blocks *b, const uint32_t (*h)[8], const size_t *at, size_t n,
			    uint8_t (*out)[AX_SHA256_LEN])
{
	for (size_t first = 0; first < n; first += WIDTH) {
		size_t m = n - first < WIDTH ? n - first : WIDTH;
		struct state s[WIDTH];
		for (size_t k = 0; k < m; k++)
			s[k] = state_of(h[first + k]);
		run_group(s, b + first, at + first, m);
		for (size_t k = 0; k < m; k++)
			digest(&s[k], out[first + k]);
	}
}

NI void ax_sha256_ni_pair(const uint8_t a[AX_SHA256_LEN], const uint8_t b[AX_SHA256_LEN],
			  uint8_t out[AX_SHA256_LEN])
{
	/* a 64-byte message's second block: 0x80, zeros, 512 as 64 bits */
	static const uint8_t padding[AX_SHA256_BLOCK] = { [0] = 0x80, [AX_SHA256_BLOCK - 2] = 0x02 };
	uint8_t message[AX_SHA256_BLOCK];
	memcpy(message, a, AX_SHA256_LEN);
	memcpy(message + AX_SHA256_LEN, b, AX_SHA256_LEN);
	struct state s = state_of(ax_sha256_iv);
	const uint8_t *block = message;
	compress1(&s, &block);
	block = padding;
	compress1(&s, &block);
	digest(&s, out);
}

void ax_sha256_ni_lanes(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN])
{
	struct ax_sha256_blocks b[AX_SHA256_LANES];
	uint32_t h[AX_SHA256_LANES][8];
	size_t at[AX_SHA256_LANES] = { 0 };
	n = n < AX_SHA256_LANES ? n : AX_SHA256_LANES; /* as promised; the compiler cannot know */
	for (size_t k = 0; k < n; k++) {
		ax_sha256_blocks_init(&b[k], &m[k]);
		memcpy(h[k], ax_sha256_iv, sizeof(h[k]));
	}
	ax_sha256_ni_resume(b, (const uint32_t(*)[8])h, at, n, out);
}

#else

bool ax_sha256_ni_usable(void)
{
	return false;
}

void ax_sha256_ni_resume(struct ax_sha256_blocks *b, const uint32_t (*h)[8], const size_t *at, size_t n,
			 uint8_t (*out)[AX_SHA256_LEN])
{
	(void)b, (void)h, (void)at;
	memset(out, 0, n * AX_SHA256_LEN);
}

void ax_sha256_ni_lanes(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN])
{
	(void)m;
	memset(out, 0, n * AX_SHA256_LEN);
}

void ax_sha256_ni_pair(const uint8_t a[AX_SHA256_LEN], const uint8_t b[AX_SHA256_LEN], uint8_t out[AX_SHA256_LEN])
{
	(void)a, (void)b;
	memset(out, 0, AX_SHA256_LEN);
}

#endif

/* SHA-256 (FIPS 180-4) sixteen messages at a time with AVX-512: word t of
 * every lane's block in one register, each Σ three rotations and a ternary
 * logic op. */
#include "sha256_x16.h"

#include <string.h>
#include <time.h>

#include "sha256_blocks.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define X16 __attribute__((target("avx512f,avx512bw")))
#define LANES 16

bool ax_sha256_x16_usable(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

/* w[j]: word j of every lane's block, from big-endian bytes. A 16x16
 * transpose of 32-bit words: pairs, then quads within 128 bits, then the
 * 128-bit quarters. */
X16 static inline void load_words(const uint8_t *const *block, __m512i w[16])
{
	const __m512i swap = _mm512_broadcast_i32x4(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
	__m512i r[16], t[16];
	for (int l = 0; l < LANES; l++)
		r[l] = _mm512_loadu_si512(block[l]);
	for (int i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
	}
	for (int i = 0; i < 16; i += 4) { /* r[i + k], quarter c: word 4c + k of lanes i..i+3 */
		r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
		r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
		r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
		r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
	for (int k = 0; k < 4; k++) {
		__m512i lo_ab = _mm512_shuffle_i32x4(r[k], r[4 + k], 0x44), hi_ab = _mm512_shuffle_i32x4(r[k], r[4 + k], 0xEE);
		__m512i lo_cd = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0x44);
		__m512i hi_cd = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0xEE);
		w[k] = _mm512_shuffle_i32x4(lo_ab, lo_cd, 0x88);
		w[4 + k] = _mm512_shuffle_i32x4(lo_ab, lo_cd, 0xDD);
		w[8 + k] = _mm512_shuffle_i32x4(hi_ab, hi_cd, 0x88);
		w[12 + k] = _mm512_shuffle_i32x4(hi_ab, hi_cd, 0xDD);
	}
	for (int j = 0; j < 16; j++)
		w[j] = _mm512_shuffle_epi8(w[j], swap);
}

#define ROR(x, n) _mm512_ror_epi32(x, n)
#define XOR3(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0x96)
#define CH(e, f, g) _mm512_ternarylogic_epi32(e, f, g, 0xCA)
#define MAJ(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0xE8)
#define ADD(a, b) _mm512_add_epi32(a, b)

/* One block of each lane in busy; the others keep their state. */
X16 static void compress16(__m512i s[8], const uint8_t *const *block, __mmask16 busy)
{
	__m512i w[16];
	load_words(block, w);
	__m512i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
	for (int t = 0; t < 64; t++) {
		if (t >= 16) {
			__m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			__m512i s0 = XOR3(ROR(w15, 7), ROR(w15, 18), _mm512_srli_epi32(w15, 3));
			__m512i s1 = XOR3(ROR(w2, 17), ROR(w2, 19), _mm512_srli_epi32(w2, 10));
			w[t & 15] = ADD(ADD(w[t & 15], s0), ADD(w[(t - 7) & 15], s1));
		}
		__m512i kw = ADD(w[t & 15], _mm512_set1_epi32((int)ax_sha256_k[t]));
		__m512i t1 = ADD(ADD(h, XOR3(ROR(e, 6), ROR(e, 11), ROR(e, 25))), ADD(CH(e, f, g), kw));
		__m512i t2 = ADD(XOR3(ROR(a, 2), ROR(a, 13), ROR(a, 22)), MAJ(a, b, c));
		h = g;
		g = f;
		f = e;
		e = ADD(d, t1);
		d = c;
		c = b;
		b = a;
		a = ADD(t1, t2);
	}
	__m512i v[8] = { a, b, c, d, e, f, g, h };
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_mask_add_epi32(s[i], busy, s[i], v[i]);
}

/* Sixteen-lane steps while at least handoff lanes (and one) have a block;
 * at[k]: message k's next block after them; h[k]: its chaining value. */
X16 static void run16(struct ax_sha256_blocks *b, size_t n, unsigned handoff, size_t *at, uint32_t (*h)[8])
{
	static const uint8_t idle[AX_SHA256_BLOCK]; /* what lanes without a block chew on */
	__m512i s[8];
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_set1_epi32((int)ax_sha256_iv[i]);
	for (;;) {
		const uint8_t *block[LANES];
		__mmask16 busy = 0;
		unsigned count = 0;
		for (size_t k = 0; k < LANES; k++) {
			block[k] = idle;
			if (k < n && at[k] < b[k].count) {
				block[k] = ax_sha256_block_at(&b[k], at[k]);
				busy |= (__mmask16)(1u << k);
				count++;
			}
		}
		if (count == 0 || count < handoff)
			break;
		compress16(s, block, busy);
		for (size_t k = 0; k < n; k++)
			at[k] += (busy >> k) & 1;
	}
	for (int i = 0; i < 8; i++) {
		uint32_t word[LANES];
		_mm512_storeu_si512(word, s[i]);
		for (size_t k = 0; k < n; k++)
			h[k][i] = word[k];
	}
}

void ax_sha256_x16(const struct ax_sha256_msg *m, size_t n, unsigned handoff, uint8_t (*out)[AX_SHA256_LEN])
{
	struct ax_sha256_blocks b[LANES], rest_b[LANES];
	uint32_t h[LANES][8], rest_h[LANES][8];
	size_t at[LANES] = { 0 }, rest_at[LANES], rest_of[LANES], nrest = 0;
	n = n < LANES ? n : LANES;
	for (size_t k = 0; k < n; k++)
		ax_sha256_blocks_init(&b[k], &m[k]);
	run16(b, n, handoff, at, h);
	for (size_t k = 0; k < n; k++) {
		if (at[k] == b[k].count) {
			ax_sha256_digest_of(h[k], out[k]);
			continue;
		}
		rest_b[nrest] = b[k];
		memcpy(rest_h[nrest], h[k], sizeof(h[k]));
		rest_at[nrest] = at[k];
		rest_of[nrest++] = k;
	}
	if (!nrest)
		return;
	uint8_t rest_out[LANES][AX_SHA256_LEN];
	ax_sha256_ni_resume(rest_b, (const uint32_t(*)[8])rest_h, rest_at, nrest, rest_out);
	for (size_t k = 0; k < nrest; k++)
		memcpy(out[rest_of[k]], rest_out[k], AX_SHA256_LEN);
}

/* Seconds the best of three runs of one engine over the sample took. */
static double best_time(const struct ax_sha256_msg *m, bool x16)
{
	double best = 1e9;
	for (int run = 0; run < 3; run++) {
		uint8_t out[LANES][AX_SHA256_LEN];
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 4; i++) {
			if (x16)
				ax_sha256_x16(m, LANES, AX_SHA256_X16_HANDOFF, out);
			else
				ax_sha256_ni_lanes(m, LANES, out);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		best = s < best ? s : best;
	}
	return best;
}

/* Sixteen messages of records' sizes (1.3 to 2.8 KiB) through each engine. */
static bool measure_x16_faster(void)
{
	static uint8_t sample[LANES * 2900];
	struct ax_sha256_msg m[LANES];
	for (size_t i = 0; i < sizeof(sample); i++)
		sample[i] = (uint8_t)(i * 131 + (i >> 7));
	for (size_t k = 0; k < LANES; k++)
		m[k] = (struct ax_sha256_msg){ { sample + k * 2900, NULL }, { 1300 + k * 97, 0 } };
	(void)best_time(m, true); /* warm both up */
	(void)best_time(m, false);
	return best_time(m, true) < best_time(m, false);
}

bool ax_sha256_x16_pays(void)
{
	static int known = -1; /* every thread finds the same answer, or near enough */
	int pays = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (pays < 0) {
		pays = ax_sha256_x16_usable() && (!ax_sha256_ni_usable() || measure_x16_faster());
		__atomic_store_n(&known, pays, __ATOMIC_RELAXED);
	}
	return pays;
}

#else

bool ax_sha256_x16_usable(void)
{
	return false;
}

bool ax_sha256_x16_pays(void)
{
	return false;
}

void ax_sha256_x16(const struct ax_sha256_msg *m, size_t n, unsigned handoff, uint8_t (*out)[AX_SHA256_LEN])
{
	(void)m, (void)handoff;
	memset(out, 0, n * AX_SHA256_LEN);
}

#endif

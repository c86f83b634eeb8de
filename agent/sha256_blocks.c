#include "sha256_blocks.h"

#include <string.h>

const uint32_t ax_sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

const uint32_t ax_sha256_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
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

void ax_sha256_blocks_init(struct ax_sha256_blocks *b, const struct ax_sha256_msg *m)
{
	size_t total = m->len[0] + m->len[1], rest = total % AX_SHA256_BLOCK;
	b->m = m;
	b->whole = total / AX_SHA256_BLOCK;
	size_t pad = rest + 9 <= AX_SHA256_BLOCK ? 1 : 2; /* 0x80, zeros, the length in bits */
	b->count = b->whole + pad;
	memset(b->end, 0, sizeof(b->end));
	copy_out(m, b->whole * AX_SHA256_BLOCK, rest, b->end);
	b->end[rest] = 0x80;
	uint64_t bits = (uint64_t)total * 8;
	for (int i = 0; i < 8; i++)
		b->end[pad * AX_SHA256_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
}

const uint8_t *ax_sha256_block_at(struct ax_sha256_blocks *b, size_t i)
{
	if (i >= b->whole)
		return b->end + (i - b->whole) * AX_SHA256_BLOCK;
	size_t at = i * AX_SHA256_BLOCK, l0 = b->m->len[0];
	if (at + AX_SHA256_BLOCK <= l0)
		return (const uint8_t *)b->m->piece[0] + at;
	if (at >= l0)
		return (const uint8_t *)b->m->piece[1] + (at - l0);
	copy_out(b->m, at, AX_SHA256_BLOCK, b->seam);
	return b->seam;
}

void ax_sha256_digest_of(const uint32_t h[8], uint8_t out[AX_SHA256_LEN])
{
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

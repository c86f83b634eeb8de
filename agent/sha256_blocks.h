/* sha256_blocks.h - what the SHA-256 engines (sha256_ni.c, sha256_x16.c)
 * share: the round constants, the initial value, and a message seen as the
 * 64-byte blocks a compression takes, padding included. */
#ifndef AX_AGENT_SHA256_BLOCKS_H
#define AX_AGENT_SHA256_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "sha256_ni.h"

#define AX_SHA256_BLOCK 64

extern const uint32_t ax_sha256_k[64];
extern const uint32_t ax_sha256_iv[8];

/* The whole blocks where they lie, the one across the pieces' seam and the
 * padded end copied. */
struct ax_sha256_blocks {
	const struct ax_sha256_msg *m;
	size_t whole, count; /* blocks of message bytes only; in all */
	uint8_t seam[AX_SHA256_BLOCK], end[2 * AX_SHA256_BLOCK];
};

void ax_sha256_blocks_init(struct ax_sha256_blocks *b, const struct ax_sha256_msg *m);
/* Block i (below b->count); a seam block is good until the next call. */
const uint8_t *ax_sha256_block_at(struct ax_sha256_blocks *b, size_t i);
/* The digest of a chaining value a..h. */
void ax_sha256_digest_of(const uint32_t h[8], uint8_t out[AX_SHA256_LEN]);

#endif

/* sha256_ni.h - SHA-256 with the CPU's SHA instructions, messages side by
 * side.
 *
 * Every record the agent emits is hashed for its chain (chain.h), so SHA-256
 * is a large part of a record's cost. OpenSSL's SHA-NI code hashes one message
 * at a time, and each round waits for the one before it; independent
 * messages interleaved keep the SHA unit busy (1.6 KiB records: 1090 ns
 * with EVP, 870 alone, 580 each in pairs, 480 in fours). A message is two
 * pieces, hashed as one (R' is a record with its chain digits taken out).
 * x86-64 only; ax_sha256_ni_usable says whether this CPU has the
 * instructions (elsewhere: never, and chain.c uses OpenSSL). sha256_x16.h
 * hashes sixteen at a time where the CPU has AVX-512. */
#ifndef AX_AGENT_SHA256_NI_H
#define AX_AGENT_SHA256_NI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AX_SHA256_LEN 32

/* The bytes of piece[0], then those of piece[1] (either may be empty). */
struct ax_sha256_msg {
	const void *piece[2];
	size_t len[2];
};

#define AX_SHA256_LANES 16 /* messages one call hashes at most */

struct ax_sha256_blocks;

bool ax_sha256_ni_usable(void);
/* The SHA-256 of n messages (1 to AX_SHA256_LANES) into out[0..n), four
 * side by side at a time; only when ax_sha256_ni_usable(). */
void ax_sha256_ni_lanes(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN]);
/* The SHA-256 of a's 32 bytes then b's: a chain's link (chain.h), hashed
 * one after another (each needs the one before), so without lanes to set
 * up; only when ax_sha256_ni_usable(). */
void ax_sha256_ni_pair(const uint8_t a[AX_SHA256_LEN], const uint8_t b[AX_SHA256_LEN], uint8_t out[AX_SHA256_LEN]);
/* Finishes n messages (1 to AX_SHA256_LANES), message k from its block
 * at[k] on, where its chaining value is h[k] (a..h). */
void ax_sha256_ni_resume(struct ax_sha256_blocks *b, const uint32_t (*h)[8], const size_t *at, size_t n,
			 uint8_t (*out)[AX_SHA256_LEN]);

#endif

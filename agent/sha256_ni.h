/* sha256_ni.h - SHA-256 with the CPU's SHA instructions, one message or two
 * side by side.
 *
 * Every record the agent emits is hashed for its chain (chain.h), so SHA-256
 * is a large part of a record's cost. OpenSSL's SHA-NI code hashes one message
 * at a time, and each round waits for the one before it; two independent
 * messages interleaved keep the SHA unit busy, about 1.9 times the rate
 * (1.6 KiB records: 1090 ns with EVP, 870 alone, 580 each in pairs). A
 * message is two pieces, hashed as one (R' is a record with its chain digits
 * taken out). x86-64 only; ax_sha256_ni_usable says whether this CPU has the
 * instructions (elsewhere: never, and chain.c uses OpenSSL). */
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

bool ax_sha256_ni_usable(void);
/* Only when ax_sha256_ni_usable(). */
void ax_sha256_ni(const struct ax_sha256_msg *m, uint8_t out[AX_SHA256_LEN]);
void ax_sha256_ni_x2(const struct ax_sha256_msg *a, const struct ax_sha256_msg *b, uint8_t out_a[AX_SHA256_LEN],
		     uint8_t out_b[AX_SHA256_LEN]);

#endif

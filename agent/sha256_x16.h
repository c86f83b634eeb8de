/* sha256_x16.h - SHA-256 of sixteen messages at once, one in each 32-bit
 * lane of the AVX-512 registers.
 *
 * SHA-NI rounds wait on one another; sixteen plain rounds side by side do
 * not, and on a Xeon with both a sixteen-lane block costs about what nine
 * SHA-NI blocks do (0.65 against 1.19 cycles a byte, four SHA-NI messages
 * interleaved). Messages end at different blocks: once fewer lanes than
 * `handoff` have one, the rest go to SHA-NI (sha256_ni.h). Where AVX-512
 * is slower than SHA-NI (AMD's Zen 4 runs it in halves),
 * ax_sha256_x16_pays says so, measured once. */
#ifndef AX_AGENT_SHA256_X16_H
#define AX_AGENT_SHA256_X16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256_ni.h"

#define AX_SHA256_X16_HANDOFF 9 /* lanes busy, at least, for a sixteen-lane step to beat SHA-NI */

/* This CPU (and OS) has AVX-512 F and BW. */
bool ax_sha256_x16_usable(void);
/* Usable, and faster than SHA-NI here where the CPU has both (timed once,
 * on the first call: about a millisecond). */
bool ax_sha256_x16_pays(void);
/* The SHA-256 of n messages (1 to 16) into out[0..n): sixteen-lane steps
 * while at least handoff lanes have a block, the rest finished with SHA-NI
 * (handoff 0: all with AVX-512, for a CPU without SHA-NI). Only when
 * ax_sha256_x16_usable(), and, with handoff > 0, ax_sha256_ni_usable(). */
void ax_sha256_x16(const struct ax_sha256_msg *m, size_t n, unsigned handoff, uint8_t (*out)[AX_SHA256_LEN]);

#endif

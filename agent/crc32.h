/* crc32.h - CRC-32 (ISO-HDLC, zlib's crc32), with carry-less multiplication.
 *
 * The spool checks every frame with a CRC-32 when it writes it and again
 * when an output reads it: zlib's table-driven crc32 (about 4 instructions
 * a byte) was the largest single cost of a sender. ax_crc32 gives the same
 * values, so frames written by either stay readable by both; on x86-64
 * with PCLMULQDQ it folds 64 bytes at a time (Intel, "Fast CRC Computation
 * for Generic Polynomials Using PCLMULQDQ Instruction", 2009), elsewhere it
 * is zlib's crc32. Built with ISA-L, it is ISA-L's crc32_gzip_refl, the same
 * values with wider folding where the CPU has it. */
#ifndef AX_AGENT_CRC32_H
#define AX_AGENT_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc32(crc, buf, len) as zlib computes it: start with 0, chain calls. */
uint32_t ax_crc32(uint32_t crc, const void *buf, size_t len);
/* The same through zlib alone (for tests). */
uint32_t ax_crc32_zlib(uint32_t crc, const void *buf, size_t len);

#endif

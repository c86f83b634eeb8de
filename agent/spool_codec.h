/* spool_codec.h - how records and frames are laid out in the spool.
 *
 * A frame is a 20-byte header and a payload:
 *   magic "AXS1" | stored length | raw length (bit 31: zlib-compressed) |
 *   record count | CRC-32
 * The CRC covers the lengths, the count and the stored payload, so a torn
 * write, a flipped bit or stray bytes all fail it. A spool in memory writes
 * 0 there and never checks it: its frames cannot tear nor outlive the process. The raw payload is a run of
 * records, each a 32-bit length and a body:
 *   json length (32 bits) | json | NUL | id, creation time, workload,
 *   operation, user, client IP, category, rule, source, content type,
 *   tenant, each NUL-terminated | severity (1 byte) | control count (1 byte)
 *   | the control ids, each NUL-terminated.
 * Every string ends in NUL, so a decoded record points into the payload.
 * Lengths are in host byte order: a spool never leaves its machine. */
#ifndef AX_AGENT_SPOOL_CODEC_H
#define AX_AGENT_SPOOL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "outputs/output.h"

#define AX_SPOOL_MAGIC 0x31535841u /* "AXS1" read as a little-endian word */
#define AX_SPOOL_FRAME_HEADER 20u
#define AX_SPOOL_COMPRESSED 0x80000000u
#define AX_SPOOL_MAX_CONTROLS 255

struct ax_spool_frame {
	uint32_t stored_len;
	uint32_t raw_len;
	uint32_t nrecords;
	bool compressed;
};

/* Appends r to a frame payload being built. */
ax_err ax_spool_encode_record(struct ax_buf *payload, const struct ax_record *r) AX_WARN_UNUSED;

/* Decodes the record at *pos of a raw payload and moves *pos past it.
 * controls must hold AX_SPOOL_MAX_CONTROLS pointers. AX_ERR_JSON when the
 * bytes are not a record (a bug or corruption the CRC did not catch). */
ax_err ax_spool_decode_record(const char *payload, size_t len, size_t *pos, struct ax_record *r,
			      const char **controls) AX_WARN_UNUSED;

/* Writes the header of frame f, whose stored payload is given; with crc
 * false its CRC field is 0. */
void ax_spool_frame_header(uint8_t header[AX_SPOOL_FRAME_HEADER], const void *stored,
			   const struct ax_spool_frame *f, bool crc);

/* Reads a header; false when it is not one (wrong magic, absurd lengths). */
bool ax_spool_frame_parse(const uint8_t header[AX_SPOOL_FRAME_HEADER], uint32_t max_len,
			  struct ax_spool_frame *f);

/* True when the stored payload matches the header's CRC. */
bool ax_spool_frame_check(const uint8_t header[AX_SPOOL_FRAME_HEADER], const void *stored);

#endif

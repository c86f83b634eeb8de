/* gzip (RFC 1952) of a request body with zlib, for Content-Encoding: gzip.
 *
 * zlib deflates raw; the 10-byte header and the trailer are written here,
 * so that the trailer's CRC-32 is ax_crc32 (carry-less multiplication)
 * rather than zlib's table-driven one, a few percent of a gzip run. */
#include <limits.h>
#include <string.h>

#include <zlib.h>

#include "crc32.h"
#include "hec.h"

#define RAW_WINDOW (-15) /* 15-bit window, no zlib or gzip wrapper */
#define HEADER_LEN 10
#define TRAILER_LEN 8

/* As zlib writes it: no name, no time; XFL says how hard it tried; OS Unix. */
static void put_header(unsigned char *p, int level)
{
	static const unsigned char fixed[HEADER_LEN - 2] = { 0x1f, 0x8b, Z_DEFLATED, 0, 0, 0, 0, 0 };
	memcpy(p, fixed, sizeof(fixed));
	p[8] = level == 9 ? 2 : level < 2 ? 4 : 0;
	p[9] = 3;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

ax_err ax_hec_gzip(struct ax_buf *out, const char *in, size_t len, int level)
{
	z_stream z = { 0 };
	ax_buf_clear(out);
	if (len > UINT_MAX)
		return AX_ERR_TOO_LARGE;
	if (deflateInit2(&z, level, Z_DEFLATED, RAW_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return AX_ERR_NOMEM;
	/* deflateBound is exact for one deflate(Z_FINISH) call: no loop needed. */
	size_t bound = deflateBound(&z, (uLong)len);
	ax_err err = bound > UINT_MAX ? AX_ERR_TOO_LARGE : ax_buf_reserve(out, HEADER_LEN + bound + TRAILER_LEN);
	if (!err) {
		unsigned char *p = (unsigned char *)out->data;
		put_header(p, level);
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)len;
		z.next_out = p + HEADER_LEN;
		z.avail_out = (uInt)bound;
		err = deflate(&z, Z_FINISH) == Z_STREAM_END ? AX_OK : AX_ERR_IO;
		p += HEADER_LEN + z.total_out;
		put_le32(p, ax_crc32(0, in, len));
		put_le32(p + 4, (uint32_t)len);
		out->len = HEADER_LEN + z.total_out + TRAILER_LEN;
	}
	deflateEnd(&z);
	return err;
}

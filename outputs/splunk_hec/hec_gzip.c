/* gzip (RFC 1952) of a request body with zlib, for Content-Encoding: gzip. */
#include <limits.h>

#include <zlib.h>

#include "hec.h"

#define GZIP_WINDOW (15 + 16) /* 15-bit window, gzip header and trailer */

ax_err ax_hec_gzip(struct ax_buf *out, const char *in, size_t len, int level)
{
	z_stream z = { 0 };
	ax_buf_clear(out);
	if (len > UINT_MAX)
		return AX_ERR_TOO_LARGE;
	if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return AX_ERR_NOMEM;
	/* deflateBound is exact for one deflate(Z_FINISH) call: no loop needed. */
	size_t bound = deflateBound(&z, (uLong)len);
	ax_err err = bound > UINT_MAX ? AX_ERR_TOO_LARGE : ax_buf_reserve(out, bound);
	if (!err) {
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)len;
		z.next_out = (Bytef *)out->data;
		z.avail_out = (uInt)bound;
		err = deflate(&z, Z_FINISH) == Z_STREAM_END ? AX_OK : AX_ERR_IO;
		out->len = z.total_out;
	}
	deflateEnd(&z);
	return err;
}

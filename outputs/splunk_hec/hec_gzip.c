/* gzip (RFC 1952) of a request body, for Content-Encoding: gzip: one
 * member, the same 10-byte header from both compressors.
 *
 * With ISA-L (meson -Disal, AX_HAVE_ISAL), compress_level 1-3 are igzip
 * levels 1-3: on Microsoft 365 batches each gives at least zlib's ratio at
 * the same level for a fifth (1, 2) to a half (3) of its CPU, and igzip
 * writes the trailer with its own CRC-32 (crc32_gzip_refl, twice as fast
 * as ax_crc32 here). Levels 4-9 stay zlib's: igzip's best ratio is below
 * zlib 4's, and a level above 3 is asked for fewer bytes, not less CPU.
 * Without ISA-L every level is zlib's. zlib deflates raw; its trailer's
 * CRC-32 is ax_crc32 (carry-less multiplication) rather than zlib's
 * table-driven one, a few percent of a zlib run.
 *
 * The compressor's state (igzip's level buffer, zlib's stream) is made once
 * per output and reused by every request. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#ifdef AX_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "crc32.h"
#include "hec.h"

#define RAW_WINDOW (-15) /* 15-bit window, no zlib or gzip wrapper */
#define HEADER_LEN 10
#define TRAILER_LEN 8

struct ax_hec_gzip {
	int level; /* compress_level, 1..9 */
#ifdef AX_HAVE_ISAL
	struct isal_zstream isal; /* used when level <= ISAL_DEF_MAX_LEVEL */
	uint8_t *level_buf;
	uint32_t level_buf_size;
#endif
	z_stream z; /* used otherwise */
	bool z_ready;
};

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

#ifdef AX_HAVE_ISAL
static uint32_t isal_buf_size(int level)
{
	switch (level) {
	case 1: return ISAL_DEF_LVL1_DEFAULT;
	case 2: return ISAL_DEF_LVL2_DEFAULT;
	default: return ISAL_DEF_LVL3_DEFAULT;
	}
}

static bool use_isal(const struct ax_hec_gzip *g)
{
	return g->level <= ISAL_DEF_MAX_LEVEL;
}

/* One stateless call: the whole body in, the member's deflate data and
 * trailer out. When the deflate data would not fit igzip writes stored
 * blocks, so room for those (5 bytes per 65535) always suffices. */
static ax_err isal_gzip(struct ax_hec_gzip *g, struct ax_buf *out, const char *in, size_t len)
{
	size_t room = len + 5 * (len / 65535 + 1) + TRAILER_LEN + 64;
	if (room > UINT32_MAX - HEADER_LEN)
		return AX_ERR_TOO_LARGE;
	ax_err err = ax_buf_reserve(out, HEADER_LEN + room);
	if (err)
		return err;
	unsigned char *p = (unsigned char *)out->data;
	put_header(p, g->level);
	struct isal_zstream *s = &g->isal;
	isal_deflate_stateless_init(s);
	s->level = (uint32_t)g->level;
	s->level_buf = g->level_buf;
	s->level_buf_size = g->level_buf_size;
	s->gzip_flag = IGZIP_GZIP_NO_HDR; /* our header; igzip's trailer */
	s->flush = NO_FLUSH;
	s->end_of_stream = 1;
	s->next_in = (uint8_t *)(uintptr_t)in;
	s->avail_in = (uint32_t)len;
	s->next_out = p + HEADER_LEN;
	s->avail_out = (uint32_t)room;
	if (isal_deflate_stateless(s) != COMP_OK || s->avail_in != 0)
		return AX_ERR_IO;
	out->len = HEADER_LEN + s->total_out;
	return AX_OK;
}
#endif

static ax_err zlib_gzip(struct ax_hec_gzip *g, struct ax_buf *out, const char *in, size_t len)
{
	z_stream *z = &g->z;
	if (deflateReset(z) != Z_OK)
		return AX_ERR_IO;
	/* deflateBound is exact for one deflate(Z_FINISH) call: no loop needed. */
	size_t bound = deflateBound(z, (uLong)len);
	if (bound > UINT_MAX)
		return AX_ERR_TOO_LARGE;
	ax_err err = ax_buf_reserve(out, HEADER_LEN + bound + TRAILER_LEN);
	if (err)
		return err;
	unsigned char *p = (unsigned char *)out->data;
	put_header(p, g->level);
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)len;
	z->next_out = p + HEADER_LEN;
	z->avail_out = (uInt)bound;
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return AX_ERR_IO;
	p += HEADER_LEN + z->total_out;
	put_le32(p, ax_crc32(0, in, len));
	put_le32(p + 4, (uint32_t)len);
	out->len = HEADER_LEN + z->total_out + TRAILER_LEN;
	return AX_OK;
}

struct ax_hec_gzip *ax_hec_gzip_create(int level)
{
	if (level < 1 || level > 9)
		return NULL;
	struct ax_hec_gzip *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->level = level;
#ifdef AX_HAVE_ISAL
	if (use_isal(g)) {
		g->level_buf_size = isal_buf_size(level);
		g->level_buf = malloc(g->level_buf_size);
		if (!g->level_buf) {
			free(g);
			return NULL;
		}
		return g;
	}
#endif
	if (deflateInit2(&g->z, level, Z_DEFLATED, RAW_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return NULL;
	}
	g->z_ready = true;
	return g;
}

void ax_hec_gzip_destroy(struct ax_hec_gzip *g)
{
	if (!g)
		return;
#ifdef AX_HAVE_ISAL
	free(g->level_buf);
#endif
	if (g->z_ready)
		deflateEnd(&g->z);
	free(g);
}

const char *ax_hec_gzip_engine(const struct ax_hec_gzip *g)
{
#ifdef AX_HAVE_ISAL
	if (use_isal(g))
		return "isa-l";
#else
	(void)g;
#endif
	return "zlib";
}

ax_err ax_hec_gzip(struct ax_hec_gzip *g, struct ax_buf *out, const char *in, size_t len)
{
	ax_buf_clear(out);
	if (len > UINT_MAX)
		return AX_ERR_TOO_LARGE;
#ifdef AX_HAVE_ISAL
	if (use_isal(g))
		return isal_gzip(g, out, in, len);
#endif
	return zlib_gzip(g, out, in, len);
}

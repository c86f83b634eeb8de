#include "spool_codec.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "crc32.h"

enum { S_ID, S_TIME, S_WORKLOAD, S_OPERATION, S_USER, S_IP, S_CATEGORY, S_RULE, S_SOURCE, S_CTYPE,
       S_TENANT, NSTRINGS };

static const char *string_of(const struct ax_record *r, int i)
{
	const char *s[NSTRINGS] = {
		[S_ID] = r->id, [S_TIME] = r->creation_time, [S_WORKLOAD] = r->workload,
		[S_OPERATION] = r->operation, [S_USER] = r->user, [S_IP] = r->client_ip,
		[S_CATEGORY] = r->category, [S_RULE] = r->rule, [S_SOURCE] = r->source,
		[S_CTYPE] = r->content_type, [S_TENANT] = r->tenant,
	};
	return s[i] ? s[i] : "";
}

static void put32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

ax_err ax_spool_encode_record(struct ax_buf *payload, const struct ax_record *r)
{
	size_t lens[NSTRINGS], total = 4 + 4 + r->len + 1 + 2;
	size_t ncontrols = r->ncontrols > AX_SPOOL_MAX_CONTROLS ? AX_SPOOL_MAX_CONTROLS : r->ncontrols;
	if (r->len > UINT32_MAX / 2)
		return AX_ERR_TOO_LARGE;
	for (int i = 0; i < NSTRINGS; i++) {
		lens[i] = strlen(string_of(r, i));
		total += lens[i] + 1;
	}
	for (size_t i = 0; i < ncontrols; i++)
		total += strlen(r->controls[i]) + 1;
	ax_err err = ax_buf_reserve(payload, total);
	if (err)
		return err;
	/* One reservation, then plain copies: this runs for every record. */
	char *p = payload->data + payload->len;
	put32(p, (uint32_t)(total - 4));
	put32(p + 4, (uint32_t)r->len);
	p += 8;
	memcpy(p, r->json, r->len);
	p += r->len;
	*p++ = '\0';
	for (int i = 0; i < NSTRINGS; i++) {
		memcpy(p, string_of(r, i), lens[i] + 1);
		p += lens[i] + 1;
	}
	*p++ = (char)r->severity;
	*p++ = (char)ncontrols;
	for (size_t i = 0; i < ncontrols; i++) {
		size_t n = strlen(r->controls[i]) + 1;
		memcpy(p, r->controls[i], n);
		p += n;
	}
	payload->len += total;
	return AX_OK;
}

/* Points out[0..n) at the n NUL-terminated strings that follow each other
 * from p on; NULL when they do not all end before end, else the byte after
 * the last one. Records have some 15 short strings: finding their ends 16
 * bytes at a time costs a fraction of a memchr call for each. */
static const char *take_strings(const char *p, const char *end, const char **out, size_t n)
{
	if (n == 0)
		return p;
	size_t k = 0;
	out[0] = p;
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128();
	for (; end - p >= 16; p += 16) {
		__m128i bytes = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned nuls = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, zero));
		for (; nuls; nuls &= nuls - 1) {
			const char *next = p + __builtin_ctz(nuls) + 1;
			if (++k == n)
				return next;
			out[k] = next;
		}
	}
#endif
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			return NULL;
		p = nul + 1;
		if (++k == n)
			return p;
		out[k] = p;
	}
	return NULL;
}

static ax_err decode_body(const char *p, const char *end, struct ax_record *r, const char **controls)
{
	if (end - p < 4)
		return AX_ERR_JSON;
	uint32_t json_len = get32(p);
	p += 4;
	if ((size_t)(end - p) < (size_t)json_len + 1 || p[json_len] != '\0')
		return AX_ERR_JSON;
	r->json = p;
	r->len = json_len;
	p += json_len + 1;
	const char *s[NSTRINGS];
	if (!(p = take_strings(p, end, s, NSTRINGS)) || end - p < 2 || (unsigned char)p[0] > AX_SEV_CRITICAL)
		return AX_ERR_JSON;
	r->id = s[S_ID];
	r->creation_time = s[S_TIME];
	r->workload = s[S_WORKLOAD];
	r->operation = s[S_OPERATION];
	r->user = s[S_USER];
	r->client_ip = s[S_IP];
	r->category = s[S_CATEGORY];
	r->rule = s[S_RULE];
	r->source = s[S_SOURCE];
	r->content_type = s[S_CTYPE];
	r->tenant = s[S_TENANT];
	r->severity = (enum ax_severity)(unsigned char)p[0];
	r->ncontrols = (unsigned char)p[1];
	r->controls = controls;
	p = take_strings(p + 2, end, controls, r->ncontrols);
	return p == end ? AX_OK : AX_ERR_JSON;
}

ax_err ax_spool_decode_record(const char *payload, size_t len, size_t *pos, struct ax_record *r,
			      const char **controls)
{
	if (*pos > len || len - *pos < 4)
		return AX_ERR_JSON;
	uint32_t body_len = get32(payload + *pos);
	if (body_len > len - *pos - 4)
		return AX_ERR_JSON;
	const char *body = payload + *pos + 4;
	ax_err err = decode_body(body, body + body_len, r, controls);
	if (!err)
		*pos += 4 + (size_t)body_len;
	return err;
}

static uint32_t frame_crc(const uint8_t *header, const void *stored, uint32_t stored_len)
{
	return ax_crc32(ax_crc32(0, header + 4, 12), stored, stored_len);
}

void ax_spool_frame_header(uint8_t header[AX_SPOOL_FRAME_HEADER], const void *stored,
			   const struct ax_spool_frame *f, bool crc)
{
	uint32_t words[5] = { AX_SPOOL_MAGIC, f->stored_len, f->raw_len | (f->compressed ? AX_SPOOL_COMPRESSED : 0),
			      f->nrecords, 0 };
	memcpy(header, words, sizeof(words));
	words[4] = crc ? frame_crc(header, stored, f->stored_len) : 0;
	memcpy(header + 16, &words[4], 4);
}

bool ax_spool_frame_parse(const uint8_t header[AX_SPOOL_FRAME_HEADER], uint32_t max_len,
			  struct ax_spool_frame *f)
{
	if (get32(header) != AX_SPOOL_MAGIC)
		return false;
	uint32_t raw = get32(header + 8);
	f->stored_len = get32(header + 4);
	f->compressed = raw & AX_SPOOL_COMPRESSED;
	f->raw_len = raw & ~AX_SPOOL_COMPRESSED;
	f->nrecords = get32(header + 12);
	if (!f->compressed && f->raw_len != f->stored_len)
		return false;
	return f->stored_len > 0 && f->stored_len <= max_len && f->raw_len <= max_len && f->nrecords > 0 &&
	       f->nrecords <= f->raw_len / 4;
}

bool ax_spool_frame_check(const uint8_t header[AX_SPOOL_FRAME_HEADER], const void *stored)
{
	return frame_crc(header, stored, get32(header + 4)) == get32(header + 16);
}

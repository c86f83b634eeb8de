/* test_hec_gzip.c - request bodies gzipped by ax_hec_gzip (ISA-L igzip at
 * levels 1-3 when built with it, zlib otherwise) are one valid gzip member
 * (RFC 1952) that zlib inflates to the exact bytes, with the right CRC-32
 * and ISIZE in the trailer: empty, one byte, 1 MiB of records, random bytes
 * (stored blocks), at every engine's levels, one compressor reused. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "outputs/splunk_hec/hec.h"

#define MIB (1u << 20)

static const int levels[] = { 1, 2, 3, 5, 9 };

struct input {
	const char *name;
	unsigned char *data;
	size_t len;
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

/* 1 MiB of JSON lines shaped like Microsoft 365 audit records. */
static unsigned char *records(size_t len)
{
	static const char *const ops[] = { "UserLoggedIn", "FileAccessed", "Set-Mailbox", "MailItemsAccessed",
					   "Add member to role." };
	static const char *const workloads[] = { "AzureActiveDirectory", "SharePoint", "Exchange" };
	char *buf = malloc(len + 1024);
	assert_non_null(buf);
	size_t n = 0;
	for (unsigned i = 0; n < len; i++) {
		uint32_t r = next_rand();
		n += (size_t)snprintf(buf + n, 1024,
				      "{\"CreationTime\":\"2024-03-%02uT%02u:%02u:%02u\",\"Id\":\"%08x-%04x-4%03x-8%03x-%08x%04x\","
				      "\"Operation\":\"%s\",\"OrganizationId\":\"b7f0c6a2-1c3e-4d5f-9a8b-7c6d5e4f3a2b\","
				      "\"RecordType\":%u,\"UserId\":\"user%u@contoso.com\",\"Workload\":\"%s\","
				      "\"ClientIP\":\"10.%u.%u.%u\",\"ResultStatus\":\"Success\"}\n",
				      1 + r % 28, r % 24, (r >> 5) % 60, (r >> 11) % 60, next_rand(), r & 0xffff,
				      (r >> 4) & 0xfff, (r >> 8) & 0xfff, next_rand(), i & 0xffff, ops[r % 5], 15 + r % 3,
				      r % 500, workloads[(r >> 3) % 3], (r >> 8) & 255, (r >> 16) & 255, r >> 24);
	}
	return (unsigned char *)buf;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* gz is one gzip member of in: header, raw deflate data that inflates to
 * exactly in and ends where the trailer starts, CRC-32 and ISIZE of in. */
static void check_member(const struct ax_buf *gz, const struct input *in, int level)
{
	const unsigned char *p = (const unsigned char *)gz->data;
	if (gz->len < 18)
		fail_msg("%s, level %d: %zu bytes, shorter than a gzip member", in->name, level, gz->len);
	/* ID1 ID2 CM=deflate FLG=0 (no name, no extra), OS Unix */
	if (p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || p[3] != 0 || p[9] != 3)
		fail_msg("%s, level %d: header %02x %02x %02x %02x .. %02x", in->name, level, p[0], p[1], p[2], p[3],
			 p[9]);

	unsigned char *back = malloc(in->len + 1);
	assert_non_null(back);
	z_stream z = { 0 };
	assert_int_equal(inflateInit2(&z, -15), Z_OK); /* the deflate data alone */
	z.next_in = (Bytef *)(uintptr_t)(p + 10);
	z.avail_in = (uInt)(gz->len - 10);
	z.next_out = back;
	z.avail_out = (uInt)in->len + 1;
	int rc = inflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END)
		fail_msg("%s, level %d: inflate says %d (%s)", in->name, level, rc, z.msg ? z.msg : "");
	if (z.total_out != in->len || (in->len && memcmp(back, in->data, in->len)))
		fail_msg("%s, level %d: inflated %lu bytes, not the %zu given", in->name, level, z.total_out, in->len);
	if (z.avail_in != 8)
		fail_msg("%s, level %d: %u bytes after the deflate data, not the 8 of the trailer", in->name, level,
			 z.avail_in);
	inflateEnd(&z);

	const unsigned char *t = p + gz->len - 8;
	uint32_t crc = (uint32_t)crc32(0, in->data, (uInt)in->len);
	if (le32(t) != crc)
		fail_msg("%s, level %d: trailer CRC %08x, want %08x", in->name, level, le32(t), crc);
	if (le32(t + 4) != (uint32_t)in->len)
		fail_msg("%s, level %d: trailer ISIZE %u, want %zu", in->name, level, le32(t + 4), in->len);

	/* and as a receiver reads it: gzip wrapper checked by zlib, one member, nothing after */
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)gz->len;
	z.next_out = back;
	z.avail_out = (uInt)in->len + 1;
	rc = inflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END || z.avail_in != 0 || z.total_out != in->len)
		fail_msg("%s, level %d: as gzip: inflate %d, %u bytes left, %lu out", in->name, level, rc, z.avail_in,
			 z.total_out);
	inflateEnd(&z);
	free(back);
}

static void test_round_trip(void **state)
{
	(void)state;
	unsigned char one = '{';
	unsigned char *random = malloc(MIB + 12345);
	assert_non_null(random);
	for (size_t i = 0; i < MIB + 12345; i++)
		random[i] = (unsigned char)next_rand();
	const struct input inputs[] = {
		{ "empty", &one, 0 },
		{ "1 byte", &one, 1 },
		{ "1 MiB of records", records(MIB), MIB },
		{ "random bytes", random, MIB + 12345 }, /* not a multiple of a stored block */
		{ "1 byte again", &one, 1 },             /* after large ones: nothing left over */
	};
	struct ax_buf gz, first;
	ax_buf_init(&gz, (size_t)1 << 24);
	ax_buf_init(&first, (size_t)1 << 24);
	for (size_t l = 0; l < UNIT_ARRAY_LEN(levels); l++) {
		struct ax_hec_gzip *g = ax_hec_gzip_create(levels[l]);
		assert_non_null(g);
		for (size_t i = 0; i < UNIT_ARRAY_LEN(inputs); i++) {
			const struct input *in = &inputs[i];
			assert_int_equal(ax_hec_gzip(g, &gz, (const char *)in->data, in->len), AX_OK);
			check_member(&gz, in, levels[l]);
			if (i == 2) {
				/* records shrink (not stored), and the reused state gives the same member again */
				if (gz.len * 3 > in->len)
					fail_msg("level %d: 1 MiB of records only shrank to %zu bytes", levels[l], gz.len);
				ax_buf_clear(&first);
				assert_int_equal(ax_buf_add(&first, gz.data, gz.len), AX_OK);
				assert_int_equal(ax_hec_gzip(g, &gz, (const char *)in->data, in->len), AX_OK);
				assert_int_equal(gz.len, first.len);
				assert_memory_equal(gz.data, first.data, gz.len);
			}
			if (i == 3 && gz.len > in->len + in->len / 100 + 64)
				fail_msg("level %d: random bytes grew to %zu from %zu", levels[l], gz.len, in->len);
		}
		ax_hec_gzip_destroy(g);
	}
	ax_buf_finish(&gz);
	ax_buf_finish(&first);
	free(inputs[2].data);
	free(random);
}

/* Which library does which level: igzip for 1-3 only when built with it. */
static void test_engine(void **state)
{
	(void)state;
	for (int level = 1; level <= 9; level++) {
		struct ax_hec_gzip *g = ax_hec_gzip_create(level);
		assert_non_null(g);
#ifdef AX_HAVE_ISAL
		const char *want = level <= 3 ? "isa-l" : "zlib";
#else
		const char *want = "zlib";
#endif
		assert_string_equal(ax_hec_gzip_engine(g), want);
		ax_hec_gzip_destroy(g);
	}
	assert_null(ax_hec_gzip_create(0));
	assert_null(ax_hec_gzip_create(10));
	ax_hec_gzip_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

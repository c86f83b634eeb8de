/* test_crc32.c - ax_crc32 (the spool's frame check) gives zlib's crc32
 * values for every length, alignment and chaining, so frames written
 * before it came, or by a build without carry-less multiplication, read
 * back. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crc32.h"

static uint32_t zlib_crc(uint32_t crc, const unsigned char *p, size_t len)
{
	return (uint32_t)crc32(crc, p, (uInt)len);
}

static void test_known_values(void **state)
{
	(void)state;
	assert_int_equal(ax_crc32(0, "", 0), 0);
	assert_int_equal(ax_crc32(0, "123456789", 9), 0xCBF43926u); /* the check value of CRC-32/ISO-HDLC */
	static const char fox[] = "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.";
	assert_int_equal(ax_crc32(0, fox, sizeof(fox) - 1), zlib_crc(0, (const unsigned char *)fox, sizeof(fox) - 1));
}

static void test_as_zlib(void **state)
{
	(void)state;
	enum { MAX = 5000 };
	unsigned char *buf = malloc(MAX + 16);
	assert_non_null(buf);
	srand(8);
	for (size_t i = 0; i < MAX + 16; i++)
		buf[i] = (unsigned char)rand();
	for (size_t len = 0; len <= MAX; len += len < 300 ? 1 : 97) {
		for (size_t off = 0; off < 16; off += len < 300 ? 5 : 1) {
			uint32_t seed = (uint32_t)rand();
			uint32_t want = zlib_crc(seed, buf + off, len);
			if (ax_crc32(seed, buf + off, len) != want || ax_crc32_zlib(seed, buf + off, len) != want)
				fail_msg("length %zu at offset %zu", len, off);
		}
	}
	/* chained as the spool does: a header's 12 bytes, then the payload */
	uint32_t want = zlib_crc(zlib_crc(0, buf, 12), buf + 12, 4000);
	assert_int_equal(ax_crc32(ax_crc32(0, buf, 12), buf + 12, 4000), want);
	/* all zeros and all ones: no lane cancels out */
	memset(buf, 0, MAX);
	assert_int_equal(ax_crc32(0, buf, MAX), zlib_crc(0, buf, MAX));
	memset(buf, 0xff, MAX);
	assert_int_equal(ax_crc32(0, buf, MAX), zlib_crc(0, buf, MAX));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_as_zlib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

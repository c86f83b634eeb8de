/* test_sha256.c - the SHA-NI SHA-256 (one message, or up to sixteen, four
 * side by side, each in two pieces) gives OpenSSL's digests for every
 * length around the block and padding edges, every seam between the
 * pieces, and groups of unequal lengths; so does the sixteen-lane AVX-512
 * one, alone and handing its last lanes to SHA-NI, and the pair of 32-byte
 * values a chain's link hashes. */
#include "unit.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "sha256_ni.h"
#include "sha256_x16.h"

enum { MAX = 4200 };

static unsigned char *random_bytes(size_t n)
{
	unsigned char *p = malloc(n);
	assert_non_null(p);
	srand(27001);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rand();
	return p;
}

/* OpenSSL's digest of the two pieces joined. */
static void want(const unsigned char *buf, size_t len, unsigned char out[32])
{
	SHA256(buf, len, out);
}

static struct ax_sha256_msg split(const unsigned char *buf, size_t len, size_t seam)
{
	return (struct ax_sha256_msg){ { buf, buf + seam }, { seam, len - seam } };
}

static int setup(void **state)
{
	(void)state;
	if (!ax_sha256_ni_usable()) {
		/* chain.c uses OpenSSL on such a CPU; nothing of this file runs */
		print_message("this CPU has no SHA instructions: SHA-NI tests skipped\n");
		skip();
	}
	return 0;
}

static void test_known_values(void **state)
{
	(void)state;
	static const unsigned char abc_digest[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	unsigned char out[32];
	struct ax_sha256_msg abc = { { "ab", "c" }, { 2, 1 } };
	ax_sha256_ni_lanes(&abc, 1, &out);
	assert_memory_equal(out, abc_digest, 32);
	static const unsigned char empty_digest[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};
	struct ax_sha256_msg empty = { { "", "" }, { 0, 0 } };
	ax_sha256_ni_lanes(&empty, 1, &out);
	assert_memory_equal(out, empty_digest, 32);
}

static void test_every_length_and_seam(void **state)
{
	(void)state;
	unsigned char *buf = random_bytes(MAX);
	unsigned char got[32], exp[32];
	for (size_t len = 0; len <= MAX; len += len < 300 ? 1 : 61) {
		want(buf, len, exp);
		for (size_t seam = 0; seam <= len; seam += len < 140 ? 1 : 37) {
			struct ax_sha256_msg m = split(buf, len, seam);
			ax_sha256_ni_lanes(&m, 1, &got);
			if (memcmp(got, exp, 32))
				fail_msg("length %zu, seam at %zu", len, seam);
		}
	}
	free(buf);
}

static void test_pair(void **state)
{
	(void)state;
	unsigned char *buf = random_bytes(64 * 1000);
	unsigned char got[32], exp[32];
	for (size_t i = 0; i < 1000; i++) {
		const unsigned char *a = buf + 64 * i;
		want(a, 64, exp);
		ax_sha256_ni_pair(a, a + 32, got);
		if (memcmp(got, exp, 32))
			fail_msg("pair %zu", i);
	}
	free(buf);
}

typedef void hash_fn(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN]);

/* Groups of 1 to 16 messages of unequal lengths: each lane drops out when
 * its message ends, the others go on. */
static void check_groups(hash_fn *hash)
{
	unsigned char *buf = random_bytes(2 * MAX);
	unsigned char got[AX_SHA256_LANES][32], exp[32];
	srand(5);
	for (int round = 0; round < 3000; round++) {
		size_t n = 1 + (size_t)round % AX_SHA256_LANES;
		struct ax_sha256_msg m[AX_SHA256_LANES];
		size_t len[AX_SHA256_LANES], at[AX_SHA256_LANES];
		for (size_t k = 0; k < n; k++) {
			len[k] = round < 1000 ? (size_t)rand() % 300 : (size_t)rand() % MAX;
			at[k] = (size_t)rand() % MAX;
			m[k] = split(buf + at[k], len[k], len[k] ? (size_t)rand() % len[k] : 0);
		}
		hash(m, n, got);
		for (size_t k = 0; k < n; k++) {
			want(buf + at[k], len[k], exp);
			if (memcmp(got[k], exp, 32))
				fail_msg("round %d: lane %zu of %zu, length %zu", round, k, n, len[k]);
		}
	}
	free(buf);
}

static void test_groups(void **state)
{
	(void)state;
	check_groups(ax_sha256_ni_lanes);
}

static int setup_x16(void **state)
{
	(void)state;
	if (!ax_sha256_x16_usable()) {
		/* chain.c hashes with SHA-NI or OpenSSL on such a CPU; nothing of sha256_x16.c runs */
		print_message("this CPU has no AVX-512: sixteen-lane tests skipped\n");
		skip();
	}
	return 0;
}

static void x16_alone(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN])
{
	ax_sha256_x16(m, n, 0, out);
}

static void x16_then_ni(const struct ax_sha256_msg *m, size_t n, uint8_t (*out)[AX_SHA256_LEN])
{
	ax_sha256_x16(m, n, AX_SHA256_X16_HANDOFF, out);
}

static void test_x16_groups(void **state)
{
	(void)state;
	check_groups(x16_alone);
}

/* Each message the same length, or one far longer than the others. */
static void test_x16_handoff(void **state)
{
	(void)state;
	if (!ax_sha256_ni_usable())
		skip(); /* the handoff goes to SHA-NI */
	check_groups(x16_then_ni);
	unsigned char *buf = random_bytes(2 * MAX);
	unsigned char got[AX_SHA256_LANES][32], exp[32];
	struct ax_sha256_msg m[AX_SHA256_LANES];
	for (size_t k = 0; k < AX_SHA256_LANES; k++)
		m[k] = split(buf + k, k == 3 ? MAX : 1000, 500);
	x16_then_ni(m, AX_SHA256_LANES, got);
	for (size_t k = 0; k < AX_SHA256_LANES; k++) {
		want(buf + k, k == 3 ? MAX : 1000, exp);
		assert_memory_equal(got[k], exp, 32);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_known_values, setup),
		cmocka_unit_test_setup(test_every_length_and_seam, setup),
		cmocka_unit_test_setup(test_pair, setup),
		cmocka_unit_test_setup(test_groups, setup),
		cmocka_unit_test_setup(test_x16_groups, setup_x16),
		cmocka_unit_test_setup(test_x16_handoff, setup_x16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

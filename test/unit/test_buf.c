/* test_buf.c - the bounded buffer every record, batch and dead letter is
 * built in, and its JSON string escaping (what annexa adds to a record
 * must never break the line or the JSON). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "buf.h"

static const struct {
	const char *in;
	size_t len;
	const char *out;
} escapes[] = {
	{ "", 0, "\"\"" },
	{ "plain", 5, "\"plain\"" },
	{ "a\"b", 3, "\"a\\\"b\"" },
	{ "a\\b", 3, "\"a\\\\b\"" },
	{ "\"", 1, "\"\\\"\"" },
	{ "\n\r\t", 3, "\"\\n\\r\\t\"" },
	{ "\x01\x1f", 2, "\"\\u0001\\u001f\"" },
	{ "\b\f", 2, "\"\\u0008\\u000c\"" },
	{ "a\0b", 3, "\"a\\u0000b\"" },
	{ "\x7f \x20", 3, "\"\x7f  \"" },
	{ "/", 1, "\"/\"" },
	{ "\xc3\xa9\xe2\x82\xac", 5, "\"\xc3\xa9\xe2\x82\xac\"" },
	{ "line one\nline two \"quoted\"\\", 27, "\"line one\\nline two \\\"quoted\\\"\\\\\"" },
	{ "\"\"\"\"", 4, "\"\\\"\\\"\\\"\\\"\"" },
};

static void test_json_str(void **state)
{
	(void)state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(escapes); i++) {
		struct ax_buf b;
		ax_buf_init(&b, 1024);
		assert_int_equal(ax_buf_adds(&b, "x"), AX_OK);
		assert_int_equal(ax_buf_add_json_str(&b, escapes[i].in, escapes[i].len), AX_OK);
		assert_int_equal(ax_buf_cstr(&b), AX_OK);
		if (strcmp(b.data + 1, escapes[i].out) != 0)
			fail_msg("case %zu: %s, want %s", i, b.data + 1, escapes[i].out);
		assert_int_equal(b.len, 1 + strlen(escapes[i].out));
		ax_buf_finish(&b);
	}
}

/* Every byte value, at every position of a long run: the result always
 * parses back to the same bytes (UTF-8 aside: only ASCII here). */
static void test_json_str_roundtrip(void **state)
{
	(void)state;
	char in[200];
	struct ax_buf b;
	ax_buf_init(&b, 1 << 20);
	for (int c = 0; c < 128; c++) {
		for (size_t at = 0; at < sizeof(in); at += 37) {
			memset(in, 'p', sizeof(in));
			in[at] = (char)c;
			ax_buf_clear(&b);
			assert_int_equal(ax_buf_adds(&b, "{\"k\":"), AX_OK);
			assert_int_equal(ax_buf_add_json_str(&b, in, sizeof(in)), AX_OK);
			assert_int_equal(ax_buf_adds(&b, "}"), AX_OK);
			assert_int_equal(ax_buf_cstr(&b), AX_OK);
			assert_null(memchr(b.data, '\n', b.len));
			char why[128];
			yajl_val v = yajl_tree_parse(b.data, why, sizeof(why));
			if (!v)
				fail_msg("byte %d at %zu: %s: %s", c, at, why, b.data);
			const char *path[] = { "k", NULL };
			yajl_val k = yajl_tree_get(v, path, yajl_t_string);
			assert_non_null(k);
			const char *got = k->u.string; /* a string: yajl_t_string above */
			if (c == 0) {
				/* yajl_tree stops at the NUL: what precedes it is right */
				assert_int_equal(strlen(got), at);
				assert_memory_equal(got, in, at);
			} else {
				assert_int_equal(strlen(got), sizeof(in));
				assert_memory_equal(got, in, sizeof(in));
			}
			yajl_tree_free(v);
		}
	}
	ax_buf_finish(&b);
}

static void test_bounded(void **state)
{
	(void)state;
	struct ax_buf b;
	ax_buf_init(&b, 10);
	assert_int_equal(ax_buf_add(&b, "0123456789", 10), AX_OK);
	assert_int_equal(ax_buf_addc(&b, 'x'), AX_ERR_TOO_LARGE);
	assert_int_equal(ax_buf_adds(&b, "y"), AX_ERR_TOO_LARGE);
	assert_int_equal(ax_buf_addf(&b, "%d", 1), AX_ERR_TOO_LARGE);
	assert_int_equal(ax_buf_add(&b, "", 0), AX_OK);
	assert_int_equal(b.len, 10);
	assert_int_equal(ax_buf_cstr(&b), AX_OK); /* room for the NUL is not counted */
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(ax_buf_reserve(&b, SIZE_MAX), AX_ERR_TOO_LARGE);
	assert_int_equal(ax_buf_reserve(&b, SIZE_MAX - 5), AX_ERR_TOO_LARGE);
	ax_buf_clear(&b);
	/* a string that might need 6 bytes a byte is refused up front */
	assert_int_equal(ax_buf_add_json_str(&b, "ab", 2), AX_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	assert_int_equal(ax_buf_add_json_str(&b, "a", 1), AX_OK);
	assert_int_equal(b.len, 3);
	ax_buf_finish(&b);
}

static void test_addf(void **state)
{
	(void)state;
	struct ax_buf b;
	ax_buf_init(&b, 1 << 20);
	assert_int_equal(ax_buf_addf(&b, "%s=%d;", "a", 1), AX_OK);
	assert_int_equal(ax_buf_addf(&b, "%s", ""), AX_OK);
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ax_buf_addf(&b, "[%s]", big), AX_OK);
	assert_int_equal(b.len, 4 + 1001);
	assert_int_equal(ax_buf_cstr(&b), AX_OK);
	assert_memory_equal(b.data, "a=1;[zzz", 8);
	assert_string_equal(b.data + b.len - 2, "z]");
	ax_buf_finish(&b);
}

/* Clearing keeps the memory (hot loops reuse it); finish frees it and
 * keeps the limit. */
static void test_reuse(void **state)
{
	(void)state;
	struct ax_buf b;
	ax_buf_init(&b, 1 << 20);
	assert_null(b.data);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(ax_buf_adds(&b, "0123456789"), AX_OK);
	assert_int_equal(b.len, 50000);
	assert_true(b.cap > b.len);
	char *data = b.data;
	size_t cap = b.cap;
	ax_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(ax_buf_adds(&b, "again"), AX_OK);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	ax_buf_finish(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 1 << 20);
	ax_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_json_str_roundtrip),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_deadletter.c - the dead-letter file: one JSON object a line with
 * time, source, stage, reason, line, offset, length and the raw bytes (a
 * JSON string when UTF-8, else raw_base64), "truncated" when only a prefix
 * was kept. */
#include "unit.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "deadletter.h"
#include "lines.h"

struct fixture {
	char *dir;
	char *path;
	struct ax_deadletter dl;
	char *text;      /* the file's content */
	yajl_val lines[8];
	size_t nlines;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	size_t n = strlen(f->dir) + 32;
	f->path = malloc(n);
	assert_non_null(f->path);
	snprintf(f->path, n, "%s/dead-letter.jsonl", f->dir);
	assert_int_equal(ax_deadletter_open(&f->dl, f->path), AX_OK);
	*state = f;
	return 0;
}

static void free_lines(struct fixture *f)
{
	for (size_t i = 0; i < f->nlines; i++)
		yajl_tree_free(f->lines[i]);
	f->nlines = 0;
	free(f->text);
	f->text = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_deadletter_close(&f->dl);
	free_lines(f);
	free(f->path);
	unit_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Reads the file back: every line must be one JSON object. */
static void read_back(struct fixture *f, size_t want_lines)
{
	free_lines(f);
	size_t len;
	f->text = unit_read_file(f->path, &len);
	assert_int_equal(strlen(f->text), len);
	assert_true(len > 0 && f->text[len - 1] == '\n');
	char *copy = strdup(f->text), *save = NULL;
	assert_non_null(copy);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(f->nlines < UNIT_ARRAY_LEN(f->lines));
		char why[256];
		yajl_val v = yajl_tree_parse(line, why, sizeof(why));
		if (!v || !YAJL_IS_OBJECT(v))
			fail_msg("not a JSON object (%s): %s", why, line);
		f->lines[f->nlines++] = v;
	}
	free(copy);
	assert_int_equal(f->nlines, want_lines);
}

static yajl_val member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	return yajl_tree_get(obj, path, yajl_t_any);
}

static const char *str(yajl_val obj, const char *key)
{
	yajl_val v = member(obj, key);
	if (!YAJL_IS_STRING(v))
		fail_msg("\"%s\" is not a string", key);
	return YAJL_GET_STRING(v);
}

static long long num(yajl_val obj, const char *key)
{
	yajl_val v = member(obj, key);
	if (!YAJL_IS_INTEGER(v))
		fail_msg("\"%s\" is not an integer", key);
	return YAJL_GET_INTEGER(v);
}

static void write_rec(struct fixture *f, const struct ax_dead_record *rec)
{
	assert_int_equal(ax_deadletter_write(&f->dl, rec), AX_OK);
}

static void test_fields(void **state)
{
	struct fixture *f = *state;
	const char raw[] = "{\"Id\":\"x\",";
	write_rec(f, &(struct ax_dead_record){ .source = "contoso", .stage = "decode",
					       .reason = "invalid JSON: incomplete JSON value", .line = 3,
					       .offset = 1234, .length = sizeof(raw) - 1, .raw = raw,
					       .raw_len = sizeof(raw) - 1 });
	assert_int_equal(f->dl.count, 1);
	read_back(f, 1);
	yajl_val v = f->lines[0];
	static const char *const keys[] = { "time", "source", "stage", "reason", "line", "offset", "length", "raw" };
	assert_int_equal(YAJL_GET_OBJECT(v)->len, UNIT_ARRAY_LEN(keys));
	for (size_t i = 0; i < UNIT_ARRAY_LEN(keys); i++)
		assert_string_equal(YAJL_GET_OBJECT(v)->keys[i], keys[i]);
	regex_t re;
	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, str(v, "time"), 0, NULL, 0), 0);
	regfree(&re);
	assert_string_equal(str(v, "source"), "contoso");
	assert_string_equal(str(v, "stage"), "decode");
	assert_string_equal(str(v, "reason"), "invalid JSON: incomplete JSON value");
	assert_int_equal(num(v, "line"), 3);
	assert_int_equal(num(v, "offset"), 1234);
	assert_int_equal(num(v, "length"), 10);
	assert_string_equal(str(v, "raw"), raw);
	assert_null(member(v, "truncated"));
	assert_null(member(v, "raw_base64"));
}

/* Anything in the strings is escaped: each record stays one line. */
static void test_escaping(void **state)
{
	struct fixture *f = *state;
	const char raw[] = "line1\nline2\r\t\"quoted\" back\\slash \x01\x1f \xc3\xa9";
	write_rec(f, &(struct ax_dead_record){ .source = "so\"urce\n", .stage = "splunk\thec",
					       .reason = "bad\nreason \"x\"", .line = 1, .offset = 0,
					       .length = sizeof(raw) - 1, .raw = raw, .raw_len = sizeof(raw) - 1 });
	read_back(f, 1);
	assert_string_equal(str(f->lines[0], "raw"), raw);
	assert_string_equal(str(f->lines[0], "source"), "so\"urce\n");
	assert_string_equal(str(f->lines[0], "stage"), "splunk\thec");
	assert_string_equal(str(f->lines[0], "reason"), "bad\nreason \"x\"");
	assert_contains(f->text, "\"raw\":\"line1\\nline2\\r\\t\\\"quoted\\\" back\\\\slash \\u0001\\u001f \xc3\xa9\"");
}

/* Bytes that are not UTF-8 are kept exactly, in base64. */
static const struct {
	const char *raw;
	size_t len;
	const char *base64;
} binary[] = {
	{ "\xff\xfe\x00" "abc", 6, "//4AYWJj" },
	{ "\xc0\xaf", 2, "wK8=" },              /* overlong '/' */
	{ "{\"Id\":\"\xe9\"}", 10, "eyJJZCI6IukifQ==" }, /* Latin-1 */
	{ "abc\x80", 4, "YWJjgA==" },
	{ "\xed\xa0\x80", 3, "7aCA" },          /* a UTF-16 surrogate */
	{ "\xf4\x90\x80\x80", 4, "9JCAgA==" },  /* above U+10FFFF */
};

static void test_base64(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(binary); i++) {
		write_rec(f, &(struct ax_dead_record){ .source = "s", .stage = "decode", .reason = "r",
						       .line = i + 1, .length = binary[i].len, .raw = binary[i].raw,
						       .raw_len = binary[i].len });
	}
	read_back(f, UNIT_ARRAY_LEN(binary));
	for (size_t i = 0; i < UNIT_ARRAY_LEN(binary); i++) {
		yajl_val v = f->lines[i];
		assert_null(member(v, "raw"));
		if (strcmp(str(v, "raw_base64"), binary[i].base64) != 0)
			fail_msg("case %zu: raw_base64 %s, want %s", i, str(v, "raw_base64"), binary[i].base64);
		assert_int_equal(num(v, "length"), binary[i].len);
		assert_int_equal(num(v, "line"), i + 1);
	}
}

/* Only a prefix kept (an over-long record): "truncated": true. */
static void test_truncated(void **state)
{
	struct fixture *f = *state;
	size_t keep = 64 * 1024;
	char *raw = malloc(keep);
	assert_non_null(raw);
	memset(raw, 'r', keep);
	write_rec(f, &(struct ax_dead_record){ .source = "s", .stage = "decode", .reason = "too big",
					       .line = 9, .offset = 77, .length = 5u << 20, .raw = raw, .raw_len = keep });
	/* a binary prefix too */
	raw[0] = '\xff';
	write_rec(f, &(struct ax_dead_record){ .source = "s", .stage = "decode", .reason = "too big",
					       .line = 10, .length = keep + 1, .raw = raw, .raw_len = keep });
	read_back(f, 2);
	yajl_val v = f->lines[0];
	assert_true(YAJL_IS_TRUE(member(v, "truncated")));
	assert_int_equal(num(v, "length"), 5u << 20);
	assert_int_equal(strlen(str(v, "raw")), keep);
	/* "truncated" comes before the raw bytes, so a reader can stop early */
	assert_true(strstr(f->text, "\"truncated\":true") < strstr(f->text, "\"raw\":"));
	v = f->lines[1];
	assert_true(YAJL_IS_TRUE(member(v, "truncated")));
	assert_int_equal(strlen(str(v, "raw_base64")), 4 * ((keep + 2) / 3));
	free(raw);
}

static void test_empty_raw(void **state)
{
	struct fixture *f = *state;
	write_rec(f, &(struct ax_dead_record){ .source = "s", .stage = "kafka", .reason = "r", .raw = "", .raw_len = 0 });
	read_back(f, 1);
	assert_string_equal(str(f->lines[0], "raw"), "");
	assert_string_equal(str(f->lines[0], "stage"), "kafka");
	assert_int_equal(num(f->lines[0], "length"), 0);
}

/* The file is appended to, never truncated: an agent restart keeps it. */
static void test_appends(void **state)
{
	struct fixture *f = *state;
	write_rec(f, &(struct ax_dead_record){ .source = "first", .stage = "decode", .reason = "r", .raw = "a", .raw_len = 1, .length = 1 });
	ax_deadletter_close(&f->dl);
	assert_int_equal(ax_deadletter_open(&f->dl, f->path), AX_OK);
	assert_int_equal(f->dl.count, 0);
	write_rec(f, &(struct ax_dead_record){ .source = "second", .stage = "decode", .reason = "r", .raw = "b", .raw_len = 1, .length = 1 });
	/* written through: readable before close */
	read_back(f, 2);
	assert_string_equal(str(f->lines[0], "source"), "first");
	assert_string_equal(str(f->lines[1], "source"), "second");
}

static void test_no_file(void **state)
{
	(void)state;
	struct ax_deadletter dl;
	assert_int_equal(ax_deadletter_open(&dl, NULL), AX_OK);
	assert_null(dl.fp);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ax_deadletter_write(&dl, &(struct ax_dead_record){ .source = "s", .stage = "decode",
										   .reason = "r", .raw = "x", .raw_len = 1 }),
				 AX_OK);
	assert_int_equal(dl.count, 3);
	ax_deadletter_close(&dl);
}

static void test_open_error(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	snprintf(path, sizeof(path), "%s/no/such/dir/dl.jsonl", f->dir);
	struct ax_deadletter dl;
	unit_quiet_logs();
	assert_int_equal(ax_deadletter_open(&dl, path), AX_ERR_IO);
	ax_deadletter_close(&dl);
}

/* A full disk is an error the caller hears about. */
static void test_write_error(void **state)
{
	(void)state;
	struct ax_deadletter dl;
	assert_int_equal(ax_deadletter_open(&dl, "/dev/full"), AX_OK);
	unit_quiet_logs();
	assert_int_equal(ax_deadletter_write(&dl, &(struct ax_dead_record){ .source = "s", .stage = "decode",
									   .reason = "r", .raw = "x", .raw_len = 1 }),
			 AX_ERR_IO);
	ax_deadletter_close(&dl);
}

/* A line from the reader, as annexa map and run write it. */
static void test_write_line(void **state)
{
	struct fixture *f = *state;
	struct ax_line line = { .data = "{bad", .len = 4, .offset = 42, .number = 7, .full_len = 4 };
	assert_int_equal(ax_deadletter_write_line(&f->dl, "replay", &line, "invalid JSON"), AX_OK);
	struct ax_line big = { .data = "{\"Id\":", .len = 6, .offset = 100, .number = 8, .oversized = true, .full_len = 9000000 };
	assert_int_equal(ax_deadletter_write_line(&f->dl, "replay", &big, "too large"), AX_OK);
	read_back(f, 2);
	yajl_val v = f->lines[0];
	assert_string_equal(str(v, "source"), "replay");
	assert_string_equal(str(v, "stage"), "decode");
	assert_string_equal(str(v, "reason"), "invalid JSON");
	assert_int_equal(num(v, "line"), 7);
	assert_int_equal(num(v, "offset"), 42);
	assert_int_equal(num(v, "length"), 4);
	assert_string_equal(str(v, "raw"), "{bad");
	assert_null(member(v, "truncated"));
	v = f->lines[1];
	assert_int_equal(num(v, "length"), 9000000);
	assert_true(YAJL_IS_TRUE(member(v, "truncated")));
	assert_string_equal(str(v, "raw"), "{\"Id\":");
}

static const struct {
	const char *s;
	size_t len;
	bool valid;
} utf8[] = {
	{ "", 0, true },
	{ "plain ascii", 11, true },
	{ "\x00\x7f", 2, true },
	{ "\xc3\xa9", 2, true },             /* é */
	{ "\xe2\x82\xac", 3, true },         /* € */
	{ "\xf0\x9f\x94\x92", 4, true },     /* 🔒 */
	{ "\xef\xbf\xbf", 3, true },         /* U+FFFF */
	{ "\xf4\x8f\xbf\xbf", 4, true },     /* U+10FFFF */
	{ "\xed\x9f\xbf", 3, true },         /* U+D7FF, just below the surrogates */
	{ "\x80", 1, false },                /* lone continuation */
	{ "\xc3", 1, false },                /* cut short */
	{ "\xe2\x82", 2, false },
	{ "\xf0\x9f\x94", 3, false },
	{ "\xc3\x28", 2, false },            /* bad continuation */
	{ "\xc0\xaf", 2, false },            /* overlong */
	{ "\xc1\xbf", 2, false },
	{ "\xe0\x9f\xbf", 3, false },
	{ "\xf0\x8f\xbf\xbf", 4, false },
	{ "\xed\xa0\x80", 3, false },        /* surrogates */
	{ "\xed\xbf\xbf", 3, false },
	{ "\xf4\x90\x80\x80", 4, false },    /* above U+10FFFF */
	{ "\xf5\x80\x80\x80", 4, false },
	{ "\xf8\x88\x80\x80\x80", 5, false },
	{ "\xfe", 1, false },
	{ "\xff", 1, false },
	{ "ok \xc3\xa9 then \xff", 12, false },
};

static void test_utf8_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(utf8); i++) {
		/* from a buffer of exactly its size: no read past the end */
		char *copy = malloc(utf8[i].len ? utf8[i].len : 1);
		assert_non_null(copy);
		memcpy(copy, utf8[i].s, utf8[i].len);
		if (ax_utf8_valid(copy, utf8[i].len) != utf8[i].valid)
			fail_msg("case %zu: valid %d, want %d", i, !utf8[i].valid, utf8[i].valid);
		free(copy);
	}
}

/* Each case at every offset in ASCII (the validator skips ASCII 64, 16 or
 * 8 bytes at a time, a case alone is under 16): the first bad byte is found
 * where it is in the case alone. */
static void test_utf8_offsets(void **state)
{
	(void)state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(utf8); i++) {
		size_t want_in_case = ax_utf8_invalid_at(utf8[i].s, utf8[i].len);
		for (size_t before = 0; before < 140; before++) {
			for (size_t after = 0; after < 80; after += 35) {
				size_t len = before + utf8[i].len + after;
				char *buf = malloc(len ? len : 1);
				assert_non_null(buf);
				memset(buf, 'a', len);
				memcpy(buf + before, utf8[i].s, utf8[i].len);
				size_t got = ax_utf8_invalid_at(buf, len);
				size_t want = utf8[i].valid ? len : before + want_in_case;
				if (got != want)
					fail_msg("case %zu after %zu bytes: invalid at %zu, want %zu", i, before, got, want);
				free(buf);
			}
		}
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_fields),
		T(test_escaping),
		T(test_base64),
		T(test_truncated),
		T(test_empty_raw),
		T(test_appends),
		cmocka_unit_test(test_no_file),
		T(test_open_error),
		cmocka_unit_test(test_write_error),
		T(test_write_line),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_offsets),
	};
	unit_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

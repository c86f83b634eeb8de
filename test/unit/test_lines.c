/* test_lines.c - the JSON-lines reader (lines.c): LF and CRLF, a last line
 * without newline, empty lines, over-long lines (kept prefix, skipped
 * rest), offsets and numbers across read chunks, following a growing file. */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"

struct fixture {
	char *dir;
	char *path;
	int fd;
	struct ax_line_reader r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	f->fd = -1;
	*state = f;
	return 0;
}

static void close_reader(struct fixture *f)
{
	if (f->fd >= 0) {
		ax_lines_finish(&f->r);
		close(f->fd);
		f->fd = -1;
	}
	free(f->path);
	f->path = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close_reader(f);
	unit_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void open_reader(struct fixture *f, const char *data, size_t len, size_t max)
{
	close_reader(f);
	f->path = unit_write_file(f->dir, "in.jsonl", data, len);
	f->fd = open(f->path, O_RDONLY);
	assert_true(f->fd >= 0);
	assert_int_equal(ax_lines_init(&f->r, f->fd, max), AX_OK);
}

struct want {
	const char *data; /* NULL: end of the list */
	uint64_t offset;
	uint64_t full_len;
	bool oversized;
};

struct lines_case {
	const char *name;
	const char *input;
	size_t input_len; /* 0: strlen */
	size_t max;
	struct want lines[6];
};

static const struct lines_case cases[] = {
	{ "empty input", "", 0, 100, { { NULL } } },
	{ "one line", "{\"a\":1}\n", 0, 100, { { "{\"a\":1}", 0, 7, false }, { NULL } } },
	{ "last line without newline", "a\nbc", 0, 100, { { "a", 0, 1, false }, { "bc", 2, 2, false }, { NULL } } },
	{ "only a partial line", "abc", 0, 100, { { "abc", 0, 3, false }, { NULL } } },
	{ "CRLF", "a\r\nbc\r\n", 0, 100, { { "a", 0, 1, false }, { "bc", 3, 2, false }, { NULL } } },
	{ "CRLF, last without newline", "a\r\nb\r", 0, 100, { { "a", 0, 1, false }, { "b", 3, 1, false }, { NULL } } },
	{ "only the trailing CR goes", "a\rb\r\r\n", 0, 100, { { "a\rb\r", 0, 4, false }, { NULL } } },
	{ "empty lines", "\n\n\r\nx\n\n", 0, 100,
	  { { "", 0, 0, false }, { "", 1, 0, false }, { "", 2, 0, false }, { "x", 4, 1, false }, { "", 6, 0, false }, { NULL } } },
	{ "blank but not empty", "  \t\n", 0, 100, { { "  \t", 0, 3, false }, { NULL } } },
	{ "NUL bytes are data", "a\0b\n", 4, 100, { { "a\0b", 0, 3, false }, { NULL } } },
	{ "exactly max", "1234\nab\n", 0, 4, { { "1234", 0, 4, false }, { "ab", 5, 2, false }, { NULL } } },
	{ "one over max", "12345\nab\n", 0, 4, { { "12345", 0, 5, true }, { "ab", 6, 2, false }, { NULL } } },
	{ "over max at the end, no newline", "ab\n123456", 0, 4, { { "ab", 0, 2, false }, { "123456", 3, 6, true }, { NULL } } },
	{ "over max twice in a row", "123456\n7890ab\nx", 0, 4,
	  { { "123456", 0, 6, true }, { "7890ab", 7, 6, true }, { "x", 14, 1, false }, { NULL } } },
};

static void check_case(struct fixture *f, const struct lines_case *c)
{
	open_reader(f, c->input, c->input_len ? c->input_len : strlen(c->input), c->max);
	struct ax_line line;
	uint64_t n = 0;
	for (const struct want *w = c->lines; w->data; w++) {
		ax_err err = ax_lines_next(&f->r, &line);
		if (err)
			fail_msg("%s: line %llu: %s", c->name, (unsigned long long)n + 1, ax_strerror(err));
		n++;
		size_t len = c->input_len ? c->input_len - 1 : strlen(w->data); /* one line, if given */
		if (line.len != len || memcmp(line.data, w->data, len) != 0)
			fail_msg("%s: line %llu is '%.*s', want '%s'", c->name, (unsigned long long)n, (int)line.len,
				 line.data, w->data);
		if (line.number != n || line.offset != w->offset || line.full_len != w->full_len ||
		    line.oversized != w->oversized)
			fail_msg("%s: line %llu: number %llu offset %llu full_len %llu oversized %d, want offset %llu "
				 "full_len %llu oversized %d",
				 c->name, (unsigned long long)n, (unsigned long long)line.number,
				 (unsigned long long)line.offset, (unsigned long long)line.full_len, line.oversized,
				 (unsigned long long)w->offset, (unsigned long long)w->full_len, w->oversized);
	}
	if (ax_lines_next(&f->r, &line) != AX_ERR_LAST)
		fail_msg("%s: more than %llu lines", c->name, (unsigned long long)n);
	/* and the end stays the end */
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_LAST);
}

static void test_cases(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(cases); i++)
		check_case(f, &cases[i]);
}

/* An over-long line is never held whole: its first 64 KiB are kept, the
 * rest streams by, and what follows it is read as usual. */
static void test_oversized_prefix(void **state)
{
	struct fixture *f = *state;
	size_t big = 3 * 1024 * 1024 + 17; /* several read chunks */
	size_t total = big + 64;
	char *data = malloc(total);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	int tail = snprintf(data + big, total - big, "\n{\"next\":1}\r\n\n{\"last\":2}");
	open_reader(f, data, big + (size_t)tail, 300 * 1024);
	struct ax_line line;
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_true(line.oversized);
	assert_int_equal(line.number, 1);
	assert_int_equal(line.offset, 0);
	assert_int_equal(line.full_len, big);
	assert_int_equal(line.len, AX_LINES_PREFIX_KEEP);
	assert_memory_equal(line.data, data, AX_LINES_PREFIX_KEEP);
	assert_true(f->r.cap < big); /* never buffered whole */

	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_false(line.oversized);
	assert_int_equal(line.number, 2);
	assert_int_equal(line.offset, big + 1);
	assert_int_equal(line.len, 10);
	assert_memory_equal(line.data, "{\"next\":1}", 10);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_int_equal(line.len, 0);
	assert_int_equal(line.offset, big + 13);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_int_equal(line.number, 4);
	assert_int_equal(line.offset, big + 14);
	assert_memory_equal(line.data, "{\"last\":2}", 10);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_LAST);
	free(data);
}

/* A long line under the cap is returned whole, across read chunks. */
static void test_long_line_under_max(void **state)
{
	struct fixture *f = *state;
	size_t big = 1024 * 1024 + 3;
	char *data = malloc(big + 8);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('0' + i % 10);
	memcpy(data + big, "\nend\n", 5);
	open_reader(f, data, big + 5, 2 * 1024 * 1024);
	struct ax_line line;
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_false(line.oversized);
	assert_int_equal(line.len, big);
	assert_int_equal(line.full_len, big);
	assert_memory_equal(line.data, data, big);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_int_equal(line.len, 3);
	assert_int_equal(line.offset, big + 1);
	free(data);
}

/* Many lines of varied length: every offset, number and byte is right
 * where lines straddle the reader's chunks. */
static void test_many_lines(void **state)
{
	struct fixture *f = *state;
	size_t cap = 4 * 1024 * 1024, len = 0;
	char *data = malloc(cap);
	assert_non_null(data);
	size_t count = 0;
	while (len + 3000 < cap) {
		size_t n = (count * 7919) % 2500;
		for (size_t i = 0; i < n; i++)
			data[len + i] = (char)('A' + (count + i) % 26);
		len += n;
		if (count % 3 == 0)
			data[len++] = '\r';
		data[len++] = '\n';
		count++;
	}
	open_reader(f, data, len, 4096);
	struct ax_line line;
	uint64_t offset = 0;
	for (size_t k = 0; k < count; k++) {
		assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
		size_t n = (k * 7919) % 2500;
		if (line.number != k + 1 || line.offset != offset || line.len != n)
			fail_msg("line %zu: number %llu offset %llu len %zu, want offset %llu len %zu", k + 1,
				 (unsigned long long)line.number, (unsigned long long)line.offset, line.len,
				 (unsigned long long)offset, n);
		assert_memory_equal(line.data, data + offset, n);
		offset += n + 1 + (k % 3 == 0);
	}
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_LAST);
	assert_int_equal(offset, len);
	free(data);
}

/* Data arriving in small pieces through a pipe. */
static void test_pipe_pieces(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	static const char *const pieces[] = { "{\"a\"", ":1}\r", "\n{\"b\":2}\n", "\n", "tail" };
	struct ax_line_reader r;
	assert_int_equal(ax_lines_init(&r, fds[0], 64), AX_OK);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(pieces); i++)
		assert_int_equal(write(fds[1], pieces[i], strlen(pieces[i])), (ssize_t)strlen(pieces[i]));
	close(fds[1]);
	static const char *const want[] = { "{\"a\":1}", "{\"b\":2}", "", "tail" };
	struct ax_line line;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(want); i++) {
		assert_int_equal(ax_lines_next(&r, &line), AX_OK);
		assert_int_equal(line.len, strlen(want[i]));
		assert_memory_equal(line.data, want[i], line.len);
	}
	assert_int_equal(ax_lines_next(&r, &line), AX_ERR_LAST);
	ax_lines_finish(&r);
	close(fds[0]);
}

static void test_read_error(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct ax_line_reader r;
	struct ax_line line;
	assert_int_equal(ax_lines_init(&r, fd, 64), AX_OK);
	assert_int_equal(ax_lines_next(&r, &line), AX_ERR_IO);
	ax_lines_finish(&r);
	close(fd);
}

/* Following a file that grows: a partial last line is not handed out
 * until its newline arrives. */
static void test_follow(void **state)
{
	struct fixture *f = *state;
	open_reader(f, "one\ntw", 6, 64);
	f->r.follow = true;
	struct ax_line line;
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_int_equal(line.len, 3);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_AGAIN);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_AGAIN);
	FILE *w = fopen(f->path, "a");
	assert_non_null(w);
	fputs("o\nthree", w);
	fclose(w);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_int_equal(line.len, 3);
	assert_memory_equal(line.data, "two", 3);
	assert_int_equal(line.number, 2);
	assert_int_equal(line.offset, 4);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_AGAIN);
	/* not following any more: the partial line is the last one */
	f->r.follow = false;
	assert_int_equal(ax_lines_next(&f->r, &line), AX_OK);
	assert_memory_equal(line.data, "three", 5);
	assert_int_equal(ax_lines_next(&f->r, &line), AX_ERR_LAST);
}

static void test_blank(void **state)
{
	(void)state;
	static const struct {
		const char *data;
		bool oversized, blank;
	} cases[] = {
		{ "", false, true },       { " ", false, true },      { "\t \r", false, true },
		{ " x ", false, false },   { "{}", false, false },    { "\n", false, false },
		{ "   ", true, false }, /* an over-long line is never skipped silently */
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(cases); i++) {
		struct ax_line line = { .data = cases[i].data, .len = strlen(cases[i].data), .oversized = cases[i].oversized };
		if (ax_line_is_blank(&line) != cases[i].blank)
			fail_msg("'%s' (oversized %d): blank %d", cases[i].data, cases[i].oversized, !cases[i].blank);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_under_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_lines, setup, teardown),
		cmocka_unit_test(test_pipe_pieces),
		cmocka_unit_test_setup_teardown(test_read_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test(test_blank),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

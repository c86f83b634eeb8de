/* test_json_fast.c - json.c parses plain records without yajl (the fast
 * path) and hands everything else to yajl: both must give the same result
 * for every input - the same tree, or the same error and message. Each
 * record of the corpora given as arguments (JSON lines files or directories
 * of single records), and of a set of odd ones, is parsed as it is, cut
 * short, with single bytes replaced and with escapes put into its strings,
 * by one doc with the fast path and one without, in the same order. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

static int g_argc;
static char **g_argv;

struct pair {
	struct ax_json_doc *fast, *yajl;
	struct ax_buf a, b;
	unsigned long parsed, fast_ok;
};

static void dump(const struct ax_json_doc *d, const struct ax_jnode *n, struct ax_buf *out)
{
	char head[64];
	snprintf(head, sizeof(head), "%u:%u:", n->type, n->key_len);
	assert_int_equal(ax_buf_adds(out, head), AX_OK);
	if (n->key != AX_JNONE)
		assert_int_equal(ax_buf_add(out, ax_json_key(d, n), n->key_len), AX_OK);
	if (n->type == AX_J_STRING || n->type == AX_J_NUMBER) {
		snprintf(head, sizeof(head), "=%u:", n->len);
		assert_int_equal(ax_buf_adds(out, head), AX_OK);
		assert_int_equal(ax_buf_add(out, ax_json_text(d, n), n->len), AX_OK);
	} else if (n->type == AX_J_OBJECT || n->type == AX_J_ARRAY) {
		snprintf(head, sizeof(head), "(%u", n->len);
		assert_int_equal(ax_buf_adds(out, head), AX_OK);
		for (const struct ax_jnode *c = ax_json_first(d, n); c; c = ax_json_next(d, c))
			dump(d, c, out);
		assert_int_equal(ax_buf_addc(out, ')'), AX_OK);
	}
	assert_int_equal(ax_buf_addc(out, ';'), AX_OK);
}

static void same(struct pair *p, const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1); /* no NUL after it: ASan sees reads past the end */
	assert_non_null(copy);
	memcpy(copy, data, len);
	ax_err ea = ax_json_parse(p->fast, copy, len), eb = ax_json_parse(p->yajl, copy, len);
	ax_buf_clear(&p->a);
	ax_buf_clear(&p->b);
	if (!ea)
		dump(p->fast, ax_json_root(p->fast), &p->a);
	if (!eb)
		dump(p->yajl, ax_json_root(p->yajl), &p->b);
	if (ea != eb || strcmp(ax_json_error(p->fast), ax_json_error(p->yajl)) != 0 || p->a.len != p->b.len ||
	    (p->a.len && memcmp(p->a.data, p->b.data, p->a.len) != 0))
		fail_msg("'%.*s': fast %s '%s', yajl %s '%s'", (int)(len > 300 ? 300 : len), data, ax_strerror(ea),
			 ax_json_error(p->fast), ax_strerror(eb), ax_json_error(p->yajl));
	p->parsed++;
	p->fast_ok += !ea;
	free(copy);
}

/* The record as it is and changed in the ways a fast path could get wrong. */
static void variants(struct pair *p, const char *rec, size_t len)
{
	static const char bytes[] = "\"\\{}[],: \t\n\x01\x1f\x7f" "0-+.eEuxtfn/";
	static const char *const escapes[] = { "\\u00e9", "\\n", "\\/", "\\\"", "\\\\", "\\ud83d\\ude00", "\\u0000",
					       "\\ud800", "\\x", "\\", "\\b\\f\\r\\t", "\xc3\xa9", "\xff" };
	char *buf = malloc(len + 32);
	assert_non_null(buf);
	same(p, rec, len);
	size_t step = len / 37 + 1;
	for (size_t cut = 0; cut < len; cut += step)
		same(p, rec, cut);
	for (size_t at = 0, k = 0; at < len; at += step, k++) {
		memcpy(buf, rec, len);
		buf[at] = bytes[k % (sizeof(bytes) - 1)];
		same(p, buf, len);
	}
	for (size_t at = 1, k = 0; at < len; at += step, k++) {
		const char *e = escapes[k % UNIT_ARRAY_LEN(escapes)];
		size_t n = strlen(e);
		if (rec[at - 1] == '\\' || rec[at] == '"')
			continue;
		memcpy(buf, rec, at);
		memcpy(buf + at, e, n);
		memcpy(buf + at + n, rec + at, len - at);
		same(p, buf, len + n);
	}
	free(buf);
}

static void lines_of(struct pair *p, const char *path)
{
	size_t len;
	char *text = unit_read_file(path, &len);
	for (char *line = text, *nl; line < text + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		if (!nl)
			nl = text + len;
		variants(p, line, (size_t)(nl - line));
	}
	free(text);
}

static void lines_in(const char *path, void *p)
{
	lines_of(p, path);
}

static void test_same_as_yajl(void **state)
{
	(void)state;
	static const char *const odd[] = {
		"{}", " {} ", "{\"a\":{}}", "{\"a\":[]}", "{\"a\":[1,-0,0.5,1e9,1E+2,-3.25e-7,0]}",
		"{\"a\":true,\"b\":false,\"c\":null}", "{\"\":\"\"}", "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"a\" : [ 1 , { \"b\" : [ ] } ] }\t\r\n", "{\"a\":1}x", "{\"a\":1}{}", "[{}]", "\"s\"", "12", "",
		"   ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
		"{\"a\":1e}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":\"\x7f\"}",
		"{\"a\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}", "{\"a\":[[[[[[[[]]]]]]]]}", "{\"a\":\"\\u0041\\u00e9\"}",
		"{\"a\":1}\f", "\v{\"a\":1}", "{\"a\"\f:1}", "{\"Id\":\"x\",\"Id\":\"y\"}",
	};
	struct pair p = { .fast = ax_json_doc_create(8), .yajl = ax_json_doc_create(8) };
	assert_non_null(p.fast);
	assert_non_null(p.yajl);
	ax_json_doc_yajl_only(p.yajl, true);
	ax_buf_init(&p.a, 1u << 30);
	ax_buf_init(&p.b, 1u << 30);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(odd); i++)
		variants(&p, odd[i], strlen(odd[i]));
	if (g_argc < 2)
		fail_msg("usage: test_json_fast CORPUS...");
	for (int i = 1; i < g_argc; i++)
		unit_each_corpus_file(g_argv[i], lines_in, &p);
	print_message("# %lu inputs, %lu parsed by the fast path\n", p.parsed, p.fast_ok);
	assert_true(p.fast_ok > 100); /* the fast path was used, not only yajl */
	ax_buf_finish(&p.a);
	ax_buf_finish(&p.b);
	ax_json_doc_destroy(p.fast);
	ax_json_doc_destroy(p.yajl);
}

/* Deep records: the fast path recurses, so it leaves those past 128 levels
 * to yajl; either way the result is the same, to the depth limit and past it. */
static void test_deep(void **state)
{
	(void)state;
	static const size_t depths[] = { 1, 100, 127, 128, 129, 200, 999, 1000, 1001, 3000 };
	struct pair p = { .fast = ax_json_doc_create(1000), .yajl = ax_json_doc_create(1000) };
	assert_non_null(p.fast);
	assert_non_null(p.yajl);
	ax_json_doc_yajl_only(p.yajl, true);
	ax_buf_init(&p.a, 1u << 30);
	ax_buf_init(&p.b, 1u << 30);
	char *text = malloc(6 * 3000 + 16);
	assert_non_null(text);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(depths); i++) {
		size_t n = 0, d = depths[i];
		text[n++] = '{';
		for (size_t k = 1; k < d; k++) {
			memcpy(text + n, "\"a\":{", 5);
			n += 5;
		}
		memset(text + n, '}', d);
		same(&p, text, n + d);
	}
	free(text);
	ax_buf_finish(&p.a);
	ax_buf_finish(&p.b);
	ax_json_doc_destroy(p.fast);
	ax_json_doc_destroy(p.yajl);
}

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_yajl),
		cmocka_unit_test(test_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

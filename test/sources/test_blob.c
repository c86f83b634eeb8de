/* test_blob.c - splitting response bodies into records (sources/blob.c):
 * byte ranges that give back each element exactly, ids decoded, Graph
 * envelopes with their nextLink, and hostile bodies: not an array, cut
 * short, trailing garbage, invalid UTF-8, deep nesting, huge ids, ids
 * with a NUL. And the fast path against the yajl pass: the same result
 * for every body, built from the record corpora given as arguments and
 * from odd ones, cut short and changed byte by byte. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_same.h"
#include "buf.h"
#include "sources/blob.h"

static int g_argc;
static char **g_argv;

static const struct ax_blob_spec array_spec = { .envelope = false, .id_key = "Id", .ts_key = NULL };
static const struct ax_blob_spec graph_spec = { .envelope = true, .id_key = "id", .ts_key = "lastUpdateDateTime" };

static char *element(const char *body, const struct ax_blob_item *it)
{
	return strndup(body + it->off, it->len);
}

static void assert_element(const char *body, const struct ax_blob *b, size_t i, const char *want)
{
	assert_true(i < b->count);
	char *got = element(body, &b->items[i]);
	assert_string_equal(got, want);
	free(got);
}

static void assert_id(const struct ax_blob *b, size_t i, const char *want)
{
	if (!want) {
		assert_int_equal(b->items[i].id_len, 0);
		return;
	}
	assert_int_equal(b->items[i].id_len, strlen(want));
	assert_string_equal(ax_blob_str(b, b->items[i].id), want);
}

static void test_records_and_ids(void **state)
{
	(void)state;
	const char *body = " [ {\"Id\":\"a1\",\"x\":[1,{\"Id\":\"inner\"}]} ,\n{\"RecordType\":15, \"id\" : \"b\\u0032\"},{}]  ";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 3);
	assert_element(body, &b, 0, "{\"Id\":\"a1\",\"x\":[1,{\"Id\":\"inner\"}]}");
	assert_element(body, &b, 1, "{\"RecordType\":15, \"id\" : \"b\\u0032\"}");
	assert_element(body, &b, 2, "{}");
	assert_id(&b, 0, "a1"); /* the record's own, not a nested one */
	assert_id(&b, 1, "b2"); /* decoded, matched in any case */
	assert_id(&b, 2, NULL);
	assert_int_equal(b.bad_len, 0);
	assert_string_equal(b.error, "");
	ax_blob_finish(&b);
}

static void test_elements_that_are_not_records(void **state)
{
	(void)state;
	const char *body = "[\"text\", 12.5e3 ,null,true,[1,2],{\"Id\":7}]";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 6);
	assert_element(body, &b, 0, "\"text\"");
	assert_element(body, &b, 1, "12.5e3");
	assert_element(body, &b, 2, "null");
	assert_element(body, &b, 3, "true");
	assert_element(body, &b, 4, "[1,2]");
	assert_element(body, &b, 5, "{\"Id\":7}");
	assert_id(&b, 5, "7"); /* a number id is kept as its text */
	ax_blob_finish(&b);
}

/* yajl takes \v and \f for blanks: an element's range must not start
 * with them (found by test/fuzz/fuzz_api). */
static void test_vertical_tab_and_form_feed(void **state)
{
	(void)state;
	const char *body = "[{\"Id\":\"a\"}\v,\f{\"Id\":\"b\"}\f,\v\"c\"]";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 3);
	assert_element(body, &b, 0, "{\"Id\":\"a\"}");
	assert_element(body, &b, 1, "{\"Id\":\"b\"}");
	assert_element(body, &b, 2, "\"c\"");
	ax_blob_finish(&b);
}

/* A body cut after a number: yajl hands the number over only when told
 * the body ended, and its range must still end at the body's end, not
 * wrap around below its start (found by test/fuzz/fuzz_api). */
static void test_cut_after_a_number(void **state)
{
	(void)state;
	const char *body = "[\"d\"  ,45";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_ERR_JSON);
	for (size_t i = 0; i < b.count; i++)
		assert_true(b.items[i].off + b.items[i].len <= strlen(body) && b.items[i].len <= strlen(body));
	assert_true(b.count >= 1);
	assert_element(body, &b, 0, "\"d\"");
	if (b.count == 2)
		assert_element(body, &b, 1, "45");
	assert_true(b.bad_off + b.bad_len <= strlen(body));
	ax_blob_finish(&b);
}

static void test_empty_array(void **state)
{
	(void)state;
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, "[]", 2), AX_OK);
	assert_int_equal(b.count, 0);
	ax_blob_finish(&b);
}

static void expect_bad(const char *body, size_t len, size_t records, const char *bad, const char *why)
{
	if (len == SIZE_MAX)
		len = strlen(body);
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, len), AX_ERR_JSON);
	assert_int_equal(b.count, records);
	assert_int_equal(b.bad_len, strlen(bad));
	assert_memory_equal(body + b.bad_off, bad, b.bad_len);
	assert_contains(b.error, why);
	ax_blob_finish(&b);
}

static void test_hostile_bodies(void **state)
{
	(void)state;
	expect_bad("{\"error\":{\"code\":\"AF20051\"}}", SIZE_MAX, 0, "{\"error\":{\"code\":\"AF20051\"}}", "not a JSON array");
	expect_bad("<html><body>Service unavailable</body></html>", SIZE_MAX, 0,
		   "<html><body>Service unavailable</body></html>", "invalid");
	/* cut short: the records before the fault stay */
	expect_bad("[{\"Id\":\"1\"},{\"Id\":\"2\"},{\"Id\":\"3\",\"Op", SIZE_MAX, 2, "{\"Id\":\"3\",\"Op", "premature EOF");
	expect_bad("[{\"Id\":\"1\"}] trailing", SIZE_MAX, 1, "trailing", "trailing garbage");
	expect_bad("\"just a string\"", SIZE_MAX, 0, "\"just a string\"", "not a JSON array");
	expect_bad("", 0, 0, "", "premature EOF");
	const char bad_utf8[] = "[{\"Id\":\"1\"},{\"Id\":\"\xff\xfe\"}]";
	expect_bad(bad_utf8, sizeof(bad_utf8) - 1, 1, "{\"Id\":\"\xff\xfe\"}]", "UTF8");
}

static void test_deep_nesting(void **state)
{
	(void)state;
	size_t depth = 100000, len = 2 * depth + 2;
	char *body = malloc(len + 1);
	assert_non_null(body);
	body[0] = '[';
	memset(body + 1, '[', depth);
	memset(body + 1 + depth, ']', depth);
	body[len - 1] = ']';
	body[len] = '\0';
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, len), AX_OK);
	assert_int_equal(b.count, 1);
	assert_int_equal(b.items[0].len, 2 * depth);
	ax_blob_finish(&b);
	free(body);
}

static void test_huge_id_is_not_kept(void **state)
{
	(void)state;
	size_t n = AX_BLOB_MAX_VALUE + 10;
	char *body = malloc(n + 16);
	if (!body) { /* not assert_non_null: GCC would see a path on with NULL */
		fail_msg("out of memory");
		return;
	}
	memcpy(body, "[{\"Id\":\"", 8);
	memset(body + 8, 'x', n);
	memcpy(body + 8 + n, "\"}]", 4); /* with its NUL */
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 1);
	assert_id(&b, 0, NULL);
	ax_blob_finish(&b);
	free(body);
}

/* An id with \u0000 in it is not kept (as a C string it would be cut at
 * the NUL, the same as the id before it); the record still is one. */
static void test_id_with_nul_is_not_kept(void **state)
{
	(void)state;
	const char *body = "[{\"Id\":\"a\\u0000\"},{\"Id\":\"a\"}]";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &array_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 2);
	assert_element(body, &b, 0, "{\"Id\":\"a\\u0000\"}");
	assert_id(&b, 0, NULL);
	assert_id(&b, 1, "a");
	ax_blob_finish(&b);
}

static void test_graph_envelope(void **state)
{
	(void)state;
	const char *body = "{\"@odata.context\":\"x\",\"value\":[{\"id\":\"a\",\"lastUpdateDateTime\":\"2026-03-02T08:30:02.7654321Z\","
			   "\"evidence\":[{\"id\":\"nested\"}]},{\"id\":\"b\"}],\"@odata.nextLink\":\"https://g/next?$skip=2\"}";
	struct ax_blob b;
	ax_blob_init(&b);
	assert_int_equal(ax_blob_split(&b, &graph_spec, body, strlen(body)), AX_OK);
	assert_int_equal(b.count, 2);
	assert_id(&b, 0, "a");
	assert_int_equal(b.items[0].ts_len, strlen("2026-03-02T08:30:02.7654321Z"));
	assert_string_equal(ax_blob_str(&b, b.items[0].ts), "2026-03-02T08:30:02.7654321Z");
	assert_id(&b, 1, "b");
	assert_int_equal(b.items[1].ts_len, 0);
	assert_element(body, &b, 1, "{\"id\":\"b\"}");
	assert_non_null(b.next_link);
	assert_string_equal(b.next_link, "https://g/next?$skip=2");
	/* the same split object, reused: nothing of the last body stays */
	const char *last = "{\"@odata.nextLink\":null,\"value\":[]}";
	assert_int_equal(ax_blob_split(&b, &graph_spec, last, strlen(last)), AX_OK);
	assert_int_equal(b.count, 0);
	assert_null(b.next_link);
	/* an array member before "value" is no record array */
	const char *other = "{\"other\":[{\"id\":\"not a record\"}],\"value\":[{\"id\":\"r\"}]}";
	for (int yajl_only = 0; yajl_only < 2; yajl_only++) {
		b.yajl_only = yajl_only;
		assert_int_equal(ax_blob_split(&b, &graph_spec, other, strlen(other)), AX_OK);
		assert_int_equal(b.count, 1);
		assert_id(&b, 0, "r");
	}
	ax_blob_finish(&b);
}

static void test_graph_envelope_hostile(void **state)
{
	(void)state;
	struct ax_blob b;
	ax_blob_init(&b);
	const char *no_value = "{\"error\":{\"code\":\"TooManyRequests\"}}";
	assert_int_equal(ax_blob_split(&b, &graph_spec, no_value, strlen(no_value)), AX_ERR_JSON);
	assert_contains(b.error, "no \"value\"");
	const char *scalar = "{\"value\":5}";
	assert_int_equal(ax_blob_split(&b, &graph_spec, scalar, strlen(scalar)), AX_ERR_JSON);
	assert_contains(b.error, "not an array");
	const char *array = "[{\"id\":\"a\"}]";
	assert_int_equal(ax_blob_split(&b, &graph_spec, array, strlen(array)), AX_ERR_JSON);
	assert_contains(b.error, "not a JSON object");
	ax_blob_finish(&b);
}

/* ---- the fast path against the yajl pass ---- */

struct pair {
	struct ax_blob fast, yajl;
	unsigned long split, fast_ok;
};

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	ax_blob_init(&p->fast);
	ax_blob_init(&p->yajl);
	p->yajl.yajl_only = true;
}

static void pair_finish(struct pair *p)
{
	ax_blob_finish(&p->fast);
	ax_blob_finish(&p->yajl);
}

/* One body, split both ways with each spec; returns whether the fast path
 * took it with the first. */
static bool same(struct pair *p, const char *body, size_t len)
{
	static const struct ax_blob_spec *const specs[] = { &array_spec, &graph_spec };
	bool took = false;
	char *copy = malloc(len ? len : 1); /* no NUL after it: ASan sees reads past the end */
	assert_non_null(copy);
	memcpy(copy, body, len);
	for (size_t k = 0; k < UNIT_ARRAY_LEN(specs); k++) {
		ax_err ea = ax_blob_split(&p->fast, specs[k], copy, len);
		ax_err eb = ax_blob_split(&p->yajl, specs[k], copy, len);
		char why[512];
		if (blob_differs(ea, &p->fast, eb, &p->yajl, why, sizeof(why)))
			fail_msg("%s spec, '%.*s' (%zu bytes): %s", k ? "graph" : "array", (int)(len > 300 ? 300 : len),
				 body, len, why);
		assert_false(p->yajl.fast);
		p->split++;
		p->fast_ok += p->fast.fast;
		took = took || (k == 0 && p->fast.fast);
	}
	free(copy);
	return took;
}

/* The body, cut short and changed: at every byte when it is small, at some
 * of them when not. */
static void variants(struct pair *p, const char *body, size_t len)
{
	static const char bytes[] = "\"\\{}[],: \t\n\r\v\f\x01\x1f\x7f\x80\xc3\xff" "0-+.eEuxtfnlI/";
	static const char *const inserts[] = { "\\u00e9", "\\n", "\\/", "\\\"", "\\\\", "\\ud83d\\ude00", "\\u0000",
					       "\\ud800", "\\x", "\\", "\\u12", "\xc3\xa9", "\xff", "\xc0\x80",
					       "\xed\xa0\x80", "\xf4\x90\x80\x80", " ", "\n\t" };
	char *buf = malloc(len + 32);
	assert_non_null(buf);
	same(p, body, len);
	size_t step = len < 200 ? 1 : len / 97 + 1;
	for (size_t cut = 0; cut < len; cut += step)
		same(p, body, cut);
	for (size_t at = 0, k = 0; at < len; at += step) {
		for (size_t r = 0; r < (len < 200 ? sizeof(bytes) - 1 : 1); r++, k++) {
			memcpy(buf, body, len);
			buf[at] = bytes[k % (sizeof(bytes) - 1)];
			same(p, buf, len);
		}
	}
	for (size_t at = 0, k = 0; at <= len; at += step, k++) {
		const char *e = inserts[k % UNIT_ARRAY_LEN(inserts)];
		size_t n = strlen(e);
		memcpy(buf, body, at);
		memcpy(buf + at, e, n);
		memcpy(buf + at + n, body + at, len - at);
		same(p, buf, len + n);
	}
	free(buf);
}

static void test_fast_path_odd_bodies(void **state)
{
	(void)state;
	static const char *const odd[] = {
		"[]", " [ ] ", "[ ]\n", "\t\r\n[\t\r\n]\t\r\n", "[1,-0,0.5,1e9,1E+2,-3.25e-7,0,1e-0,123456789012345678901234567890]",
		"[\"a\",null,true,false,{},[],\"\"]", "[{\"Id\":\"x\",\"Id\":\"y\"}]", "[{\"Id\":\"\",\"Id\":\"y\"}]",
		"[{\"Id\":null,\"Id\":\"z\"}]", "[{\"Id\":{\"Id\":\"n\"},\"Id\":\"q\"}]", "[{\"Id\":[\"n\"],\"Id\":-12.5e3}]",
		"[{\"ID\":\"up\"},{\"iD\":\"mixed\"},{\"id\":true,\"Id\":false}]", "[{\"Id\":\"\\u0041\"}]",
		"[{\"I\\u0064\":\"escaped name\"}]", "[{\"Id\":\"a\\\"b\"},{\"x\":\"a\\\"b\",\"Id\":\"c\"}]",
		"[{\"Id\":\"\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\"}]", "[{\"x\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\"}]",
		"[ {\"Id\" : \"x\"} , {\"Id\":\"y\"} ]", "[[{\"Id\":\"nested\"}],{\"a\":{\"Id\":\"deeper\"}}]",
		"[{\"a\":[[[[1]]]],\"b\":{\"c\":{\"d\":[]}}}]", "[\v{\"Id\":\"a\"}]", "[{\"Id\":\"a\"}]\f", "[{\"Id\":\"a\"}\f]",
		"[{\"Id\":\"x\",\"lastUpdateDateTime\":\"t\",\"id\":\"y\"}]",
		"{\"value\":[]}", "{\"@odata.nextLink\":null,\"value\":[]}",
		"{\"value\":[{\"id\":\"a\",\"lastUpdateDateTime\":\"t\"},{\"ID\":7,\"LastUpdateDateTime\":1.5}],\"@odata.nextLink\":\"https://n\"}",
		"{\"@odata.nextLink\":\"first\",\"@odata.nextLink\":\"second\",\"value\":[]}",
		"{\"@odata.nextLink\":null,\"@odata.nextLink\":\"second\",\"value\":[]}",
		"{\"@ODATA.NEXTLINK\":\"x\",\"value\":[]}", "{\"@odata.nextLink\":\"\",\"value\":[]}",
		"{\"@odata.nextLink\":5e2,\"value\":[]}", "{\"@odata.nextLink\":{\"a\":\"b\"},\"value\":[]}",
		"{\"@odata.nextLink\":[\"a\"],\"value\":[{\"id\":\"a\"}]}", "{\"other\":[1],\"value\":[{\"id\":\"a\"}]}",
		"{\"value\":[{\"id\":\"a\"}],\"other\":[1]}", "{\"value\":[1],\"value\":[2]}", "{\"Value\":[1]}",
		"{\"value\":{}}", "{\"value\":\"x\"}", "{}", "{\"valu\\u0065\":[{\"id\":\"a\"}]}",
		"{\"@odata.nextLink\":\"a\\/b\",\"value\":[]}", "{\"a\":{\"value\":[1]},\"value\":[2]}",
		"{\"value\":[{\"id\":\"a\",\"LASTUPDATEDATETIME\":\"t1\",\"lastUpdateDateTime\":\"t2\"}]}",
		"{ \"@odata.context\" : \"c\" , \"value\" : [ { \"id\" : \"a\" } ] , \"@odata.nextLink\" : \"n\" }",
		"[", "]", "[1,]", "[,1]", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[tru]", "[truex]", "[nul]",
		"[\"\x01\"]", "[\"\xff\"]", "[\"\xc0\x80\"]", "[\"\xed\xa0\x80\"]", "[\"\xf5\x80\x80\x80\"]", "[1][2]", "[1] x",
		"<html>", "", "   ", "[{\"a\" 1}]", "[{\"a\":1 \"b\":2}]", "[{1:2}]", "[\"\\x\"]", "[\"\\u12\"]", "[\"\\u12G4\"]",
		"[{\"Id\":\"1\"},{\"Id\":\"2\"},{\"Id\":\"3\",\"Op", "{\"error\":{\"code\":\"AF20051\"}}", "\"just a string\"",
		"12", "null", "{\"value\":[1,]}", "{\"value\":[1]]", "{\"value\":[1]", "{\"value\":[1]}}",
	};
	struct pair p;
	pair_init(&p);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(odd); i++)
		variants(&p, odd[i], strlen(odd[i]));
	/* what the fast path takes, and what it leaves to yajl */
	assert_true(same(&p, "[{\"Id\":\"a\",\"x\":\"\\u00e9\"}]", 25));
	assert_false(same(&p, "[{\"Id\":\"\\u0061\"}]", 17));
	assert_false(same(&p, "[{\"Id\":\"a\"}\f]", 13));
	/* NULs, and blobs and pages that end in them */
	same(&p, "[1]\0", 4);
	same(&p, "[\"a\0\"]", 6);
	same(&p, "{\"value\":[]}\0", 13);
	/* kept values at and past the limit */
	for (size_t n = AX_BLOB_MAX_VALUE - 1; n <= AX_BLOB_MAX_VALUE + 1; n++) {
		char *body = malloc(n + 32);
		assert_non_null(body);
		memcpy(body, "[{\"Id\":\"", 8);
		memset(body + 8, 'x', n);
		memcpy(body + 8 + n, "\"}]", 3);
		assert_true(same(&p, body, n + 11));
		free(body);
	}
	print_message("# %lu splits, %lu by the fast path\n", p.split, p.fast_ok);
	assert_true(p.fast_ok > 1000);
	pair_finish(&p);
}

/* Nesting around the fast path's limit, as records and inside them. */
static void test_fast_path_deep(void **state)
{
	(void)state;
	static const size_t depths[] = { 1, 2, 100, 126, 127, 128, 129, 130, 200, 1000 };
	struct pair p;
	pair_init(&p);
	char *body = malloc(2 * 1000 + 64);
	assert_non_null(body);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(depths); i++) {
		size_t d = depths[i], n;
		memset(body, '[', d);
		memset(body + d, ']', d);
		same(&p, body, 2 * d);
		n = (size_t)sprintf(body, "{\"value\":[{\"id\":\"a\",\"x\":");
		memset(body + n, '[', d);
		memset(body + n + d, ']', d);
		memcpy(body + n + 2 * d, "}]}", 3);
		same(&p, body, n + 2 * d + 3);
	}
	assert_true(p.fast_ok > 4);
	free(body);
	pair_finish(&p);
}

/* Blobs and pages of the corpus records, with their ids' names in other
 * cases, blanks of every kind between them, and the changes above. */
static void corpus_bodies(struct pair *p, const char *text, size_t len)
{
	static const char *const seps[] = { ",", " , ", ",\n", "\t,\r\n  " };
	struct ax_buf recs, body;
	ax_buf_init(&recs, 1u << 30);
	ax_buf_init(&body, 1u << 30);
	/* the records, one per line, Id renamed in turn */
	static const char *const names[] = { "\"Id\"", "\"ID\"", "\"id\"", "\"iD\"" };
	size_t k = 0, nrec = 0;
	for (const char *line = text, *nl; line < text + len; line = nl + 1, k++) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		if (!nl)
			nl = text + len;
		if (nl == line)
			continue;
		if (nrec++)
			assert_int_equal(ax_buf_adds(&recs, seps[k % UNIT_ARRAY_LEN(seps)]), AX_OK);
		const char *at = NULL;
		for (const char *q = line; !at && q + 4 <= nl; q++)
			if (memcmp(q, "\"Id\"", 4) == 0)
				at = q;
		if (at && k % 2) {
			assert_int_equal(ax_buf_add(&recs, line, (size_t)(at - line)), AX_OK);
			assert_int_equal(ax_buf_adds(&recs, names[k % UNIT_ARRAY_LEN(names)]), AX_OK);
			assert_int_equal(ax_buf_add(&recs, at + 4, (size_t)(nl - at - 4)), AX_OK);
		} else {
			assert_int_equal(ax_buf_add(&recs, line, (size_t)(nl - line)), AX_OK);
		}
	}
	static const char *const heads[] = { "[", " [\n", "{\"@odata.context\":\"https://g/$metadata#alerts\",\"value\":[",
					     "{ \"value\" : [ " };
	static const char *const tails[] = { "]", "]\n", "],\"@odata.nextLink\":\"https://g/v1.0/alerts?$skiptoken=x1\"}",
					     " ] , \"@odata.nextLink\" : null }\r\n" };
	for (size_t h = 0; h < UNIT_ARRAY_LEN(heads); h++) {
		ax_buf_clear(&body);
		assert_int_equal(ax_buf_adds(&body, heads[h]), AX_OK);
		assert_int_equal(ax_buf_add(&body, recs.data, recs.len), AX_OK);
		assert_int_equal(ax_buf_adds(&body, tails[h]), AX_OK);
		if (h == 0)
			variants(p, body.data, body.len);
		else
			same(p, body.data, body.len);
	}
	ax_buf_finish(&recs);
	ax_buf_finish(&body);
}

static void corpus_file(const char *path, void *p)
{
	size_t len;
	char *text = unit_read_file(path, &len);
	corpus_bodies(p, text, len);
	free(text);
}

static void test_fast_path_corpus(void **state)
{
	(void)state;
	if (g_argc < 2)
		fail_msg("usage: test_src_blob CORPUS...");
	struct pair p;
	pair_init(&p);
	for (int i = 1; i < g_argc; i++)
		unit_each_corpus_file(g_argv[i], corpus_file, &p);
	print_message("# %lu splits, %lu by the fast path\n", p.split, p.fast_ok);
	assert_true(p.fast_ok > 100);
	pair_finish(&p);
}

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_ids),
		cmocka_unit_test(test_elements_that_are_not_records),
		cmocka_unit_test(test_vertical_tab_and_form_feed),
		cmocka_unit_test(test_cut_after_a_number),
		cmocka_unit_test(test_empty_array),
		cmocka_unit_test(test_hostile_bodies),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge_id_is_not_kept),
		cmocka_unit_test(test_id_with_nul_is_not_kept),
		cmocka_unit_test(test_graph_envelope),
		cmocka_unit_test(test_graph_envelope_hostile),
		cmocka_unit_test(test_fast_path_odd_bodies),
		cmocka_unit_test(test_fast_path_deep),
		cmocka_unit_test(test_fast_path_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

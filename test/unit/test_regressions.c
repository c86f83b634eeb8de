/* test_regressions.c - one test per bug found while writing the unit tests,
 * each kept so the bug stays fixed. The comment above each test says what
 * went wrong and where. */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "batch.h"
#include "config.h"
#include "deadletter.h"
#include "json.h"
#include "lines.h"
#include "mapper.h"
#include "record.h"
#include "rules.h"

/* json.c, ax_json_parse.
 * yajl_complete_parse is never called, and the handle allows several values
 * and is kept for the next record. A number after the object is still in
 * yajl's lexer (a number may go on) when the parse returns: the record is
 * accepted although it is not one JSON value, and the number is taken as
 * the first value of the next record, which is then rejected.
 * Seen end to end: `printf '{"Id":"a"} 5\n{"Id":"b"}\n' | annexa map` writes
 * '{...,"annexa":{...}} 5' (not JSON) to the SIEM and dead-letters the valid
 * second record as "invalid JSON: more than one JSON value". */
static void test_json_trailing_number(void **state)
{
	(void)state;
	struct ax_json_doc *doc = ax_json_doc_create(64);
	struct ax_event ev;
	static const char first[] = "{\"Id\":\"a\"} 5", second[] = "{\"Id\":\"b\"}";
	ax_err err1 = ax_event_decode(&ev, doc, NULL, first, strlen(first));
	ax_err err2 = ax_event_decode(&ev, doc, NULL, second, strlen(second));
	const char *why = ax_json_error(doc);
	if (err1 != AX_ERR_JSON || err2 != AX_OK)
		fail_msg("'%s': %s (want invalid JSON); then '%s': %s (%s) (want no error)", first,
			 ax_strerror(err1), second, ax_strerror(err2), why);
	ax_json_doc_destroy(doc);
}

/* json.c, ax_json_parse. Same cause: a record
 * that is a lone number, valid JSON but not an object, is reported as
 * "invalid JSON: incomplete JSON value" instead of "not a JSON object"
 * (as "true", "\"s\"" and "[1]" are). */
static void test_json_top_level_number(void **state)
{
	(void)state;
	struct ax_json_doc *doc = ax_json_doc_create(64);
	struct ax_event ev;
	ax_err err = ax_event_decode(&ev, doc, NULL, "42", 2);
	if (err != AX_ERR_NOT_OBJECT)
		fail_msg("'42': %s (%s), want: record is not a JSON object", ax_strerror(err), ax_json_error(doc));
	ax_json_doc_destroy(doc);
}

/* json.h promises that yajl validates UTF-8; yajl 2.1 only checks the shape
 * of sequences and accepts overlong forms, UTF-16 surrogates and code
 * points above U+10FFFF (deadletter.c's ax_utf8_valid rejects all three).
 * Such records are enriched and forwarded with their invalid bytes.
 * */
static void test_json_invalid_utf8_accepted(void **state)
{
	(void)state;
	static const char *const records[] = {
		"{\"Id\":\"\xc0\xaf\"}",         /* overlong '/' */
		"{\"Id\":\"\xed\xa0\x80\"}",     /* U+D800 */
		"{\"Id\":\"\xf4\x90\x80\x80\"}", /* U+110000 */
	};
	struct ax_json_doc *doc = ax_json_doc_create(64);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(records); i++) {
		struct ax_event ev;
		ax_err err = ax_event_decode(&ev, doc, NULL, records[i], strlen(records[i]));
		if (err != AX_ERR_JSON)
			fail_msg("record %zu with invalid UTF-8: %s, want invalid JSON", i, ax_strerror(err));
	}
	ax_json_doc_destroy(doc);
}

/* config.c, read_line/note_header against libinih.
 * libinih takes an indented line after a key as a continuation of that key,
 * even when it looks like a section header; note_header counts it as a new
 * section all the same. The value then lands in the new section under the
 * previous key's name. Here: output "a" ends with path = /tmp/a, and an
 * output "b" appears whose path is the literal text '[output "b"]' (a
 * file of that name in the working directory). Under libinih's reading,
 * a.path would be '/tmp/a [output "b"]' and the second 'type' a duplicate:
 * either way the file should not load as two valid outputs. */
static void test_config_indented_header(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *path = unit_write_file(dir, "annexa.conf",
				     "[output \"a\"]\ntype = file\npath = /tmp/a\n  [output \"b\"]\ntype = file\n", SIZE_MAX);
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(path, &diag);
	char got[256] = "";
	if (cfg) {
		const struct ax_section_conf *b = cfg->noutputs == 2 ? &cfg->outputs[1] : NULL;
		const struct ax_option *o = b ? ax_option_find(b->kind->tables, "path") : NULL;
		const char *bpath = o ? *(char **)((char *)b->conf + o->offset) : "?";
		if (!b || strcmp(bpath, "-") != 0) /* a real section would have the default path */
			snprintf(got, sizeof(got), "loaded %zu outputs; output \"b\" has path '%s'", cfg->noutputs, bpath);
		ax_config_destroy(cfg);
	}
	ax_diag_finish(&diag);
	free(path);
	unit_tmpdir_remove(dir);
	if (got[0])
		fail_msg("%s", got);
}

/* rules.c, parse_conds/parse_cond.
 * When a condition's field path parses but its value does not (gte with a
 * string, equals with an object or without a value, in with []), or the path
 * is malformed after a first step ("A..B"), the condition is not counted in
 * out->count, so conds_free never frees its path: each such rule leaks its
 * path steps. Only ASan sees this test fail (build with
 * -Db_sanitize=address). */
static void test_rules_bad_condition_leaks(void **state)
{
	(void)state;
#define BAD(id, cond) "{\"id\":\"" id "\",\"name\":\"n\",\"priority\":100,\"match\":{\"where\":[" cond "]}," \
	"\"category\":\"other\",\"severity\":\"low\",\"controls\":[\"5.1\"],\"rationale\":\"r\"}"
	static const char json[] = "{\"rules\":["
		BAD("AXU-L1", "{\"field\":\"A\",\"op\":\"gte\",\"value\":\"10\"}") ","
		BAD("AXU-L2", "{\"field\":\"A\",\"op\":\"equals\",\"value\":{}}") ","
		BAD("AXU-L3", "{\"field\":\"A\",\"op\":\"equals\"}") ","
		BAD("AXU-L4", "{\"field\":\"A\",\"op\":\"in\",\"value\":[]}") ","
		BAD("AXU-L5", "{\"field\":\"A..B\",\"op\":\"exists\"}") "]}";
#undef BAD
	char *dir = unit_tmpdir();
	char *path = unit_write_file(dir, "leak.json", json, SIZE_MAX);
	struct ax_strlist files = { &path, 1 };
	struct ax_diag diag;
	ax_diag_init(&diag);
	assert_null(ax_rules_load(&files, &diag));
	assert_int_equal(diag.count, 5);
	ax_diag_finish(&diag);
	free(path);
	unit_tmpdir_remove(dir);
}

/* mapper.c, cache_key. The key joins workload,
 * operation, record type and result status with '\x1f', which the fields
 * may hold themselves (JSON "\u001f"): two different events can get the same
 * key, and the second gets the first one's candidate rules. Here an event
 * whose Workload is "AzureActiveDirectory\u001fUserLoginFailed" (no
 * Operation) maps to the baseline FB-999 uncached, but to AUTH-001 when an
 * AzureActiveDirectory/UserLoginFailed event with ResultStatus "\u001f" was
 * cached before it. */
static void test_mapper_cache_key_collision(void **state)
{
	(void)state;
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_rules *rs = ax_rules_load(NULL, &diag);
	assert_non_null(rs);
	struct ax_match_cache *cache = ax_match_cache_create(rs);
	struct ax_json_doc *doc = ax_json_doc_create(64);
	static const char a[] = "{\"Workload\":\"AzureActiveDirectory\",\"Operation\":\"UserLoginFailed\",\"ResultStatus\":\"\\u001f\"}";
	static const char b[] = "{\"Workload\":\"AzureActiveDirectory\\u001fUserLoginFailed\"}";
	struct ax_event ev;
	struct ax_mapping m;
	assert_int_equal(ax_event_decode(&ev, doc, NULL, a, strlen(a)), AX_OK);
	ax_mapper_eval_cached(rs, cache, &ev, &m);
	assert_string_equal(m.used[0]->id, "AUTH-001");
	assert_int_equal(ax_event_decode(&ev, doc, NULL, b, strlen(b)), AX_OK);
	ax_mapper_eval(rs, &ev, &m);
	const char *uncached = m.used[0]->id;
	ax_mapper_eval_cached(rs, cache, &ev, &m);
	const char *cached = m.used[0]->id;
	if (strcmp(uncached, cached) != 0)
		fail_msg("%s: %s uncached, %s cached after %s", b, uncached, cached, a);
	ax_json_doc_destroy(doc);
	ax_match_cache_destroy(cache);
	ax_rules_destroy(rs);
	ax_diag_finish(&diag);
}

static struct ax_line read_one(const char *data, size_t max, int *fd_out, struct ax_line_reader *r, char **dir)
{
	*dir = unit_tmpdir();
	char *path = unit_write_file(*dir, "in", data, SIZE_MAX);
	*fd_out = open(path, O_RDONLY);
	free(path);
	assert_true(*fd_out >= 0);
	assert_int_equal(ax_lines_init(r, *fd_out, max), AX_OK);
	struct ax_line line;
	assert_int_equal(ax_lines_next(r, &line), AX_OK);
	return line;
}

/* lines.c, emit + deadletter.c, ax_deadletter_write_line.
 * For a CRLF line, full_len counts the CR and len does
 * not; the dead-letter writer takes full_len as the record's length and
 * marks every record whose kept bytes are fewer as truncated. So each bad
 * record of a CRLF file is dead-lettered with "truncated": true although
 * all of it is there. Seen end to end:
 * printf '{bad\r\n' | annexa map --dead-letter F  →  "length":5,"truncated":true,"raw":"{bad" */
static void test_crlf_dead_letter_not_truncated(void **state)
{
	(void)state;
	int fd;
	struct ax_line_reader r;
	char *dir;
	struct ax_line line = read_one("{bad\r\n", 1024, &fd, &r, &dir);
	char *path = malloc(strlen(dir) + 8);
	assert_non_null(path);
	sprintf(path, "%s/dl", dir);
	struct ax_deadletter dl;
	assert_int_equal(ax_deadletter_open(&dl, path), AX_OK);
	unit_quiet_logs();
	assert_int_equal(ax_deadletter_write_line(&dl, "s", &line, "invalid JSON"), AX_OK);
	ax_deadletter_close(&dl);
	char *text = unit_read_file(path, NULL);
	yajl_val v = yajl_tree_parse(text, NULL, 0);
	assert_non_null(v);
	const char *p[] = { "truncated", NULL };
	bool truncated = yajl_tree_get(v, p, yajl_t_true) != NULL;
	yajl_tree_free(v);
	free(path);
	ax_lines_finish(&r);
	close(fd);
	unit_tmpdir_remove(dir);
	if (truncated) {
		print_error("a whole CRLF record is marked truncated: %s", text);
		free(text);
		fail();
	}
	free(text);
}

/* lines.c, ax_lines_next. The size cap is
 * compared with the line's length including a trailing CR: a CRLF record of
 * exactly max_record_size bytes is oversized (dead-lettered, truncated)
 * while the same record with LF passes. */
static void test_crlf_line_at_max(void **state)
{
	(void)state;
	int fd;
	struct ax_line_reader r;
	char *dir;
	struct ax_line line = read_one("1234\r\n", 4, &fd, &r, &dir);
	ax_lines_finish(&r);
	close(fd);
	unit_tmpdir_remove(dir);
	if (line.oversized || line.len != 4)
		fail_msg("4-byte record with CRLF and max 4: oversized %d, len %zu", line.oversized, line.len);
}

/* lines.c, ax_line_is_blank. strchr(" \t\r", c)
 * finds the terminating NUL when c is 0, so a line of NUL bytes (the
 * zero-filled tail a crash leaves in a log file) counts as blank and is
 * skipped silently instead of being dead-lettered. */
static void test_nul_line_not_blank(void **state)
{
	(void)state;
	struct ax_line line = { .data = "\0\0\0", .len = 3 };
	if (ax_line_is_blank(&line))
		fail_msg("a line of three NUL bytes is blank");
}

/* batch.c, ax_batch_builder_add. Until a record
 * with controls was added, b->controls is NULL, and a record without any
 * calls memcpy(NULL + 0, r->controls, 0): undefined behaviour, which
 * UBSan reports ("null pointer passed as argument 1"). ax_batch_builder_seal
 * then computes NULL + 0 for the record's controls. Records from the
 * processor always have a control, so this needs a caller that builds its
 * own (a test, a future source of pre-mapped records). Only UBSan sees
 * this test fail. */
static void test_batch_record_without_controls(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 4096);
	struct ax_record r = { .json = "{}", .len = 2, .id = "", .creation_time = "", .workload = "",
			       .operation = "", .user = "", .client_ip = "", .category = "other", .source = "s",
			       .content_type = "c", .tenant = "", .controls = NULL, .ncontrols = 0 };
	assert_int_equal(ax_batch_builder_add(&b, &r), AX_OK);
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 1);
	assert_int_equal(batch.records[0].ncontrols, 0);
	ax_batch_builder_finish(&b);
}

/* `test_known_bugs NAME` runs only the tests matching NAME (a glob), e.g.
 * test_known_bugs '*leaks*' under ASan shows only that leak. */
int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_trailing_number),
		cmocka_unit_test(test_json_top_level_number),
		cmocka_unit_test(test_json_invalid_utf8_accepted),
		cmocka_unit_test(test_config_indented_header),
		cmocka_unit_test(test_rules_bad_condition_leaks),
		cmocka_unit_test(test_mapper_cache_key_collision),
		cmocka_unit_test(test_crlf_dead_letter_not_truncated),
		cmocka_unit_test(test_crlf_line_at_max),
		cmocka_unit_test(test_nul_line_not_blank),
		cmocka_unit_test(test_batch_record_without_controls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_file_output.c - the file output, driven only through the module
 * interface of outputs/output.h: find, options, create, send, flush,
 * destroy, and the counters the wrappers keep. */
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "outputs/output.h"

struct fixture {
	char *dir;
	char *path;
	const struct ax_output_ops *ops;
	void *conf;
	struct ax_output *out;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_option(struct fixture *f, const char *key, const char *value)
{
	const struct ax_option *o = ax_option_find(f->ops->conf.tables, key);
	assert_non_null(o);
	char why[256];
	if (ax_option_set(o, f->conf, key, value, why, sizeof(why)))
		fail_msg("%s = %s: %s", key, value, why);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	size_t n = strlen(f->dir) + 32;
	f->path = malloc(n);
	assert_non_null(f->path);
	snprintf(f->path, n, "%s/out.jsonl", f->dir);
	f->ops = ax_output_find("file");
	assert_non_null(f->ops);
	f->conf = calloc(1, f->ops->conf.conf_size);
	assert_non_null(f->conf);
	assert_int_equal(ax_options_defaults(f->ops->conf.tables, f->conf), AX_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_output_destroy(f->out);
	ax_options_free(f->ops->conf.tables, f->conf);
	free(f->conf);
	free(f->path);
	unit_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void create(struct fixture *f)
{
	set_option(f, "path", f->path);
	ax_err err = AX_ERR_LAST;
	f->out = ax_output_create(f->ops, "debug", f->conf, &err);
	assert_non_null(f->out);
	assert_int_equal(err, AX_OK);
}

/* count records {"n":FIRST}..., each len bytes of a longer buffer */
static void send(struct fixture *f, int first, size_t count, enum ax_output_status want)
{
	struct ax_record *recs = calloc(count ? count : 1, sizeof(*recs));
	char (*json)[64] = calloc(count ? count : 1, sizeof(*json));
	assert_non_null(recs);
	assert_non_null(json);
	for (size_t i = 0; i < count; i++) {
		int n = snprintf(json[i], sizeof(json[i]), "{\"n\":%d}GARBAGE", first + (int)i);
		recs[i].json = json[i];
		recs[i].len = (size_t)n - 7; /* not NUL-terminated at len */
		recs[i].id = recs[i].workload = recs[i].operation = "";
	}
	struct ax_batch batch = { recs, count };
	struct ax_output_result result = { .rejected = NULL };
	ax_output_send(f->out, &batch, &result);
	if (result.status != want)
		fail_msg("send: status %d (%s), want %d", result.status, result.message, want);
	free(json);
	free(recs);
}

static void expect_file(struct fixture *f, const char *want)
{
	char *got = unit_read_file(f->path, NULL);
	assert_string_equal(got, want);
	free(got);
}

static void test_module(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->ops->abi_version, AX_OUTPUT_ABI_VERSION);
	assert_string_equal(f->ops->conf.name, "file");
	assert_ptr_equal(ax_output_kind_find("file"), &f->ops->conf);
	assert_null(ax_output_find("File"));
	assert_null(ax_output_find("nope"));
	assert_non_null(f->ops->create);
	assert_non_null(f->ops->send);
	assert_non_null(f->ops->destroy);
	/* its options: the common match.* keys, then path, "-" by default */
	char keys[512];
	ax_option_list_keys(f->ops->conf.tables, keys, sizeof(keys));
	assert_string_equal(keys, "match.min_severity, match.categories, match.controls, match.workloads, path");
	const struct ax_option *path = ax_option_find(f->ops->conf.tables, "path");
	assert_string_equal(*(char **)((char *)f->conf + path->offset), "-");
	char names[256];
	ax_output_kind_names(names, sizeof(names));
	assert_memory_equal(names, "file, ", 6);
	ax_output_destroy(NULL); /* NULL-safe */
}

static void test_writes_lines(void **state)
{
	struct fixture *f = *state;
	create(f);
	assert_string_equal(f->out->name, "debug");
	assert_ptr_equal(f->out->ops, f->ops);
	assert_int_equal(f->out->stats.sent, 0);
	int64_t before = now_ms();
	send(f, 1, 3, AX_OUT_OK);
	/* the batch is on disk when send returns: no flush needed */
	expect_file(f, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
	assert_int_equal(f->out->stats.sent, 3);
	assert_int_equal(f->out->stats.state, AX_OUTPUT_UP);
	assert_true(f->out->stats.last_success_ms >= before && f->out->stats.last_success_ms <= now_ms());
	send(f, 4, 0, AX_OUT_OK); /* an empty batch */
	send(f, 4, 2, AX_OUT_OK);
	expect_file(f, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n");
	assert_int_equal(f->out->stats.sent, 5);
	assert_int_equal(ax_output_flush(f->out, 1000), AX_OK);
}

/* An existing file is appended to. */
static void test_appends(void **state)
{
	struct fixture *f = *state;
	free(unit_write_file(f->dir, "out.jsonl", "{\"old\":true}\n", SIZE_MAX));
	create(f);
	send(f, 7, 1, AX_OUT_OK);
	ax_output_destroy(f->out);
	f->out = NULL;
	create(f);
	send(f, 8, 1, AX_OUT_OK);
	expect_file(f, "{\"old\":true}\n{\"n\":7}\n{\"n\":8}\n");
}

/* A line cut short at the end (the agent killed while writing) is removed
 * when the file is opened again, the lines before it kept, with or
 * without any; a file that ends in a newline is left as it is. */
static void test_torn_line(void **state)
{
	struct fixture *f = *state;
	char big[10000];
	memset(big, 'x', sizeof(big) - 1); /* longer than the search's chunks */
	big[sizeof(big) - 1] = '\0';
	const char *before[] = { "{\"old\":1}\n{\"old\":2}\n{\"n\":", "{\"n\":3,\"torn", big };
	const char *kept[] = { "{\"old\":1}\n{\"old\":2}\n", "", "" };
	for (size_t i = 0; i < 3; i++) {
		free(unit_write_file(f->dir, "out.jsonl", before[i], SIZE_MAX));
		create(f);
		send(f, 9, 1, AX_OUT_OK);
		char want[256];
		snprintf(want, sizeof(want), "%s{\"n\":9}\n", kept[i]);
		expect_file(f, want);
		ax_output_destroy(f->out);
		f->out = NULL;
	}
	create(f); /* whole lines: nothing cut */
	expect_file(f, "{\"n\":9}\n");
}

/* A large batch goes through the stdio buffer in several writes. */
static void test_large_batch(void **state)
{
	struct fixture *f = *state;
	create(f);
	send(f, 0, 20000, AX_OUT_OK);
	size_t len;
	char *got = unit_read_file(f->path, &len);
	size_t n = 0;
	char want[32];
	for (char *p = got; *p; n++) {
		int w = snprintf(want, sizeof(want), "{\"n\":%zu}\n", n);
		if (strncmp(p, want, (size_t)w) != 0)
			fail_msg("line %zu: '%.20s'", n, p);
		p += w;
	}
	assert_int_equal(n, 20000);
	free(got);
}

static void test_create_error(void **state)
{
	struct fixture *f = *state;
	char bad[4200];
	snprintf(bad, sizeof(bad), "%s/missing/dir/out.jsonl", f->dir);
	set_option(f, "path", bad);
	ax_err err = AX_OK;
	unit_quiet_logs();
	assert_null(ax_output_create(f->ops, "debug", f->conf, &err));
	assert_int_equal(err, AX_ERR_IO);
}

/* A full disk: retry later, counted, and the reason kept for health. */
static void test_write_error(void **state)
{
	struct fixture *f = *state;
	set_option(f, "path", "/dev/full");
	ax_err err;
	f->out = ax_output_create(f->ops, "full", f->conf, &err);
	assert_non_null(f->out);
	unit_quiet_logs();
	send(f, 0, 3, AX_OUT_RETRY);
	assert_int_equal(f->out->stats.sent, 0);
	assert_int_equal(f->out->stats.retried, 3);
	assert_int_equal(f->out->stats.state, AX_OUTPUT_DEGRADED);
	assert_contains(f->out->stats.last_error, "write failed: No space left on device");
	assert_int_equal(f->out->stats.last_success_ms, 0);
	/* and the next attempt fails the same way, not worse */
	send(f, 0, 1, AX_OUT_RETRY);
	assert_int_equal(f->out->stats.retried, 4);
}

/* A disk that fills in the middle of a batch (a file size limit stands in):
 * the batch is cut off again, and its retry writes each record once, whole. */
static void test_partial_batch_cut(void **state)
{
	struct fixture *f = *state;
	create(f);
	send(f, 0, 2, AX_OUT_OK); /* 16 bytes */
	struct rlimit was, low;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	low = was;
	low.rlim_cur = 40;
	void (*xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	unit_quiet_logs();
	send(f, 2, 10, AX_OUT_RETRY); /* 80 bytes: 24 fit */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	signal(SIGXFSZ, xfsz);
	assert_contains(f->out->stats.last_error, "File too large");
	expect_file(f, "{\"n\":0}\n{\"n\":1}\n");
	send(f, 2, 10, AX_OUT_OK);
	expect_file(f, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n{\"n\":6}\n"
		       "{\"n\":7}\n{\"n\":8}\n{\"n\":9}\n{\"n\":10}\n{\"n\":11}\n");
}

/* The wrapper hands the module a clean result, flags included. */
static void test_result_reset(void **state)
{
	struct fixture *f = *state;
	create(f);
	struct ax_record rec = { .json = "{}", .len = 2, .id = "", .workload = "", .operation = "" };
	struct ax_batch batch = { &rec, 1 };
	uint8_t flags[1] = { 1 };
	struct ax_output_result result = { .status = AX_OUT_FATAL, .retry_after_ms = 99, .rejected = flags };
	strcpy(result.message, "stale");
	ax_output_send(f->out, &batch, &result);
	assert_int_equal(result.status, AX_OUT_OK);
	assert_int_equal(result.retry_after_ms, -1);
	assert_ptr_equal(result.rejected, flags);
	assert_int_equal(flags[0], 0);
	assert_string_equal(result.message, "");
	expect_file(f, "{}\n");
}

/* From a config file to written records. */
static void test_from_config(void **state)
{
	struct fixture *f = *state;
	char text[4400];
	snprintf(text, sizeof(text), "[output \"debug\"]\ntype = file\npath = %s\nmatch.min_severity = high\n", f->path);
	char *conf = unit_write_file(f->dir, "annexa.conf", text, SIZE_MAX);
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(conf, &diag);
	unit_diag_dump(&diag);
	assert_non_null(cfg);
	const struct ax_section_conf *s = &cfg->outputs[0];
	assert_ptr_equal(s->kind, &f->ops->conf);
	assert_int_equal(((const struct ax_output_common_conf *)s->conf)->min_severity, AX_SEV_HIGH);
	ax_err err;
	struct ax_output *out = ax_output_create(ax_output_find(s->kind->name), s->name, s->conf, &err);
	assert_non_null(out);
	assert_string_equal(out->name, "debug");
	struct ax_record rec = { .json = "{\"from\":\"config\"}", .len = 17, .id = "", .workload = "", .operation = "" };
	struct ax_batch batch = { &rec, 1 };
	struct ax_output_result result = { .rejected = NULL };
	ax_output_send(out, &batch, &result);
	assert_int_equal(result.status, AX_OUT_OK);
	ax_output_destroy(out);
	expect_file(f, "{\"from\":\"config\"}\n");
	ax_config_destroy(cfg);
	ax_diag_finish(&diag);
	free(conf);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_module),
		T(test_writes_lines),
		T(test_appends),
		T(test_torn_line),
		T(test_large_batch),
		T(test_create_error),
		T(test_write_error),
		T(test_partial_batch_cut),
		T(test_result_reset),
		T(test_from_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

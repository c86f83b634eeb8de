/* test_file_checkpoint.c - type = file resumes where the last run's
 * delivery ended: the checkpoint file (round trip, device and inode as
 * unsigned 64-bit numbers, damaged files refused), its name (escaped
 * absolute path, hashed when too long), the resume decision (same file,
 * rotated, truncated, written again), and the running source: the checkpoint moves over
 * delivered units in push order only, stops at a unit not delivered, and a
 * new run starts at it; a rotated or truncated file starts over; stdin and
 * checkpoint = false keep none. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "unit.h"

#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "queue.h"
#include "sources/file_source.h"

#define LINES 3000 /* three units: 1024, 1024, 952 */
#define UNIT_LINES 1024

struct fixture {
	char *dir;
	char *input;
	struct ax_agent_conf agent;
	struct ax_file_source_conf conf;
	struct ax_queue queue;
	atomic_int stop;
	struct ax_source_env env;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Line n (1-based) of the input: its length varies, so offsets are not a multiple of anything. */
static int input_line(char *out, size_t len, unsigned n)
{
	return snprintf(out, len, "{\"Id\":\"rec-%u\",\"Pad\":\"%.*s\"}\n", n, (int)(n % 17), "xxxxxxxxxxxxxxxxx");
}

/* Byte offset just past line n. */
static uint64_t offset_after(unsigned n)
{
	char line[128];
	uint64_t off = 0;
	for (unsigned i = 1; i <= n; i++)
		off += (uint64_t)input_line(line, sizeof(line), i);
	return off;
}

static char *write_input(const char *dir, const char *name, unsigned lines)
{
	size_t cap = (size_t)lines * 64 + 1, used = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	text[0] = '\0';
	for (unsigned i = 1; i <= lines; i++)
		used += (size_t)input_line(text + used, cap - used, i);
	char *path = unit_write_file(dir, name, text, used);
	free(text);
	return path;
}

static int setup(void **state)
{
	unit_quiet_logs();
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	f->input = write_input(f->dir, "in.jsonl", LINES);
	size_t n = strlen(f->dir) + sizeof("/state");
	f->agent.state_dir = malloc(n);
	assert_non_null(f->agent.state_dir);
	snprintf(f->agent.state_dir, n, "%s/state", f->dir);
	f->agent.max_record_size = 1 << 20;
	f->conf = (struct ax_file_source_conf){ .path = f->input, .follow = false, .checkpoint = true };
	ax_queue_init(&f->queue, 64u << 20);
	f->env = (struct ax_source_env){ .agent = &f->agent, .queue = &f->queue, .stop = &f->stop };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_queue_finish(&f->queue);
	nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
	free(f->input);
	free(f->agent.state_dir);
	free(f);
	return 0;
}

static char *checkpoint_of(const struct fixture *f, const char *file)
{
	ax_err err;
	char *dir = ax_file_checkpoint_dir(f->agent.state_dir, "replay", &err);
	assert_non_null(dir);
	char *path = ax_file_checkpoint_path(dir, file);
	assert_non_null(path);
	free(dir);
	return path;
}

/* The checkpoint of the fixture's input; *found false when there is none. */
static struct ax_file_position saved(const struct fixture *f, bool *found)
{
	char *path = checkpoint_of(f, f->input);
	struct ax_file_position pos = { 0 };
	assert_int_equal(ax_file_checkpoint_load(path, &pos, found), AX_OK);
	free(path);
	return pos;
}

/* ---- the checkpoint file and its name ---- */

static void test_round_trip_keeps_64_bit_numbers(void **state)
{
	struct fixture *f = *state;
	char *path = checkpoint_of(f, f->input);
	struct ax_file_position pos = { .device = UINT64_MAX - 3, .inode = (1ULL << 63) + 5, .offset = 1234567,
					.line = 89, .tail = UINT64_MAX - 77 }, got = { 0 };
	bool found = true;
	assert_int_equal(ax_file_checkpoint_load(path, &got, &found), AX_OK);
	assert_false(found);
	assert_int_equal(ax_file_checkpoint_save(path, &pos), AX_OK);
	assert_int_equal(ax_file_checkpoint_load(path, &got, &found), AX_OK);
	assert_true(found);
	assert_memory_equal(&got, &pos, sizeof(pos));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* damaged: refused whole, the caller's position untouched */
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fputs("annexa-checkpoint 1\ndevice 1\ninode 2\noffset 3\n", out); /* no "end" */
	fclose(out);
	got.offset = 77;
	assert_int_equal(ax_file_checkpoint_load(path, &got, &found), AX_ERR_JSON);
	assert_int_equal(got.offset, 77);
	free(path);
}

static void test_names_escape_the_absolute_path(void **state)
{
	struct fixture *f = *state;
	ax_err err;
	char *dir = ax_file_checkpoint_dir(f->agent.state_dir, "replay", &err);
	assert_non_null(dir);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_contains(dir, "/state/sources/replay/files");
	char *a = ax_file_checkpoint_path(dir, "/var/log/m365/a.jsonl");
	assert_string_equal(strrchr(a, '/') + 1, "%2Fvar%2Flog%2Fm365%2Fa.jsonl.checkpoint");
	/* a relative path is named by where it is, not by how it was spelled */
	char cwd[PATH_MAX], rel_abs[PATH_MAX + 16];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(rel_abs, sizeof(rel_abs), "%s/b.jsonl", cwd);
	char *rel = ax_file_checkpoint_path(dir, "b.jsonl");
	char *abs = ax_file_checkpoint_path(dir, rel_abs);
	assert_string_equal(rel, abs);
	/* too long for a file name: a hash, one per path */
	char long1[400], long2[400];
	memset(long1, 'd', sizeof(long1));
	long1[0] = '/';
	long1[sizeof(long1) - 1] = '\0';
	memcpy(long2, long1, sizeof(long1));
	long2[200] = 'e';
	char *h1 = ax_file_checkpoint_path(dir, long1), *h2 = ax_file_checkpoint_path(dir, long2);
	assert_true(strlen(strrchr(h1, '/') + 1) <= NAME_MAX);
	assert_contains(h1, "/path-");
	assert_string_not_equal(h1, h2);
	free(h1);
	free(h2);
	free(a);
	free(rel);
	free(abs);
	free(dir);
}

static void test_resume_decision(void **state)
{
	(void)state;
	struct ax_file_position cp = { .device = 8, .inode = 42, .offset = 1000, .line = 10, .tail = 777 };
	assert_int_equal(ax_file_resume_decide(&cp, false, 8, 42, 5000, 777), AX_FILE_RESUME_NONE);
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 5000, 777), AX_FILE_RESUME_AT);
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 1000, 777), AX_FILE_RESUME_AT); /* read to its end */
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 43, 5000, 777), AX_FILE_RESUME_REPLACED);
	assert_int_equal(ax_file_resume_decide(&cp, true, 9, 42, 5000, 777), AX_FILE_RESUME_REPLACED);
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 999, 777), AX_FILE_RESUME_TRUNCATED);
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 0, 0), AX_FILE_RESUME_TRUNCATED);
	/* same inode, long enough, other bytes before the offset: written again */
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 5000, 778), AX_FILE_RESUME_REWRITTEN);
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 5000, 0), AX_FILE_RESUME_REWRITTEN);
	cp.tail = 0; /* a checkpoint from before the fingerprint: trusted as it is */
	assert_int_equal(ax_file_resume_decide(&cp, true, 8, 42, 5000, 778), AX_FILE_RESUME_AT);
	assert_int_not_equal(ax_file_tail_hash("", 0), 0);
}

/* ---- the running source ---- */

struct run {
	struct fixture *f;
	struct ax_source *src;
	pthread_t thread;
	bool finished;
	struct ax_unit *units[8];
	size_t count;
};

static void *run_thread(void *arg)
{
	struct run *r = arg;
	r->finished = r->src->ops->run(r->src);
	return NULL;
}

/* Starts a replay of the fixture's input and takes its units (at most 4 in
 * flight: a 3000-line file fits) without being done with any. */
static void start(struct run *r, struct fixture *f, size_t units)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	ax_err err;
	r->src = ax_source_file_ops.create("replay", &f->conf, &f->env, &err);
	assert_non_null(r->src);
	assert_int_equal(pthread_create(&r->thread, NULL, run_thread, r), 0);
	while (r->count < units) {
		struct ax_unit *u = ax_queue_pop(&f->queue, 10000);
		assert_non_null(u);
		r->units[r->count++] = u;
	}
}

/* The pipeline is done with the units taken, in order: unit i delivered
 * when how[i] is '+', not ('-', the agent stopping) otherwise. */
static void settle(struct run *r, const char *how)
{
	assert_int_equal(strlen(how), r->count);
	for (size_t i = 0; i < r->count; i++)
		r->units[i]->done(r->units[i], how[i] == '+');
}

static void done_all(struct run *r)
{
	for (size_t i = 0; i < r->count; i++)
		r->units[i]->done(r->units[i], true);
}

/* Joins the source (its replay read everything) and destroys it: every unit must be done. */
static void finish(struct run *r)
{
	assert_int_equal(pthread_join(r->thread, NULL), 0);
	assert_true(r->finished);
	assert_null(ax_queue_pop(&r->f->queue, 0));
	r->src->ops->destroy(r->src);
}

static void test_all_delivered_in_order(void **state)
{
	struct fixture *f = *state;
	struct run r;
	start(&r, f, 3);
	assert_int_equal(r.units[0]->count, UNIT_LINES);
	assert_int_equal(r.units[0]->records[0].line, 1);
	assert_int_equal(r.units[2]->count, LINES - 2 * UNIT_LINES);
	done_all(&r);
	finish(&r);
	bool found;
	struct ax_file_position pos = saved(f, &found);
	struct stat st;
	assert_int_equal(stat(f->input, &st), 0);
	assert_true(found);
	assert_int_equal(pos.offset, (uint64_t)st.st_size);
	assert_int_equal(pos.line, LINES);
	assert_int_equal(pos.inode, (uint64_t)st.st_ino);
	assert_int_equal(pos.device, (uint64_t)st.st_dev);
	/* a second replay finds nothing new */
	start(&r, f, 0);
	finish(&r);
}

static void test_out_of_order_waits_for_the_oldest(void **state)
{
	struct fixture *f = *state;
	struct run r;
	start(&r, f, 3);
	r.units[1]->done(r.units[1], true);
	r.units[2]->done(r.units[2], true);
	assert_int_equal(pthread_join(r.thread, NULL), 0); /* the replay read all: it saves nothing more itself */
	bool found;
	saved(f, &found);
	assert_false(found); /* the first unit is still out: nothing may move */
	r.units[0]->done(r.units[0], true);
	r.src->ops->destroy(r.src);
	struct ax_file_position pos = saved(f, &found);
	assert_true(found);
	assert_int_equal(pos.line, LINES);
	assert_int_equal(pos.offset, offset_after(LINES));
}

static void test_stops_at_a_unit_not_delivered_and_resumes_there(void **state)
{
	struct fixture *f = *state;
	struct run r;
	start(&r, f, 3);
	settle(&r, "+-+"); /* the second was not safe when the agent stopped; the third, after a gap, must not count */
	finish(&r);
	bool found;
	struct ax_file_position pos = saved(f, &found);
	assert_true(found);
	assert_int_equal(pos.line, UNIT_LINES);
	assert_int_equal(pos.offset, offset_after(UNIT_LINES));
	/* the next run starts with the first record not delivered */
	start(&r, f, 2);
	assert_int_equal(r.units[0]->records[0].line, UNIT_LINES + 1);
	assert_int_equal(r.units[0]->records[0].offset, offset_after(UNIT_LINES));
	char first[128];
	int n = input_line(first, sizeof(first), UNIT_LINES + 1);
	assert_int_equal(r.units[0]->records[0].len, (size_t)n - 1);
	assert_memory_equal(ax_unit_data(r.units[0], 0), first, (size_t)n - 1);
	assert_int_equal(r.units[0]->count + r.units[1]->count, LINES - UNIT_LINES);
	done_all(&r);
	finish(&r);
	pos = saved(f, &found);
	assert_int_equal(pos.line, LINES);
}

static void test_first_unit_not_delivered_keeps_none(void **state)
{
	struct fixture *f = *state;
	struct run r;
	start(&r, f, 3);
	settle(&r, "-++");
	finish(&r);
	bool found;
	saved(f, &found);
	assert_false(found);
}

/* Delivers the first unit of a run and abandons the rest (a stop). */
static void deliver_first_unit(struct fixture *f)
{
	struct run r;
	start(&r, f, 3);
	settle(&r, "+--");
	finish(&r);
}

static void test_rotated_file_starts_over(void **state)
{
	struct fixture *f = *state;
	deliver_first_unit(f);
	/* logrotate: the file is moved away and a new one takes its name */
	char *moved = write_input(f->dir, "in.jsonl.new", LINES);
	assert_int_equal(rename(moved, f->input), 0);
	free(moved);
	struct run r;
	start(&r, f, 3);
	assert_int_equal(r.units[0]->records[0].line, 1);
	assert_int_equal(r.units[0]->records[0].offset, 0);
	done_all(&r);
	finish(&r);
	bool found;
	struct ax_file_position pos = saved(f, &found);
	struct stat st;
	assert_int_equal(stat(f->input, &st), 0);
	assert_int_equal(pos.inode, (uint64_t)st.st_ino);
	assert_int_equal(pos.line, LINES);
}

static void test_truncated_file_starts_over(void **state)
{
	struct fixture *f = *state;
	deliver_first_unit(f);
	assert_int_equal(truncate(f->input, (off_t)offset_after(10)), 0); /* shorter than the checkpoint */
	struct run r;
	start(&r, f, 1);
	assert_int_equal(r.units[0]->count, 10);
	assert_int_equal(r.units[0]->records[0].line, 1);
	r.units[0]->done(r.units[0], true);
	finish(&r);
	bool found;
	struct ax_file_position pos = saved(f, &found);
	assert_int_equal(pos.offset, offset_after(10));
}

/* logrotate's copytruncate while the agent was down: the same inode,
 * emptied and written again past the old offset. */
static void test_rewritten_file_starts_over(void **state)
{
	struct fixture *f = *state;
	deliver_first_unit(f);
	bool found;
	struct ax_file_position before = saved(f, &found);
	assert_true(found);
	assert_int_not_equal(before.tail, 0);
	FILE *out = fopen(f->input, "r+");
	assert_non_null(out);
	assert_int_equal(ftruncate(fileno(out), 0), 0);
	for (unsigned i = 1; i <= LINES; i++)
		fprintf(out, "{\"Id\":\"new-%u\"}\n", i);
	fclose(out);
	struct stat st;
	assert_int_equal(stat(f->input, &st), 0);
	assert_true((uint64_t)st.st_size > before.offset);
	assert_int_equal(st.st_ino, (ino_t)before.inode);
	struct run r;
	start(&r, f, 3);
	assert_int_equal(r.units[0]->records[0].line, 1);
	assert_memory_equal(ax_unit_data(r.units[0], 0), "{\"Id\":\"new-1\"}", 14);
	done_all(&r);
	finish(&r);
}

static void test_grown_file_resumes_at_its_checkpoint(void **state)
{
	struct fixture *f = *state;
	deliver_first_unit(f);
	FILE *out = fopen(f->input, "a");
	assert_non_null(out);
	fputs("{\"Id\":\"appended\"}\n", out);
	fclose(out);
	struct run r;
	start(&r, f, 2);
	assert_int_equal(r.units[0]->records[0].line, UNIT_LINES + 1);
	assert_int_equal(r.units[0]->count + r.units[1]->count, LINES - UNIT_LINES + 1);
	done_all(&r);
	finish(&r);
}

static void test_checkpoint_false_keeps_none(void **state)
{
	struct fixture *f = *state;
	f->conf.checkpoint = false;
	for (int pass = 0; pass < 2; pass++) {
		struct run r;
		start(&r, f, 3);
		assert_int_equal(r.units[0]->records[0].line, 1); /* every run from the start */
		for (size_t i = 0; i < r.count; i++)
			r.units[i]->done(r.units[i], true);
		finish(&r);
	}
	struct stat st;
	assert_int_equal(stat(f->agent.state_dir, &st), -1); /* not even made */
}

/* A glob: each file has its own checkpoint; a unit never spans two files. */
static void test_glob_keeps_one_checkpoint_per_file(void **state)
{
	struct fixture *f = *state;
	char *second = write_input(f->dir, "in2.jsonl", 100);
	size_t n = strlen(f->dir) + sizeof("/in*.jsonl");
	char *pattern = malloc(n);
	assert_non_null(pattern);
	snprintf(pattern, n, "%s/in*.jsonl", f->dir);
	f->conf.path = pattern;
	struct run r;
	start(&r, f, 4); /* 1024, 1024, 952 of in.jsonl, then 100 of in2.jsonl */
	assert_int_equal(r.units[2]->count, LINES - 2 * UNIT_LINES);
	assert_int_equal(r.units[3]->count, 100);
	settle(&r, "+++-");
	finish(&r);
	bool found;
	struct ax_file_position pos = saved(f, &found);
	assert_true(found);
	assert_int_equal(pos.line, LINES);
	char *cp2 = checkpoint_of(f, second);
	assert_int_equal(ax_file_checkpoint_load(cp2, &pos, &found), AX_OK);
	assert_false(found);
	/* the next run: nothing of in.jsonl, all of in2.jsonl */
	start(&r, f, 1);
	assert_int_equal(r.units[0]->count, 100);
	assert_int_equal(r.units[0]->records[0].line, 1);
	r.units[0]->done(r.units[0], true);
	finish(&r);
	assert_int_equal(ax_file_checkpoint_load(cp2, &pos, &found), AX_OK);
	assert_true(found);
	assert_int_equal(pos.line, 100);
	free(cp2);
	free(pattern);
	free(second);
}

static void test_state_dir_not_writable_fails_at_start(void **state)
{
	struct fixture *f = *state;
	char *blocker = unit_write_file(f->dir, "not-a-dir", "", 0);
	free(f->agent.state_dir);
	f->agent.state_dir = blocker; /* a file where the directory should be */
	ax_err err = AX_OK;
	struct ax_source *src = ax_source_file_ops.create("replay", &f->conf, &f->env, &err);
	assert_null(src);
	assert_int_not_equal(err, AX_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_keeps_64_bit_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_escape_the_absolute_path, setup, teardown),
		cmocka_unit_test(test_resume_decision),
		cmocka_unit_test_setup_teardown(test_all_delivered_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_waits_for_the_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stops_at_a_unit_not_delivered_and_resumes_there, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_unit_not_delivered_keeps_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotated_file_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_file_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_file_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grown_file_resumes_at_its_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_false_keeps_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_keeps_one_checkpoint_per_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_not_writable_fails_at_start, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

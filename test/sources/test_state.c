#define _GNU_SOURCE /* memmem */
/* test_state.c - what a source keeps in state_dir: the checkpoint (written
 * atomically; a torn temp file is never read; a damaged file is refused
 * whole; two copies overwritten in turn, a torn one leaves the other; a
 * version 1 file reads and is converted), escaped paths, and the seen-id journal (survives a restart, a
 * torn last key is cut, a foreign file is set aside, it is compacted). */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sources/checkpoint.h"
#include "sources/seen.h"
#include "sources/statefile.h"

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				char sub[4096];
				snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
				remove_tree(sub);
			}
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int setup(void **state)
{
	*state = unit_tmpdir();
	unit_quiet_logs();
	return 0;
}

static int teardown(void **state)
{
	char *dir = *state;
	remove_tree(dir);
	free(dir);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	assert_non_null(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static void test_checkpoint_round_trip(void **state)
{
	char *path = path_in(*state, "cp");
	struct ax_checkpoint cp = { .cursor = 1772409600, .subscribed_at = 1772400000 }, got = { 0 };
	bool found = true;
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_false(found); /* none yet: a first run */
	assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_true(found);
	assert_int_equal(got.cursor, cp.cursor);
	assert_int_equal(got.subscribed_at, cp.subscribed_at);
	cp.cursor = -5; /* Graph cursors are ticks: any int64 */
	assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_int_equal(got.cursor, -5);
	free(path);
}

static void test_checkpoint_torn_temp_file_is_ignored(void **state)
{
	char *path = path_in(*state, "cp");
	struct ax_checkpoint cp = { .cursor = 100 }, got;
	bool found;
	assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
	/* a crash mid-write leaves cp.tmp half-written: the checkpoint is still the old one */
	char *tmp = unit_write_file(*state, "cp.tmp", "annexa-checkpoint 1\ncursor 99", SIZE_MAX);
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_int_equal(got.cursor, 100);
	/* and the next save replaces the leftover */
	cp.cursor = 200;
	assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_int_equal(got.cursor, 200);
	assert_int_equal(access(tmp, F_OK), -1);
	free(tmp);
	free(path);
}

static void test_checkpoint_damaged_is_refused(void **state)
{
	const char *bodies[] = {
		"annexa-checkpoint 1\ncursor 100\nsubscribed_at 5\n",   /* no end: cut short */
		"annexa-checkpoint 1\ncursor 10",                      /* torn line */
		"annexa-checkpoint 1\ncursor ten\nend\n",              /* not a number */
		"annexa-checkpoint 1\ncursor 1 2\nend\n",
		"something else\ncursor 100\nend\n",
		"",
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bodies); i++) {
		char *path = unit_write_file(*state, "bad", bodies[i], SIZE_MAX);
		struct ax_checkpoint got = { .cursor = 7 };
		bool found;
		assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_ERR_JSON);
		assert_int_equal(got.cursor, 7); /* untouched: never half-read */
		free(path);
	}
	/* names a later version may add are skipped */
	char *path = unit_write_file(*state, "later", "annexa-checkpoint 1\ncursor 3\nfuture 9\nend\n", SIZE_MAX);
	struct ax_checkpoint got;
	bool found;
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_int_equal(got.cursor, 3);
	free(path);
}

#define SLOT 1024 /* checkpoint.c's */

/* The two-slot file's bytes (free them). */
static char *slots_of(const char *path)
{
	size_t len;
	char *text = unit_read_file(path, &len);
	assert_non_null(text);
	assert_int_equal(len, 2 * SLOT);
	return text;
}

static void overwrite(const char *path, const char *data, size_t len, long at)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
	close(fd);
}

static int64_t load_cursor(const char *path)
{
	struct ax_checkpoint got = { .cursor = -1 };
	bool found;
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_OK);
	assert_true(found);
	return got.cursor;
}

/* Saves go to the two slots in turn, the newest wins; a save torn in the
 * slot it was writing leaves the one before. */
static void test_checkpoint_two_slots(void **state)
{
	char *path = path_in(*state, "cp"), *before = NULL, *after = NULL;
	for (int64_t c = 1; c <= 5; c++) {
		struct ax_checkpoint cp = { .cursor = c * 100 };
		assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
		after = slots_of(path);
		assert_int_equal(load_cursor(path), c * 100);
		if (before) /* one slot written, the other as it was */
			assert_true((memcmp(before, after, SLOT) == 0) != (memcmp(before + SLOT, after + SLOT, SLOT) == 0));
		free(before);
		before = after;
	}
	/* tear the newest copy (cursor 500): the checkpoint is the one before */
	size_t newest = memmem(after, SLOT, "cursor 500\n", 11) ? 0 : SLOT;
	free(after);
	overwrite(path, "XX", 2, (long)(newest + 30));
	assert_int_equal(load_cursor(path), 400);
	/* the next save goes over the torn copy */
	struct ax_checkpoint cp = { .cursor = 600 };
	assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
	assert_int_equal(load_cursor(path), 600);
	overwrite(path, "XX", 2, 30);
	overwrite(path, "XX", 2, SLOT + 30);
	struct ax_checkpoint got;
	bool found;
	assert_int_equal(ax_checkpoint_load(path, &got, &found), AX_ERR_JSON); /* both torn */
	free(path);
}

/* The slot holding cursor, 0 or SLOT. */
static size_t slot_with(const char *slots, int64_t cursor)
{
	char line[32];
	snprintf(line, sizeof(line), "cursor %lld\n", (long long)cursor);
	return memmem(slots, SLOT, line, strlen(line)) ? 0 : SLOT;
}

/* Synced every 4th save: saves 4a to 4a + 3 go to one slot, the last of
 * them synced, so the slot holding the newest synced copy is left alone
 * until the next copy is synced; a save torn meanwhile (a power cut) leaves
 * that copy. */
static void test_checkpoint_sync_every(void **state)
{
	char *path = path_in(*state, "cp"), synced[SLOT];
	int64_t cursor = 0;
	struct ax_checkpoint_field fields[] = { { "cursor", &cursor }, { NULL, NULL } };
	size_t synced_at = SLOT + 1;
	for (int64_t gen = 1; gen <= 14; gen++) {
		cursor = gen * 100;
		assert_int_equal(ax_checkpoint_fields_save(path, fields, 4), AX_OK);
		char *slots = slots_of(path);
		assert_int_equal(load_cursor(path), cursor);
		if (synced_at <= SLOT && gen % 4 != 0) /* within a run: the synced copy is as it was */
			assert_memory_equal(slots + synced_at, synced, SLOT);
		if (gen % 4 == 3) { /* the last of a run: synced */
			synced_at = slot_with(slots, cursor);
			memcpy(synced, slots + synced_at, SLOT);
		}
		free(slots);
	}
	/* gen 14 is in the slot of gens 12-15, gen 11 synced in the other: tear 14 */
	overwrite(path, "XX", 2, (long)(SLOT - synced_at + 30));
	assert_int_equal(load_cursor(path), 1100);
	assert_int_equal(ax_checkpoint_fields_save(path, fields, 0), AX_ERR_USAGE);
	free(path);
}

/* A version 1 file (one copy) reads, and the next save makes it two
 * slots; each slot alone reads as a version 1 file (an earlier annexa). */
static void test_checkpoint_version_1(void **state)
{
	char *path = unit_write_file(*state, "cp", "annexa-checkpoint 1\ncursor 42\nsubscribed_at 7\nend\n", SIZE_MAX);
	assert_int_equal(load_cursor(path), 42);
	struct ax_checkpoint cp = { .cursor = 43, .subscribed_at = 8 };
	assert_int_equal(ax_checkpoint_save(path, &cp), AX_OK);
	assert_int_equal(load_cursor(path), 43);
	char *text = slots_of(path);
	char *one = unit_write_file(*state, "one", text, SLOT);
	free(text);
	struct ax_checkpoint got;
	bool found;
	assert_int_equal(ax_checkpoint_load(one, &got, &found), AX_OK);
	assert_int_equal(got.cursor, 43);
	assert_int_equal(got.subscribed_at, 8);
	free(one);
	free(path);
}

static void test_state_paths_are_escaped(void **state)
{
	ax_err err;
	char *dir = ax_state_dir(*state, "../evil/src", "..", &err);
	assert_non_null(dir);
	assert_int_equal(err, AX_OK);
	char *want = path_in(*state, "sources/%2E.%2Fevil%2Fsrc/%2E.");
	assert_string_equal(dir, want);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	char *file = ax_state_path(dir, "Audit.Exchange", "checkpoint");
	assert_non_null(file);
	assert_contains(file, "/Audit.Exchange.checkpoint");
	free(file);
	free(want);
	free(dir);
}

static struct ax_key key_n(unsigned n)
{
	char id[16];
	snprintf(id, sizeof(id), "id-%u", n);
	struct ax_key k;
	assert_true(ax_key_of(&k, id, strlen(id)));
	return k;
}

static struct ax_seen *open_seen(const char *path, size_t cap)
{
	ax_err err;
	struct ax_seen *s = ax_seen_open(path, cap, "test", &err);
	assert_non_null(s);
	assert_int_equal(err, AX_OK);
	return s;
}

static void test_seen_survives_restart(void **state)
{
	char *path = path_in(*state, "ids");
	struct ax_seen *s = open_seen(path, 1000);
	for (unsigned i = 0; i < 10; i++) {
		struct ax_key k = key_n(i);
		assert_true(ax_seen_claim(s, &k));
		if (i < 7)
			ax_seen_confirm(s, &k); /* 7..9 never came back delivered */
	}
	assert_int_equal(ax_seen_sync(s), AX_OK);
	ax_seen_close(s);
	s = open_seen(path, 1000);
	for (unsigned i = 0; i < 10; i++) {
		struct ax_key k = key_n(i);
		assert_int_equal(ax_seen_has(s, &k), i < 7);
	}
	ax_seen_close(s);
	free(path);
}

static void test_seen_torn_key_is_cut(void **state)
{
	char *path = path_in(*state, "ids");
	struct ax_seen *s = open_seen(path, 1000);
	struct ax_key a = key_n(1), b = key_n(2), c = key_n(3);
	ax_seen_claim(s, &a);
	ax_seen_confirm(s, &a);
	assert_int_equal(ax_seen_sync(s), AX_OK);
	ax_seen_close(s);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.b, 7), 7); /* a crash in the middle of a key */
	close(fd);
	s = open_seen(path, 1000);
	assert_true(ax_seen_has(s, &a));
	ax_seen_claim(s, &c);
	ax_seen_confirm(s, &c);
	assert_int_equal(ax_seen_sync(s), AX_OK);
	ax_seen_close(s);
	s = open_seen(path, 1000); /* the key after the torn one is read right */
	assert_true(ax_seen_has(s, &a));
	assert_true(ax_seen_has(s, &c));
	assert_false(ax_seen_has(s, &b));
	ax_seen_close(s);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 8 + 2 * 16);
	free(path);
}

static void test_seen_foreign_file_is_set_aside(void **state)
{
	char *path = unit_write_file(*state, "ids", "this is not a journal at all, but long enough", SIZE_MAX);
	struct ax_seen *s = open_seen(path, 10);
	assert_int_equal(ax_seen_count(s), 0);
	struct ax_key a = key_n(1);
	ax_seen_claim(s, &a);
	ax_seen_confirm(s, &a);
	assert_int_equal(ax_seen_sync(s), AX_OK);
	ax_seen_close(s);
	s = open_seen(path, 10);
	assert_true(ax_seen_has(s, &a));
	ax_seen_close(s);
	free(path);
}

static void test_seen_compacts(void **state)
{
	char *path = path_in(*state, "ids");
	const size_t cap = 100;
	struct ax_seen *s = open_seen(path, cap);
	for (unsigned i = 0; i < 1000; i++) {
		struct ax_key k = key_n(i);
		ax_seen_claim(s, &k);
		ax_seen_confirm(s, &k);
		if (i % 10 == 9)
			assert_int_equal(ax_seen_sync(s), AX_OK);
	}
	ax_seen_close(s);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true((size_t)st.st_size <= 8 + 2 * cap * 16 + 16 * 10); /* bounded on disk too */
	s = open_seen(path, cap);
	assert_int_equal(ax_seen_count(s), cap);
	for (unsigned i = 900; i < 1000; i++) {
		struct ax_key k = key_n(i);
		assert_true(ax_seen_has(s, &k)); /* the newest are kept */
	}
	ax_seen_close(s);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checkpoint_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_torn_temp_file_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_damaged_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_two_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_sync_every, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_paths_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_torn_key_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_foreign_file_is_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_compacts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

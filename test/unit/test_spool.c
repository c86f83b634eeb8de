/* test_spool.c - the spool: records come back as they went in, in order,
 * per output from its own committed position, across restarts; torn and
 * corrupt segments are repaired; full spools pause or drop the oldest. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

/* Linked with -Wl,--wrap=fdatasync: the spool's syncs come here, and fail
 * while fail_syncs says so (a disk that cannot write). */
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
static atomic_int fail_syncs;

int __wrap_fdatasync(int fd)
{
	if (atomic_load(&fail_syncs) > 0) {
		atomic_fetch_sub(&fail_syncs, 1);
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

static const char *const two_outputs[] = { "a", "b" };
static const char *const ctl[] = { "8.15", "5.17", "8.2" };

struct rec_text {
	char json[2048], id[32], ip[32];
};

/* Record i: its size varies so frames end at odd places. */
static struct ax_record make(struct rec_text *t, int i)
{
	int pad = (i * 37) % 1500;
	snprintf(t->id, sizeof(t->id), "id-%06d", i);
	snprintf(t->ip, sizeof(t->ip), "10.0.%d.%d", i / 256 % 256, i % 256);
	int n = snprintf(t->json, sizeof(t->json), "{\"Id\":\"%s\",\"pad\":\"%*s\"}", t->id, pad, "");
	return (struct ax_record){
		.json = t->json, .len = (size_t)n, .id = t->id, .creation_time = "2026-11-23T10:00:00",
		.workload = "Exchange", .operation = i % 2 ? "Send" : "", .user = NULL, .client_ip = t->ip,
		.category = "mail", .rule = "EX-001", .severity = (enum ax_severity)(i % 5),
		.controls = ctl, .ncontrols = (size_t)(i % 4), .source = "src", .content_type = "Audit.Exchange",
		.tenant = "t1",
	};
}

static void check(const struct ax_record *got, int i)
{
	struct rec_text t;
	struct ax_record want = make(&t, i);
	assert_non_null(got);
	assert_int_equal(got->len, want.len);
	assert_memory_equal(got->json, want.json, want.len);
	assert_string_equal(got->id, want.id);
	assert_string_equal(got->client_ip, want.client_ip);
	assert_string_equal(got->operation, want.operation);
	assert_string_equal(got->user, "");
	assert_string_equal(got->rule, "EX-001");
	assert_string_equal(got->tenant, "t1");
	assert_int_equal(got->severity, want.severity);
	assert_int_equal(got->ncontrols, want.ncontrols);
	for (size_t k = 0; k < want.ncontrols; k++)
		assert_string_equal(got->controls[k], ctl[k]);
}

struct fixture {
	char *tmp, dir[512];
	struct ax_spool_conf conf;
	struct ax_spool *sp;
	atomic_int stop;
};

static struct fixture *fixture(uint64_t max_size, int compress)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tmp = unit_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/spool", f->tmp);
	f->conf = (struct ax_spool_conf){ .dir = f->dir, .max_size = max_size, .fsync = true,
					  .compress_level = compress, .max_record = 1 << 20,
					  .outputs = two_outputs, .noutputs = 2 };
	return f;
}

static void open_spool(struct fixture *f)
{
	ax_err err = AX_OK;
	f->sp = ax_spool_open(&f->conf, &err);
	assert_int_equal(err, AX_OK);
	assert_non_null(f->sp);
}

static void close_spool(struct fixture *f)
{
	ax_spool_close(f->sp);
	f->sp = NULL;
}

static void done(struct fixture *f)
{
	if (f->sp)
		ax_spool_close(f->sp);
	unit_tmpdir_remove(f->tmp);
	free(f);
}

/* Appends records i in [from, to) and seals their frame, without syncing:
 * on disk the syncer thread writes the frames meanwhile. */
static void append_unsynced(struct fixture *f, int from, int to)
{
	for (int i = from; i < to; i++) {
		struct rec_text t;
		struct ax_record r = make(&t, i);
		assert_int_equal(ax_spool_append(f->sp, &r, &f->stop), AX_OK);
	}
	assert_int_equal(ax_spool_flush(f->sp, &f->stop), AX_OK);
}

static void append(struct fixture *f, int from, int to)
{
	append_unsynced(f, from, to);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
}

static struct ax_spool_reader *reader(struct fixture *f, const char *name)
{
	ax_err err;
	struct ax_spool_reader *rd = ax_spool_reader_open(f->sp, name, &err);
	assert_non_null(rd);
	return rd;
}

/* Reads every record there is, checking each is the next expected one; returns the next expected. */
static int read_all(struct ax_spool_reader *rd, int first)
{
	const struct ax_record *r;
	int i = first;
	while ((r = ax_spool_next(rd)))
		check(r, i++);
	return i;
}

static void round_trip(int compress)
{
	struct fixture *f = fixture(64 << 20, compress);
	open_spool(f);
	append(f, 0, 3000);
	struct ax_spool_reader *a = reader(f, "a");
	assert_int_equal(read_all(a, 0), 3000);
	assert_false(ax_spool_caught_up(a));
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	assert_true(ax_spool_caught_up(a));
	ax_spool_reader_close(a);
	close_spool(f);

	open_spool(f); /* a is past everything, b never read */
	a = reader(f, "a");
	struct ax_spool_reader *b = reader(f, "b");
	assert_null(ax_spool_next(a));
	assert_int_equal(read_all(b, 0), 3000);
	append(f, 3000, 3100);
	assert_int_equal(read_all(a, 3000), 3100);
	assert_int_equal(read_all(b, 3000), 3100);
	ax_spool_reader_close(a);
	ax_spool_reader_close(b);
	done(f);
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip(0);
}

static void test_round_trip_compressed(void **state)
{
	(void)state;
	round_trip(1);
}

/* A restart resumes inside a frame, at the record after the committed one. */
static void test_resume_mid_frame(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	append(f, 0, 100); /* one frame */
	struct ax_spool_reader *a = reader(f, "a");
	for (int i = 0; i < 7; i++)
		check(ax_spool_next(a), i);
	struct ax_spool_pos pos = ax_spool_tell(a);
	assert_int_equal(pos.index, 7);
	assert_int_equal(ax_spool_commit(a, pos), AX_OK);
	ax_spool_reader_close(a);
	close_spool(f);
	open_spool(f);
	a = reader(f, "a");
	assert_int_equal(read_all(a, 7), 100);
	ax_spool_reader_close(a);
	done(f);
}

static char *only_segment(struct fixture *f)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "ls %s/*.seg", f->dir);
	FILE *p = popen(cmd, "r");
	char *path = calloc(1, 1024);
	assert_non_null(fgets(path, 1024, p));
	path[strcspn(path, "\n")] = '\0';
	pclose(p);
	return path;
}

static long file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

/* A crash in the middle of a write leaves half a frame: it is cut off, the rest stays. */
static void test_torn_tail(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	append(f, 0, 500);
	char *seg = only_segment(f);
	long whole = file_size(seg);
	append(f, 500, 600);
	close_spool(f);
	long full = file_size(seg);
	assert_true(full > whole);
	assert_int_equal(truncate(seg, whole + (full - whole) / 2), 0);
	unit_quiet_logs();
	open_spool(f);
	assert_int_equal(file_size(seg), whole);
	struct ax_spool_stats st;
	ax_spool_get_stats(f->sp, &st);
	assert_int_equal(st.corrupt_bytes, (full - whole) / 2);
	struct ax_spool_reader *b = reader(f, "b");
	assert_int_equal(read_all(b, 0), 500);
	append(f, 600, 610); /* writing goes on after the cut */
	int i = 0;
	const struct ax_record *r;
	while ((r = ax_spool_next(b)))
		check(r, 600 + i++);
	assert_int_equal(i, 10);
	ax_spool_reader_close(b);
	free(seg);
	done(f);
}

/* A flipped bit inside a segment costs that frame only. */
static void test_bit_flip(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	append(f, 0, 100);   /* frame 1 */
	append(f, 100, 200); /* frame 2 */
	append(f, 200, 300); /* frame 3 */
	close_spool(f);
	char *seg = only_segment(f);
	int fd = open(seg, O_RDWR);
	char c;
	assert_int_equal(pread(fd, &c, 1, 100), 1); /* inside the first frame's payload */
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, 100), 1);
	close(fd);
	unit_quiet_logs();
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a");
	assert_int_equal(read_all(a, 100), 300);
	struct ax_spool_stats st;
	ax_spool_get_stats(f->sp, &st);
	assert_true(st.corrupt_bytes > 0);
	ax_spool_reader_close(a);
	free(seg);
	done(f);
}

/* Appends records until the spool is full and the wait for room is
 * stopped; returns how many it took. */
static int fill(struct fixture *f)
{
	int i = 0;
	ax_err err = AX_OK;
	for (; i < 100000 && !err; i++) {
		struct rec_text t;
		struct ax_record r = make(&t, i);
		err = ax_spool_append(f->sp, &r, &f->stop);
	}
	assert_int_equal(err, AX_ERR_AGAIN);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK); /* readers stop at a frame not written yet */
	return i - 1;
}

/* Segments go once every output is past them; a full spool refuses
 * (pause) until an output commits. */
static void test_full_pauses(void **state)
{
	(void)state;
	struct fixture *f = fixture(2 << 20, 0);
	f->conf.noutputs = 1;
	open_spool(f);
	atomic_store(&f->stop, 1); /* do not wait for room: say so */
	int written = fill(f);
	struct ax_spool_stats st;
	ax_spool_get_stats(f->sp, &st);
	assert_true(st.bytes <= (2 << 20));
	assert_true(st.segments >= 2);
	struct ax_spool_reader *a = reader(f, "a");
	int got = read_all(a, 0);
	assert_true(got > 0 && got <= written);
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	ax_spool_get_stats(f->sp, &st);
	assert_int_equal(st.segments, 1); /* only the one being written stays */
	atomic_store(&f->stop, 0);
	assert_int_equal(ax_spool_flush(f->sp, &f->stop), AX_OK);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
	assert_int_equal(read_all(a, got), written);
	ax_spool_reader_close(a);
	done(f);
}

static int segment_files(struct fixture *f)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		n += len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0;
	}
	closedir(d);
	return n;
}

/* A commit deletes every segment the outputs are past, however many: the
 * small segments of an earlier, smaller spool_max_size outnumber what is
 * deleted at a time. */
static void test_commit_deletes_all_behind(void **state)
{
	(void)state;
	struct fixture *f = fixture(1 << 20, 0); /* segments of 128 KiB */
	f->conf.noutputs = 1;
	open_spool(f);
	append(f, 0, 1100);
	close_spool(f);
	f->conf.max_size = 2 << 20; /* segments of 256 KiB from here */
	open_spool(f);
	append(f, 1100, 2200);
	assert_true(segment_files(f) > 9);
	struct ax_spool_reader *a = reader(f, "a");
	assert_int_equal(read_all(a, 0), 2200);
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	assert_int_equal(segment_files(f), 1); /* the one being written */
	struct ax_spool_stats st;
	ax_spool_get_stats(f->sp, &st);
	assert_int_equal(st.segments, 1);
	assert_true(st.bytes < (256 << 10));
	ax_spool_reader_close(a);
	done(f);
}

/* After a sync failed, a later one that works proves nothing (the kernel
 * may have dropped the pages it could not write): the spool stays synced
 * to before the failure, and readers get nothing past it. */
static void test_failed_sync_sticks(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	f->conf.noutputs = 1;
	open_spool(f);
	append(f, 0, 100);
	uint64_t good = ax_spool_synced(f->sp, 0, 0);
	append_unsynced(f, 100, 200);
	atomic_store(&fail_syncs, 1);
	assert_int_equal(ax_spool_sync(f->sp), AX_ERR_IO);
	assert_int_equal(atomic_load(&fail_syncs), 0); /* the wrapper failed it */
	assert_int_equal(ax_spool_sync(f->sp), AX_ERR_IO); /* the disk syncs again: not trusted */
	assert_int_equal(ax_spool_synced(f->sp, 0, 0), good);
	assert_true(ax_spool_end(f->sp) > good);
	struct ax_spool_reader *a = reader(f, "a");
	assert_int_equal(read_all(a, 0), 100);
	ax_spool_reader_close(a);
	done(f);
}

/* While the writer waits for room, the waiter runs: an own record goes in
 * at once, and the waiting frame after it. */
struct own_waiter {
	struct fixture *f;
	int calls;
	ax_err written;
};

static void write_own_then_stop(void *arg)
{
	struct own_waiter *w = arg;
	if (w->calls++ == 0) {
		struct rec_text t;
		struct ax_record r = make(&t, 999999);
		w->written = ax_spool_write_own(w->f->sp, &r);
	}
	atomic_store(&w->f->stop, 1);
}

static void test_full_own_records(void **state)
{
	(void)state;
	struct fixture *f = fixture(2 << 20, 0);
	f->conf.noutputs = 1;
	unit_quiet_logs();
	open_spool(f);
	struct own_waiter w = { .f = f, .written = AX_ERR_IO };
	ax_spool_set_waiter(f->sp, write_own_then_stop, &w);
	int written = fill(f);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.written, AX_OK);
	struct ax_spool_reader *a = reader(f, "a");
	const struct ax_record *r;
	int got = 0;
	while ((r = ax_spool_next(a)) && strcmp(r->id, "id-999999") != 0)
		check(r, got++);
	check(r, 999999); /* after what was written, before the frame still waiting */
	assert_null(ax_spool_next(a));
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	atomic_store(&f->stop, 0);
	assert_int_equal(ax_spool_flush(f->sp, &f->stop), AX_OK);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
	assert_int_equal(read_all(a, got), written);
	ax_spool_reader_close(a);
	done(f);
}

/* drop_oldest: the writer never waits; what an output missed is counted
 * (in memory too, where the latest frames are not written yet: in a spool of
 * 128 KiB they fill the segment dropped). */
static void drop_oldest(bool memory, uint64_t max_size)
{
	struct fixture *f = fixture(max_size, 0);
	f->conf.drop_oldest = true;
	if (memory)
		f->conf.dir = NULL;
	unit_quiet_logs();
	open_spool(f);
	append(f, 0, 10000); /* ~8 MiB */
	struct ax_spool_stats st;
	ax_spool_get_stats(f->sp, &st);
	assert_true(st.bytes <= max_size);
	assert_true(st.dropped > 0);
	assert_int_equal(ax_spool_take_dropped(f->sp), st.dropped);
	struct ax_spool_reader *a = reader(f, "a");
	int first = (int)st.dropped;
	assert_int_equal(ax_spool_reader_take_dropped(a), st.dropped);
	assert_int_equal(read_all(a, first), 10000);
	ax_spool_reader_close(a);
	done(f);
}

static void test_drop_oldest(void **state)
{
	(void)state;
	drop_oldest(false, 2 << 20);
}

static void test_drop_oldest_memory(void **state)
{
	(void)state;
	drop_oldest(true, 2 << 20);
	drop_oldest(true, 128 << 10);
}

/* An output added later starts at the end; without a cursors file every
 * output starts at the oldest record. */
static void test_cursors(void **state)
{
	(void)state;
	static const char *const three[] = { "a", "b", "c" };
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	append(f, 0, 50);
	close_spool(f);
	f->conf.outputs = three;
	f->conf.noutputs = 3;
	open_spool(f);
	struct ax_spool_reader *c = reader(f, "c");
	assert_null(ax_spool_next(c));
	ax_spool_reader_close(c);
	close_spool(f);
	char path[600];
	snprintf(path, sizeof(path), "%s/cursors", f->dir);
	assert_int_equal(unlink(path), 0);
	unit_quiet_logs();
	open_spool(f);
	c = reader(f, "c");
	assert_int_equal(read_all(c, 0), 50);
	ax_spool_reader_close(c);
	done(f);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* The cursors file is rewritten in place at each commit, with a CRC line:
 * a file from before (version 1, no crc) still reads; one whose bytes do
 * not match their crc (a write torn by a power loss) reads as no file, so
 * every output starts at the oldest record: sent again, never skipped; and
 * a file that shrank keeps nothing of its longer past. */
static void test_cursors_file(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	char path[600], text[4096];
	snprintf(path, sizeof(path), "%s/cursors", f->dir);
	open_spool(f);
	append(f, 0, 100); /* one frame */
	struct ax_spool_reader *a = reader(f, "a");
	for (int i = 0; i < 7; i++)
		check(ax_spool_next(a), i);
	struct ax_spool_pos pos = ax_spool_tell(a);
	assert_int_equal(ax_spool_commit(a, pos), AX_OK);
	ax_spool_reader_close(a);
	char *saved = unit_read_file(path, NULL);
	assert_contains(saved, "annexa-spool-cursors 2\n");
	assert_contains(saved, " 7 a\n");
	assert_contains(saved, "\ncrc ");
	assert_int_equal(strcmp(saved + strlen(saved) - 5, "\nend\n"), 0);
	close_spool(f);

	/* version 1: a resumes at 7, b reads everything */
	snprintf(text, sizeof(text), "annexa-spool-cursors 1\n%llu 7 a\n%llu 0 b\nend\n",
		 (unsigned long long)pos.frame, (unsigned long long)pos.frame);
	write_text(path, text);
	open_spool(f);
	a = reader(f, "a");
	struct ax_spool_reader *b = reader(f, "b");
	assert_int_equal(read_all(a, 7), 100);
	assert_int_equal(read_all(b, 0), 100);
	ax_spool_reader_close(a);
	ax_spool_reader_close(b);
	close_spool(f);

	/* version 2 with a digit changed: as if there were no file */
	char *changed = strdup(saved);
	strstr(changed, " 7 a\n")[1] = '9';
	write_text(path, changed);
	unit_quiet_logs();
	open_spool(f);
	a = reader(f, "a");
	assert_int_equal(read_all(a, 0), 100);
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	ax_spool_reader_close(a);
	close_spool(f);

	/* longer than what is written next: cut */
	size_t n = (size_t)snprintf(text, sizeof(text), "annexa-spool-cursors 1\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "0 0 gone-output-%d\n", i);
	snprintf(text + n, sizeof(text) - n, "0 0 a\nend\n");
	write_text(path, text);
	open_spool(f);
	a = reader(f, "a");
	assert_int_equal(read_all(a, 0), 100);
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	ax_spool_reader_close(a);
	size_t len = 0;
	char *now = unit_read_file(path, &len);
	assert_int_equal(len, strlen(now));
	assert_null(strstr(now, "gone-output"));
	assert_int_equal(strcmp(now + len - 5, "\nend\n"), 0);
	free(now);
	free(changed);
	free(saved);
	done(f);
}

/* The syncer thread: asked, it makes everything written so far durable
 * and says how far; without fsync (or in memory) everything written is. */
static void test_sync_async(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	for (int round = 0; round < 3; round++) {
		for (int i = round * 100; i < round * 100 + 100; i++) {
			struct rec_text t;
			struct ax_record r = make(&t, i);
			assert_int_equal(ax_spool_append(f->sp, &r, &f->stop), AX_OK);
		}
		assert_int_equal(ax_spool_flush(f->sp, &f->stop), AX_OK);
		uint64_t end = ax_spool_end(f->sp);
		assert_true(ax_spool_synced(f->sp, 0, 0) < end);
		ax_spool_sync_async(f->sp);
		uint64_t synced = 0;
		for (int tries = 0; tries < 1000 && synced < end; tries++) /* polls with a deadline of 10 s */
			synced = ax_spool_synced(f->sp, end, 10);
		assert_int_equal(synced, end);
	}
	close_spool(f); /* stops the syncer */
	f->conf.fsync = false;
	open_spool(f);
	append(f, 300, 310);
	assert_int_equal(ax_spool_synced(f->sp, 0, 0), ax_spool_end(f->sp));
	close_spool(f);
	f->conf.dir = NULL;
	open_spool(f);
	append(f, 0, 10);
	assert_int_equal(ax_spool_synced(f->sp, 0, 0), ax_spool_end(f->sp));
	done(f);
}

/* A reader waiting for records while the writer is done: draining plus a
 * wake ends the wait at once, not after its timeout (a minute here);
 * with draining set and the reader caught up, it does not wait at all. */
struct drain_waiter {
	struct ax_spool_reader *rd;
	atomic_int draining, waited;
};

static void *wait_for_records(void *arg)
{
	struct drain_waiter *w = arg;
	ax_spool_wait(w->rd, 60000, &w->draining);
	atomic_store(&w->waited, 1);
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_wait_draining(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	append(f, 0, 10);
	struct drain_waiter w = { .rd = reader(f, "a") };
	assert_int_equal(read_all(w.rd, 0), 10);
	assert_int_equal(ax_spool_commit(w.rd, ax_spool_tell(w.rd)), AX_OK);
	int64_t t0 = mono_ms();
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_for_records, &w), 0);
	for (int i = 0; i < 20; i++) /* whether or not it waits yet, the wake below ends it */
		sched_yield();
	assert_int_equal(atomic_load(&w.waited), 0);
	atomic_store(&w.draining, 1);
	ax_spool_reader_wake(w.rd);
	pthread_join(t, NULL);
	assert_true(mono_ms() - t0 < 30000);
	t0 = mono_ms();
	ax_spool_wait(w.rd, 60000, &w.draining); /* caught up and draining: no wait */
	assert_true(mono_ms() - t0 < 30000);
	ax_spool_reader_close(w.rd);
	done(f);
}

/* In memory: the same reading, and the smallest committed position tells
 * what every output has. */
static void test_memory(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	f->conf.dir = NULL;
	open_spool(f);
	append(f, 0, 400);
	uint64_t end = ax_spool_end(f->sp);
	struct ax_spool_reader *a = reader(f, "a"), *b = reader(f, "b");
	assert_int_equal(read_all(a, 0), 400);
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	assert_int_equal(ax_spool_committed_min(f->sp), 0);
	assert_int_equal(read_all(b, 0), 400);
	assert_int_equal(ax_spool_commit(b, ax_spool_tell(b)), AX_OK);
	assert_int_equal(ax_spool_committed_min(f->sp), end);
	ax_spool_reader_close(a);
	ax_spool_reader_close(b);
	done(f);
}

static struct ax_spool_stats stats(struct fixture *f)
{
	struct ax_spool_stats st;
	ax_spool_get_stats(f->sp, &st);
	return st;
}

/* A reader close behind the writer decodes the latest frames in memory;
 * one further behind reads them back; the frame a reader is in stays
 * whole however much is written meanwhile. In memory the frames an output
 * has not committed are written when they leave the latest ones. */
static void recent_frames(bool memory)
{
	struct fixture *f = fixture(64 << 20, 0);
	if (memory)
		f->conf.dir = NULL;
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a"), *b = reader(f, "b");
	int next_a = 0;
	for (int i = 0; i < 20; i++) { /* a reads each frame as it is written */
		append(f, i * 400, (i + 1) * 400);
		next_a = read_all(a, next_a);
	}
	struct ax_spool_stats st = stats(f);
	assert_int_equal(next_a, 8000);
	assert_true(st.frames_recent >= 20);
	assert_int_equal(st.frames_read_back, 0);

	assert_int_equal(read_all(b, 0), 8000); /* 20 frames behind: most come back from the segment */
	st = stats(f);
	assert_true(st.frames_read_back >= 10);

	append(f, 8000, 8400);
	const struct ax_record *r = ax_spool_next(a); /* a is inside the frame of 8000.. */
	check(r, 8000);
	for (int i = 0; i < 30; i++)
		append(f, 8400 + i * 400, 8400 + (i + 1) * 400);
	assert_int_equal(read_all(a, 8001), 8400 + 30 * 400);
	ax_spool_reader_close(a);
	ax_spool_reader_close(b);
	done(f);
}

static void test_recent_frames(void **state)
{
	(void)state;
	recent_frames(false);
}

static void test_recent_frames_memory(void **state)
{
	(void)state;
	recent_frames(true);
}

/* Reads every record there is and commits them. */
static int read_commit(struct ax_spool_reader *rd, int first)
{
	int next = read_all(rd, first);
	assert_int_equal(ax_spool_commit(rd, ax_spool_tell(rd)), AX_OK);
	return next;
}

/* In memory, frames both outputs took and committed while they were among
 * the latest ones are never written; once b stops committing, the writer
 * waits for it catch_up_ms, then what it has not committed is written as it
 * leaves them, and b reads it back whole. */
static void test_memory_unwritten(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	f->conf.dir = NULL;
	f->conf.catch_up_ms = 50;
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a"), *b = reader(f, "b");
	int next_a = 0, next_b = 0;
	for (int i = 0; i < 20; i++) {
		append(f, i * 400, (i + 1) * 400);
		next_a = read_commit(a, next_a);
		next_b = read_commit(b, next_b);
	}
	assert_int_equal(stats(f).written, 0);
	assert_int_equal(stats(f).bytes, ax_spool_end(f->sp));

	for (int i = 20; i < 40; i++) { /* b stops */
		append(f, i * 400, (i + 1) * 400);
		next_a = read_commit(a, next_a);
	}
	struct ax_spool_stats st = stats(f);
	assert_true(st.written > 0);
	assert_int_equal(read_commit(b, next_b), 16000);
	assert_true(stats(f).frames_read_back >= 10);
	assert_int_equal(ax_spool_committed_min(f->sp), ax_spool_end(f->sp));
	ax_spool_reader_close(a);
	ax_spool_reader_close(b);
	done(f);
}

/* Appends records 0..n-1 and seals their frame; done when all went in. */
struct writer {
	struct fixture *f;
	int n;
	atomic_int done;
};

static void *write_records(void *arg)
{
	struct writer *w = arg;
	ax_err err = AX_OK;
	for (int i = 0; i < w->n && !err; i++) {
		struct rec_text t;
		struct ax_record r = make(&t, i);
		err = ax_spool_append(w->f->sp, &r, &w->f->stop);
	}
	if (!err && !ax_spool_flush(w->f->sp, &w->f->stop))
		atomic_store(&w->done, 1);
	return NULL;
}

/* In memory, an output that keeps committing but reads slower than the
 * writer writes is waited for: no frame is copied into the memfd (without
 * the wait, the writer runs 40 frames ahead and copies them). */
static void test_memory_waits_for_slow_output(void **state)
{
	(void)state;
	static const char *const one_output[] = { "a" };
	struct fixture *f = fixture(64 << 20, 0);
	f->conf.dir = NULL;
	f->conf.outputs = one_output;
	f->conf.noutputs = 1;
	f->conf.catch_up_ms = 60000;
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a");
	struct writer w = { .f = f, .n = 16000 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, write_records, &w), 0);
	int next = 0;
	for (int64_t deadline = mono_ms() + 30000; next < w.n && mono_ms() < deadline;) {
		const struct ax_record *r = ax_spool_next(a);
		if (r) {
			check(r, next++);
			assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
		}
		if (!r || next % 100 == 0)
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.done), 1);
	assert_int_equal(next, w.n);
	struct ax_spool_stats st = stats(f);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.frames_read_back, 0);
	ax_spool_reader_close(a);
	done(f);
}

/* Frames the syncer has not written when the spool closes are on disk
 * after it all the same: the other output reads them back after a
 * restart, whole. */
static void test_close_stores_deferred(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a");
	int next_a = 0;
	for (int i = 0; i < 20; i++) {
		append_unsynced(f, i * 400, (i + 1) * 400);
		next_a = read_commit(a, next_a);
	}
	ax_spool_reader_close(a);
	close_spool(f);
	open_spool(f);
	struct ax_spool_reader *b = reader(f, "b");
	assert_int_equal(read_all(b, 0), 8000);
	assert_int_equal(stats(f).corrupt_bytes, 0);
	ax_spool_reader_close(b);
	done(f);
}

/* Lets files grow to bytes at most (a write past it fails with EFBIG, as on
 * a full disk); returns the limit it replaced. */
static struct rlimit limit_file_size(rlim_t bytes)
{
	struct rlimit was, low;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	low = was;
	low.rlim_cur = bytes;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	return was;
}

/* With spool_fsync a reader stops at what is synced: an output must not
 * send a record that a crash (kill -9, power loss) would take from the
 * spool, or the restart would give its number to another record. A sync
 * that fails (the disk refuses the frame) moves nothing; once the disk
 * takes it, the next sync lets the reader on. Without spool_fsync a
 * reader takes each frame at once. */
static void test_reader_waits_for_sync(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	unit_quiet_logs();
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a");
	append(f, 0, 10);
	append_unsynced(f, 10, 20);
	assert_int_equal(read_all(a, 0), 10);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
	assert_int_equal(read_all(a, 10), 20);
	struct rlimit was = limit_file_size(ax_spool_end(f->sp)); /* the first segment starts at 0 */
	append_unsynced(f, 20, 30);
	assert_int_equal(ax_spool_sync(f->sp), AX_ERR_IO);
	assert_int_equal(read_all(a, 20), 20);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
	assert_int_equal(read_all(a, 20), 30);
	assert_int_equal(ax_spool_commit(a, ax_spool_tell(a)), AX_OK);
	ax_spool_reader_close(a);
	close_spool(f);
	f->conf.fsync = false;
	open_spool(f);
	a = reader(f, "a");
	append_unsynced(f, 30, 40);
	assert_int_equal(read_all(a, 30), 40);
	ax_spool_reader_close(a);
	done(f);
}

/* A reader waiting at what is synced asks for the sync itself: an output
 * does not wait for a source's checkpoint. */
static void test_waiting_reader_asks_for_sync(void **state)
{
	(void)state;
	struct fixture *f = fixture(64 << 20, 0);
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a");
	append_unsynced(f, 0, 10);
	int next = read_all(a, 0);
	assert_int_equal(next, 0);
	atomic_int draining = 0;
	for (int tries = 0; tries < 1000 && next < 10; tries++) { /* a deadline of 10 s */
		ax_spool_wait(a, 10, &draining);
		next = read_all(a, next);
	}
	assert_int_equal(next, 10);
	ax_spool_reader_close(a);
	done(f);
}

/* A full spool moves on: the writer waits for the outputs, the outputs for
 * a sync, which they ask for. */
static void test_full_spool_syncs(void **state)
{
	(void)state;
	struct fixture *f = fixture(2 << 20, 0);
	f->conf.noutputs = 1;
	open_spool(f);
	struct ax_spool_reader *a = reader(f, "a");
	struct writer w = { .f = f, .n = 6000 }; /* ~6 MB through a spool of 2 MiB */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, write_records, &w), 0);
	atomic_int draining = 0;
	int next = 0;
	for (int tries = 0; tries < 2000 && !atomic_load(&w.done); tries++) { /* a deadline of 20 s */
		ax_spool_wait(a, 10, &draining);
		next = read_commit(a, next);
	}
	bool finished = atomic_load(&w.done);
	atomic_store(&f->stop, 1); /* a writer still waiting gives up */
	pthread_join(t, NULL);
	assert_true(finished);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
	assert_int_equal(read_commit(a, next), 6000);
	ax_spool_reader_close(a);
	done(f);
}

/* spool_full = drop_oldest drops a segment holding frames the syncer could
 * not write yet: there is nothing left to write, and a sync succeeds. */
static void test_deferred_in_dropped_segment(void **state)
{
	(void)state;
	struct fixture *f = fixture(128 << 10, 0); /* segments of 64 KiB, frames of 16 KiB */
	f->conf.drop_oldest = true;
	f->conf.noutputs = 1;
	unit_quiet_logs();
	open_spool(f);
	append(f, 0, 40);
	struct rlimit was = limit_file_size(ax_spool_end(f->sp) + 1);
	int next = 40;
	while (stats(f).dropped == 0 && next < 200) { /* a frame of ~14 KiB each: 8 fit among the recent */
		append_unsynced(f, next, next + 15);
		next += 15;
	}
	assert_true(stats(f).dropped > 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	assert_int_equal(ax_spool_sync(f->sp), AX_OK);
	close_spool(f);
	open_spool(f);
	assert_int_equal(stats(f).corrupt_bytes, 0);
	done(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_compressed),
		cmocka_unit_test(test_resume_mid_frame),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_bit_flip),
		cmocka_unit_test(test_full_pauses),
		cmocka_unit_test(test_commit_deletes_all_behind),
		cmocka_unit_test(test_failed_sync_sticks),
		cmocka_unit_test(test_full_own_records),
		cmocka_unit_test(test_drop_oldest),
		cmocka_unit_test(test_drop_oldest_memory),
		cmocka_unit_test(test_cursors),
		cmocka_unit_test(test_cursors_file),
		cmocka_unit_test(test_sync_async),
		cmocka_unit_test(test_wait_draining),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_recent_frames),
		cmocka_unit_test(test_recent_frames_memory),
		cmocka_unit_test(test_memory_unwritten),
		cmocka_unit_test(test_memory_waits_for_slow_output),
		cmocka_unit_test(test_close_stores_deferred),
		cmocka_unit_test(test_reader_waits_for_sync),
		cmocka_unit_test(test_deferred_in_dropped_segment),
		cmocka_unit_test(test_waiting_reader_asks_for_sync),
		cmocka_unit_test(test_full_spool_syncs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

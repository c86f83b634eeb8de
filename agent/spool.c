#define _GNU_SOURCE /* memfd_create, memmem */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "crc32.h"
#include "log.h"
#include "metrics.h"
#include "spool_codec.h"

#define FRAME_TARGET (256u << 10)  /* raw bytes a frame collects before it is written */
#define SEGMENT_MIN (64ull << 10)
#define SEGMENT_MAX (64ull << 20)
#define FULL_WAIT_MS 200
#define SYNC_RETRY_MS 1000 /* the syncer, after a sync failed */
#define SCAN_CHUNK (1u << 20)
/* Sealed frames kept in memory, so a reader close behind the writer (the
 * usual case) decodes them in place instead of reading them back (in a
 * one-core replay, 98% of the frames are taken from the last 8). */
#define RECENT_FRAMES 8
#define RELEASE_MAX 8 /* segments deleted at a time (release_segments) */
#define CATCH_UP_WAIT_MS 10 /* the writer, for outputs close behind (coming_for) */
#define LOG_NAME "spool"

struct segment {
	uint64_t base, size; /* logical offset of byte 0; valid bytes */
	int fd;
	bool unsynced;
};

/* A sealed frame's raw payload; its buffer was the writer's, swapped in. */
struct recent_frame {
	uint64_t at, next;  /* its logical offset (UINT64_MAX: empty); the next frame's */
	uint32_t nrecords;
	unsigned pins;      /* readers decoding from it: the writer leaves it alone */
	bool unstored;      /* not written yet: its place in the segment is a hole (see defer_frame) */
	struct ax_buf raw;
};

struct cursor {
	char *name;
	struct ax_spool_pos pos; /* committed */
	int64_t progress_ms;     /* when it last moved (monotonic) */
	uint64_t dropped;        /* by drop_oldest before it was committed */
	struct ax_metrics_output *metrics;
};

struct ax_spool {
	struct ax_spool_conf conf;
	char *dir;
	uint32_t max_frame, frame_target;
	uint64_t segment_size;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* under lock */
	struct segment *segs;
	size_t nsegs, segs_cap;
	uint64_t end, bytes;
	struct cursor *cursors;
	struct recent_frame recent[RECENT_FRAMES];
	bool dir_unsynced;
	/* syncs: ax_spool_sync, or the syncer thread (ax_spool_sync_async) */
	pthread_mutex_t sync_lock; /* one sync at a time, whoever runs it */
	pthread_cond_t sync_wake, synced; /* under lock: a request for the syncer; synced_end moved */
	pthread_t syncer;
	bool syncer_started, syncer_quit, sync_wanted, store_wanted;
	bool sync_failed;          /* under sync_lock: no sync is trusted any more (ax_spool_sync) */
	atomic_bool io_failing;    /* told: the disk refuses the writer's or the syncer's writes */
	uint64_t synced_end;       /* under lock: every byte before it is durable */
	int cursors_fd;           /* STATE_DIR/spool/cursors, rewritten in place; -1: not open */
	struct ax_buf cursors_text;
	size_t cursors_len;       /* what the file holds */
	struct ax_spool_stats stats;
	uint64_t dropped_untaken;
	/* the writer's */
	struct ax_buf frame, zbuf;
	uint32_t frame_records;
	z_stream z;
	bool z_ready, full_logged;
	struct ax_buf own;        /* the frame of ax_spool_write_own */
	ax_spool_waiter waiter;   /* run while the writer waits for room */
	void *waiter_arg;
	ax_spool_publisher publisher; /* in memory: run before a frame reaches the readers */
	void *publisher_arg;
};

struct ax_spool_reader {
	struct ax_spool *sp;
	struct cursor *cur;
	struct ax_spool_pos pos; /* next record to read */
	int fd;                  /* a dup of the segment's, -1: none */
	uint64_t seg_base;
	/* the frame being read: raw, or a recent frame the reader pinned */
	bool loaded;
	uint64_t frame_next;
	uint32_t nrecords, decoded;
	const char *payload;
	size_t payload_len, payload_pos;
	struct recent_frame *pinned;
	struct ax_buf stored, raw;
	z_stream z;
	bool z_ready;
	struct ax_record rec;
	const char *controls[AX_SPOOL_MAX_CONTROLS];
};

static void release_segments(struct ax_spool *sp);

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool pos_before(struct ax_spool_pos a, struct ax_spool_pos b)
{
	return a.frame < b.frame || (a.frame == b.frame && a.index < b.index);
}

static char *segment_path(const struct ax_spool *sp, uint64_t base)
{
	char *path;
	if (asprintf(&path, "%s/%016" PRIx64 ".seg", sp->dir, base) < 0)
		return NULL;
	return path;
}

/* Deletes a segment no output needs, its file and its fd. */
static void delete_segment(const struct ax_spool *sp, const struct segment *s)
{
	if (sp->dir) {
		char *path = segment_path(sp, s->base);
		if (path && unlink(path) != 0)
			ax_warn(LOG_NAME, "cannot delete %s: %s", path, strerror(errno));
		free(path);
	}
	close(s->fd);
}

/* ---- reading frames (shared by the startup scan and the readers) ---- */

static bool pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Reads the frame at off (segment-relative) below limit, and checks it
 * when crc; the stored payload lands in stored. */
static bool read_frame(int fd, uint64_t off, uint64_t limit, uint32_t max_frame, bool crc, struct ax_spool_frame *f,
		       uint8_t header[AX_SPOOL_FRAME_HEADER], struct ax_buf *stored)
{
	if (limit - off < AX_SPOOL_FRAME_HEADER || !pread_all(fd, header, AX_SPOOL_FRAME_HEADER, off) ||
	    !ax_spool_frame_parse(header, max_frame, f) ||
	    limit - off - AX_SPOOL_FRAME_HEADER < f->stored_len)
		return false;
	ax_buf_clear(stored);
	if (ax_buf_reserve(stored, f->stored_len) ||
	    !pread_all(fd, stored->data, f->stored_len, off + AX_SPOOL_FRAME_HEADER))
		return false;
	stored->len = f->stored_len;
	return !crc || ax_spool_frame_check(header, stored->data);
}

/* The offset of the first valid frame after off, or limit. */
static uint64_t resync(int fd, uint64_t off, uint64_t limit, uint32_t max_frame, bool crc, struct ax_buf *stored)
{
	static const uint32_t magic = AX_SPOOL_MAGIC;
	char *chunk = malloc(SCAN_CHUNK);
	uint64_t at = off + 1;
	while (chunk && at + sizeof(magic) <= limit) {
		size_t want = limit - at < SCAN_CHUNK ? (size_t)(limit - at) : SCAN_CHUNK;
		if (!pread_all(fd, chunk, want, at))
			break;
		const char *hit = memmem(chunk, want, &magic, sizeof(magic));
		if (!hit) {
			at += want - (sizeof(magic) - 1);
			continue;
		}
		uint64_t cand = at + (uint64_t)(hit - chunk);
		struct ax_spool_frame f;
		uint8_t header[AX_SPOOL_FRAME_HEADER];
		if (read_frame(fd, cand, limit, max_frame, crc, &f, header, stored)) {
			free(chunk);
			return cand;
		}
		at = cand + 1;
	}
	free(chunk);
	return limit;
}

/* ---- opening: segments, repair, cursors ---- */

static ax_err add_segment(struct ax_spool *sp, uint64_t base, uint64_t size, int fd)
{
	if (sp->nsegs == sp->segs_cap) {
		size_t cap = sp->segs_cap ? sp->segs_cap * 2 : 16;
		struct segment *s = realloc(sp->segs, cap * sizeof(*s));
		if (!s)
			return AX_ERR_NOMEM;
		sp->segs = s;
		sp->segs_cap = cap;
	}
	sp->segs[sp->nsegs++] = (struct segment){ .base = base, .size = size, .fd = fd };
	sp->bytes += size;
	sp->stats.segments = sp->nsegs;
	return AX_OK;
}

/* Cuts a torn or corrupt tail back to the last valid frame. */
static ax_err repair_segment(struct ax_spool *sp, struct segment *s, struct ax_buf *stored)
{
	uint64_t off = 0, valid_end = 0, skipped = 0;
	while (off < s->size) {
		struct ax_spool_frame f;
		uint8_t header[AX_SPOOL_FRAME_HEADER];
		if (read_frame(s->fd, off, s->size, sp->max_frame, true, &f, header, stored)) {
			off += AX_SPOOL_FRAME_HEADER + f.stored_len;
			valid_end = off;
			continue;
		}
		uint64_t next = resync(s->fd, off, s->size, sp->max_frame, true, stored);
		if (next < s->size)
			skipped += next - off;
		off = next;
	}
	if (skipped)
		ax_warn(LOG_NAME, "segment %016" PRIx64 ": %" PRIu64 " corrupt bytes inside; the records there are "
			"lost and will be skipped", s->base, skipped);
	if (valid_end == s->size)
		return AX_OK;
	ax_warn(LOG_NAME, "segment %016" PRIx64 ": torn or corrupt tail of %" PRIu64 " bytes cut off (records "
		"not yet acknowledged to their source: it sends them again)", s->base, s->size - valid_end);
	if (ftruncate(s->fd, (off_t)valid_end) != 0) {
		ax_error(LOG_NAME, "cannot truncate segment %016" PRIx64 ": %s", s->base, strerror(errno));
		return AX_ERR_IO;
	}
	sp->stats.corrupt_bytes += skipped + s->size - valid_end;
	sp->bytes -= s->size - valid_end;
	s->size = valid_end;
	return AX_OK;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static ax_err list_segments(const char *dir, uint64_t **bases, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return AX_ERR_IO;
	size_t cap = 0;
	struct dirent *e;
	*bases = NULL;
	*n = 0;
	while ((e = readdir(d))) {
		uint64_t base;
		char tail;
		if (strlen(e->d_name) != 20 || sscanf(e->d_name, "%16" SCNx64 ".se%c", &base, &tail) != 2 ||
		    tail != 'g')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *b = realloc(*bases, cap * sizeof(*b));
			if (!b) {
				closedir(d);
				return AX_ERR_NOMEM;
			}
			*bases = b;
		}
		(*bases)[(*n)++] = base;
	}
	closedir(d);
	if (*n)
		qsort(*bases, *n, sizeof(**bases), compare_u64);
	return AX_OK;
}

static ax_err open_segment(struct ax_spool *sp, uint64_t base, struct ax_buf *stored)
{
	char *path = segment_path(sp, base);
	int fd = path ? open(path, O_RDWR | O_CLOEXEC) : -1;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		ax_error(LOG_NAME, "cannot open %s: %s", path ? path : "a segment", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return AX_ERR_IO;
	}
	ax_err err = add_segment(sp, base, (uint64_t)st.st_size, fd);
	if (err)
		close(fd);
	else
		err = repair_segment(sp, &sp->segs[sp->nsegs - 1], stored);
	if (!err && sp->segs[sp->nsegs - 1].size == 0) { /* nothing valid in it */
		sp->nsegs--;
		close(fd);
		unlink(path);
	}
	free(path);
	return err;
}

static ax_err load_segments(struct ax_spool *sp)
{
	uint64_t *bases = NULL;
	size_t n = 0;
	ax_err err = list_segments(sp->dir, &bases, &n);
	struct ax_buf stored;
	ax_buf_init(&stored, sp->max_frame);
	for (size_t i = 0; i < n && !err; i++)
		err = open_segment(sp, bases[i], &stored);
	ax_buf_finish(&stored);
	free(bases);
	sp->stats.segments = sp->nsegs;
	if (sp->nsegs)
		sp->end = sp->segs[sp->nsegs - 1].base + sp->segs[sp->nsegs - 1].size;
	return err;
}

static char *cursors_path(const struct ax_spool *sp)
{
	char *path;
	return asprintf(&path, "%s/cursors", sp->dir) < 0 ? NULL : path;
}

#define CURSORS_HEAD_V1 "annexa-spool-cursors 1\n"
#define CURSORS_HEAD "annexa-spool-cursors 2\n"

/* Lines "FRAME INDEX NAME" after a "annexa-spool-cursors 2" line, then
 * "crc HEX" (the CRC-32 of every byte before it) and "end". Version 1
 * (before 2026-11) has no crc line. */
static bool parse_cursors(struct ax_spool *sp, FILE *f, bool *seen)
{
	char line[1024];
	bool ended = false, v2, crc_ok = false;
	if (!fgets(line, sizeof(line), f))
		return false;
	v2 = strcmp(line, CURSORS_HEAD) == 0;
	if (!v2 && strcmp(line, CURSORS_HEAD_V1) != 0)
		return false;
	uint32_t crc = ax_crc32(0, line, strlen(line));
	while (fgets(line, sizeof(line), f)) {
		uint64_t frame;
		unsigned index, want;
		int name_at = 0;
		size_t len = strlen(line);
		if (strcmp(line, "end\n") == 0 || strcmp(line, "end") == 0) {
			ended = true;
			break;
		}
		if (crc_ok)
			return false; /* only "end" may follow the crc line */
		if (v2 && sscanf(line, "crc %8x", &want) == 1) {
			if (want != crc)
				return false;
			crc_ok = true;
			continue;
		}
		crc = ax_crc32(crc, line, len);
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%" SCNu64 " %u %n", &frame, &index, &name_at) != 2 || !name_at)
			return false;
		for (size_t i = 0; i < sp->conf.noutputs; i++) {
			if (strcmp(sp->cursors[i].name, line + name_at) == 0) {
				sp->cursors[i].pos = (struct ax_spool_pos){ frame, index };
				seen[i] = true;
			}
		}
	}
	return ended && (crc_ok || !v2);
}

static void clamp_cursor(const struct ax_spool *sp, struct cursor *c)
{
	uint64_t oldest = sp->nsegs ? sp->segs[0].base : sp->end;
	if (c->pos.frame < oldest)
		c->pos = (struct ax_spool_pos){ oldest, 0 };
	if (c->pos.frame >= sp->end)
		c->pos = (struct ax_spool_pos){ sp->end, 0 };
}

static void load_cursors(struct ax_spool *sp)
{
	bool *seen = calloc(sp->conf.noutputs + 1, sizeof(*seen));
	char *path = cursors_path(sp);
	FILE *f = path ? fopen(path, "r") : NULL;
	bool ok = f && seen && parse_cursors(sp, f, seen);
	uint64_t oldest = sp->nsegs ? sp->segs[0].base : sp->end;
	if (!ok && sp->nsegs)
		ax_warn(LOG_NAME, "no readable cursors file in %s: every output starts at the oldest spooled record "
			"(some may arrive twice)", sp->dir);
	for (size_t i = 0; i < sp->conf.noutputs; i++) {
		struct cursor *c = &sp->cursors[i];
		if (!ok)
			c->pos = (struct ax_spool_pos){ oldest, 0 };
		else if (!seen[i])
			c->pos = (struct ax_spool_pos){ sp->end, 0 }; /* an output added since */
		clamp_cursor(sp, c);
	}
	if (f)
		fclose(f);
	free(path);
	free(seen);
}

/* Under lock. Written without fsync: a lost update only sends records
 * again. Rewritten in place, one pwrite: a new file renamed over the old
 * at every commit cost the sender more than its batch's TCP send (an inode
 * and a block allocated and freed each time). A write torn by a power loss
 * fails the crc line and reads as no cursors file: every output starts at
 * the oldest record, sending again, never skipping. */
static ax_err save_cursors(struct ax_spool *sp)
{
	if (!sp->dir)
		return AX_OK;
	struct ax_buf *b = &sp->cursors_text;
	ax_buf_clear(b);
	ax_err err = ax_buf_adds(b, CURSORS_HEAD);
	for (size_t i = 0; !err && i < sp->conf.noutputs; i++)
		err = ax_buf_addf(b, "%" PRIu64 " %u %s\n", sp->cursors[i].pos.frame, sp->cursors[i].pos.index,
				  sp->cursors[i].name);
	if (!err)
		err = ax_buf_addf(b, "crc %08x\nend\n", (unsigned)ax_crc32(0, b->data, b->len));
	if (err)
		return err;
	char *path = cursors_path(sp);
	if (!path)
		return AX_ERR_NOMEM;
	if (sp->cursors_fd < 0) {
		sp->cursors_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		sp->cursors_len = SIZE_MAX; /* unknown: cut it to what is written */
	}
	ssize_t w = sp->cursors_fd < 0 ? -1 : pwrite(sp->cursors_fd, b->data, b->len, 0);
	if (w != (ssize_t)b->len ||
	    (sp->cursors_len > b->len && ftruncate(sp->cursors_fd, (off_t)b->len) != 0)) {
		ax_error(LOG_NAME, "cannot write %s: %s", path, w >= 0 && w < (ssize_t)b->len ? "short write" : strerror(errno));
		err = AX_ERR_IO;
		if (sp->cursors_fd >= 0)
			close(sp->cursors_fd);
		sp->cursors_fd = -1; /* opened again next time */
	} else {
		sp->cursors_len = b->len;
	}
	free(path);
	return err;
}

static ax_err make_dir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		ax_error(LOG_NAME, "cannot create %s: %s", path, strerror(errno));
		return AX_ERR_IO;
	}
	return AX_OK;
}

static ax_err init_cursors(struct ax_spool *sp)
{
	sp->cursors = calloc(sp->conf.noutputs + 1, sizeof(*sp->cursors));
	if (!sp->cursors)
		return AX_ERR_NOMEM;
	for (size_t i = 0; i < sp->conf.noutputs; i++) {
		sp->cursors[i].progress_ms = now_ms();
		sp->cursors[i].metrics = sp->conf.metrics ? sp->conf.metrics[i] : NULL;
		if (!(sp->cursors[i].name = strdup(sp->conf.outputs[i])))
			return AX_ERR_NOMEM;
	}
	return AX_OK;
}

static uint64_t pick_segment_size(uint64_t max_size)
{
	uint64_t s = max_size / 8;
	return s < SEGMENT_MIN ? SEGMENT_MIN : s > SEGMENT_MAX ? SEGMENT_MAX : s;
}

struct ax_spool *ax_spool_open(const struct ax_spool_conf *conf, ax_err *err)
{
	struct ax_spool *sp = calloc(1, sizeof(*sp));
	if (!sp) {
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	sp->conf = *conf;
	sp->conf.outputs = NULL;
	sp->segment_size = pick_segment_size(conf->max_size);
	sp->frame_target = sp->segment_size / 4 < FRAME_TARGET ? (uint32_t)sp->segment_size / 4 : FRAME_TARGET;
	sp->max_frame = (uint32_t)(sp->frame_target + conf->max_record + (64u << 10));
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->changed, &attr);
	pthread_cond_init(&sp->sync_wake, &attr);
	pthread_cond_init(&sp->synced, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&sp->sync_lock, NULL);
	sp->cursors_fd = -1;
	ax_buf_init(&sp->cursors_text, 1u << 20);
	ax_buf_init(&sp->frame, sp->max_frame);
	ax_buf_init(&sp->zbuf, sp->max_frame + (64u << 10));
	ax_buf_init(&sp->own, sp->max_frame);
	for (size_t i = 0; i < RECENT_FRAMES; i++) {
		sp->recent[i].at = UINT64_MAX;
		ax_buf_init(&sp->recent[i].raw, sp->max_frame);
	}
	sp->conf.outputs = conf->outputs; /* read by init_cursors only */
	*err = init_cursors(sp);
	sp->conf.outputs = NULL;
	sp->conf.metrics = NULL;
	if (!*err && conf->dir) {
		sp->dir = strdup(conf->dir);
		*err = !sp->dir ? AX_ERR_NOMEM : make_dir(sp->dir);
		if (!*err)
			*err = load_segments(sp);
		if (!*err)
			load_cursors(sp);
	}
	if (*err) {
		ax_spool_close(sp);
		return NULL;
	}
	sp->synced_end = sp->end; /* what an earlier run left is on disk */
	uint64_t waiting = sp->end - ax_spool_committed_min(sp);
	if (waiting)
		ax_info(LOG_NAME, "%" PRIu64 " bytes spooled by an earlier run wait for delivery", waiting);
	return sp;
}

/* ---- the writer ---- */

static ax_err new_segment(struct ax_spool *sp)
{
	int fd;
	if (sp->dir) {
		char *path = segment_path(sp, sp->end);
		fd = path ? open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
		if (fd < 0)
			ax_error(LOG_NAME, "cannot create %s: %s", path ? path : "a segment", strerror(errno));
		free(path);
	} else {
		fd = memfd_create("annexa-spool", MFD_CLOEXEC);
		if (fd < 0)
			ax_error(LOG_NAME, "cannot create an in-memory segment: %s", strerror(errno));
	}
	if (fd < 0)
		return AX_ERR_IO;
	pthread_mutex_lock(&sp->lock);
	ax_err err = add_segment(sp, sp->end, 0, fd);
	sp->dir_unsynced = true;
	pthread_mutex_unlock(&sp->lock);
	if (err)
		close(fd);
	return err;
}

/* The frame of a payload stored as it is. */
static struct ax_spool_frame uncompressed(const struct ax_buf *payload, uint32_t nrecords)
{
	return (struct ax_spool_frame){ .stored_len = (uint32_t)payload->len, .raw_len = (uint32_t)payload->len,
					.nrecords = nrecords };
}

/* Under lock: the frame at off of s, from the recent frames when it is one
 * not stored yet. */
static bool frame_at(struct ax_spool *sp, const struct segment *s, uint64_t off, struct ax_spool_frame *f)
{
	for (size_t i = 0; i < RECENT_FRAMES; i++) {
		const struct recent_frame *r = &sp->recent[i];
		if (r->unstored && r->at == s->base + off) {
			*f = uncompressed(&r->raw, r->nrecords);
			return true;
		}
	}
	uint8_t header[AX_SPOOL_FRAME_HEADER];
	return pread_all(s->fd, header, sizeof(header), off) && ax_spool_frame_parse(header, sp->max_frame, f);
}

/* Under lock. Drops the oldest segment (never the one being written). */
static void drop_oldest(struct ax_spool *sp)
{
	struct segment *s = &sp->segs[0];
	uint64_t seg_end = s->base + s->size;
	uint64_t total = 0;
	for (size_t i = 0; i < sp->conf.noutputs; i++) {
		struct cursor *c = &sp->cursors[i];
		if (c->pos.frame >= seg_end)
			continue;
		/* count what this output had not committed: walk the frames from its
		 * position (before it, in memory, frames no output needed are holes) */
		uint64_t lost = 0;
		struct ax_spool_frame f;
		for (uint64_t off = c->pos.frame > s->base ? c->pos.frame - s->base : 0;
		     off < s->size && frame_at(sp, s, off, &f); off += AX_SPOOL_FRAME_HEADER + f.stored_len)
			lost += f.nrecords - (s->base + off == c->pos.frame ? c->pos.index : 0);
		c->dropped += lost;
		ax_metrics_output_dropped(c->metrics, lost);
		total = lost > total ? lost : total;
		c->pos = (struct ax_spool_pos){ sp->segs[1].base, 0 };
	}
	ax_warn(LOG_NAME, "full (spool_full = drop_oldest): dropped segment %016" PRIx64 " of %" PRIu64
		" bytes, %" PRIu64 " records not yet delivered", s->base, s->size, total);
	sp->stats.dropped += total;
	sp->dropped_untaken += total;
	delete_segment(sp, s);
	sp->bytes -= s->size;
	memmove(sp->segs, sp->segs + 1, (sp->nsegs - 1) * sizeof(*sp->segs));
	sp->nsegs--;
	sp->stats.segments = sp->nsegs;
	(void)save_cursors(sp);
}

/* Under sp->lock: waits on cond (a CLOCK_MONOTONIC one of the spool's) at most ms. */
static void wait_on(struct ax_spool *sp, pthread_cond_t *cond, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cond, &sp->lock, &ts);
}

static void wait_changed(struct ax_spool *sp, int64_t ms)
{
	wait_on(sp, &sp->changed, ms);
}

/* Under lock. True when only stalled outputs (no progress for
 * conf.stall_ms) still need the oldest segment: drop_oldest may drop it.
 * A healthy output that is merely behind is waited for. */
static bool oldest_held_by_stalled(struct ax_spool *sp)
{
	uint64_t seg_end = sp->segs[0].base + sp->segs[0].size;
	int64_t now = now_ms();
	for (size_t i = 0; i < sp->conf.noutputs; i++) {
		const struct cursor *c = &sp->cursors[i];
		if (c->pos.frame < seg_end && now - c->progress_ms < sp->conf.stall_ms)
			return false;
	}
	return true;
}

/* Under lock: runs the waiter without it. */
static void run_waiter(struct ax_spool *sp)
{
	if (!sp->waiter)
		return;
	pthread_mutex_unlock(&sp->lock);
	sp->waiter(sp->waiter_arg);
	pthread_mutex_lock(&sp->lock);
}

/* Waits until size more bytes fit (pause), or makes room (drop_oldest). */
static ax_err make_room(struct ax_spool *sp, uint64_t size, const atomic_int *stop)
{
	ax_err err = AX_OK;
	pthread_mutex_lock(&sp->lock);
	while (sp->bytes > 0 && sp->bytes + size > sp->conf.max_size) {
		if (sp->conf.drop_oldest && oldest_held_by_stalled(sp)) {
			if (sp->nsegs > 1) {
				drop_oldest(sp);
				continue;
			}
			if (sp->segs[0].size > 0) {
				err = AX_ERR_AGAIN; /* roll first, then the old segment can go */
				break;
			}
		}
		if (stop && atomic_load(stop)) {
			err = AX_ERR_AGAIN;
			break;
		}
		if (!sp->full_logged)
			ax_warn(LOG_NAME, "full (%" PRIu64 " of spool_max_size %" PRIu64 " bytes): sources wait "
				"until the outputs catch up", sp->bytes, sp->conf.max_size);
		sp->full_logged = true;
		wait_changed(sp, FULL_WAIT_MS);
		run_waiter(sp);
	}
	if (!err && sp->full_logged && sp->bytes + size <= sp->conf.max_size / 2) {
		ax_info(LOG_NAME, "room again: sources resume");
		sp->full_logged = false;
	}
	pthread_mutex_unlock(&sp->lock);
	return err;
}

/* The stored form of the open frame: compressed when that is smaller. */
static ax_err seal_frame(struct ax_spool *sp, const void **stored, struct ax_spool_frame *f)
{
	*f = uncompressed(&sp->frame, sp->frame_records);
	*stored = sp->frame.data;
	if (sp->conf.compress_level <= 0)
		return AX_OK;
	if (!sp->z_ready) {
		if (deflateInit(&sp->z, sp->conf.compress_level) != Z_OK)
			return AX_ERR_NOMEM;
		sp->z_ready = true;
	}
	deflateReset(&sp->z);
	uLong bound = deflateBound(&sp->z, sp->frame.len);
	ax_buf_clear(&sp->zbuf);
	if (ax_buf_reserve(&sp->zbuf, bound))
		return AX_ERR_NOMEM;
	sp->z.next_in = (Bytef *)sp->frame.data;
	sp->z.avail_in = (uInt)sp->frame.len;
	sp->z.next_out = (Bytef *)sp->zbuf.data;
	sp->z.avail_out = (uInt)bound;
	if (deflate(&sp->z, Z_FINISH) != Z_STREAM_END)
		return AX_ERR_NOMEM;
	if (sp->z.total_out < sp->frame.len) {
		f->stored_len = (uint32_t)sp->z.total_out;
		f->compressed = true;
		*stored = sp->zbuf.data;
	}
	return AX_OK;
}

/* Writes header and payload at off, however the kernel cuts the writes. */
static bool pwrite_frame(int fd, const uint8_t *header, const void *payload, size_t len, uint64_t off)
{
	struct iovec iov[2] = { { (void *)header, AX_SPOOL_FRAME_HEADER }, { (void *)payload, len } };
	size_t total = AX_SPOOL_FRAME_HEADER + len;
	for (size_t done = 0; done < total;) {
		ssize_t n = pwritev(fd, iov, 2, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return false;
		}
		done += (size_t)n;
		for (int i = 0; i < 2; i++) { /* skip what was written */
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			n -= (ssize_t)k;
		}
	}
	return true;
}

/* Under lock: whether an output has not committed everything before next. */
static bool still_needed(const struct ax_spool *sp, uint64_t next)
{
	for (size_t i = 0; i < sp->conf.noutputs; i++)
		if (sp->cursors[i].pos.frame < next)
			return true;
	return false;
}

/* Says once that the disk refuses writes, and once that it takes them
 * again (the pipeline's and the syncer's alike); returns err. */
static ax_err told_io(struct ax_spool *sp, ax_err err)
{
	if (err == AX_ERR_IO && !atomic_exchange(&sp->io_failing, true))
		ax_error(LOG_NAME, "cannot write to %s: %s; sources wait, retrying", sp->dir ? sp->dir : "memory",
			 strerror(errno));
	else if (!err && atomic_load(&sp->io_failing) && atomic_exchange(&sp->io_failing, false))
		ax_info(LOG_NAME, "writing again");
	return err;
}

/* Under lock, which it lets go while it writes: writes an unstored recent
 * frame into its hole. The frame is pinned meanwhile, and the segment's fd
 * duplicated (release_segments may close it). */
static bool store_recent(struct ax_spool *sp, struct recent_frame *r)
{
	int fd = -1;
	uint64_t off = 0;
	bool found = false;
	for (size_t i = 0; i < sp->nsegs && !found; i++) {
		if (r->at >= sp->segs[i].base && r->at < sp->segs[i].base + sp->segs[i].size) {
			found = true;
			fd = dup(sp->segs[i].fd);
			off = r->at - sp->segs[i].base;
		}
	}
	if (!found) { /* its segment is gone, delivered or dropped: nothing to keep */
		r->unstored = false;
		return true;
	}
	if (fd < 0)
		return false;
	struct ax_spool_frame f = uncompressed(&r->raw, r->nrecords);
	uint8_t header[AX_SPOOL_FRAME_HEADER];
	ax_spool_frame_header(header, r->raw.data, &f, sp->dir != NULL);
	r->pins++;
	pthread_mutex_unlock(&sp->lock);
	bool ok = pwrite_frame(fd, header, r->raw.data, r->raw.len, off);
	told_io(sp, ok ? AX_OK : AX_ERR_IO);
	close(fd);
	pthread_mutex_lock(&sp->lock);
	r->pins--;
	if (ok) {
		sp->stats.written += AX_SPOOL_FRAME_HEADER + r->raw.len;
		r->unstored = false;
	}
	return ok;
}

/* Whether the spool is synced (disk, spool_fsync): a source's checkpoint
 * then waits for synced_end, and the syncer thread writes and syncs. */
static bool syncs(const struct ax_spool *sp)
{
	return sp->dir && sp->conf.fsync;
}

/* Under lock: whether an unstored frame must be written before its slot is
 * reused: on disk always (after a restart a hole reads as a torn frame), in
 * memory only while an output still needs it. */
static bool must_store(const struct ax_spool *sp, const struct recent_frame *r)
{
	return r->unstored && (sp->dir || still_needed(sp, r->next));
}

/* Under lock, which store_recent lets go: writes every unstored frame that
 * starts before end (a sync does not chase the frames spooled meanwhile). */
static bool store_before(struct ax_spool *sp, uint64_t end)
{
	for (;;) {
		struct recent_frame *oldest = NULL;
		for (size_t i = 0; i < RECENT_FRAMES; i++) {
			struct recent_frame *r = &sp->recent[i];
			if (r->unstored && r->at < end && (!oldest || r->at < oldest->at))
				oldest = r;
		}
		if (!oldest)
			return true;
		if (!store_recent(sp, oldest))
			return false;
	}
}

/* Under lock, spool = memory: whether some output still needs r and every
 * one that does committed lately (an output that reads all there is sends
 * and commits at once: none holds frames waiting for more). The writer then
 * waits for them rather than copy r into the memfd for them to copy back:
 * in a replay to HEC or Kafka that pair was a tenth of the CPU. A memory
 * spool's sources follow the slowest output anyway (their checkpoints wait
 * for every ack). */
static bool coming_for(const struct ax_spool *sp, const struct recent_frame *r)
{
	if (sp->dir || !sp->conf.catch_up_ms)
		return false;
	int64_t now = now_ms();
	bool needed = false;
	for (size_t i = 0; i < sp->conf.noutputs; i++) {
		const struct cursor *c = &sp->cursors[i];
		if (c->pos.frame >= r->next)
			continue;
		if (now - c->progress_ms > sp->conf.catch_up_ms)
			return false;
		needed = true;
	}
	return needed;
}

/* Under lock: the slot for a new recent frame, the oldest unpinned one. Its
 * frame, if it must be stored, is stored first (and the slot chosen again: a
 * reader may have taken it meanwhile); NULL when every slot is pinned or a
 * store failed. */
static struct recent_frame *recent_slot(struct ax_spool *sp)
{
	for (;;) {
		struct recent_frame *slot = NULL;
		for (size_t i = 0; i < RECENT_FRAMES; i++) {
			struct recent_frame *r = &sp->recent[i];
			if (!r->pins && (!slot || r->next < slot->next))
				slot = r;
		}
		if (!slot || !must_store(sp, slot))
			return slot;
		if (coming_for(sp, slot)) {
			wait_changed(sp, CATCH_UP_WAIT_MS);
			continue;
		}
		if (!store_recent(sp, slot))
			return NULL;
	}
}

/* Under lock: the frame just appended at `at` becomes a recent one, its raw
 * payload swapped in from raw (which gets the slot's old buffer). Before
 * readers hear of the frame, so they find it here. */
static void keep_recent(struct recent_frame *slot, struct ax_buf *raw, const struct ax_spool_frame *f,
			uint64_t at, bool unstored)
{
	struct ax_buf t = slot->raw;
	slot->raw = *raw;
	*raw = t;
	slot->at = at;
	slot->next = at + AX_SPOOL_FRAME_HEADER + f->stored_len;
	slot->nrecords = f->nrecords;
	slot->unstored = unstored;
}

/* Under lock: the frame of total bytes is at the end of the last segment. */
static void account_frame(struct ax_spool *sp, const struct ax_spool_frame *f, uint64_t total)
{
	sp->segs[sp->nsegs - 1].size += total;
	sp->segs[sp->nsegs - 1].unsynced = true;
	sp->end += total;
	sp->bytes += total;
	sp->stats.appended += f->nrecords;
}

static void *syncer_main(void *arg);

/* Under lock: asks the syncer thread to sync, or only to store the
 * unstored frames; starts it the first time. */
static void wake_syncer(struct ax_spool *sp, bool sync)
{
	if (sp->syncer_quit)
		return;
	if (!sp->syncer_started)
		sp->syncer_started = pthread_create(&sp->syncer, NULL, syncer_main, sp) == 0;
	if (sync)
		sp->sync_wanted = true;
	else
		sp->store_wanted = true;
	pthread_cond_signal(&sp->sync_wake);
}

/* A frame kept among the recent ones is not written at once: readers close
 * behind (the usual case) take it from there. In memory it is written into
 * its place only if an output still needs it when it leaves them
 * (recent_slot). On disk the syncer thread writes it beside the pipeline
 * (on two cores the page-cache copy held up the pipeline's thread), always
 * before it syncs; but only with spool_fsync, where a source's checkpoint
 * waits for the sync: without, it moves at once, and a frame still in
 * memory would be lost if the process died. Its bytes stay reserved
 * meanwhile, so positions and the size limit are those of a written frame. */
static bool defer_frame(struct ax_spool *sp, const struct ax_spool_frame *f, struct ax_buf *raw)
{
	if ((sp->dir && !syncs(sp)) || !raw || f->compressed)
		return false;
	pthread_mutex_lock(&sp->lock);
	struct recent_frame *slot = recent_slot(sp);
	if (slot) {
		const struct segment *tail = &sp->segs[sp->nsegs - 1];
		keep_recent(slot, raw, f, tail->base + tail->size, true);
		account_frame(sp, f, AX_SPOOL_FRAME_HEADER + f->stored_len);
		if (sp->dir)
			wake_syncer(sp, false);
		else
			pthread_cond_broadcast(&sp->changed);
	}
	pthread_mutex_unlock(&sp->lock);
	return slot != NULL;
}

/* Appends the frame to the last segment; raw, when not NULL, is its raw
 * payload, kept for the readers (keep_recent). */
static ax_err write_frame(struct ax_spool *sp, const void *stored, const struct ax_spool_frame *f, struct ax_buf *raw)
{
	if (!sp->dir && sp->publisher)
		sp->publisher(sp->publisher_arg);
	if (defer_frame(sp, f, raw))
		return AX_OK;
	uint8_t header[AX_SPOOL_FRAME_HEADER];
	ax_spool_frame_header(header, stored, f, sp->dir != NULL);
	pthread_mutex_lock(&sp->lock);
	struct segment tail = sp->segs[sp->nsegs - 1];
	pthread_mutex_unlock(&sp->lock);
	if (!pwrite_frame(tail.fd, header, stored, f->stored_len, tail.size)) {
		int e = errno; /* the next attempt writes over the torn frame; give the space back meanwhile */
		if (ftruncate(tail.fd, (off_t)tail.size) != 0)
			ax_debug(LOG_NAME, "cannot truncate a torn frame: %s", strerror(errno));
		errno = e;
		return AX_ERR_IO;
	}
	uint64_t total = AX_SPOOL_FRAME_HEADER + f->stored_len;
	pthread_mutex_lock(&sp->lock);
	account_frame(sp, f, total);
	sp->stats.written += total;
	struct recent_frame *slot = raw ? recent_slot(sp) : NULL;
	if (slot)
		keep_recent(slot, raw, f, tail.base + tail.size, false);
	pthread_cond_broadcast(&sp->changed);
	pthread_mutex_unlock(&sp->lock);
	return AX_OK;
}

static bool needs_new_segment(struct ax_spool *sp, uint64_t size)
{
	pthread_mutex_lock(&sp->lock);
	bool roll = sp->nsegs == 0 ||
		    (sp->segs[sp->nsegs - 1].size > 0 && sp->segs[sp->nsegs - 1].size + size > sp->segment_size);
	pthread_mutex_unlock(&sp->lock);
	return roll;
}

/* Writes a sealed frame at the end, in a new segment when the last one is full. */
static ax_err append_frame(struct ax_spool *sp, const void *stored, const struct ax_spool_frame *f,
			   struct ax_buf *raw)
{
	ax_err err = needs_new_segment(sp, AX_SPOOL_FRAME_HEADER + f->stored_len) ? new_segment(sp) : AX_OK;
	return err ? err : write_frame(sp, stored, f, raw);
}

ax_err ax_spool_flush(struct ax_spool *sp, const atomic_int *stop)
{
	if (!sp->frame_records)
		return AX_OK;
	const void *stored;
	struct ax_spool_frame f;
	ax_err err = seal_frame(sp, &stored, &f);
	uint64_t size = AX_SPOOL_FRAME_HEADER + f.stored_len;
	if (!err)
		err = make_room(sp, size, stop);
	if (err == AX_ERR_AGAIN && sp->conf.drop_oldest && !(stop && atomic_load(stop))) {
		err = new_segment(sp); /* the only segment is full: start another, then drop the old */
		if (!err)
			err = make_room(sp, size, stop);
	}
	if (!err)
		err = append_frame(sp, stored, &f, &sp->frame);
	if (told_io(sp, err))
		return err;
	ax_buf_clear(&sp->frame);
	sp->frame_records = 0;
	return AX_OK;
}

ax_err ax_spool_write_own(struct ax_spool *sp, const struct ax_record *r)
{
	ax_buf_clear(&sp->own);
	ax_err err = ax_spool_encode_record(&sp->own, r);
	struct ax_spool_frame f = uncompressed(&sp->own, 1);
	return err ? err : told_io(sp, append_frame(sp, sp->own.data, &f, NULL));
}

void ax_spool_set_waiter(struct ax_spool *sp, ax_spool_waiter waiter, void *arg)
{
	sp->waiter = waiter;
	sp->waiter_arg = arg;
}

void ax_spool_set_publisher(struct ax_spool *sp, ax_spool_publisher publisher, void *arg)
{
	sp->publisher = publisher;
	sp->publisher_arg = arg;
}

ax_err ax_spool_append(struct ax_spool *sp, const struct ax_record *r, const atomic_int *stop)
{
	if (sp->frame.len >= sp->frame_target) {
		ax_err err = ax_spool_flush(sp, stop);
		if (err)
			return err;
	}
	ax_err err = ax_spool_encode_record(&sp->frame, r);
	if (err)
		return err;
	sp->frame_records++;
	return AX_OK;
}

/* After a sync failed, none is tried again: the kernel may have dropped
 * the pages it could not write, and a later sync that works would say
 * nothing of them. Records spooled since the last good sync then never
 * count as durable (no source checkpoint moves past them, no output reads
 * them) until a restart, whose sources read them again. */
ax_err ax_spool_sync(struct ax_spool *sp)
{
	if (!syncs(sp))
		return AX_OK;
	int fds[64]; /* segments are spool_max_size / 8 or more: some 9 are unsynced at most */
	size_t n = 0;
	bool dir = false;
	pthread_mutex_lock(&sp->sync_lock); /* a sync under way elsewhere may hold segments this one needs */
	if (sp->sync_failed) {
		pthread_mutex_unlock(&sp->sync_lock);
		return AX_ERR_IO;
	}
	pthread_mutex_lock(&sp->lock);
	uint64_t target = sp->end;
	if (!store_before(sp, target)) { /* it said why */
		pthread_mutex_unlock(&sp->lock);
		pthread_mutex_unlock(&sp->sync_lock);
		return AX_ERR_IO;
	}
	for (size_t i = 0; i < sp->nsegs; i++) {
		if (!sp->segs[i].unsynced)
			continue;
		if (n == sizeof(fds) / sizeof(fds[0]) || (fds[n] = dup(sp->segs[i].fd)) < 0) {
			target = sp->segs[i].base; /* the rest next time */
			break;
		}
		sp->segs[i].unsynced = false;
		n++;
	}
	dir = sp->dir_unsynced;
	sp->dir_unsynced = false;
	pthread_mutex_unlock(&sp->lock);
	ax_err err = AX_OK;
	for (size_t i = 0; i < n; i++) {
		if (fdatasync(fds[i]) != 0)
			err = AX_ERR_IO;
		close(fds[i]);
	}
	int dfd = dir ? open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			err = AX_ERR_IO;
		close(dfd);
	}
	if (err) {
		sp->sync_failed = true;
		ax_error(LOG_NAME, "cannot sync %s: %s. The records spooled since the last sync may not be on disk: "
			 "no output gets them and no source moves past them; fix the disk and restart annexa (the "
			 "sources read them again)", sp->dir, strerror(errno));
	} else {
		pthread_mutex_lock(&sp->lock);
		if (target > sp->synced_end)
			sp->synced_end = target;
		pthread_cond_broadcast(&sp->synced);
		pthread_cond_broadcast(&sp->changed); /* readers may go on (readable_end) */
		pthread_mutex_unlock(&sp->lock);
	}
	pthread_mutex_unlock(&sp->sync_lock);
	return err;
}

/* The syncer: writes the unstored frames and syncs whenever asked, so the
 * pipeline goes on spooling while the disk writes; after a failure it
 * waits a while (it said why). */
static void *syncer_main(void *arg)
{
	struct ax_spool *sp = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
	pthread_mutex_lock(&sp->lock);
	while (!sp->syncer_quit) {
		if (!sp->sync_wanted && !sp->store_wanted) {
			pthread_cond_wait(&sp->sync_wake, &sp->lock);
			continue;
		}
		bool sync = sp->sync_wanted;
		sp->sync_wanted = sp->store_wanted = false;
		ax_err err = AX_OK;
		if (sync) {
			pthread_mutex_unlock(&sp->lock);
			err = ax_spool_sync(sp);
			pthread_mutex_lock(&sp->lock);
		} else if (!store_before(sp, sp->end)) {
			err = AX_ERR_IO;
		}
		if (err && !sp->syncer_quit) {
			sp->store_wanted = true; /* frames wait in memory: try again */
			wait_on(sp, &sp->sync_wake, SYNC_RETRY_MS);
		}
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

void ax_spool_sync_async(struct ax_spool *sp)
{
	if (!syncs(sp))
		return;
	pthread_mutex_lock(&sp->lock);
	if (sp->end > sp->synced_end)
		wake_syncer(sp, true);
	pthread_mutex_unlock(&sp->lock);
}

uint64_t ax_spool_synced(struct ax_spool *sp, uint64_t want, int64_t timeout_ms)
{
	pthread_mutex_lock(&sp->lock);
	bool all = !syncs(sp);
	if (!all && sp->synced_end < want && timeout_ms > 0)
		wait_on(sp, &sp->synced, timeout_ms);
	uint64_t synced = all ? sp->end : sp->synced_end;
	pthread_mutex_unlock(&sp->lock);
	return synced;
}

static void stop_syncer(struct ax_spool *sp)
{
	pthread_mutex_lock(&sp->lock);
	bool started = sp->syncer_started;
	sp->syncer_quit = true;
	pthread_cond_signal(&sp->sync_wake);
	pthread_mutex_unlock(&sp->lock);
	if (started)
		pthread_join(sp->syncer, NULL);
	sp->syncer_started = false;
}

uint64_t ax_spool_end(struct ax_spool *sp)
{
	pthread_mutex_lock(&sp->lock);
	uint64_t end = sp->end;
	pthread_mutex_unlock(&sp->lock);
	return end;
}

uint64_t ax_spool_committed_min(struct ax_spool *sp)
{
	pthread_mutex_lock(&sp->lock);
	uint64_t min = sp->end;
	for (size_t i = 0; i < sp->conf.noutputs; i++)
		if (sp->cursors[i].pos.frame < min)
			min = sp->cursors[i].pos.frame;
	pthread_mutex_unlock(&sp->lock);
	return min;
}

uint64_t ax_spool_take_dropped(struct ax_spool *sp)
{
	pthread_mutex_lock(&sp->lock);
	uint64_t n = sp->dropped_untaken;
	sp->dropped_untaken = 0;
	pthread_mutex_unlock(&sp->lock);
	return n;
}

void ax_spool_get_stats(struct ax_spool *sp, struct ax_spool_stats *st)
{
	pthread_mutex_lock(&sp->lock);
	*st = sp->stats;
	st->bytes = sp->bytes;
	st->segments = sp->nsegs; /* remove_delivered_tail may have removed the last */
	pthread_mutex_unlock(&sp->lock);
}

/* Every output has everything: the segment being written can go too. */
static void remove_delivered_tail(struct ax_spool *sp)
{
	release_segments(sp);
	pthread_mutex_lock(&sp->lock);
	if (sp->nsegs == 1 && sp->dir) {
		char *path = segment_path(sp, sp->segs[0].base);
		if (path && unlink(path) == 0) {
			close(sp->segs[0].fd);
			sp->nsegs = 0;
		}
		free(path);
	}
	pthread_mutex_unlock(&sp->lock);
}

void ax_spool_close(struct ax_spool *sp)
{
	if (!sp)
		return;
	static atomic_int stop = 1;
	stop_syncer(sp);
	if (sp->frame_records && ax_spool_flush(sp, &stop))
		ax_warn(LOG_NAME, "%u records could not be spooled at exit (their source sends them again)",
			sp->frame_records);
	if (sp->nsegs && ax_spool_sync(sp)) /* and stores the frames the syncer had not */
		ax_warn(LOG_NAME, "the last records may not be on disk (their source sends them again)");
	pthread_mutex_lock(&sp->lock);
	if (sp->cursors)
		(void)save_cursors(sp); /* it says why when it fails */
	pthread_mutex_unlock(&sp->lock);
	if (sp->frame_records == 0 && ax_spool_committed_min(sp) == sp->end)
		remove_delivered_tail(sp);
	for (size_t i = 0; i < sp->nsegs; i++)
		close(sp->segs[i].fd);
	for (size_t i = 0; sp->cursors && i < sp->conf.noutputs; i++)
		free(sp->cursors[i].name);
	if (sp->z_ready)
		deflateEnd(&sp->z);
	free(sp->cursors);
	free(sp->segs);
	free(sp->dir);
	if (sp->cursors_fd >= 0)
		close(sp->cursors_fd);
	ax_buf_finish(&sp->cursors_text);
	ax_buf_finish(&sp->frame);
	ax_buf_finish(&sp->zbuf);
	ax_buf_finish(&sp->own);
	for (size_t i = 0; i < RECENT_FRAMES; i++)
		ax_buf_finish(&sp->recent[i].raw);
	pthread_cond_destroy(&sp->changed);
	pthread_cond_destroy(&sp->sync_wake);
	pthread_cond_destroy(&sp->synced);
	pthread_mutex_destroy(&sp->sync_lock);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

/* ---- readers ---- */

struct ax_spool_reader *ax_spool_reader_open_at(struct ax_spool *sp, uint64_t from)
{
	struct ax_spool_reader *rd = calloc(1, sizeof(*rd));
	if (!rd)
		return NULL;
	rd->sp = sp;
	rd->fd = -1;
	rd->pos = (struct ax_spool_pos){ from, 0 };
	ax_buf_init(&rd->stored, sp->max_frame);
	ax_buf_init(&rd->raw, sp->max_frame);
	return rd;
}

struct ax_spool_reader *ax_spool_reader_open(struct ax_spool *sp, const char *output, ax_err *err)
{
	struct cursor *cur = NULL;
	for (size_t i = 0; i < sp->conf.noutputs; i++)
		if (strcmp(sp->cursors[i].name, output) == 0)
			cur = &sp->cursors[i];
	struct ax_spool_reader *rd = cur ? ax_spool_reader_open_at(sp, 0) : NULL;
	*err = rd ? AX_OK : cur ? AX_ERR_NOMEM : AX_ERR_USAGE;
	if (!rd)
		return NULL;
	rd->cur = cur;
	pthread_mutex_lock(&sp->lock);
	rd->pos = cur->pos;
	pthread_mutex_unlock(&sp->lock);
	return rd;
}

uint64_t ax_spool_start(struct ax_spool *sp)
{
	pthread_mutex_lock(&sp->lock);
	uint64_t start = sp->nsegs ? sp->segs[0].base : sp->end;
	pthread_mutex_unlock(&sp->lock);
	return start;
}

/* Under lock: the reader is done with the recent frame it decoded from. */
static void unpin(struct ax_spool_reader *rd)
{
	if (rd->pinned)
		rd->pinned->pins--;
	rd->pinned = NULL;
}

void ax_spool_reader_close(struct ax_spool_reader *rd)
{
	if (!rd)
		return;
	pthread_mutex_lock(&rd->sp->lock);
	unpin(rd);
	pthread_mutex_unlock(&rd->sp->lock);
	if (rd->fd >= 0)
		close(rd->fd);
	if (rd->z_ready)
		inflateEnd(&rd->z);
	ax_buf_finish(&rd->stored);
	ax_buf_finish(&rd->raw);
	free(rd);
}

/* Under lock: where readers stop. With spool_fsync, at what is synced: an
 * output must not send a record that a crash (kill -9 or power loss) would
 * take from the spool, or the restart would give its number to another
 * record. A reader waiting there asks for the sync (ax_spool_wait). */
static uint64_t readable_end(const struct ax_spool *sp)
{
	return syncs(sp) ? sp->synced_end : sp->end;
}

/* Under lock: the segment holding pos, moving pos past holes and dropped
 * segments; NULL when pos is at the end. */
static const struct segment *locate(struct ax_spool_reader *rd)
{
	struct ax_spool *sp = rd->sp;
	for (size_t i = 0; i < sp->nsegs; i++) {
		const struct segment *s = &sp->segs[i];
		if (rd->pos.frame < s->base)
			rd->pos = (struct ax_spool_pos){ s->base, 0 };
		if (rd->pos.frame < s->base + s->size)
			return s;
	}
	if (rd->pos.frame < sp->end)
		rd->pos = (struct ax_spool_pos){ sp->end, 0 };
	return NULL;
}

static bool inflate_frame(struct ax_spool_reader *rd, const struct ax_spool_frame *f)
{
	ax_buf_clear(&rd->raw);
	if (ax_buf_reserve(&rd->raw, f->raw_len))
		return false;
	if (!rd->z_ready) {
		if (inflateInit(&rd->z) != Z_OK)
			return false;
		rd->z_ready = true;
	}
	inflateReset(&rd->z);
	rd->z.next_in = (Bytef *)rd->stored.data;
	rd->z.avail_in = f->stored_len;
	rd->z.next_out = (Bytef *)rd->raw.data;
	rd->z.avail_out = f->raw_len;
	if (inflate(&rd->z, Z_FINISH) != Z_STREAM_END || rd->z.total_out != f->raw_len)
		return false;
	rd->raw.len = f->raw_len;
	return true;
}

static void skip_corrupt(struct ax_spool_reader *rd, uint64_t base, uint64_t limit)
{
	uint64_t from = rd->pos.frame - base;
	uint64_t next = resync(rd->fd, from, limit, rd->sp->max_frame, rd->sp->dir != NULL, &rd->stored);
	ax_error(LOG_NAME, "segment %016" PRIx64 ": corrupt frame at byte %" PRIu64 "; %" PRIu64
		 " bytes skipped (the records in them are lost)", base, from, next - from);
	pthread_mutex_lock(&rd->sp->lock);
	rd->sp->stats.corrupt_bytes += next - from;
	pthread_mutex_unlock(&rd->sp->lock);
	rd->pos = (struct ax_spool_pos){ base + next, 0 };
}

static void start_frame(struct ax_spool_reader *rd, const char *payload, size_t len, uint32_t nrecords,
			uint64_t next)
{
	rd->loaded = true;
	rd->payload = payload;
	rd->payload_len = len;
	rd->payload_pos = 0;
	rd->nrecords = nrecords;
	rd->decoded = 0;
	rd->frame_next = next;
}

/* Under lock: decodes the frame at rd->pos in place when it is a recent one. */
static bool take_recent(struct ax_spool_reader *rd)
{
	for (size_t i = 0; i < RECENT_FRAMES; i++) {
		struct recent_frame *r = &rd->sp->recent[i];
		if (r->at == rd->pos.frame) {
			unpin(rd);
			r->pins++;
			rd->pinned = r;
			rd->sp->stats.frames_recent++;
			start_frame(rd, r->raw.data, r->raw.len, r->nrecords, r->next);
			return true;
		}
	}
	return false;
}

/* Reads the frame at rd->pos back from its segment (base, limit bytes). */
static bool read_back(struct ax_spool_reader *rd, uint64_t base, uint64_t limit)
{
	struct ax_spool_frame f;
	uint8_t header[AX_SPOOL_FRAME_HEADER];
	if (!read_frame(rd->fd, rd->pos.frame - base, limit, rd->sp->max_frame, rd->sp->dir != NULL, &f, header,
			&rd->stored) ||
	    (f.compressed && !inflate_frame(rd, &f)))
		return false;
	if (!f.compressed) {
		struct ax_buf t = rd->raw; /* the stored bytes are the payload: swap, no copy */
		rd->raw = rd->stored;
		rd->stored = t;
	}
	pthread_mutex_lock(&rd->sp->lock);
	unpin(rd);
	rd->sp->stats.frames_read_back++;
	pthread_mutex_unlock(&rd->sp->lock);
	start_frame(rd, rd->raw.data, rd->raw.len, f.nrecords, rd->pos.frame + AX_SPOOL_FRAME_HEADER + f.stored_len);
	return true;
}

/* Loads the frame at rd->pos; false when there is nothing to read yet. */
static bool load_frame(struct ax_spool_reader *rd)
{
	for (;;) {
		pthread_mutex_lock(&rd->sp->lock);
		const struct segment *s = locate(rd);
		if (!s || rd->pos.frame >= readable_end(rd->sp)) {
			pthread_mutex_unlock(&rd->sp->lock);
			return false;
		}
		if (take_recent(rd)) {
			pthread_mutex_unlock(&rd->sp->lock);
			return true;
		}
		uint64_t base = s->base, limit = s->size;
		int done_fd = -1; /* closed without the lock (release_segments) */
		if (rd->fd < 0 || rd->seg_base != base) {
			done_fd = rd->fd;
			rd->fd = dup(s->fd); /* stays readable if the segment is dropped meanwhile */
			rd->seg_base = base;
		}
		pthread_mutex_unlock(&rd->sp->lock);
		if (done_fd >= 0)
			close(done_fd);
		if (rd->fd < 0)
			return false;
		if (read_back(rd, base, limit))
			return true;
		skip_corrupt(rd, base, limit);
	}
}

const struct ax_record *ax_spool_next(struct ax_spool_reader *rd)
{
	for (;;) {
		if (!rd->loaded && !load_frame(rd))
			return NULL;
		while (rd->decoded < rd->nrecords) {
			if (ax_spool_decode_record(rd->payload, rd->payload_len, &rd->payload_pos, &rd->rec, rd->controls)) {
				ax_error(LOG_NAME, "the frame at %" PRIu64 " does not decode after record %u; the rest "
					 "of it is skipped", rd->pos.frame, rd->decoded);
				break;
			}
			if (++rd->decoded <= rd->pos.index)
				continue; /* read before a restart */
			rd->pos.index = rd->decoded;
			if (rd->decoded == rd->nrecords)
				rd->pos = (struct ax_spool_pos){ rd->frame_next, 0 };
			return &rd->rec;
		}
		rd->loaded = false;
		rd->pos = (struct ax_spool_pos){ rd->frame_next, 0 };
	}
}

struct ax_spool_pos ax_spool_tell(const struct ax_spool_reader *rd)
{
	return rd->pos;
}

/* Under lock: takes up to RELEASE_MAX segments every output is past (not
 * the one being written) off the list, into gone; how many. */
static size_t take_released(struct ax_spool *sp, struct segment *gone)
{
	uint64_t min = sp->end;
	for (size_t i = 0; i < sp->conf.noutputs; i++)
		if (sp->cursors[i].pos.frame < min)
			min = sp->cursors[i].pos.frame;
	size_t n = 0;
	while (n + 1 < sp->nsegs && n < RELEASE_MAX && sp->segs[n].base + sp->segs[n].size <= min) {
		gone[n] = sp->segs[n];
		sp->bytes -= sp->segs[n].size;
		n++;
	}
	if (n) {
		memmove(sp->segs, sp->segs + n, (sp->nsegs - n) * sizeof(*sp->segs));
		sp->nsegs -= n;
		sp->stats.segments = sp->nsegs;
	}
	return n;
}

/* Deletes the segments every output is past; the lock is held only to take
 * them off the list: closing a full segment's last fd frees its page cache,
 * milliseconds that the writer would wait for the lock. */
static void release_segments(struct ax_spool *sp)
{
	struct segment gone[RELEASE_MAX];
	size_t n;
	do {
		pthread_mutex_lock(&sp->lock);
		n = take_released(sp, gone);
		pthread_mutex_unlock(&sp->lock);
		for (size_t i = 0; i < n; i++)
			delete_segment(sp, &gone[i]);
	} while (n == RELEASE_MAX);
}

ax_err ax_spool_commit(struct ax_spool_reader *rd, struct ax_spool_pos pos)
{
	struct ax_spool *sp = rd->sp;
	ax_err err = AX_OK;
	pthread_mutex_lock(&sp->lock);
	bool moved = pos_before(rd->cur->pos, pos);
	if (moved) {
		rd->cur->pos = pos;
		rd->cur->progress_ms = now_ms();
		err = save_cursors(sp); /* first: a crash must not leave a cursor in a deleted segment */
		pthread_cond_broadcast(&sp->changed);
	}
	pthread_mutex_unlock(&sp->lock);
	if (moved && !err)
		release_segments(sp);
	return err;
}

/* Under the spool's lock. */
static bool committed_all(const struct ax_spool_reader *rd)
{
	return rd->cur->pos.frame >= rd->sp->end;
}

bool ax_spool_caught_up(struct ax_spool_reader *rd)
{
	pthread_mutex_lock(&rd->sp->lock);
	bool done = committed_all(rd);
	pthread_mutex_unlock(&rd->sp->lock);
	return done;
}

void ax_spool_wait(struct ax_spool_reader *rd, int64_t timeout_ms, const atomic_int *draining)
{
	pthread_mutex_lock(&rd->sp->lock);
	bool done = atomic_load(draining) && committed_all(rd);
	if (rd->pos.frame >= readable_end(rd->sp) && !done) {
		if (syncs(rd->sp) && rd->sp->end > rd->sp->synced_end)
			wake_syncer(rd->sp, true); /* not only at a checkpoint: the outputs wait for it */
		wait_changed(rd->sp, timeout_ms);
	}
	pthread_mutex_unlock(&rd->sp->lock);
}

void ax_spool_reader_wake(struct ax_spool_reader *rd)
{
	pthread_mutex_lock(&rd->sp->lock); /* not between the waiter's look at draining and its wait */
	pthread_cond_broadcast(&rd->sp->changed);
	pthread_mutex_unlock(&rd->sp->lock);
}

uint64_t ax_spool_reader_take_dropped(struct ax_spool_reader *rd)
{
	pthread_mutex_lock(&rd->sp->lock);
	uint64_t n = rd->cur->dropped;
	rd->cur->dropped = 0;
	pthread_mutex_unlock(&rd->sp->lock);
	return n;
}

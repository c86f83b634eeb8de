#include "sources/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sources/checkpoint.h"
#include "sources/statefile.h"
#include "unit.h"

/* ---- checkpoints ---- */

#define SUFFIX "checkpoint"

char *ax_file_checkpoint_dir(const char *state_dir, const char *source, ax_err *err)
{
	/* "files" sits where the Microsoft sources put a tenant id: a source
	 * has one type, so the two never meet. */
	return ax_state_dir(state_dir, source, "files", err);
}

/* FNV-1a, 64 bits: names a checkpoint whose path is too long to spell,
 * and fingerprints the bytes before its offset. */
static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t ax_file_tail_hash(const char *bytes, size_t len)
{
	uint64_t h = fnv1a(bytes, len);
	return h ? h : 1; /* 0 means "not known" */
}

static char *absolute(const char *file)
{
	if (file[0] == '/')
		return strdup(file);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	size_t n = strlen(cwd) + strlen(file) + 2;
	char *abs = malloc(n);
	if (abs)
		snprintf(abs, n, "%s/%s", cwd, file);
	return abs;
}

char *ax_file_checkpoint_path(const char *dir, const char *file)
{
	char *abs = absolute(file);
	if (!abs)
		return NULL;
	char *path = ax_state_path(dir, abs, SUFFIX);
	if (path && strlen(path) - strlen(dir) - 1 > NAME_MAX) {
		char name[32];
		snprintf(name, sizeof(name), "path-%016" PRIx64, fnv1a(abs, strlen(abs)));
		free(path);
		path = ax_state_path(dir, name, SUFFIX);
	}
	free(abs);
	return path;
}

/* Device, inode and the fingerprint are unsigned 64-bit numbers; the
 * file holds signed ones, so they go through int64_t bit for bit. A
 * checkpoint written before the fingerprint existed loads with tail 0. */
#define POSITION_FIELDS 5

static void position_fields(int64_t v[POSITION_FIELDS], struct ax_checkpoint_field out[POSITION_FIELDS + 1])
{
	static const char *const names[POSITION_FIELDS] = { "device", "inode", "offset", "line", "tail" };
	for (size_t i = 0; i < POSITION_FIELDS; i++)
		out[i] = (struct ax_checkpoint_field){ names[i], &v[i] };
	out[POSITION_FIELDS] = (struct ax_checkpoint_field){ NULL, NULL };
}

ax_err ax_file_checkpoint_load(const char *path, struct ax_file_position *pos, bool *found)
{
	int64_t v[POSITION_FIELDS] = { 0 };
	struct ax_checkpoint_field fields[POSITION_FIELDS + 1];
	position_fields(v, fields);
	ax_err err = ax_checkpoint_fields_load(path, fields, found);
	if (!err && *found)
		*pos = (struct ax_file_position){ (uint64_t)v[0], (uint64_t)v[1], (uint64_t)v[2], (uint64_t)v[3],
						  (uint64_t)v[4] };
	return err;
}

ax_err ax_file_checkpoint_save(const char *path, const struct ax_file_position *pos)
{
	int64_t v[POSITION_FIELDS] = { (int64_t)pos->device, (int64_t)pos->inode, (int64_t)pos->offset,
				       (int64_t)pos->line, (int64_t)pos->tail };
	struct ax_checkpoint_field fields[POSITION_FIELDS + 1];
	position_fields(v, fields);
	return ax_checkpoint_fields_save(path, fields, AX_FILE_CHECKPOINT_SYNC_EVERY);
}

enum ax_file_resume ax_file_resume_decide(const struct ax_file_position *cp, bool found, uint64_t device,
					  uint64_t inode, uint64_t size, uint64_t tail)
{
	if (!found)
		return AX_FILE_RESUME_NONE;
	if (cp->device != device || cp->inode != inode)
		return AX_FILE_RESUME_REPLACED;
	if (size < cp->offset)
		return AX_FILE_RESUME_TRUNCATED;
	if (cp->tail && tail != cp->tail)
		return AX_FILE_RESUME_REWRITTEN;
	return AX_FILE_RESUME_AT;
}

/* The fingerprint of the file's bytes before offset, 0 when they cannot be read. */
static uint64_t tail_of(int fd, uint64_t offset)
{
	char bytes[AX_FILE_TAIL];
	size_t n = offset < AX_FILE_TAIL ? (size_t)offset : AX_FILE_TAIL;
	if (n == 0 || pread(fd, bytes, n, (off_t)(offset - n)) != (ssize_t)n)
		return 0;
	return ax_file_tail_hash(bytes, n);
}

/* ---- the reader ---- */

struct ax_file_source {
	char *name;
	bool follow, is_stdin;
	size_t max_record;
	glob_t files;
	size_t current; /* index into files */
	struct ax_line_reader lines;
	bool open;
	struct stat st; /* of the open file, to notice rotation */
	char *cp_dir;    /* NULL: no checkpoints */
	char **cp_paths; /* each file's checkpoint, set when it is opened */
};

static void log_resume(const struct ax_file_source *s, const char *path, enum ax_file_resume how,
		       const struct ax_file_position *cp)
{
	switch (how) {
	case AX_FILE_RESUME_NONE:
		ax_info(s->name, "reading %s", path);
		break;
	case AX_FILE_RESUME_REPLACED:
		ax_info(s->name, "%s is not the file its checkpoint names (another inode: rotated or replaced): "
			"reading it from the start", path);
		break;
	case AX_FILE_RESUME_TRUNCATED:
		ax_info(s->name, "%s is shorter than its checkpoint (%llu bytes): truncated, reading it from the start",
			path, (unsigned long long)cp->offset);
		break;
	case AX_FILE_RESUME_REWRITTEN:
		ax_info(s->name, "%s does not hold what its checkpoint read up to byte %llu: truncated and written "
			"again (copytruncate?), reading it from the start", path, (unsigned long long)cp->offset);
		break;
	case AX_FILE_RESUME_AT:
		if ((uint64_t)s->st.st_size == cp->offset && !s->lines.follow)
			ax_info(s->name, "%s was delivered to its end by an earlier run (checkpoint in %s): nothing new "
				"to read; checkpoint = false reads it again", path, s->cp_dir);
		else
			ax_info(s->name, "resuming %s at byte %llu (line %llu) from its checkpoint", path,
				(unsigned long long)cp->offset, (unsigned long long)cp->line);
		break;
	}
}

/* Where the open file starts: at its checkpoint when it is the same file. */
static ax_err resume(struct ax_file_source *s, const char *path)
{
	enum ax_file_resume how = AX_FILE_RESUME_NONE;
	struct ax_file_position cp = { 0 };
	if (s->cp_dir) {
		char **cp_path = &s->cp_paths[s->current];
		if (!*cp_path && !(*cp_path = ax_file_checkpoint_path(s->cp_dir, path)))
			return AX_ERR_NOMEM;
		bool found = false;
		ax_err err = ax_file_checkpoint_load(*cp_path, &cp, &found);
		if (err == AX_ERR_JSON) {
			ax_error(s->name, "checkpoint %s is damaged: reading %s from the start", *cp_path, path);
			found = false;
		} else if (err) {
			ax_error(s->name, "cannot read checkpoint %s: %s", *cp_path, strerror(errno));
			return err;
		}
		uint64_t tail = found && cp.tail && cp.offset <= (uint64_t)s->st.st_size ? tail_of(s->lines.fd, cp.offset) : 0;
		how = ax_file_resume_decide(&cp, found, (uint64_t)s->st.st_dev, (uint64_t)s->st.st_ino,
					    (uint64_t)s->st.st_size, tail);
	}
	log_resume(s, path, how, &cp);
	if (how != AX_FILE_RESUME_AT || cp.offset == 0)
		return AX_OK;
	if (lseek(s->lines.fd, (off_t)cp.offset, SEEK_SET) < 0) {
		ax_error(s->name, "cannot seek %s to its checkpoint: %s", path, strerror(errno));
		return AX_ERR_IO;
	}
	s->lines.consumed = cp.offset;
	s->lines.number = cp.line;
	return AX_OK;
}

static ax_err open_current(struct ax_file_source *s)
{
	const char *path = s->files.gl_pathv[s->current];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ax_error(s->name, "cannot open %s: %s", path, strerror(errno));
		return AX_ERR_IO;
	}
	ax_err err = ax_lines_init(&s->lines, fd, s->max_record);
	if (!err && fstat(fd, &s->st) != 0)
		err = AX_ERR_IO;
	s->lines.follow = s->follow && s->current + 1 == s->files.gl_pathc;
	if (!err)
		err = resume(s, path);
	if (err) {
		ax_lines_finish(&s->lines);
		close(fd);
		return err;
	}
	s->open = true;
	return AX_OK;
}

static void close_current(struct ax_file_source *s)
{
	if (!s->open)
		return;
	if (!s->is_stdin)
		close(s->lines.fd);
	ax_lines_finish(&s->lines);
	s->open = false;
}

static ax_err expand(struct ax_file_source *s, const char *pattern)
{
	int rc = glob(pattern, GLOB_ERR, NULL, &s->files);
	if (rc == 0)
		return AX_OK;
	if (rc == GLOB_NOMATCH)
		ax_error(s->name, "path %s: no such file (check the path, or create the file first)", pattern);
	else
		ax_error(s->name, "path %s: cannot list the matching files", pattern);
	return rc == GLOB_NOSPACE ? AX_ERR_NOMEM : AX_ERR_IO;
}

static ax_err checkpoints_init(struct ax_file_source *s, const char *state_dir)
{
	ax_err err;
	s->cp_dir = ax_file_checkpoint_dir(state_dir, s->name, &err);
	if (!s->cp_dir) {
		ax_error(s->name, "cannot create its state directory under %s (state_dir): %s (or set checkpoint = false)",
			 state_dir, strerror(errno));
		return err;
	}
	s->cp_paths = calloc(s->files.gl_pathc, sizeof(*s->cp_paths));
	return s->cp_paths ? AX_OK : AX_ERR_NOMEM;
}

struct ax_file_source *ax_file_source_open(const char *name, const struct ax_file_source_conf *conf,
					   size_t max_record, const char *state_dir, ax_err *err)
{
	struct ax_file_source *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	s->follow = conf->follow;
	s->max_record = max_record;
	s->is_stdin = strcmp(conf->path, "-") == 0;
	if (s->is_stdin) {
		*err = ax_lines_init(&s->lines, STDIN_FILENO, max_record);
		s->lines.follow = false; /* stdin ends when its writer closes it */
		s->open = *err == AX_OK;
	} else {
		*err = expand(s, conf->path);
		if (!*err && state_dir)
			*err = checkpoints_init(s, state_dir);
		if (!*err)
			*err = open_current(s);
	}
	if (*err) {
		ax_file_source_close(s);
		return NULL;
	}
	return s;
}

/* Following the last file: reopen it when it was replaced or truncated. */
static ax_err check_rotation(struct ax_file_source *s)
{
	struct stat now;
	const char *path = s->files.gl_pathv[s->current];
	if (stat(path, &now) != 0)
		return AX_ERR_AGAIN; /* between a rename and the new file's creation */
	bool replaced = now.st_ino != s->st.st_ino || now.st_dev != s->st.st_dev;
	bool truncated = !replaced && now.st_size < (off_t)(s->lines.consumed + s->lines.end);
	if (!replaced && !truncated)
		return AX_ERR_AGAIN;
	ax_info(s->name, "%s was %s: reading it from the start", path, replaced ? "replaced" : "truncated");
	close_current(s);
	char *cp_dir = s->cp_dir;
	s->cp_dir = NULL; /* the checkpoint names the file that went: not this one */
	ax_err err = open_current(s);
	s->cp_dir = cp_dir;
	return err ? err : AX_ERR_AGAIN;
}

ax_err ax_file_source_next(struct ax_file_source *s, struct ax_line *line)
{
	if (!s->open)
		return AX_ERR_LAST;
	ax_err err = ax_lines_next(&s->lines, line);
	if (err == AX_ERR_AGAIN)
		return check_rotation(s);
	if (err == AX_ERR_IO)
		ax_error(s->name, "cannot read %s: %s", ax_file_source_path(s), strerror(errno));
	return err;
}

ax_err ax_file_source_next_file(struct ax_file_source *s)
{
	close_current(s);
	if (s->is_stdin || s->current + 1 >= s->files.gl_pathc)
		return AX_ERR_LAST;
	s->current++;
	return open_current(s);
}

void ax_file_source_mark(const struct ax_file_source *s, size_t *file, struct ax_file_position *pos,
			 char tail[AX_FILE_TAIL], size_t *tail_len)
{
	*file = s->current;
	*pos = (struct ax_file_position){
		.device = (uint64_t)s->st.st_dev,
		.inode = (uint64_t)s->st.st_ino,
		.offset = s->lines.consumed + s->lines.start,
		.line = s->lines.number,
	};
	/* The bytes just read are still in the reader's buffer (unless the
	 * line was shorter than the fingerprint and the buffer moved on). */
	size_t n = pos->offset < AX_FILE_TAIL ? (size_t)pos->offset : AX_FILE_TAIL;
	*tail_len = n > 0 && s->lines.start >= n ? n : 0;
	if (*tail_len == AX_FILE_TAIL) /* the usual case, one fixed-size copy */
		memcpy(tail, s->lines.buf + s->lines.start - AX_FILE_TAIL, AX_FILE_TAIL);
	else
		memcpy(tail, s->lines.buf + s->lines.start - *tail_len, *tail_len);
}

size_t ax_file_source_count(const struct ax_file_source *s)
{
	return s->is_stdin ? 1 : s->files.gl_pathc;
}

const char *ax_file_source_checkpoint(const struct ax_file_source *s, size_t file)
{
	return s->cp_paths && file < s->files.gl_pathc ? s->cp_paths[file] : NULL;
}

const char *ax_file_source_path(const struct ax_file_source *s)
{
	return s->is_stdin ? "stdin" : s->files.gl_pathv[s->current < s->files.gl_pathc ? s->current : s->files.gl_pathc - 1];
}

void ax_file_source_close(struct ax_file_source *s)
{
	if (!s)
		return;
	close_current(s);
	if (s->cp_paths)
		for (size_t i = 0; i < s->files.gl_pathc; i++)
			free(s->cp_paths[i]);
	free(s->cp_paths);
	free(s->cp_dir);
	if (!s->is_stdin)
		globfree(&s->files);
	free(s->name);
	free(s);
}

/* ---- type = file as a running source ---- */

#define UNIT_RECORDS 1024
#define UNIT_BYTES (4u << 20)
#define UNITS_IN_FLIGHT 4
#define IDLE_MS 200

enum unit_state { UNIT_FREE, UNIT_IN_FLIGHT, UNIT_DONE_OK, UNIT_DONE_FAILED };

/* Where a unit ends: the position just past its last record. */
struct unit_mark {
	enum unit_state state;
	size_t file;
	struct ax_file_position end;
};

/* Units go back to the free list in the order they were pushed, whatever
 * the order the pipeline is done with them: the checkpoint of a file then
 * moves over an unbroken run of delivered units only. After a unit that
 * was not delivered (the agent is stopping) it moves no more in this run. */
struct file_runner {
	struct ax_source base;
	struct ax_file_source *reader;
	bool follow;
	struct ax_unit units[UNITS_IN_FLIGHT];
	struct unit_mark marks[UNITS_IN_FLIGHT];
	struct ax_unit *free_units[UNITS_IN_FLIGHT];
	size_t nfree;
	struct ax_unit *pending[UNITS_IN_FLIGHT]; /* pushed, oldest first */
	size_t npending;
	bool frozen;
	/* Per file (NULL without checkpoints): the position delivered,
	 * whether it still has to be written (dirty files lie in [lo, hi)),
	 * and whether it was this run (synced at the end). */
	struct ax_file_position *delivered;
	bool *dirty, *saved;
	size_t dirty_lo, dirty_hi;
	bool save_failing; /* logged once until a save works again */
	pthread_mutex_t lock;
	pthread_cond_t returned;
};

static struct unit_mark *mark_of(struct file_runner *f, const struct ax_unit *u)
{
	return &f->marks[u - f->units];
}

/* Under the lock. */
static void release(struct file_runner *f, struct ax_unit *u)
{
	mark_of(f, u)->state = UNIT_FREE;
	ax_unit_clear(u);
	f->free_units[f->nfree++] = u;
	pthread_cond_signal(&f->returned);
}

/* Under the lock: the position a delivered unit reached is now the file's. */
static void advance(struct file_runner *f, const struct unit_mark *m)
{
	if (!f->delivered)
		return;
	f->delivered[m->file] = m->end;
	f->dirty[m->file] = true;
	if (f->dirty_lo >= f->dirty_hi) {
		f->dirty_lo = m->file;
		f->dirty_hi = m->file + 1;
	} else {
		if (m->file < f->dirty_lo)
			f->dirty_lo = m->file;
		if (m->file >= f->dirty_hi)
			f->dirty_hi = m->file + 1;
	}
}

static void unit_done(struct ax_unit *u, bool ok)
{
	struct file_runner *f = u->owner;
	pthread_mutex_lock(&f->lock);
	mark_of(f, u)->state = ok ? UNIT_DONE_OK : UNIT_DONE_FAILED;
	while (f->npending > 0) {
		struct ax_unit *head = f->pending[0];
		struct unit_mark *m = mark_of(f, head);
		if (m->state == UNIT_IN_FLIGHT)
			break;
		if (m->state == UNIT_DONE_FAILED && !f->frozen)
			ax_info(f->base.name, "stopping with %zu records read but not safe yet (up to line %llu): the next "
				"run reads them again", head->count, (unsigned long long)m->end.line);
		f->frozen = f->frozen || m->state == UNIT_DONE_FAILED;
		if (!f->frozen)
			advance(f, m);
		memmove(f->pending, f->pending + 1, --f->npending * sizeof(f->pending[0]));
		release(f, head);
	}
	pthread_mutex_unlock(&f->lock);
}

/* Writes the positions delivered since the last call. In the source's
 * thread (or at destroy), never in the pipeline's: a save waits for the disk. */
static void save_checkpoints(struct file_runner *f)
{
	for (;;) {
		pthread_mutex_lock(&f->lock);
		size_t i = f->dirty_lo;
		while (i < f->dirty_hi && !f->dirty[i])
			i++;
		bool found = i < f->dirty_hi;
		struct ax_file_position pos = { 0 };
		if (found) {
			pos = f->delivered[i];
			f->dirty[i] = false;
		}
		f->dirty_lo = found ? i + 1 : f->dirty_hi;
		pthread_mutex_unlock(&f->lock);
		if (!found)
			return;
		const char *path = ax_file_source_checkpoint(f->reader, i);
		ax_err err = path ? ax_file_checkpoint_save(path, &pos) : AX_ERR_NOMEM;
		f->saved[i] = true;
		if (err && !f->save_failing)
			ax_error(f->base.name, "cannot write checkpoint %s: %s (a restart reads its records again)",
				 path ? path : "(no memory)", ax_strerror(err));
		else if (!err && f->save_failing)
			ax_info(f->base.name, "checkpoint written again");
		f->save_failing = err != AX_OK;
	}
}

/* At the end: the saves left to the kernel are synced. */
static void sync_checkpoints(struct file_runner *f)
{
	for (size_t i = 0; i < ax_file_source_count(f->reader); i++) {
		const char *path = f->saved[i] ? ax_file_source_checkpoint(f->reader, i) : NULL;
		if (path && ax_checkpoint_sync(path))
			ax_warn(f->base.name, "cannot sync checkpoint %s: %s", path, strerror(errno));
	}
}

/* A free unit, or NULL when the agent stops first. */
static struct ax_unit *take_unit(struct file_runner *f)
{
	struct ax_unit *u = NULL;
	pthread_mutex_lock(&f->lock);
	while (!f->nfree && !*f->base.env->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += IDLE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->returned, &f->lock, &ts);
	}
	if (f->nfree)
		u = f->free_units[--f->nfree];
	pthread_mutex_unlock(&f->lock);
	return u;
}

/* A unit that was never pushed (it holds no record). */
static void give_back(struct file_runner *f, struct ax_unit *u)
{
	pthread_mutex_lock(&f->lock);
	release(f, u);
	pthread_mutex_unlock(&f->lock);
}

/* False when the queue was closed: the unit came back as not delivered. */
static bool push_unit(struct file_runner *f, struct ax_unit *u)
{
	pthread_mutex_lock(&f->lock);
	mark_of(f, u)->state = UNIT_IN_FLIGHT;
	f->pending[f->npending++] = u;
	pthread_mutex_unlock(&f->lock);
	if (ax_queue_push(f->base.env->queue, u))
		return true; /* from here u belongs to the pipeline */
	unit_done(u, false);
	return false;
}

static void nap(void)
{
	struct timespec ts = { 0, IDLE_MS * 1000000L };
	nanosleep(&ts, NULL);
}

/* Reads lines of one file into u until it is full, the file ends
 * (AX_ERR_LAST) or has nothing more now (AX_ERR_AGAIN). */
static ax_err fill_unit(struct file_runner *f, struct ax_unit *u)
{
	struct ax_line line;
	struct unit_mark *m = mark_of(f, u);
	char tail[AX_FILE_TAIL];
	size_t tail_len = 0;
	ax_err err = AX_OK;
	while (!err && u->count < UNIT_RECORDS && u->data.len < UNIT_BYTES) {
		err = ax_file_source_next(f->reader, &line);
		if (err || ax_line_is_blank(&line))
			continue;
		err = ax_unit_add(u, line.data, line.len, line.number, line.offset, line.full_len, line.oversized);
		if (!err) /* the fingerprint (a hash of 64 bytes) is the last line's only */
			ax_file_source_mark(f->reader, &m->file, &m->end, tail, &tail_len);
	}
	if (tail_len)
		m->end.tail = ax_file_tail_hash(tail, tail_len);
	return err;
}

static bool file_run(struct ax_source *src)
{
	struct file_runner *f = (struct file_runner *)src;
	const atomic_int *stop = src->env->stop;
	for (;;) {
		struct ax_unit *u = take_unit(f);
		/* Before the unit holds new records: what was sent but is not
		 * in the checkpoint file then belongs to the units in flight,
		 * and that is all a crash can send twice. */
		save_checkpoints(f);
		if (!u)
			return false;
		ax_err err = fill_unit(f, u);
		size_t n = u->count; /* once pushed, u belongs to the pipeline */
		bool pushed = n > 0 && push_unit(f, u);
		if (n == 0)
			give_back(f, u);
		if (*stop || (n > 0 && !pushed))
			return false;
		if (err == AX_ERR_LAST) /* this file is read: on to the next, if any */
			err = ax_file_source_next_file(f->reader);
		if (err == AX_ERR_AGAIN && !pushed)
			nap();
		else if (err && err != AX_ERR_AGAIN)
			return err == AX_ERR_LAST; /* the end, or a read error already logged */
	}
}

static bool file_finite(const struct ax_source *src)
{
	return !((const struct file_runner *)src)->follow;
}

static void file_destroy(struct ax_source *src)
{
	struct file_runner *f = (struct file_runner *)src;
	if (!f)
		return;
	if (f->reader && f->delivered && f->saved) {
		save_checkpoints(f); /* what was delivered after run returned */
		sync_checkpoints(f);
	}
	ax_file_source_close(f->reader);
	for (size_t i = 0; i < UNITS_IN_FLIGHT; i++)
		ax_unit_finish(&f->units[i]);
	free(f->delivered);
	free(f->dirty);
	free(f->saved);
	pthread_cond_destroy(&f->returned);
	pthread_mutex_destroy(&f->lock);
	free(f->base.name);
	free(f);
}

static struct ax_source *file_create(const char *name, const void *conf, const struct ax_source_env *env,
				     ax_err *err)
{
	const struct ax_file_source_conf *c = conf;
	struct file_runner *f = calloc(1, sizeof(*f));
	if (!f || !(f->base.name = strdup(name))) {
		free(f);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->returned, NULL);
	f->base.ops = &ax_source_file_ops;
	f->base.env = env;
	f->follow = c->follow;
	for (size_t i = 0; i < UNITS_IN_FLIGHT; i++) {
		ax_unit_init(&f->units[i], UNIT_BYTES + env->agent->max_record_size + AX_LINES_PREFIX_KEEP);
		f->units[i].origin = (struct ax_origin){ .source = f->base.name, .type = "file" };
		f->units[i].done = unit_done;
		f->units[i].owner = f;
		f->free_units[f->nfree++] = &f->units[i];
	}
	bool checkpoints = c->checkpoint && strcmp(c->path, "-") != 0; /* stdin cannot be resumed */
	f->reader = ax_file_source_open(name, c, env->agent->max_record_size,
					checkpoints ? env->agent->state_dir : NULL, err);
	if (f->reader && checkpoints) {
		size_t n = ax_file_source_count(f->reader);
		f->delivered = calloc(n, sizeof(*f->delivered));
		f->dirty = calloc(n, sizeof(*f->dirty));
		f->saved = calloc(n, sizeof(*f->saved));
		if (!f->delivered || !f->dirty || !f->saved)
			*err = AX_ERR_NOMEM;
	}
	if (!f->reader || *err) {
		file_destroy(&f->base);
		return NULL;
	}
	return &f->base;
}

const struct ax_source_ops ax_source_file_ops = {
	.type = "file",
	.create = file_create,
	.run = file_run,
	.finite = file_finite,
	.destroy = file_destroy,
};

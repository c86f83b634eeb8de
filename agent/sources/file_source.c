#include "sources/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

struct ax_file_source {
	char *name;
	bool follow, is_stdin;
	size_t max_record;
	glob_t files;
	size_t current; /* index into files */
	struct ax_line_reader lines;
	bool open;
	struct stat st; /* of the open file, to notice rotation */
};

static ax_err open_current(struct ax_file_source *s)
{
	const char *path = s->files.gl_pathv[s->current];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ax_error(s->name, "cannot open %s: %s", path, strerror(errno));
		return AX_ERR_IO;
	}
	ax_err err = ax_lines_init(&s->lines, fd, s->max_record);
	if (err || fstat(fd, &s->st) != 0) {
		ax_lines_finish(&s->lines);
		close(fd);
		return err ? err : AX_ERR_IO;
	}
	s->lines.follow = s->follow && s->current + 1 == s->files.gl_pathc;
	s->open = true;
	ax_info(s->name, "reading %s", path);
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

struct ax_file_source *ax_file_source_open(const char *name, const struct ax_file_source_conf *conf,
					   size_t max_record, ax_err *err)
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
	ax_err err = open_current(s);
	return err ? err : AX_ERR_AGAIN;
}

ax_err ax_file_source_next(struct ax_file_source *s, struct ax_line *line)
{
	for (;;) {
		if (!s->open)
			return AX_ERR_LAST;
		ax_err err = ax_lines_next(&s->lines, line);
		if (err == AX_ERR_AGAIN)
			return check_rotation(s);
		if (err == AX_ERR_IO)
			ax_error(s->name, "cannot read %s: %s", ax_file_source_path(s), strerror(errno));
		if (err != AX_ERR_LAST)
			return err;
		close_current(s);
		if (s->is_stdin || ++s->current >= s->files.gl_pathc)
			return AX_ERR_LAST;
		if ((err = open_current(s)))
			return err;
	}
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

struct file_runner {
	struct ax_source base;
	struct ax_file_source *reader;
	bool follow;
	struct ax_unit units[UNITS_IN_FLIGHT];
	struct ax_unit *free_units[UNITS_IN_FLIGHT];
	size_t nfree;
	pthread_mutex_t lock;
	pthread_cond_t returned;
};

static void unit_done(struct ax_unit *u, bool ok)
{
	(void)ok; /* a file has no checkpoint to move */
	struct file_runner *f = u->owner;
	pthread_mutex_lock(&f->lock);
	ax_unit_clear(u);
	f->free_units[f->nfree++] = u;
	pthread_cond_signal(&f->returned);
	pthread_mutex_unlock(&f->lock);
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

static void nap(void)
{
	struct timespec ts = { 0, IDLE_MS * 1000000L };
	nanosleep(&ts, NULL);
}

/* Reads lines into u until it is full or the input has nothing more now. */
static ax_err fill_unit(struct file_runner *f, struct ax_unit *u)
{
	struct ax_line line;
	while (u->count < UNIT_RECORDS && u->data.len < UNIT_BYTES) {
		ax_err err = ax_file_source_next(f->reader, &line);
		if (err)
			return err;
		if (ax_line_is_blank(&line))
			continue;
		err = ax_unit_add(u, line.data, line.len, line.number, line.offset, line.full_len, line.oversized);
		if (err)
			return err;
	}
	return AX_OK;
}

static bool file_run(struct ax_source *src)
{
	struct file_runner *f = (struct file_runner *)src;
	const atomic_int *stop = src->env->stop;
	for (;;) {
		struct ax_unit *u = take_unit(f);
		if (!u)
			return false;
		ax_err err = fill_unit(f, u);
		size_t n = u->count; /* once pushed, u belongs to the pipeline */
		bool pushed = n > 0 && ax_queue_push(src->env->queue, u);
		if (!pushed)
			unit_done(u, false);
		if (*stop || (n > 0 && !pushed))
			return false;
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
	ax_file_source_close(f->reader);
	for (size_t i = 0; i < UNITS_IN_FLIGHT; i++)
		ax_unit_finish(&f->units[i]);
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
	f->reader = ax_file_source_open(name, c, env->agent->max_record_size, err);
	if (!f->reader) {
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

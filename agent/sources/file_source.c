#include "sources/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

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

#include "sources/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Letters, digits, '.', '-' and '_' stay; anything else becomes %XX, and a
 * leading '.' too, so neither "." nor ".." can come out. */
static ax_err add_escaped(struct ax_buf *b, const char *s)
{
	ax_err err = s[0] ? AX_OK : ax_buf_addc(b, '_');
	for (size_t i = 0; s[i] && !err; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			     c == '-' || c == '_' || (c == '.' && i > 0);
		err = plain ? ax_buf_addc(b, (char)c) : ax_buf_addf(b, "%%%02X", c);
	}
	return err ? err : ax_buf_cstr(b);
}

static ax_err make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return AX_OK;
	return AX_ERR_IO;
}

char *ax_state_dir(const char *state_dir, const char *source, const char *tenant, ax_err *err)
{
	struct ax_buf b;
	ax_buf_init(&b, 8192);
	*err = ax_buf_adds(&b, state_dir);
	if (!*err)
		*err = ax_buf_cstr(&b);
	if (!*err)
		*err = make_dir(b.data);
	if (!*err)
		*err = ax_buf_adds(&b, "/sources");
	if (!*err)
		*err = ax_buf_cstr(&b);
	if (!*err)
		*err = make_dir(b.data);
	const char *parts[] = { source, tenant };
	for (size_t i = 0; i < 2 && !*err; i++) {
		*err = ax_buf_addc(&b, '/');
		if (!*err)
			*err = add_escaped(&b, parts[i]);
		if (!*err)
			*err = make_dir(b.data);
	}
	if (*err) {
		ax_buf_finish(&b);
		return NULL;
	}
	return b.data;
}

char *ax_state_path(const char *dir, const char *name, const char *suffix)
{
	struct ax_buf b;
	ax_buf_init(&b, 8192);
	ax_err err = ax_buf_addf(&b, "%s/", dir);
	if (!err)
		err = add_escaped(&b, name);
	if (!err)
		err = ax_buf_addf(&b, ".%s", suffix);
	if (!err)
		err = ax_buf_cstr(&b);
	if (err) {
		ax_buf_finish(&b);
		return NULL;
	}
	return b.data;
}

ax_err ax_state_sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return AX_ERR_NOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return AX_ERR_IO;
	int rc = fsync(fd);
	close(fd);
	return rc == 0 ? AX_OK : AX_ERR_IO;
}

static ax_err write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return AX_ERR_IO;
		data += n;
		len -= (size_t)n;
	}
	return AX_OK;
}

ax_err ax_state_write(const char *path, const void *data, size_t len)
{
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(n);
	if (!tmp)
		return AX_ERR_NOMEM;
	snprintf(tmp, n, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ax_err err = fd < 0 ? AX_ERR_IO : write_all(fd, data, len);
	if (fd >= 0 && !err && fsync(fd) != 0)
		err = AX_ERR_IO;
	if (fd >= 0 && close(fd) != 0 && !err)
		err = AX_ERR_IO;
	if (!err && rename(tmp, path) != 0)
		err = AX_ERR_IO;
	if (err)
		unlink(tmp);
	free(tmp);
	return err ? err : ax_state_sync_dir(path);
}

ax_err ax_state_read(const char *path, struct ax_buf *out, bool *exists)
{
	ax_buf_clear(out);
	*exists = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ax_buf_cstr(out) : AX_ERR_IO;
	*exists = true;
	ax_err err = AX_OK;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? AX_ERR_IO : AX_OK;
			break;
		}
		if ((err = ax_buf_add(out, chunk, (size_t)n)))
			break;
	}
	close(fd);
	return err ? err : ax_buf_cstr(out);
}

#include "sources/seen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sources/statefile.h"

#define MAGIC "AXSEEN1\n"
#define MAGIC_LEN 8
#define KEY_LEN 16
#define READ_KEYS 4096

struct ax_seen {
	struct ax_dedup *set;
	char *path;
	char *name;
	int fd;              /* the journal, open for appending */
	size_t on_disk;      /* keys in it */
	bool damaged;        /* a write failed midway: rewrite it whole next time */
	struct ax_buf queued; /* confirmed keys not written yet */
};

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

/* Reads every whole key after the magic; returns how many, or -1 when the
 * file is not a journal. */
static long long read_keys(struct ax_seen *s, int fd)
{
	char magic[MAGIC_LEN];
	if (read(fd, magic, MAGIC_LEN) != MAGIC_LEN || memcmp(magic, MAGIC, MAGIC_LEN) != 0)
		return -1;
	uint8_t chunk[READ_KEYS * KEY_LEN];
	size_t have = 0;
	long long keys = 0;
	for (;;) {
		ssize_t n = read(fd, chunk + have, sizeof(chunk) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		size_t whole = have / KEY_LEN;
		for (size_t i = 0; i < whole; i++)
			ax_dedup_add(s->set, (const struct ax_key *)(chunk + i * KEY_LEN));
		keys += (long long)whole;
		memmove(chunk, chunk + whole * KEY_LEN, have % KEY_LEN);
		have %= KEY_LEN;
	}
	return keys;
}

struct snapshot {
	struct ax_buf b;
	ax_err err;
};

static bool add_key(const struct ax_key *k, void *arg)
{
	struct snapshot *snap = arg;
	snap->err = ax_buf_add(&snap->b, k->b, KEY_LEN);
	return snap->err == AX_OK;
}

/* Rewrites the journal with the keys the set holds, and reopens it. */
static ax_err compact(struct ax_seen *s)
{
	struct snapshot snap = { .err = AX_OK };
	ax_buf_init(&snap.b, (size_t)-1 / 2);
	snap.err = ax_buf_add(&snap.b, MAGIC, MAGIC_LEN);
	if (!snap.err)
		ax_dedup_each(s->set, add_key, &snap);
	ax_err err = snap.err ? snap.err : ax_state_write(s->path, snap.b.data, snap.b.len);
	ax_buf_finish(&snap.b);
	if (err)
		return err;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	s->on_disk = ax_dedup_count(s->set);
	return s->fd >= 0 ? AX_OK : AX_ERR_IO;
}

static ax_err load(struct ax_seen *s)
{
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return AX_ERR_IO;
	long long keys = fd >= 0 ? read_keys(s, fd) : 0;
	if (fd >= 0)
		close(fd);
	if (keys < 0)
		ax_warn(s->name, "%s is not an id journal: starting with an empty set of seen ids", s->path);
	if (fd < 0 || keys < 0)
		return compact(s);
	/* a torn last key would shift every key appended after it */
	if (truncate(s->path, (off_t)(MAGIC_LEN + (size_t)keys * KEY_LEN)) != 0)
		return AX_ERR_IO;
	s->on_disk = (size_t)keys;
	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	return s->fd >= 0 ? AX_OK : AX_ERR_IO;
}

struct ax_seen *ax_seen_open(const char *path, size_t capacity, const char *log_name, ax_err *err)
{
	struct ax_seen *s = calloc(1, sizeof(*s));
	if (!s) {
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	s->fd = -1;
	ax_buf_init(&s->queued, (size_t)-1 / 2);
	s->set = ax_dedup_create(capacity);
	s->path = strdup(path);
	s->name = strdup(log_name);
	*err = s->set && s->path && s->name ? load(s) : AX_ERR_NOMEM;
	if (*err) {
		ax_seen_close(s);
		return NULL;
	}
	return s;
}

void ax_seen_close(struct ax_seen *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	ax_dedup_destroy(s->set);
	ax_buf_finish(&s->queued);
	free(s->path);
	free(s->name);
	free(s);
}

bool ax_seen_claim(struct ax_seen *s, const struct ax_key *k)
{
	return ax_dedup_claim(s->set, k);
}

bool ax_seen_has(const struct ax_seen *s, const struct ax_key *k)
{
	return ax_dedup_has(s->set, k);
}

void ax_seen_confirm(struct ax_seen *s, const struct ax_key *k)
{
	ax_dedup_confirm(s->set, k);
	if (ax_buf_add(&s->queued, k->b, KEY_LEN))
		ax_debug(s->name, "out of memory queueing a seen id: it will not survive a restart");
}

void ax_seen_release(struct ax_seen *s, const struct ax_key *k)
{
	ax_dedup_release(s->set, k);
}

size_t ax_seen_count(const struct ax_seen *s)
{
	return ax_dedup_count(s->set);
}

ax_err ax_seen_sync(struct ax_seen *s)
{
	if (!s->queued.len)
		return AX_OK;
	size_t keys = s->queued.len / KEY_LEN;
	ax_err err;
	if (s->damaged || s->on_disk + keys > 2 * ax_dedup_capacity(s->set))
		err = compact(s);
	else if (!(err = write_all(s->fd, s->queued.data, s->queued.len)) && fdatasync(s->fd) != 0)
		err = AX_ERR_IO;
	else if (!err)
		s->on_disk += keys;
	s->damaged = err != AX_OK;
	ax_buf_clear(&s->queued);
	return err;
}

#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

ax_err ax_lines_init(struct ax_line_reader *r, int fd, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max_line;
	r->cap = CHUNK;
	r->buf = malloc(r->cap);
	r->prefix = malloc(AX_LINES_PREFIX_KEEP);
	return r->buf && r->prefix ? AX_OK : AX_ERR_NOMEM;
}

void ax_lines_finish(struct ax_line_reader *r)
{
	free(r->buf);
	free(r->prefix);
	memset(r, 0, sizeof(*r));
}

/* Moves the unread bytes to the front and makes room for a read. */
static ax_err make_room(struct ax_line_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->consumed += r->start;
		r->scanned -= r->start;
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end >= CHUNK / 4)
		return AX_OK;
	size_t cap = r->cap * 2;
	char *buf = realloc(r->buf, cap);
	if (!buf)
		return AX_ERR_NOMEM;
	r->buf = buf;
	r->cap = cap;
	return AX_OK;
}

static ax_err fill(struct ax_line_reader *r)
{
	ax_err err = make_room(r);
	if (err)
		return err;
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n > 0) {
			r->end += (size_t)n;
			return AX_OK;
		}
		if (n == 0) {
			r->eof = true;
			return AX_OK;
		}
		if (errno != EINTR)
			return AX_ERR_IO;
	}
}

static void emit(struct ax_line_reader *r, struct ax_line *line, size_t len, size_t skip)
{
	line->data = r->buf + r->start;
	line->offset = r->consumed + r->start;
	line->number = ++r->number;
	line->oversized = false;
	r->start += len + skip;
	r->scanned = r->start;
	if (len > 0 && line->data[len - 1] == '\r')
		len--;
	line->len = len;
	line->full_len = len;
}

/* Keeps the first bytes of an over-long line and skips the rest of it. */
static ax_err skip_oversized(struct ax_line_reader *r, struct ax_line *line)
{
	line->offset = r->consumed + r->start;
	line->number = ++r->number;
	line->oversized = true;
	const char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
	size_t avail = nl ? (size_t)(nl - (r->buf + r->start)) : r->end - r->start;
	line->len = avail < AX_LINES_PREFIX_KEEP ? avail : AX_LINES_PREFIX_KEEP;
	memcpy(r->prefix, r->buf + r->start, line->len);
	line->data = r->prefix;
	uint64_t total = 0;
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		size_t upto = nl ? (size_t)(nl - r->buf) : r->end;
		total += upto - r->start;
		r->start = nl ? upto + 1 : upto;
		r->scanned = r->start;
		if (nl || r->eof)
			break;
		ax_err err = fill(r);
		if (err)
			return err;
	}
	line->full_len = total;
	return AX_OK;
}

/* A line's length without the CR of a CRLF ending: the record's length. */
static size_t record_len(const struct ax_line_reader *r, size_t len)
{
	return len > 0 && r->buf[r->start + len - 1] == '\r' ? len - 1 : len;
}

ax_err ax_lines_next(struct ax_line_reader *r, struct ax_line *line)
{
	for (;;) {
		char *nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
		if (nl) {
			size_t len = (size_t)(nl - (r->buf + r->start));
			if (record_len(r, len) > r->max)
				return skip_oversized(r, line);
			emit(r, line, len, 1);
			return AX_OK;
		}
		r->scanned = r->end;
		if (r->end - r->start > r->max + 1) /* + a CR that may end it */
			return skip_oversized(r, line);
		if (r->eof && r->follow) {
			r->eof = false; /* the writer may not have finished this line */
			return AX_ERR_AGAIN;
		}
		if (r->eof) {
			if (r->end == r->start)
				return AX_ERR_LAST;
			if (record_len(r, r->end - r->start) > r->max)
				return skip_oversized(r, line);
			emit(r, line, r->end - r->start, 0);
			return AX_OK;
		}
		ax_err err = fill(r);
		if (err)
			return err;
	}
}

bool ax_line_is_blank(const struct ax_line *line)
{
	for (size_t i = 0; i < line->len; i++)
		if (line->data[i] != ' ' && line->data[i] != '\t' && line->data[i] != '\r')
			return false;
	return !line->oversized;
}

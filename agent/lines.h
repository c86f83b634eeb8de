/* lines.h - JSON-lines reader with a per-record size cap.
 *
 * Reads big chunks and hands out one line at a time, without copying. A line
 * longer than the cap is never buffered whole: its first bytes are kept for
 * the dead-letter file and the rest is skipped as it streams by. */
#ifndef AX_AGENT_LINES_H
#define AX_AGENT_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define AX_LINES_PREFIX_KEEP (64 * 1024)

struct ax_line {
	const char *data; /* without the newline (and a trailing CR) */
	size_t len;       /* oversized: the kept prefix's length */
	uint64_t offset;  /* byte offset of the line in the stream */
	uint64_t number;  /* 1-based */
	bool oversized;
	uint64_t full_len; /* the whole line's length (oversized lines included) */
};

struct ax_line_reader {
	int fd;
	size_t max;
	char *buf;
	size_t cap, start, end, scanned;
	uint64_t consumed; /* stream offset of buf[0] */
	uint64_t number;
	bool eof;
	bool follow; /* at the end, wait for more instead of ending a partial line */
	char *prefix; /* oversized line's first bytes */
};

ax_err ax_lines_init(struct ax_line_reader *r, int fd, size_t max_line) AX_WARN_UNUSED;
void ax_lines_finish(struct ax_line_reader *r);
/* AX_OK with a line, AX_ERR_LAST at the end of input (AX_ERR_AGAIN when
 * following: read again later), AX_ERR_IO on a read error. */
ax_err ax_lines_next(struct ax_line_reader *r, struct ax_line *line) AX_WARN_UNUSED;
/* Only blanks (skipped between records, never dead-lettered). */
bool ax_line_is_blank(const struct ax_line *line);

#endif

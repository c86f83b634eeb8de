/* deadletter.h - the dead-letter file: records that could not be processed
 * or delivered, one JSON object a line, with why and where.
 *
 * {"time": "...Z", "source": "...", "stage": "decode", "reason": "...",
 *  "line": 3, "offset": 1234, "length": 56, "raw": "..."}
 * The raw bytes are a JSON string when they are valid UTF-8, otherwise
 * "raw_base64"; a record too large to keep has "truncated": true and its
 * first 64 KiB. */
#ifndef AX_AGENT_DEADLETTER_H
#define AX_AGENT_DEADLETTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "lines.h"
#include "utf8.h"

/* Writes are serialised: the pipeline and every output thread share one. */
struct ax_deadletter {
	pthread_mutex_t lock;
	FILE *fp; /* NULL: only counted and logged */
	char *path;
	uint64_t count;
	struct ax_buf line;
};

struct ax_dead_record {
	const char *source;
	const char *stage; /* decode, or the output's name */
	const char *reason;
	uint64_t line;
	uint64_t offset;
	uint64_t length; /* of the whole record */
	const char *raw;
	size_t raw_len;  /* may be less than length: truncated */
};

/* path NULL: no file. */
ax_err ax_deadletter_open(struct ax_deadletter *dl, const char *path) AX_WARN_UNUSED;
void ax_deadletter_close(struct ax_deadletter *dl);
ax_err ax_deadletter_write(struct ax_deadletter *dl, const struct ax_dead_record *rec) AX_WARN_UNUSED;
/* A record read as a line that could not be decoded (stage "decode"). */
ax_err ax_deadletter_write_line(struct ax_deadletter *dl, const char *source, const struct ax_line *line,
				const char *reason) AX_WARN_UNUSED;

#endif

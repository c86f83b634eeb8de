/* file_source.h - type = file: JSON lines from files, a glob, or stdin.
 *
 * Replay (follow = false) reads every matching file once, in name order,
 * and ends. Follow reads to the end and then waits for more, like tail -F:
 * a file replaced (new inode) or truncated is read again from its start. */
#ifndef AX_AGENT_SOURCES_FILE_SOURCE_H
#define AX_AGENT_SOURCES_FILE_SOURCE_H

#include "err.h"
#include "lines.h"
#include "sources/source.h"

struct ax_file_source;

/* Fails (logged, naming the path) when nothing matches or a file cannot be opened. */
struct ax_file_source *ax_file_source_open(const char *name, const struct ax_file_source_conf *conf,
					   size_t max_record, ax_err *err);
/* AX_OK with a line; AX_ERR_AGAIN: following, nothing new yet; AX_ERR_LAST:
 * replay finished; AX_ERR_IO (logged). */
ax_err ax_file_source_next(struct ax_file_source *s, struct ax_line *line) AX_WARN_UNUSED;
/* The file the last line came from. */
const char *ax_file_source_path(const struct ax_file_source *s);
void ax_file_source_close(struct ax_file_source *s);

/* type = file as a running source: units of up to 1024 lines. */
extern const struct ax_source_ops ax_source_file_ops;

#endif

/* file_source.h - type = file: JSON lines from files, a glob, or stdin.
 *
 * Replay (follow = false) reads every matching file once, in name order,
 * and ends. Follow reads to the end and then waits for more, like tail -F:
 * a file replaced (new inode) or truncated is read again from its start.
 *
 * With checkpoint = true (the default) each file resumes where the last
 * run's delivery ended (see checkpoints below): its position moves once
 * the pipeline is done with a unit (done(ok)), over delivered units in the
 * order they were pushed, and is written from the source's own thread.
 * After a kill -9 a file is read again from the end of the last unit
 * written: at most the units in flight (4 of up to 1024 records) twice. */
#ifndef AX_AGENT_SOURCES_FILE_SOURCE_H
#define AX_AGENT_SOURCES_FILE_SOURCE_H

#include <stddef.h>

#include "err.h"
#include "lines.h"
#include "sources/source.h"

/* ---- checkpoints ----
 *
 * One per file path, in state_dir/sources/SOURCE/files/: the file's device
 * and inode, the byte offset (and line number) just past the last record
 * whose unit the pipeline was done with (done(ok)), and a fingerprint of
 * the bytes before that offset. At start a file resumes at that offset
 * when it is still the same file (same device and inode), not shorter, and
 * holds the same bytes there; a file replaced (rotated), truncated, or
 * truncated and written again past the offset (logrotate's copytruncate
 * while the agent was down) is read from its start. The offset only ever
 * names the end of a whole line, so a resumed file never starts mid-record. */
#define AX_FILE_TAIL 64 /* bytes before the offset the fingerprint covers */

struct ax_file_position {
	uint64_t device, inode;
	uint64_t offset; /* bytes read and taken: the next record starts here */
	uint64_t line;   /* lines before offset, for the dead-letter file */
	uint64_t tail;   /* ax_file_tail_hash of the AX_FILE_TAIL bytes before offset (fewer at the start); 0: unknown */
};

enum ax_file_resume {
	AX_FILE_RESUME_NONE,      /* no checkpoint: read from the start */
	AX_FILE_RESUME_AT,        /* the same file: resume at the checkpoint */
	AX_FILE_RESUME_REPLACED,  /* another inode (rotated): from the start */
	AX_FILE_RESUME_TRUNCATED, /* shorter than the checkpoint: from the start */
	AX_FILE_RESUME_REWRITTEN, /* other bytes before the offset: from the start */
};

/* state_dir/sources/SOURCE/files, made (mode 0700) with its parents; free it.
 * NULL (err set) when it cannot be made. */
char *ax_file_checkpoint_dir(const char *state_dir, const char *source, ax_err *err);
/* dir/NAME.checkpoint for a file (its absolute path, escaped; a path too
 * long for a file name is named by its hash); free it. */
char *ax_file_checkpoint_path(const char *dir, const char *file);
/* AX_OK with *found false when the file has no checkpoint yet; AX_ERR_JSON
 * when the checkpoint is damaged; AX_ERR_IO when it cannot be read. */
ax_err ax_file_checkpoint_load(const char *path, struct ax_file_position *pos, bool *found) AX_WARN_UNUSED;
/* Synced every AX_FILE_CHECKPOINT_SYNC_EVERY saves (a source saves once per
 * unit): waiting for the disk at every unit held the source's reading up,
 * and a disk spool's pipeline waited for it. ax_checkpoint_sync syncs the
 * rest. */
#define AX_FILE_CHECKPOINT_SYNC_EVERY 8
ax_err ax_file_checkpoint_save(const char *path, const struct ax_file_position *pos) AX_WARN_UNUSED;
/* What to do with a file that now has this device, inode and size, and
 * whose bytes before the checkpoint's offset have this fingerprint. */
enum ax_file_resume ax_file_resume_decide(const struct ax_file_position *cp, bool found, uint64_t device,
					  uint64_t inode, uint64_t size, uint64_t tail);
/* Never 0. */
uint64_t ax_file_tail_hash(const char *bytes, size_t len);

/* ---- the reader ---- */

struct ax_file_source;

/* Fails (logged, naming the path) when nothing matches or a file cannot be
 * opened. state_dir: where the checkpoints are (NULL: none, every file is
 * read from its start); the first file is opened at its checkpoint. */
struct ax_file_source *ax_file_source_open(const char *name, const struct ax_file_source_conf *conf,
					   size_t max_record, const char *state_dir, ax_err *err);
/* AX_OK with a line; AX_ERR_AGAIN: following, nothing new yet; AX_ERR_LAST:
 * this file is read to its end (see next_file); AX_ERR_IO (logged). */
ax_err ax_file_source_next(struct ax_file_source *s, struct ax_line *line) AX_WARN_UNUSED;
/* Opens the next file of the glob (at its checkpoint); AX_ERR_LAST when
 * there is none: the replay is over. */
ax_err ax_file_source_next_file(struct ax_file_source *s) AX_WARN_UNUSED;
/* The file (index in name order) and the position just past the last line
 * read, with tail 0, and the bytes its fingerprint covers copied into tail
 * (*tail_len of them; 0: unknown): a caller that marks every line hashes
 * the last one's only (ax_file_tail_hash). */
void ax_file_source_mark(const struct ax_file_source *s, size_t *file, struct ax_file_position *pos,
			 char tail[AX_FILE_TAIL], size_t *tail_len);
/* How many files the glob matched (1 for stdin). */
size_t ax_file_source_count(const struct ax_file_source *s);
/* The checkpoint file of file (an index), NULL before it was opened or without checkpoints. */
const char *ax_file_source_checkpoint(const struct ax_file_source *s, size_t file);
/* The file the last line came from. */
const char *ax_file_source_path(const struct ax_file_source *s);
void ax_file_source_close(struct ax_file_source *s);

/* type = file as a running source: units of up to 1024 lines, 4 in flight. */
extern const struct ax_source_ops ax_source_file_ops;

#endif

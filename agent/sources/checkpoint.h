/* checkpoint.h - where a stream (source x tenant x content type or log,
 * or a file of type = file) resumes after a restart.
 *
 * A small text file: "annexa-checkpoint 1", one "name value" line per
 * field, and "end". It holds two such copies, 1 KiB each, with their
 * generation and crc; a save overwrites one in place (checkpoint.c).
 * A copy without its "end" line, with a line that does not parse or a crc
 * that does not match, does not count; with none left the file is refused
 * as a whole (the stream then starts as on a first run, and says so),
 * never half-read. A file of one copy (version 1) reads too. */
#ifndef AX_AGENT_SOURCES_CHECKPOINT_H
#define AX_AGENT_SOURCES_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct ax_checkpoint {
	int64_t cursor;        /* o365: epoch seconds; Graph: 100 ns ticks since the epoch */
	int64_t subscribed_at; /* o365: when the subscription was last started (epoch s), 0: never */
};

/* AX_OK with *found false when there is no checkpoint yet; AX_ERR_JSON
 * when the file is damaged; AX_ERR_IO when it cannot be read. */
ax_err ax_checkpoint_load(const char *path, struct ax_checkpoint *cp, bool *found) AX_WARN_UNUSED;
ax_err ax_checkpoint_save(const char *path, const struct ax_checkpoint *cp) AX_WARN_UNUSED;

/* The same file with the caller's fields (at most 8, the list ended by a
 * NULL name): a load sets every field (0 when the file lacks it) or, when
 * the file is damaged or absent, none. A save is synced (fdatasync) every
 * sync_every saves (ax_checkpoint_save: every one); those between are left
 * to the kernel: a power cut may lose up to sync_every - 1 of them, never
 * the copy synced before them. */
struct ax_checkpoint_field {
	const char *name;
	int64_t *value;
};
ax_err ax_checkpoint_fields_load(const char *path, const struct ax_checkpoint_field *fields,
				 bool *found) AX_WARN_UNUSED;
ax_err ax_checkpoint_fields_save(const char *path, const struct ax_checkpoint_field *fields,
				 unsigned sync_every) AX_WARN_UNUSED;
/* Syncs what saves left to the kernel. */
ax_err ax_checkpoint_sync(const char *path) AX_WARN_UNUSED;

#endif

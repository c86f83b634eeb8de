/* statefile.h - the files a source keeps in state_dir, written so that a
 * crash at any instant leaves either the old or the new content.
 *
 * A write goes to NAME.tmp, is fsync'ed, renamed over NAME, and the
 * directory is fsync'ed. A NAME.tmp left by a crash is never read: the next
 * write replaces it. Paths are state_dir/sources/SOURCE/TENANT/FILE, each
 * part escaped so no name can climb out of state_dir. */
#ifndef AX_AGENT_SOURCES_STATEFILE_H
#define AX_AGENT_SOURCES_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* state_dir/sources/SOURCE/TENANT, created (mode 0700) with its parents. */
char *ax_state_dir(const char *state_dir, const char *source, const char *tenant, ax_err *err);
/* dir/NAME.SUFFIX with NAME escaped (e.g. a content type); free it. */
char *ax_state_path(const char *dir, const char *name, const char *suffix);
/* Replaces path's content with data, atomically and durably. */
ax_err ax_state_write(const char *path, const void *data, size_t len) AX_WARN_UNUSED;
/* path's content into out (NUL-terminated); *exists false when there is none. */
ax_err ax_state_read(const char *path, struct ax_buf *out, bool *exists) AX_WARN_UNUSED;
/* fsync of the directory holding path: makes a rename or a creation durable. */
ax_err ax_state_sync_dir(const char *path) AX_WARN_UNUSED;

#endif

/* seen.h - a dedup set (dedup.h) that survives restarts.
 *
 * The file is a journal: a magic line, then the 16-byte keys of delivered
 * records, appended as they are confirmed and made durable by sync(). When
 * it holds twice the set's capacity it is rewritten (atomically) with just
 * the keys the set still holds. A torn last key is cut off at load; a file
 * that is not a journal is set aside with a warning: the set then starts
 * empty, which can let a repeat through but never loses a record. */
#ifndef AX_AGENT_SOURCES_SEEN_H
#define AX_AGENT_SOURCES_SEEN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "sources/dedup.h"

struct ax_seen;

/* Loads path (a missing file is an empty set). log_name: for messages. */
struct ax_seen *ax_seen_open(const char *path, size_t capacity, const char *log_name, ax_err *err);
void ax_seen_close(struct ax_seen *s);
/* As in dedup.h; confirm also queues the key for the journal. */
bool ax_seen_claim(struct ax_seen *s, const struct ax_key *k);
bool ax_seen_has(const struct ax_seen *s, const struct ax_key *k);
void ax_seen_confirm(struct ax_seen *s, const struct ax_key *k);
void ax_seen_release(struct ax_seen *s, const struct ax_key *k);
size_t ax_seen_count(const struct ax_seen *s);
/* Writes the queued keys and makes them durable. */
ax_err ax_seen_sync(struct ax_seen *s) AX_WARN_UNUSED;

#endif

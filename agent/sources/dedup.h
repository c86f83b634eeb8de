/* dedup.h - a bounded set of recently seen ids (record Ids, blob
 * contentIds, alert id + version), oldest forgotten first.
 *
 * An id is kept as a 16-byte key: a GUID's own 128 bits when it is one
 * (record Ids are), else the first 128 bits of its SHA-256; so a key stands
 * for exactly one id. A key is claimed when its record is handed to the
 * pipeline (a second copy in flight is then a duplicate), and confirmed
 * once delivered, or released if it was not: only confirmed keys are
 * persisted (seen.h). Memory grows with use, up to the capacity. */
#ifndef AX_AGENT_SOURCES_DEDUP_H
#define AX_AGENT_SOURCES_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ax_key {
	uint8_t b[16];
};

/* The key of an id (len bytes). False only when out of memory. */
bool ax_key_of(struct ax_key *k, const char *id, size_t len);
/* The key of up to 8 strings taken together (e.g. an alert's id and version). */
bool ax_key_of_parts(struct ax_key *k, const char *const *parts, size_t n);

struct ax_dedup;

struct ax_dedup *ax_dedup_create(size_t capacity);
void ax_dedup_destroy(struct ax_dedup *d);
/* True when k was unknown: it is now claimed. False: seen (or in flight) already. */
bool ax_dedup_claim(struct ax_dedup *d, const struct ax_key *k);
/* A claimed key whose record was delivered. */
void ax_dedup_confirm(struct ax_dedup *d, const struct ax_key *k);
/* A claimed key whose record was not delivered: forget it. */
void ax_dedup_release(struct ax_dedup *d, const struct ax_key *k);
/* Adds a delivered key (loading a saved set). */
void ax_dedup_add(struct ax_dedup *d, const struct ax_key *k);
bool ax_dedup_has(const struct ax_dedup *d, const struct ax_key *k);
size_t ax_dedup_count(const struct ax_dedup *d);
size_t ax_dedup_capacity(const struct ax_dedup *d);
/* Calls fn on every confirmed key, oldest first; false from fn stops. */
bool ax_dedup_each(const struct ax_dedup *d, bool (*fn)(const struct ax_key *k, void *arg), void *arg);

#endif

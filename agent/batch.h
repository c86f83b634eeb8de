/* batch.h - collects enriched records into one batch for the outputs.
 *
 * Records are copied (bytes and metadata) into one growing buffer, so the
 * processor can move on to the next record; the batch hands the outputs
 * stable pointers until it is cleared. */
#ifndef AX_AGENT_BATCH_H
#define AX_AGENT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "outputs/output.h"

struct ax_batch_builder {
	struct ax_buf data;
	struct ax_record *records;
	size_t *offsets; /* AX_BATCH_STRINGS offsets per record into data */
	const char **controls; /* set by seal, from control_offs */
	size_t *control_offs;  /* where each control id is in data */
	size_t count, cap;
	size_t ncontrols, controls_cap;
};

void ax_batch_builder_init(struct ax_batch_builder *b, size_t max_bytes);
void ax_batch_builder_finish(struct ax_batch_builder *b);
ax_err ax_batch_builder_add(struct ax_batch_builder *b, const struct ax_record *r) AX_WARN_UNUSED;
/* Points the records into the buffer and describes them in out. */
void ax_batch_builder_seal(struct ax_batch_builder *b, struct ax_batch *out);
void ax_batch_builder_clear(struct ax_batch_builder *b);
/* Removes the records whose flag is set (the bytes stay until clear);
 * seal again before sending. */
void ax_batch_builder_remove(struct ax_batch_builder *b, const uint8_t *drop);
static inline size_t ax_batch_builder_bytes(const struct ax_batch_builder *b) { return b->data.len; }

#endif

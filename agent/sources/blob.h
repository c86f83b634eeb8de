/* blob.h - one pass over a response body: where each record is.
 *
 * A Management API blob is a JSON array of records; a Graph page is an
 * object whose "value" member is that array, beside "@odata.nextLink".
 * One yajl pass (no tree) finds each element's byte range, so records are
 * forwarded byte for byte, and picks out, decoded, the two members a
 * source deduplicates and orders on ("Id"; or "id" and a timestamp).
 * A body that stops parsing midway keeps the elements before the fault;
 * the rest is reported as one bad range, for the dead-letter file.
 *
 * Bodies as the APIs send them take a fast path first (no yajl: blob.c
 * says which); it gives what the yajl pass gives, and leaves it anything
 * unusual. */
#ifndef AX_AGENT_SOURCES_BLOB_H
#define AX_AGENT_SOURCES_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Values longer than this are not kept (the record then has no id). */
#define AX_BLOB_MAX_VALUE 1024

struct ax_blob_spec {
	bool envelope;      /* {"value": [...], "@odata.nextLink": "..."} rather than [...] */
	const char *id_key; /* member names, matched without regard to case */
	const char *ts_key; /* NULL: none */
};

struct ax_blob_item {
	size_t off, len;      /* the element's bytes in the body */
	uint32_t id, id_len;  /* its id_key value in strings; id_len 0: none */
	uint32_t ts, ts_len;  /* its ts_key value in strings; ts_len 0: none */
};

struct ax_blob {
	struct ax_blob_item *items;
	size_t count, cap;
	struct ax_buf strings;  /* the values, each NUL-terminated */
	size_t bad_off, bad_len; /* the unparsable rest; bad_len 0: none */
	char *next_link;        /* envelope: @odata.nextLink, NULL when absent */
	char error[160];        /* why the body did not parse; "" when it did */
	bool yajl_only;         /* no fast path (tests compare the two); set after ax_blob_init */
	bool fast;              /* the last split was the fast path's */
};

void ax_blob_init(struct ax_blob *b);
void ax_blob_finish(struct ax_blob *b);
/* Splits body. AX_OK: it parsed whole; AX_ERR_JSON: it did not (b->error
 * says why; items hold the elements before the fault, bad_* the rest);
 * AX_ERR_NOMEM. */
ax_err ax_blob_split(struct ax_blob *b, const struct ax_blob_spec *spec, const char *body,
		     size_t len) AX_WARN_UNUSED;
static inline const char *ax_blob_str(const struct ax_blob *b, uint32_t off)
{
	return b->strings.data + off;
}

#endif

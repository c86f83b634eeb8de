/* record.h - decode: one raw record → validated tree + the fields that
 * mapping and outputs need.
 *
 * Field look-up tolerates what real data does: keys in any case, RecordType
 * as a number or a string, missing or null fields. Graph security alerts
 * (alerts_v2) are recognised by their shape. */
#ifndef AX_AGENT_RECORD_H
#define AX_AGENT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"

enum ax_kind { AX_KIND_O365, AX_KIND_GRAPH_ALERT };

enum ax_field {
	AX_F_ID,
	AX_F_RECORD_TYPE,
	AX_F_CREATION_TIME,
	AX_F_OPERATION,
	AX_F_WORKLOAD,
	AX_F_RESULT_STATUS,
	AX_F_USER_ID,
	AX_F_USER_TYPE,
	AX_F_CLIENT_IP,
	AX_F_CLIENT_IP_ADDRESS,
	AX_F_ACTOR_IP_ADDRESS,
	AX_F_OBJECT_ID,
	AX_F_ORGANIZATION_ID,
	AX_F_SERVICE_SOURCE,
	AX_F_CATEGORY,
	AX_F_SEVERITY,
	AX_F_TITLE,
	AX_F_TENANT_ID,
	AX_F_CREATED_DATE_TIME,
	AX_F_ISO27001,
	AX_F_ANNEXA,
	AX_F_COUNT
};

/* The top-level member names decode picks out in its one pass over a
 * record's root object: the fields above (index: their ax_field), then the
 * names added, such as those the mapping rules look up (so a rule finds its
 * member without a search). Names compare ASCII case-insensitively; the
 * keyset keeps pointers, so added names must outlive it. */
#define AX_EVENT_KEYS 128
#define AX_KEYSET_SLOTS 512

struct ax_keyset {
	struct ax_key_name {
		const char *name;
		size_t len;
	} key[AX_EVENT_KEYS];
	size_t count;
	int16_t slot[AX_KEYSET_SLOTS]; /* open addressing: index into key, -1 empty */
};

/* A keyset of the fields alone. */
void ax_keyset_init(struct ax_keyset *keys);
/* The index of name (len bytes), added if new; -1 when the set is full. */
int ax_keyset_add(struct ax_keyset *keys, const char *name, size_t len);

struct ax_event {
	const char *raw; /* the record's bytes, as received */
	size_t raw_len;
	const struct ax_json_doc *doc;
	const struct ax_jnode *root;
	enum ax_kind kind;
	/* Scalar text of a field, "" when absent, null or not a scalar. */
	const char *text[AX_F_COUNT];
	long record_type; /* -1 when absent or not a number */
	const struct ax_keyset *keys; /* what field[] holds */
	/* Top-level members by keys' index (ax_field first); NULL when absent.
	 * Past keys->count: not set. */
	const struct ax_jnode *field[AX_EVENT_KEYS];
};

/* Parses raw (one record, no newline) into ev using doc, picking out the
 * members of keys (NULL: the fields alone). Errors: AX_ERR_JSON,
 * AX_ERR_TOO_DEEP, AX_ERR_NOT_OBJECT (reason in ax_json_error(doc) for the
 * first two). */
ax_err ax_event_decode(struct ax_event *ev, struct ax_json_doc *doc, const struct ax_keyset *keys,
		       const char *raw, size_t len) AX_WARN_UNUSED;

#endif

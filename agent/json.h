/* json.h - a whole JSON record parsed into a compact, reusable tree.
 *
 * The bytes are checked as strict UTF-8 (utf8.h), yajl (or the fast path
 * below, for the common case) checks the JSON, and its callbacks here append
 * nodes to an array kept between records. The record is copied once into an
 * arena, where its unescaped strings are used in place (NUL-terminated over
 * their closing quotes); only numbers and strings with escapes are copied
 * after it. Decoding allocates nothing once both have grown to the largest
 * record seen. Limits: total size is the caller's (records are capped before
 * parsing), nesting depth is max_depth.
 *
 * Nodes refer to each other by index; strings live in one arena, each
 * NUL-terminated (a string holding \u0000 is cut there when used as a C
 * string; its length is exact). Objects keep duplicate keys; look-ups
 * return the first. */
#ifndef AX_AGENT_JSON_H
#define AX_AGENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum ax_jtype { AX_J_NULL, AX_J_FALSE, AX_J_TRUE, AX_J_NUMBER, AX_J_STRING, AX_J_OBJECT, AX_J_ARRAY };

#define AX_JNONE UINT32_MAX

struct ax_jnode {
	uint8_t type;
	uint32_t key;      /* arena offset of the member name, AX_JNONE outside objects */
	uint32_t key_len;
	uint32_t str;      /* arena offset of a STRING's or NUMBER's text */
	uint32_t len;      /* its length; OBJECT/ARRAY: number of children */
	uint32_t first;    /* first child */
	uint32_t next;     /* next sibling */
};

struct ax_json_doc;

struct ax_json_doc *ax_json_doc_create(unsigned max_depth);
void ax_json_doc_destroy(struct ax_json_doc *doc);

/* Records that are one object in plain JSON (no \u escape, nothing after
 * it) are parsed without yajl, into the same tree; the others by yajl,
 * which words the errors. only = true: always by yajl (tests compare). */
void ax_json_doc_yajl_only(struct ax_json_doc *doc, bool only);
/* Parses exactly one JSON value from data. On failure returns
 * AX_ERR_JSON / AX_ERR_TOO_DEEP with a message in ax_json_error(). */
ax_err ax_json_parse(struct ax_json_doc *doc, const char *data, size_t len) AX_WARN_UNUSED;
const char *ax_json_error(const struct ax_json_doc *doc);

const struct ax_jnode *ax_json_root(const struct ax_json_doc *doc);
const struct ax_jnode *ax_json_first(const struct ax_json_doc *doc, const struct ax_jnode *n);
const struct ax_jnode *ax_json_next(const struct ax_json_doc *doc, const struct ax_jnode *n);
/* Member of an object by name, ASCII case-insensitive; NULL if absent. */
const struct ax_jnode *ax_json_get(const struct ax_json_doc *doc, const struct ax_jnode *obj,
				   const char *key, size_t key_len);
const char *ax_json_text(const struct ax_json_doc *doc, const struct ax_jnode *n);
/* The text of obj's string member key; NULL if absent or not a string. */
const char *ax_json_get_string(const struct ax_json_doc *doc, const struct ax_jnode *obj, const char *key);
const char *ax_json_key(const struct ax_json_doc *doc, const struct ax_jnode *n);

#endif

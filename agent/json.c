#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "ascii.h"
#include "json_scan.h"
#include "utf8.h"

struct frame {
	uint32_t node;
	uint32_t last_child;
};

struct ax_json_doc {
	struct ax_jnode *nodes;
	uint32_t nnodes, node_cap;
	char *arena; /* the record's copy, then decoded strings and numbers */
	uint32_t arena_len, arena_cap, record_len;
	struct frame *stack;
	unsigned depth, max_depth;
	uint32_t pending_key, pending_key_len;
	unsigned top_values; /* complete top-level values in this parse */
	size_t value_end;    /* offset just past the first top-level value */
	bool too_deep, nomem;
	bool yajl_only;      /* no fast path (tests compare the two) */
	bool fresh;          /* the yajl handle has parsed no value yet */
	bool behind;         /* ... though the fast path parsed one since it was made */
	char *scratch;       /* the fast path's decoded strings */
	uint32_t scratch_cap;
	yajl_handle yajl;
	char error[160];
};

static bool grow(void **ptr, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	if (need > UINT32_MAX / 2)
		return false;
	uint32_t cap2 = *cap ? *cap : 64;
	while (cap2 < need)
		cap2 *= 2;
	void *p = realloc(*ptr, (size_t)cap2 * elem);
	if (!p)
		return false;
	*ptr = p;
	*cap = cap2;
	return true;
}

/* Strings yajl decoded (escapes) and numbers go after the record's copy.
 * The arena was sized before the parse (see ax_json_parse) and must not move
 * while yajl reads from it. */
static bool arena_add(struct ax_json_doc *d, const unsigned char *s, size_t len, uint32_t *off)
{
	if (len >= d->arena_cap - d->arena_len) {
		d->nomem = true;
		return false;
	}
	*off = d->arena_len;
	memcpy(d->arena + d->arena_len, s, len);
	d->arena[d->arena_len + len] = '\0';
	d->arena_len += (uint32_t)len + 1;
	return true;
}

/* A string yajl found unescaped in the record's copy is used where it lies:
 * its closing quote, already consumed by the lexer, becomes its NUL. */
static bool string_text(struct ax_json_doc *d, const unsigned char *s, size_t len, uint32_t *off)
{
	char *p = (char *)s;
	if (p < d->arena || p + len >= d->arena + d->record_len)
		return arena_add(d, s, len, off);
	p[len] = '\0';
	*off = (uint32_t)(p - d->arena);
	return true;
}

static void value_done(struct ax_json_doc *d)
{
	if (d->depth == 0 && d->top_values++ == 0)
		d->value_end = yajl_get_bytes_consumed(d->yajl);
}

/* Appends a node as the next child of the open container. */
static struct ax_jnode *add_node(struct ax_json_doc *d, uint8_t type)
{
	if (!grow((void **)&d->nodes, &d->node_cap, d->nnodes + 1, sizeof(*d->nodes))) {
		d->nomem = true;
		return NULL;
	}
	uint32_t idx = d->nnodes++;
	struct ax_jnode *n = &d->nodes[idx];
	n->type = type;
	n->key = d->pending_key;
	n->key_len = d->pending_key_len;
	n->str = 0;
	n->len = 0;
	n->first = AX_JNONE;
	n->next = AX_JNONE;
	d->pending_key = AX_JNONE;
	d->pending_key_len = 0;
	if (d->depth > 0) {
		struct frame *f = &d->stack[d->depth - 1];
		struct ax_jnode *parent = &d->nodes[f->node];
		if (f->last_child == AX_JNONE)
			parent->first = idx;
		else
			d->nodes[f->last_child].next = idx;
		f->last_child = idx;
		parent->len++;
	}
	return n;
}

static int on_scalar(struct ax_json_doc *d, uint8_t type, const unsigned char *s, size_t len)
{
	uint32_t off = 0;
	if (type == AX_J_STRING && !string_text(d, s, len, &off))
		return 0;
	if (type == AX_J_NUMBER && !arena_add(d, s, len, &off))
		return 0;
	struct ax_jnode *n = add_node(d, type);
	if (!n)
		return 0;
	n->str = off;
	n->len = (uint32_t)len;
	value_done(d);
	return 1;
}

static int cb_null(void *ctx)
{
	return on_scalar(ctx, AX_J_NULL, NULL, 0);
}

static int cb_boolean(void *ctx, int value)
{
	return on_scalar(ctx, value ? AX_J_TRUE : AX_J_FALSE, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	return on_scalar(ctx, AX_J_NUMBER, (const unsigned char *)s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return on_scalar(ctx, AX_J_STRING, s, len);
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
	struct ax_json_doc *d = ctx;
	uint32_t off;
	if (!string_text(d, s, len, &off))
		return 0;
	d->pending_key = off;
	d->pending_key_len = (uint32_t)len;
	return 1;
}

static int open_container(void *ctx, uint8_t type)
{
	struct ax_json_doc *d = ctx;
	if (d->depth >= d->max_depth) {
		d->too_deep = true;
		return 0;
	}
	uint32_t idx = d->nnodes;
	if (!add_node(d, type))
		return 0;
	d->stack[d->depth].node = idx;
	d->stack[d->depth].last_child = AX_JNONE;
	d->depth++;
	return 1;
}

static int close_container(void *ctx)
{
	struct ax_json_doc *d = ctx;
	d->depth--;
	value_done(d);
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, AX_J_OBJECT);
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, AX_J_ARRAY);
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_key,
	.yajl_end_map = close_container,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = close_container,
};

/* ---- the fast path ----
 *
 * Records as the APIs send them are parsed here without yajl, through the
 * same callbacks (so the tree is the one yajl's parse builds): a scanner
 * that skips 16 string bytes at a time (json_scan.h, shared with
 * sources/blob.c) costs a third of yajl's lexer. It
 * accepts a strict subset of what yajl accepts - an object, RFC 8259
 * numbers, the escapes but \u, blanks ' ' \t \n \r, nesting to 128 - and
 * gives up on anything else (a \u escape, a control character, bad JSON,
 * deeper nesting, data after the value): the record is then parsed again by yajl, which
 * decides, and words the error. */

#define FAST_MAX_DEPTH 128

struct fast {
	struct ax_json_doc *d;
	unsigned char *s;
	size_t i, len;
};

static bool fast_skip(struct fast *f)
{
	f->i = ax_jscan_blanks(f->s, f->i, f->len);
	return f->i < f->len;
}

/* A string with escapes from start (after its quote); i: the first escape. */
static bool fast_escaped(struct fast *f, size_t start, size_t i, bool key)
{
	struct ax_json_doc *d = f->d;
	const unsigned char *s = f->s;
	if (!grow((void **)&d->scratch, &d->scratch_cap, (uint32_t)(f->len - start + 1), 1))
		return false;
	size_t n = i - start;
	memcpy(d->scratch, s + start, n);
	while (i < f->len && s[i] != '"') {
		if (s[i] != '\\') {
			size_t j = ax_jscan_string_stop(s, i, f->len);
			if (j == i)
				return false; /* a control character */
			memcpy(d->scratch + n, s + i, j - i);
			n += j - i;
			i = j;
			continue;
		}
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *e = i + 1 < f->len && s[i + 1] ? strchr(from, s[i + 1]) : NULL;
		if (!e)
			return false; /* \u (yajl's decoding of surrogates is its own) or not an escape */
		d->scratch[n++] = to[e - from];
		i += 2;
	}
	if (i >= f->len)
		return false;
	f->i = i + 1;
	return key ? cb_key(d, (const unsigned char *)d->scratch, n) : cb_string(d, (const unsigned char *)d->scratch, n);
}

static bool fast_string(struct fast *f, bool key)
{
	size_t start = ++f->i;
	size_t i = ax_jscan_string_stop(f->s, start, f->len);
	if (i >= f->len)
		return false;
	if (f->s[i] != '"')
		return f->s[i] == '\\' && fast_escaped(f, start, i, key);
	f->i = i + 1;
	return key ? cb_key(f->d, f->s + start, i - start) : cb_string(f->d, f->s + start, i - start);
}

static bool fast_number(struct fast *f)
{
	size_t start = f->i, end = ax_jscan_number(f->s, start, f->len);
	if (end == AX_JSCAN_FAIL)
		return false;
	f->i = end;
	return cb_number(f->d, (const char *)f->s + start, end - start);
}

static bool fast_literal(struct fast *f, const char *word, size_t n)
{
	if (!ax_jscan_word(f->s, f->i, f->len, word, n))
		return false;
	f->i += n;
	return word[0] == 'n' ? cb_null(f->d) : cb_boolean(f->d, word[0] == 't');
}

static bool fast_value(struct fast *f);

/* An object or array at f->i; its members or elements, then its end. */
static bool fast_container(struct fast *f, bool object)
{
	if (f->d->depth >= FAST_MAX_DEPTH) /* it recurses: deeper records are yajl's (its stack is its own) */
		return false;
	if (!(object ? cb_start_map(f->d) : cb_start_array(f->d)))
		return false;
	char close = object ? '}' : ']';
	f->i++;
	if (!fast_skip(f))
		return false;
	if (f->s[f->i] != close) {
		for (;;) {
			if (object) {
				if (f->s[f->i] != '"' || !fast_string(f, true) || !fast_skip(f) || f->s[f->i] != ':')
					return false;
				f->i++;
			}
			if (!fast_value(f) || !fast_skip(f))
				return false;
			if (f->s[f->i] == close)
				break;
			if (f->s[f->i] != ',')
				return false;
			f->i++;
			if (!fast_skip(f))
				return false;
		}
	}
	f->i++;
	return close_container(f->d);
}

static bool fast_value(struct fast *f)
{
	if (!fast_skip(f))
		return false;
	switch (f->s[f->i]) {
	case '{':
		return fast_container(f, true);
	case '[':
		return fast_container(f, false);
	case '"':
		return fast_string(f, false);
	case 't':
		return fast_literal(f, "true", 4);
	case 'f':
		return fast_literal(f, "false", 5);
	case 'n':
		return fast_literal(f, "null", 4);
	default:
		return fast_number(f);
	}
}

/* The record in the arena as one object and blanks; false: yajl's turn
 * (the arena is then copied again: strings were cut in place). */
static bool fast_parse(struct ax_json_doc *d, size_t len)
{
	struct fast f = { d, (unsigned char *)d->arena, 0, len };
	if (!fast_skip(&f) || f.s[f.i] != '{' || !fast_container(&f, true))
		return false;
	size_t end = f.i;
	f.i = ax_jscan_blanks(f.s, f.i, len);
	if (f.i != len || d->depth != 0 || d->top_values != 1 || d->too_deep || d->nomem)
		return false;
	d->value_end = end;
	return true;
}

static bool new_handle(struct ax_json_doc *d)
{
	if (d->yajl)
		yajl_free(d->yajl);
	d->yajl = yajl_alloc(&callbacks, NULL, d);
	d->fresh = true;
	d->behind = false;
	/* One handle serves many records: it stays between values. */
	return d->yajl && yajl_config(d->yajl, yajl_allow_multiple_values, 1);
}

struct ax_json_doc *ax_json_doc_create(unsigned max_depth)
{
	struct ax_json_doc *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->max_depth = max_depth;
	d->stack = calloc(max_depth, sizeof(*d->stack));
	if (!d->stack || !new_handle(d)) {
		ax_json_doc_destroy(d);
		return NULL;
	}
	return d;
}

void ax_json_doc_destroy(struct ax_json_doc *d)
{
	if (!d)
		return;
	if (d->yajl)
		yajl_free(d->yajl);
	free(d->stack);
	free(d->nodes);
	free(d->arena);
	free(d->scratch);
	free(d);
}

static void reset(struct ax_json_doc *d)
{
	d->nnodes = 0;
	d->arena_len = 0;
	d->depth = 0;
	d->top_values = 0;
	d->value_end = 0;
	d->pending_key = AX_JNONE;
	d->pending_key_len = 0;
	d->too_deep = false;
	d->nomem = false;
	d->error[0] = '\0';
}

static ax_err fail(struct ax_json_doc *d, yajl_status st)
{
	ax_err err = AX_ERR_JSON;
	if (d->too_deep) {
		snprintf(d->error, sizeof(d->error), "nested deeper than %u levels", d->max_depth);
		err = AX_ERR_TOO_DEEP;
	} else if (d->nomem) {
		snprintf(d->error, sizeof(d->error), "out of memory");
		err = AX_ERR_NOMEM;
	} else if (st == yajl_status_error) {
		unsigned char *msg = yajl_get_error(d->yajl, 0, (const unsigned char *)d->arena, d->record_len);
		size_t n = msg ? strlen((const char *)msg) : 0;
		while (n > 0 && isspace(msg[n - 1]))
			msg[--n] = '\0'; /* yajl ends its messages with a newline */
		snprintf(d->error, sizeof(d->error), "%s (at byte %zu)",
			 msg ? (const char *)msg : "parse error",
			 yajl_get_bytes_consumed(d->yajl));
		if (msg)
			yajl_free_error(d->yajl, msg);
	} else {
		snprintf(d->error, sizeof(d->error), "%s",
			 d->top_values ? "more than one JSON value" : "incomplete JSON value");
	}
	if (!new_handle(d))
		err = AX_ERR_NOMEM;
	return err;
}

/* Extra strings and numbers never need more than 2 bytes per record byte:
 * each is at most as long as its text in the record, plus a NUL. */
static bool copy_record(struct ax_json_doc *d, const char *data, size_t len)
{
	if (len > (UINT32_MAX - 2) / 3 || !grow((void **)&d->arena, &d->arena_cap, (uint32_t)(3 * len + 2), 1))
		return false;
	memcpy(d->arena, data, len);
	d->arena[len] = '\0';
	d->record_len = (uint32_t)len;
	d->arena_len = (uint32_t)len + 1;
	return true;
}

static bool only_blanks(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* A lone number or literal only ends at the end of the input: tell yajl so.
 * The handle is finished then and replaced. */
static yajl_status finish_scalar(struct ax_json_doc *d)
{
	yajl_status st = yajl_complete_parse(d->yajl);
	if (d->top_values == 1)
		d->value_end = d->record_len;
	return new_handle(d) ? st : yajl_status_error;
}

/* yajl words a few errors after the state a value left it in (an empty
 * record is "incomplete JSON value" after one, its own message on a new
 * handle): a handle the fast path left new parses a value first, as if it
 * had parsed the records itself. */
static void catch_up(struct ax_json_doc *d)
{
	if (!d->behind)
		return;
	(void)yajl_parse(d->yajl, (const unsigned char *)"{}", 2);
	reset(d);
	d->fresh = d->behind = false;
}

ax_err ax_json_parse(struct ax_json_doc *d, const char *data, size_t len)
{
	reset(d);
	size_t bad = ax_utf8_invalid_at(data, len);
	if (bad < len) {
		snprintf(d->error, sizeof(d->error), "invalid UTF-8 (at byte %zu)", bad);
		return AX_ERR_JSON;
	}
	if (!copy_record(d, data, len)) {
		snprintf(d->error, sizeof(d->error), "out of memory");
		return AX_ERR_NOMEM;
	}
	if (!d->yajl_only) {
		if (fast_parse(d, len)) {
			d->behind = d->behind || d->fresh;
			return AX_OK;
		}
		reset(d);
		catch_up(d);
		(void)copy_record(d, data, len); /* the same size: it fits */
	}
	yajl_status st = yajl_parse(d->yajl, (const unsigned char *)d->arena, len);
	if (st == yajl_status_ok && d->top_values > 0)
		d->fresh = false;
	if (st == yajl_status_ok && d->top_values == 0 && d->depth == 0 && d->nnodes == 0)
		st = finish_scalar(d);
	/* The handle takes several values in a row (it is reused); one record
	 * is one value and blanks. */
	if (st == yajl_status_ok && d->top_values == 1 && !only_blanks(data + d->value_end, len - d->value_end)) {
		snprintf(d->error, sizeof(d->error), "data after the JSON value (at byte %zu)", d->value_end);
		return new_handle(d) ? AX_ERR_JSON : AX_ERR_NOMEM;
	}
	if (st != yajl_status_ok || d->depth != 0 || d->top_values != 1 || d->nnodes == 0)
		return fail(d, st);
	return AX_OK;
}

void ax_json_doc_yajl_only(struct ax_json_doc *d, bool only)
{
	d->yajl_only = only;
}

const char *ax_json_error(const struct ax_json_doc *d)
{
	return d->error;
}

const struct ax_jnode *ax_json_root(const struct ax_json_doc *d)
{
	return d->nnodes ? &d->nodes[0] : NULL;
}

const struct ax_jnode *ax_json_first(const struct ax_json_doc *d, const struct ax_jnode *n)
{
	return n->first == AX_JNONE ? NULL : &d->nodes[n->first];
}

const struct ax_jnode *ax_json_next(const struct ax_json_doc *d, const struct ax_jnode *n)
{
	return n->next == AX_JNONE ? NULL : &d->nodes[n->next];
}

const struct ax_jnode *ax_json_get(const struct ax_json_doc *d, const struct ax_jnode *obj,
				   const char *key, size_t key_len)
{
	if (!obj || obj->type != AX_J_OBJECT)
		return NULL;
	for (const struct ax_jnode *c = ax_json_first(d, obj); c; c = ax_json_next(d, c))
		if (c->key_len == key_len && ax_ascii_ieq(d->arena + c->key, key, key_len))
			return c;
	return NULL;
}

const char *ax_json_text(const struct ax_json_doc *d, const struct ax_jnode *n)
{
	return (n->type == AX_J_STRING || n->type == AX_J_NUMBER) ? d->arena + n->str : "";
}

const char *ax_json_get_string(const struct ax_json_doc *d, const struct ax_jnode *obj, const char *key)
{
	const struct ax_jnode *n = ax_json_get(d, obj, key, strlen(key));
	return n && n->type == AX_J_STRING ? ax_json_text(d, n) : NULL;
}

const char *ax_json_key(const struct ax_json_doc *d, const struct ax_jnode *n)
{
	return n->key == AX_JNONE ? "" : d->arena + n->key;
}

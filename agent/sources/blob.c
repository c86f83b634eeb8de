#include "sources/blob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

#include "json_scan.h"
#include "utf8.h"

#define MAX_STRINGS (256u << 20)

enum capture { CAP_NONE, CAP_ID, CAP_TS, CAP_NEXT_LINK };

struct split {
	struct ax_blob *b;
	const struct ax_blob_spec *spec;
	const char *body;
	size_t len;
	bool completing;      /* in yajl_complete_parse: the whole body is consumed */
	yajl_handle yajl;
	int depth;
	int elem_depth;       /* depth inside the records array; 0: not in it */
	bool started, records_seen, value_key;
	size_t search_from;   /* where the next element starts, give or take blanks and a comma */
	bool in_elem;
	struct ax_blob_item cur;
	enum capture capture;
	ax_err err;
};

/* Where yajl is in the body. yajl_complete_parse parses a buffer of its
 * own (a blank), so what it emits then (a number the body ends with)
 * ends at the body's end, not at its count. */
static size_t consumed(const struct split *s)
{
	return s->completing ? s->len : yajl_get_bytes_consumed(s->yajl);
}

/* Skips what yajl's lexer skips between values (it takes \v and \f for
 * blanks too), and the comma: an element's range starts at its first byte. */
static size_t skip_blanks(const char *body, size_t from, size_t len)
{
	while (from < len && body[from] && strchr(" \t\r\n\v\f,", body[from]))
		from++;
	return from;
}

static int fail(struct split *s, const char *why)
{
	snprintf(s->b->error, sizeof(s->b->error), "%s", why);
	return 0;
}

static ax_err keep_string(struct ax_blob *b, const unsigned char *v, size_t len, uint32_t *off, uint32_t *out_len)
{
	/* nothing usable to keep: none, too long, or a \u0000 in it (kept, it
	 * would be cut at the NUL wherever it is a C string: "a\u0000" the same as "a") */
	if (len == 0 || len > AX_BLOB_MAX_VALUE || memchr(v, '\0', len))
		return AX_OK;
	*off = (uint32_t)b->strings.len;
	ax_err err = ax_buf_add(&b->strings, v, len);
	if (!err)
		err = ax_buf_addc(&b->strings, '\0');
	if (!err)
		*out_len = (uint32_t)len;
	return err;
}

static int store(struct split *s, const unsigned char *v, size_t len)
{
	enum capture c = s->capture;
	s->capture = CAP_NONE;
	if (c == CAP_ID)
		s->err = keep_string(s->b, v, len, &s->cur.id, &s->cur.id_len);
	else if (c == CAP_TS)
		s->err = keep_string(s->b, v, len, &s->cur.ts, &s->cur.ts_len);
	else if (c == CAP_NEXT_LINK && v && !s->b->next_link && !(s->b->next_link = strndup((const char *)v, len)))
		s->err = AX_ERR_NOMEM;
	return s->err == AX_OK;
}

static bool push_item(struct ax_blob *b, const struct ax_blob_item *it)
{
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ax_blob_item *items = realloc(b->items, cap * sizeof(*items));
		if (!items)
			return false;
		b->items = items;
		b->cap = cap;
	}
	b->items[b->count++] = *it;
	return true;
}

static int end_elem(struct split *s)
{
	s->in_elem = false;
	s->search_from = consumed(s);
	s->cur.len = s->search_from - s->cur.off;
	if (!push_item(s->b, &s->cur)) {
		s->err = AX_ERR_NOMEM;
		return 0;
	}
	return 1;
}

/* Every value passes here first: it may be the body's root, a record, or
 * the envelope's "value" member. */
static int value_start(struct split *s, bool is_map, bool is_array)
{
	if (!s->started) {
		s->started = true;
		if (!s->spec->envelope && !is_array)
			return fail(s, "the body is not a JSON array");
		if (s->spec->envelope && !is_map)
			return fail(s, "the body is not a JSON object");
	}
	if (s->value_key && s->depth == 1) {
		s->value_key = false;
		if (!is_array)
			return fail(s, "the \"value\" member is not an array");
	}
	if (s->elem_depth && s->depth == s->elem_depth) {
		s->in_elem = true;
		s->cur = (struct ax_blob_item){ .off = skip_blanks(s->body, s->search_from, consumed(s)) };
	}
	return 1;
}

static int scalar(struct split *s, const unsigned char *v, size_t len)
{
	if (!value_start(s, false, false))
		return 0;
	if (s->capture != CAP_NONE && !store(s, v, len))
		return 0;
	return s->in_elem && s->depth == s->elem_depth ? end_elem(s) : 1;
}

static int on_null(void *ctx)
{
	return scalar(ctx, NULL, 0);
}

static int on_bool(void *ctx, int v)
{
	(void)v;
	return scalar(ctx, NULL, 0);
}

static int on_number(void *ctx, const char *v, size_t len)
{
	return scalar(ctx, (const unsigned char *)v, len);
}

static int on_string(void *ctx, const unsigned char *v, size_t len)
{
	return scalar(ctx, v, len);
}

static int on_start_map(void *ctx)
{
	struct split *s = ctx;
	if (!value_start(s, true, false))
		return 0;
	s->capture = CAP_NONE;
	s->depth++;
	return 1;
}

static bool key_is(const unsigned char *key, size_t len, const char *name)
{
	return name && strlen(name) == len && strncasecmp((const char *)key, name, len) == 0;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct split *s = ctx;
	s->capture = CAP_NONE;
	if (s->in_elem && s->depth == s->elem_depth + 1) {
		if (key_is(key, len, s->spec->id_key) && !s->cur.id_len)
			s->capture = CAP_ID;
		else if (key_is(key, len, s->spec->ts_key) && !s->cur.ts_len)
			s->capture = CAP_TS;
	} else if (s->spec->envelope && s->depth == 1) {
		if (len == 5 && memcmp(key, "value", 5) == 0 && !s->records_seen)
			s->value_key = true;
		else if (key_is(key, len, "@odata.nextLink"))
			s->capture = CAP_NEXT_LINK;
	}
	return 1;
}

static int on_end_map(void *ctx)
{
	struct split *s = ctx;
	s->depth--;
	return s->in_elem && s->depth == s->elem_depth ? end_elem(s) : 1;
}

static int on_start_array(void *ctx)
{
	struct split *s = ctx;
	bool records = !s->records_seen && (s->spec->envelope ? s->value_key && s->depth == 1 : s->depth == 0);
	if (!value_start(s, false, true))
		return 0;
	s->capture = CAP_NONE;
	s->depth++;
	if (records) {
		s->records_seen = true;
		s->elem_depth = s->depth;
		s->search_from = consumed(s);
	}
	return 1;
}

static int on_end_array(void *ctx)
{
	struct split *s = ctx;
	if (s->elem_depth && s->depth == s->elem_depth) {
		s->elem_depth = 0; /* the records array is closed */
		s->search_from = consumed(s);
	}
	s->depth--;
	return s->in_elem && s->depth == s->elem_depth ? end_elem(s) : 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

void ax_blob_init(struct ax_blob *b)
{
	memset(b, 0, sizeof(*b));
	ax_buf_init(&b->strings, MAX_STRINGS);
}

void ax_blob_finish(struct ax_blob *b)
{
	free(b->items);
	free(b->next_link);
	ax_buf_finish(&b->strings);
	ax_blob_init(b);
}

static void reset(struct ax_blob *b)
{
	b->count = 0;
	ax_buf_clear(&b->strings);
	b->bad_off = b->bad_len = 0;
	free(b->next_link);
	b->next_link = NULL;
	b->error[0] = '\0';
	b->fast = false;
}

/* yajl's own message, on one line, without the excerpt it quotes. */
static void yajl_reason(struct split *s, const char *body, size_t len)
{
	unsigned char *msg = yajl_get_error(s->yajl, 0, (const unsigned char *)body, len);
	const char *m = msg ? (const char *)msg : "invalid JSON";
	snprintf(s->b->error, sizeof(s->b->error), "%.*s", (int)strcspn(m, "\r\n"), m);
	if (msg)
		yajl_free_error(s->yajl, msg);
}

static ax_err parse(struct split *s, const char *body, size_t len)
{
	yajl_status st = yajl_parse(s->yajl, (const unsigned char *)body, len);
	if (st == yajl_status_ok) {
		s->completing = true;
		st = yajl_complete_parse(s->yajl);
	}
	if (s->err)
		return s->err;
	if (st == yajl_status_ok && s->spec->envelope && !s->records_seen)
		snprintf(s->b->error, sizeof(s->b->error), "the body has no \"value\" array");
	else if (st == yajl_status_ok)
		return AX_OK;
	else if (st == yajl_status_error)
		yajl_reason(s, body, len);
	else if (!s->b->error[0])
		snprintf(s->b->error, sizeof(s->b->error), "invalid JSON");
	return AX_ERR_JSON;
}

/* ---- the fast path ----
 *
 * Bodies as the APIs send them are split here without yajl, with json.c's
 * strict scanner (json_scan.h): the records' members are looked at for the
 * id and timestamp, everything else is only checked. It takes a subset of
 * what yajl takes (strict UTF-8, RFC 8259 blanks and numbers, nesting to
 * AX_JSCAN_MAX_DEPTH) and of the shapes the pass above accepts, and for
 * those gives what it gives. Anything else - bad JSON, a body that is not a
 * blob or a page, an escape in a member name it compares or a value it
 * keeps (yajl decodes them) - is left to the yajl pass, from the start: it
 * decides, and words the error. */

#define NO AX_JSCAN_FAIL

enum fast_result { FAST_OK, FAST_NO, FAST_NOMEM };

struct fast {
	struct ax_blob *b;
	const struct ax_blob_spec *spec;
	const unsigned char *s;
	size_t len;
	size_t id_key_len, ts_key_len;
	bool nomem;
};

/* The end of the string at s[i] (its quote) when it has no escape. */
static size_t plain_string(const unsigned char *s, size_t i, size_t len)
{
	size_t j = ax_jscan_string_stop(s, i + 1, len);
	return j < len && s[j] == '"' ? j + 1 : NO;
}

static bool name_is(const unsigned char *key, size_t len, const char *name, size_t name_len)
{
	return name && name_len == len && strncasecmp((const char *)key, name, len) == 0;
}

/* A member's value at s[i] (depth: containers around it), kept as c says:
 * a string's text or a number's, as the pass above keeps them. */
static size_t fast_member(struct fast *f, size_t i, unsigned depth, enum capture c, struct ax_blob_item *it)
{
	const unsigned char *s = f->s;
	size_t end;
	if (c == CAP_NONE || i >= f->len || s[i] == '{' || s[i] == '[' || s[i] == 't' || s[i] == 'f' || s[i] == 'n')
		return ax_jscan_skip_value(s, i, f->len, depth); /* nothing to keep */
	const unsigned char *v = s + i;
	size_t n;
	if (s[i] == '"') {
		if ((end = plain_string(s, i, f->len)) == NO)
			return NO;
		v++;
		n = end - i - 2; /* without its quotes */
	} else if ((end = ax_jscan_number(s, i, f->len)) == NO) {
		return NO;
	} else {
		n = end - i;
	}
	ax_err err = AX_OK;
	if (c == CAP_ID)
		err = keep_string(f->b, v, n, &it->id, &it->id_len);
	else if (c == CAP_TS)
		err = keep_string(f->b, v, n, &it->ts, &it->ts_len);
	else if (!f->b->next_link && !(f->b->next_link = strndup((const char *)v, n)))
		err = AX_ERR_NOMEM;
	if (err) {
		f->nomem = true;
		return NO;
	}
	return end;
}

/* After the opening brace or bracket at s[i]: where the first member or
 * element starts; or, when there is none (*empty), the end of the container. */
static size_t fast_open(const unsigned char *s, size_t i, size_t len, char close, bool *empty)
{
	if ((i = ax_jscan_blanks(s, i + 1, len)) >= len)
		return NO;
	*empty = s[i] == (unsigned char)close;
	return *empty ? i + 1 : i;
}

/* After a member or an element: the next one, or the end of the container
 * (*done). */
static size_t fast_next(const unsigned char *s, size_t i, size_t len, char close, bool *done)
{
	if (i == NO || (i = ax_jscan_blanks(s, i, len)) >= len)
		return NO;
	*done = s[i] == (unsigned char)close;
	if (*done)
		return i + 1;
	if (s[i] != ',' || (i = ax_jscan_blanks(s, i + 1, len)) >= len)
		return NO;
	return i;
}

/* A member's name at s[i] and its colon: where its value starts. */
static size_t fast_name(const unsigned char *s, size_t i, size_t len, size_t *name_len)
{
	size_t end;
	if (s[i] != '"' || (end = plain_string(s, i, len)) == NO)
		return NO; /* not a name, or an escaped one: the pass above decodes it */
	*name_len = end - i - 2;
	if ((end = ax_jscan_blanks(s, end, len)) >= len || s[end] != ':')
		return NO;
	return ax_jscan_blanks(s, end + 1, len);
}

/* A record that is an object, at s[i]: its id and timestamp members. */
static size_t fast_record(struct fast *f, size_t i, unsigned depth, struct ax_blob_item *it)
{
	const unsigned char *s = f->s;
	bool done;
	if ((i = fast_open(s, i, f->len, '}', &done)) == NO || done)
		return i;
	do {
		size_t name = i + 1, name_len;
		if ((i = fast_name(s, i, f->len, &name_len)) == NO)
			return NO;
		enum capture c = CAP_NONE;
		if (name_is(s + name, name_len, f->spec->id_key, f->id_key_len) && !it->id_len)
			c = CAP_ID;
		else if (name_is(s + name, name_len, f->spec->ts_key, f->ts_key_len) && !it->ts_len)
			c = CAP_TS;
		i = fast_next(s, fast_member(f, i, depth + 1, c, it), f->len, '}', &done);
	} while (i != NO && !done);
	return i;
}

/* The records array at s[i] (depth: containers around it). */
static size_t fast_records(struct fast *f, size_t i, unsigned depth)
{
	const unsigned char *s = f->s;
	bool done;
	if ((i = fast_open(s, i, f->len, ']', &done)) == NO || done)
		return i;
	do {
		struct ax_blob_item it = { .off = i };
		size_t end = s[i] == '{' ? fast_record(f, i, depth + 1, &it) : ax_jscan_skip_value(s, i, f->len, depth + 1);
		if (end == NO)
			return NO;
		it.len = end - i;
		if (!push_item(f->b, &it)) {
			f->nomem = true;
			return NO;
		}
		i = fast_next(s, end, f->len, ']', &done);
	} while (i != NO && !done);
	return i;
}

/* A Graph page at s[i]: its "value" array and its @odata.nextLink. */
static size_t fast_envelope(struct fast *f, size_t i)
{
	const unsigned char *s = f->s;
	bool done, records_seen = false;
	if ((i = fast_open(s, i, f->len, '}', &done)) == NO || done)
		return NO; /* {}: no "value" array, the pass above says so */
	do {
		size_t name = i + 1, name_len;
		if ((i = fast_name(s, i, f->len, &name_len)) == NO || i >= f->len)
			return NO;
		bool value = name_len == 5 && memcmp(s + name, "value", 5) == 0 && !records_seen;
		if (value && s[i] != '[')
			return NO; /* it says "not an array" */
		if (value) {
			records_seen = true;
			i = fast_records(f, i, 1);
		} else {
			enum capture c = name_is(s + name, name_len, "@odata.nextLink", 15) ? CAP_NEXT_LINK : CAP_NONE;
			i = fast_member(f, i, 1, c, NULL);
		}
		i = fast_next(s, i, f->len, '}', &done);
	} while (i != NO && !done);
	return i != NO && records_seen ? i : NO;
}

static enum fast_result fast_split(struct ax_blob *b, const struct ax_blob_spec *spec, const char *body, size_t len)
{
	struct fast f = {
		.b = b, .spec = spec, .s = (const unsigned char *)body, .len = len,
		.id_key_len = spec->id_key ? strlen(spec->id_key) : 0,
		.ts_key_len = spec->ts_key ? strlen(spec->ts_key) : 0,
	};
	if (!ax_utf8_valid(body, len))
		return FAST_NO; /* yajl's own check is laxer: it decides */
	size_t i = ax_jscan_blanks(f.s, 0, len);
	if (i >= len || f.s[i] != (spec->envelope ? '{' : '['))
		return FAST_NO;
	i = spec->envelope ? fast_envelope(&f, i) : fast_records(&f, i, 0);
	if (f.nomem)
		return FAST_NOMEM;
	return i != NO && ax_jscan_blanks(f.s, i, len) == len ? FAST_OK : FAST_NO;
}

ax_err ax_blob_split(struct ax_blob *b, const struct ax_blob_spec *spec, const char *body, size_t len)
{
	reset(b);
	if (!b->yajl_only) {
		enum fast_result r = fast_split(b, spec, body, len);
		if (r != FAST_NO) {
			b->fast = r == FAST_OK;
			return r == FAST_OK ? AX_OK : AX_ERR_NOMEM;
		}
		reset(b);
	}
	struct split s = { .b = b, .spec = spec, .body = body, .len = len };
	s.yajl = yajl_alloc(&callbacks, NULL, &s);
	if (!s.yajl)
		return AX_ERR_NOMEM;
	ax_err err = parse(&s, body, len);
	yajl_free(s.yajl);
	if (err == AX_ERR_JSON) {
		b->bad_off = skip_blanks(body, s.search_from, len);
		b->bad_len = len - b->bad_off;
	}
	return err;
}

/* test_decode.c - ax_event_decode (record.c) and the JSON tree under it
 * (json.c): field look-up in any case, RecordType as number or string,
 * absent and odd fields, Graph alert detection, records that were already
 * enriched, errors and the depth limit, and reuse of one doc across records. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "json.h"
#include "record.h"

struct fixture {
	struct ax_json_doc *doc;
	struct ax_event ev;
	char *raw; /* the current record, in a buffer of exactly its size */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->doc = ax_json_doc_create(64);
	assert_non_null(f->doc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_json_doc_destroy(f->doc);
	free(f->raw);
	free(f);
	return 0;
}

/* Decodes text from a heap copy with no NUL after it, so ASan sees any
 * read past the record. */
static ax_err decode(struct fixture *f, const char *text)
{
	free(f->raw);
	size_t len = strlen(text);
	f->raw = malloc(len ? len : 1);
	assert_non_null(f->raw);
	memcpy(f->raw, text, len);
	return ax_event_decode(&f->ev, f->doc, NULL, f->raw, len);
}

static void decode_ok(struct fixture *f, const char *text)
{
	ax_err err = decode(f, text);
	if (err)
		fail_msg("decode '%s': %s (%s)", text, ax_strerror(err), ax_json_error(f->doc));
}

/* ---- fields ---- */

static const struct {
	enum ax_field field;
	const char *name;
} field_names[] = {
	{ AX_F_ID, "Id" },
	{ AX_F_RECORD_TYPE, "RecordType" },
	{ AX_F_CREATION_TIME, "CreationTime" },
	{ AX_F_OPERATION, "Operation" },
	{ AX_F_WORKLOAD, "Workload" },
	{ AX_F_RESULT_STATUS, "ResultStatus" },
	{ AX_F_USER_ID, "UserId" },
	{ AX_F_USER_TYPE, "UserType" },
	{ AX_F_CLIENT_IP, "ClientIP" },
	{ AX_F_CLIENT_IP_ADDRESS, "ClientIPAddress" },
	{ AX_F_ACTOR_IP_ADDRESS, "ActorIpAddress" },
	{ AX_F_OBJECT_ID, "ObjectId" },
	{ AX_F_ORGANIZATION_ID, "OrganizationId" },
	{ AX_F_SERVICE_SOURCE, "serviceSource" },
	{ AX_F_CATEGORY, "category" },
	{ AX_F_SEVERITY, "severity" },
	{ AX_F_TITLE, "title" },
	{ AX_F_TENANT_ID, "tenantId" },
	{ AX_F_CREATED_DATE_TIME, "createdDateTime" },
	{ AX_F_ISO27001, "iso27001" },
	{ AX_F_ANNEXA, "annexa" },
};

static void spell(char *out, const char *name, int style)
{
	size_t i = 0;
	for (; name[i]; i++) {
		char c = name[i];
		if (style == 1)
			c = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		else if (style == 2)
			c = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		else if (style == 3 && i % 2)
			c = (char)(c >= 'a' && c <= 'z' ? c - 32 : c >= 'A' && c <= 'Z' ? c + 32 : c);
		out[i] = c;
	}
	out[i] = '\0';
}

/* Every field is found in its documented spelling, upper, lower and mixed case. */
static void test_every_field_any_case(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(UNIT_ARRAY_LEN(field_names), AX_F_COUNT);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(field_names); i++) {
		for (int style = 0; style < 4; style++) {
			char key[64], text[256];
			spell(key, field_names[i].name, style);
			snprintf(text, sizeof(text), "{\"Other\":1,\"%s\":\"v-%s\",\"Last\":true}", key, key);
			decode_ok(f, text);
			enum ax_field fl = field_names[i].field;
			if (!f->ev.field[fl])
				fail_msg("key '%s' not found as field %d", key, fl);
			char want[80];
			snprintf(want, sizeof(want), "v-%s", key);
			assert_string_equal(f->ev.text[fl], want);
			assert_string_equal(ax_json_key(f->doc, f->ev.field[fl]), key);
			/* No other field is set. */
			for (int g = 0; g < AX_F_COUNT; g++) {
				if (g != (int)fl && (f->ev.field[g] || f->ev.text[g][0]))
					fail_msg("key '%s' also set field %d", key, g);
			}
		}
	}
}

/* Near misses are no field. */
static void test_near_misses(void **state)
{
	struct fixture *f = *state;
	decode_ok(f, "{\"\":1,\"I\":1,\"Ids\":1,\"Operations\":\"x\",\"Operatio\":\"y\",\"Work load\":\"z\","
		     "\"ClientIPAddres\":\"a\",\"iso27002\":{},\"annexa2\":{},\"_Id\":\"q\",\"Id_\":\"r\"}");
	for (int g = 0; g < AX_F_COUNT; g++) {
		assert_null(f->ev.field[g]);
		assert_string_equal(f->ev.text[g], "");
	}
}

static void test_absent_and_odd_values(void **state)
{
	struct fixture *f = *state;
	decode_ok(f, "{}");
	assert_int_equal(f->ev.kind, AX_KIND_O365);
	assert_int_equal(f->ev.record_type, -1);
	for (int g = 0; g < AX_F_COUNT; g++) {
		assert_null(f->ev.field[g]);
		assert_non_null(f->ev.text[g]);
		assert_string_equal(f->ev.text[g], "");
	}
	decode_ok(f, "{\"UserId\":null,\"Operation\":{\"a\":\"b\"},\"Workload\":[\"Exchange\"],"
		     "\"ResultStatus\":200,\"ClientIP\":false,\"ObjectId\":\"\"}");
	assert_non_null(f->ev.field[AX_F_USER_ID]);
	assert_int_equal(f->ev.field[AX_F_USER_ID]->type, AX_J_NULL);
	assert_string_equal(f->ev.text[AX_F_USER_ID], "");
	assert_int_equal(f->ev.field[AX_F_OPERATION]->type, AX_J_OBJECT);
	assert_string_equal(f->ev.text[AX_F_OPERATION], "");
	assert_int_equal(f->ev.field[AX_F_WORKLOAD]->type, AX_J_ARRAY);
	assert_string_equal(f->ev.text[AX_F_WORKLOAD], "");
	assert_string_equal(f->ev.text[AX_F_RESULT_STATUS], "200"); /* numbers keep their text */
	assert_string_equal(f->ev.text[AX_F_CLIENT_IP], "");
	assert_non_null(f->ev.field[AX_F_OBJECT_ID]);
	assert_string_equal(f->ev.text[AX_F_OBJECT_ID], "");
}

static void test_escapes(void **state)
{
	struct fixture *f = *state;
	decode_ok(f, "{\"Operation\":\"Add member to role.\",\"UserId\":\"a\\\"b\\\\c\\u00e9\\n\","
		     "\"Id\":\"x\\u0000y\",\"Work\\u006coad\":\"Exchange\",\"ObjectId\":\"\\/sites\\/a\"}");
	assert_string_equal(f->ev.text[AX_F_OPERATION], "Add member to role.");
	assert_string_equal(f->ev.text[AX_F_USER_ID], "a\"b\\c\xc3\xa9\n");
	/* \u0000 cuts the C string; the node keeps the exact length. */
	assert_string_equal(f->ev.text[AX_F_ID], "x");
	assert_int_equal(f->ev.field[AX_F_ID]->len, 3);
	assert_memory_equal(ax_json_text(f->doc, f->ev.field[AX_F_ID]), "x\0y", 3);
	/* An escaped key is matched after decoding. */
	assert_string_equal(f->ev.text[AX_F_WORKLOAD], "Exchange");
	assert_string_equal(f->ev.text[AX_F_OBJECT_ID], "/sites/a");
}

static void test_duplicate_keys_first_wins(void **state)
{
	struct fixture *f = *state;
	decode_ok(f, "{\"Operation\":\"first\",\"operation\":\"second\",\"OPERATION\":\"third\"}");
	assert_string_equal(f->ev.text[AX_F_OPERATION], "first");
	assert_string_equal(ax_json_text(f->doc, ax_json_get(f->doc, f->ev.root, "operation", 9)), "first");
	assert_int_equal(f->ev.root->len, 3); /* the tree keeps all three */
}

/* ---- RecordType ---- */

static const struct {
	const char *json;
	long want;
	const char *text;
} record_types[] = {
	{ "15", 15, "15" },
	{ "\"15\"", 15, "15" },
	{ "0", 0, "0" },
	{ "\"AzureActiveDirectoryStsLogon\"", -1, "AzureActiveDirectoryStsLogon" },
	{ "null", -1, "" },
	{ "15.0", -1, "15.0" },
	{ "1e1", -1, "1e1" },
	{ "-1", -1, "-1" },
	{ "\"\"", -1, "" },
	{ "\"15 \"", -1, "15 " },
	{ "\"0x0f\"", -1, "0x0f" },
	{ "true", -1, "" },
	{ "[15]", -1, "" },
	{ "{\"v\":15}", -1, "" },
	{ "386", 386, "386" },
};

static void test_record_type(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(record_types); i++) {
		for (int lower = 0; lower < 2; lower++) {
			char text[128];
			snprintf(text, sizeof(text), "{\"%s\":%s,\"Operation\":\"x\"}",
				 lower ? "recordtype" : "RecordType", record_types[i].json);
			decode_ok(f, text);
			if (f->ev.record_type != record_types[i].want)
				fail_msg("RecordType %s: %ld, want %ld", record_types[i].json, f->ev.record_type,
					 record_types[i].want);
			assert_string_equal(f->ev.text[AX_F_RECORD_TYPE], record_types[i].text);
			assert_non_null(f->ev.field[AX_F_RECORD_TYPE]);
		}
	}
	decode_ok(f, "{\"Operation\":\"x\"}");
	assert_int_equal(f->ev.record_type, -1);
	assert_null(f->ev.field[AX_F_RECORD_TYPE]);
}

/* ---- Graph alerts ---- */

static const struct {
	const char *json;
	enum ax_kind kind;
} kinds[] = {
	/* alerts_v2: serviceSource is enough */
	{ "{\"id\":\"da1\",\"serviceSource\":\"microsoftDefenderForEndpoint\",\"severity\":\"high\"}",
	  AX_KIND_GRAPH_ALERT },
	{ "{\"ServiceSource\":\"x\"}", AX_KIND_GRAPH_ALERT },
	/* or category + severity + title, without Workload/Operation */
	{ "{\"id\":\"a\",\"category\":\"InitialAccess\",\"severity\":\"medium\",\"title\":\"Phish\"}",
	  AX_KIND_GRAPH_ALERT },
	{ "{\"category\":\"c\",\"severity\":\"s\",\"title\":\"t\",\"Workload\":\"Exchange\"}", AX_KIND_O365 },
	{ "{\"category\":\"c\",\"severity\":\"s\",\"title\":\"t\",\"Operation\":\"AlertTriggered\"}",
	  AX_KIND_O365 },
	{ "{\"category\":\"c\",\"severity\":\"s\"}", AX_KIND_O365 },
	{ "{\"category\":\"c\",\"title\":\"t\"}", AX_KIND_O365 },
	/* a RecordType makes it a Management Activity record, whatever else it has */
	{ "{\"RecordType\":40,\"serviceSource\":\"x\",\"category\":\"c\",\"severity\":\"s\",\"title\":\"t\"}",
	  AX_KIND_O365 },
	{ "{\"RecordType\":null,\"serviceSource\":\"x\"}", AX_KIND_O365 },
	{ "{\"Id\":\"1\",\"RecordType\":15,\"Operation\":\"UserLoggedIn\",\"Workload\":\"AzureActiveDirectory\"}",
	  AX_KIND_O365 },
	{ "{}", AX_KIND_O365 },
};

static void test_graph_alert_detection(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(kinds); i++) {
		decode_ok(f, kinds[i].json);
		if (f->ev.kind != kinds[i].kind)
			fail_msg("%s: kind %d, want %d", kinds[i].json, f->ev.kind, kinds[i].kind);
	}
	decode_ok(f, kinds[2].json);
	assert_string_equal(f->ev.text[AX_F_ID], "a");
	assert_string_equal(f->ev.text[AX_F_CATEGORY], "InitialAccess");
	assert_string_equal(f->ev.text[AX_F_TITLE], "Phish");
}

/* Records that already carry the members annexa adds are recognised (the
 * processor refuses them; see test_splice). */
static void test_already_enriched(void **state)
{
	struct fixture *f = *state;
	decode_ok(f, "{\"Id\":\"1\",\"iso27001\":{\"edition\":\"2022\"},\"annexa\":{\"source\":\"s\"}}");
	assert_non_null(f->ev.field[AX_F_ISO27001]);
	assert_int_equal(f->ev.field[AX_F_ISO27001]->type, AX_J_OBJECT);
	assert_non_null(f->ev.field[AX_F_ANNEXA]);
	decode_ok(f, "{\"ISO27001\":null}");
	assert_non_null(f->ev.field[AX_F_ISO27001]);
	assert_null(f->ev.field[AX_F_ANNEXA]);
	decode_ok(f, "{\"Annexa\":1}");
	assert_non_null(f->ev.field[AX_F_ANNEXA]);
	/* Nested members do not count. */
	decode_ok(f, "{\"Data\":{\"iso27001\":1,\"annexa\":2}}");
	assert_null(f->ev.field[AX_F_ISO27001]);
	assert_null(f->ev.field[AX_F_ANNEXA]);
}

/* ---- errors ---- */

static const struct {
	const char *json;
	ax_err err;
	const char *msg; /* in ax_json_error, NULL: not checked */
} bad[] = {
	{ "[1,2]", AX_ERR_NOT_OBJECT, NULL },
	{ "\"str\"", AX_ERR_NOT_OBJECT, NULL },
	{ "true", AX_ERR_NOT_OBJECT, NULL },
	{ "null", AX_ERR_NOT_OBJECT, NULL },
	{ "", AX_ERR_JSON, "incomplete JSON value" },
	{ "   \n", AX_ERR_JSON, "incomplete JSON value" },
	{ "{", AX_ERR_JSON, "incomplete JSON value" },
	{ "{\"Id\":\"1\"", AX_ERR_JSON, "incomplete JSON value" },
	{ "{\"Id\":\"1}", AX_ERR_JSON, "incomplete JSON value" },
	{ "{}{}", AX_ERR_JSON, "more than one JSON value" },
	{ "{\"a\":1}\n{\"b\":2}", AX_ERR_JSON, "more than one JSON value" },
	{ "{} x", AX_ERR_JSON, "invalid char in json text" },
	{ "{\"a\":1,}", AX_ERR_JSON, NULL },
	{ "{'a':1}", AX_ERR_JSON, NULL },
	{ "{\"a\":tru}", AX_ERR_JSON, NULL },
	{ "{\"a\":\"\xff\"}", AX_ERR_JSON, "invalid UTF-8 (at byte 6)" },
	{ "{\"a\":\"\xe2\x82\"}", AX_ERR_JSON, "invalid UTF-8 (at byte 6)" },
	{ "{\"a\":\"\x80\"}", AX_ERR_JSON, "invalid UTF-8 (at byte 6)" },
	{ "{\"a\":\"tab\there\"}", AX_ERR_JSON, "invalid character inside string" },
	{ "{\"a\":01}", AX_ERR_JSON, NULL },
	{ "{\"a\":\"\\x41\"}", AX_ERR_JSON, NULL },
};

static void test_errors(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++) {
		ax_err err = decode(f, bad[i].json);
		if (err != bad[i].err)
			fail_msg("'%s': %s, want %s (%s)", bad[i].json, ax_strerror(err),
				 ax_strerror(bad[i].err), ax_json_error(f->doc));
		if (bad[i].msg)
			assert_contains(ax_json_error(f->doc), bad[i].msg);
		if (err == AX_ERR_JSON)
			assert_true(ax_json_error(f->doc)[0] != '\0');
		/* The doc is fine for the next record. */
		decode_ok(f, "{\"Id\":\"after\",\"RecordType\":8}");
		assert_string_equal(f->ev.text[AX_F_ID], "after");
		assert_int_equal(f->ev.record_type, 8);
		assert_string_equal(ax_json_error(f->doc), "");
	}
}

static void test_error_position(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(decode(f, "{\"Id\":\"1\",\"Bad\":nope}"), AX_ERR_JSON);
	assert_contains(ax_json_error(f->doc), "(at byte ");
}

/* ---- depth ---- */

static char *nested(unsigned depth, char open, char close)
{
	/* depth containers: {"a":{"a":...{}...}} or [[...]] inside one object */
	char *s = malloc(depth * 6 + 8);
	assert_non_null(s);
	size_t n = 0;
	s[n++] = '{';
	for (unsigned i = 1; i < depth; i++) {
		if (open == '{') {
			memcpy(s + n, "\"a\":{", 5);
			n += 5;
		} else {
			if (i == 1) {
				memcpy(s + n, "\"a\":", 4);
				n += 4;
			}
			s[n++] = '[';
		}
	}
	for (unsigned i = 1; i < depth; i++)
		s[n++] = close;
	s[n++] = '}';
	s[n] = '\0';
	return s;
}

static void test_depth_limit(void **state)
{
	(void)state;
	static const unsigned limits[] = { 2, 3, 16, 64 };
	for (size_t k = 0; k < UNIT_ARRAY_LEN(limits); k++) {
		unsigned limit = limits[k];
		struct ax_json_doc *doc = ax_json_doc_create(limit);
		assert_non_null(doc);
		for (int arrays = 0; arrays < 2; arrays++) {
			struct ax_event ev;
			char *ok = nested(limit, arrays ? '[' : '{', arrays ? ']' : '}');
			if (ax_event_decode(&ev, doc, NULL, ok, strlen(ok)) != AX_OK)
				fail_msg("limit %u: %s rejected: %s", limit, ok, ax_json_error(doc));
			char *deep = nested(limit + 1, arrays ? '[' : '{', arrays ? ']' : '}');
			assert_int_equal(ax_event_decode(&ev, doc, NULL, deep, strlen(deep)), AX_ERR_TOO_DEEP);
			char want[64];
			snprintf(want, sizeof(want), "nested deeper than %u levels", limit);
			assert_string_equal(ax_json_error(doc), want);
			/* And the doc recovers. */
			assert_int_equal(ax_event_decode(&ev, doc, NULL, ok, strlen(ok)), AX_OK);
			free(ok);
			free(deep);
		}
		ax_json_doc_destroy(doc);
	}
	/* A very deep record fails fast instead of exhausting anything. */
	struct ax_json_doc *doc = ax_json_doc_create(64);
	char *deep = nested(100000, '[', ']');
	struct ax_event ev;
	assert_int_equal(ax_event_decode(&ev, doc, NULL, deep, strlen(deep)), AX_ERR_TOO_DEEP);
	free(deep);
	ax_json_doc_destroy(doc);
}

/* ---- the tree ---- */

static void test_tree(void **state)
{
	struct fixture *f = *state;
	decode_ok(f, "{\"a\":1,\"B\":[true,false,null,\"s\",2.5],\"c\":{\"d\":\"e\"},\"Id\":\"x\"}");
	const struct ax_jnode *root = f->ev.root;
	assert_ptr_equal(root, ax_json_root(f->doc));
	assert_int_equal(root->type, AX_J_OBJECT);
	assert_int_equal(root->len, 4);
	static const char *const keys[] = { "a", "B", "c", "Id" };
	size_t i = 0;
	for (const struct ax_jnode *c = ax_json_first(f->doc, root); c; c = ax_json_next(f->doc, c), i++)
		assert_string_equal(ax_json_key(f->doc, c), keys[i]);
	assert_int_equal(i, 4);
	const struct ax_jnode *b = ax_json_get(f->doc, root, "b", 1);
	assert_non_null(b);
	assert_int_equal(b->type, AX_J_ARRAY);
	assert_int_equal(b->len, 5);
	static const uint8_t types[] = { AX_J_TRUE, AX_J_FALSE, AX_J_NULL, AX_J_STRING, AX_J_NUMBER };
	i = 0;
	for (const struct ax_jnode *e = ax_json_first(f->doc, b); e; e = ax_json_next(f->doc, e), i++) {
		assert_int_equal(e->type, types[i]);
		assert_string_equal(ax_json_key(f->doc, e), ""); /* array elements have no key */
	}
	assert_string_equal(ax_json_text(f->doc, ax_json_first(f->doc, b)), "");
	const struct ax_jnode *c = ax_json_get(f->doc, root, "C", 1);
	assert_string_equal(ax_json_text(f->doc, ax_json_get(f->doc, c, "D", 1)), "e");
	assert_null(ax_json_get(f->doc, root, "d", 1)); /* not nested look-up */
	assert_null(ax_json_get(f->doc, b, "a", 1));    /* arrays have no members */
	assert_null(ax_json_get(f->doc, NULL, "a", 1));
	assert_null(ax_json_first(f->doc, ax_json_get(f->doc, root, "a", 1)));
	decode_ok(f, "{\"e\":[],\"o\":{}}");
	assert_null(ax_json_first(f->doc, ax_json_get(f->doc, f->ev.root, "e", 1)));
	assert_int_equal(ax_json_get(f->doc, f->ev.root, "o", 1)->len, 0);
}

/* The record's bytes are the caller's: decoding reads them and never
 * writes (enrich splices from them). */
static void test_raw_untouched(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "{\"Id\":\"abc\",\"Operation\":\"Set-Mailbox\",\"Esc\":\"a\\u0041\","
				   "\"N\":12,\"L\":[\"x\",\"y\"],\"O\":{\"k\":\"v\"}}";
	decode_ok(f, text);
	assert_memory_equal(f->raw, text, strlen(text));
	assert_ptr_equal(f->ev.raw, f->raw);
	assert_int_equal(f->ev.raw_len, strlen(text));
	assert_ptr_equal(f->ev.doc, f->doc);
	assert_string_equal(f->ev.text[AX_F_OPERATION], "Set-Mailbox");
}

/* Only len bytes are the record, whatever follows them. */
static void test_length_bounds_record(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "{\"Id\":\"short\"}{\"Id\":\"ignored\"}";
	assert_int_equal(ax_event_decode(&f->ev, f->doc, NULL, text, 14), AX_OK);
	assert_string_equal(f->ev.text[AX_F_ID], "short");
	assert_int_equal(ax_event_decode(&f->ev, f->doc, NULL, text, 13), AX_ERR_JSON);
}

/* One doc for many records of every size: texts are those of the last one. */
static void test_reuse_sizes(void **state)
{
	struct fixture *f = *state;
	size_t big = 300 * 1024;
	char *text = malloc(big + 128);
	assert_non_null(text);
	for (int round = 0; round < 3; round++) {
		int n = snprintf(text, big + 128, "{\"Id\":\"big-%d\",\"Pad\":\"", round);
		memset(text + n, 'p', big);
		snprintf(text + n + big, 128 - (size_t)n, "\",\"Operation\":\"Op%d\",\"N\":[1,2,3]}", round);
		decode_ok(f, text);
		char want[32];
		snprintf(want, sizeof(want), "big-%d", round);
		assert_string_equal(f->ev.text[AX_F_ID], want);
		snprintf(want, sizeof(want), "Op%d", round);
		assert_string_equal(f->ev.text[AX_F_OPERATION], want);
		assert_int_equal(ax_json_get(f->doc, f->ev.root, "pad", 3)->len, big);
		decode_ok(f, "{\"Id\":\"small\",\"RecordType\":\"2\"}");
		assert_string_equal(f->ev.text[AX_F_ID], "small");
		assert_int_equal(f->ev.record_type, 2);
		assert_null(f->ev.field[AX_F_OPERATION]);
	}
	free(text);
}

/* Many numbers and escaped strings: all of them are kept. */
static void test_many_values(void **state)
{
	struct fixture *f = *state;
	size_t cap = 1 << 20, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "{\"L\":[");
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s%d,\"\\u00%02x\"", i ? "," : "", i % 10, 0x41 + i % 26);
	n += (size_t)snprintf(text + n, cap - n, "],\"Id\":\"end\"}");
	decode_ok(f, text);
	const struct ax_jnode *l = ax_json_get(f->doc, f->ev.root, "L", 1);
	assert_int_equal(l->len, 40000);
	int i = 0;
	for (const struct ax_jnode *e = ax_json_first(f->doc, l); e; e = ax_json_next(f->doc, e), i++) {
		char want[2] = { 0 };
		want[0] = (char)(i % 2 ? 'A' + (i / 2) % 26 : '0' + (i / 2) % 10);
		if (strcmp(ax_json_text(f->doc, e), want) != 0)
			fail_msg("element %d: '%s', want '%s'", i, ax_json_text(f->doc, e), want);
	}
	assert_string_equal(f->ev.text[AX_F_ID], "end");
	free(text);
}

/* The ASCII comparisons that replace strcasecmp on the hot path agree with
 * it (C locale) for every pair of bytes, and stop at the end of a string. */
static void test_ascii_like_strcasecmp(void **state)
{
	(void)state;
	for (unsigned x = 1; x < 256; x++) {
		for (unsigned y = 1; y < 256; y++) {
			char a[3] = { (char)x, 'k', 0 }, b[3] = { (char)y, 'K', 0 };
			bool want = strcasecmp(a, b) == 0;
			if (ax_ascii_streq(a, b) != want || ax_ascii_ieq(a, b, 2) != want)
				fail_msg("bytes %#x and %#x", x, y);
		}
		assert_int_equal(ax_ascii_lower((unsigned char)x), (unsigned char)(x >= 'A' && x <= 'Z' ? x + 32 : x));
	}
	assert_false(ax_ascii_streq("Exchange", "exchangex"));
	assert_false(ax_ascii_streq("", "a"));
	assert_true(ax_ascii_streq("", ""));
	assert_false(ax_ascii_ieq("ab", "abc", 3)); /* the first's end does not match 'c' */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_like_strcasecmp),
		cmocka_unit_test_setup_teardown(test_every_field_any_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_near_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_and_odd_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_keys_first_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_graph_alert_detection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_enriched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_position, setup, teardown),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_length_bounds_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_values, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

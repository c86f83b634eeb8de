/* test_splice.c - enrich.c: decode → map → splice. The record's bytes are
 * kept exactly and the iso27001 and annexa members are inserted before its
 * closing brace; records already enriched are refused. */
#include "unit.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "enrich.h"
#include "rules.h"

struct fixture {
	struct ax_rules *rules;
	struct ax_processor p;
	struct ax_origin origin;
	char *out;      /* the last enriched record, NUL-terminated copy */
	yajl_val tree;  /* and parsed */
};

static int group_setup(void **state)
{
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_rules *rules = ax_rules_load(NULL, &diag);
	unit_diag_dump(&diag);
	ax_diag_finish(&diag);
	assert_non_null(rules);
	*state = rules;
	return 0;
}

static int group_teardown(void **state)
{
	ax_rules_destroy(*state);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->rules = *state;
	assert_int_equal(ax_processor_init(&f->p, f->rules, 64, 4u << 20), AX_OK);
	f->origin = (struct ax_origin){ .source = "contoso", .type = "o365", .host = "siem-fwd-1", .version = "0.1.0" };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_processor_finish(&f->p);
	yajl_tree_free(f->tree);
	free(f->out);
	free(f);
	return 0;
}

static const char *process(struct fixture *f, const char *raw)
{
	ax_err err = ax_process(&f->p, raw, strlen(raw), &f->origin);
	if (err)
		fail_msg("ax_process '%s': %s: %s", raw, ax_strerror(err), f->p.reason);
	const struct ax_record *r = &f->p.record;
	free(f->out);
	f->out = malloc(r->len + 1);
	assert_non_null(f->out);
	memcpy(f->out, r->json, r->len);
	f->out[r->len] = '\0';
	assert_int_equal(strlen(f->out), r->len); /* no NUL inside */
	yajl_tree_free(f->tree);
	char why[256];
	f->tree = yajl_tree_parse(f->out, why, sizeof(why));
	if (!f->tree)
		fail_msg("enriched record is not JSON (%s): %s", why, f->out);
	return f->out;
}

static yajl_val get(yajl_val v, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };
	yajl_val x = yajl_tree_get(v, path, yajl_t_any);
	if (!x)
		fail_msg("no %s.%s", a, b ? b : "");
	return x;
}

static const char *get_str(yajl_val v, const char *a, const char *b)
{
	yajl_val x = get(v, a, b);
	if (!YAJL_IS_STRING(x))
		fail_msg("%s.%s is not a string", a, b ? b : "");
	return YAJL_GET_STRING(x);
}

/* An array of strings as "a,b,c". */
static const char *get_list(yajl_val v, const char *a, const char *b, char *buf, size_t len)
{
	yajl_val x = get(v, a, b);
	assert_true(YAJL_IS_ARRAY(x));
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < YAJL_GET_ARRAY(x)->len; i++) {
		yajl_val s = YAJL_GET_ARRAY(x)->values[i];
		assert_true(YAJL_IS_STRING(s));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", YAJL_GET_STRING(s));
	}
	return buf;
}

/* ---- the splice keeps every original byte ---- */

static const char *const originals[] = {
	"{\"Id\":\"1\",\"Operation\":\"UserLoginFailed\",\"Workload\":\"AzureActiveDirectory\"}",
	"{ \"Id\" : \"2\" ,\n \"N\":1.50E+02,\t\"S\":\"\\u00e9\\/\\\"}\" , \"E\":{} , \"L\":[ ] }",
	"{\"Id\":\"3\",\"Nested\":{\"a\":{\"b\":\"}\"}},\"Last\":\"}}\"}",
	"{\"Id\":\"4\",\"Utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\",\"Dup\":1,\"Dup\":2}",
	"  {\"Id\":\"5\"}",
};

static void test_bytes_preserved(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(originals); i++) {
		const char *raw = originals[i];
		const char *out = process(f, raw);
		size_t brace = strrchr(raw, '}') - raw;
		if (memcmp(out, raw, brace) != 0)
			fail_msg("prefix changed:\n  raw %s\n  out %s", raw, out);
		assert_memory_equal(out + brace, ",\"iso27001\":{\"edition\":\"2022\",", 29);
		size_t n = strlen(out);
		assert_true(n > strlen(raw) + 100);
		assert_string_equal(out + n - 2, "}}"); /* annexa's brace, then the record's */
		assert_null(memchr(out + brace, '\n', n - brace)); /* still one line */
		/* The members follow the record's own, in this order. */
		assert_true(strstr(out, "\"iso27001\":") < strstr(out, ",\"annexa\":{\"source\":"));
	}
}

/* Whitespace after the closing brace stays after it. */
static void test_trailing_whitespace(void **state)
{
	struct fixture *f = *state;
	static const char *const tails[] = { " ", "  \t", "\t", " \r" };
	for (size_t i = 0; i < UNIT_ARRAY_LEN(tails); i++) {
		char raw[128];
		snprintf(raw, sizeof(raw), "{\"Id\":\"t\",\"Workload\":\"Exchange\"}%s", tails[i]);
		const char *out = process(f, raw);
		size_t n = strlen(out), t = strlen(tails[i]);
		assert_string_equal(out + n - t, tails[i]);
		assert_memory_equal(out + n - t - 2, "}}", 2);
		assert_memory_equal(out, raw, strlen(raw) - t - 1);
	}
}

/* An empty object gets no leading comma. */
static void test_empty_object(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *raw, *head; } cases[] = {
		{ "{}", "{\"iso27001\":{" },
		{ "{ }", "{ \"iso27001\":{" },
		{ "{\n\t}", "{\n\t\"iso27001\":{" },
		{ " {} ", " {\"iso27001\":{" },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(cases); i++) {
		const char *out = process(f, cases[i].raw);
		assert_memory_equal(out, cases[i].head, strlen(cases[i].head));
		assert_string_equal(get_str(f->tree, "iso27001", "rule"), "FB-999");
	}
}

/* ---- refusals and errors ---- */

static const struct {
	const char *raw;
	ax_err err;
	const char *reason;
} refused[] = {
	{ "{\"Id\":\"1\",\"iso27001\":{\"edition\":\"2022\"}}", AX_ERR_JSON,
	  "record already has an \"iso27001\" or \"annexa\" member (enriched before?)" },
	{ "{\"Id\":\"1\",\"annexa\":{}}", AX_ERR_JSON, "record already has an \"iso27001\" or \"annexa\" member" },
	{ "{\"ISO27001\":null}", AX_ERR_JSON, "already has" },
	{ "{\"AnnexA\":1}", AX_ERR_JSON, "already has" },
	{ "[{\"Id\":\"1\"}]", AX_ERR_NOT_OBJECT, "not a JSON object" },
	{ "\"text\"", AX_ERR_NOT_OBJECT, "not a JSON object" },
	{ "{\"Id\":", AX_ERR_JSON, "invalid JSON: incomplete JSON value" },
	{ "{\"Id\":1}}", AX_ERR_JSON, "invalid JSON: " },
	{ "", AX_ERR_JSON, "invalid JSON: " },
};

static void test_refused(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(refused); i++) {
		ax_err err = ax_process(&f->p, refused[i].raw, strlen(refused[i].raw), &f->origin);
		if (err != refused[i].err || !strstr(f->p.reason, refused[i].reason))
			fail_msg("'%s': %s (%s), want %s (%s)", refused[i].raw, ax_strerror(err), f->p.reason,
				 ax_strerror(refused[i].err), refused[i].reason);
		/* and the next record is fine */
		process(f, "{\"Id\":\"next\"}");
		assert_string_equal(f->p.reason, "");
	}
}

static void test_too_deep(void **state)
{
	struct fixture *f = *state;
	ax_processor_finish(&f->p);
	assert_int_equal(ax_processor_init(&f->p, f->rules, 3, 4096), AX_OK);
	static const char deep[] = "{\"a\":{\"b\":{\"c\":{}}}}";
	assert_int_equal(ax_process(&f->p, deep, strlen(deep), &f->origin), AX_ERR_TOO_DEEP);
	assert_string_equal(f->p.reason, "record nested too deep: nested deeper than 3 levels");
	process(f, "{\"a\":{\"b\":{}}}");
}

/* The enriched record is bounded: the original plus 64 KiB. */
static void test_too_large(void **state)
{
	struct fixture *f = *state;
	ax_processor_finish(&f->p);
	assert_int_equal(ax_processor_init(&f->p, f->rules, 64, 1024), AX_OK);
	size_t n = 80 * 1024;
	char *raw = malloc(n + 32);
	assert_non_null(raw);
	int h = snprintf(raw, n + 32, "{\"Id\":\"big\",\"Pad\":\"");
	memset(raw + h, 'x', n);
	strcpy(raw + h + n, "\"}");
	assert_int_equal(ax_process(&f->p, raw, strlen(raw), &f->origin), AX_ERR_TOO_LARGE);
	assert_contains(f->p.reason, "too large");
	/* a record under the bound is fine */
	raw[h + 32 * 1024] = '\0';
	strcat(raw, "\"}");
	process(f, raw);
	free(raw);
}

/* ---- what is spliced in ---- */

static void test_iso_member(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	process(f, "{\"Id\":\"1\",\"RecordType\":15,\"Operation\":\"UserLoginFailed\","
		   "\"Workload\":\"AzureActiveDirectory\",\"OrganizationId\":\"org-1\"}");
	yajl_val iso = get(f->tree, "iso27001", NULL);
	assert_true(YAJL_IS_OBJECT(iso));
	assert_int_equal(YAJL_GET_OBJECT(iso)->len, 10);
	static const char *const keys[] = { "edition", "controls", "related", "controls_2013", "category",
					    "severity", "rule", "rules", "mapping_version", "drift" };
	for (size_t i = 0; i < 10; i++)
		assert_string_equal(YAJL_GET_OBJECT(iso)->keys[i], keys[i]);
	assert_string_equal(get_str(iso, "edition", NULL), "2022");
	assert_string_equal(get_list(iso, "controls", NULL, buf, sizeof(buf)), "8.5");
	assert_string_equal(get_list(iso, "related", NULL, buf, sizeof(buf)), "5.17,8.15,8.16");
	assert_string_equal(get_list(iso, "controls_2013", NULL, buf, sizeof(buf)), "A.9.4.2");
	assert_string_equal(get_str(iso, "category", NULL), "authentication");
	assert_string_equal(get_str(iso, "severity", NULL), "low");
	assert_string_equal(get_str(iso, "rule", NULL), "AUTH-001");
	assert_string_equal(get_list(iso, "rules", NULL, buf, sizeof(buf)), "AUTH-001");
	assert_string_equal(get_str(iso, "mapping_version", NULL), f->rules->mapping_version);
	assert_true(YAJL_IS_FALSE(get(iso, "drift", NULL)));

	/* the record description outputs use */
	const struct ax_record *r = &f->p.record;
	assert_string_equal(r->category, "authentication");
	assert_int_equal(r->severity, AX_SEV_LOW);
	assert_int_equal(r->ncontrols, 1);
	assert_string_equal(r->controls[0], "8.5");
}

static void test_annexa_member(void **state)
{
	struct fixture *f = *state;
	process(f, "{\"Id\":\"1\",\"Workload\":\"Exchange\",\"OrganizationId\":\"org-1\",\"tenantId\":\"t-2\"}");
	yajl_val a = get(f->tree, "annexa", NULL);
	assert_int_equal(YAJL_GET_OBJECT(a)->len, 7);
	static const char *const keys[] = { "source", "type", "content_type", "tenant", "ingested_at", "host", "version" };
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(YAJL_GET_OBJECT(a)->keys[i], keys[i]);
	assert_string_equal(get_str(a, "source", NULL), "contoso");
	assert_string_equal(get_str(a, "type", NULL), "o365");
	assert_string_equal(get_str(a, "content_type", NULL), "Audit.Exchange");
	assert_string_equal(get_str(a, "tenant", NULL), "org-1");
	assert_string_equal(get_str(a, "host", NULL), "siem-fwd-1");
	assert_string_equal(get_str(a, "version", NULL), "0.1.0");
	const char *at = get_str(a, "ingested_at", NULL);
	regex_t re;
	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
				 REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, at, 0, NULL, 0), 0);
	regfree(&re);
	/* and it is now (UTC): CLOCK_REALTIME, which time() can lag by a tick */
	struct tm tm = { 0 };
	assert_int_equal(sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	time_t t = timegm(&tm);
	assert_true(t <= now.tv_sec && now.tv_sec - t <= 5);

	/* tenant: OrganizationId, else tenantId, else null */
	process(f, "{\"Id\":\"1\",\"tenantId\":\"t-2\"}");
	assert_string_equal(get_str(f->tree, "annexa", "tenant"), "t-2");
	assert_string_equal(f->p.record.tenant, "t-2");
	process(f, "{\"Id\":\"1\"}");
	assert_true(YAJL_IS_NULL(get(f->tree, "annexa", "tenant")));
	assert_string_equal(f->p.record.tenant, "");

	/* the origin overrides what the record says */
	f->origin.tenant = "from-config";
	f->origin.content_type = "Audit.General";
	process(f, "{\"Id\":\"1\",\"Workload\":\"Exchange\",\"OrganizationId\":\"org-1\"}");
	assert_string_equal(get_str(f->tree, "annexa", "tenant"), "from-config");
	assert_string_equal(get_str(f->tree, "annexa", "content_type"), "Audit.General");
	assert_string_equal(f->p.record.content_type, "Audit.General");
}

/* The origin may change between records (several sources, one processor). */
static void test_origin_changes(void **state)
{
	struct fixture *f = *state;
	static const char *const sources[] = { "a", "b", "b", "a", "we\"ird\\name\n", "a" };
	char host[32];
	for (size_t i = 0; i < UNIT_ARRAY_LEN(sources); i++) {
		snprintf(host, sizeof(host), "host-%zu", i % 2);
		f->origin.source = sources[i];
		f->origin.host = host; /* the same buffer, new content */
		f->origin.type = i % 3 ? "file" : "o365";
		process(f, "{\"Id\":\"1\"}");
		assert_string_equal(get_str(f->tree, "annexa", "source"), sources[i]);
		assert_string_equal(get_str(f->tree, "annexa", "host"), host);
		assert_string_equal(get_str(f->tree, "annexa", "type"), i % 3 ? "file" : "o365");
		assert_string_equal(f->p.record.source, sources[i]);
	}
}

/* Every record gets the iso27001 member of its own mapping, whatever came
 * before it (severity from the record included). */
static void test_iso_per_record(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *raw;
		const char *rule, *severity;
	} seq[] = {
		{ "{\"Operation\":\"UserLoginFailed\",\"Workload\":\"AzureActiveDirectory\"}", "AUTH-001", "low" },
		{ "{\"Operation\":\"DlpRuleMatch\",\"PolicyDetails\":[{\"Rules\":[{\"Severity\":\"High\"}]}]}", "DLP-001", "high" },
		{ "{\"Operation\":\"DlpRuleMatch\",\"PolicyDetails\":[{\"Rules\":[{\"Severity\":\"Low\"}]}]}", "DLP-001", "low" },
		{ "{}", "FB-999", "informational" },
		{ "{\"Operation\":\"DlpRuleMatch\",\"PolicyDetails\":[{\"Rules\":[{\"Severity\":\"High\"}]}]}", "DLP-001", "high" },
		{ "{\"Operation\":\"DlpRuleMatch\"}", "DLP-001", "medium" },
		{ "{\"Operation\":\"UserLoginFailed\",\"Workload\":\"AzureActiveDirectory\"}", "AUTH-001", "low" },
	};
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < UNIT_ARRAY_LEN(seq); i++) {
			process(f, seq[i].raw);
			assert_string_equal(get_str(f->tree, "iso27001", "rule"), seq[i].rule);
			if (strcmp(get_str(f->tree, "iso27001", "severity"), seq[i].severity) != 0)
				fail_msg("%s: severity %s, want %s", seq[i].raw,
					 get_str(f->tree, "iso27001", "severity"), seq[i].severity);
			assert_string_equal(ax_severity_names[f->p.record.severity], seq[i].severity);
		}
	}
}

/* ---- the record description ---- */

static void test_record_fields(void **state)
{
	struct fixture *f = *state;
	process(f, "{\"Id\":\"e1\",\"CreationTime\":\"2026-11-23T07:00:00\",\"Workload\":\"SharePoint\","
		   "\"Operation\":\"FileAccessed\",\"UserId\":\"alice@contoso\",\"ClientIP\":\"10.0.0.1\","
		   "\"ClientIPAddress\":\"10.0.0.2\",\"ActorIpAddress\":\"10.0.0.3\"}");
	const struct ax_record *r = &f->p.record;
	assert_string_equal(r->id, "e1");
	assert_string_equal(r->creation_time, "2026-11-23T07:00:00");
	assert_string_equal(r->workload, "SharePoint");
	assert_string_equal(r->operation, "FileAccessed");
	assert_string_equal(r->user, "alice@contoso");
	assert_string_equal(r->client_ip, "10.0.0.1");
	assert_string_equal(r->source, "contoso");
	assert_string_equal(r->content_type, "Audit.SharePoint");

	process(f, "{\"Id\":\"e2\",\"ClientIPAddress\":\"10.0.0.2\",\"ActorIpAddress\":\"10.0.0.3\"}");
	assert_string_equal(f->p.record.client_ip, "10.0.0.2");
	process(f, "{\"Id\":\"e3\",\"ActorIpAddress\":\"10.0.0.3\"}");
	assert_string_equal(f->p.record.client_ip, "10.0.0.3");
	process(f, "{}");
	r = &f->p.record;
	assert_string_equal(r->id, "");
	assert_string_equal(r->creation_time, "");
	assert_string_equal(r->workload, "");
	assert_string_equal(r->operation, "");
	assert_string_equal(r->user, "");
	assert_string_equal(r->client_ip, "");
	assert_string_equal(r->category, "other");
	assert_int_equal(r->ncontrols, 1);
	assert_string_equal(r->controls[0], "8.15");

	/* a Graph alert names its fields differently */
	process(f, "{\"id\":\"da-1\",\"createdDateTime\":\"2026-11-23T06:00:00Z\",\"serviceSource\":\"microsoftDefenderForEndpoint\","
		   "\"title\":\"Suspicious sign-in\",\"severity\":\"high\",\"category\":\"InitialAccess\",\"tenantId\":\"t-9\"}");
	r = &f->p.record;
	assert_string_equal(r->id, "da-1");
	assert_string_equal(r->creation_time, "2026-11-23T06:00:00Z");
	assert_string_equal(r->workload, "microsoftDefenderForEndpoint");
	assert_string_equal(r->operation, "Suspicious sign-in");
	assert_string_equal(r->content_type, "Graph.SecurityAlerts");
	assert_string_equal(r->tenant, "t-9");
}

/* Processors lent one kit (a worker's) keep their records whole: the kit's
 * parse of the next record does not change the strings of the last. */
static void test_record_fields_own_their_strings(void **state)
{
	struct fixture *f = *state;
	struct ax_kit kit;
	struct ax_processor a, b;
	assert_int_equal(ax_kit_init(&kit, f->rules, 64), AX_OK);
	assert_int_equal(ax_processor_init_lent(&a, f->rules, 4u << 20), AX_OK);
	assert_int_equal(ax_processor_init_lent(&b, f->rules, 4u << 20), AX_OK);
	a.kit = b.kit = &kit;
	static const char ra[] = "{\"Id\":\"a-1\",\"CreationTime\":\"2026-11-23T07:00:00\",\"Workload\":\"Exchange\","
				 "\"Operation\":\"Send\",\"UserId\":\"alice@contoso\",\"ClientIP\":\"10.0.0.1\","
				 "\"OrganizationId\":\"t-a\"}";
	static const char rb[] = "{\"Id\":\"b-2\",\"CreationTime\":\"2026-11-24T08:00:00\",\"Workload\":\"SharePoint\","
				 "\"Operation\":\"FileAccessed\",\"UserId\":\"bob@contoso\",\"ClientIP\":\"10.0.0.2\","
				 "\"OrganizationId\":\"t-b\"}";
	assert_int_equal(ax_process(&a, ra, strlen(ra), &f->origin), AX_OK);
	assert_int_equal(ax_process(&b, rb, strlen(rb), &f->origin), AX_OK);
	const struct ax_record *r = &a.record;
	assert_string_equal(r->id, "a-1");
	assert_string_equal(r->creation_time, "2026-11-23T07:00:00");
	assert_string_equal(r->workload, "Exchange");
	assert_string_equal(r->operation, "Send");
	assert_string_equal(r->user, "alice@contoso");
	assert_string_equal(r->client_ip, "10.0.0.1");
	assert_string_equal(r->content_type, "Audit.Exchange");
	assert_string_equal(r->tenant, "t-a");
	assert_string_equal(b.record.id, "b-2");
	assert_string_equal(b.record.tenant, "t-b");
	ax_processor_finish(&a);
	ax_processor_finish(&b);
	ax_kit_finish(&kit);
}

static const struct {
	const char *raw;
	const char *ctype;
} ctypes[] = {
	{ "{\"Workload\":\"AzureActiveDirectory\"}", "Audit.AzureActiveDirectory" },
	{ "{\"Workload\":\"azureactivedirectory\",\"RecordType\":15}", "Audit.AzureActiveDirectory" },
	{ "{\"Workload\":\"Exchange\"}", "Audit.Exchange" },
	{ "{\"Workload\":\"EXCHANGE\",\"RecordType\":\"2\"}", "Audit.Exchange" },
	{ "{\"Workload\":\"SharePoint\"}", "Audit.SharePoint" },
	{ "{\"Workload\":\"OneDrive\"}", "Audit.SharePoint" },
	{ "{\"Workload\":\"MicrosoftTeams\"}", "Audit.General" },
	{ "{}", "Audit.General" },
	{ "{\"Workload\":\"Exchange\",\"RecordType\":13}", "DLP.All" },
	{ "{\"Workload\":\"SharePoint\",\"RecordType\":11}", "DLP.All" },
	{ "{\"RecordType\":\"33\"}", "DLP.All" },
	{ "{\"RecordType\":100}", "DLP.All" },
	{ "{\"Workload\":\"SharePoint\",\"RecordType\":55}", "Audit.SharePoint" },
	{ "{\"RecordType\":63}", "DLP.All" },
	{ "{\"RecordType\":99}", "DLP.All" },
	{ "{\"RecordType\":107}", "DLP.All" },
	{ "{\"RecordType\":12}", "Audit.General" },
	{ "{\"serviceSource\":\"x\"}", "Graph.SecurityAlerts" },
};

static void test_content_type(void **state)
{
	struct fixture *f = *state;
	struct ax_json_doc *doc = ax_json_doc_create(8);
	for (size_t i = 0; i < UNIT_ARRAY_LEN(ctypes); i++) {
		struct ax_event ev;
		assert_int_equal(ax_event_decode(&ev, doc, NULL, ctypes[i].raw, strlen(ctypes[i].raw)), AX_OK);
		if (strcmp(ax_event_content_type(&ev), ctypes[i].ctype) != 0)
			fail_msg("%s: %s, want %s", ctypes[i].raw, ax_event_content_type(&ev), ctypes[i].ctype);
		process(f, ctypes[i].raw);
		assert_string_equal(get_str(f->tree, "annexa", "content_type"), ctypes[i].ctype);
	}
	ax_json_doc_destroy(doc);
}

/* Escapes in the record stay as they are; what annexa adds is escaped. */
static void test_escaping(void **state)
{
	struct fixture *f = *state;
	f->origin.source = "tab\there \"quoted\" \x01 back\\slash";
	const char *raw = "{\"Id\":\"\\u0041\\n\\\"\",\"Operation\":\"UserLoginFailed\",\"Workload\":\"AzureActiveDirectory\","
			  "\"OrganizationId\":\"org\\\"x\"}";
	const char *out = process(f, raw);
	assert_memory_equal(out, raw, strlen(raw) - 1);
	assert_string_equal(get_str(f->tree, "annexa", "source"), f->origin.source);
	assert_contains(out, "\"source\":\"tab\\there \\\"quoted\\\" \\u0001 back\\\\slash\"");
	assert_string_equal(get_str(f->tree, "annexa", "tenant"), "org\"x");
	assert_string_equal(get_str(f->tree, "Id", NULL), "A\n\"");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bytes_preserved),
		T(test_trailing_whitespace),
		T(test_empty_object),
		T(test_refused),
		T(test_too_deep),
		T(test_too_large),
		T(test_iso_member),
		T(test_annexa_member),
		T(test_origin_changes),
		T(test_iso_per_record),
		T(test_record_fields),
		T(test_record_fields_own_their_strings),
		T(test_content_type),
		T(test_escaping),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* test_mapper.c - mapping rules (rules.c) and their evaluation (mapper.c).
 *
 * A small user rule file, loaded over the built-in rules, exercises each
 * part of the semantics on operations and workloads no built-in rule knows
 * ("AxUnit"): priority, fallback and baseline, every condition operator and
 * path form, globs, record types, kinds, severity_from, the union of
 * controls and related ids and the 2013 ids derived from them. Load-time
 * errors name the file and the rule. Every evaluation is done twice, with
 * and without the match cache, and both must agree. */
#include "unit.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mapper.h"
#include "record.h"
#include "rules.h"

#define RULE(id, prio, match, yield) \
	"{\"id\":\"" id "\",\"name\":\"" id "\",\"priority\":" #prio ",\"match\":" match "," yield \
	",\"rationale\":\"unit test\"}"
#define YIELD(cat, sev, controls, related) \
	"\"category\":\"" cat "\",\"severity\":\"" sev "\",\"controls\":" controls ",\"related\":" related
#define AXU "\"workload\":[\"AxUnit\"]"

static const char unit_rules[] =
	"{\"version\":\"unit\",\"rules\":["
	/* priority: both match Probe; the lower number is primary */
	RULE("AXU-PRI-1", 101, "{" AXU ",\"operation\":[\"Probe\"]}",
	     YIELD("privileged_access", "high", "[\"8.2\"]", "[\"5.15\",\"8.15\"]")) ","
	RULE("AXU-PRI-2", 201, "{" AXU ",\"operation\":[\"Probe\",\"Probe2\"]}",
	     YIELD("configuration_change", "low", "[\"8.9\",\"8.2\"]", "[\"8.2\",\"8.32\"]") ",\"drift\":true") ","
	/* fallback for the workload, beats the baseline */
	RULE("AXU-FB", 905, "{" AXU "}", YIELD("other", "informational", "[\"8.16\"]", "[]")) ","
	/* equal priority, same category: no conflict; id breaks the tie */
	RULE("AXU-TIE-B", 302, "{" AXU ",\"operation\":[\"Tie\"]}", YIELD("mail_rule", "medium", "[\"5.1\"]", "[]")) ","
	RULE("AXU-TIE-A", 302, "{" AXU ",\"operation\":[\"Tie\"]}", YIELD("mail_rule", "low", "[\"5.7\"]", "[]")) ","
	/* conditions, one operator each */
	RULE("AXU-EQ", 101, "{" AXU ",\"operation\":[\"Cond.Equals\"],\"where\":[{\"field\":\"ResultStatus\",\"op\":\"equals\",\"value\":\"Success\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-IN", 101, "{" AXU ",\"operation\":[\"Cond.In\"],\"where\":[{\"field\":\"UserType\",\"op\":\"in\",\"value\":[2,\"Admin\",true]}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-CONTAINS", 101, "{" AXU ",\"operation\":[\"Cond.Contains\"],\"where\":[{\"field\":\"ObjectId\",\"op\":\"contains\",\"value\":\"/Sites/Finance\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-STARTS", 101, "{" AXU ",\"operation\":[\"Cond.Starts\"],\"where\":[{\"field\":\"UserId\",\"op\":\"startswith\",\"value\":\"svc-\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-EXISTS", 101, "{" AXU ",\"operation\":[\"Cond.Exists\"],\"where\":[{\"field\":\"Parameters.ForwardingSmtpAddress\",\"op\":\"exists\"}]}",
	     YIELD("mail_forwarding", "high", "[\"5.14\"]", "[]")) ","
	RULE("AXU-NOTEXISTS", 101, "{" AXU ",\"operation\":[\"Cond.NotExists\"],\"where\":[{\"field\":\"Actor.Type\",\"op\":\"not_exists\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-GTE", 101, "{" AXU ",\"operation\":[\"Cond.Gte\"],\"where\":[{\"field\":\"Count\",\"op\":\"gte\",\"value\":10}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-LTE", 101, "{" AXU ",\"operation\":[\"Cond.Lte\"],\"where\":[{\"field\":\"Count\",\"op\":\"lte\",\"value\":-1.5}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-RAW", 101, "{" AXU ",\"operation\":[\"Cond.Raw\"],\"where\":[{\"field\":\"*\",\"op\":\"raw_contains\",\"value\":\"Temporary Access Pass\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-WALK", 101, "{" AXU ",\"operation\":[\"Cond.Walk\"],\"where\":[{\"field\":\"Policy[*].Rules[*].Action\",\"op\":\"equals\",\"value\":\"Block\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-MOD", 101, "{" AXU ",\"operation\":[\"Cond.Mod\"],\"where\":[{\"field\":\"ModifiedProperties.Role.OldValue\",\"op\":\"equals\",\"value\":\"Reader\"},"
	     "{\"field\":\"ModifiedProperties.Role\",\"op\":\"equals\",\"value\":\"Owner\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-ANY", 101, "{" AXU ",\"operation\":[\"Cond.Any\"],\"where_any\":[{\"field\":\"ResultStatus\",\"op\":\"equals\",\"value\":\"Failed\"},"
	     "{\"field\":\"UserType\",\"op\":\"equals\",\"value\":2}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-EXCL", 101, "{" AXU ",\"operation\":[\"Cond.Excl\"],\"exclude\":[{\"field\":\"UserId\",\"op\":\"startswith\",\"value\":\"system\"},"
	     "{\"field\":\"UserType\",\"op\":\"in\",\"value\":[4,5]}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-ALL", 101, "{" AXU ",\"operation\":[\"Cond.All\"],\"where\":[{\"field\":\"A\",\"op\":\"equals\",\"value\":\"x\"},"
	     "{\"field\":\"B\",\"op\":\"equals\",\"value\":\"y\"}]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	/* globs, record types, result status, kinds */
	RULE("AXU-GLOB", 101, "{" AXU ",\"operation_glob\":[\"Glob-*-Policy\",\"Glob?\"]}",
	     YIELD("security_policy_change", "medium", "[\"5.1\"]", "[]")) ","
	RULE("AXU-RT", 104, "{\"record_type\":[99901,99902],\"record_type_names\":[\"AxUnitType\"]}",
	     YIELD("other", "low", "[\"5.23\"]", "[]")) ","
	RULE("AXU-RS", 101, "{" AXU ",\"operation\":[\"RS.Probe\"],\"result_status\":[\"Failed\",\"PartiallySucceeded\"]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	RULE("AXU-ALERT", 151, "{\"kind\":[\"graph_alert\"],\"where\":[{\"field\":\"title\",\"op\":\"startswith\",\"value\":\"AxUnit\"}]}",
	     YIELD("alert", "medium", "[\"5.25\"]", "[\"8.16\"]")) ","
	RULE("AXU-O365ONLY", 101, "{\"kind\":[\"o365\"]," AXU ",\"operation\":[\"KindProbe\"]}",
	     YIELD("other", "low", "[\"5.1\"]", "[]")) ","
	/* severity from the record */
	RULE("AXU-SEV", 101, "{" AXU ",\"operation\":[\"Sev.From\"]}",
	     "\"category\":\"alert\",\"severity\":\"medium\",\"severity_from\":{\"field\":\"Severity\",\"map\":{\"High\":\"high\",\"Low\":\"low\",\"Sev0\":\"critical\"}},"
	     "\"controls\":[\"5.25\"],\"related\":[]") ","
	RULE("AXU-SEVLIST", 101, "{" AXU ",\"operation\":[\"Sev.List\"]}",
	     "\"category\":\"dlp\",\"severity\":\"informational\",\"severity_from\":{\"field\":\"Policy[*].Rules[*].Severity\",\"map\":{\"High\":\"high\",\"Medium\":\"medium\",\"Low\":\"low\"}},"
	     "\"controls\":[\"8.12\"],\"related\":[]") ","
	/* a lower-priority specific rule: contributes controls, not category */
	RULE("AXU-EXTRA", 502, "{" AXU ",\"operation\":[\"Probe\"],\"where\":[{\"field\":\"Extra\",\"op\":\"exists\"}]}",
	     YIELD("other", "critical", "[\"8.15\"]", "[\"5.28\"]"))
	"]}";

struct fixture {
	char *dir;
	struct ax_rules *rules;
	struct ax_match_cache *cache;
	struct ax_json_doc *doc;
	struct ax_diag diag;
	char summary[4096];
};

static struct ax_rules *load_user(struct fixture *f, const char *name, const char *json, char **path_out)
{
	char *path = unit_write_file(f->dir, name, json, SIZE_MAX);
	struct ax_strlist files = { &path, 1 };
	ax_diag_finish(&f->diag);
	struct ax_rules *rs = ax_rules_load(&files, &f->diag);
	if (path_out)
		*path_out = path;
	else
		free(path);
	return rs;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_tmpdir();
	ax_diag_init(&f->diag);
	f->rules = load_user(f, "unit-rules.json", unit_rules, NULL);
	if (!f->rules) {
		unit_diag_dump(&f->diag);
		fail_msg("the unit rule set does not load");
	}
	f->cache = ax_match_cache_create(f->rules);
	f->doc = ax_json_doc_create(64);
	assert_non_null(f->cache);
	assert_non_null(f->doc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f)
		return 0; /* setup failed and said why */
	ax_json_doc_destroy(f->doc);
	ax_match_cache_destroy(f->cache);
	ax_rules_destroy(f->rules);
	ax_diag_finish(&f->diag);
	unit_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void ids(char *out, size_t len, const struct ax_cset *set, const struct ax_control *cat, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		if (ax_cset_has(set, (unsigned)i))
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", cat[i].id);
}

/* "RULES | severity | controls | related | 2013 | drift" */
static void summarize(const struct ax_rules *rs, const struct ax_mapping *m, char *out, size_t len)
{
	char rules[512] = "", c[256], r[256], c13[512];
	size_t used = 0;
	for (size_t i = 0; i < m->nused; i++)
		used += (size_t)snprintf(rules + used, sizeof(rules) - used, "%s%s", i ? "," : "", m->used[i]->id);
	ids(c, sizeof(c), &m->controls, rs->catalog.c2022, rs->catalog.n2022);
	ids(r, sizeof(r), &m->related, rs->catalog.c2022, rs->catalog.n2022);
	ids(c13, sizeof(c13), &m->c2013, rs->catalog.c2013, rs->catalog.n2013);
	snprintf(out, len, "%s | %s | %s | %s | %s | %s", rules, ax_severity_names[m->severity], c, r, c13,
		 m->drift ? "drift" : "-");
}

static void decode(struct fixture *f, struct ax_event *ev, const struct ax_keyset *keys, const char *json)
{
	ax_err err = ax_event_decode(ev, f->doc, keys, json, strlen(json));
	if (err)
		fail_msg("cannot decode %s: %s", json, ax_json_error(f->doc));
}

/* Maps a record four ways (decoded with the fields alone, so the rules
 * search the record; decoded with the rules' keys as the agent does:
 * uncached, cached twice: miss then hit); all must agree. Returns the
 * summary. */
static const char *map_json(struct fixture *f, const struct ax_rules *rs, struct ax_match_cache *cache,
			    const char *json)
{
	struct ax_event ev;
	struct ax_mapping plain, cached;
	char a[4096], b[4096];
	decode(f, &ev, NULL, json);
	ax_mapper_eval(rs, &ev, &plain);
	summarize(rs, &plain, a, sizeof(a));
	decode(f, &ev, &rs->keys, json);
	ax_mapper_eval(rs, &ev, &plain);
	summarize(rs, &plain, f->summary, sizeof(f->summary));
	if (strcmp(f->summary, a) != 0)
		fail_msg("%s\n  searched:  %s\n  keyed:     %s", json, a, f->summary);
	for (int round = 0; round < 2; round++) {
		ax_mapper_eval_cached(rs, cache, &ev, &cached);
		summarize(rs, &cached, b, sizeof(b));
		if (strcmp(f->summary, b) != 0)
			fail_msg("%s\n  uncached: %s\n  cached:   %s", json, f->summary, b);
		assert_int_equal(plain.nused, cached.nused);
		for (size_t i = 0; i < plain.nused; i++)
			assert_ptr_equal(plain.used[i], cached.used[i]);
	}
	summarize(rs, &plain, a, sizeof(a));
	assert_string_equal(a, f->summary);
	return f->summary;
}

static const char *map(struct fixture *f, const char *json)
{
	return map_json(f, f->rules, f->cache, json);
}

/* The rule ids part of a summary. */
static void assert_rules(struct fixture *f, const char *json, const char *want)
{
	const char *s = map(f, json);
	size_t n = strcspn(s, " ");
	if (strlen(want) != n || strncmp(s, want, n) != 0)
		fail_msg("%s\n  got:  %s\n  want: %s", json, s, want);
}

/* ---- priority, fallback, baseline ---- */

static void test_priority_and_union(void **state)
{
	struct fixture *f = *state;
	/* AXU-PRI-1 (101) is primary: its severity; controls are the union,
	 * related loses what is in controls, 2013 ids come from controls only
	 * (8.9 is new in 2022: none), drift from any rule. */
	assert_string_equal(map(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Probe\"}"),
			    "AXU-PRI-1,AXU-PRI-2 | high | 8.2,8.9 | 5.15,8.15,8.32 | A.9.2.3 | drift");
	/* Only AXU-PRI-2 matches Probe2. */
	assert_string_equal(map(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Probe2\"}"),
			    "AXU-PRI-2 | low | 8.2,8.9 | 8.32 | A.9.2.3 | drift");
	/* A third, lower-priority rule adds its controls; the primary stays. */
	assert_string_equal(map(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Probe\",\"Extra\":1}"),
			    "AXU-PRI-1,AXU-PRI-2,AXU-EXTRA | high | 8.2,8.9,8.15 | 5.15,5.28,8.32 | "
			    "A.9.2.3,A.12.4.1,A.12.4.2,A.12.4.3 | drift");
	/* Equal priority, same category: the id breaks the tie. */
	assert_string_equal(map(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Tie\"}"),
			    "AXU-TIE-A,AXU-TIE-B | low | 5.1,5.7 |  | A.5.1.1,A.5.1.2 | -");
}

static void test_fallback_and_baseline(void **state)
{
	struct fixture *f = *state;
	/* No specific rule: the best fallback alone (not the baseline too). */
	assert_string_equal(map(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Unknown\"}"),
			    "AXU-FB | informational | 8.16 |  |  | -");
	assert_string_equal(map(f, "{\"Workload\":\"axunit\"}"), "AXU-FB | informational | 8.16 |  |  | -");
	/* Nothing at all: the baseline, 8.15. */
	const char *baseline = "FB-999 | informational | 8.15 |  | A.12.4.1,A.12.4.2,A.12.4.3 | -";
	assert_string_equal(map(f, "{\"Workload\":\"Elsewhere\",\"Operation\":\"Probe\"}"), baseline);
	assert_string_equal(map(f, "{}"), baseline);
	assert_string_equal(map(f, "{\"Operation\":null,\"Workload\":{\"x\":1}}"), baseline);
	/* A built-in workload fallback still beats the baseline. */
	assert_rules(f, "{\"Workload\":\"Exchange\",\"Operation\":\"AxUnitNothing\"}", "FB-101");
	/* and a record-type fallback beats the workload one (900 < 950). */
	assert_rules(f, "{\"Workload\":\"Exchange\",\"RecordType\":1,\"Operation\":\"AxUnitNothing\"}", "FB-001");
}

/* The built-in rules, through the same path (AUTH-001 is documented in README). */
static void test_builtin_example(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(map(f, "{\"Id\":\"1\",\"RecordType\":15,\"Operation\":\"UserLoginFailed\","
				   "\"Workload\":\"AzureActiveDirectory\",\"ResultStatus\":\"Failed\"}"),
			    "AUTH-001 | low | 8.5 | 5.17,8.15,8.16 | A.9.4.2 | -");
}

/* ---- conditions ---- */

static const struct {
	const char *json;
	const char *rules;
} conditions[] = {
#define R(op, rest) "{\"Workload\":\"AxUnit\",\"Operation\":\"" op "\"" rest "}"
	{ R("Cond.Equals", ",\"ResultStatus\":\"Success\""), "AXU-EQ" },
	{ R("Cond.Equals", ",\"ResultStatus\":\"SUCCESS\""), "AXU-EQ" },
	{ R("Cond.Equals", ",\"resultstatus\":\"success\""), "AXU-EQ" },
	{ R("Cond.Equals", ",\"ResultStatus\":\"Successful\""), "AXU-FB" },
	{ R("Cond.Equals", ",\"ResultStatus\":[\"Failed\",\"Success\"]"), "AXU-EQ" },
	{ R("Cond.Equals", ",\"ResultStatus\":null"), "AXU-FB" },
	{ R("Cond.Equals", ""), "AXU-FB" },
	{ R("Cond.In", ",\"UserType\":2"), "AXU-IN" },
	{ R("Cond.In", ",\"UserType\":\"2\""), "AXU-IN" },
	{ R("Cond.In", ",\"UserType\":\"ADMIN\""), "AXU-IN" },
	{ R("Cond.In", ",\"UserType\":true"), "AXU-IN" },
	{ R("Cond.In", ",\"UserType\":3"), "AXU-FB" },
	{ R("Cond.In", ",\"UserType\":false"), "AXU-FB" },
	{ R("Cond.Contains", ",\"ObjectId\":\"https://x/sites/finance/doc.xlsx\""), "AXU-CONTAINS" },
	{ R("Cond.Contains", ",\"ObjectId\":\"https://x/sites/hr\""), "AXU-FB" },
	{ R("Cond.Starts", ",\"UserId\":\"SVC-backup@x\""), "AXU-STARTS" },
	{ R("Cond.Starts", ",\"UserId\":\"user-svc-\""), "AXU-FB" },
	{ R("Cond.Starts", ",\"UserId\":\"svc\""), "AXU-FB" },
	{ R("Cond.Exists", ",\"Parameters\":[{\"Name\":\"Identity\",\"Value\":\"a\"},{\"Name\":\"ForwardingSmtpAddress\",\"Value\":\"smtp:x@evil\"}]"), "AXU-EXISTS" },
	{ R("Cond.Exists", ",\"Parameters\":[{\"Name\":\"forwardingsmtpaddress\"}]"), "AXU-EXISTS" },
	{ R("Cond.Exists", ",\"Parameters\":[{\"Name\":\"Identity\",\"Value\":\"a\"}]"), "AXU-FB" },
	{ R("Cond.Exists", ",\"ForwardingSmtpAddress\":\"x\""), "AXU-FB" },
	{ R("Cond.Exists", ",\"Parameters\":{\"ForwardingSmtpAddress\":\"x\"}"), "AXU-FB" },
	{ R("Cond.NotExists", ""), "AXU-NOTEXISTS" },
	{ R("Cond.NotExists", ",\"Actor\":{\"ID\":\"x\"}"), "AXU-NOTEXISTS" },
	{ R("Cond.NotExists", ",\"Actor\":{\"Type\":0}"), "AXU-FB" },
	{ R("Cond.NotExists", ",\"actor\":{\"type\":null}"), "AXU-NOTEXISTS" }, /* null is absent */
	{ R("Cond.Gte", ",\"Count\":10"), "AXU-GTE" },
	{ R("Cond.Gte", ",\"Count\":1e3"), "AXU-GTE" },
	{ R("Cond.Gte", ",\"Count\":\"12\""), "AXU-GTE" },
	{ R("Cond.Gte", ",\"Count\":9.99"), "AXU-FB" },
	{ R("Cond.Gte", ",\"Count\":\"12 items\""), "AXU-FB" },
	{ R("Cond.Gte", ",\"Count\":true"), "AXU-FB" },
	{ R("Cond.Gte", ",\"Count\":[1,20]"), "AXU-GTE" },
	{ R("Cond.Lte", ",\"Count\":-1.5"), "AXU-LTE" },
	{ R("Cond.Lte", ",\"Count\":-1.4"), "AXU-FB" },
	{ R("Cond.Raw", ",\"Detail\":\"registered a temporary access pass\""), "AXU-RAW" },
	{ R("Cond.Raw", ",\"TEMPORARY ACCESS PASS\":1"), "AXU-RAW" },
	{ R("Cond.Raw", ",\"Detail\":\"temporary  access pass\""), "AXU-FB" },
	{ R("Cond.Raw", ",\"Detail\":\"temporary access pas\""), "AXU-FB" },
	{ R("Cond.Walk", ",\"Policy\":[{\"Rules\":[{\"Action\":\"Allow\"}]},{\"Rules\":[{\"Action\":\"Audit\"},{\"Action\":\"block\"}]}]"), "AXU-WALK" },
	{ R("Cond.Walk", ",\"Policy\":[{\"Rules\":[{\"Action\":\"Allow\"}]}]"), "AXU-FB" },
	{ R("Cond.Walk", ",\"Policy\":{\"Rules\":{\"Action\":\"Block\"}}"), "AXU-WALK" },
	{ R("Cond.Walk", ",\"Policy\":[]"), "AXU-FB" },
	{ R("Cond.Walk", ",\"Policy\":null"), "AXU-FB" },
	{ R("Cond.Mod", ",\"ModifiedProperties\":[{\"Name\":\"Role\",\"OldValue\":\"Reader\",\"NewValue\":\"Owner\"}]"), "AXU-MOD" },
	{ R("Cond.Mod", ",\"ModifiedProperties\":[{\"Name\":\"Other\",\"OldValue\":\"Reader\",\"NewValue\":\"Owner\"},{\"Name\":\"role\",\"OldValue\":\"reader\",\"NewValue\":\"OWNER\"}]"), "AXU-MOD" },
	{ R("Cond.Mod", ",\"ModifiedProperties\":[{\"Name\":\"Role\",\"OldValue\":\"Owner\",\"NewValue\":\"Reader\"}]"), "AXU-FB" },
	{ R("Cond.Any", ",\"ResultStatus\":\"Failed\""), "AXU-ANY" },
	{ R("Cond.Any", ",\"UserType\":2"), "AXU-ANY" },
	{ R("Cond.Any", ",\"ResultStatus\":\"Success\",\"UserType\":0"), "AXU-FB" },
	{ R("Cond.Excl", ",\"UserId\":\"alice@x\",\"UserType\":0"), "AXU-EXCL" },
	{ R("Cond.Excl", ""), "AXU-EXCL" },
	{ R("Cond.Excl", ",\"UserId\":\"SYSTEM\""), "AXU-FB" },
	{ R("Cond.Excl", ",\"UserType\":5"), "AXU-FB" },
	{ R("Cond.All", ",\"A\":\"x\",\"B\":\"y\""), "AXU-ALL" },
	{ R("Cond.All", ",\"A\":\"x\""), "AXU-FB" },
	{ R("Cond.All", ",\"B\":\"y\""), "AXU-FB" },
	/* globs: lower-cased like operations, fnmatch otherwise */
	{ R("Glob-Set-Policy", ""), "AXU-GLOB" },
	{ R("glob-new-POLICY", ""), "AXU-GLOB" },
	{ R("Glob--Policy", ""), "AXU-GLOB" },
	{ R("Glob-Set-Policies", ""), "AXU-FB" },
	{ R("GlobX", ""), "AXU-GLOB" },
	{ R("Glob", ""), "AXU-FB" },
	{ R("GlobXY", ""), "AXU-FB" },
	/* operations: exact but case-insensitive */
	{ R("probe2", ""), "AXU-PRI-2" },
	{ R("PROBE2", ""), "AXU-PRI-2" },
	{ R("Probe2 ", ""), "AXU-FB" },
	/* result status */
	{ R("RS.Probe", ",\"ResultStatus\":\"failed\""), "AXU-RS" },
	{ R("RS.Probe", ",\"ResultStatus\":\"PartiallySucceeded\""), "AXU-RS" },
	{ R("RS.Probe", ",\"ResultStatus\":\"Succeeded\""), "AXU-FB" },
	{ R("RS.Probe", ""), "AXU-FB" },
	/* kinds */
	{ R("KindProbe", ""), "AXU-O365ONLY" },
#undef R
	/* record types: number, numeric string, or name */
	{ "{\"RecordType\":99901}", "AXU-RT" },
	{ "{\"RecordType\":99902,\"Workload\":\"AxUnit\"}", "AXU-RT" },
	{ "{\"RecordType\":\"99901\"}", "AXU-RT" },
	{ "{\"RecordType\":\"axunittype\"}", "AXU-RT" },
	{ "{\"RecordType\":99903}", "FB-999" },
	{ "{\"RecordType\":\"AxUnitTypes\"}", "FB-999" },
	/* Graph alerts */
	{ "{\"serviceSource\":\"axUnitProduct\",\"title\":\"AxUnit alert\",\"severity\":\"high\"}", "AXU-ALERT" },
	{ "{\"category\":\"c\",\"severity\":\"low\",\"title\":\"axunit: phish\"}", "AXU-ALERT" },
	{ "{\"serviceSource\":\"x\",\"title\":\"Other alert\"}", "GA-999" },
	{ "{\"title\":\"AxUnit not an alert\",\"Workload\":\"AxUnit\"}", "AXU-FB" },
};

static void test_conditions(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(conditions); i++)
		assert_rules(f, conditions[i].json, conditions[i].rules);
}

/* The same operation, different conditions: the cache keeps candidates,
 * never results. */
static void test_cache_keeps_conditions(void **state)
{
	struct fixture *f = *state;
	for (int round = 0; round < 3; round++) {
		assert_rules(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Cond.Equals\",\"ResultStatus\":\"Success\"}", "AXU-EQ");
		assert_rules(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Cond.Equals\",\"ResultStatus\":\"Other\"}", "AXU-FB");
		assert_rules(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Probe\",\"Extra\":true}", "AXU-PRI-1,AXU-PRI-2,AXU-EXTRA");
		assert_rules(f, "{\"Workload\":\"AxUnit\",\"Operation\":\"Probe\"}", "AXU-PRI-1,AXU-PRI-2");
	}
}

/* Many distinct event shapes: more than the cache holds, so slots are
 * replaced; results never change. */
static void test_cache_many_shapes(void **state)
{
	struct fixture *f = *state;
	static const char *const ops[] = { "Probe", "Probe2", "Tie", "Cond.Equals", "Glob-x-Policy", "Nope" };
	static const char *const want[] = { "AXU-PRI-1,AXU-PRI-2", "AXU-PRI-2", "AXU-TIE-A,AXU-TIE-B",
					    "AXU-EQ", "AXU-GLOB", "AXU-FB" };
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3 * AX_MATCH_CACHE_SLOTS; i++) {
			char json[256];
			size_t k = (size_t)i % UNIT_ARRAY_LEN(ops);
			snprintf(json, sizeof(json),
				 "{\"Workload\":\"AxUnit\",\"Operation\":\"%s\",\"RecordType\":%d,"
				 "\"ResultStatus\":\"Success\"}",
				 ops[k], 100000 + i);
			assert_rules(f, json, want[k]);
		}
	}
}

/* raw_contains finds its value in any case wherever it lies in the record
 * (it compares 16 positions at a time: every offset, and the record's
 * end), and only there: one byte off at its start, middle or end is a miss. */
static void test_raw_contains_everywhere(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text, *rules;
	} variants[] = {
		{ "tEmPoRaRy AcCeSs PaSs", "AXU-RAW" }, { "Xemporary access pass", "AXU-FB" },
		{ "temporary acXess pass", "AXU-FB" },  { "temporary access pasX", "AXU-FB" },
	};
	char json[256], before[40], after[3];
	memset(before, 'x', sizeof(before));
	memset(after, 'y', sizeof(after));
	for (size_t v = 0; v < UNIT_ARRAY_LEN(variants); v++)
		for (int pad = 0; pad < (int)sizeof(before); pad++)
			for (int tail = 0; tail < (int)sizeof(after); tail++) {
				snprintf(json, sizeof(json),
					 "{\"Workload\":\"AxUnit\",\"Operation\":\"Cond.Raw\",\"P\":\"%.*s%s%.*s\"}",
					 pad, before, variants[v].text, tail, after);
				assert_rules(f, json, variants[v].rules);
			}
}

/* Fields longer than any rule's: no crash, same answer cached or not. */
static void test_long_fields(void **state)
{
	struct fixture *f = *state;
	char *json = malloc(8192);
	assert_non_null(json);
	char big[3000];
	memset(big, 'P', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(json, 8192, "{\"Workload\":\"AxUnit\",\"Operation\":\"%s\"}", big);
	assert_rules(f, json, "AXU-FB");
	snprintf(json, 8192, "{\"Workload\":\"%s\",\"Operation\":\"Probe\"}", big);
	assert_rules(f, json, "FB-999");
	snprintf(json, 8192, "{\"Workload\":\"AxUnit\",\"Operation\":\"Probe\",\"ResultStatus\":\"%s\"}", big);
	assert_rules(f, json, "AXU-PRI-1,AXU-PRI-2");
	free(json);
}

/* ---- severity_from ---- */

static const struct {
	const char *rest;
	const char *severity;
} severities[] = {
	{ "\"Operation\":\"Sev.From\",\"Severity\":\"High\"", "high" },
	{ "\"Operation\":\"Sev.From\",\"Severity\":\"high\"", "high" },
	{ "\"Operation\":\"Sev.From\",\"severity\":\"LOW\"", "low" },
	{ "\"Operation\":\"Sev.From\",\"Severity\":\"Sev0\"", "critical" },
	{ "\"Operation\":\"Sev.From\",\"Severity\":\"Unknown\"", "medium" },
	{ "\"Operation\":\"Sev.From\",\"Severity\":null", "medium" },
	{ "\"Operation\":\"Sev.From\"", "medium" },
	{ "\"Operation\":\"Sev.From\",\"Severity\":[\"Low\",\"High\"]", "medium" },
	/* a list path: the most severe value found */
	{ "\"Operation\":\"Sev.List\",\"Policy\":[{\"Rules\":[{\"Severity\":\"Low\"},{\"Severity\":\"High\"}]},{\"Rules\":[{\"Severity\":\"Medium\"}]}]", "high" },
	{ "\"Operation\":\"Sev.List\",\"Policy\":[{\"Rules\":[{\"Severity\":\"Low\"}]}]", "low" },
	{ "\"Operation\":\"Sev.List\",\"Policy\":[{\"Rules\":[{\"Severity\":\"Bogus\"}]}]", "informational" },
	{ "\"Operation\":\"Sev.List\"", "informational" },
};

static void test_severity_from(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(severities); i++) {
		char json[512], want[64];
		snprintf(json, sizeof(json), "{\"Workload\":\"AxUnit\",%s}", severities[i].rest);
		const char *s = map(f, json);
		snprintf(want, sizeof(want), " | %s | ", severities[i].severity);
		if (!strstr(s, want))
			fail_msg("%s\n  got %s\n  want severity %s", json, s, severities[i].severity);
	}
}

/* ---- the loaded set ---- */

static void test_index_and_version(void **state)
{
	struct fixture *f = *state;
	size_t n = 0;
	const unsigned *idx = ax_rules_by_operation(f->rules, "probe", &n);
	assert_int_equal(n, 3);
	assert_string_equal(f->rules->rules[idx[0]].id, "AXU-PRI-1");
	assert_string_equal(f->rules->rules[idx[1]].id, "AXU-PRI-2");
	assert_string_equal(f->rules->rules[idx[2]].id, "AXU-EXTRA");
	ax_rules_by_operation(f->rules, "Probe", &n); /* keys are lower case */
	assert_int_equal(n, 0);
	ax_rules_by_operation(f->rules, "no such op", &n);
	assert_int_equal(n, 0);
	/* sorted by (priority, id), rank is the position */
	for (size_t i = 0; i < f->rules->count; i++) {
		assert_int_equal(f->rules->rules[i].rank, i);
		if (i > 0) {
			const struct ax_rule *a = &f->rules->rules[i - 1], *b = &f->rules->rules[i];
			assert_true(a->priority < b->priority ||
				    (a->priority == b->priority && strcmp(a->id, b->id) < 0));
		}
	}
	assert_string_equal(f->rules->rules[f->rules->count - 1].id, "FB-999");
	/* rule set version + checksum of every file loaded */
	regex_t re;
	assert_int_equal(regcomp(&re, "^2026\\.11\\.0\\+[0-9a-f]{8}$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, f->rules->mapping_version, 0, NULL, 0), 0);
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_rules *builtin = ax_rules_load(NULL, &diag);
	assert_non_null(builtin);
	assert_int_equal(diag.count, 0);
	assert_int_equal(regexec(&re, builtin->mapping_version, 0, NULL, 0), 0);
	assert_string_not_equal(builtin->mapping_version, f->rules->mapping_version);
	assert_int_equal(f->rules->count, builtin->count + 27);
	regfree(&re);
	ax_rules_destroy(builtin);
	ax_diag_finish(&diag);
}

/* A user rule with a built-in id replaces it. */
static void test_user_overrides_builtin(void **state)
{
	struct fixture *f = *state;
	struct ax_rules *rs = load_user(f, "override.json",
		"{\"rules\":[" RULE("AUTH-001", 302, "{\"workload\":[\"AzureActiveDirectory\"],\"operation\":[\"UserLoginFailed\"]}",
				  YIELD("authentication", "high", "[\"8.5\",\"5.17\"]", "[]")) "]}", NULL);
	if (!rs) {
		unit_diag_dump(&f->diag);
		fail();
	}
	struct ax_match_cache *cache = ax_match_cache_create(rs);
	assert_string_equal(map_json(f, rs, cache, "{\"Operation\":\"UserLoginFailed\",\"Workload\":\"AzureActiveDirectory\"}"),
			    "AUTH-001 | high | 5.17,8.5 |  | A.9.2.4,A.9.3.1,A.9.4.2,A.9.4.3 | -");
	size_t n = 0;
	for (size_t i = 0; i < rs->count; i++)
		n += strcmp(rs->rules[i].id, "AUTH-001") == 0;
	assert_int_equal(n, 1);
	ax_match_cache_destroy(cache);
	ax_rules_destroy(rs);
}

/* ---- load-time errors name the file and the rule ---- */

#define ONE(rule) "{\"rules\":[" rule "]}"
#define OK_MATCH "{" AXU ",\"operation\":[\"X\"]}"
#define OK_YIELD YIELD("other", "low", "[\"5.1\"]", "[]")

/* Rule-level problems: each rule below has exactly one, and all of them
 * are in one file (loading a user file is not cheap). A condition with a
 * valid field path but a bad value (gte with a string, equals with an
 * object or no value, in with []), or a malformed path, leaks the path on
 * this error: those cases are in test_regressions.c. */
static const struct {
	const char *rule;
	const char *msg;
} rule_errors[] = {
	{ "{\"name\":\"x\"}", "a rule needs an \"id\" of capitals, digits and '-' (e.g. AUTH-001)" },
	{ RULE("axu-lower", 100, OK_MATCH, OK_YIELD), "a rule needs an \"id\"" },
	{ RULE("AXU_UNDERSCORE", 100, OK_MATCH, OK_YIELD), "a rule needs an \"id\"" },
	{ "{\"id\":\"AXU-E01\",\"colour\":\"red\",\"name\":\"n\",\"priority\":1,\"match\":" OK_MATCH "," OK_YIELD ",\"rationale\":\"r\"}",
	  "rule AXU-E01: unknown key 'colour' in rule" },
	{ RULE("AXU-E02", 101, OK_MATCH, YIELD("other", "low", "[\"9.99\"]", "[]")),
	  "rule AXU-E02: controls: unknown control id '9.99' (not in the 2022 catalog)" },
	{ RULE("AXU-E03", 101, OK_MATCH, YIELD("other", "low", "[\"A.9.2.3\"]", "[]")),
	  "rule AXU-E03: controls: unknown control id 'A.9.2.3'" },
	{ RULE("AXU-E04", 101, OK_MATCH, YIELD("other", "low", "[\"5.1\"]", "[\"8.99\"]")),
	  "rule AXU-E04: related: unknown control id '8.99'" },
	{ RULE("AXU-E05", 101, OK_MATCH, YIELD("other", "low", "[]", "[]")),
	  "rule AXU-E05: \"controls\" must be a non-empty array of ISO/IEC 27001:2022 control ids" },
	{ RULE("AXU-E06", 101, OK_MATCH, YIELD("nope", "low", "[\"5.1\"]", "[]")),
	  "rule AXU-E06: unknown category 'nope' (see schemas/categories.json)" },
	{ RULE("AXU-E07", 101, OK_MATCH, YIELD("other", "severe", "[\"5.1\"]", "[]")),
	  "rule AXU-E07: \"severity\" must be one of informational, low, medium, high, critical" },
	{ RULE("AXU-E08", 0, OK_MATCH, OK_YIELD), "rule AXU-E08: \"priority\" must be an integer from 1 to 1000" },
	{ RULE("AXU-E09", 1001, OK_MATCH, OK_YIELD), "rule AXU-E09: \"priority\" must be an integer from 1 to 1000" },
	{ RULE("AXU-E10", "100", OK_MATCH, OK_YIELD), "rule AXU-E10: \"priority\" must be an integer" },
	{ RULE("AXU-E11", 101, OK_MATCH, OK_YIELD ",\"drift\":\"yes\""), "rule AXU-E11: \"drift\" must be true or false" },
	{ "{\"id\":\"AXU-E12\",\"name\":\"n\",\"priority\":1,\"match\":" OK_MATCH "," OK_YIELD "}",
	  "rule AXU-E12: every rule needs a short \"rationale\"" },
	{ RULE("AXU-E13", 101, "{\"operations\":[\"X\"]}", OK_YIELD), "rule AXU-E13: unknown key 'operations' in match" },
	{ RULE("AXU-E14", 101, "[]", OK_YIELD), "rule AXU-E14: \"match\" must be an object" },
	{ RULE("AXU-E15", 101, "{\"operation\":[]}", OK_YIELD), "rule AXU-E15: match.operation must be a non-empty array" },
	{ RULE("AXU-E16", 101, "{\"workload\":\"Exchange\"}", OK_YIELD), "rule AXU-E16: match.workload must be a non-empty array" },
	{ RULE("AXU-E17", 101, "{\"kind\":[\"teams\"]}", OK_YIELD), "rule AXU-E17: match.kind: unknown kind 'teams' (o365, graph_alert)" },
	{ RULE("AXU-E18", 101, "{\"record_type\":[\"15\"]}", OK_YIELD), "rule AXU-E18: match.record_type[0] is not a non-negative integer" },
	{ RULE("AXU-E19", 101, "{\"record_type\":[1,-1]}", OK_YIELD), "rule AXU-E19: match.record_type[1] is not a non-negative integer" },
	{ RULE("AXU-E20", 101, "{\"where\":[]}", OK_YIELD), "rule AXU-E20: match.where must be a non-empty array of conditions" },
	{ RULE("AXU-E21", 101, "{\"where\":[{\"field\":\"A\",\"op\":\"matches\",\"value\":\"x\"}]}", OK_YIELD),
	  "rule AXU-E21: unknown condition op 'matches'" },
	{ RULE("AXU-E22", 101, "{\"where\":[{\"field\":\"A\",\"op\":\"raw_contains\",\"value\":\"x\"}]}", OK_YIELD),
	  "rule AXU-E22: raw_contains works on field \"*\" (the whole record) and \"*\" only with raw_contains" },
	{ RULE("AXU-E27", 101, "{\"where\":[{\"field\":\"A\",\"op\":\"equals\",\"value\":\"x\",\"case\":1}]}", OK_YIELD),
	  "rule AXU-E27: unknown key 'case' in condition" },
	{ RULE("AXU-E29", 101, "{\"where\":[\"A\"]}", OK_YIELD), "rule AXU-E29: a condition must be an object {field, op, value}" },
	{ RULE("AXU-E30", 101, "{\"exclude\":{}}", OK_YIELD), "rule AXU-E30: match.exclude must be a non-empty array of conditions" },
	{ RULE("AXU-E31", 101, OK_MATCH, OK_YIELD ",\"severity_from\":{\"field\":\"Severity\"}"),
	  "rule AXU-E31: severity_from needs a string \"field\" (a field path, not \"*\") and a non-empty object \"map\"" },
	{ RULE("AXU-E32", 101, OK_MATCH, OK_YIELD ",\"severity_from\":{\"field\":\"Severity\",\"map\":{\"High\":\"urgent\"}}"),
	  "rule AXU-E32: severity_from.map value must be one of informational, low, medium, high, critical" },
	{ RULE("AXU-E33", 101, "{\"where\":[{\"field\":\"*\",\"op\":\"equals\",\"value\":\"x\"}]}", OK_YIELD),
	  "rule AXU-E33: raw_contains works on field \"*\" (the whole record) and \"*\" only with raw_contains" },
	{ RULE("AXU-E34", 101, OK_MATCH, OK_YIELD ",\"severity_from\":\"Severity\""),
	  "rule AXU-E34: severity_from must be an object {field, map}" },
	{ RULE("AXU-E35", 101, OK_MATCH, OK_YIELD ",\"severity_from\":{\"field\":\"*\",\"map\":{\"a\":\"low\"}}"),
	  "rule AXU-E35: severity_from needs a string \"field\" (a field path, not \"*\") and a non-empty object \"map\"" },
	{ "\"not a rule\"", "a rule must be an object" },
};

static void test_rule_errors(void **state)
{
	struct fixture *f = *state;
	size_t cap = 64 * 1024, n = 0;
	char *json = malloc(cap);
	assert_non_null(json);
	n += (size_t)snprintf(json + n, cap - n, "{\"rules\":[");
	for (size_t i = 0; i < UNIT_ARRAY_LEN(rule_errors); i++)
		n += (size_t)snprintf(json + n, cap - n, "%s%s", i ? "," : "", rule_errors[i].rule);
	snprintf(json + n, cap - n, "]}");
	assert_true(n + 3 < cap);
	char *path = NULL;
	assert_null(load_user(f, "bad.json", json, &path));
	for (size_t i = 0; i < UNIT_ARRAY_LEN(rule_errors); i++) {
		/* each names the file it is about */
		bool found = false;
		for (size_t k = 0; k < f->diag.count && !found; k++)
			found = strcmp(f->diag.items[k].file, path) == 0 && strstr(f->diag.items[k].msg, rule_errors[i].msg);
		if (!found) {
			unit_diag_dump(&f->diag);
			fail_msg("no error '%s' for %s in %s", rule_errors[i].msg, rule_errors[i].rule, path);
		}
	}
	/* one problem each, nothing else */
	assert_int_equal(f->diag.count, UNIT_ARRAY_LEN(rule_errors));
	free(path);
	free(json);
}

/* Problems of a whole file, and across rules. */
static const struct {
	const char *json;
	const char *msg;
} file_errors[] = {
	{ "{\"rules\":[", "invalid JSON:" },
	{ "{\"rules\":{}}", "expected an object with an array \"rules\"" },
	{ "[]", "expected an object with an array \"rules\"" },
	/* a glob and an operation it matches, or a record type and any operation */
	{ ONE(RULE("AXU-G1", 777, "{\"operation_glob\":[\"AxuFoo*\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
	      RULE("AXU-G2", 777, "{\"operation\":[\"AxuFooBar\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]"))),
	  "rule AXU-G2: same priority (777) as rule AXU-G1 (" },
	{ ONE(RULE("AXU-R1", 778, "{\"record_type\":[99903]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
	      RULE("AXU-R2", 778, "{\"operation\":[\"AxuBaz\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]"))),
	  "both can match the other rule's operations, but categories differ (mail_flow, mail_rule)" },
	{ ONE(RULE("AXU-DUP", 101, OK_MATCH, OK_YIELD) "," RULE("AXU-DUP", 201, OK_MATCH, OK_YIELD) ","
	      /* conflicts: equal priority, a shared operation, different categories */
	      RULE("AXU-C1", 300, "{" AXU ",\"operation\":[\"Clash\",\"A\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
	      RULE("AXU-C2", 300, "{\"operation\":[\"B\",\"clash\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]")) ","
	      /* ... also against a built-in rule (AUTH-001: 300, UserLoginFailed, authentication) */
	      RULE("AXU-C3", 300, "{\"workload\":[\"AzureActiveDirectory\"],\"operation\":[\"UserLoginFailed\"]}",
		   YIELD("data_access", "low", "[\"5.1\"]", "[]"))),
	  "rule AXU-DUP: duplicate rule id (also in " },
};

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < UNIT_ARRAY_LEN(file_errors); i++) {
		char *path = NULL;
		struct ax_rules *rs = load_user(f, "bad.json", file_errors[i].json, &path);
		if (rs || !unit_diag_has(&f->diag, 0, file_errors[i].msg)) {
			unit_diag_dump(&f->diag);
			fail_msg("case %zu: %s\n  want error: %s", i, file_errors[i].json, file_errors[i].msg);
		}
		for (size_t k = 0; k < f->diag.count; k++)
			assert_string_equal(f->diag.items[k].file, path);
		if (i == UNIT_ARRAY_LEN(file_errors) - 1) {
			char want[4400];
			snprintf(want, sizeof(want), "rule AXU-DUP: duplicate rule id (also in %s)", path);
			assert_true(unit_diag_has(&f->diag, 0, want));
			snprintf(want, sizeof(want),
				 "rule AXU-C2: same priority (300) as rule AXU-C1 (%s) and both can match operation "
				 "'clash', but categories differ (mail_flow, mail_rule): give one a lower priority number",
				 path);
			assert_true(unit_diag_has(&f->diag, 0, want));
			assert_true(unit_diag_has(&f->diag, 0,
				"rule AXU-C3: same priority (300) as rule AUTH-001 (schemas/mappings/entra-id.json) and both "
				"can match operation 'userloginfailed', but categories differ (data_access, authentication)"));
			assert_int_equal(f->diag.count, 3);
		}
		free(path);
	}
}

/* Conflicts the checker must not report (one file: unique ids and operations). */
static void test_not_conflicts(void **state)
{
	struct fixture *f = *state;
	struct ax_rules *rs = load_user(f, "fine.json", ONE(
		/* different priority */
		RULE("AXU-N1", 302, "{\"operation\":[\"Same1\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
		RULE("AXU-N2", 303, "{\"operation\":[\"Same1\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]")) ","
		/* disjoint workloads */
		RULE("AXU-N3", 302, "{\"workload\":[\"A\"],\"operation\":[\"Same2\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
		RULE("AXU-N4", 302, "{\"workload\":[\"B\"],\"operation\":[\"Same2\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]")) ","
		/* disjoint kinds */
		RULE("AXU-N5", 302, "{\"kind\":[\"o365\"],\"operation\":[\"Same3\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
		RULE("AXU-N6", 302, "{\"kind\":[\"graph_alert\"],\"operation\":[\"Same3\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]")) ","
		/* no shared operation */
		RULE("AXU-N7", 302, "{\"operation\":[\"One\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
		RULE("AXU-N8", 302, "{\"operation\":[\"Two\"]}", YIELD("mail_flow", "low", "[\"5.1\"]", "[]")) ","
		/* same category */
		RULE("AXU-N9", 302, "{\"operation\":[\"Same4\"]}", YIELD("mail_rule", "low", "[\"5.1\"]", "[]")) ","
		RULE("AXU-NA", 302, "{\"operation\":[\"Same4\"]}", YIELD("mail_rule", "high", "[\"5.2\"]", "[]"))),
		NULL);
	if (!rs) {
		unit_diag_dump(&f->diag);
		fail();
	}
	ax_rules_destroy(rs);
}

/* Every problem of a file is reported, not just the first. */
static void test_errors_collected(void **state)
{
	struct fixture *f = *state;
	assert_null(load_user(f, "two.json",
			      ONE(RULE("AXU-E1", 101, OK_MATCH, YIELD("nope", "low", "[\"5.1\"]", "[]")) ","
				  RULE("AXU-E2", 101, OK_MATCH, YIELD("other", "low", "[\"9.9\"]", "[]")) ","
				  RULE("AXU-E3", 101, "{\"operation\":[\"Fine\"]}", OK_YIELD)),
			      NULL));
	assert_int_equal(f->diag.count, 2);
	assert_true(unit_diag_has(&f->diag, 0, "rule AXU-E1: unknown category"));
	assert_true(unit_diag_has(&f->diag, 0, "rule AXU-E2: controls: unknown control id '9.9'"));
}

static void test_missing_user_file(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	snprintf(path, sizeof(path), "%s/absent.json", f->dir);
	char *p = path;
	struct ax_strlist files = { &p, 1 };
	ax_diag_finish(&f->diag);
	assert_null(ax_rules_load(&files, &f->diag));
	assert_int_equal(f->diag.count, 1);
	assert_string_equal(f->diag.items[0].file, path);
	assert_contains(f->diag.items[0].msg, "cannot open rule file: No such file or directory");
}

int main(void)
{
	unit_quiet_logs();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_and_union),
		cmocka_unit_test(test_fallback_and_baseline),
		cmocka_unit_test(test_builtin_example),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_cache_keeps_conditions),
		cmocka_unit_test(test_cache_many_shapes),
		cmocka_unit_test(test_raw_contains_everywhere),
		cmocka_unit_test(test_long_fields),
		cmocka_unit_test(test_severity_from),
		cmocka_unit_test(test_index_and_version),
		cmocka_unit_test(test_user_overrides_builtin),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_not_conflicts),
		cmocka_unit_test(test_errors_collected),
		cmocka_unit_test(test_missing_user_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

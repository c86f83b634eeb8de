#include "mapper.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ascii.h"

#define MAX_MATCHED 64

struct eval {
	const struct ax_rules *rs;
	const struct ax_event *ev;
	char op[512];       /* lower-case Operation, "" when absent or too long */
	char workload[128]; /* lower-case Workload, "" when absent */
	bool workload_present;
};

static void lower_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = 0; /* longer than any name a rule can carry: matches nothing */
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)ax_ascii_lower((unsigned char)src[i]);
	dst[n] = '\0';
}

/* ---- field paths ---- */

/* Receives each value a path resolves to (NULL: a named element without a
 * value, which still "exists"); returns true to stop early. */
typedef bool (*visit_fn)(const struct ax_json_doc *doc, const struct ax_jnode *v, void *arg);

static bool walk(const struct ax_json_doc *doc, const struct ax_jnode *node,
		 const struct ax_path_step *steps, size_t n, visit_fn fn, void *arg);

/* The rest of the path from x, the member steps[0] named. */
static bool walk_from(const struct ax_json_doc *doc, const struct ax_jnode *x,
		      const struct ax_path_step *steps, size_t n, visit_fn fn, void *arg)
{
	if (!x || x->type == AX_J_NULL)
		return false;
	if (!steps->each || x->type != AX_J_ARRAY)
		return walk(doc, x, steps + 1, n - 1, fn, arg);
	for (const struct ax_jnode *e = ax_json_first(doc, x); e; e = ax_json_next(doc, e))
		if (walk(doc, e, steps + 1, n - 1, fn, arg))
			return true;
	return false;
}

static bool walk(const struct ax_json_doc *doc, const struct ax_jnode *node,
		 const struct ax_path_step *steps, size_t n, visit_fn fn, void *arg)
{
	if (n == 0)
		return fn(doc, node, arg);
	return walk_from(doc, ax_json_get(doc, node, steps->name, strlen(steps->name)), steps, n, fn, arg);
}

/* Parameters.<Name>, ModifiedProperties.<Name>: elements {Name, Value}. */
static bool visit_named(const struct ax_json_doc *doc, const struct ax_jnode *arr,
			const struct ax_path *p, visit_fn fn, void *arg)
{
	if (!arr || arr->type != AX_J_ARRAY)
		return false;
	const char *value_key = p->kind == AX_PATH_NAMEVALUE ? "Value" : p->old_value ? "OldValue" : "NewValue";
	for (const struct ax_jnode *e = ax_json_first(doc, arr); e; e = ax_json_next(doc, e)) {
		const struct ax_jnode *name = ax_json_get(doc, e, "Name", 4);
		if (!name || name->type != AX_J_STRING || !ax_ascii_streq(ax_json_text(doc, name), p->name))
			continue;
		/* The element exists even when its value does not: v may be NULL. */
		const struct ax_jnode *v = ax_json_get(doc, e, value_key, strlen(value_key));
		if (fn(doc, v, arg))
			return true;
	}
	return false;
}

/* The member a path starts at: picked out by decode when it decoded with
 * the rules' keys (so always in the agent), else searched for. */
static const struct ax_jnode *path_root(const struct ax_rules *rs, const struct ax_event *ev,
					const struct ax_path *p)
{
	if (ev->keys == &rs->keys && p->root_key >= 0)
		return ev->field[p->root_key];
	const char *name = ax_path_first(p);
	return ax_json_get(ev->doc, ev->root, name, strlen(name));
}

static bool visit_path(const struct eval *e, const struct ax_path *p, visit_fn fn, void *arg)
{
	const struct ax_jnode *first = path_root(e->rs, e->ev, p);
	if (p->kind == AX_PATH_WALK)
		return walk_from(e->ev->doc, first, p->steps, p->nsteps, fn, arg);
	return visit_named(e->ev->doc, first, p, fn, arg);
}

/* ---- conditions ---- */

struct cond_arg {
	const struct ax_cond *cond;
	bool any; /* exists: a value was seen */
};

static const char *scalar(const struct ax_json_doc *doc, const struct ax_jnode *v)
{
	switch (v->type) {
	case AX_J_TRUE: return "true";
	case AX_J_FALSE: return "false";
	case AX_J_STRING:
	case AX_J_NUMBER: return ax_json_text(doc, v);
	default: return NULL;
	}
}

/* Whether raw holds needle_lc (lower case) in any case. Positions whose
 * first and last bytes match, both | 0x20 (which folds the case of ASCII
 * letters, and may match other bytes too: ax_ascii_ieq decides), are found
 * 16 at a time (W. Mula's SIMD substring search): a record's whole text is
 * searched for some rules. */
static bool raw_contains(const char *raw, size_t len, const char *needle_lc)
{
	size_t n = strlen(needle_lc), i = 0;
	if (n == 0)
		return true;
	unsigned char first = (unsigned char)needle_lc[0] | 0x20, last = (unsigned char)needle_lc[n - 1] | 0x20;
#ifdef __SSE2__
	const __m128i fold = _mm_set1_epi8(0x20), want_first = _mm_set1_epi8((char)first),
		      want_last = _mm_set1_epi8((char)last);
	for (; i + n - 1 + 16 <= len; i += 16) {
		__m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(raw + i)), fold);
		__m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(raw + i + n - 1)), fold);
		unsigned hits = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, want_first), _mm_cmpeq_epi8(b, want_last)));
		for (; hits; hits &= hits - 1)
			if (ax_ascii_ieq(raw + i + (size_t)__builtin_ctz(hits), needle_lc, n))
				return true;
	}
#endif
	for (; i + n <= len; i++)
		if (((unsigned char)raw[i] | 0x20) == first && ax_ascii_ieq(raw + i, needle_lc, n))
			return true;
	return false;
}

static bool test_value(const struct ax_cond *c, const char *s, const struct ax_jnode *v)
{
	switch (c->op) {
	case AX_OP_EQUALS:
		return ax_ascii_streq(s, c->values.items[0]);
	case AX_OP_IN:
		for (size_t i = 0; i < c->values.count; i++)
			if (ax_ascii_streq(s, c->values.items[i]))
				return true;
		return false;
	case AX_OP_CONTAINS: /* values are lower-case since load */
		return raw_contains(s, strlen(s), c->values.items[0]);
	case AX_OP_STARTSWITH:
		return ax_ascii_ieq(s, c->values.items[0], strlen(c->values.items[0])); /* stops at the end of s */
	case AX_OP_GTE:
	case AX_OP_LTE: {
		if (v->type != AX_J_NUMBER && v->type != AX_J_STRING)
			return false;
		char *end;
		double d = strtod(s, &end);
		if (end == s || *end)
			return false;
		return c->op == AX_OP_GTE ? d >= c->number : d <= c->number;
	}
	default:
		return false;
	}
}

static bool cond_visit(const struct ax_json_doc *doc, const struct ax_jnode *v, void *arg)
{
	struct cond_arg *a = arg;
	a->any = true;
	if (a->cond->op == AX_OP_EXISTS || a->cond->op == AX_OP_NOT_EXISTS)
		return true;
	if (!v)
		return false;
	if (v->type == AX_J_ARRAY) { /* a list value: any element may satisfy it */
		for (const struct ax_jnode *e = ax_json_first(doc, v); e; e = ax_json_next(doc, e)) {
			const char *s = scalar(doc, e);
			if (s && test_value(a->cond, s, e))
				return true;
		}
		return false;
	}
	const char *s = scalar(doc, v);
	return s && test_value(a->cond, s, v);
}

static bool cond_holds(const struct eval *e, const struct ax_cond *c)
{
	if (c->op == AX_OP_RAW_CONTAINS)
		return raw_contains(e->ev->raw, e->ev->raw_len, c->values.items[0]);
	struct cond_arg a = { c, false };
	bool hit = visit_path(e, &c->path, cond_visit, &a);
	if (c->op == AX_OP_EXISTS)
		return a.any;
	if (c->op == AX_OP_NOT_EXISTS)
		return !a.any;
	return hit;
}

static bool all_hold(const struct eval *e, const struct ax_conds *cs)
{
	for (size_t i = 0; i < cs->count; i++)
		if (!cond_holds(e, &cs->items[i]))
			return false;
	return true;
}

static bool any_holds(const struct eval *e, const struct ax_conds *cs)
{
	for (size_t i = 0; i < cs->count; i++)
		if (cond_holds(e, &cs->items[i]))
			return true;
	return false;
}

/* ---- rules ---- */

static bool record_type_matches(const struct ax_rule *r, const struct ax_event *ev)
{
	if (ev->record_type >= 0) {
		for (size_t i = 0; i < r->nrecord_types; i++)
			if (r->record_types[i] == ev->record_type)
				return true;
		return false;
	}
	const struct ax_jnode *rt = ev->field[AX_F_RECORD_TYPE];
	if (!rt || rt->type != AX_J_STRING)
		return false;
	for (size_t i = 0; i < r->record_type_names.count; i++)
		if (ax_ascii_streq(ev->text[AX_F_RECORD_TYPE], r->record_type_names.items[i]))
			return true;
	return false;
}

static bool operation_matches(const struct ax_rule *r, const struct eval *e)
{
	if (ax_strlist_contains(&r->operations, e->op))
		return true;
	for (size_t i = 0; i < r->globs.count; i++)
		if (fnmatch(r->globs.items[i], e->op, 0) == 0)
			return true;
	return false;
}

static bool in_list_ci(const struct ax_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (ax_ascii_streq(l->items[i], s))
			return true;
	return false;
}

/* What depends only on the event's kind, workload, operation, record type
 * and result status: the same for every event of a kind, so cacheable. */
static bool static_match(const struct ax_rule *r, const struct eval *e)
{
	const struct ax_event *ev = e->ev;
	unsigned kind_bit = ev->kind == AX_KIND_GRAPH_ALERT ? AX_KIND_BIT_GRAPH_ALERT : AX_KIND_BIT_O365;
	if (r->kinds && !(r->kinds & kind_bit))
		return false;
	if (r->workloads.count && (!e->workload_present || !ax_strlist_contains(&r->workloads, e->workload)))
		return false;
	if (r->has_record_type && !record_type_matches(r, ev))
		return false;
	if ((r->operations.count || r->globs.count) && !operation_matches(r, e))
		return false;
	return !r->result_status.count || in_list_ci(&r->result_status, ev->text[AX_F_RESULT_STATUS]);
}

static bool conditions_hold(const struct ax_rule *r, const struct eval *e)
{
	return all_hold(e, &r->where) && (!r->where_any.count || any_holds(e, &r->where_any)) &&
	       !(r->exclude.count && any_holds(e, &r->exclude));
}

static void add_candidate(unsigned *list, size_t *n, unsigned r, const struct ax_rules *rs)
{
	size_t i = (*n)++;
	while (i > 0 && rs->rules[list[i - 1]].rank > rs->rules[r].rank) {
		list[i] = list[i - 1];
		i--;
	}
	list[i] = r;
}

/* Rules whose static criteria the event meets, in rank order. */
static size_t candidates(const struct ax_rules *rs, const struct eval *e, unsigned *out)
{
	size_t n = 0, nindexed;
	const unsigned *indexed = e->op[0] ? ax_rules_by_operation(rs, e->op, &nindexed) : NULL;
	for (size_t i = 0; indexed && i < nindexed; i++)
		if (static_match(&rs->rules[indexed[i]], e))
			add_candidate(out, &n, indexed[i], rs);
	for (size_t i = 0; i < rs->nscan; i++)
		if (static_match(&rs->rules[rs->scan[i]], e))
			add_candidate(out, &n, rs->scan[i], rs);
	return n;
}

/* ---- candidate cache ---- */

struct cache_slot {
	char *key;
	size_t key_len;
	unsigned *rules;
	size_t count;
};

struct ax_match_cache {
	const struct ax_rules *rules;
	unsigned *scratch; /* one slot per rule */
	struct cache_slot slots[AX_MATCH_CACHE_SLOTS];
	uint64_t hits, misses;
};

struct ax_match_cache *ax_match_cache_create(const struct ax_rules *rules)
{
	struct ax_match_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->rules = rules;
	c->scratch = calloc(rules->count ? rules->count : 1, sizeof(*c->scratch));
	if (!c->scratch) {
		free(c);
		return NULL;
	}
	return c;
}

void ax_match_cache_destroy(struct ax_match_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < AX_MATCH_CACHE_SLOTS; i++) {
		free(c->slots[i].key);
		free(c->slots[i].rules);
	}
	free(c->scratch);
	free(c);
}

/* Each field as its length (two bytes) and its bytes: no separator a field
 * could contain. */
static size_t append(char *key, size_t at, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (at == 0 || n > 0xffff || at + n + 2 > cap)
		return 0;
	key[at] = (char)(n >> 8);
	key[at + 1] = (char)(n & 0xff);
	memcpy(key + at + 2, s, n);
	return at + n + 2;
}

/* Everything static_match reads, as one byte string; 0 when it does not fit. */
static size_t cache_key(const struct eval *e, char *key, size_t cap)
{
	const struct ax_event *ev = e->ev;
	const struct ax_jnode *rt = ev->field[AX_F_RECORD_TYPE];
	key[0] = (char)('0' + ev->kind);
	key[1] = e->workload_present ? '1' : '0';
	key[2] = (char)('0' + (rt ? rt->type : 9)); /* 1.5 and "1.5" match differently */
	size_t at = append(key, 3, cap, e->workload);
	at = append(key, at, cap, e->op);
	at = append(key, at, cap, ev->text[AX_F_RECORD_TYPE]);
	return append(key, at, cap, ev->text[AX_F_RESULT_STATUS]);
}

/* Eight bytes a step (a byte at a time was a sixth of the mapper's time). */
static uint32_t hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 29));
}

/* The candidates of e from the cache, computing them on a miss. */
static const unsigned *cached_candidates(struct ax_match_cache *c, const struct eval *e,
					 unsigned *scratch, size_t *n)
{
	char key[1024];
	size_t len = cache_key(e, key, sizeof(key));
	if (len == 0) { /* too long to cache: rare, compute */
		*n = candidates(c->rules, e, scratch);
		return scratch;
	}
	struct cache_slot *slot = &c->slots[hash(key, len) % AX_MATCH_CACHE_SLOTS];
	if (slot->key && slot->key_len == len && memcmp(slot->key, key, len) == 0) {
		c->hits++;
		*n = slot->count;
		return slot->rules;
	}
	c->misses++;
	*n = candidates(c->rules, e, scratch);
	char *k = malloc(len);
	unsigned *rules = malloc((*n ? *n : 1) * sizeof(*rules));
	if (!k || !rules) {
		free(k);
		free(rules);
		return scratch;
	}
	memcpy(k, key, len);
	memcpy(rules, scratch, *n * sizeof(*rules));
	free(slot->key);
	free(slot->rules);
	slot->key = k; /* the slot owns them now; ax_match_cache_destroy frees them */
	slot->key_len = len;
	slot->rules = rules;
	slot->count = *n;
	return slot->rules;
}

static size_t collect(const struct ax_rules *rs, struct ax_match_cache *cache, const struct eval *e,
		      const struct ax_rule **matched)
{
	unsigned *scratch = cache ? cache->scratch : malloc((rs->count ? rs->count : 1) * sizeof(*scratch));
	if (!scratch)
		return 0;
	size_t ncand;
	const unsigned *cand = cache ? cached_candidates(cache, e, scratch, &ncand)
				     : (ncand = candidates(rs, e, scratch), scratch);
	size_t n = 0;
	for (size_t i = 0; i < ncand && n < MAX_MATCHED; i++)
		if (conditions_hold(&rs->rules[cand[i]], e))
			matched[n++] = &rs->rules[cand[i]];
	if (!cache)
		free(scratch);
	return n;
}

/* ---- severity_from ---- */

struct sev_arg {
	const struct ax_rule *rule;
	int best;
};

static bool sev_visit(const struct ax_json_doc *doc, const struct ax_jnode *v, void *arg)
{
	struct sev_arg *a = arg;
	const char *s = v ? scalar(doc, v) : NULL;
	for (size_t i = 0; s && i < a->rule->nsev_map; i++)
		if (ax_ascii_streq(s, a->rule->sev_map[i].from) && (int)a->rule->sev_map[i].to > a->best)
			a->best = (int)a->rule->sev_map[i].to;
	return false;
}

static enum ax_severity severity_of(const struct ax_rule *primary, const struct eval *e)
{
	if (!primary->has_severity_from)
		return primary->severity;
	struct sev_arg a = { primary, -1 };
	visit_path(e, &primary->severity_from, sev_visit, &a);
	return a.best < 0 ? primary->severity : (enum ax_severity)a.best;
}

static void combine(struct ax_mapping *m)
{
	for (size_t i = 0; i < m->nused; i++) {
		ax_cset_or(&m->controls, &m->used[i]->controls);
		ax_cset_or(&m->related, &m->used[i]->related);
		ax_cset_or(&m->c2013, &m->used[i]->controls_2013);
		m->drift = m->drift || m->used[i]->drift;
	}
	ax_cset_andnot(&m->related, &m->controls);
}

void ax_mapper_eval(const struct ax_rules *rs, const struct ax_event *ev, struct ax_mapping *m)
{
	ax_mapper_eval_cached(rs, NULL, ev, m);
}

void ax_mapper_eval_cached(const struct ax_rules *rs, struct ax_match_cache *cache,
			   const struct ax_event *ev, struct ax_mapping *m)
{
	struct eval e; /* not zeroed: 640 bytes a record, and lower_copy writes what is read */
	e.rs = rs;
	e.ev = ev;
	e.workload_present = ev->field[AX_F_WORKLOAD] != NULL;
	lower_copy(e.op, sizeof(e.op), ev->text[AX_F_OPERATION]);
	lower_copy(e.workload, sizeof(e.workload), ev->text[AX_F_WORKLOAD]);
	const struct ax_rule *matched[MAX_MATCHED];
	size_t n = collect(rs, cache, &e, matched);
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n && m->nused < AX_MAP_MAX_USED; i++)
		if (!matched[i]->fallback)
			m->used[m->nused++] = matched[i];
	if (m->nused == 0 && n > 0)
		m->used[m->nused++] = matched[0]; /* the best fallback alone */
	if (m->nused == 0)
		m->used[m->nused++] = &rs->rules[rs->count - 1]; /* out of memory: the baseline */
	m->severity = severity_of(m->used[0], &e);
	combine(m);
}

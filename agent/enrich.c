#include "enrich.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ascii.h"

const char *ax_event_content_type(const struct ax_event *ev)
{
	/* ComplianceDLP{SharePoint,Exchange}[Classification], DLPEndpoint, the
	 * on-premises scanners' DLP (m365-api.md §3.3) */
	static const long dlp_types[] = { 11, 13, 33, 63, 99, 100, 107 };
	if (ev->kind == AX_KIND_GRAPH_ALERT)
		return "Graph.SecurityAlerts";
	for (size_t i = 0; i < sizeof(dlp_types) / sizeof(dlp_types[0]); i++)
		if (ev->record_type == dlp_types[i])
			return "DLP.All";
	const char *w = ev->text[AX_F_WORKLOAD];
	if (ax_ascii_streq(w, "AzureActiveDirectory"))
		return "Audit.AzureActiveDirectory";
	if (ax_ascii_streq(w, "Exchange"))
		return "Audit.Exchange";
	if (ax_ascii_streq(w, "SharePoint") || ax_ascii_streq(w, "OneDrive"))
		return "Audit.SharePoint";
	return "Audit.General";
}

static const char *tenant_of(const struct ax_event *ev)
{
	const char *t = ev->text[AX_F_ORGANIZATION_ID];
	return *t ? t : ev->text[AX_F_TENANT_ID];
}

/* Rendered once a second: the timestamp only changes in its milliseconds. */
static const char *ingested_now(struct ax_processor *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != p->ingested_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(p->ingested_at, sizeof(p->ingested_at), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		p->ingested_sec = ts.tv_sec;
	}
	int ms = (int)(ts.tv_nsec / 1000000);
	p->ingested_at[20] = (char)('0' + ms / 100);
	p->ingested_at[21] = (char)('0' + ms / 10 % 10);
	p->ingested_at[22] = (char)('0' + ms % 10);
	return p->ingested_at;
}

static ax_err add_ids(struct ax_buf *b, const struct ax_cset *set, const struct ax_control *cat, size_t n)
{
	ax_err err = ax_buf_addc(b, '[');
	bool first = true;
	for (size_t w = 0; !err && w < AX_CSET_MAX / 64; w++) {
		for (uint64_t bits = set->w[w]; bits && !err; bits &= bits - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			if (i >= n)
				break;
			if (!first)
				err = ax_buf_addc(b, ',');
			if (!err)
				err = ax_buf_add_json_str(b, cat[i].id, strlen(cat[i].id));
			first = false;
		}
	}
	return err ? err : ax_buf_addc(b, ']');
}

static ax_err add_str(struct ax_buf *b, const char *key, const char *value)
{
	ax_err err = ax_buf_adds(b, key);
	return err ? err : ax_buf_add_json_str(b, value, strlen(value));
}

static ax_err render_iso(struct ax_buf *b, const struct ax_rules *rs, const struct ax_mapping *m)
{
	const struct ax_catalog *cat = &rs->catalog;
	ax_err err = ax_buf_adds(b, "\"iso27001\":{\"edition\":\"2022\",\"controls\":");
	if (!err)
		err = add_ids(b, &m->controls, cat->c2022, cat->n2022);
	if (!err)
		err = ax_buf_adds(b, ",\"related\":");
	if (!err)
		err = add_ids(b, &m->related, cat->c2022, cat->n2022);
	if (!err)
		err = ax_buf_adds(b, ",\"controls_2013\":");
	if (!err)
		err = add_ids(b, &m->c2013, cat->c2013, cat->n2013);
	if (!err)
		err = add_str(b, ",\"category\":", m->used[0]->category);
	if (!err)
		err = add_str(b, ",\"severity\":", ax_severity_names[m->severity]);
	if (!err)
		err = add_str(b, ",\"rule\":", m->used[0]->id);
	if (!err)
		err = ax_buf_adds(b, ",\"rules\":[");
	for (size_t i = 0; !err && i < m->nused; i++) {
		if (i)
			err = ax_buf_addc(b, ',');
		if (!err)
			err = ax_buf_add_json_str(b, m->used[i]->id, strlen(m->used[i]->id));
	}
	if (!err)
		err = add_str(b, "],\"mapping_version\":", rs->mapping_version);
	if (!err)
		err = ax_buf_adds(b, m->drift ? ",\"drift\":true}" : ",\"drift\":false}");
	return err;
}

/* The iso27001 member depends only on the rules that applied and the
 * severity: each combination is rendered once. */
struct iso_entry {
	const struct ax_rule *used[AX_MAP_MAX_USED];
	size_t nused;
	enum ax_severity severity;
	char *text;
	size_t len;
};

#define ISO_PROBES 4

struct ax_iso_cache {
	struct iso_entry slots[AX_ISO_CACHE_SLOTS];
	struct ax_buf scratch;
};

static struct ax_iso_cache *iso_cache_create(void)
{
	struct ax_iso_cache *c = calloc(1, sizeof(*c));
	if (c)
		ax_buf_init(&c->scratch, 1u << 20);
	return c;
}

static void iso_cache_destroy(struct ax_iso_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < AX_ISO_CACHE_SLOTS; i++)
		free(c->slots[i].text);
	ax_buf_finish(&c->scratch);
	free(c);
}

static size_t iso_hash(const struct ax_mapping *m)
{
	uint64_t h = m->severity;
	for (size_t i = 0; i < m->nused; i++)
		h = (h ^ (uint64_t)(uintptr_t)m->used[i]) * 0x100000001b3u;
	h ^= h >> 33; /* murmur3's finaliser: every input bit reaches the low bits */
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return (size_t)h;
}

static bool iso_entry_is(const struct iso_entry *e, const struct ax_mapping *m)
{
	return e->text && e->nused == m->nused && e->severity == m->severity &&
	       memcmp(e->used, m->used, m->nused * sizeof(*m->used)) == 0;
}

/* The entry for m, or the one to replace: a few probes, then the home slot. */
static struct iso_entry *iso_lookup(struct ax_iso_cache *c, const struct ax_mapping *m)
{
	size_t home = iso_hash(m);
	for (size_t i = 0; i < ISO_PROBES; i++) {
		struct iso_entry *e = &c->slots[(home + i) % AX_ISO_CACHE_SLOTS];
		if (!e->text || iso_entry_is(e, m))
			return e;
	}
	return &c->slots[home % AX_ISO_CACHE_SLOTS];
}

static ax_err add_iso(struct ax_processor *p)
{
	const struct ax_mapping *m = &p->mapping;
	struct ax_iso_cache *c = p->kit->iso_cache;
	struct iso_entry *e = iso_lookup(c, m);
	if (!iso_entry_is(e, m)) {
		ax_buf_clear(&c->scratch);
		ax_err err = render_iso(&c->scratch, p->rules, m);
		char *text = err ? NULL : malloc(c->scratch.len);
		if (!text)
			return err ? err : AX_ERR_NOMEM;
		memcpy(text, c->scratch.data, c->scratch.len);
		free(e->text);
		memcpy(e->used, m->used, m->nused * sizeof(*m->used));
		e->nused = m->nused;
		e->severity = m->severity;
		e->text = text;
		e->len = c->scratch.len;
	}
	return ax_buf_add(&p->out, e->text, e->len);
}

/* ,"ingested_at":"…Z" - our own digits, nothing to escape. */
static ax_err add_timestamp(struct ax_buf *b, const char *ts)
{
	static const char key[] = ",\"ingested_at\":\"";
	size_t n = strlen(ts);
	ax_err err = ax_buf_reserve(b, sizeof(key) + n);
	if (err)
		return err;
	memcpy(b->data + b->len, key, sizeof(key) - 1);
	memcpy(b->data + b->len + sizeof(key) - 1, ts, n);
	b->data[b->len + sizeof(key) - 1 + n] = '"';
	b->len += sizeof(key) + n;
	return AX_OK;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The parts of the annexa member fixed by the origin, rendered when it
 * changes: ',"annexa":{"source":…,"type":…' and ',"host":…,"version":…}'. */
static ax_err render_origin(struct ax_processor *p, const struct ax_origin *o)
{
	if (p->origin_ok && same_str(o->source, p->origin.source) && same_str(o->type, p->origin.type) &&
	    same_str(o->host, p->origin.host) && same_str(o->version, p->origin.version))
		return AX_OK;
	p->origin_ok = false;
	struct ax_buf *b = &p->origin_text;
	ax_buf_clear(b);
	ax_err err = add_str(b, ",\"annexa\":{\"source\":", o->source);
	if (!err)
		err = add_str(b, ",\"type\":", o->type);
	p->origin_head = b->len;
	if (!err)
		err = add_str(b, ",\"host\":", o->host);
	if (!err)
		err = add_str(b, ",\"version\":", o->version);
	if (!err)
		err = ax_buf_addc(b, '}');
	if (err)
		return err;
	free(p->origin.source);
	free(p->origin.type);
	free(p->origin.host);
	free(p->origin.version);
	p->origin.source = strdup(o->source);
	p->origin.type = strdup(o->type);
	p->origin.host = strdup(o->host);
	p->origin.version = strdup(o->version);
	p->origin_ok = p->origin.source && p->origin.type && p->origin.host && p->origin.version;
	return AX_OK;
}

/* ,"stream":…,"seq":N,"chain":"<64 placeholders>"  (chain.h); *hex: where the digits go */
static ax_err add_seal(struct ax_buf *b, const struct ax_seal *seal, size_t *hex)
{
	static const char zeros[AX_CHAIN_HEX + 1] = "0000000000000000000000000000000000000000000000000000000000000000";
	ax_err err = ax_buf_adds(b, ",\"stream\":\"");
	if (!err)
		err = ax_buf_adds(b, seal->stream);
	if (!err)
		err = ax_buf_adds(b, "\",\"seq\":");
	if (!err)
		err = ax_buf_add_u64(b, seal->prev.seq + 1);
	if (!err)
		err = ax_buf_adds(b, ",\"chain\":\"");
	*hex = b->len;
	if (!err)
		err = ax_buf_add(b, zeros, AX_CHAIN_HEX);
	return err ? err : ax_buf_addc(b, '"');
}

static ax_err add_annexa(struct ax_processor *p, const struct ax_origin *o, const char *ctype,
			 const char *tenant, const struct ax_seal *seal, size_t *hex)
{
	struct ax_buf *b = &p->out;
	const struct ax_buf *fixed = &p->origin_text;
	ax_err err = render_origin(p, o);
	if (!err)
		err = ax_buf_add(b, fixed->data, p->origin_head);
	if (!err)
		err = add_str(b, ",\"content_type\":", ctype);
	if (!err && *tenant)
		err = add_str(b, ",\"tenant\":", tenant);
	else if (!err)
		err = ax_buf_add(b, ",\"tenant\":null", 14);
	if (!err)
		err = add_timestamp(b, ingested_now(p));
	if (!err && seal) /* the fixed tail without its '}', then the seal's members */
		err = ax_buf_add(b, fixed->data + p->origin_head, fixed->len - p->origin_head - 1);
	if (!err && seal)
		err = add_seal(b, seal, hex);
	if (!err)
		err = seal ? ax_buf_addc(b, '}')
			   : ax_buf_add(b, fixed->data + p->origin_head, fixed->len - p->origin_head);
	return err;
}

/* Offset of the record's closing brace (the root object's last byte). */
static size_t closing_brace(const char *raw, size_t len)
{
	while (len > 0 && raw[len - 1] != '}')
		len--;
	return len - 1;
}

/* Where a numbered record's chain value goes: R' runs from the record's
 * '{' to its closing brace (the original's last '}'). */
static void find_slot(struct ax_processor *p, size_t hex, size_t tail)
{
	struct ax_buf *b = &p->out;
	const char *open = memchr(b->data, '{', b->len);
	p->slot = (struct ax_chain_slot){ .rec = b->data, .begin = open ? (size_t)(open - b->data) : 0,
					  .end = b->len - tail + 1, .hex = hex };
}

static ax_err splice(struct ax_processor *p, const struct ax_origin *o, const char *ctype,
		     const char *tenant, const struct ax_seal *seal)
{
	const struct ax_event *ev = &p->kit->ev;
	size_t brace = closing_brace(ev->raw, ev->raw_len);
	struct ax_buf *b = &p->out;
	ax_buf_clear(b);
	ax_err err = ax_buf_add(b, ev->raw, brace);
	if (!err && ev->root->len > 0)
		err = ax_buf_addc(b, ',');
	if (!err)
		err = add_iso(p);
	size_t hex = 0;
	if (!err)
		err = add_annexa(p, o, ctype, tenant, seal, &hex);
	if (!err)
		err = ax_buf_add(b, ev->raw + brace, ev->raw_len - brace);
	if (!err && seal)
		find_slot(p, hex, ev->raw_len - brace);
	return err;
}

/* Copies the strings the record points to into p->texts: the kit's doc
 * holding them takes the thread's next record. */
static ax_err keep_texts(struct ax_processor *p)
{
	struct ax_record *r = &p->record;
	const char **texts[] = { &r->id, &r->creation_time, &r->workload, &r->operation,
				 &r->user, &r->client_ip, &r->content_type, &r->tenant };
	size_t len[sizeof(texts) / sizeof(texts[0])], need = 0;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		need += (len[i] = strlen(*texts[i]) + 1);
	ax_buf_clear(&p->texts);
	if (ax_buf_reserve(&p->texts, need))
		return AX_ERR_NOMEM;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *copy = p->texts.data + p->texts.len;
		memcpy(copy, *texts[i], len[i]);
		p->texts.len += len[i];
		*texts[i] = copy;
	}
	return AX_OK;
}

static ax_err fill_record(struct ax_processor *p, const struct ax_origin *o, const char *ctype,
			  const char *tenant)
{
	const struct ax_event *ev = &p->kit->ev;
	const struct ax_catalog *cat = &p->rules->catalog;
	struct ax_record *r = &p->record;
	r->json = p->out.data;
	r->len = p->out.len;
	r->id = ev->text[AX_F_ID];
	r->creation_time = *ev->text[AX_F_CREATION_TIME] ? ev->text[AX_F_CREATION_TIME]
							 : ev->text[AX_F_CREATED_DATE_TIME];
	r->workload = *ev->text[AX_F_WORKLOAD] ? ev->text[AX_F_WORKLOAD] : ev->text[AX_F_SERVICE_SOURCE];
	r->operation = *ev->text[AX_F_OPERATION] ? ev->text[AX_F_OPERATION] : ev->text[AX_F_TITLE];
	r->user = ev->text[AX_F_USER_ID];
	r->client_ip = *ev->text[AX_F_CLIENT_IP] ? ev->text[AX_F_CLIENT_IP]
		       : *ev->text[AX_F_CLIENT_IP_ADDRESS] ? ev->text[AX_F_CLIENT_IP_ADDRESS]
							   : ev->text[AX_F_ACTOR_IP_ADDRESS];
	r->category = p->mapping.used[0]->category;
	r->rule = p->mapping.used[0]->id;
	r->severity = p->mapping.severity;
	r->ncontrols = 0;
	for (size_t w = 0; w < AX_CSET_MAX / 64; w++)
		for (uint64_t bits = p->mapping.controls.w[w]; bits; bits &= bits - 1)
			p->controls[r->ncontrols++] = cat->c2022[w * 64 + (size_t)__builtin_ctzll(bits)].id;
	r->controls = p->controls;
	r->source = o->source;
	r->content_type = ctype;
	r->tenant = tenant;
	return keep_texts(p);
}

ax_err ax_kit_init(struct ax_kit *k, const struct ax_rules *rules, unsigned max_depth)
{
	*k = (struct ax_kit){ .cache = ax_match_cache_create(rules), .iso_cache = iso_cache_create(),
			      .doc = ax_json_doc_create(max_depth) };
	return k->cache && k->iso_cache && k->doc ? AX_OK : AX_ERR_NOMEM;
}

void ax_kit_finish(struct ax_kit *k)
{
	ax_match_cache_destroy(k->cache);
	iso_cache_destroy(k->iso_cache);
	ax_chain_hasher_destroy(k->hasher);
	ax_json_doc_destroy(k->doc);
	*k = (struct ax_kit){ 0 };
}

ax_err ax_processor_init_lent(struct ax_processor *p, const struct ax_rules *rules, size_t max_record)
{
	memset(p, 0, sizeof(*p));
	p->rules = rules;
	p->ingested_sec = -1;
	/* The enriched record is the original plus a bounded tail. */
	ax_buf_init(&p->out, max_record + 64 * 1024);
	ax_buf_init(&p->origin_text, 64 * 1024);
	ax_buf_init(&p->texts, max_record + 64 * 1024); /* strings of the record and its origin */
	return AX_OK;
}

ax_err ax_processor_init(struct ax_processor *p, const struct ax_rules *rules,
			 unsigned max_depth, size_t max_record)
{
	ax_err err = ax_processor_init_lent(p, rules, max_record);
	if (!err)
		err = ax_kit_init(&p->own, rules, max_depth);
	p->kit = &p->own;
	return err;
}

void ax_processor_finish(struct ax_processor *p)
{
	ax_kit_finish(&p->own);
	ax_buf_finish(&p->out);
	ax_buf_finish(&p->texts);
	ax_buf_finish(&p->origin_text);
	free(p->origin.source);
	free(p->origin.type);
	free(p->origin.host);
	free(p->origin.version);
}

ax_err ax_process(struct ax_processor *p, const char *raw, size_t len, const struct ax_origin *o)
{
	return ax_process_sealed(p, raw, len, o, NULL);
}

ax_err ax_process_numbered(struct ax_processor *p, const char *raw, size_t len, const struct ax_origin *o,
			   const struct ax_seal *seal)
{
	p->reason[0] = '\0';
	struct ax_event *ev = &p->kit->ev;
	ax_err err = ax_event_decode(ev, p->kit->doc, &p->rules->keys, raw, len);
	if (err == AX_ERR_NOT_OBJECT) {
		snprintf(p->reason, sizeof(p->reason), "not a JSON object");
		return err;
	}
	if (err) {
		snprintf(p->reason, sizeof(p->reason), "%s: %s", ax_strerror(err), ax_json_error(p->kit->doc));
		return err;
	}
	if (ev->field[AX_F_ISO27001] || ev->field[AX_F_ANNEXA]) {
		snprintf(p->reason, sizeof(p->reason), "record already has an \"iso27001\" or \"annexa\" member (enriched before?)");
		return AX_ERR_JSON;
	}
	ax_mapper_eval_cached(p->rules, p->kit->cache, ev, &p->mapping);
	const char *ctype = o->content_type ? o->content_type : ax_event_content_type(ev);
	const char *tenant = o->tenant ? o->tenant : tenant_of(ev);
	err = splice(p, o, ctype, tenant, seal);
	if (!err)
		err = fill_record(p, o, ctype, tenant);
	if (err)
		snprintf(p->reason, sizeof(p->reason), "cannot enrich: %s", ax_strerror(err));
	return err;
}

ax_err ax_process_renumber(struct ax_processor *p, const struct ax_seal *seal)
{
	static const char chain_key[] = ",\"chain\":\"";
	struct ax_buf *b = &p->out;
	size_t end = p->slot.hex - (sizeof(chain_key) - 1), start = end;
	while (start > 0 && b->data[start - 1] >= '0' && b->data[start - 1] <= '9')
		start--;
	char digits[24];
	size_t n = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(seal->prev.seq + 1));
	size_t old = end - start;
	if (n > old && ax_buf_reserve(b, n - old)) {
		snprintf(p->reason, sizeof(p->reason), "cannot enrich: %s", ax_strerror(AX_ERR_NOMEM));
		return AX_ERR_NOMEM;
	}
	memmove(b->data + start + n, b->data + end, b->len - end);
	memcpy(b->data + start, digits, n);
	b->len = b->len - old + n;
	p->slot.rec = b->data;
	p->slot.hex = p->slot.hex - old + n;
	p->slot.end = p->slot.end - old + n;
	p->record.json = b->data;
	p->record.len = b->len;
	return AX_OK;
}

static struct ax_chain_hasher *hasher_of(struct ax_processor *p)
{
	if (!p->kit->hasher)
		p->kit->hasher = ax_chain_hasher_create();
	return p->kit->hasher;
}

static ax_err seal_failed(struct ax_processor *p, ax_err err)
{
	snprintf(p->reason, sizeof(p->reason), "cannot seal: %s", ax_strerror(err));
	return err;
}

ax_err ax_process_seal(struct ax_processor *p, struct ax_seal *seal)
{
	return ax_process_seal_n(p, seal, 1);
}

ax_err ax_process_digest_n(struct ax_processor *const *p, size_t n)
{
	struct ax_chain_hasher *h = hasher_of(p[0]);
	const struct ax_chain_slot *slots[AX_CHAIN_GROUP] = { 0 };
	uint8_t digest[AX_CHAIN_GROUP][AX_CHAIN_LEN];
	for (size_t k = 0; k < n; k++)
		slots[k] = &p[k]->slot;
	ax_err err = h ? ax_chain_digest_n(h, slots, n, digest) : AX_ERR_NOMEM;
	if (err)
		return seal_failed(p[0], err);
	for (size_t k = 0; k < n; k++)
		memcpy(p[k]->digest, digest[k], AX_CHAIN_LEN);
	return AX_OK;
}

ax_err ax_process_link(struct ax_processor *p, struct ax_seal *seal)
{
	struct ax_chain_hasher *h = hasher_of(p);
	ax_err err = h ? ax_chain_put(h, &p->slot, seal->prev.chain, p->digest, seal->next.chain) : AX_ERR_NOMEM;
	if (err)
		return seal_failed(p, err);
	seal->next.seq = seal->prev.seq + 1;
	return AX_OK;
}

ax_err ax_process_seal_n(struct ax_processor *p, struct ax_seal *seal, size_t n)
{
	struct ax_processor *group[AX_CHAIN_GROUP] = { 0 };
	for (size_t k = 0; k < n; k++)
		group[k] = &p[k];
	ax_err err = ax_process_digest_n(group, n);
	for (size_t k = 0; k < n && !err; k++) {
		if (k)
			seal[k].prev = seal[k - 1].next;
		err = ax_process_link(&p[k], &seal[k]);
	}
	return err ? seal_failed(&p[0], err) : AX_OK;
}

ax_err ax_process_sealed(struct ax_processor *p, const char *raw, size_t len, const struct ax_origin *o,
			 struct ax_seal *seal)
{
	ax_err err = ax_process_numbered(p, raw, len, o, seal);
	return err || !seal ? err : ax_process_seal(p, seal);
}

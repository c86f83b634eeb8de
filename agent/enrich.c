#include "enrich.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

ax_err ax_processor_init(struct ax_processor *p, const struct ax_rules *rules,
			 unsigned max_depth, size_t max_record)
{
	memset(p, 0, sizeof(*p));
	p->rules = rules;
	p->ingested_sec = -1;
	/* The enriched record is the original plus a bounded tail. */
	ax_buf_init(&p->out, max_record + 64 * 1024);
	p->doc = ax_json_doc_create(max_depth);
	p->cache = ax_match_cache_create(rules);
	return p->doc && p->cache ? AX_OK : AX_ERR_NOMEM;
}

void ax_processor_finish(struct ax_processor *p)
{
	ax_json_doc_destroy(p->doc);
	ax_match_cache_destroy(p->cache);
	ax_buf_finish(&p->out);
}

const char *ax_event_content_type(const struct ax_event *ev)
{
	static const long dlp_types[] = { 11, 13, 33, 55, 63, 99, 107 };
	if (ev->kind == AX_KIND_GRAPH_ALERT)
		return "Graph.SecurityAlerts";
	for (size_t i = 0; i < sizeof(dlp_types) / sizeof(dlp_types[0]); i++)
		if (ev->record_type == dlp_types[i])
			return "DLP.All";
	const char *w = ev->text[AX_F_WORKLOAD];
	if (strcasecmp(w, "AzureActiveDirectory") == 0)
		return "Audit.AzureActiveDirectory";
	if (strcasecmp(w, "Exchange") == 0)
		return "Audit.Exchange";
	if (strcasecmp(w, "SharePoint") == 0 || strcasecmp(w, "OneDrive") == 0)
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

static ax_err add_iso(struct ax_processor *p)
{
	const struct ax_catalog *cat = &p->rules->catalog;
	const struct ax_mapping *m = &p->mapping;
	struct ax_buf *b = &p->out;
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
		err = add_str(b, "],\"mapping_version\":", p->rules->mapping_version);
	if (!err)
		err = ax_buf_adds(b, m->drift ? ",\"drift\":true}" : ",\"drift\":false}");
	return err;
}

static ax_err add_annexa(struct ax_processor *p, const struct ax_origin *o, const char *ctype,
			 const char *tenant)
{
	struct ax_buf *b = &p->out;
	ax_err err = add_str(b, ",\"annexa\":{\"source\":", o->source);
	if (!err)
		err = add_str(b, ",\"type\":", o->type);
	if (!err)
		err = add_str(b, ",\"content_type\":", ctype);
	if (!err && *tenant)
		err = add_str(b, ",\"tenant\":", tenant);
	else if (!err)
		err = ax_buf_adds(b, ",\"tenant\":null");
	if (!err)
		err = add_str(b, ",\"ingested_at\":", ingested_now(p));
	if (!err)
		err = add_str(b, ",\"host\":", o->host);
	if (!err)
		err = add_str(b, ",\"version\":", o->version);
	return err ? err : ax_buf_addc(b, '}');
}

/* Offset of the record's closing brace (the root object's last byte). */
static size_t closing_brace(const char *raw, size_t len)
{
	while (len > 0 && raw[len - 1] != '}')
		len--;
	return len - 1;
}

static ax_err splice(struct ax_processor *p, const struct ax_origin *o, const char *ctype,
		     const char *tenant)
{
	const struct ax_event *ev = &p->ev;
	size_t brace = closing_brace(ev->raw, ev->raw_len);
	struct ax_buf *b = &p->out;
	ax_buf_clear(b);
	ax_err err = ax_buf_add(b, ev->raw, brace);
	if (!err && ev->root->len > 0)
		err = ax_buf_addc(b, ',');
	if (!err)
		err = add_iso(p);
	if (!err)
		err = add_annexa(p, o, ctype, tenant);
	if (!err)
		err = ax_buf_add(b, ev->raw + brace, ev->raw_len - brace);
	return err;
}

static void fill_record(struct ax_processor *p, const struct ax_origin *o, const char *ctype,
			const char *tenant)
{
	const struct ax_event *ev = &p->ev;
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
	r->severity = p->mapping.severity;
	r->ncontrols = 0;
	for (size_t i = 0; i < cat->n2022; i++)
		if (ax_cset_has(&p->mapping.controls, (unsigned)i))
			p->controls[r->ncontrols++] = cat->c2022[i].id;
	r->controls = p->controls;
	r->source = o->source;
	r->content_type = ctype;
	r->tenant = tenant;
}

ax_err ax_process(struct ax_processor *p, const char *raw, size_t len, const struct ax_origin *o)
{
	p->reason[0] = '\0';
	ax_err err = ax_event_decode(&p->ev, p->doc, raw, len);
	if (err == AX_ERR_NOT_OBJECT) {
		snprintf(p->reason, sizeof(p->reason), "not a JSON object");
		return err;
	}
	if (err) {
		snprintf(p->reason, sizeof(p->reason), "%s: %s", ax_strerror(err), ax_json_error(p->doc));
		return err;
	}
	if (p->ev.field[AX_F_ISO27001] || p->ev.field[AX_F_ANNEXA]) {
		snprintf(p->reason, sizeof(p->reason), "record already has an \"iso27001\" or \"annexa\" member (enriched before?)");
		return AX_ERR_JSON;
	}
	ax_mapper_eval_cached(p->rules, p->cache, &p->ev, &p->mapping);
	const char *ctype = o->content_type ? o->content_type : ax_event_content_type(&p->ev);
	const char *tenant = o->tenant ? o->tenant : tenant_of(&p->ev);
	err = splice(p, o, ctype, tenant);
	if (err) {
		snprintf(p->reason, sizeof(p->reason), "cannot enrich: %s", ax_strerror(err));
		return err;
	}
	fill_record(p, o, ctype, tenant);
	return AX_OK;
}

#include "sources/gap.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sources/window.h"

static ax_err add_member(struct ax_buf *b, const char *name, const char *value)
{
	ax_err err = ax_buf_addf(b, ",\"%s\":", name);
	if (!err)
		err = value ? ax_buf_add_json_str(b, value, strlen(value)) : ax_buf_adds(b, "null");
	return err;
}

static ax_err add_time(struct ax_buf *b, const char *name, int64_t t)
{
	char text[21];
	ax_time_format_utc(t, text);
	return add_member(b, name, t ? text : NULL);
}

static void format_id(const struct ax_key *key, char id[37])
{
	const uint8_t *k = key->b;
	snprintf(id, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", k[0], k[1], k[2],
		 k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]);
}

/* A gap never names both a blob and a control: they share the last part
 * (so the Ids of gaps without a control are those of earlier versions). */
static bool make_key(const struct ax_gap *g, struct ax_key *key, char id[37])
{
	char from[24], to[24], control[64];
	snprintf(from, sizeof(from), "%" PRId64, g->from);
	snprintf(to, sizeof(to), "%" PRId64, g->to);
	snprintf(control, sizeof(control), "control:%s", g->control ? g->control : "");
	const char *parts[] = { "evidence_gap", g->reason, g->source, g->tenant, g->content_type ? g->content_type : "",
				from, to, g->content_id ? g->content_id : g->control ? control : "" };
	if (!ax_key_of_parts(key, parts, sizeof(parts) / sizeof(parts[0])))
		return false;
	format_id(key, id);
	return true;
}

/* What every evidence_gap and evidence_resumed record says about the gap. */
static ax_err add_gap_members(struct ax_buf *out, const struct ax_gap *g)
{
	ax_err err = add_member(out, "reason", g->reason);
	if (!err)
		err = add_member(out, "source", g->source);
	if (!err)
		err = add_member(out, "tenant", g->tenant);
	if (!err)
		err = add_member(out, "content_type", g->content_type);
	if (!err)
		err = add_member(out, "control", g->control);
	if (!err)
		err = add_time(out, "window_start", g->from);
	if (!err)
		err = add_time(out, "window_end", g->to);
	if (!err)
		err = add_member(out, "content_id", g->content_id);
	return err;
}

ax_err ax_gap_render(const struct ax_gap *g, struct ax_buf *out, struct ax_key *key)
{
	char id[37], created[20];
	if (!make_key(g, key, id))
		return AX_ERR_NOMEM;
	ax_time_format_api(g->now, created);
	ax_buf_clear(out);
	ax_err err = ax_buf_addf(out, "{\"annexa_event\":\"evidence_gap\",\"Id\":\"%s\",\"CreationTime\":\"%s\","
				 "\"Workload\":\"annexa\",\"Operation\":\"EvidenceGap\"", id, created);
	if (!err)
		err = add_gap_members(out, g);
	if (!err)
		err = add_member(out, "detail", g->detail);
	if (!err)
		err = ax_buf_addc(out, '}');
	return err;
}

ax_err ax_gap_render_resumed(const struct ax_gap *g, int64_t at, struct ax_buf *out)
{
	char gap_id[37], id[37], created[20];
	struct ax_key key;
	if (!make_key(g, &key, gap_id))
		return AX_ERR_NOMEM;
	const char *parts[] = { "evidence_resumed", gap_id }; /* a gap resumes once: one Id */
	if (!ax_key_of_parts(&key, parts, 2))
		return AX_ERR_NOMEM;
	format_id(&key, id);
	ax_time_format_api(g->now, created);
	ax_buf_clear(out);
	ax_err err = ax_buf_addf(out, "{\"annexa_event\":\"evidence_resumed\",\"Id\":\"%s\",\"CreationTime\":\"%s\","
				 "\"Workload\":\"annexa\",\"Operation\":\"EvidenceResumed\",\"gap_id\":\"%s\"", id, created,
				 gap_id);
	if (!err)
		err = add_gap_members(out, g);
	if (!err)
		err = add_time(out, "resumed_at", at);
	if (!err)
		err = add_member(out, "detail", g->detail);
	if (!err)
		err = ax_buf_addc(out, '}');
	return err;
}

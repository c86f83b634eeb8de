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

static bool make_key(const struct ax_gap *g, struct ax_key *key, char id[37])
{
	char from[24], to[24];
	snprintf(from, sizeof(from), "%" PRId64, g->from);
	snprintf(to, sizeof(to), "%" PRId64, g->to);
	const char *parts[] = { "evidence_gap", g->reason, g->source, g->tenant, g->content_type ? g->content_type : "",
				from, to, g->content_id ? g->content_id : "" };
	if (!ax_key_of_parts(key, parts, sizeof(parts) / sizeof(parts[0])))
		return false;
	const uint8_t *k = key->b;
	snprintf(id, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", k[0], k[1], k[2],
		 k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]);
	return true;
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
		err = add_member(out, "reason", g->reason);
	if (!err)
		err = add_member(out, "source", g->source);
	if (!err)
		err = add_member(out, "tenant", g->tenant);
	if (!err)
		err = add_member(out, "content_type", g->content_type);
	if (!err)
		err = add_time(out, "window_start", g->from);
	if (!err)
		err = add_time(out, "window_end", g->to);
	if (!err)
		err = add_member(out, "content_id", g->content_id);
	if (!err)
		err = add_member(out, "detail", g->detail);
	if (!err)
		err = ax_buf_addc(out, '}');
	return err;
}

/* HEC event envelopes, and the cutting of a batch into requests.
 *
 * A request body is event objects one after the other (Splunk's batch
 * format, no array, no separator needed). Each record becomes
 *   {"time":T,"host":..,"source":..,"sourcetype":..[,"index":..],
 *    "event":RECORD,"fields":{"iso27001_controls":[..],"iso27001_category":..,
 *    "iso27001_severity":..[,"workload":..][,"tenant":..]}}
 * The enriched record goes in byte for byte: it is valid JSON already.
 * `fields` are indexed fields, for dashboards that count controls without
 * parsing the event (tstats); Splunk takes a string or an array of strings
 * there, and refuses empty values, so empty ones are left out. */
#include <string.h>

#include "hec.h"

/* ,"name":"value" - appended piece by piece: this runs for every field of every event. */
static ax_err add_member(struct ax_buf *b, const char *name, const char *value)
{
	ax_err err = ax_buf_add(b, ",\"", 2);
	err = err ? err : ax_buf_adds(b, name);
	err = err ? err : ax_buf_add(b, "\":", 2);
	return err ? err : ax_buf_add_json_str(b, value, strlen(value));
}

ax_err ax_hec_meta_render(struct ax_buf *meta, const char *host, const char *source,
			  const char *sourcetype, const char *index)
{
	ax_buf_clear(meta);
	ax_err err = add_member(meta, "host", host);
	if (!err)
		err = add_member(meta, "source", source);
	if (!err)
		err = add_member(meta, "sourcetype", sourcetype);
	if (!err && index[0])
		err = add_member(meta, "index", index);
	return err;
}

static ax_err add_controls(struct ax_buf *b, const struct ax_record *r)
{
	ax_err err = ax_buf_adds(b, "\"iso27001_controls\":[");
	for (size_t i = 0; !err && i < r->ncontrols; i++) {
		if (i)
			err = ax_buf_addc(b, ',');
		if (!err)
			err = ax_buf_add_json_str(b, r->controls[i], strlen(r->controls[i]));
	}
	return err ? err : ax_buf_addc(b, ']');
}

static ax_err add_fields(struct ax_buf *b, const struct ax_record *r)
{
	const char *optional[][2] = {
		{ "iso27001_category", r->category },
		{ "iso27001_severity", ax_severity_names[r->severity] },
		{ "workload", r->workload },
		{ "tenant", r->tenant },
	};
	ax_err err = ax_buf_adds(b, ",\"fields\":{");
	if (!err)
		err = add_controls(b, r);
	for (size_t i = 0; !err && i < sizeof(optional) / sizeof(optional[0]); i++)
		if (optional[i][1] && optional[i][1][0])
			err = add_member(b, optional[i][0], optional[i][1]);
	return err ? err : ax_buf_addc(b, '}');
}

ax_err ax_hec_event_append(struct ax_buf *body, const struct ax_buf *meta, const struct ax_record *r)
{
	char time[AX_HEC_TIME_LEN];
	ax_hec_time(r->creation_time, time);
	ax_err err = ax_buf_add(body, "{\"time\":", 8);
	err = err ? err : ax_buf_adds(body, time);
	if (!err)
		err = ax_buf_add(body, meta->data, meta->len);
	if (!err)
		err = ax_buf_adds(body, ",\"event\":");
	if (!err)
		err = ax_buf_add(body, r->json, r->len);
	if (!err)
		err = add_fields(body, r);
	return err ? err : ax_buf_addc(body, '}');
}

ax_err ax_hec_body_fill(struct ax_buf *body, const struct ax_buf *meta,
			const struct ax_record *recs, const size_t *todo, size_t n,
			const struct ax_hec_limits *lim, size_t *taken)
{
	ax_buf_clear(body);
	*taken = 0;
	while (*taken < n && *taken < lim->max_records) {
		size_t before = body->len;
		ax_err err = ax_hec_event_append(body, meta, &recs[todo[*taken]]);
		if (err)
			return err;
		if (body->len > lim->max_bytes && *taken > 0) {
			body->len = before; /* this one starts the next request */
			break;
		}
		(*taken)++;
	}
	return AX_OK;
}

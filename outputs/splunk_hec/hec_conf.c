/* splunk_hec output: options and their validation. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "hec.h"

static const char *const compress_values[] = { "gzip", "none", NULL };

#define HEC(field) offsetof(struct ax_hec_conf, field)

static const struct ax_option hec_options[] = {
	{ "url", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, HEC(url), 0, 0, NULL,
	  "Base URL of the HTTP Event Collector, e.g. https://splunk.example:8088." },
	{ "token", AX_OPT_SECRET, NULL, AX_OPT_REQUIRED, HEC(token), 0, 0, NULL,
	  "HEC token (sent as 'Authorization: Splunk TOKEN'); prefer token_file or ${ENV}." },
	{ "index", AX_OPT_STRING, "", 0, HEC(index), 0, 0, NULL,
	  "Splunk index of the events; empty: the token's default index." },
	{ "sourcetype", AX_OPT_STRING, "o365:management:activity", 0, HEC(sourcetype), 0, 0, NULL,
	  "Sourcetype of the events; the default keeps Splunk's Microsoft 365 content working." },
	{ "source", AX_OPT_STRING, "annexa", 0, HEC(source), 0, 0, NULL,
	  "Source field of the events." },
	{ "host", AX_OPT_STRING, "", 0, HEC(host), 0, 0, NULL,
	  "Host field of the events; empty: the machine's host name." },
	{ "compress", AX_OPT_ENUM, "gzip", 0, HEC(compress), 0, 0, compress_values,
	  "Compress request bodies." },
	{ "compress_level", AX_OPT_INT, "1", 0, HEC(compress_level), 1, 9, NULL,
	  "Level of compress = gzip, 1-9 as in zlib; built with ISA-L (the Debian package is), 1-3 are its igzip's levels, each at least zlib's ratio for a fifth to half the CPU. Measured on 1 MiB requests of Microsoft 365 records: 1 shrinks them 4.5x at 1.2 ms of CPU per MiB (zlib alone: 4.3x at 5.8 ms), 3 5.0x at 2.4 ms, 6 5.6x at 12 ms, 9 5.8x at 20 ms." },
	{ "ack", AX_OPT_BOOL, "false", 0, HEC(ack), 0, 0, NULL,
	  "Use indexer acknowledgement: a batch counts as delivered only once Splunk acknowledges it." },
	{ "ack_timeout", AX_OPT_DURATION, "60s", 0, HEC(ack_timeout), 1000, 3600000, NULL,
	  "With ack = true: how long to wait for Splunk to acknowledge a request before sending its events again." },
	{ "tls_verify", AX_OPT_BOOL, "true", 0, HEC(tls_verify), 0, 0, NULL,
	  "Verify the server certificate and host name." },
	{ "tls_ca_file", AX_OPT_STRING, "", 0, HEC(tls_ca_file), 0, 0, NULL,
	  "PEM CA bundle to verify the server with; empty: the system's." },
	{ "batch_max_records", AX_OPT_INT, "500", 0, HEC(batch_max_records), 1, 100000, NULL,
	  "Most events in one request." },
	{ "batch_max_bytes", AX_OPT_SIZE, "1MiB", 0, HEC(batch_max_bytes), 1024, 104857600, NULL,
	  "Largest uncompressed request body." },
	{ "batch_timeout", AX_OPT_DURATION, "1s", 0, HEC(batch_timeout), 0, 3600000, NULL,
	  "Longest time an event may wait for its batch to fill; batching is the agent's, this output cuts each batch into requests by the two limits above." },
	{ "timeout", AX_OPT_DURATION, "30s", 0, HEC(timeout), 1000, 600000, NULL,
	  "Time limit of one HTTP request." },
	AX_OPTIONS_END,
};

const struct ax_option *const ax_hec_tables[] = { ax_output_common_options, hec_options, NULL };

/* A token goes into a header line: a control character or a space in it
 * would break or forge headers. The value itself is never echoed. */
static bool token_ok(const struct ax_secret *t)
{
	for (size_t i = 0; i < t->len; i++)
		if ((unsigned char)t->value[i] <= ' ' || t->value[i] == 0x7f)
			return false;
	return t->len > 0;
}

void ax_hec_validate(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct ax_hec_conf *c = conf;
	if (strncmp(c->url, "https://", 8) && strncmp(c->url, "http://", 7))
		ax_diag_add(diag, file, line, "url '%s' is not an http:// or https:// URL", c->url);
	if (c->token && !token_ok(c->token))
		ax_diag_add(diag, file, line, "token contains spaces or control characters (value not shown)");
}

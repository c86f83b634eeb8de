/* splunk_hec output: options and their validation. Sending comes with the
 * HTTP client; until then the type is configurable but cannot send. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "outputs/output.h"
#include "secret.h"

struct hec_conf {
	struct ax_output_common_conf common;
	char *url;
	struct ax_secret *token;
	char *index;
	char *sourcetype;
	char *source;
	int compress;
	bool ack;
	bool tls_verify;
	char *tls_ca_file;
	int64_t batch_max_records;
	uint64_t batch_max_bytes;
	int64_t batch_timeout;
	int64_t timeout;
};

static const char *const compress_values[] = { "gzip", "none", NULL };

#define HEC(field) offsetof(struct hec_conf, field)

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
	{ "compress", AX_OPT_ENUM, "gzip", 0, HEC(compress), 0, 0, compress_values,
	  "Compress request bodies." },
	{ "ack", AX_OPT_BOOL, "false", 0, HEC(ack), 0, 0, NULL,
	  "Use indexer acknowledgement: a batch counts as delivered only once Splunk acknowledges it." },
	{ "tls_verify", AX_OPT_BOOL, "true", 0, HEC(tls_verify), 0, 0, NULL,
	  "Verify the server certificate and host name." },
	{ "tls_ca_file", AX_OPT_STRING, "", 0, HEC(tls_ca_file), 0, 0, NULL,
	  "PEM CA bundle to verify the server with; empty: the system's." },
	{ "batch_max_records", AX_OPT_INT, "500", 0, HEC(batch_max_records), 1, 100000, NULL,
	  "Most events in one request." },
	{ "batch_max_bytes", AX_OPT_SIZE, "1MiB", 0, HEC(batch_max_bytes), 1024, 104857600, NULL,
	  "Largest uncompressed request body." },
	{ "batch_timeout", AX_OPT_DURATION, "1s", 0, HEC(batch_timeout), 0, 3600000, NULL,
	  "Longest time an event waits for its batch to fill." },
	{ "timeout", AX_OPT_DURATION, "30s", 0, HEC(timeout), 1000, 600000, NULL,
	  "Time limit of one HTTP request." },
	AX_OPTIONS_END,
};

static const struct ax_option *const hec_tables[] = { ax_output_common_options, hec_options, NULL };

static void validate_hec(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct hec_conf *c = conf;
	if (strncmp(c->url, "https://", 8) && strncmp(c->url, "http://", 7))
		ax_diag_add(diag, file, line, "url '%s' is not an http:// or https:// URL", c->url);
}

const struct ax_output_ops ax_output_splunk_hec = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "splunk_hec", "Splunk HTTP Event Collector (batched, gzip, indexer acknowledgement)",
		  hec_tables, sizeof(struct hec_conf), validate_hec },
};

#include "sources/source.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MS(field) offsetof(struct ax_ms_source_conf, field)
#define FILESRC(field) offsetof(struct ax_file_source_conf, field)
#define SEVEN_DAYS_MS (7LL * 86400000)

static const char *const cloud_values[] = { "commercial", "gcc", "gcc_high", "dod", NULL };
static const char *const content_type_values[] = {
	"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General",
	"DLP.All", NULL,
};
static const char *const graph_audit_logs[] = { "directoryAudits", "signIns", NULL };

static const struct ax_option ms_common_options[] = {
	{ "cloud", AX_OPT_ENUM, "commercial", 0, MS(cloud), 0, 0, cloud_values,
	  "Microsoft cloud the tenant lives in; selects the login and API hosts." },
	{ "tenant_id", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, MS(tenant_id), 0, 0, NULL,
	  "Directory (tenant) id of the Microsoft 365 organisation." },
	{ "client_id", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, MS(client_id), 0, 0, NULL,
	  "Application (client) id of the app registration annexa signs in as." },
	{ "client_secret", AX_OPT_SECRET, NULL, 0, MS(client_secret), 0, 0, NULL,
	  "Client secret of the app registration; or use certificate_file and private_key_file." },
	{ "certificate_file", AX_OPT_STRING, NULL, 0, MS(certificate_file), 0, 0, NULL,
	  "PEM certificate registered on the app, for certificate (client assertion) sign-in." },
	{ "private_key_file", AX_OPT_STRING, NULL, 0, MS(private_key_file), 0, 0, NULL,
	  "PEM private key belonging to certificate_file." },
	{ "poll_interval", AX_OPT_DURATION, "60s", 0, MS(poll_interval), 1000, 86400000, NULL,
	  "Time between two pulls when the source has caught up." },
	{ "backfill", AX_OPT_DURATION, "24h", 0, MS(backfill), 0, SEVEN_DAYS_MS, NULL,
	  "How far back the first run reads (the APIs keep at most 7 days)." },
	{ "login_url", AX_OPT_STRING, "", 0, MS(login_url), 0, 0, NULL,
	  "Override of the identity platform (scheme and host); empty: the cloud's." },
	{ "graph_url", AX_OPT_STRING, "", 0, MS(graph_url), 0, 0, NULL,
	  "Override of the Microsoft Graph endpoint (scheme and host); empty: the cloud's." },
	{ "proxy", AX_OPT_STRING, "", 0, MS(proxy), 0, 0, NULL,
	  "HTTP(S) proxy for every request of this source; empty: libcurl's environment variables." },
	{ "ca_file", AX_OPT_STRING, "", 0, MS(ca_file), 0, 0, NULL,
	  "PEM file of the certificate authorities to trust for the APIs (a TLS-inspecting proxy); empty: the system's." },
	{ "request_timeout", AX_OPT_DURATION, "120s", 0, MS(request_timeout), 1000, 3600000, NULL,
	  "Longest an API request may take (an answer slower than 1 KiB/s for 30 s is cut sooner); it is then retried." },
	{ "max_response_size", AX_OPT_SIZE, "256MiB", 0, MS(max_response_size), 1048576, 4294967295LL, NULL,
	  "Largest API answer read (a blob, a page); a larger blob is skipped with an evidence_gap record." },
	{ "dedup_ids", AX_OPT_INT, "1000000", 0, MS(dedup_ids), 1000, 100000000, NULL,
	  "Record ids remembered per content type or log (about 25 bytes each, kept in state_dir) to drop the repeats the API sends." },
	AX_OPTIONS_END,
};

static const struct ax_option o365_options[] = {
	{ "content_types", AX_OPT_LIST,
	  "Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All", 0,
	  MS(content_types), 0, 0, content_type_values,
	  "Management Activity API content types to subscribe to and pull." },
	{ "api_url", AX_OPT_STRING, "", 0, MS(api_url), 0, 0, NULL,
	  "Override of the Management Activity API endpoint (scheme and host); empty: the cloud's." },
	{ "publisher_id", AX_OPT_STRING, "", 0, MS(publisher_id), 0, 0, NULL,
	  "PublisherIdentifier sent on every API call (quota is counted per publisher); empty: the tenant id." },
	{ "list_overlap", AX_OPT_DURATION, "1h", 0, MS(list_overlap), 0, 21600000, NULL,
	  "Each content listing starts this long before the checkpoint, to find blobs listed late; blobs already read are skipped." },
	{ "parallel_fetches", AX_OPT_INT, "4", 0, MS(parallel_fetches), 1, 32, NULL,
	  "Blobs of one content type fetched at the same time." },
	{ "requests_per_minute", AX_OPT_INT, "1500", 0, MS(requests_per_minute), 1, 60000, NULL,
	  "Management API requests a minute for the tenant, spread evenly over its content types; Microsoft allows "
	  "about 2,000 per tenant, shared with every other tool reading it." },
	AX_OPTIONS_END,
};

static const struct ax_option graph_options[] = {
	{ "list_overlap", AX_OPT_DURATION, "5m", 0, MS(list_overlap), 0, 21600000, NULL,
	  "Each pull starts this long before the cursor, to find entries indexed late; entries already read are skipped." },
	{ "page_size", AX_OPT_INT, "500", 0, MS(page_size), 1, 1000, NULL,
	  "Entries asked for per Graph page ($top)." },
	AX_OPTIONS_END,
};

static const struct ax_option graph_alerts_options[] = {
	{ "requests_per_minute", AX_OPT_INT, "120", 0, MS(requests_per_minute), 1, 6000, NULL,
	  "Graph security API requests a minute for the app and tenant; Microsoft allows 150." },
	AX_OPTIONS_END,
};

static const struct ax_option graph_audit_options[] = {
	{ "logs", AX_OPT_LIST, "directoryAudits, signIns", 0, MS(logs), 0, 0, graph_audit_logs,
	  "Graph audit logs to pull." },
	{ "requests_per_minute", AX_OPT_INT, "24", 0, MS(requests_per_minute), 1, 6000, NULL,
	  "Graph audit log requests a minute for the app and tenant, spread evenly over its logs; Microsoft allows 5 "
	  "every 10 s." },
	AX_OPTIONS_END,
};

static const struct ax_option file_options[] = {
	{ "path", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, FILESRC(path), 0, 0, NULL,
	  "JSON-lines file (or glob) to read; \"-\" is standard input." },
	{ "follow", AX_OPT_BOOL, "false", 0, FILESRC(follow), 0, 0, NULL,
	  "Keep reading as the file grows (like tail -F); false: replay it once and stop." },
	{ "checkpoint", AX_OPT_BOOL, "true", 0, FILESRC(checkpoint), 0, 0, NULL,
	  "Keep each file's position (device, inode, offset past the last record safe in the spool) in state_dir and "
	  "resume there after a restart; a replay of a file already read then sends nothing. false: every run reads "
	  "the files from their start (a repeatable replay)." },
	AX_OPTIONS_END,
};

static void validate_ms(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct ax_ms_source_conf *c = conf;
	bool cert = c->certificate_file || c->private_key_file;
	if (c->client_secret && cert)
		ax_diag_add(diag, file, line, "give either client_secret(_file) or certificate_file + private_key_file, not both");
	else if (!c->client_secret && !cert)
		ax_diag_add(diag, file, line, "missing credentials: set client_secret_file, or certificate_file and private_key_file");
	else if (cert && !(c->certificate_file && c->private_key_file))
		ax_diag_add(diag, file, line, "certificate sign-in needs both certificate_file and private_key_file");
	const char *urls[] = { c->login_url, c->api_url, c->graph_url };
	for (size_t i = 0; i < 3; i++)
		if (urls[i] && urls[i][0] && strncmp(urls[i], "https://", 8) && strncmp(urls[i], "http://", 7))
			ax_diag_add(diag, file, line, "'%s' is not an http:// or https:// URL", urls[i]);
}

static const struct ax_option *const o365_tables[] = { ms_common_options, o365_options, NULL };
static const struct ax_option *const graph_alerts_tables[] = { ms_common_options, graph_options,
								 graph_alerts_options, NULL };
static const struct ax_option *const graph_audit_tables[] = { ms_common_options, graph_options, graph_audit_options,
								NULL };
static const struct ax_option *const file_tables[] = { file_options, NULL };

static const struct ax_conf_kind o365_kind = {
	"o365", "Office 365 Management Activity API (audit content types)",
	o365_tables, sizeof(struct ax_ms_source_conf), validate_ms,
};
static const struct ax_conf_kind graph_alerts_kind = {
	"graph_alerts", "Microsoft Graph security alerts (alerts_v2)",
	graph_alerts_tables, sizeof(struct ax_ms_source_conf), validate_ms,
};
static const struct ax_conf_kind graph_audit_kind = {
	"graph_audit", "Microsoft Graph audit logs (directoryAudits, signIns)",
	graph_audit_tables, sizeof(struct ax_ms_source_conf), validate_ms,
};
static const struct ax_conf_kind file_kind = {
	"file", "JSON-lines file, for replay and tests",
	file_tables, sizeof(struct ax_file_source_conf), NULL,
};

const struct ax_conf_kind *const ax_source_kinds[] = {
	&o365_kind, &graph_alerts_kind, &graph_audit_kind, &file_kind, NULL,
};

const struct ax_conf_kind *ax_source_kind_find(const char *name)
{
	for (size_t i = 0; ax_source_kinds[i]; i++)
		if (strcmp(ax_source_kinds[i]->name, name) == 0)
			return ax_source_kinds[i];
	return NULL;
}

void ax_source_kind_names(char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; ax_source_kinds[i] && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", ax_source_kinds[i]->name);
}

extern const struct ax_source_ops ax_source_file_ops;
extern const struct ax_source_ops ax_source_o365_ops;
extern const struct ax_source_ops ax_source_graph_alerts_ops;
extern const struct ax_source_ops ax_source_graph_audit_ops;

static const struct ax_source_ops *const source_ops[] = {
	&ax_source_file_ops, &ax_source_o365_ops, &ax_source_graph_alerts_ops, &ax_source_graph_audit_ops, NULL,
};

const struct ax_source_ops *ax_source_ops_find(const char *type)
{
	for (size_t i = 0; source_ops[i]; i++)
		if (strcmp(source_ops[i]->type, type) == 0)
			return source_ops[i];
	return NULL;
}

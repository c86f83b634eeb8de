/* syslog output: options and their validation. Sending comes with the
 * transport code; until then the type is configurable but cannot send. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "outputs/output.h"

struct syslog_conf {
	struct ax_output_common_conf common;
	char *address;
	int format;
	int framing;
	int payload;
	bool tls_verify;
	char *tls_ca_file;
	char *tls_cert_file;
	char *tls_key_file;
	char *app_name;
	int facility;
};

static const char *const format_values[] = { "rfc5424", "rfc3164", NULL };
static const char *const framing_values[] = { "octet_counting", "lf", NULL };
static const char *const payload_values[] = { "json", "cef", "leef", NULL };
static const char *const facility_values[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7", NULL,
};

#define SYSLOG(field) offsetof(struct syslog_conf, field)

static const struct ax_option syslog_options[] = {
	{ "address", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, SYSLOG(address), 0, 0, NULL,
	  "Receiver as udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT." },
	{ "format", AX_OPT_ENUM, "rfc5424", 0, SYSLOG(format), 0, 0, format_values,
	  "Syslog message format." },
	{ "framing", AX_OPT_ENUM, "octet_counting", 0, SYSLOG(framing), 0, 0, framing_values,
	  "Message framing on tcp:// and tls:// (RFC 6587): octet counting or one message a line." },
	{ "payload", AX_OPT_ENUM, "json", 0, SYSLOG(payload), 0, 0, payload_values,
	  "Message body: the enriched JSON record, or CEF or LEEF with the ISO fields mapped." },
	{ "tls_verify", AX_OPT_BOOL, "true", 0, SYSLOG(tls_verify), 0, 0, NULL,
	  "Verify the receiver's certificate and host name on tls://." },
	{ "tls_ca_file", AX_OPT_STRING, "", 0, SYSLOG(tls_ca_file), 0, 0, NULL,
	  "PEM CA bundle to verify the receiver with; empty: the system's." },
	{ "tls_cert_file", AX_OPT_STRING, "", 0, SYSLOG(tls_cert_file), 0, 0, NULL,
	  "PEM client certificate for receivers that require one." },
	{ "tls_key_file", AX_OPT_STRING, "", 0, SYSLOG(tls_key_file), 0, 0, NULL,
	  "PEM private key of tls_cert_file." },
	{ "app_name", AX_OPT_STRING, "annexa", 0, SYSLOG(app_name), 0, 0, NULL,
	  "APP-NAME (RFC 5424) or TAG (RFC 3164) of every message." },
	{ "facility", AX_OPT_ENUM, "local0", 0, SYSLOG(facility), 0, 0, facility_values,
	  "Syslog facility; the severity comes from each record." },
	AX_OPTIONS_END,
};

static const struct ax_option *const syslog_tables[] = { ax_output_common_options, syslog_options, NULL };

static void validate_syslog(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct syslog_conf *c = conf;
	static const char *const schemes[] = { "udp://", "tcp://", "tls://" };
	bool known = false;
	for (size_t i = 0; i < 3; i++)
		known = known || strncmp(c->address, schemes[i], strlen(schemes[i])) == 0;
	if (!known || !strrchr(c->address + 6, ':'))
		ax_diag_add(diag, file, line, "address '%s' must look like udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT", c->address);
	if (!!c->tls_cert_file[0] != !!c->tls_key_file[0])
		ax_diag_add(diag, file, line, "tls_cert_file and tls_key_file go together");
}

const struct ax_output_ops ax_output_syslog = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "syslog", "syslog (RFC 5424 / RFC 3164) over UDP, TCP or TLS", syslog_tables,
		  sizeof(struct syslog_conf), validate_syslog },
};

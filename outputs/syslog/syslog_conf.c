/* syslog output: options and their validation. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "outputs/syslog/syslog.h"
#include "outputs/syslog/syslog_transport.h"

static const char *const format_values[] = { "rfc5424", "rfc3164", NULL };
static const char *const framing_values[] = { "octet_counting", "lf", NULL };
static const char *const payload_values[] = { "json", "cef", "leef", NULL };
static const char *const oversize_values[] = { "reject", "truncate", NULL };
static const char *const facility_values[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7", NULL,
};

#define SYSLOG(field) offsetof(struct syslog_conf, field)

static const struct ax_option syslog_options[] = {
	{ "address", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, SYSLOG(address), 0, 0, NULL,
	  "Receiver as udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT ([IPv6]:PORT for IPv6 addresses)." },
	{ "format", AX_OPT_ENUM, "rfc5424", 0, SYSLOG(format), 0, 0, format_values,
	  "Syslog message format. rfc5424 also carries the ISO controls, category, severity and rule as structured data (see sd_id)." },
	{ "framing", AX_OPT_ENUM, "octet_counting", 0, SYSLOG(framing), 0, 0, framing_values,
	  "Message framing on tcp:// and tls:// (RFC 6587): octet counting, or one message a line (a line feed inside a message is then sent as a space, which keeps JSON valid)." },
	{ "payload", AX_OPT_ENUM, "json", 0, SYSLOG(payload), 0, 0, payload_values,
	  "Message body: the enriched JSON record, or CEF or LEEF 2.0 with the ISO fields mapped to standard keys (table in outputs/syslog/README.md)." },
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
	  "Syslog facility; the severity comes from each record (critical: crit, high: err, medium: warning, low: notice, informational: info)." },
	{ "hostname", AX_OPT_STRING, "", 0, SYSLOG(hostname), 0, 0, NULL,
	  "HOSTNAME of every message; empty: [agent] host, or else the machine's host name." },
	{ "sd_id", AX_OPT_STRING, "iso27001@32473", 0, SYSLOG(sd_id), 0, 0, NULL,
	  "SD-ID of the RFC 5424 structured-data element (NAME@PRIVATE-ENTERPRISE-NUMBER); 32473 is the IANA example number, use your organisation's." },
	{ "udp_max_size", AX_OPT_SIZE, "8KiB", 0, SYSLOG(udp_max_size), 480, 65507, NULL,
	  "Largest datagram on udp://. The default is what rsyslog accepts out of the box; larger datagrams are IP-fragmented, and one lost fragment loses the message." },
	{ "oversize", AX_OPT_ENUM, "reject", 0, SYSLOG(oversize), 0, 0, oversize_values,
	  "A message longer than udp_max_size goes to the dead-letter file (reject), or is sent with its body cut to fit (truncate); both are counted and logged." },
	{ "connect_timeout", AX_OPT_DURATION, "10s", 0, SYSLOG(connect_timeout), 100, 300000, NULL,
	  "Time limit to connect to the receiver, TLS handshake included." },
	{ "write_timeout", AX_OPT_DURATION, "30s", 0, SYSLOG(write_timeout), 100, 600000, NULL,
	  "Time limit to write one batch on tcp:// and tls://; past it the connection is closed and the batch sent again." },
	AX_OPTIONS_END,
};

const struct ax_option *const ax_syslog_tables[] = { ax_output_common_options, syslog_options, NULL };

static bool printusascii(const char *s, size_t max)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126)
			return false;
	return n <= max;
}

/* RFC 5424 §6.3.2: SD-NAME is 1*32 PRINTUSASCII except '=', SP, ']' and
 * '"'; IDs without '@' are reserved for IANA, so ours is NAME@NUMBER. */
static bool valid_sd_id(const char *id)
{
	const char *at = strchr(id, '@');
	if (!at || at == id || !at[1] || !printusascii(id, 32) || strpbrk(id, "=]\""))
		return false;
	return strspn(at + 1, "0123456789.") == strlen(at + 1);
}

static void validate_tls(const struct syslog_conf *c, bool tls, const char *file, int line,
			 struct ax_diag *diag)
{
	if (!!c->tls_cert_file[0] != !!c->tls_key_file[0])
		ax_diag_add(diag, file, line, "tls_cert_file and tls_key_file go together");
	if (!tls && (c->tls_ca_file[0] || c->tls_cert_file[0]))
		ax_diag_add(diag, file, line, "tls_ca_file, tls_cert_file and tls_key_file need a tls:// address, not '%s'", c->address);
}

void ax_syslog_validate(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct syslog_conf *c = conf;
	struct ax_syslog_peer peer;
	char why[200];
	if (ax_syslog_address_parse(c->address, &peer, why, sizeof(why)))
		ax_diag_add(diag, file, line, "%s", why);
	else
		validate_tls(c, peer.proto == AX_SYSLOG_TLS, file, line, diag);
	if (!c->app_name[0] || !printusascii(c->app_name, 48))
		ax_diag_add(diag, file, line, "app_name '%s' must be 1 to 48 printable ASCII characters without spaces", c->app_name);
	if (!printusascii(c->hostname, 255))
		ax_diag_add(diag, file, line, "hostname '%s' must be at most 255 printable ASCII characters without spaces", c->hostname);
	if (!valid_sd_id(c->sd_id))
		ax_diag_add(diag, file, line, "sd_id '%s' must look like NAME@NUMBER (at most 32 printable ASCII characters, no '=', ']', '\"' or space), e.g. iso27001@32473", c->sd_id);
}

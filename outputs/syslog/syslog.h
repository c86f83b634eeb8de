/* syslog.h - the syslog output's configuration, shared by its files.
 *
 * syslog_conf.c owns the option table; syslog.c the module (create, send,
 * health, destroy); syslog_format.c and syslog_payload.c turn a record into
 * a message; syslog_transport.c and syslog_tls.c carry it. */
#ifndef AX_OUTPUTS_SYSLOG_SYSLOG_H
#define AX_OUTPUTS_SYSLOG_SYSLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "outputs/output.h"

/* Indexes of the enum options, in the order of their values. */
enum syslog_format_kind { SYSLOG_RFC5424, SYSLOG_RFC3164 };
enum syslog_framing_kind { SYSLOG_OCTET_COUNTING, SYSLOG_LF };
enum syslog_payload_kind { SYSLOG_JSON, SYSLOG_CEF, SYSLOG_LEEF };
enum syslog_oversize_kind { SYSLOG_OVERSIZE_REJECT, SYSLOG_OVERSIZE_TRUNCATE };

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
	char *hostname;
	char *sd_id;
	uint64_t udp_max_size;
	int oversize;
	int64_t connect_timeout; /* ms */
	int64_t write_timeout;   /* ms */
};

extern const struct ax_option *const ax_syslog_tables[];
void ax_syslog_validate(const void *conf, const char *file, int line, struct ax_diag *diag);

#endif

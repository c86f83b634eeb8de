/* syslog_tls.h - TLS (RFC 5425) for the syslog transport, with OpenSSL.
 *
 * TLS 1.2 at least; the receiver's certificate chain and its host name (or
 * IP address) are verified unless verification is turned off. The socket
 * stays non-blocking: every OpenSSL call that would block waits in poll()
 * up to the caller's deadline. */
#ifndef AX_OUTPUTS_SYSLOG_SYSLOG_TLS_H
#define AX_OUTPUTS_SYSLOG_SYSLOG_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "outputs/syslog/syslog_transport.h"

struct ax_syslog_tls;
struct ax_syslog_tls_session;

/* Loads the CA, the client certificate and key; NULL with why set. */
struct ax_syslog_tls *ax_syslog_tls_create(const struct ax_syslog_tls_conf *conf, char *why,
					   size_t why_len);
void ax_syslog_tls_destroy(struct ax_syslog_tls *tls);

/* Handshake over the connected socket fd with the receiver named host.
 * NULL with why set (the verification error included) on failure; the
 * caller keeps fd either way. */
struct ax_syslog_tls_session *ax_syslog_tls_connect(struct ax_syslog_tls *tls, int fd,
						    const char *host, int64_t deadline_ms,
						    char *why, size_t why_len);
ax_err ax_syslog_tls_write(struct ax_syslog_tls_session *s, const char *data, size_t len,
			   int64_t deadline_ms, char *why, size_t why_len) AX_WARN_UNUSED;
/* False when the receiver closed the session (or sent an alert). */
bool ax_syslog_tls_alive(struct ax_syslog_tls_session *s);
/* Sends close_notify without waiting for the answer, frees the session. */
void ax_syslog_tls_close(struct ax_syslog_tls_session *s);

#endif

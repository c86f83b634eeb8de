/* syslog_transport.h - carrying syslog messages over UDP, TCP or TLS.
 *
 * A transport is created from the receiver's address without network I/O
 * (TLS settings are loaded then, so a bad CA file fails at startup), then
 * connected and reconnected by the module as needed. Sockets are
 * non-blocking; every wait is a poll() bounded by the caller's deadline
 * (CLOCK_MONOTONIC milliseconds).
 *
 * Delivery: on a stream a send returns once every byte was handed to the
 * kernel; syslog has no application acknowledgement, so bytes in flight
 * when a connection dies are lost, which is why a stream is checked for a
 * close by the receiver before each send. UDP is best effort: a datagram
 * the network drops is not noticed. */
#ifndef AX_OUTPUTS_SYSLOG_SYSLOG_TRANSPORT_H
#define AX_OUTPUTS_SYSLOG_SYSLOG_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum ax_syslog_proto { AX_SYSLOG_UDP, AX_SYSLOG_TCP, AX_SYSLOG_TLS };

struct ax_syslog_peer {
	enum ax_syslog_proto proto;
	char host[256];
	char port[6];
};

struct ax_syslog_tls_conf {
	bool verify;
	const char *ca_file;   /* "": the system's CA store */
	const char *cert_file; /* "": no client certificate */
	const char *key_file;
};

/* Parses udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (HOST may be
 * [IPv6]). On failure why says what is wrong. */
ax_err ax_syslog_address_parse(const char *address, struct ax_syslog_peer *peer, char *why,
			       size_t why_len) AX_WARN_UNUSED;

struct ax_syslog_transport;

/* NULL with why set when the TLS settings cannot be used. */
struct ax_syslog_transport *ax_syslog_transport_create(const struct ax_syslog_peer *peer,
						       const struct ax_syslog_tls_conf *tls,
						       char *why, size_t why_len);
/* NULL-safe; ends the connection: on a stream, once the receiver read
 * everything (it closed its side too) or after 2 s. */
void ax_syslog_transport_destroy(struct ax_syslog_transport *t);
/* True when connected and, on a stream, the receiver has not closed it. */
bool ax_syslog_transport_ready(struct ax_syslog_transport *t);
ax_err ax_syslog_transport_connect(struct ax_syslog_transport *t, int64_t deadline_ms, char *why,
				   size_t why_len) AX_WARN_UNUSED;
void ax_syslog_transport_close(struct ax_syslog_transport *t);
/* Sends the messages data[ends[i-1]..ends[i]): on UDP one datagram each,
 * on a stream all bytes in order. On failure the connection is closed
 * (a stream may have carried part of the data) and why says what failed. */
ax_err ax_syslog_transport_send(struct ax_syslog_transport *t, const char *data,
				const size_t *ends, size_t count, int64_t deadline_ms, char *why,
				size_t why_len) AX_WARN_UNUSED;

/* For syslog_tls.c: waits until fd is ready for events (POLLIN, POLLOUT)
 * or the deadline passes (AX_ERR_AGAIN). */
ax_err ax_syslog_wait_fd(int fd, short events, int64_t deadline_ms) AX_WARN_UNUSED;
int64_t ax_syslog_monotonic_ms(void);

#endif

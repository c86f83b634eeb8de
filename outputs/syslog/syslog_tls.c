/* syslog over TLS with OpenSSL (see the header). */
#include "outputs/syslog/syslog_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* How long a receiver that asked for a client certificate may take to say
 * it accepted it, when it sends no session ticket to say so. */
#define CLIENT_AUTH_QUIET_MS 1000

struct ax_syslog_tls {
	SSL_CTX *ctx;
};

struct ax_syslog_tls_session {
	SSL *ssl;
	int fd;
	bool cert_requested; /* the receiver sent a CertificateRequest */
	bool ticket;         /* ... and a NewSessionTicket since */
};

/* The oldest error OpenSSL queued (the cause), then the queue cleared. */
static void openssl_reason(char *out, size_t len)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, out, len);
	else
		snprintf(out, len, "no detail from OpenSSL");
	ERR_clear_error();
}

static bool load_files(SSL_CTX *ctx, const struct ax_syslog_tls_conf *c, char *why, size_t why_len)
{
	char reason[200];
	const char *what = NULL, *file = NULL;
	if (c->ca_file[0] && !SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL))
		what = "CA file", file = c->ca_file;
	else if (!c->ca_file[0] && !SSL_CTX_set_default_verify_paths(ctx))
		what = "system CA store", file = "";
	else if (c->cert_file[0] && !SSL_CTX_use_certificate_chain_file(ctx, c->cert_file))
		what = "client certificate", file = c->cert_file;
	else if (c->key_file[0] && (!SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) ||
				    !SSL_CTX_check_private_key(ctx)))
		what = "client key", file = c->key_file;
	if (!what)
		return true;
	openssl_reason(reason, sizeof(reason));
	snprintf(why, why_len, "cannot load the %s %s: %s", what, file, reason);
	return false;
}

static int on_cert_request(SSL *ssl, void *arg)
{
	(void)arg;
	struct ax_syslog_tls_session *s = SSL_get_app_data(ssl);
	s->cert_requested = true;
	return 1;
}

static int on_ticket(SSL *ssl, SSL_SESSION *session)
{
	(void)session;
	struct ax_syslog_tls_session *s = SSL_get_app_data(ssl);
	s->ticket = true;
	return 0; /* not kept: annexa does not resume sessions */
}

struct ax_syslog_tls *ax_syslog_tls_create(const struct ax_syslog_tls_conf *conf, char *why,
					   size_t why_len)
{
	struct ax_syslog_tls *tls = calloc(1, sizeof(*tls));
	if (!tls || !(tls->ctx = SSL_CTX_new(TLS_client_method()))) {
		snprintf(why, why_len, "cannot set up TLS: out of memory");
		free(tls);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(tls->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(tls->ctx, conf->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_cert_cb(tls->ctx, on_cert_request, NULL);
	SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(tls->ctx, on_ticket);
	if (!load_files(tls->ctx, conf, why, why_len)) {
		ax_syslog_tls_destroy(tls);
		return NULL;
	}
	return tls;
}

void ax_syslog_tls_destroy(struct ax_syslog_tls *tls)
{
	if (!tls)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls);
}

/* The name the certificate must carry: an IP address is matched against
 * the iPAddress entries, a host name against the DNS names (and sent as SNI). */
static bool expect_peer(SSL *ssl, const char *host)
{
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
	return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
}

/* After an OpenSSL call returned ret: waits for what it asked for
 * (AX_OK: call again), or says why it failed (AX_ERR_AGAIN: the deadline). */
static ax_err wait_for(const struct ax_syslog_tls_session *s, int ret, int64_t deadline_ms,
		       char *reason, size_t len)
{
	int e = SSL_get_error(s->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (ax_syslog_wait_fd(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms) == AX_OK)
			return AX_OK;
		snprintf(reason, len, "timed out");
		return AX_ERR_AGAIN;
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(reason, len, "%s", errno ? strerror(errno) : "connection closed by the receiver");
	else if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(reason, len, "connection closed by the receiver");
	else
		openssl_reason(reason, len);
	return AX_ERR_IO;
}

/* TLS 1.3 ends the handshake for the client before the receiver has
 * checked the client's certificate: a receiver that refuses it answers with
 * an alert after our first bytes, which would be lost while the send looked
 * fine. So when a certificate was asked for, wait for the receiver's session
 * ticket (accepted) or alert (refused). */
static ax_err confirm_client_auth(struct ax_syslog_tls_session *s, int64_t deadline_ms,
				  char *reason, size_t len)
{
	if (!s->cert_requested || SSL_version(s->ssl) < TLS1_3_VERSION)
		return AX_OK;
	int64_t quiet = ax_syslog_monotonic_ms() + CLIENT_AUTH_QUIET_MS;
	deadline_ms = quiet < deadline_ms ? quiet : deadline_ms;
	while (!s->ticket) {
		char scratch[256];
		size_t n;
		int ret = SSL_read_ex(s->ssl, scratch, sizeof(scratch), &n);
		if (ret == 1)
			continue; /* a receiver that talks has accepted us */
		ax_err err = wait_for(s, ret, deadline_ms, reason, len);
		if (err == AX_ERR_AGAIN)
			return AX_OK; /* no ticket, no alert: accepted, silently */
		if (err)
			return err;
	}
	return AX_OK;
}

static void handshake_failure(const struct ax_syslog_tls_session *s, const char *host,
			      const char *reason, char *why, size_t why_len)
{
	long verify = SSL_get_verify_result(s->ssl);
	if (verify != X509_V_OK)
		snprintf(why, why_len, "TLS handshake with %s failed: certificate verification: %s",
			 host, X509_verify_cert_error_string(verify));
	else
		snprintf(why, why_len, "TLS handshake with %s failed: %s", host, reason);
}

struct ax_syslog_tls_session *ax_syslog_tls_connect(struct ax_syslog_tls *tls, int fd,
						    const char *host, int64_t deadline_ms,
						    char *why, size_t why_len)
{
	/* OpenSSL writes with write(): a receiver that closed raises SIGPIPE,
	 * which annexa ignores (cmd_run.c) to see EPIPE instead. */
	struct ax_syslog_tls_session *s = calloc(1, sizeof(*s));
	if (!s || !(s->ssl = SSL_new(tls->ctx)) || !SSL_set_fd(s->ssl, fd) || !expect_peer(s->ssl, host)) {
		snprintf(why, why_len, "cannot set up a TLS session for %s", host);
		ax_syslog_tls_close(s);
		return NULL;
	}
	s->fd = fd;
	SSL_set_app_data(s->ssl, s);
	ERR_clear_error();
	errno = 0;
	char reason[200];
	for (;;) {
		int ret = SSL_connect(s->ssl);
		if (ret == 1 && confirm_client_auth(s, deadline_ms, reason, sizeof(reason)) == AX_OK)
			return s;
		if (ret == 1 || wait_for(s, ret, deadline_ms, reason, sizeof(reason)))
			break;
	}
	handshake_failure(s, host, reason, why, why_len);
	ax_syslog_tls_close(s);
	return NULL;
}

ax_err ax_syslog_tls_write(struct ax_syslog_tls_session *s, const char *data, size_t len,
			   int64_t deadline_ms, char *why, size_t why_len)
{
	char reason[200];
	ERR_clear_error();
	errno = 0;
	for (size_t off = 0; off < len;) {
		size_t n = 0;
		int ret = SSL_write_ex(s->ssl, data + off, len - off, &n);
		if (ret == 1)
			off += n;
		else if (wait_for(s, ret, deadline_ms, reason, sizeof(reason))) {
			snprintf(why, why_len, "TLS write failed: %s", reason);
			return AX_ERR_IO;
		}
	}
	return AX_OK;
}

/* A receiver sends nothing but session tickets (TLS 1.3), a close_notify
 * or an alert: reading without blocking tells which. */
bool ax_syslog_tls_alive(struct ax_syslog_tls_session *s)
{
	char scratch[256];
	size_t n;
	ERR_clear_error();
	int ret = SSL_read_ex(s->ssl, scratch, sizeof(scratch), &n);
	if (ret == 1)
		return true;
	bool alive = SSL_get_error(s->ssl, ret) == SSL_ERROR_WANT_READ;
	ERR_clear_error();
	return alive;
}

void ax_syslog_tls_close(struct ax_syslog_tls_session *s)
{
	if (!s)
		return;
	if (s->ssl) {
		SSL_shutdown(s->ssl); /* non-blocking: close_notify if it fits, no waiting */
		SSL_free(s->ssl);
	}
	ERR_clear_error();
	free(s);
}

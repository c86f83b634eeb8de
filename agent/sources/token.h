/* token.h - OAuth2 client credentials against the Microsoft identity
 * platform (v2 endpoint), with a client secret or a certificate.
 *
 * The certificate flow signs a JWT client assertion (PS256, x5t#S256, as
 * Microsoft documents it since 2025) with OpenSSL. A token is cached and
 * renewed before it expires (lifetimes vary from 60 to 90 minutes, and
 * expires_in may come as a string); after a 401 the caller invalidates it
 * and retries once. The token never reaches a log. */
#ifndef AX_AGENT_SOURCES_TOKEN_H
#define AX_AGENT_SOURCES_TOKEN_H

#include <stdint.h>

#include "err.h"
#include "secret.h"
#include "sources/http.h"

struct ax_token_conf {
	const char *token_url; /* {login_url}/{tenant}/oauth2/v2.0/token */
	const char *client_id;
	const char *scope;     /* e.g. https://manage.office.com/.default */
	const struct ax_secret *client_secret; /* or: */
	const char *certificate_file;          /* PEM certificate registered on the app */
	const char *private_key_file;          /* its PEM private key */
};

struct ax_token_client;

/* Reads the certificate and key when given; NULL with why on failure. */
struct ax_token_client *ax_token_client_create(const struct ax_token_conf *conf, char *why, size_t len);
void ax_token_client_destroy(struct ax_token_client *tc);

/* The "Authorization: Bearer …" header line, requesting a token when the
 * cached one is missing or near its end. NULL on failure, with why (no
 * secret in it) and *err: AX_ERR_AGAIN for transient failures (network,
 * 5xx, temporarily_unavailable), AX_ERR_CONFIG when only the operator can
 * fix it (wrong secret, unknown tenant or app, missing consent). */
const char *ax_token_header(struct ax_token_client *tc, struct ax_http *http, ax_err *err,
			    char *why, size_t len);
/* Takes the token endpoint's answer (HTTP status, NUL-terminated body)
 * as ax_token_header does: the part the network does not reach, for the
 * fuzzers. */
ax_err ax_token_read_answer(struct ax_token_client *tc, long status, const char *body, size_t body_len,
			    char *why, size_t len) AX_WARN_UNUSED;
/* Forgets the cached token (the API answered 401). */
void ax_token_invalidate(struct ax_token_client *tc);
/* Seconds the cached token has left (negative: none); for metrics and tests. */
int64_t ax_token_remaining(const struct ax_token_client *tc);
/* When the certificate signed in with expires, epoch seconds; 0: a client secret. */
int64_t ax_token_certificate_expiry(const struct ax_token_client *tc);

#endif

#include "sources/token.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#define MAX_TOKEN_RESPONSE (64u << 10)
#define ASSERTION_LIFETIME_S 600
#define RENEW_MARGIN_S 300
#define MAX_LIFE_S (24 * 3600) /* no Microsoft token lives longer */

struct ax_token_client {
	struct ax_token_conf conf; /* strings borrowed from the config */
	EVP_PKEY *key;
	char x5t_s256[64];
	int64_t not_after;        /* the certificate's end, epoch s; 0: a secret */
	struct ax_secret *header; /* "Authorization: Bearer …" */
	int64_t renew_at, expires_at;
};

/* ---- base64url ---- */

static size_t b64url(char *out, const unsigned char *in, size_t len)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[n] = '\0';
	return (size_t)n;
}

/* ---- certificate and key ---- */

static bool read_thumbprint(struct ax_token_client *tc, char *why, size_t len)
{
	FILE *f = fopen(tc->conf.certificate_file, "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!cert) {
		snprintf(why, len, "cannot read a PEM certificate from %s", tc->conf.certificate_file);
		return false;
	}
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	struct tm end;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &end) == 1)
		tc->not_after = (int64_t)timegm(&end);
	bool ok = X509_digest(cert, EVP_sha256(), digest, &n) == 1;
	X509_free(cert);
	if (ok)
		b64url(tc->x5t_s256, digest, n);
	else
		snprintf(why, len, "cannot hash the certificate %s", tc->conf.certificate_file);
	return ok;
}

static bool read_key(struct ax_token_client *tc, char *why, size_t len)
{
	FILE *f = fopen(tc->conf.private_key_file, "r");
	tc->key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!tc->key || EVP_PKEY_base_id(tc->key) != EVP_PKEY_RSA) {
		snprintf(why, len, "cannot read an RSA private key (PEM, unencrypted) from %s", tc->conf.private_key_file);
		return false;
	}
	return true;
}

struct ax_token_client *ax_token_client_create(const struct ax_token_conf *conf, char *why, size_t len)
{
	struct ax_token_client *tc = calloc(1, sizeof(*tc));
	if (!tc) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	tc->conf = *conf;
	if (conf->certificate_file && (!read_thumbprint(tc, why, len) || !read_key(tc, why, len))) {
		ax_token_client_destroy(tc);
		return NULL;
	}
	return tc;
}

void ax_token_client_destroy(struct ax_token_client *tc)
{
	if (!tc)
		return;
	EVP_PKEY_free(tc->key);
	ax_secret_free(tc->header);
	free(tc);
}

/* ---- client assertion (RFC 7523) ---- */

static void new_guid(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b)); /* jti only has to be unique enough; time is in it too */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static bool sign_ps256(EVP_PKEY *key, const char *input, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = md && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
		  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
		  EVP_DigestSign(md, sig, siglen, (const unsigned char *)input, strlen(input)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* header.claims.signature, each base64url. */
static ax_err build_assertion(const struct ax_token_client *tc, struct ax_buf *out)
{
	char header[160], claims[1024], guid[37], enc[1400];
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	long long now = (long long)time(NULL);
	new_guid(guid);
	snprintf(header, sizeof(header), "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"%s\"}", tc->x5t_s256);
	int n = snprintf(claims, sizeof(claims),
			 "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\",\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}",
			 tc->conf.token_url, tc->conf.client_id, tc->conf.client_id, guid, now, now,
			 now + ASSERTION_LIFETIME_S);
	if (n < 0 || (size_t)n >= sizeof(claims))
		return AX_ERR_TOO_LARGE;
	ax_buf_clear(out);
	b64url(enc, (const unsigned char *)header, strlen(header));
	ax_err err = ax_buf_adds(out, enc);
	b64url(enc, (const unsigned char *)claims, (size_t)n);
	if (!err)
		err = ax_buf_addf(out, ".%s", enc);
	if (!err)
		err = ax_buf_cstr(out);
	if (!err && !sign_ps256(tc->key, out->data, sig, &siglen))
		err = AX_ERR_IO;
	if (!err && siglen * 4 / 3 + 4 >= sizeof(enc))
		err = AX_ERR_TOO_LARGE;
	if (!err) {
		b64url(enc, sig, siglen);
		err = ax_buf_addf(out, ".%s", enc);
	}
	return err;
}

/* ---- the token request ---- */

static ax_err add_field(struct ax_http *http, struct ax_buf *b, const char *name, const char *value)
{
	ax_err err = ax_buf_addf(b, "%s%s=", b->len ? "&" : "", name);
	return err ? err : ax_http_add_escaped(http, b, value);
}

static ax_err build_form(const struct ax_token_client *tc, struct ax_http *http, struct ax_buf *form)
{
	struct ax_buf assertion;
	ax_buf_init(&assertion, 16u << 10);
	ax_err err = add_field(http, form, "grant_type", "client_credentials");
	if (!err)
		err = add_field(http, form, "client_id", tc->conf.client_id);
	if (!err)
		err = add_field(http, form, "scope", tc->conf.scope);
	if (!err && tc->key) {
		err = build_assertion(tc, &assertion);
		if (!err)
			err = add_field(http, form, "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
		if (!err)
			err = add_field(http, form, "client_assertion", assertion.data);
	} else if (!err) {
		err = add_field(http, form, "client_secret", tc->conf.client_secret->value);
	}
	ax_buf_finish(&assertion);
	return err;
}

static yajl_val member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	return yajl_tree_get(obj, path, yajl_t_any);
}

/* expires_in: a number, or a numeric string (v1 style). */
static int64_t expires_in(yajl_val v)
{
	if (YAJL_IS_INTEGER(v))
		return YAJL_GET_INTEGER(v);
	if (YAJL_IS_STRING(v)) {
		char *end;
		long long s = strtoll(v->u.string, &end, 10);
		return end != v->u.string && *end == '\0' ? s : -1;
	}
	return -1;
}

static bool store_token(struct ax_token_client *tc, yajl_val root)
{
	yajl_val token = member(root, "access_token");
	int64_t life = expires_in(member(root, "expires_in"));
	if (!YAJL_IS_STRING(token) || life <= 0)
		return false;
	size_t n = strlen(token->u.string) + sizeof("Authorization: Bearer ");
	char *line = malloc(n);
	if (!line)
		return false;
	snprintf(line, n, "Authorization: Bearer %s", token->u.string);
	explicit_bzero(token->u.string, n - sizeof("Authorization: Bearer ")); /* yajl's copy */
	ax_secret_free(tc->header);
	tc->header = ax_secret_new(line, n - 1);
	explicit_bzero(line, n);
	free(line);
	int64_t now = (int64_t)time(NULL);
	if (life > MAX_LIFE_S) /* a hostile or broken answer must not overflow the clock */
		life = MAX_LIFE_S;
	int64_t margin = life / 5 < RENEW_MARGIN_S ? life / 5 : RENEW_MARGIN_S;
	tc->expires_at = now + life;
	tc->renew_at = now + life - margin;
	return tc->header != NULL;
}

/* The identity platform's error: "invalid_client (AADSTS7000215): …". */
static ax_err describe_error(const struct ax_http_response *r, yajl_val root, char *why, size_t len)
{
	yajl_val error = member(root, "error"), desc = member(root, "error_description");
	const char *code = YAJL_IS_STRING(error) ? error->u.string : "";
	bool transient = r->status >= 500 || r->status == 429 || r->status == 408 ||
			 strcmp(code, "temporarily_unavailable") == 0;
	if (*code) {
		const char *d = YAJL_IS_STRING(desc) ? desc->u.string : "";
		size_t dl = strcspn(d, "\r\n"); /* the first line names the AADSTS code and the problem */
		snprintf(why, len, "token request refused (HTTP %ld): %s: %.*s", r->status, code, (int)(dl < 300 ? dl : 300), d);
	} else {
		snprintf(why, len, "token request failed: HTTP %ld", r->status);
	}
	return transient ? AX_ERR_AGAIN : AX_ERR_CONFIG;
}

static ax_err read_answer(struct ax_token_client *tc, const struct ax_http_response *resp, char *why, size_t len)
{
	yajl_val root = yajl_tree_parse(resp->body.data, NULL, 0);
	ax_err err = AX_OK;
	if (resp->status != 200) {
		err = describe_error(resp, root, why, len);
	} else if (!root || !store_token(tc, root)) {
		snprintf(why, len, "token endpoint %s: no access_token/expires_in in its answer", tc->conf.token_url);
		err = AX_ERR_AGAIN;
	}
	yajl_tree_free(root);
	return err;
}

ax_err ax_token_read_answer(struct ax_token_client *tc, long status, const char *body, size_t body_len,
			    char *why, size_t len)
{
	struct ax_http_response r = { .status = status, .body = { .data = (char *)body, .len = body_len } };
	return read_answer(tc, &r, why, len);
}

static ax_err request_token(struct ax_token_client *tc, struct ax_http *http, char *why, size_t len)
{
	struct ax_buf form;
	struct ax_http_response resp;
	ax_buf_init(&form, 32u << 10);
	ax_http_response_init(&resp, MAX_TOKEN_RESPONSE);
	ax_err err = build_form(tc, http, &form);
	if (err)
		snprintf(why, len, "cannot build the token request: %s", ax_strerror(err));
	else if ((err = ax_http_request(http, tc->conf.token_url, NULL, "application/x-www-form-urlencoded",
					form.data, form.len, &resp)))
		snprintf(why, len, "token endpoint %s: %s", tc->conf.token_url, resp.error);
	explicit_bzero(form.data, form.cap);
	ax_buf_finish(&form);
	if (!err) {
		err = read_answer(tc, &resp, why, len);
		explicit_bzero(resp.body.data, resp.body.cap);
	} else if (err != AX_ERR_NOMEM) {
		err = AX_ERR_AGAIN;
	}
	ax_http_response_finish(&resp);
	return err;
}

const char *ax_token_header(struct ax_token_client *tc, struct ax_http *http, ax_err *err,
			    char *why, size_t len)
{
	*err = AX_OK;
	int64_t now = (int64_t)time(NULL);
	if (tc->header && now < tc->renew_at)
		return tc->header->value;
	*err = request_token(tc, http, why, len);
	if (*err == AX_ERR_AGAIN && tc->header && now < tc->expires_at - 1) {
		*err = AX_OK; /* renewal failed for now, but the token is still good */
		return tc->header->value;
	}
	return *err ? NULL : tc->header->value;
}

void ax_token_invalidate(struct ax_token_client *tc)
{
	ax_secret_free(tc->header);
	tc->header = NULL;
}

int64_t ax_token_remaining(const struct ax_token_client *tc)
{
	return tc->header ? tc->expires_at - (int64_t)time(NULL) : -1;
}

int64_t ax_token_certificate_expiry(const struct ax_token_client *tc)
{
	return tc->not_after;
}

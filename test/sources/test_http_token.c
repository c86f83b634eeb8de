/* test_http_token.c - the HTTP layer (sources/http.c), the OAuth2 client
 * (sources/token.c) and the request engine (sources/api.c) against a
 * scripted loopback server: the headers the APIs steer clients with, the
 * body cap, the token request with a secret and with a PS256 client
 * assertion (verified here with OpenSSL), expires_in as a number or a
 * string, caching, renewal, errors that name the cause without the secret,
 * and a 403 that names no error code. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "secret.h"
#include "sources/api.h"
#include "sources/http.h"
#include "sources/token.h"

#define MAX_SCRIPT 12
#define SECRET "s3cr3t+&=value"

/* ---- a loopback server answering from a script, one connection each ---- */

struct server {
	int fd;
	int port;
	pthread_t thread;
	const char *answers[MAX_SCRIPT];
	size_t nanswers, served;
	char requests[MAX_SCRIPT][16384];
};

static size_t read_request(int c, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(c, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		const char *cl = strstr(buf, "Content-Length:");
		size_t want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
		if (n >= want)
			break;
	}
	buf[n] = '\0';
	return n;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	while (s->served < s->nanswers) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		read_request(c, s->requests[s->served], sizeof(s->requests[0]));
		const char *a = s->answers[s->served++];
		ssize_t w = write(c, a, strlen(a));
		(void)w;
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&addr, &len), 0);
	s->port = ntohs(addr.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
}

static char *url(const struct server *s, const char *path)
{
	char *u = malloc(256);
	assert_non_null(u);
	snprintf(u, 256, "http://127.0.0.1:%d%s", s->port, path);
	return u;
}

static struct ax_http *client(void)
{
	struct ax_http_options o = { .timeout_ms = 5000, .max_body = 1u << 20 };
	struct ax_http *h = ax_http_create(&o);
	assert_non_null(h);
	return h;
}

/* ---- http.c ---- */

static void test_http_headers(void **state)
{
	(void)state;
	struct server s = { .nanswers = 3 };
	s.answers[0] = "HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nDate: Mon, 02 Mar 2026 08:00:12 GMT\r\n"
		       "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
	s.answers[1] = "HTTP/1.1 200 OK\r\nNextPageUri: https://m/api/v1/t/x?nextPage=2015$a&b \r\n"
		       "Content-Length: 3\r\nConnection: close\r\n\r\n[1]";
	s.answers[2] = "HTTP/1.1 200 OK\r\nnextpageurl: https://m/other\r\nRetry-After: Fri, 31 Dec 2100 23:59:59 GMT\r\n"
		       "Content-Length: 0\r\nConnection: close\r\n\r\n";
	server_start(&s);
	struct ax_http *h = client();
	struct ax_http_response r;
	ax_http_response_init(&r, 1u << 20);
	char *u = url(&s, "/a");
	const char *headers[] = { "X-Test: 1", NULL };
	assert_int_equal(ax_http_request(h, u, headers, NULL, NULL, 0, &r), AX_OK);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.retry_after_ms, 7000);
	assert_int_equal(r.date, 1772438412);
	assert_null(r.next_page);
	assert_contains(s.requests[0], "X-Test: 1");
	assert_int_equal(ax_http_request(h, u, NULL, NULL, NULL, 0, &r), AX_OK);
	assert_int_equal(r.retry_after_ms, -1); /* nothing left over from the last answer */
	assert_string_equal(r.next_page, "https://m/api/v1/t/x?nextPage=2015$a&b");
	assert_string_equal(r.body.data, "[1]");
	assert_int_equal(ax_http_request(h, u, NULL, "application/json", "{}", 2, &r), AX_OK);
	assert_string_equal(r.next_page, "https://m/other");
	assert_true(r.retry_after_ms > (int64_t)(2100 - 2027) * 365 * 86400 * 1000);
	assert_contains(s.requests[2], "POST /a");
	assert_contains(s.requests[2], "Content-Type: application/json");
	free(u);
	ax_http_response_finish(&r);
	ax_http_destroy(h);
	server_stop(&s);
}

static void test_http_body_cap_and_failures(void **state)
{
	(void)state;
	struct server s = { .nanswers = 1 };
	s.answers[0] = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n01234567890123456789";
	server_start(&s);
	struct ax_http_options o = { .timeout_ms = 5000, .max_body = 10 };
	struct ax_http *h = ax_http_create(&o);
	struct ax_http_response r;
	ax_http_response_init(&r, 10);
	char *u = url(&s, "/big");
	assert_int_equal(ax_http_request(h, u, NULL, NULL, NULL, 0, &r), AX_ERR_TOO_LARGE);
	assert_true(r.too_large);
	assert_contains(r.error, "larger than 10 bytes");
	server_stop(&s);
	assert_int_equal(ax_http_request(h, u, NULL, NULL, NULL, 0, &r), AX_ERR_IO); /* nobody listens now */
	assert_int_equal(r.status, 0);
	assert_true(r.error[0] != '\0');
	free(u);
	ax_http_response_finish(&r);
	ax_http_destroy(h);
}

/* ---- token.c ---- */

/* An HTTP/1.1 answer with its Content-Length (free it). */
static const char *answer(const char *status, const char *body)
{
	char *a = malloc(strlen(body) + 256);
	assert_non_null(a);
	sprintf(a, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		status, strlen(body), body);
	return a;
}

static const char *token_answer(const char *expires_in, const char *token)
{
	char a[512];
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"token_type\":\"Bearer\",\"expires_in\":%s,\"access_token\":\"%s\"}",
			 expires_in, token);
	snprintf(a, sizeof(a), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
		 "Connection: close\r\n\r\n%s", n, body);
	return strdup(a);
}

static void test_token_secret(void **state)
{
	(void)state;
	struct server s = { .nanswers = 3 };
	s.answers[0] = token_answer("3599", "eyJ.first");
	s.answers[1] = token_answer("\"1\"", "eyJ.second");
	s.answers[2] = token_answer("4000", "eyJ.third");
	server_start(&s);
	struct ax_secret *secret = ax_secret_new(SECRET, strlen(SECRET));
	char *token_url = url(&s, "/tenant/oauth2/v2.0/token");
	struct ax_token_conf conf = { .token_url = token_url, .client_id = "app-id",
				      .scope = "https://manage.office.com/.default", .client_secret = secret };
	char why[512];
	struct ax_token_client *tc = ax_token_client_create(&conf, why, sizeof(why));
	assert_non_null(tc);
	struct ax_http *h = client();
	ax_err err;
	const char *hdr = ax_token_header(tc, h, &err, why, sizeof(why));
	assert_int_equal(err, AX_OK);
	assert_string_equal(hdr, "Authorization: Bearer eyJ.first");
	assert_true(ax_token_remaining(tc) > 3500);
	const char *req = s.requests[0];
	assert_contains(req, "POST /tenant/oauth2/v2.0/token");
	assert_contains(req, "grant_type=client_credentials");
	assert_contains(req, "client_id=app-id");
	assert_contains(req, "scope=https%3A%2F%2Fmanage.office.com%2F.default");
	assert_contains(req, "client_secret=s3cr3t%2B%26%3Dvalue");
	/* cached: no second request */
	assert_ptr_equal(ax_token_header(tc, h, &err, why, sizeof(why)), hdr);
	assert_int_equal(s.served, 1);
	/* after a 401 the caller invalidates: a new token, expires_in as a string this time */
	ax_token_invalidate(tc);
	hdr = ax_token_header(tc, h, &err, why, sizeof(why));
	assert_string_equal(hdr, "Authorization: Bearer eyJ.second");
	assert_int_equal(s.served, 2);
	/* a 1-second token is renewed once it is due */
	struct timespec pause = { 1, 200000000 };
	nanosleep(&pause, NULL);
	hdr = ax_token_header(tc, h, &err, why, sizeof(why));
	assert_int_equal(err, AX_OK);
	assert_string_equal(hdr, "Authorization: Bearer eyJ.third");
	assert_int_equal(s.served, 3);
	ax_http_destroy(h);
	ax_token_client_destroy(tc);
	ax_secret_free(secret);
	free(token_url);
	server_stop(&s);
	for (size_t i = 0; i < 3; i++)
		free((char *)s.answers[i]);
}

static void test_token_errors(void **state)
{
	(void)state;
	struct server s = { .nanswers = 4 };
	s.answers[0] = answer("401 Unauthorized", "{\"error\":\"invalid_client\",\"error_description\":"
				"\"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: 1\"}");
	s.answers[1] = answer("503 Unavailable", "{\"error\":\"temporarily_unavailable\",\"error_description\":"
				"\"AADSTS90033: A transient error.\"}");
	s.answers[2] = answer("200 OK", "{\"token_type\":\"Bearer\"}");
	s.answers[3] = answer("408 Request Timeout", "");
	server_start(&s);
	struct ax_secret *secret = ax_secret_new(SECRET, strlen(SECRET));
	char *token_url = url(&s, "/t/oauth2/v2.0/token");
	struct ax_token_conf conf = { .token_url = token_url, .client_id = "app", .scope = "x/.default",
				      .client_secret = secret };
	char why[512];
	struct ax_token_client *tc = ax_token_client_create(&conf, why, sizeof(why));
	struct ax_http *h = client();
	ax_err err;
	assert_null(ax_token_header(tc, h, &err, why, sizeof(why)));
	assert_int_equal(err, AX_ERR_CONFIG); /* only the operator can fix a wrong secret */
	assert_contains(why, "invalid_client");
	assert_contains(why, "AADSTS7000215");
	assert_not_contains(why, "Trace ID"); /* the first line only */
	assert_not_contains(why, "s3cr3t");
	assert_null(ax_token_header(tc, h, &err, why, sizeof(why)));
	assert_int_equal(err, AX_ERR_AGAIN);
	assert_null(ax_token_header(tc, h, &err, why, sizeof(why)));
	assert_int_equal(err, AX_ERR_AGAIN); /* no token in a 200: try again later */
	assert_null(ax_token_header(tc, h, &err, why, sizeof(why)));
	assert_int_equal(err, AX_ERR_AGAIN); /* 408: transient */
	assert_not_contains(why, "s3cr3t");
	ax_http_destroy(h);
	ax_token_client_destroy(tc);
	ax_secret_free(secret);
	free(token_url);
	server_stop(&s);
	for (size_t i = 0; i < s.nanswers; i++)
		free((char *)s.answers[i]);
}

/* ---- certificate sign-in ---- */

static void write_cert_and_key(const char *dir, char **cert_path, char **key_path, EVP_PKEY **key_out)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	assert_non_null(key);
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"annexa-test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*cert_path = malloc(strlen(dir) + 16);
	*key_path = malloc(strlen(dir) + 16);
	sprintf(*cert_path, "%s/cert.pem", dir);
	sprintf(*key_path, "%s/key.pem", dir);
	FILE *f = fopen(*cert_path, "w");
	assert_true(PEM_write_X509(f, x) == 1);
	fclose(f);
	f = fopen(*key_path, "w");
	assert_true(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	unsigned char der_digest[32];
	unsigned n = 0;
	X509_digest(x, EVP_sha256(), der_digest, &n);
	X509_free(x);
	*key_out = key;
}

static size_t b64url_decode(const char *in, size_t len, unsigned char *out)
{
	char *std = malloc(len + 4);
	assert_non_null(std);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		std[n++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (n % 4)
		std[n++] = '=';
	int got = EVP_DecodeBlock(out, (unsigned char *)std, (int)n);
	assert_true(got >= 0);
	size_t pad = len % 4 ? 4 - len % 4 : 0;
	free(std);
	return (size_t)got - pad;
}

static const char *member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	assert_non_null(v);
	return YAJL_GET_STRING(v);
}

static long long number(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);
	assert_non_null(v);
	return YAJL_GET_INTEGER(v);
}

static char *form_value(const char *req, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "%s=", name);
	const char *v = strstr(strstr(req, "\r\n\r\n"), key);
	assert_non_null(v);
	v += strlen(key);
	return strndup(v, strcspn(v, "&"));
}

static void check_assertion(const char *jwt, EVP_PKEY *key, const char *cert_path, const char *aud)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	assert_non_null(d2);
	unsigned char part[4096];
	size_t n = b64url_decode(jwt, (size_t)(d1 - jwt), part);
	part[n] = '\0';
	yajl_val header = yajl_tree_parse((char *)part, NULL, 0);
	assert_non_null(header);
	assert_string_equal(member(header, "alg"), "PS256");
	/* x5t#S256 is the SHA-256 of the certificate's DER */
	FILE *f = fopen(cert_path, "r");
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char digest[32], got[64];
	unsigned dn = 0;
	X509_digest(x, EVP_sha256(), digest, &dn);
	X509_free(x);
	const char *t = member(header, "x5t#S256");
	assert_int_equal(b64url_decode(t, strlen(t), got), 32);
	assert_memory_equal(got, digest, 32);
	yajl_tree_free(header);
	n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), part);
	part[n] = '\0';
	yajl_val claims = yajl_tree_parse((char *)part, NULL, 0);
	assert_non_null(claims);
	assert_string_equal(member(claims, "aud"), aud);
	assert_string_equal(member(claims, "iss"), "app-id");
	assert_string_equal(member(claims, "sub"), "app-id");
	assert_int_equal(strlen(member(claims, "jti")), 36);
	long long nbf = number(claims, "nbf"), exp = number(claims, "exp");
	assert_true(exp > nbf && exp - nbf <= 600 && llabs(nbf - (long long)time(NULL)) < 60);
	yajl_tree_free(claims);
	/* the signature: RSASSA-PSS, SHA-256, salt 32, over header.claims */
	unsigned char sig[1024];
	size_t siglen = b64url_decode(d2 + 1, strlen(d2 + 1), sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key), 1);
	EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
	EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
	assert_int_equal(EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
	EVP_MD_CTX_free(md);
}

static void test_token_certificate(void **state)
{
	(void)state;
	char *dir = unit_tmpdir(), *cert, *keyfile;
	EVP_PKEY *key;
	write_cert_and_key(dir, &cert, &keyfile, &key);
	struct server s = { .nanswers = 1 };
	s.answers[0] = token_answer("3599", "eyJ.cert");
	server_start(&s);
	char *token_url = url(&s, "/tenant/oauth2/v2.0/token");
	struct ax_token_conf conf = { .token_url = token_url, .client_id = "app-id", .scope = "https://graph.microsoft.com/.default",
				      .certificate_file = cert, .private_key_file = keyfile };
	char why[512];
	struct ax_token_client *tc = ax_token_client_create(&conf, why, sizeof(why));
	assert_non_null(tc);
	struct ax_http *h = client();
	ax_err err;
	assert_non_null(ax_token_header(tc, h, &err, why, sizeof(why)));
	char *type = form_value(s.requests[0], "client_assertion_type");
	assert_string_equal(type, "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer");
	char *jwt = form_value(s.requests[0], "client_assertion");
	assert_not_contains(s.requests[0], "client_secret");
	check_assertion(jwt, key, cert, token_url);
	free(type);
	free(jwt);
	ax_http_destroy(h);
	ax_token_client_destroy(tc);
	server_stop(&s);
	free((char *)s.answers[0]);
	/* a key that is not there: refused at creation, naming the file */
	conf.private_key_file = "/nonexistent/key.pem";
	assert_null(ax_token_client_create(&conf, why, sizeof(why)));
	assert_contains(why, "/nonexistent/key.pem");
	EVP_PKEY_free(key);
	unlink(cert);
	unlink(keyfile);
	free(cert);
	free(keyfile);
	free(token_url);
	unit_tmpdir_remove(dir);
}

/* ---- api.c ---- */

/* AF429 comes as 403 as well: a Management API 403 whose body was lost is
 * waited out like throttling; only when it keeps coming is it a refusal. */
static void test_api_bare_forbidden(void **state)
{
	(void)state;
	static const char bare[] = "HTTP/1.1 403 Forbidden\r\nRetry-After: 0\r\nContent-Type: application/json\r\n"
				   "Content-Length: 9\r\nConnection: close\r\n\r\n{\"error\":";
	struct server s = { .nanswers = 9 };
	s.answers[0] = token_answer("3599", "eyJ.api");
	s.answers[1] = bare;
	s.answers[2] = answer("200 OK", "[]");
	for (size_t i = 3; i < s.nanswers; i++)
		s.answers[i] = bare;
	server_start(&s);
	struct ax_secret *secret = ax_secret_new(SECRET, strlen(SECRET));
	char *token_url = url(&s, "/t/oauth2/v2.0/token");
	atomic_int stop = 0;
	struct ax_api_conf conf = {
		.name = "test", .family = AX_API_MANAGEMENT,
		.token = { .token_url = token_url, .client_id = "app", .scope = "x/.default", .client_secret = secret },
		.http = { .timeout_ms = 5000, .max_body = 1u << 20 }, .stop = &stop, .parallel = 1,
	};
	char why[512];
	struct ax_api *api = ax_api_create(&conf, why, sizeof(why));
	assert_non_null(api);
	struct ax_api_req r;
	ax_api_req_init(&r, 1u << 20);
	r.url = url(&s, "/api/v1.0/t/activity/feed/subscriptions/list");
	assert_int_equal(ax_api_call(api, &r), AX_API_OK);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(ax_api_throttled(api), 1);
	assert_string_equal(r.resp.body.data, "[]");
	/* six in a row: only the operator can fix that */
	assert_int_equal(ax_api_call(api, &r), AX_API_FATAL);
	assert_int_equal(r.attempts, 6);
	assert_contains(r.why, "HTTP 403");
	assert_int_equal(s.served, 9);
	ax_api_req_finish(&r);
	ax_api_destroy(api);
	ax_secret_free(secret);
	free(token_url);
	server_stop(&s);
	free((char *)s.answers[0]);
	free((char *)s.answers[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_headers),
		cmocka_unit_test(test_http_body_cap_and_failures),
		cmocka_unit_test(test_token_secret),
		cmocka_unit_test(test_token_errors),
		cmocka_unit_test(test_token_certificate),
		cmocka_unit_test(test_api_bare_forbidden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

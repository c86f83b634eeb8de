/* The librdkafka configuration of a kafka output.
 *
 * Our defaults first (idempotent, acks=all, message.timeout.ms from
 * delivery_timeout), then every rdkafka.* key in file order, so a user can
 * override any of them. librdkafka checks some settings only when a client
 * is created (acks versus idempotence, certificate files, SASL mechanisms);
 * the config check creates one with no brokers to report those at
 * `annexa check-config` time instead of at the first run. */
#include <stdio.h>
#include <string.h>

#include "kafka.h"

#define REDACTED "(redacted)"

/* Keys whose values must never reach a log or an error message. */
static bool sensitive_key(const char *key)
{
	size_t n = strlen(key);
	return strstr(key, "password") || strstr(key, "secret") || strstr(key, "oauthbearer.config") ||
	       (n > 4 && strcmp(key + n - 4, ".pem") == 0);
}

/* Replaces every occurrence of value in msg (NUL-terminated, size bytes). */
static void redact(char *msg, size_t size, const char *value)
{
	size_t vlen = strlen(value), rlen = strlen(REDACTED);
	if (vlen == 0)
		return;
	for (char *p = strstr(msg, value); p; p = strstr(p + rlen, value)) {
		size_t tail = strlen(p + vlen) + 1;
		if ((size_t)(p - msg) + rlen + tail > size) { /* no room: cut the message here */
			*p = '\0';
			return;
		}
		memmove(p + rlen, p + vlen, tail);
		memcpy(p, REDACTED, rlen);
	}
}

/* Takes every secret this output holds out of a librdkafka message. */
static void scrub(const struct ax_kafka_conf *c, char *msg, size_t size)
{
	for (size_t i = 0; i < c->rdkafka.count; i++)
		if (sensitive_key(c->rdkafka.items[i].key))
			redact(msg, size, c->rdkafka.items[i].value);
	if (c->sasl_password)
		redact(msg, size, c->sasl_password->value);
}

static ax_err set(const struct ax_kafka_conf *c, rd_kafka_conf_t *conf, const char *shown_as,
		  const char *key, const char *value, char *why, size_t why_len)
{
	char errstr[512];
	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return AX_OK;
	scrub(c, errstr, sizeof(errstr));
	snprintf(why, why_len, "%.200s: %.300s", shown_as, errstr);
	return AX_ERR_CONFIG;
}

static ax_err set_defaults(const struct ax_kafka_conf *c, rd_kafka_conf_t *conf, char *why,
			   size_t why_len)
{
	char timeout[32];
	snprintf(timeout, sizeof(timeout), "%lld", (long long)c->delivery_timeout);
	const char *const defaults[][3] = {
		{ "brokers", "bootstrap.servers", c->brokers },
		{ "rdkafka.client.id", "client.id", "annexa" },
		{ "rdkafka.enable.idempotence", "enable.idempotence", "true" },
		{ "rdkafka.acks", "acks", "all" },
		/* librdkafka's defaults since 2.0, said out loud: with
		 * security.protocol ssl or sasl_ssl, the broker's certificate
		 * and host name are checked. TLS 1.2 at least comes from
		 * OpenSSL 3, which refuses older versions at its default
		 * security level (kafka.c warns when a cipher list lowers it). */
		{ "rdkafka.enable.ssl.certificate.verification", "enable.ssl.certificate.verification", "true" },
		{ "rdkafka.ssl.endpoint.identification.algorithm", "ssl.endpoint.identification.algorithm", "https" },
		{ "delivery_timeout", "message.timeout.ms", timeout },
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		ax_err err = set(c, conf, defaults[i][0], defaults[i][1], defaults[i][2], why, why_len);
		if (err)
			return err;
	}
	return AX_OK;
}

static ax_err set_user_keys(const struct ax_kafka_conf *c, rd_kafka_conf_t *conf, char *why,
			    size_t why_len)
{
	for (size_t i = 0; i < c->rdkafka.count; i++) {
		const struct ax_kv *kv = &c->rdkafka.items[i];
		char shown[256];
		snprintf(shown, sizeof(shown), "rdkafka.%s", kv->key);
		ax_err err = set(c, conf, shown, kv->key, kv->value, why, why_len);
		if (err)
			return err;
	}
	if (c->sasl_password)
		return set(c, conf, "sasl_password", "sasl.password", c->sasl_password->value, why, why_len);
	return AX_OK;
}

ax_err ax_kafka_rdconf_build(const struct ax_kafka_conf *c, rd_kafka_conf_t **out, char *why,
			     size_t why_len)
{
	*out = NULL;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (!conf) {
		snprintf(why, why_len, "out of memory");
		return AX_ERR_NOMEM;
	}
	ax_err err = set_defaults(c, conf, why, why_len);
	if (!err)
		err = set_user_keys(c, conf, why, why_len);
	if (err) {
		rd_kafka_conf_destroy(conf);
		return err;
	}
	*out = conf;
	return AX_OK;
}

rd_kafka_t *ax_kafka_rdconf_new_producer(const struct ax_kafka_conf *c, rd_kafka_conf_t *conf,
					 char *why, size_t why_len)
{
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, why_len);
	if (rk)
		return rk;
	rd_kafka_conf_destroy(conf); /* rd_kafka_new owns conf only when it succeeds */
	scrub(c, why, why_len);
	return NULL;
}

static void silent_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

/* One message per bad rdkafka.* key, so one check shows all of them. */
static void check_each_key(const struct ax_kafka_conf *c, const char *file, int line,
			   struct ax_diag *diag)
{
	rd_kafka_conf_t *probe = rd_kafka_conf_new();
	for (size_t i = 0; probe && i < c->rdkafka.count; i++) {
		char why[512], shown[256];
		snprintf(shown, sizeof(shown), "rdkafka.%s", c->rdkafka.items[i].key);
		if (set(c, probe, shown, c->rdkafka.items[i].key, c->rdkafka.items[i].value, why, sizeof(why)))
			ax_diag_add(diag, file, line, "%s", why);
	}
	if (probe)
		rd_kafka_conf_destroy(probe);
}

void ax_kafka_rdconf_check(const struct ax_kafka_conf *c, const char *file, int line,
			   struct ax_diag *diag)
{
	size_t before = diag->count;
	check_each_key(c, file, line, diag);
	char why[512];
	rd_kafka_conf_t *conf;
	if (diag->count != before || ax_kafka_rdconf_build(c, &conf, why, sizeof(why))) {
		if (diag->count == before)
			ax_diag_add(diag, file, line, "%s", why);
		return;
	}
	/* A client with no brokers connects nowhere: this only runs librdkafka's checks. */
	rd_kafka_conf_set_log_cb(conf, silent_log);
	if (set(c, conf, "brokers", "bootstrap.servers", "", why, sizeof(why))) {
		rd_kafka_conf_destroy(conf);
		ax_diag_add(diag, file, line, "%s", why);
		return;
	}
	rd_kafka_t *rk = ax_kafka_rdconf_new_producer(c, conf, why, sizeof(why));
	if (!rk) {
		ax_diag_add(diag, file, line, "librdkafka refuses this configuration: %s", why);
		return;
	}
	rd_kafka_destroy(rk);
}

/* kafka output: the librdkafka producer behind one [output] section.
 *
 * send() (kafka_send.c) returns only once every message of the batch has a
 * delivery report, so a batch the pipeline counts as delivered is in Kafka,
 * acknowledged by every in-sync replica (acks=all). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "kafka.h"
#include "log.h"

/* librdkafka reports a timed-out message shortly after message.timeout.ms;
 * this is how much longer send() waits for those last reports. */
#define REPORT_GRACE_MS 2500

static int64_t epoch_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct ax_kafka *k = rd_kafka_opaque(rk);
	/* librdkafka retries connections itself and says so at LOG_ERR; what
	 * failed for good reaches the pipeline through send()'s result. */
	enum ax_log_level ours = level <= LOG_CRIT ? AX_LOG_ERROR
				 : level <= LOG_WARNING ? AX_LOG_WARN
				 : level <= LOG_NOTICE ? AX_LOG_INFO : AX_LOG_DEBUG;
	ax_log(ours, k->base.name, "librdkafka %s: %s", fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct ax_kafka *k = opaque;
	snprintf(k->broker_error, sizeof(k->broker_error), "%s", reason);
	k->broker_error_ms = epoch_ms();
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		k->brokers_down = true;
}

static void kafka_destroy(struct ax_output *out)
{
	struct ax_kafka *k = (struct ax_kafka *)out;
	if (!k)
		return;
	if (k->rk) {
		rd_kafka_poll(k->rk, 0);
		size_t left = ax_kafka_outstanding(k);
		if (left)
			ax_warn(k->base.name, "%zu messages of batches given up on had no delivery report yet; "
				"dropping them (those batches were reported as not delivered)", left);
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		ax_kafka_handles_free(k);
		rd_kafka_destroy(k->rk);
	}
	ax_kafka_trackers_free(k);
	ax_kafka_topic_free(k->topic);
	ax_output_finish_base(&k->base);
	free(k);
}

static long long conf_number(rd_kafka_t *rk, const char *name)
{
	char value[64];
	size_t size = sizeof(value);
	if (rd_kafka_conf_get(rd_kafka_conf(rk), name, value, &size) != RD_KAFKA_CONF_OK)
		return -1;
	return strtoll(value, NULL, 10);
}

static bool conf_is(rd_kafka_t *rk, const char *name, const char *expect)
{
	char value[64];
	size_t size = sizeof(value);
	return rd_kafka_conf_get(rd_kafka_conf(rk), name, value, &size) == RD_KAFKA_CONF_OK &&
	       strcmp(value, expect) == 0;
}

/* Over TLS, what the rdkafka.* overrides give up of its checks. */
static void warn_weaker_tls(struct ax_kafka *k)
{
	if (!conf_is(k->rk, "security.protocol", "ssl") && !conf_is(k->rk, "security.protocol", "sasl_ssl"))
		return;
	if (!conf_is(k->rk, "enable.ssl.certificate.verification", "true"))
		ax_warn(k->base.name, "rdkafka.enable.ssl.certificate.verification = false: the brokers' certificates "
			"are not checked, so anyone on the path can read and change what is sent");
	if (!conf_is(k->rk, "ssl.endpoint.identification.algorithm", "https"))
		ax_warn(k->base.name, "rdkafka.ssl.endpoint.identification.algorithm is not https: any certificate "
			"the CA signed, for any host, passes for the brokers'");
	char ciphers[512];
	size_t size = sizeof(ciphers);
	if (rd_kafka_conf_get(rd_kafka_conf(k->rk), "ssl.cipher.suites", ciphers, &size) == RD_KAFKA_CONF_OK &&
	    strstr(ciphers, "SECLEVEL=0"))
		ax_warn(k->base.name, "rdkafka.ssl.cipher.suites lowers OpenSSL's security level to 0: TLS versions "
			"before 1.2 and weak keys are accepted");
}

/* Says what the rdkafka.* overrides cost, once, at start. */
static void warn_weaker_guarantees(struct ax_kafka *k, const struct ax_kafka_conf *c)
{
	warn_weaker_tls(k);
	if (!conf_is(k->rk, "enable.idempotence", "true"))
		ax_warn(k->base.name, "idempotence is off (rdkafka.enable.idempotence): librdkafka's own "
			"retries may write a record twice or out of order");
	if (!conf_is(k->rk, "acks", "-1"))
		ax_warn(k->base.name, "acks is not 'all' (rdkafka.acks): a record acknowledged by one broker "
			"is lost if that broker fails before the replicas copied it");
	long long timeout = conf_number(k->rk, "message.timeout.ms"); /* 0: no limit */
	if (timeout == 0 || timeout > c->delivery_timeout)
		ax_warn(k->base.name, "rdkafka.message.timeout.ms (%lld ms%s) is longer than delivery_timeout "
			"(%lld ms): a batch given up on may still be written, and then written again",
			timeout, timeout ? "" : ": no limit", (long long)c->delivery_timeout);
}

static rd_kafka_t *start_producer(struct ax_kafka *k, const struct ax_kafka_conf *c, ax_err *err)
{
	char why[512];
	rd_kafka_conf_t *conf;
	*err = ax_kafka_rdconf_build(c, &conf, why, sizeof(why));
	if (*err) {
		ax_error(k->base.name, "%s", why);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, ax_kafka_on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	/* Logs wait in the main queue for rd_kafka_poll: no callback runs on
	 * librdkafka's threads. */
	if (rd_kafka_conf_set(conf, "log.queue", "true", why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		*err = AX_ERR_CONFIG;
		ax_error(k->base.name, "%s", why);
		return NULL;
	}
	rd_kafka_t *rk = ax_kafka_rdconf_new_producer(c, conf, why, sizeof(why));
	if (!rk) {
		*err = AX_ERR_CONFIG;
		ax_error(k->base.name, "cannot create the Kafka producer: %s", why);
		return NULL;
	}
	rd_kafka_set_log_queue(rk, NULL);
	return rk;
}

static struct ax_output *kafka_create(const char *name, const void *conf, ax_err *err)
{
	const struct ax_kafka_conf *c = conf;
	char why[512];
	struct ax_kafka *k = calloc(1, sizeof(*k));
	if (!k || ax_output_init_base(&k->base, &ax_output_kafka, name)) {
		*err = AX_ERR_NOMEM;
		free(k);
		return NULL;
	}
	k->headers = c->headers;
	*err = ax_kafka_topic_compile(c->topic, &k->topic, why, sizeof(why));
	if (*err)
		ax_error(name, "%s", why);
	else
		k->rk = start_producer(k, c, err);
	if (*err) {
		kafka_destroy(&k->base);
		return NULL;
	}
	warn_weaker_guarantees(k, c);
	k->wait_ms = c->delivery_timeout + REPORT_GRACE_MS;
	k->max_message = (size_t)conf_number(k->rk, "message.max.bytes");
	return &k->base;
}

static ax_err kafka_flush(struct ax_output *out, int64_t deadline_ms)
{
	struct ax_kafka *k = (struct ax_kafka *)out;
	int timeout = deadline_ms <= 0 ? 0 : deadline_ms < INT_MAX ? (int)deadline_ms : INT_MAX;
	if (rd_kafka_flush(k->rk, timeout) == RD_KAFKA_RESP_ERR_NO_ERROR)
		return AX_OK;
	ax_warn(out->name, "%zu messages still wait for a delivery report", ax_kafka_outstanding(k));
	return AX_ERR_AGAIN;
}

static void kafka_health(struct ax_output *out, struct ax_output_health *health)
{
	struct ax_kafka *k = (struct ax_kafka *)out;
	rd_kafka_poll(k->rk, 0); /* serves pending error callbacks: the broker state is fresh */
	*health = out->stats;
	char fatal[200];
	if (rd_kafka_fatal_error(k->rk, fatal, sizeof(fatal))) {
		health->state = AX_OUTPUT_DOWN;
		snprintf(health->last_error, sizeof(health->last_error), "fatal: %s", fatal);
		return;
	}
	if (k->broker_error_ms <= health->last_success_ms)
		return;
	snprintf(health->last_error, sizeof(health->last_error), "%s", k->broker_error);
	enum ax_output_state brokers = k->brokers_down ? AX_OUTPUT_DOWN : AX_OUTPUT_DEGRADED;
	if (brokers > health->state)
		health->state = brokers;
}

const struct ax_output_ops ax_output_kafka = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "kafka", "Apache Kafka producer (librdkafka), idempotent, acks=all", ax_kafka_tables,
		  sizeof(struct ax_kafka_conf), ax_kafka_validate },
	.create = kafka_create,
	.send = ax_kafka_send,
	.flush = kafka_flush,
	.health = kafka_health,
	.destroy = kafka_destroy,
};

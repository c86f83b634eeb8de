/* kafka.h - the kafka output's parts, shared between its files and tests.
 *
 * kafka_conf.c    option table and config-time validation
 * kafka_topic.c   topic templates: compiled once, expanded per record
 * kafka_rdconf.c  the librdkafka configuration: our defaults, then rdkafka.*
 * kafka.c         the producer instance: create, flush, health, destroy
 * kafka_send.c    send: produce a batch, wait for every delivery report
 *
 * librdkafka's callbacks (delivery reports, errors, logs) all run inside
 * rd_kafka_poll or rd_kafka_flush, which only the pipeline thread calls. */
#ifndef AX_OUTPUTS_KAFKA_KAFKA_H
#define AX_OUTPUTS_KAFKA_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "outputs/output.h"
#include "secret.h"

struct ax_kafka_conf {
	struct ax_output_common_conf common;
	char *brokers;
	char *topic;
	int64_t delivery_timeout; /* ms */
	bool headers;
	struct ax_secret *sasl_password;
	struct ax_kvlist rdkafka;
};

/* One message of a batch in flight: its delivery report lands here. */
struct ax_kafka_slot {
	struct ax_kafka_tracker *tracker;
	rd_kafka_resp_err_t err;
};

/* The messages of one send(). A batch whose reports did not all arrive in
 * time is abandoned: send() returns, and the tracker lives on, off the
 * batch, until its last report (or destroy), so no report ever lands in
 * freed memory. */
struct ax_kafka_tracker {
	struct ax_kafka *owner;
	struct ax_kafka_tracker *next; /* in owner->abandoned */
	size_t count, pending, failed;
	bool abandoned;
	struct ax_kafka_slot slots[];
};

/* Kafka's limit on a topic name (and what an expansion is cut to). */
#define AX_KAFKA_TOPIC_MAX 249
/* Topic handles by name: produced through a handle, a message skips
 * librdkafka's lookup of its topic by name (a lock and a list walk). */
#define AX_KAFKA_HANDLES 16
struct ax_kafka_handle {
	char name[AX_KAFKA_TOPIC_MAX + 1];
	rd_kafka_topic_t *rkt; /* NULL: free */
};

struct ax_kafka {
	struct ax_output base;
	rd_kafka_t *rk;
	struct ax_kafka_topic *topic;
	struct ax_kafka_handle handles[AX_KAFKA_HANDLES];
	unsigned next_handle; /* the one a new name replaces when all are taken */
	bool headers;
	int64_t wait_ms;       /* longest wait for a batch's reports */
	size_t max_message;    /* librdkafka's message.max.bytes */
	bool one_by_one;       /* a broker refused a message set: find the records at fault */
	struct ax_kafka_tracker *abandoned;
	/* Broker state, from the error callback. */
	bool brokers_down;
	char broker_error[256];
	int64_t broker_error_ms;
};

extern const struct ax_output_ops ax_output_kafka;
extern const struct ax_option *const ax_kafka_tables[];
void ax_kafka_validate(const void *conf, const char *file, int line, struct ax_diag *diag);

struct ax_kafka_topic;

/* Compiles a template such as "m365.{workload}". Literal text must be legal
 * in a topic name ([A-Za-z0-9._-]); fields are those of struct ax_record
 * listed in AX_KAFKA_TOPIC_FIELDS. AX_ERR_CONFIG with why set when the
 * template is wrong. */
ax_err ax_kafka_topic_compile(const char *tmpl, struct ax_kafka_topic **out, char *why,
			      size_t why_len) AX_WARN_UNUSED;
/* Writes the topic of r into buf (AX_KAFKA_TOPIC_MAX + 1 bytes): field
 * values lower-cased, characters illegal in a topic replaced by '_', an
 * empty value written "unknown", the whole cut at AX_KAFKA_TOPIC_MAX. */
void ax_kafka_topic_expand(const struct ax_kafka_topic *t, const struct ax_record *r, char *buf);
void ax_kafka_topic_free(struct ax_kafka_topic *t);

#define AX_KAFKA_TOPIC_FIELDS \
	"{workload}, {category}, {severity}, {source}, {tenant}, {content_type}, {operation}"

/* Builds the producer configuration: bootstrap.servers, idempotence,
 * acks=all, message.timeout.ms = delivery_timeout, then every rdkafka.*
 * key (which may override them). On error why names the offending key with
 * librdkafka's reason, with the value of a secret key left out. */
ax_err ax_kafka_rdconf_build(const struct ax_kafka_conf *c, rd_kafka_conf_t **out, char *why,
			     size_t why_len) AX_WARN_UNUSED;
/* rd_kafka_new for a producer; takes conf. NULL with why set (secrets
 * taken out) when librdkafka refuses the configuration. */
rd_kafka_t *ax_kafka_rdconf_new_producer(const struct ax_kafka_conf *c, rd_kafka_conf_t *conf,
					 char *why, size_t why_len);
/* The config check: each rdkafka.* key, then a client with no brokers (no
 * network), so every setting librdkafka checks is checked. */
void ax_kafka_rdconf_check(const struct ax_kafka_conf *c, const char *file, int line,
			   struct ax_diag *diag);

/* kafka_send.c */
void ax_kafka_send(struct ax_output *out, const struct ax_batch *batch,
		   struct ax_output_result *result);
void ax_kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);
/* Messages of abandoned batches still waiting for a report. */
size_t ax_kafka_outstanding(const struct ax_kafka *k);
void ax_kafka_trackers_free(struct ax_kafka *k);
/* Lets go of the topic handles (before rd_kafka_destroy). */
void ax_kafka_handles_free(struct ax_kafka *k);

#endif

/* kafka output: options and their validation.
 *
 * The validator compiles the topic template and checks the librdkafka
 * configuration, so `annexa check-config` reports a bad field name or a bad
 * rdkafka.* key instead of the first run. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kafka.h"

#define KAFKA(field) offsetof(struct ax_kafka_conf, field)

static const struct ax_option kafka_options[] = {
	{ "brokers", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, KAFKA(brokers), 0, 0, NULL,
	  "Bootstrap brokers, HOST:PORT[,HOST:PORT...]." },
	{ "topic", AX_OPT_STRING, "m365.{workload}", 0, KAFKA(topic), 0, 0, NULL,
	  "Topic, or a template with record fields: " AX_KAFKA_TOPIC_FIELDS ". Field values are "
	  "lower-cased, characters a topic cannot hold become '_', and the name is cut at 249 characters." },
	{ "delivery_timeout", AX_OPT_DURATION, "30s", 0, KAFKA(delivery_timeout), 1000, 3600000, NULL,
	  "How long a batch may wait for its delivery reports before it is sent again; also librdkafka's "
	  "message.timeout.ms unless rdkafka.message.timeout.ms is set." },
	{ "headers", AX_OPT_BOOL, "true", 0, KAFKA(headers), 0, 0, NULL,
	  "Adds the headers iso27001.controls, iso27001.severity and iso27001.category to every message, "
	  "so consumers can route records without parsing them." },
	{ "sasl_password", AX_OPT_SECRET, NULL, 0, KAFKA(sasl_password), 0, 0, NULL,
	  "Password for SASL PLAIN or SCRAM (librdkafka's sasl.password); never logged." },
	{ "rdkafka.", AX_OPT_PREFIX, NULL, 0, KAFKA(rdkafka), 0, 0, NULL,
	  "Any librdkafka producer property, passed through (rdkafka.security.protocol, rdkafka.sasl.*, "
	  "rdkafka.compression.codec...). The producer is idempotent with acks=all unless these say otherwise." },
	AX_OPTIONS_END,
};

const struct ax_option *const ax_kafka_tables[] = { ax_output_common_options, kafka_options, NULL };

static bool has_rdkafka_key(const struct ax_kafka_conf *c, const char *key)
{
	for (size_t i = 0; i < c->rdkafka.count; i++)
		if (strcmp(c->rdkafka.items[i].key, key) == 0)
			return true;
	return false;
}

void ax_kafka_validate(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct ax_kafka_conf *c = conf;
	char why[512];
	if (c->sasl_password && has_rdkafka_key(c, "sasl.password"))
		ax_diag_add(diag, file, line, "give the SASL password once: sasl_password or rdkafka.sasl.password");
	struct ax_kafka_topic *topic;
	if (ax_kafka_topic_compile(c->topic, &topic, why, sizeof(why)))
		ax_diag_add(diag, file, line, "%s", why);
	ax_kafka_topic_free(topic);
	ax_kafka_rdconf_check(c, file, line, diag);
}

/* kafka output: options and their validation. Sending comes with the
 * librdkafka producer; until then the type is configurable but cannot send. */
#include <stddef.h>
#include <string.h>

#include "outputs/output.h"

struct kafka_conf {
	struct ax_output_common_conf common;
	char *brokers;
	char *topic;
	struct ax_kvlist rdkafka;
};

#define KAFKA(field) offsetof(struct kafka_conf, field)

static const struct ax_option kafka_options[] = {
	{ "brokers", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, KAFKA(brokers), 0, 0, NULL,
	  "Bootstrap brokers, HOST:PORT[,HOST:PORT...]." },
	{ "topic", AX_OPT_STRING, "m365.{workload}", 0, KAFKA(topic), 0, 0, NULL,
	  "Topic, or a template with record fields: {workload}, {category}, {severity}, {source}, {content_type}." },
	{ "rdkafka.", AX_OPT_PREFIX, NULL, 0, KAFKA(rdkafka), 0, 0, NULL,
	  "Any librdkafka producer property, passed through (rdkafka.security.protocol, rdkafka.sasl.*, rdkafka.compression.codec...)." },
	AX_OPTIONS_END,
};

static const struct ax_option *const kafka_tables[] = { ax_output_common_options, kafka_options, NULL };

static void validate_kafka(const void *conf, const char *file, int line, struct ax_diag *diag)
{
	const struct kafka_conf *c = conf;
	static const char *const fields[] = { "{workload}", "{category}", "{severity}", "{source}", "{content_type}" };
	const char *p = c->topic;
	while ((p = strchr(p, '{'))) {
		size_t i = 0;
		while (i < 5 && strncmp(p, fields[i], strlen(fields[i])) != 0)
			i++;
		if (i == 5) {
			ax_diag_add(diag, file, line, "topic '%s': unknown field at '%s' (known: {workload}, {category}, {severity}, {source}, {content_type})", c->topic, p);
			return;
		}
		p++;
	}
	if (!c->topic[0])
		ax_diag_add(diag, file, line, "topic is empty");
}

const struct ax_output_ops ax_output_kafka = {
	.abi_version = AX_OUTPUT_ABI_VERSION,
	.conf = { "kafka", "Apache Kafka producer (librdkafka), idempotent, acks=all", kafka_tables,
		  sizeof(struct kafka_conf), validate_kafka },
};

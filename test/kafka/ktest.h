/* ktest.h - helpers shared by the kafka output's cmocka tests. */
#ifndef AX_TEST_KAFKA_KTEST_H
#define AX_TEST_KAFKA_KTEST_H

#include "unit.h"

#include "outputs/kafka/kafka.h"

/* A kafka config from the option table's defaults, then "key", "value"
 * pairs (NULL-terminated) parsed as a config file's would be. */
struct ax_kafka_conf *ktest_conf(const char *const *kv);
void ktest_conf_free(struct ax_kafka_conf *c);
void ktest_set(struct ax_kafka_conf *c, const char *key, const char *value);

/* A record with the given fields; json is a small object holding the id. */
struct ktest_record {
	struct ax_record rec;
	char json[128];
};
void ktest_record(struct ktest_record *r, const char *id, const char *workload);

#endif

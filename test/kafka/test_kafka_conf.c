/* test_kafka_conf.c - the kafka output without a broker: topic templates
 * (compile, expand, sanitise, errors) and the librdkafka configuration
 * (defaults, pass-through, errors naming the key, secrets kept out). */
#include "ktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static char *expand(const char *tmpl, const struct ax_record *r)
{
	static char buf[AX_KAFKA_TOPIC_MAX + 1];
	char why[256] = "";
	struct ax_kafka_topic *t;
	if (ax_kafka_topic_compile(tmpl, &t, why, sizeof(why)))
		fail_msg("template '%s' refused: %s", tmpl, why);
	ax_kafka_topic_expand(t, r, buf);
	ax_kafka_topic_free(t);
	return buf;
}

/* The error message for a template that must be refused. */
static char *refused(const char *tmpl)
{
	static char why[512];
	struct ax_kafka_topic *t = (struct ax_kafka_topic *)1;
	why[0] = '\0';
	assert_int_equal(ax_kafka_topic_compile(tmpl, &t, why, sizeof(why)), AX_ERR_CONFIG);
	assert_null(t);
	assert_true(why[0] != '\0');
	return why;
}

static void topic_fields_are_expanded_lower_case(void **state)
{
	(void)state;
	struct ktest_record r;
	ktest_record(&r, "id-1", "Exchange");
	assert_string_equal(expand("m365.{workload}", &r.rec), "m365.exchange");
	assert_string_equal(expand("{workload}.{category}.{severity}.{source}.{tenant}.{content_type}.{operation}", &r.rec),
			    "exchange.privileged_access.high.contoso.t-1.audit.exchange.set-mailbox");
	assert_string_equal(expand("Static-Topic_1", &r.rec), "Static-Topic_1"); /* literal text kept as written */
	assert_string_equal(expand("a{workload}{severity}z", &r.rec), "aexchangehighz");
}

static void topic_values_are_sanitised(void **state)
{
	(void)state;
	struct ktest_record r;
	ktest_record(&r, "id-1", "Azure Active/Directory\xc3\xa9");
	assert_string_equal(expand("m365.{workload}", &r.rec), "m365.azure_active_directory__");
	ktest_record(&r, "id-1", "");
	assert_string_equal(expand("m365.{workload}", &r.rec), "m365.unknown");
	r.rec.severity = (enum ax_severity)42;
	assert_string_equal(expand("sev-{severity}", &r.rec), "sev-unknown");
	ktest_record(&r, "id-1", "..");
	assert_string_equal(expand("{workload}", &r.rec), "__"); /* "." and ".." are not topics */
	ktest_record(&r, "id-1", ".");
	assert_string_equal(expand("{workload}", &r.rec), "_");
	assert_string_equal(expand("x{workload}", &r.rec), "x.");
}

static void topic_is_cut_at_kafkas_limit(void **state)
{
	(void)state;
	char tmpl[300], value[300];
	memset(tmpl, 'a', 240);
	strcpy(tmpl + 240, "{workload}");
	memset(value, 'B', 100);
	value[100] = '\0';
	struct ktest_record r;
	ktest_record(&r, "id-1", value);
	const char *topic = expand(tmpl, &r.rec);
	assert_int_equal(strlen(topic), AX_KAFKA_TOPIC_MAX);
	assert_int_equal(strspn(topic, "a"), 240);
	assert_int_equal(strspn(topic + 240, "b"), AX_KAFKA_TOPIC_MAX - 240);
	memset(tmpl, 'a', AX_KAFKA_TOPIC_MAX);
	strcpy(tmpl + AX_KAFKA_TOPIC_MAX, "{workload}"); /* 249 literal characters: still legal */
	assert_int_equal(strlen(expand(tmpl, &r.rec)), AX_KAFKA_TOPIC_MAX);
}

static void bad_templates_are_refused_with_the_reason(void **state)
{
	(void)state;
	char *why = refused("m365.{nope}");
	assert_contains(why, "unknown field {nope}");
	assert_contains(why, "{workload}, {category}, {severity}, {source}, {tenant}, {content_type}, {operation}");
	assert_contains(refused("{}"), "unknown field {}");
	assert_contains(refused("{Workload}"), "unknown field {Workload}"); /* field names are exact */
	assert_contains(refused("m365.{workload"), "'{' without '}'");
	assert_contains(refused("m365}"), "'}' cannot be in a Kafka topic name");
	assert_contains(refused("m365 audit"), "' ' cannot be in a Kafka topic name");
	assert_contains(refused("m365/{workload}"), "'/' cannot be");
	assert_contains(refused(""), "topic is empty");
	assert_contains(refused("."), "not a legal Kafka topic name");
	assert_contains(refused(".."), "not a legal Kafka topic name");
	char longer[300];
	memset(longer, 'x', 250);
	longer[250] = '\0';
	assert_contains(refused(longer), "longer than Kafka's 249 characters");
}

static char *conf_value(rd_kafka_conf_t *conf, const char *name)
{
	static char value[512];
	size_t size = sizeof(value);
	if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK)
		fail_msg("librdkafka has no property %s", name);
	return value;
}

static void producer_defaults_are_idempotent_acks_all(void **state)
{
	(void)state;
	struct ax_kafka_conf *c = ktest_conf((const char *const[]){ "brokers", "k1:9092,k2:9092", NULL });
	assert_int_equal(c->delivery_timeout, 30000);
	assert_true(c->headers);
	assert_string_equal(c->topic, "m365.{workload}");
	char why[512] = "";
	rd_kafka_conf_t *conf;
	assert_int_equal(ax_kafka_rdconf_build(c, &conf, why, sizeof(why)), AX_OK);
	assert_string_equal(conf_value(conf, "bootstrap.servers"), "k1:9092,k2:9092");
	assert_string_equal(conf_value(conf, "enable.idempotence"), "true");
	assert_string_equal(conf_value(conf, "acks"), "-1");
	assert_string_equal(conf_value(conf, "message.timeout.ms"), "30000");
	assert_string_equal(conf_value(conf, "enable.ssl.certificate.verification"), "true");
	assert_string_equal(conf_value(conf, "ssl.endpoint.identification.algorithm"), "https");
	rd_kafka_conf_destroy(conf);
	ktest_conf_free(c);
}

static void rdkafka_keys_pass_through_and_override(void **state)
{
	(void)state;
	struct ax_kafka_conf *c = ktest_conf((const char *const[]){
		"brokers", "k1:9092", "delivery_timeout", "10s",
		"rdkafka.compression.codec", "zstd", "rdkafka.security.protocol", "sasl_ssl",
		"rdkafka.sasl.mechanisms", "SCRAM-SHA-512", "rdkafka.sasl.username", "annexa",
		"rdkafka.message.timeout.ms", "5000", "sasl_password", "pw-from-secret", NULL });
	char why[512] = "";
	rd_kafka_conf_t *conf;
	assert_int_equal(ax_kafka_rdconf_build(c, &conf, why, sizeof(why)), AX_OK);
	assert_string_equal(conf_value(conf, "compression.codec"), "zstd");
	assert_string_equal(conf_value(conf, "security.protocol"), "sasl_ssl");
	assert_string_equal(conf_value(conf, "sasl.mechanisms"), "SCRAM-SHA-512");
	assert_string_equal(conf_value(conf, "message.timeout.ms"), "5000"); /* the user's, not delivery_timeout */
	assert_string_equal(conf_value(conf, "sasl.password"), "pw-from-secret");
	rd_kafka_conf_destroy(conf);
	ktest_conf_free(c);
}

static void bad_rdkafka_keys_are_named_in_the_error(void **state)
{
	(void)state;
	struct ax_kafka_conf *c = ktest_conf((const char *const[]){
		"brokers", "k1:9092", "rdkafka.compresion.codec", "zstd", NULL });
	char why[512] = "";
	rd_kafka_conf_t *conf = (rd_kafka_conf_t *)1;
	assert_int_equal(ax_kafka_rdconf_build(c, &conf, why, sizeof(why)), AX_ERR_CONFIG);
	assert_null(conf);
	assert_string_equal(why, "rdkafka.compresion.codec: No such configuration property: \"compresion.codec\"");
	ktest_conf_free(c);
}

/* The config check, as `annexa check-config` runs it. */
static struct ax_diag *check(const char *const *kv)
{
	static struct ax_diag diag;
	ax_diag_finish(&diag);
	ax_diag_init(&diag);
	struct ax_kafka_conf *c = ktest_conf(kv);
	ax_kafka_validate(c, "annexa.conf", 7, &diag);
	ktest_conf_free(c);
	return &diag;
}

static void check_reports_every_bad_key(void **state)
{
	(void)state;
	struct ax_diag *d = check((const char *const[]){
		"brokers", "k1:9092", "topic", "m365.{bogus}", "rdkafka.compression.codec", "zstdx",
		"rdkafka.no.such.key", "1", "rdkafka.linger.ms", "5", NULL });
	if (d->count != 3)
		unit_diag_dump(d);
	assert_int_equal(d->count, 3);
	assert_true(unit_diag_has(d, 7, "topic 'm365.{bogus}': unknown field {bogus}"));
	assert_true(unit_diag_has(d, 7, "rdkafka.compression.codec: Invalid value \"zstdx\" for configuration property \"compression.codec\""));
	assert_true(unit_diag_has(d, 7, "rdkafka.no.such.key: No such configuration property"));
	assert_int_equal(check((const char *const[]){ "brokers", "k1:9092", NULL })->count, 0);
	ax_diag_finish(d);
}

/* What librdkafka only checks when a client is made is checked too. */
static void check_runs_librdkafkas_own_checks(void **state)
{
	(void)state;
	struct ax_diag *d = check((const char *const[]){ "brokers", "k1:9092", "rdkafka.acks", "1", NULL });
	assert_true(unit_diag_has(d, 7, "`acks` must be set to `all` when `enable.idempotence` is true"));
	d = check((const char *const[]){ "brokers", "k1:9092", "rdkafka.acks", "1",
					 "rdkafka.enable.idempotence", "false", NULL });
	assert_int_equal(d->count, 0);
	d = check((const char *const[]){ "brokers", "k1:9092", "rdkafka.security.protocol", "ssl",
					 "rdkafka.ssl.ca.location", "/nonexistent/ca.pem", NULL });
	assert_true(unit_diag_has(d, 7, "ssl.ca.location"));
	ax_diag_finish(d);
}

static void check_refuses_two_sasl_passwords(void **state)
{
	(void)state;
	struct ax_diag *d = check((const char *const[]){ "brokers", "k1:9092", "sasl_password", "a",
							 "rdkafka.sasl.password", "b", NULL });
	assert_true(unit_diag_has(d, 7, "give the SASL password once"));
	ax_diag_finish(d);
}

/* Whatever the error, a secret's value is never part of it. Here the secret
 * happens to equal text librdkafka puts in its message. */
static void secrets_never_reach_an_error(void **state)
{
	(void)state;
	struct ax_diag *d = check((const char *const[]){
		"brokers", "k1:9092", "rdkafka.ssl.key.password", "compression.codec",
		"rdkafka.compression.codec", "zstdx", NULL });
	assert_int_equal(d->count, 1);
	assert_not_contains(d->items[0].msg, "\"compression.codec\"");
	assert_contains(d->items[0].msg, "(redacted)");
	d = check((const char *const[]){ "brokers", "k1:9092", "sasl_password", "zstdx",
					 "rdkafka.compression.codec", "zstdx", NULL });
	assert_int_equal(d->count, 1);
	assert_not_contains(d->items[0].msg, "zstdx");
	d = check((const char *const[]){ "brokers", "k1:9092", "rdkafka.security.protocol", "ssl",
					 "rdkafka.ssl.key.location", "/nonexistent/key.pem",
					 "rdkafka.ssl.certificate.location", "/nonexistent/cert.pem",
					 "rdkafka.ssl.key.password", "hunter2-secret", NULL });
	assert_int_equal(d->count, 1);
	assert_not_contains(d->items[0].msg, "hunter2-secret");
	ax_diag_finish(d);
}

/* The validator runs from the config loader: errors carry FILE:LINE. */
static void config_file_errors_point_at_the_section(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *path = unit_write_file(dir, "annexa.conf",
				     "[agent]\n"
				     "log_level = error\n"
				     "\n"
				     "[output \"bus\"]\n"
				     "type = kafka\n"
				     "brokers = 127.0.0.1:9092\n"
				     "topic = m365.{workload}.{colour}\n"
				     "rdkafka.linger.msec = 5\n", SIZE_MAX);
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(path, &diag);
	assert_null(cfg);
	assert_true(unit_diag_has(&diag, 4, "unknown field {colour}"));
	assert_true(unit_diag_has(&diag, 4, "rdkafka.linger.msec: No such configuration property"));
	ax_diag_finish(&diag);
	free(path);
	unit_tmpdir_remove(dir);
}

int main(void)
{
	unit_quiet_logs();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(topic_fields_are_expanded_lower_case),
		cmocka_unit_test(topic_values_are_sanitised),
		cmocka_unit_test(topic_is_cut_at_kafkas_limit),
		cmocka_unit_test(bad_templates_are_refused_with_the_reason),
		cmocka_unit_test(producer_defaults_are_idempotent_acks_all),
		cmocka_unit_test(rdkafka_keys_pass_through_and_override),
		cmocka_unit_test(bad_rdkafka_keys_are_named_in_the_error),
		cmocka_unit_test(check_reports_every_bad_key),
		cmocka_unit_test(check_runs_librdkafkas_own_checks),
		cmocka_unit_test(check_refuses_two_sasl_passwords),
		cmocka_unit_test(secrets_never_reach_an_error),
		cmocka_unit_test(config_file_errors_point_at_the_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "ktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ax_kafka_conf *ktest_conf(const char *const *kv)
{
	struct ax_kafka_conf *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	assert_int_equal(ax_options_defaults(ax_kafka_tables, c), AX_OK);
	for (; kv && kv[0]; kv += 2)
		ktest_set(c, kv[0], kv[1]);
	return c;
}

void ktest_set(struct ax_kafka_conf *c, const char *key, const char *value)
{
	char why[256] = "";
	const struct ax_option *opt = ax_option_find(ax_kafka_tables, key);
	if (!opt)
		fail_msg("no kafka option for key '%s'", key);
	if (ax_option_set(opt, c, key, value, why, sizeof(why)))
		fail_msg("%s = %s: %s", key, value, why);
}

void ktest_conf_free(struct ax_kafka_conf *c)
{
	ax_options_free(ax_kafka_tables, c);
	free(c);
}

static const char *const ktest_controls[] = { "5.15", "8.2" };

void ktest_record(struct ktest_record *r, const char *id, const char *workload)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->json, sizeof(r->json), "{\"Id\":\"%s\",\"Workload\":\"%s\"}", id, workload);
	r->rec = (struct ax_record){
		.json = r->json, .len = strlen(r->json), .id = id, .creation_time = "",
		.workload = workload, .operation = "Set-Mailbox", .user = "", .client_ip = "",
		.category = "privileged_access", .severity = AX_SEV_HIGH, .controls = ktest_controls,
		.ncontrols = 2, .source = "contoso", .content_type = "Audit.Exchange", .tenant = "T-1",
	};
}

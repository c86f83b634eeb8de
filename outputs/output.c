#include "output.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

const char *const ax_severity_names[] = { "informational", "low", "medium", "high", "critical", NULL };

#define COMMON(field) offsetof(struct ax_output_common_conf, field)

const struct ax_option ax_output_common_options[] = {
	{ "match.min_severity", AX_OPT_ENUM, "informational", 0, COMMON(min_severity), 0, 0, ax_severity_names,
	  "Only records at least this severe go to this output." },
	{ "match.categories", AX_OPT_LIST, "", 0, COMMON(categories), 0, 0, NULL,
	  "Only records of these categories go to this output; empty: all." },
	{ "match.controls", AX_OPT_LIST, "", 0, COMMON(controls), 0, 0, NULL,
	  "Only records evidencing one of these controls (ids such as 8.15, or prefixes such as 5.*) go to this output; empty: all." },
	{ "match.workloads", AX_OPT_LIST, "", 0, COMMON(workloads), 0, 0, NULL,
	  "Only records of these workloads (Exchange, SharePoint, AzureActiveDirectory, ...) go to this output; empty: all." },
	AX_OPTIONS_END,
};

extern const struct ax_output_ops ax_output_file;
extern const struct ax_output_ops ax_output_syslog;
extern const struct ax_output_ops ax_output_kafka;
extern const struct ax_output_ops ax_output_splunk_hec;

const struct ax_output_ops *const ax_output_builtins[] = {
	&ax_output_file, &ax_output_syslog, &ax_output_kafka, &ax_output_splunk_hec, NULL,
};

const struct ax_output_ops *ax_output_find(const char *type)
{
	for (size_t i = 0; ax_output_builtins[i]; i++)
		if (strcmp(ax_output_builtins[i]->conf.name, type) == 0)
			return ax_output_builtins[i];
	return ax_output_plugin_find(type);
}

const struct ax_conf_kind *ax_output_kind_find(const char *type)
{
	const struct ax_output_ops *ops = ax_output_find(type);
	return ops ? &ops->conf : NULL;
}

void ax_output_kind_names(char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; ax_output_builtins[i] && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "",
					 ax_output_builtins[i]->conf.name);
}

ax_err ax_output_init_base(struct ax_output *out, const struct ax_output_ops *ops, const char *name)
{
	memset(out, 0, sizeof(*out));
	out->ops = ops;
	out->name = strdup(name);
	return out->name ? AX_OK : AX_ERR_NOMEM;
}

void ax_output_finish_base(struct ax_output *out)
{
	free(out->name);
	out->name = NULL;
}

struct ax_output *ax_output_create(const struct ax_output_ops *ops, const char *name,
				   const void *conf, ax_err *err)
{
	if (!ops->create || !ops->send || !ops->destroy) {
		ax_error(name, "output type '%s' cannot send in this version of annexa", ops->conf.name);
		*err = AX_ERR_UNSUPPORTED;
		return NULL;
	}
	*err = AX_OK;
	return ops->create(name, conf, err);
}

size_t ax_output_rejected_count(const struct ax_batch *batch, const struct ax_output_result *result)
{
	size_t n = 0;
	for (size_t i = 0; result->rejected && i < batch->count; i++)
		n += result->rejected[i] != 0;
	return n ? n : batch->count;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ax_output_send(struct ax_output *out, const struct ax_batch *batch,
		    struct ax_output_result *result)
{
	uint8_t *rejected = result->rejected;
	memset(result, 0, sizeof(*result));
	result->retry_after_ms = -1;
	result->rejected = rejected;
	if (rejected)
		memset(rejected, 0, batch->count);
	out->ops->send(out, batch, result);
	struct ax_output_health *s = &out->stats;
	switch (result->status) {
	case AX_OUT_OK:
		s->sent += batch->count;
		s->last_success_ms = now_ms();
		s->state = AX_OUTPUT_UP;
		return;
	case AX_OUT_RETRY:
		s->retried += batch->count;
		s->state = AX_OUTPUT_DEGRADED;
		break;
	case AX_OUT_REJECT:
		s->rejected += ax_output_rejected_count(batch, result);
		break;
	case AX_OUT_FATAL:
		s->state = AX_OUTPUT_DOWN;
		break;
	}
	snprintf(s->last_error, sizeof(s->last_error), "%s", result->message);
	ax_warn(out->name, "%s", result->message);
}

ax_err ax_output_flush(struct ax_output *out, int64_t deadline_ms)
{
	return out->ops->flush ? out->ops->flush(out, deadline_ms) : AX_OK;
}

void ax_output_destroy(struct ax_output *out)
{
	if (out)
		out->ops->destroy(out);
}

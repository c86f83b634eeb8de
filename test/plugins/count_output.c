/* A test output plugin: built as a shared object, loaded by `type = count`
 * from plugin_dir. It appends the Id of every record it accepts to a file
 * and can be told to fail in the ways a receiver does, so tests can watch
 * the pipeline retry, dead-letter and give up.
 *
 * Built with -DCOUNT_BAD_ABI it claims another ABI version; with
 * -DCOUNT_NO_SYMBOL it exports nothing: both must be refused at startup. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "outputs/output.h"

struct count_conf {
	struct ax_output_common_conf common;
	char *path;
	int64_t fail_first;   /* the first N sends answer RETRY */
	struct ax_strlist reject_ids; /* records the receiver refuses for good */
	bool fatal;           /* every send answers FATAL */
};

struct count_output {
	struct ax_output base;
	const struct count_conf *conf;
	FILE *fp;
	int64_t sends;
};

#define COUNT(field) offsetof(struct count_conf, field)

static const struct ax_option count_options[] = {
	{ "path", AX_OPT_STRING, NULL, AX_OPT_REQUIRED, COUNT(path), 0, 0, NULL, "File the accepted Ids are appended to." },
	{ "fail_first", AX_OPT_INT, "0", 0, COUNT(fail_first), 0, 1000000, NULL, "Answer RETRY to the first N sends." },
	{ "reject_ids", AX_OPT_LIST, "", 0, COUNT(reject_ids), 0, 0, NULL, "Reject the records with these Ids." },
	{ "fatal", AX_OPT_BOOL, "false", 0, COUNT(fatal), 0, 0, NULL, "Answer FATAL to every send." },
	AX_OPTIONS_END,
};

static const struct ax_option *const count_tables[] = { ax_output_common_options, count_options, NULL };

#ifdef COUNT_NO_SYMBOL
#define PLUGIN_OPS count_ops_under_another_name
#else
#define PLUGIN_OPS ax_output_plugin_v1
#endif

extern const struct ax_output_ops PLUGIN_OPS;

static void count_destroy(struct ax_output *out)
{
	struct count_output *c = (struct count_output *)out;
	if (!c)
		return;
	if (c->fp)
		fclose(c->fp);
	ax_output_finish_base(&c->base);
	free(c);
}

static struct ax_output *count_create(const char *name, const void *conf, ax_err *err)
{
	struct count_output *c = calloc(1, sizeof(*c));
	if (!c || ax_output_init_base(&c->base, &PLUGIN_OPS, name)) {
		free(c);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	c->conf = conf;
	c->fp = fopen(c->conf->path, "a");
	if (!c->fp) {
		count_destroy(&c->base);
		*err = AX_ERR_IO;
		return NULL;
	}
	return &c->base;
}

static void count_send(struct ax_output *out, const struct ax_batch *batch, struct ax_output_result *res)
{
	struct count_output *c = (struct count_output *)out;
	const struct count_conf *conf = c->conf;
	if (conf->fatal) {
		res->status = AX_OUT_FATAL;
		snprintf(res->message, sizeof(res->message), "told to fail for good");
		return;
	}
	if (c->sends++ < conf->fail_first) {
		res->status = AX_OUT_RETRY;
		res->retry_after_ms = 10;
		snprintf(res->message, sizeof(res->message), "told to fail %lld more time(s)",
			 (long long)(conf->fail_first - c->sends + 1));
		return;
	}
	bool rejected = false;
	for (size_t i = 0; i < batch->count; i++) {
		if (res->rejected && ax_strlist_contains(&conf->reject_ids, batch->records[i].id)) {
			res->rejected[i] = 1;
			rejected = true;
		}
	}
	if (rejected) { /* a receiver that rejects takes nothing of the batch */
		res->status = AX_OUT_REJECT;
		snprintf(res->message, sizeof(res->message), "told to reject these records");
		return;
	}
	for (size_t i = 0; i < batch->count; i++)
		fprintf(c->fp, "%s\n", batch->records[i].id);
	fflush(c->fp);
	res->status = AX_OUT_OK;
}

const struct ax_output_ops PLUGIN_OPS = {
#ifdef COUNT_BAD_ABI
	.abi_version = AX_OUTPUT_ABI_VERSION + 1,
#else
	.abi_version = AX_OUTPUT_ABI_VERSION,
#endif
	.conf = { "count", "test plugin: counts records, fails on demand", count_tables,
		  sizeof(struct count_conf), NULL },
	.create = count_create,
	.send = count_send,
	.destroy = count_destroy,
};

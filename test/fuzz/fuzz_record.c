/* fuzz_record.c - one raw record through decode, map and splice (what
 * `annexa map` and every source do with each record), then the enriched
 * record through every output formatter.
 *
 * Properties: ax_process never crashes, whatever the bytes; an enriched
 * record is the input with members spliced in before its last '}', and
 * valid JSON; the formatters keep their promises (fuzz_common.c). */
#define _GNU_SOURCE /* memrchr */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "diag.h"
#include "enrich.h"
#include "fuzz_common.h"
#include "rules.h"

#define MAX_RECORD (1u << 20)
#define MAX_DEPTH 64

static struct ax_rules *rules;
static struct ax_processor proc;

static void setup(void)
{
	struct ax_diag diag;
	ax_diag_init(&diag);
	rules = ax_rules_load(NULL, &diag);
	ax_diag_finish(&diag);
	FUZZ_CHECK(rules != NULL);
	FUZZ_CHECK(ax_processor_init(&proc, rules, MAX_DEPTH, MAX_RECORD) == AX_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules)
		setup();
	static const struct ax_origin origin = {
		.source = "fuzz", .type = "map", .host = "fwd-1", .version = "0.1.0",
	};
	if (ax_process(&proc, (const char *)data, size, &origin) != AX_OK) {
		FUZZ_CHECK(proc.reason[0] != '\0');
		return 0;
	}
	const struct ax_record *r = &proc.record;
	/* the original bytes are kept: members go in before the closing
	 * brace, and everything else is the input's */
	const char *close = memrchr(data, '}', size);
	FUZZ_CHECK(close != NULL);
	size_t head = (size_t)(close - (const char *)data), tail = size - head;
	FUZZ_CHECK(r->len > size && memcmp(r->json, data, head) == 0);
	FUZZ_CHECK(memcmp(r->json + r->len - tail, close, tail) == 0);
	FUZZ_CHECK(r->ncontrols > 0); /* never empty: the baseline at least */
	char *copy = malloc(r->len + 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, r->json, r->len);
	copy[r->len] = '\0';
	char err[128];
	yajl_val root = yajl_tree_parse(copy, err, sizeof(err));
	FUZZ_CHECK(YAJL_IS_OBJECT(root));
	yajl_tree_free(root);
	free(copy);
	fuzz_format_all(r, true);
	return 0;
}

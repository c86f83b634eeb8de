/* fuzz_rules.c - a user mapping-rule file (the `mapping_files` of the
 * config, `annexa map --rules`): JSON shape, rule keys, paths and
 * conditions, control ids, the conflict check and the index. When the
 * file loads, a few records are mapped with it.
 *
 * The built-in rules are left out (loading them is 95% of the time of a
 * run); the built-in baseline file goes in after the input instead, so a
 * set can be complete without the input having to hold a fallback rule. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "enrich.h"
#include "fuzz_common.h"
#include "rules.h"
#include "schema_data.h"

#define MAX_RULES_FILE (256u << 10)

static const char *const records[] = {
	"{\"Id\":\"1\",\"RecordType\":15,\"Operation\":\"UserLoginFailed\",\"Workload\":\"AzureActiveDirectory\","
	"\"ResultStatus\":\"Failed\",\"UserId\":\"a@b.c\",\"ClientIP\":\"203.0.113.9\"}",
	"{\"Id\":\"2\",\"RecordType\":1,\"Operation\":\"Set-Mailbox\",\"Workload\":\"Exchange\","
	"\"Parameters\":[{\"Name\":\"Identity\",\"Value\":\"x\"}],\"ModifiedProperties\":[{\"Name\":\"A\",\"NewValue\":\"1\",\"OldValue\":\"0\"}]}",
	"{\"id\":\"3\",\"severity\":\"high\",\"category\":\"InitialAccess\",\"serviceSource\":\"microsoftDefenderForEndpoint\","
	"\"createdDateTime\":\"2024-01-01T00:00:00Z\",\"title\":\"t\"}",
};

static char baseline[64];

static void setup(void)
{
	const struct ax_schema_file *f = ax_schema_file("schemas/mappings/baseline.json");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fuzz_memfile((const uint8_t *)f->data, f->len, baseline) >= 0); /* open until exit */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_RULES_FILE)
		return 0;
	if (!baseline[0])
		setup();
	char path[64];
	int fd = fuzz_memfile(data, size, path);
	if (fd < 0)
		return 0;
	char *items[] = { path, baseline };
	struct ax_strlist files = { .items = items, .count = 2 };
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_rules *rules = ax_rules_load_from(&files, false, &diag);
	FUZZ_CHECK(rules != NULL || diag.count > 0); /* a refusal says why */
	if (rules) {
		struct ax_processor proc;
		static const struct ax_origin origin = {
			.source = "fuzz", .type = "map", .host = "fwd-1", .version = "0.1.0",
		};
		if (ax_processor_init(&proc, rules, 64, 1u << 20) == AX_OK)
			for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++)
				FUZZ_CHECK(ax_process(&proc, records[i], strlen(records[i]), &origin) == AX_OK &&
					   proc.record.ncontrols > 0);
		ax_processor_finish(&proc);
		ax_rules_destroy(rules);
	}
	ax_diag_finish(&diag);
	close(fd);
	return 0;
}

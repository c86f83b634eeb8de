/* fuzz_config.c - the INI config loader (libinih through our line reader,
 * ${ENV} expansion, every option table, the cross-key validators) on an
 * arbitrary file, then check-config's printing of what it found.
 *
 * Inputs naming plugin_dir, a *_file key or an rdkafka.* key are skipped:
 * those make the loader dlopen or read whatever path the input names
 * (a plugin, a secret file, librdkafka's plugin.library.paths), which is
 * what they are for, not a parsing question. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "fuzz_common.h"

#define MAX_CONFIG (64u << 10)

static bool names_a_path_key(const uint8_t *data, size_t size)
{
	static const char *const words[] = { "plugin_dir", "_file", "rdkafka." };
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t n = strlen(words[w]);
		for (size_t i = 0; i + n <= size; i++)
			if (strncasecmp((const char *)data + i, words[w], n) == 0)
				return true;
	}
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("FUZZ_SET", "value", 1);
	unsetenv("FUZZ_UNSET");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_CONFIG || names_a_path_key(data, size))
		return 0;
	char path[64];
	int fd = fuzz_memfile(data, size, path);
	if (fd < 0)
		return 0;
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(path, &diag);
	FUZZ_CHECK(cfg != NULL || diag.count > 0); /* a refusal says why */
	for (size_t i = 0; i < diag.count; i++)
		FUZZ_CHECK(diag.items[i].msg && diag.items[i].line >= 0);
	FILE *sink = fopen("/dev/null", "w");
	if (sink) {
		ax_diag_print(&diag, sink);
		fclose(sink);
	}
	ax_config_destroy(cfg);
	ax_diag_finish(&diag);
	close(fd);
	return 0;
}

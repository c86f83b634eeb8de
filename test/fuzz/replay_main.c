/* replay_main.c - runs a fuzz target without libFuzzer.
 *
 * Linked into every target when the build is not a fuzz build (gcc, the
 * default), so `meson test --suite fuzz-replay` feeds each file of the
 * target's corpus (seeds and the regression inputs of crashes found) through
 * LLVMFuzzerTestOneInput on every build. Arguments are files or directories
 * (every regular file in them, in name order). Exit 0 once all ran; a bug
 * the input triggers aborts (under ASan/UBSan, or the target's own checks). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT (16u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *data = malloc(REPLAY_MAX_INPUT);
	size_t n = data ? fread(data, 1, REPLAY_MAX_INPUT, f) : 0;
	int bad = !data || ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: cannot read (or larger than %u bytes)\n", path, REPLAY_MAX_INPUT);
		free(data);
		return -1;
	}
	/* A copy of exactly n bytes, so ASan sees a read past the input. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(data);
		return -1;
	}
	memcpy(exact, data, n);
	free(data);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = malloc(strlen(dir) + strlen(e->d_name) + 2))) {
			names = grown ? grown : names;
			rc = -1;
			break;
		}
		names = grown;
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			rc = run_file(names[i]);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	unsigned count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		int rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : (count++, run_file(argv[i]));
		if (rc)
			return 1;
	}
	if (count == 0) {
		fprintf(stderr, "no input to replay\n");
		return 1;
	}
	printf("%u inputs replayed\n", count);
	return 0;
}

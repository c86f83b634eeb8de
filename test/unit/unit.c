#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

char *unit_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/annexa-unit-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(path))
		fail_msg("mkdtemp %s: %s", path, strerror(errno));
	char *dir = strdup(path);
	assert_non_null(dir);
	return dir;
}

void unit_tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

char *unit_write_file(const char *dir, const char *name, const char *data, size_t len)
{
	if (len == SIZE_MAX)
		len = strlen(data);
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	assert_non_null(path);
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

char *unit_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	char *data = malloc(cap);
	assert_non_null(data);
	for (;;) {
		n += fread(data + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		cap *= 2;
		data = realloc(data, cap);
		assert_non_null(data);
	}
	assert_false(ferror(f));
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

void unit_each_corpus_file(const char *path, void (*fn)(const char *file, void *ctx), void *ctx)
{
	struct stat st;
	if (stat(path, &st) != 0)
		fail_msg("cannot stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (strstr(path, ".provenance.") == NULL)
			fn(path, ctx);
		return;
	}
	DIR *dir = opendir(path);
	assert_non_null(dir);
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		char child[4096];
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		unit_each_corpus_file(child, fn, ctx);
	}
	closedir(dir);
}

bool unit_diag_has(const struct ax_diag *d, int line, const char *text)
{
	for (size_t i = 0; i < d->count; i++)
		if ((line < 0 || d->items[i].line == line) && strstr(d->items[i].msg, text))
			return true;
	return false;
}

void unit_diag_dump(const struct ax_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		print_error("diag %s:%d: %s\n", d->items[i].file, d->items[i].line, d->items[i].msg);
}

void unit_assert_contains(const char *haystack, const char *needle, const char *file, int line)
{
	if (haystack && needle && strstr(haystack, needle))
		return;
	print_error("'%s' not found in '%s'\n", needle ? needle : "(null)", haystack ? haystack : "(null)");
	_fail(file, line);
}

void unit_assert_not_contains(const char *haystack, const char *needle, const char *file, int line)
{
	if (haystack && needle && !strstr(haystack, needle))
		return;
	print_error("'%s' unexpectedly found in '%s'\n", needle ? needle : "(null)", haystack ? haystack : "(null)");
	_fail(file, line);
}

void unit_quiet_logs(void)
{
	ax_log_set_level(AX_LOG_ERROR);
}

struct ax_catalog unit_catalog;

int unit_catalog_setup(void **state)
{
	(void)state;
	struct ax_diag diag;
	ax_diag_init(&diag);
	ax_err err = ax_catalog_load(&unit_catalog, &diag);
	ax_diag_finish(&diag);
	return err ? -1 : 0;
}

int unit_catalog_teardown(void **state)
{
	(void)state;
	ax_catalog_finish(&unit_catalog);
	return 0;
}

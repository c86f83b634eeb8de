/* unit.h - helpers shared by the cmocka unit tests.
 *
 * Every test binary links unit.c. Include this instead of cmocka.h: it pulls
 * in what cmocka needs first, in the order cmocka wants. */
#ifndef AX_TEST_UNIT_UNIT_H
#define AX_TEST_UNIT_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "catalog.h"
#include "diag.h"

#define UNIT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A fresh private directory under $TMPDIR (or /tmp); removed, with every
 * file in it, by unit_tmpdir_remove. Fails the test when it cannot be made. */
char *unit_tmpdir(void);
void unit_tmpdir_remove(char *dir);

/* Writes len bytes (len SIZE_MAX: strlen) to DIR/NAME; returns the path (free it). */
char *unit_write_file(const char *dir, const char *name, const char *data, size_t len);
/* The whole file, NUL-terminated, length in *len (may be NULL); free it. */
char *unit_read_file(const char *path, size_t *len);

/* Calls fn for path, or for every file below it when it is a directory, but
 * for hidden files, README.md and provenance files (corpus/x.provenance.jsonl). */
void unit_each_corpus_file(const char *path, void (*fn)(const char *file, void *ctx), void *ctx);

/* True if some diagnostic is at line (-1: any line) and contains text. */
bool unit_diag_has(const struct ax_diag *d, int line, const char *text);
/* Prints every diagnostic to stderr, to explain a failed assertion. */
void unit_diag_dump(const struct ax_diag *d);

/* Asserts that haystack contains needle, printing both when it does not. */
#define assert_contains(haystack, needle) \
	unit_assert_contains((haystack), (needle), __FILE__, __LINE__)
void unit_assert_contains(const char *haystack, const char *needle, const char *file, int line);
#define assert_not_contains(haystack, needle) \
	unit_assert_not_contains((haystack), (needle), __FILE__, __LINE__)
void unit_assert_not_contains(const char *haystack, const char *needle, const char *file, int line);

/* cmocka group setup and teardown around unit_catalog, the built-in catalogs. */
extern struct ax_catalog unit_catalog;
int unit_catalog_setup(void **state);
int unit_catalog_teardown(void **state);

/* Keeps warnings the code under test logs on purpose out of the output. */
void unit_quiet_logs(void);

#endif

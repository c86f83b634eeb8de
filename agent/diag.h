/* diag.h - a list of "FILE:LINE: message" diagnostics.
 *
 * Config and rule loading collect every problem they find instead of stopping
 * at the first, so one run of `annexa check-config` shows all of them. */
#ifndef AX_AGENT_DIAG_H
#define AX_AGENT_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct ax_diag_item {
	char *file;
	int line; /* 0: not tied to a line */
	char *msg;
};

struct ax_diag {
	struct ax_diag_item *items;
	size_t count;
	size_t cap;
};

void ax_diag_init(struct ax_diag *d);
void ax_diag_finish(struct ax_diag *d);
void ax_diag_add(struct ax_diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ax_diag_print(const struct ax_diag *d, FILE *out);

#endif

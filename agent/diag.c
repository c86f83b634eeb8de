#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ax_diag_init(struct ax_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void ax_diag_finish(struct ax_diag *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	ax_diag_init(d);
}

void ax_diag_add(struct ax_diag *d, const char *file, int line, const char *fmt, ...)
{
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct ax_diag_item *items = realloc(d->items, cap * sizeof(*items));
		if (!items)
			return; /* out of memory: the caller still fails, with fewer details */
		d->items = items;
		d->cap = cap;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct ax_diag_item *it = &d->items[d->count];
	it->file = strdup(file ? file : "");
	it->msg = strdup(msg);
	it->line = line;
	if (!it->file || !it->msg) {
		free(it->file);
		free(it->msg);
		return;
	}
	d->count++;
}

void ax_diag_print(const struct ax_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct ax_diag_item *it = &d->items[i];
		if (it->line > 0)
			fprintf(out, "%s:%d: %s\n", it->file, it->line, it->msg);
		else
			fprintf(out, "%s: %s\n", it->file, it->msg);
	}
}

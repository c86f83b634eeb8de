/* secret.h - a value that must never reach a log, a metric or a dump.
 *
 * There is deliberately no printer. The memory is wiped when freed. */
#ifndef AX_AGENT_SECRET_H
#define AX_AGENT_SECRET_H

#include <stddef.h>

struct ax_secret {
	size_t len;
	char value[]; /* NUL-terminated */
};

struct ax_secret *ax_secret_new(const char *value, size_t len);
void ax_secret_free(struct ax_secret *s);

#endif

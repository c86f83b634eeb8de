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

/* Whether the file at path is fit to hold a secret: readable by no one
 * but its owner and group (mode at most 0640) and owned by the agent's
 * user or root. 0: fit (or not there: reading it says so); 1: not, with
 * why filled in (the path, the mode, the owner; never the content). */
int ax_secret_file_check(const char *path, char *why, size_t len);

#endif

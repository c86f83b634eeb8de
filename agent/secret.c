#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ax_secret *ax_secret_new(const char *value, size_t len)
{
	struct ax_secret *s = malloc(sizeof(*s) + len + 1);
	if (!s)
		return NULL;
	s->len = len;
	memcpy(s->value, value, len);
	s->value[len] = '\0';
	return s;
}

int ax_secret_file_check(const char *path, char *why, size_t len)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	uid_t me = geteuid();
	if ((st.st_mode & 0137) != 0)
		snprintf(why, len, "secret file %s has mode %04o, wider than 0640 (its owner alone may write it, its "
			 "owner and group read it); chmod 0600, or 0640 with the agent's group", path,
			 (unsigned)(st.st_mode & 07777));
	else if (st.st_uid != me && st.st_uid != 0)
		snprintf(why, len, "secret file %s is owned by uid %u, neither the agent's (%u) nor root; chown it",
			 path, (unsigned)st.st_uid, (unsigned)me);
	else
		return 0;
	return 1;
}

void ax_secret_free(struct ax_secret *s)
{
	if (!s)
		return;
	explicit_bzero(s->value, s->len);
	free(s);
}

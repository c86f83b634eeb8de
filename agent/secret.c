#include "secret.h"

#include <stdlib.h>
#include <string.h>

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

void ax_secret_free(struct ax_secret *s)
{
	if (!s)
		return;
	explicit_bzero(s->value, s->len);
	free(s);
}

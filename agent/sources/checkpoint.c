#include "sources/checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sources/statefile.h"

#define MAGIC "annexa-checkpoint 1\n"
#define MAX_FILE 4096

static bool parse_field(const char *line, size_t len, struct ax_checkpoint *cp)
{
	char name[32];
	long long value;
	char tail;
	char copy[128];
	if (len >= sizeof(copy))
		return false;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (sscanf(copy, "%31s %lld%c", name, &value, &tail) != 2)
		return false;
	if (strcmp(name, "cursor") == 0)
		cp->cursor = value;
	else if (strcmp(name, "subscribed_at") == 0)
		cp->subscribed_at = value;
	/* other names: written by a later version, not needed here */
	return true;
}

static ax_err parse(const char *text, size_t len, struct ax_checkpoint *cp)
{
	size_t magic = strlen(MAGIC);
	if (len < magic || memcmp(text, MAGIC, magic) != 0)
		return AX_ERR_JSON;
	struct ax_checkpoint out = { 0 };
	for (size_t at = magic; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		if (!nl)
			return AX_ERR_JSON; /* a torn last line */
		size_t n = (size_t)(nl - (text + at));
		if (n == 3 && memcmp(text + at, "end", 3) == 0) {
			*cp = out;
			return AX_OK;
		}
		if (!parse_field(text + at, n, &out))
			return AX_ERR_JSON;
		at += n + 1;
	}
	return AX_ERR_JSON; /* no "end": cut short */
}

ax_err ax_checkpoint_load(const char *path, struct ax_checkpoint *cp, bool *found)
{
	struct ax_buf b;
	ax_buf_init(&b, MAX_FILE);
	ax_err err = ax_state_read(path, &b, found);
	if (err == AX_ERR_TOO_LARGE)
		err = AX_ERR_JSON;
	if (!err && *found)
		err = parse(b.data, b.len, cp);
	ax_buf_finish(&b);
	return err;
}

ax_err ax_checkpoint_save(const char *path, const struct ax_checkpoint *cp)
{
	char text[256];
	int n = snprintf(text, sizeof(text), MAGIC "cursor %" PRId64 "\nsubscribed_at %" PRId64 "\nend\n",
			 cp->cursor, cp->subscribed_at);
	return ax_state_write(path, text, (size_t)n);
}

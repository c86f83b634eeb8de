#include "sources/checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sources/statefile.h"

#define MAGIC "annexa-checkpoint 1\n"
#define MAX_FILE 4096
#define MAX_FIELDS 8

static bool parse_field(const char *line, size_t len, const struct ax_checkpoint_field *fields, int64_t *values)
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
	for (size_t i = 0; fields[i].name; i++)
		if (strcmp(name, fields[i].name) == 0)
			values[i] = value;
	/* other names: written by a later version, not needed here */
	return true;
}

/* Every field is set, or none: a damaged file leaves them as they were. */
static ax_err parse(const char *text, size_t len, const struct ax_checkpoint_field *fields)
{
	size_t magic = strlen(MAGIC);
	if (len < magic || memcmp(text, MAGIC, magic) != 0)
		return AX_ERR_JSON;
	int64_t values[MAX_FIELDS] = { 0 };
	for (size_t at = magic; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		if (!nl)
			return AX_ERR_JSON; /* a torn last line */
		size_t n = (size_t)(nl - (text + at));
		if (n == 3 && memcmp(text + at, "end", 3) == 0) {
			for (size_t i = 0; fields[i].name; i++)
				*fields[i].value = values[i];
			return AX_OK;
		}
		if (!parse_field(text + at, n, fields, values))
			return AX_ERR_JSON;
		at += n + 1;
	}
	return AX_ERR_JSON; /* no "end": cut short */
}

static size_t count_fields(const struct ax_checkpoint_field *fields)
{
	size_t n = 0;
	while (fields[n].name)
		n++;
	return n;
}

ax_err ax_checkpoint_fields_load(const char *path, const struct ax_checkpoint_field *fields, bool *found)
{
	if (count_fields(fields) > MAX_FIELDS)
		return AX_ERR_USAGE;
	struct ax_buf b;
	ax_buf_init(&b, MAX_FILE);
	ax_err err = ax_state_read(path, &b, found);
	if (err == AX_ERR_TOO_LARGE)
		err = AX_ERR_JSON;
	if (!err && *found)
		err = parse(b.data, b.len, fields);
	ax_buf_finish(&b);
	return err;
}

ax_err ax_checkpoint_fields_save(const char *path, const struct ax_checkpoint_field *fields)
{
	if (count_fields(fields) > MAX_FIELDS)
		return AX_ERR_USAGE;
	char text[MAX_FIELDS * 64 + 64];
	size_t used = (size_t)snprintf(text, sizeof(text), "%s", MAGIC);
	for (size_t i = 0; fields[i].name; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%.31s %" PRId64 "\n", fields[i].name,
					 *fields[i].value);
	used += (size_t)snprintf(text + used, sizeof(text) - used, "end\n");
	return ax_state_write(path, text, used);
}

static void checkpoint_fields(struct ax_checkpoint *cp, struct ax_checkpoint_field out[3])
{
	out[0] = (struct ax_checkpoint_field){ "cursor", &cp->cursor };
	out[1] = (struct ax_checkpoint_field){ "subscribed_at", &cp->subscribed_at };
	out[2] = (struct ax_checkpoint_field){ NULL, NULL };
}

ax_err ax_checkpoint_load(const char *path, struct ax_checkpoint *cp, bool *found)
{
	struct ax_checkpoint_field fields[3];
	checkpoint_fields(cp, fields);
	return ax_checkpoint_fields_load(path, fields, found);
}

ax_err ax_checkpoint_save(const char *path, const struct ax_checkpoint *cp)
{
	struct ax_checkpoint copy = *cp;
	struct ax_checkpoint_field fields[3];
	checkpoint_fields(&copy, fields);
	return ax_checkpoint_fields_save(path, fields);
}

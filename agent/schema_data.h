/* schema_data.h - the files of schemas/, built into the binary.
 *
 * Built in so that the agent and its rules can never be out of step: what a
 * release maps is what it was tested with. User rule files add to them. */
#ifndef AX_AGENT_SCHEMA_DATA_H
#define AX_AGENT_SCHEMA_DATA_H

#include <stddef.h>

struct ax_schema_file {
	const char *name; /* path relative to the source tree, e.g. schemas/mappings/x.json */
	const char *data; /* NUL-terminated */
	size_t len;
};

/* NULL-name-terminated. */
extern const struct ax_schema_file ax_schema_files[];

const struct ax_schema_file *ax_schema_file(const char *name);

#endif

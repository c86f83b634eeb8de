/* source.h - the source types and their configuration.
 *
 * A source pulls raw records (Microsoft 365 APIs, files) and hands them to the
 * pipeline with their origin. This header declares the option tables and
 * config structs of each type; the config loader finds a type by name. */
#ifndef AX_AGENT_SOURCES_SOURCE_H
#define AX_AGENT_SOURCES_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "option.h"
#include "secret.h"

enum ax_cloud { AX_CLOUD_COMMERCIAL, AX_CLOUD_GCC, AX_CLOUD_GCC_HIGH, AX_CLOUD_DOD };

/* type = o365 | graph_alerts | graph_audit: one shape, a few keys apart. */
struct ax_ms_source_conf {
	int cloud;
	char *tenant_id;
	char *client_id;
	struct ax_secret *client_secret;
	char *certificate_file;
	char *private_key_file;
	struct ax_strlist content_types; /* o365 */
	struct ax_strlist logs;          /* graph_audit */
	int64_t poll_interval;
	int64_t backfill;
	char *login_url;
	char *api_url;
	char *graph_url;
	char *proxy;
	char *publisher_id;
};

struct ax_file_source_conf {
	char *path;
	bool follow;
};

const struct ax_conf_kind *ax_source_kind_find(const char *name);
void ax_source_kind_names(char *out, size_t len);
/* NULL-terminated, for generated documentation. */
extern const struct ax_conf_kind *const ax_source_kinds[];

#endif

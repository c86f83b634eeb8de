/* mgmt_api.h - the Office 365 Management Activity API's requests and
 * answers (m365-api.md section 2): URLs with PublisherIdentifier on every
 * one, the subscription list, and content listings. */
#ifndef AX_AGENT_SOURCES_MGMT_API_H
#define AX_AGENT_SOURCES_MGMT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* {root}{op}?contentType=…&startTime=…&endTime=…&PublisherIdentifier=…;
 * content_type NULL and start == end == 0 leave those parameters out. */
char *ax_mgmt_url(const char *root, const char *op, const char *content_type, const char *publisher,
		  int64_t start, int64_t end);
/* url as given, with PublisherIdentifier appended only when it has none
 * (NextPageUri may drop it; contentUri never has it). */
char *ax_mgmt_with_publisher(const char *url, const char *publisher);

enum ax_sub_state { AX_SUB_NONE, AX_SUB_ENABLED, AX_SUB_DISABLED };
/* The state of content_type's subscription in a subscriptions/list answer
 * (an entry without status counts as enabled, as in the documented sample).
 * AX_ERR_JSON when the answer is not a list of subscriptions. */
ax_err ax_mgmt_subscription(const char *body, const char *content_type, enum ax_sub_state *state) AX_WARN_UNUSED;
/* Whether a subscriptions/start answer is content_type's subscription,
 * enabled (no status: enabled, as above). A 200 that is not (a proxy's
 * page) says nothing of whether it started. */
bool ax_mgmt_started(const char *body, const char *content_type);

struct ax_blob_ref {
	char *id;       /* contentId */
	char *uri;      /* contentUri, or {root}audit/{contentId} when the entry has none */
	int64_t created; /* contentCreated, epoch s (0: unknown) */
	int64_t expires; /* contentExpiration, epoch s (0: unknown) */
};

struct ax_blob_refs {
	struct ax_blob_ref *items;
	size_t count, cap;
	size_t skipped; /* entries without a contentId or contentUri */
};

/* Appends the descriptors of a subscriptions/content page. AX_ERR_JSON
 * when the page is not a JSON array. */
ax_err ax_mgmt_parse_listing(const char *body, const char *root, struct ax_blob_refs *refs) AX_WARN_UNUSED;
void ax_blob_refs_clear(struct ax_blob_refs *refs);
void ax_blob_refs_finish(struct ax_blob_refs *refs);

#endif

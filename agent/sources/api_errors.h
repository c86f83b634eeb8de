/* api_errors.h - what an answer of the Management Activity API or of Graph
 * means for the client: the rules of m365-api.md 2.9, 4.4 and 7.
 *
 * Both APIs answer errors as {"error":{"code":…,"message":…}}; the client
 * keys on the code (the HTTP status of an AF code is not documented: AF429
 * comes as 429 or as 403) and falls back on the status. */
#ifndef AX_AGENT_SOURCES_API_ERRORS_H
#define AX_AGENT_SOURCES_API_ERRORS_H

#include <stddef.h>

#include "sources/api.h"

enum ax_api_class {
	AX_CLASS_OK,
	AX_CLASS_AUTH,         /* 401: a new token, then retry */
	AX_CLASS_THROTTLED,    /* wait (Retry-After) and retry */
	AX_CLASS_TRANSIENT,    /* back off and retry */
	AX_CLASS_GONE,
	AX_CLASS_UNSUBSCRIBED,
	AX_CLASS_BAD_WINDOW,
	AX_CLASS_FATAL,
	AX_CLASS_FAILED,
};

/* Classifies an HTTP answer; copies its error code and message (when the
 * body has them) to code and message. */
enum ax_api_class ax_api_classify(enum ax_api_family family, long status, const char *body, size_t len,
				  char *code, size_t code_len, char *message, size_t message_len);

#endif

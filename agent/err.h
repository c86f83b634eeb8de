/* err.h - the one error type of annexa.
 *
 * Values are append-only and never renumbered: scripts and logs may keep them.
 * Detailed context goes to the log at the point of failure; the code says
 * what kind of failure it was. */
#ifndef AX_AGENT_ERR_H
#define AX_AGENT_ERR_H

typedef enum ax_err {
	AX_OK = 0,
	AX_ERR_NOMEM,
	AX_ERR_IO,
	AX_ERR_CONFIG,
	AX_ERR_USAGE,
	AX_ERR_JSON,
	AX_ERR_TOO_LARGE,
	AX_ERR_TOO_DEEP,
	AX_ERR_NOT_OBJECT,
	AX_ERR_RULES,
	AX_ERR_UNSUPPORTED,
	AX_ERR_AGAIN, /* nothing yet: try again later */
	AX_ERR_LAST /* sentinel, keep last */
} ax_err;

#define AX_WARN_UNUSED __attribute__((warn_unused_result))

const char *ax_strerror(ax_err err);

#endif

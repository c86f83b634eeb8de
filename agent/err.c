#include "err.h"

const char *ax_strerror(ax_err err)
{
	switch (err) {
	case AX_OK: return "no error";
	case AX_ERR_NOMEM: return "out of memory";
	case AX_ERR_IO: return "input/output error";
	case AX_ERR_CONFIG: return "invalid configuration";
	case AX_ERR_USAGE: return "invalid usage";
	case AX_ERR_JSON: return "invalid JSON";
	case AX_ERR_TOO_LARGE: return "record too large";
	case AX_ERR_TOO_DEEP: return "record nested too deep";
	case AX_ERR_NOT_OBJECT: return "record is not a JSON object";
	case AX_ERR_RULES: return "invalid mapping rules";
	case AX_ERR_UNSUPPORTED: return "not supported";
	case AX_ERR_AGAIN: return "try again later";
	case AX_ERR_LAST: break;
	}
	return "unknown error";
}

#include "sources/api_errors.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#define MAX_ERROR_BODY (64u << 10)

struct code_class {
	const char *code;
	enum ax_api_class cls;
};

static const struct code_class management_codes[] = {
	{ "AF429", AX_CLASS_THROTTLED },
	{ "AF50000", AX_CLASS_TRANSIENT },
	{ "AF50005", AX_CLASS_TRANSIENT },
	{ "AF50006", AX_CLASS_TRANSIENT },
	{ "AF20050", AX_CLASS_GONE },
	{ "AF20051", AX_CLASS_GONE },
	{ "AF20052", AX_CLASS_GONE },
	{ "AF20022", AX_CLASS_UNSUBSCRIBED },
	{ "AF20023", AX_CLASS_UNSUBSCRIBED },
	{ "AF20030", AX_CLASS_BAD_WINDOW },
	{ "AF20055", AX_CLASS_BAD_WINDOW },
	{ "AF20031", AX_CLASS_BAD_WINDOW },
	{ "AF10001", AX_CLASS_FATAL },
	{ "AF20010", AX_CLASS_FATAL },
	{ "AF20011", AX_CLASS_FATAL },
	{ "AF20012", AX_CLASS_FATAL },
	{ "AF20013", AX_CLASS_FATAL },
	{ "AF20020", AX_CLASS_FATAL },
	{ NULL, AX_CLASS_FAILED },
};

static const struct code_class graph_codes[] = {
	{ "TooManyRequests", AX_CLASS_THROTTLED },
	{ "activityLimitReached", AX_CLASS_THROTTLED },
	{ "throttledRequest", AX_CLASS_THROTTLED },
	{ "InvalidAuthenticationToken", AX_CLASS_AUTH },
	{ "Authorization_RequestDenied", AX_CLASS_FATAL },
	{ NULL, AX_CLASS_FAILED },
};

static void copy_member(yajl_val error, const char *key, char *out, size_t len)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(error, path, yajl_t_string);
	if (v && len)
		snprintf(out, len, "%.*s", (int)strcspn(v->u.string, "\r\n"), v->u.string);
}

static void read_error(const char *body, size_t len, char *code, size_t code_len, char *message, size_t message_len)
{
	if (!body || len == 0 || len > MAX_ERROR_BODY || body[len] != '\0')
		return;
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	const char *path[] = { "error", NULL };
	yajl_val error = root ? yajl_tree_get(root, path, yajl_t_object) : NULL;
	if (error) {
		copy_member(error, "code", code, code_len);
		copy_member(error, "message", message, message_len);
	}
	yajl_tree_free(root);
}

static enum ax_api_class by_code(const struct code_class *table, const char *code)
{
	for (size_t i = 0; code[0] && table[i].code; i++)
		if (strcmp(table[i].code, code) == 0)
			return table[i].cls;
	return AX_CLASS_OK; /* unknown: the status decides */
}

static enum ax_api_class by_status(enum ax_api_family family, long status)
{
	if (status >= 200 && status < 300)
		return AX_CLASS_OK;
	if (status == 401)
		return AX_CLASS_AUTH;
	if (status == 429)
		return AX_CLASS_THROTTLED;
	if (status >= 500 || status == 408)
		return AX_CLASS_TRANSIENT;
	if (status == 404 || status == 410)
		return family == AX_API_MANAGEMENT ? AX_CLASS_GONE : AX_CLASS_FATAL;
	if (status == 403)
		return AX_CLASS_FATAL;
	return AX_CLASS_FAILED;
}

enum ax_api_class ax_api_classify(enum ax_api_family family, long status, const char *body, size_t len,
				  char *code, size_t code_len, char *message, size_t message_len)
{
	if (code_len)
		code[0] = '\0';
	if (message_len)
		message[0] = '\0';
	if (status >= 200 && status < 300)
		return AX_CLASS_OK;
	read_error(body, len, code, code_len, message, message_len);
	enum ax_api_class cls = by_code(family == AX_API_MANAGEMENT ? management_codes : graph_codes, code);
	if (cls == AX_CLASS_OK && family == AX_API_MANAGEMENT && strncmp(code, "AF5", 3) == 0)
		cls = AX_CLASS_TRANSIENT; /* AF5xxxx: "internal error, retry" */
	return cls != AX_CLASS_OK ? cls : by_status(family, status);
}

/* test_api_errors.c - what each answer of the Management Activity API and
 * of Graph means to the client (sources/api_errors.c): keyed on the error
 * code first (AF429 comes as 429 or as 403), on the status otherwise. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "sources/api_errors.h"

struct answer {
	enum ax_api_family family;
	long status;
	const char *code; /* NULL: a body without the error envelope */
	enum ax_api_class want;
};

static enum ax_api_class classify(const struct answer *a, char *code, char *message)
{
	char body[256];
	if (a->code)
		snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"why it failed\\nsecond line\"}}", a->code);
	else
		snprintf(body, sizeof(body), "<html>%ld</html>", a->status);
	return ax_api_classify(a->family, a->status, body, strlen(body), code, 48, message, 200);
}

static void test_management_codes(void **state)
{
	(void)state;
	const struct answer answers[] = {
		{ AX_API_MANAGEMENT, 200, NULL, AX_CLASS_OK },
		{ AX_API_MANAGEMENT, 429, "AF429", AX_CLASS_THROTTLED },
		{ AX_API_MANAGEMENT, 403, "AF429", AX_CLASS_THROTTLED },   /* the troubleshooting page's form */
		{ AX_API_MANAGEMENT, 429, NULL, AX_CLASS_THROTTLED },
		{ AX_API_MANAGEMENT, 500, "AF50000", AX_CLASS_TRANSIENT },
		{ AX_API_MANAGEMENT, 500, "AF50005", AX_CLASS_TRANSIENT },
		{ AX_API_MANAGEMENT, 400, "AF50099", AX_CLASS_TRANSIENT }, /* AF5xxxx: internal error, retry */
		{ AX_API_MANAGEMENT, 503, NULL, AX_CLASS_TRANSIENT },
		{ AX_API_MANAGEMENT, 408, NULL, AX_CLASS_TRANSIENT },
		{ AX_API_MANAGEMENT, 401, NULL, AX_CLASS_AUTH },
		{ AX_API_MANAGEMENT, 404, "AF20051", AX_CLASS_GONE },
		{ AX_API_MANAGEMENT, 410, "AF20050", AX_CLASS_GONE },
		{ AX_API_MANAGEMENT, 400, "AF20052", AX_CLASS_GONE },
		{ AX_API_MANAGEMENT, 404, NULL, AX_CLASS_GONE },
		{ AX_API_MANAGEMENT, 400, "AF20022", AX_CLASS_UNSUBSCRIBED },
		{ AX_API_MANAGEMENT, 400, "AF20023", AX_CLASS_UNSUBSCRIBED },
		{ AX_API_MANAGEMENT, 400, "AF20030", AX_CLASS_BAD_WINDOW },
		{ AX_API_MANAGEMENT, 400, "AF20055", AX_CLASS_BAD_WINDOW },
		{ AX_API_MANAGEMENT, 400, "AF20031", AX_CLASS_BAD_WINDOW },
		{ AX_API_MANAGEMENT, 403, "AF10001", AX_CLASS_FATAL },
		{ AX_API_MANAGEMENT, 403, "AF20010", AX_CLASS_FATAL },
		{ AX_API_MANAGEMENT, 400, "AF20011", AX_CLASS_FATAL },
		{ AX_API_MANAGEMENT, 400, "AF20013", AX_CLASS_FATAL },
		{ AX_API_MANAGEMENT, 400, "AF20020", AX_CLASS_FATAL },
		{ AX_API_MANAGEMENT, 403, NULL, AX_CLASS_FATAL },
		{ AX_API_MANAGEMENT, 400, "AF20002", AX_CLASS_FAILED },
		{ AX_API_GRAPH, 429, "TooManyRequests", AX_CLASS_THROTTLED },
		{ AX_API_GRAPH, 503, "serviceNotAvailable", AX_CLASS_TRANSIENT },
		{ AX_API_GRAPH, 504, NULL, AX_CLASS_TRANSIENT },
		{ AX_API_GRAPH, 401, "InvalidAuthenticationToken", AX_CLASS_AUTH },
		{ AX_API_GRAPH, 403, "Authorization_RequestDenied", AX_CLASS_FATAL },
		{ AX_API_GRAPH, 404, NULL, AX_CLASS_FATAL },
		{ AX_API_GRAPH, 400, "BadRequest", AX_CLASS_FAILED },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(answers); i++) {
		char code[48], message[200];
		enum ax_api_class got = classify(&answers[i], code, message);
		if (got != answers[i].want)
			fail_msg("answer %zu (%ld %s): class %d, want %d", i, answers[i].status,
				 answers[i].code ? answers[i].code : "-", got, answers[i].want);
		if (answers[i].code && answers[i].status >= 300) {
			assert_string_equal(code, answers[i].code);
			assert_string_equal(message, "why it failed"); /* one line, for the log */
		}
	}
}

static void test_bodies_that_are_not_errors(void **state)
{
	(void)state;
	char code[48], message[200];
	const char *odd[] = { "", "[1,2]", "{\"error\":\"AF429\"}", "{\"error\":{\"code\":5}}", "{\"error\":{" };
	for (size_t i = 0; i < UNIT_ARRAY_LEN(odd); i++) {
		assert_int_equal(ax_api_classify(AX_API_MANAGEMENT, 500, odd[i], strlen(odd[i]), code, sizeof(code),
						 message, sizeof(message)), AX_CLASS_TRANSIENT);
		assert_string_equal(code, "");
	}
	/* a long code is cut, never overflowed */
	char body[400];
	snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%0200d\"}}", 7);
	ax_api_classify(AX_API_GRAPH, 400, body, strlen(body), code, sizeof(code), message, sizeof(message));
	assert_int_equal(strlen(code), sizeof(code) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_management_codes),
		cmocka_unit_test(test_bodies_that_are_not_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

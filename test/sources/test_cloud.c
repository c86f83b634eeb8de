/* test_cloud.c - the endpoints of each Microsoft cloud (m365-api.md 1.6)
 * and the operator's overrides (sources/cloud.c). */
#include "unit.h"

#include <string.h>

#include "sources/cloud.h"

#define TENANT "007071c7-7edc-4d1d-a344-068ca9d75253"

static void expect(int cloud, const char *login, const char *api, const char *graph)
{
	struct ax_ms_source_conf c = { .cloud = cloud, .tenant_id = TENANT, .login_url = "", .api_url = "", .graph_url = "" };
	struct ax_endpoints e;
	char want[256];
	assert_int_equal(ax_endpoints_init(&e, &c), AX_OK);
	snprintf(want, sizeof(want), "%s/" TENANT "/oauth2/v2.0/token", login);
	assert_string_equal(e.token_url, want);
	snprintf(want, sizeof(want), "%s/api/v1.0/" TENANT "/activity/feed/", api);
	assert_string_equal(e.api_root, want);
	snprintf(want, sizeof(want), "%s/v1.0/", graph);
	assert_string_equal(e.graph_root, want);
	snprintf(want, sizeof(want), "%s/.default", api);
	assert_string_equal(e.api_scope, want);
	snprintf(want, sizeof(want), "%s/.default", graph);
	assert_string_equal(e.graph_scope, want);
	ax_endpoints_finish(&e);
}

static void test_clouds(void **state)
{
	(void)state;
	expect(AX_CLOUD_COMMERCIAL, "https://login.microsoftonline.com", "https://manage.office.com",
	       "https://graph.microsoft.com");
	expect(AX_CLOUD_GCC, "https://login.microsoftonline.com", "https://manage-gcc.office.com",
	       "https://graph.microsoft.com");
	expect(AX_CLOUD_GCC_HIGH, "https://login.microsoftonline.us", "https://manage.office365.us",
	       "https://graph.microsoft.us");
	expect(AX_CLOUD_DOD, "https://login.microsoftonline.us", "https://manage.protection.apps.mil",
	       "https://dod-graph.microsoft.us");
}

static void test_overrides(void **state)
{
	(void)state;
	struct ax_ms_source_conf c = { .cloud = AX_CLOUD_DOD, .tenant_id = TENANT, .login_url = "http://127.0.0.1:8080//",
				       .api_url = "https://proxy.example/m365", .graph_url = "http://[::1]:9" };
	struct ax_endpoints e;
	assert_int_equal(ax_endpoints_init(&e, &c), AX_OK);
	assert_string_equal(e.token_url, "http://127.0.0.1:8080/" TENANT "/oauth2/v2.0/token");
	assert_string_equal(e.api_root, "https://proxy.example/m365/api/v1.0/" TENANT "/activity/feed/");
	assert_string_equal(e.graph_root, "http://[::1]:9/v1.0/");
	/* where requests go changes, whose token they carry does not */
	assert_string_equal(e.api_scope, "https://manage.protection.apps.mil/.default");
	assert_string_equal(e.graph_scope, "https://dod-graph.microsoft.us/.default");
	ax_endpoints_finish(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clouds),
		cmocka_unit_test(test_overrides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_secret.c - memory that held a secret is wiped before it is freed.
 *
 * Linked with -Wl,--wrap=free: every free() of annexa's code goes through
 * __wrap_free, which looks for the test's secrets in the whole block
 * (malloc_usable_size) before it is handed back. A config with a client
 * secret from the environment and a HEC token from a file is loaded and
 * destroyed; a secret is made and freed. No freed block may still hold one. */
#include "unit.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "secret.h"

#define ENV_SECRET "envSecret-7f3c9d2e-needle"
#define FILE_SECRET "fileToken-1a2b3c4d-needle"

void __real_free(void *p);
void __wrap_free(void *p);

static size_t blocks_checked, blocks_with_secret;

static bool holds(const char *block, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; n >= k && i <= n - k; i++)
		if (block[i] == needle[0] && memcmp(block + i, needle, k) == 0)
			return true;
	return false;
}

void __wrap_free(void *p)
{
	if (p) {
		size_t n = malloc_usable_size(p);
		blocks_checked++;
		if (holds(p, n, ENV_SECRET) || holds(p, n, FILE_SECRET))
			blocks_with_secret++;
	}
	__real_free(p);
}

static void secret_wiped_on_free(void **state)
{
	(void)state;
	blocks_with_secret = 0;
	struct ax_secret *s = ax_secret_new(ENV_SECRET, strlen(ENV_SECRET));
	assert_non_null(s);
	assert_string_equal(s->value, ENV_SECRET);
	size_t before = blocks_checked;
	ax_secret_free(s);
	assert_int_equal(blocks_checked, before + 1); /* the wrapper saw it */
	assert_int_equal(blocks_with_secret, 0);
}

/* The wrapper does see a secret that is freed unwiped: the test can fail. */
static void unwiped_block_is_noticed(void **state)
{
	(void)state;
	blocks_with_secret = 0;
	char *copy = strdup(FILE_SECRET);
	assert_non_null(copy);
	free(copy);
	assert_int_equal(blocks_with_secret, 1);
	blocks_with_secret = 0;
}

static void config_secrets_wiped(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *token = unit_write_file(dir, "hec.token", FILE_SECRET "\n", SIZE_MAX);
	assert_int_equal(chmod(token, 0600), 0);
	char text[2048];
	snprintf(text, sizeof(text),
		 "[agent]\nstate_dir = %s\n\n"
		 "[source \"m365\"]\ntype = o365\ntenant_id = 00000000-0000-0000-0000-000000000001\n"
		 "client_id = 00000000-0000-0000-0000-000000000002\nclient_secret = ${ANNEXA_TEST_SECRET}\n\n"
		 "[output \"hec\"]\ntype = splunk_hec\nurl = https://127.0.0.1:8088\ntoken_file = %s\n",
		 dir, token);
	char *path = unit_write_file(dir, "annexa.conf", text, SIZE_MAX);
	setenv("ANNEXA_TEST_SECRET", ENV_SECRET, 1);
	blocks_with_secret = 0;
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_config *cfg = ax_config_load(path, &diag);
	if (!cfg)
		unit_diag_dump(&diag);
	assert_non_null(cfg);
	ax_config_destroy(cfg);
	ax_diag_finish(&diag);
	assert_int_equal(blocks_with_secret, 0);
	unsetenv("ANNEXA_TEST_SECRET");
	free(path);
	free(token);
	unit_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secret_wiped_on_free),
		cmocka_unit_test(unwiped_block_is_noticed),
		cmocka_unit_test(config_secrets_wiped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

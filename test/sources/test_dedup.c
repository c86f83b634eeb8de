/* test_dedup.c - the bounded set of seen ids (sources/dedup.c): keys of
 * GUIDs and of other ids, claim/confirm/release, the bound (oldest out
 * first), and a long random run checked against a simple model. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "sources/dedup.h"

static struct ax_key key_n(unsigned n)
{
	char id[40];
	snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", n * 2654435761u, n);
	struct ax_key k;
	assert_true(ax_key_of(&k, id, strlen(id)));
	return k;
}

static void test_keys(void **state)
{
	(void)state;
	struct ax_key a, b, c, d;
	const char *guid = "bc47202f-76a0-4f2c-8b70-dda6a8521d26";
	assert_true(ax_key_of(&a, guid, strlen(guid)));
	const uint8_t raw[16] = { 0xbc, 0x47, 0x20, 0x2f, 0x76, 0xa0, 0x4f, 0x2c,
				  0x8b, 0x70, 0xdd, 0xa6, 0xa8, 0x52, 0x1d, 0x26 };
	assert_memory_equal(a.b, raw, 16); /* a GUID is its own key */
	const char *upper = "BC47202F-76A0-4F2C-8B70-DDA6A8521D26";
	assert_true(ax_key_of(&b, upper, strlen(upper)));
	assert_memory_equal(a.b, b.b, 16);
	const char *other = "da637551227677560813_-961444813";
	assert_true(ax_key_of(&c, other, strlen(other)));
	assert_memory_not_equal(a.b, c.b, 16);
	/* parts are length-prefixed: ("ab","c") is not ("a","bc") */
	const char *p1[] = { "ab", "c" }, *p2[] = { "a", "bc" };
	assert_true(ax_key_of_parts(&c, p1, 2));
	assert_true(ax_key_of_parts(&d, p2, 2));
	assert_memory_not_equal(c.b, d.b, 16);
	/* almost a GUID is hashed, and differs from the GUID */
	const char *almost = "bc47202f-76a0-4f2c-8b70-dda6a8521d2g";
	assert_true(ax_key_of(&d, almost, strlen(almost)));
	assert_memory_not_equal(a.b, d.b, 16);
}

static void test_claim_confirm_release(void **state)
{
	(void)state;
	struct ax_dedup *d = ax_dedup_create(100);
	assert_non_null(d);
	struct ax_key a = key_n(1), b = key_n(2);
	assert_true(ax_dedup_claim(d, &a));
	assert_false(ax_dedup_claim(d, &a)); /* in flight: a repeat */
	assert_true(ax_dedup_claim(d, &b));
	ax_dedup_release(d, &b);             /* not delivered: forgotten */
	assert_false(ax_dedup_has(d, &b));
	assert_true(ax_dedup_claim(d, &b));
	ax_dedup_confirm(d, &a);
	ax_dedup_release(d, &a);             /* a delivered key stays */
	assert_true(ax_dedup_has(d, &a));
	assert_int_equal(ax_dedup_count(d), 2);
	ax_dedup_destroy(d);
}

static bool collect(const struct ax_key *k, void *arg)
{
	struct ax_key **out = arg;
	*(*out)++ = *k;
	return true;
}

static void test_bound_forgets_oldest(void **state)
{
	(void)state;
	size_t cap = 1000;
	struct ax_dedup *d = ax_dedup_create(cap);
	assert_non_null(d);
	for (unsigned i = 0; i < 2500; i++) {
		struct ax_key k = key_n(i);
		assert_true(ax_dedup_claim(d, &k));
		ax_dedup_confirm(d, &k);
	}
	assert_int_equal(ax_dedup_count(d), cap);
	for (unsigned i = 0; i < 2500; i++) {
		struct ax_key k = key_n(i);
		assert_int_equal(ax_dedup_has(d, &k), i >= 1500);
	}
	struct ax_key *all = calloc(cap, sizeof(*all)), *at = all;
	assert_non_null(all);
	assert_true(ax_dedup_each(d, collect, &at));
	assert_int_equal(at - all, cap);
	for (unsigned i = 0; i < cap; i++) { /* oldest first */
		struct ax_key k = key_n(1500 + i);
		assert_memory_equal(all[i].b, k.b, 16);
	}
	free(all);
	ax_dedup_destroy(d);
}

static void test_only_confirmed_are_listed(void **state)
{
	(void)state;
	struct ax_dedup *d = ax_dedup_create(10);
	struct ax_key a = key_n(1), b = key_n(2), c = key_n(3);
	ax_dedup_claim(d, &a);
	ax_dedup_claim(d, &b);
	ax_dedup_add(d, &c);
	ax_dedup_confirm(d, &a);
	struct ax_key out[3], *at = out;
	assert_true(ax_dedup_each(d, collect, &at));
	assert_int_equal(at - out, 2);
	assert_memory_equal(out[0].b, a.b, 16);
	assert_memory_equal(out[1].b, c.b, 16);
	ax_dedup_destroy(d);
}

/* A naive model: a FIFO of (n, state) in arrival order. */
struct model {
	unsigned n[600];
	int st[600]; /* 0 gone, 1 pending, 2 done */
	size_t count;
};

static int model_find(const struct model *m, unsigned n)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->n[i] == n && m->st[i])
			return (int)i;
	return -1;
}

static void test_random_against_model(void **state)
{
	(void)state;
	const size_t cap = 300;
	struct ax_dedup *d = ax_dedup_create(cap);
	struct model *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	srand(42);
	for (int step = 0; step < 200000; step++) {
		unsigned n = (unsigned)rand() % 700;
		struct ax_key k = key_n(n);
		int op = rand() % 4, at = model_find(m, n);
		if (op <= 1) {
			bool fresh = ax_dedup_claim(d, &k);
			assert_int_equal(fresh, at < 0);
			if (fresh) {
				if (m->count == cap) { /* the ring is full: the oldest slot goes */
					memmove(m->n, m->n + 1, (cap - 1) * sizeof(m->n[0]));
					memmove(m->st, m->st + 1, (cap - 1) * sizeof(m->st[0]));
					m->count--;
				}
				m->n[m->count] = n;
				m->st[m->count++] = 1;
			}
		} else if (op == 2) {
			ax_dedup_confirm(d, &k);
			if (at >= 0)
				m->st[at] = 2;
		} else {
			ax_dedup_release(d, &k);
			if (at >= 0 && m->st[at] == 1)
				m->st[at] = 0;
		}
		if (step % 997 == 0)
			for (unsigned i = 0; i < 700; i++) {
				struct ax_key q = key_n(i);
				assert_int_equal(ax_dedup_has(d, &q), model_find(m, i) >= 0);
			}
	}
	free(m);
	ax_dedup_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_claim_confirm_release),
		cmocka_unit_test(test_bound_forgets_oldest),
		cmocka_unit_test(test_only_confirmed_are_listed),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

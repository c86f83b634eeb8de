/* test_batch.c - the batch builder: records are copied in (the processor
 * moves on), sealed into stable pointers for the outputs, bounded in
 * bytes, cleared for reuse, and single records can be removed. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

static const char *const ctl_a[] = { "8.5", "5.17" };
static const char *const ctl_b[] = { "8.15" };
static const char *const ctl_c[] = { "5.15", "8.2", "8.16" };

/* Records from the processor always have controls; a first record without
 * any is undefined behaviour in batch.c (see test_known_bugs.c). */
#define CONTROLS(i) ((i) % 3 == 0 ? ctl_c : (i) % 3 == 1 ? ctl_a : ctl_b)
#define NCONTROLS(i) ((size_t)((i) % 3 == 0 ? 3 : (i) % 3 == 1 ? 2 : 1))

/* Record i, its strings in buf (the caller's scratch space). */
static struct ax_record make(char *buf, size_t len, int i)
{
	snprintf(buf, len, "{\"Id\":\"id-%d\"}XXXX|id-%d|2026-11-23T0%d:00:00|Work%d|Op%d|user%d@x|10.0.0.%d|cat%d|src%d|ct%d|ten%d",
		 i, i, i % 10, i, i, i, i % 256, i, i, i, i);
	/* split the scratch string into fields in place */
	char *f[12];
	size_t n = 0;
	for (char *p = buf; n < 12; p++) {
		f[n++] = p;
		p = strchr(p, '|');
		if (!p)
			break;
		*p = '\0';
	}
	assert_int_equal(n, 11);
	struct ax_record r = {
		.json = f[0], .len = strlen(f[0]) - 4, /* not NUL-terminated at len: "XXXX" follows */
		.id = f[1], .creation_time = f[2], .workload = f[3], .operation = f[4], .user = f[5],
		.client_ip = f[6], .category = f[7], .source = f[8], .content_type = f[9], .tenant = f[10],
		.severity = (enum ax_severity)(i % 5),
		.controls = CONTROLS(i),
		.ncontrols = NCONTROLS(i),
	};
	return r;
}

/* Record i as sealed: every string copied, control ids included. */
static void check(const struct ax_record *r, int i, const struct ax_buf *data)
{
	char want[128];
	snprintf(want, sizeof(want), "{\"Id\":\"id-%d\"}", i);
	if (r->len != strlen(want) || memcmp(r->json, want, r->len) != 0 || r->json[r->len] != '\0')
		fail_msg("record %d: json '%.*s'", i, (int)r->len, r->json);
	snprintf(want, sizeof(want), "id-%d", i);
	assert_string_equal(r->id, want);
	snprintf(want, sizeof(want), "2026-11-23T0%d:00:00", i % 10);
	assert_string_equal(r->creation_time, want);
	snprintf(want, sizeof(want), "Work%d", i);
	assert_string_equal(r->workload, want);
	snprintf(want, sizeof(want), "Op%d", i);
	assert_string_equal(r->operation, want);
	snprintf(want, sizeof(want), "user%d@x", i);
	assert_string_equal(r->user, want);
	snprintf(want, sizeof(want), "10.0.0.%d", i % 256);
	assert_string_equal(r->client_ip, want);
	snprintf(want, sizeof(want), "cat%d", i);
	assert_string_equal(r->category, want);
	snprintf(want, sizeof(want), "src%d", i);
	assert_string_equal(r->source, want);
	snprintf(want, sizeof(want), "ct%d", i);
	assert_string_equal(r->content_type, want);
	snprintf(want, sizeof(want), "ten%d", i);
	assert_string_equal(r->tenant, want);
	assert_int_equal(r->severity, i % 5);
	assert_int_equal(r->ncontrols, NCONTROLS(i));
	for (size_t k = 0; k < NCONTROLS(i); k++) {
		assert_string_equal(r->controls[k], CONTROLS(i)[k]);
		assert_true(r->controls[k] >= data->data && r->controls[k] < data->data + data->len);
	}
	/* the strings live in the batch, not in the caller's buffers */
	const char *const strings[] = { r->json, r->id, r->creation_time, r->workload, r->operation, r->user,
					r->client_ip, r->category, r->source, r->content_type, r->tenant };
	for (size_t k = 0; k < UNIT_ARRAY_LEN(strings); k++)
		assert_true(strings[k] >= data->data && strings[k] < data->data + data->len);
}

static void add(struct ax_batch_builder *b, int i)
{
	char buf[512];
	struct ax_record r = make(buf, sizeof(buf), i);
	assert_int_equal(ax_batch_builder_add(b, &r), AX_OK);
	memset(buf, '#', sizeof(buf)); /* the processor reuses its buffers */
}

static void test_copies(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 1 << 20);
	for (int i = 0; i < 6; i++)
		add(&b, i);
	assert_int_equal(b.count, 6);
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 6);
	for (int i = 0; i < 6; i++)
		check(&batch.records[i], i, &b.data);
	/* sealing again changes nothing */
	ax_batch_builder_seal(&b, &batch);
	for (int i = 0; i < 6; i++)
		check(&batch.records[i], i, &b.data);
	ax_batch_builder_finish(&b);
}

/* Growth: more records than the first allocation, controls included. */
static void test_many(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 16 << 20);
	for (int i = 0; i < 1000; i++)
		add(&b, i);
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 1000);
	for (int i = 0; i < 1000; i++)
		check(&batch.records[i], i, &b.data);
	ax_batch_builder_finish(&b);
}

/* Full: the record is refused and the batch is as it was. */
static void test_bounded(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 400);
	int added = 0;
	ax_err err = AX_OK;
	size_t bytes = 0;
	while (added < 100) {
		char buf[512];
		struct ax_record r = make(buf, sizeof(buf), added);
		bytes = ax_batch_builder_bytes(&b);
		if ((err = ax_batch_builder_add(&b, &r)) != AX_OK)
			break;
		added++;
	}
	assert_int_equal(err, AX_ERR_TOO_LARGE);
	assert_true(added > 0 && added < 10);
	assert_int_equal(b.count, (size_t)added);
	assert_int_equal(ax_batch_builder_bytes(&b), bytes);
	assert_true(bytes <= 400);
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, (size_t)added);
	for (int i = 0; i < added; i++)
		check(&batch.records[i], i, &b.data);

	/* clear makes room again */
	ax_batch_builder_clear(&b);
	assert_int_equal(b.count, 0);
	assert_int_equal(ax_batch_builder_bytes(&b), 0);
	add(&b, 42);
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 1);
	check(&batch.records[0], 42, &b.data);
	ax_batch_builder_finish(&b);
}

static void test_reuse(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 1 << 20);
	struct ax_batch batch;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 100; i++)
			add(&b, round * 100 + i);
		ax_batch_builder_seal(&b, &batch);
		assert_int_equal(batch.count, 100);
		for (int i = 0; i < 100; i++)
			check(&batch.records[i], round * 100 + i, &b.data);
		ax_batch_builder_clear(&b);
	}
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 0);
	ax_batch_builder_finish(&b);
	ax_batch_builder_finish(&b); /* finish twice is harmless */
}

/* Each record's controls are its own, whatever the order of sizes. */
static void test_controls(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 1 << 20);
	static const int order[] = { 2, 0, 1, 5, 3, 4, 2 };
	for (size_t k = 0; k < UNIT_ARRAY_LEN(order); k++)
		add(&b, order[k]);
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	for (size_t k = 0; k < UNIT_ARRAY_LEN(order); k++)
		check(&batch.records[k], order[k], &b.data);
	assert_int_equal(b.ncontrols, 1 + 3 + 2 + 1 + 3 + 2 + 1);
	ax_batch_builder_finish(&b);
}

/* Control ids that live in the caller's buffer (a record read back from
 * the spool has them in the reader's frame, which the next frame
 * overwrites) are the batch's own once added: found by the fault tests as
 * garbage in HEC indexed fields and Kafka headers. */
static void test_controls_outlive_the_callers_buffer(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 1 << 20);
	for (int i = 0; i < 200; i++) {
		char buf[512], ids[3][8];
		const char *controls[3];
		struct ax_record r = make(buf, sizeof(buf), i);
		for (size_t k = 0; k < NCONTROLS(i); k++) {
			snprintf(ids[k], sizeof(ids[k]), "%s", CONTROLS(i)[k]);
			controls[k] = ids[k];
		}
		r.controls = controls;
		assert_int_equal(ax_batch_builder_add(&b, &r), AX_OK);
		memset(ids, '#', sizeof(ids)); /* the next frame */
		memset(buf, '#', sizeof(buf));
	}
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	for (int i = 0; i < 200; i++)
		check(&batch.records[i], i, &b.data);
	ax_batch_builder_finish(&b);
}

/* Rejected records are taken out; the rest keep their order and data. */
static void test_remove(void **state)
{
	(void)state;
	struct ax_batch_builder b;
	ax_batch_builder_init(&b, 1 << 20);
	for (int i = 0; i < 10; i++)
		add(&b, i);
	struct ax_batch batch;
	ax_batch_builder_seal(&b, &batch);
	uint8_t drop[10] = { 1, 0, 0, 1, 1, 0, 0, 0, 0, 1 };
	ax_batch_builder_remove(&b, drop);
	assert_int_equal(b.count, 6);
	ax_batch_builder_seal(&b, &batch);
	static const int kept[] = { 1, 2, 5, 6, 7, 8 };
	for (size_t k = 0; k < UNIT_ARRAY_LEN(kept); k++)
		check(&batch.records[k], kept[k], &b.data);
	/* adding after a removal */
	add(&b, 11);
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 7);
	check(&batch.records[6], 11, &b.data);
	check(&batch.records[0], 1, &b.data);

	/* nothing flagged: nothing removed; everything flagged: empty */
	uint8_t none[7] = { 0 }, all[7] = { 1, 1, 1, 1, 1, 1, 1 };
	ax_batch_builder_remove(&b, none);
	assert_int_equal(b.count, 7);
	ax_batch_builder_remove(&b, all);
	assert_int_equal(b.count, 0);
	ax_batch_builder_seal(&b, &batch);
	assert_int_equal(batch.count, 0);
	ax_batch_builder_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_controls_outlive_the_callers_buffer),
		cmocka_unit_test(test_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_verify.c - verify.c: streams mixed and in any order are judged
 * each on its own; a deleted record is reported as its missing seq, an
 * edited one as the broken link (at its seq and input line), an exact
 * copy as a duplicate (not tampering), two intact records under one number
 * as a conflict, lines that are not annexa records as unreadable. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "verify.h"

#define ZEROS64 "0000000000000000000000000000000000000000000000000000000000000000"
#define MAX_LINES 256

/* An export: lines, each a sealed record (or anything a test puts there). */
struct input {
	char *line[MAX_LINES];
	size_t n;
	struct ax_chain_hasher *h;
	struct ax_link link[4]; /* streams a, b, c, d */
};

static const char *const names[] = { "a", "b/t-1/Audit.Exchange", "c", "d" };

static struct input *input_new(void)
{
	struct input *in = calloc(1, sizeof(*in));
	in->h = ax_chain_hasher_create();
	assert_non_null(in->h);
	return in;
}

static void input_free(struct input *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->line[i]);
	ax_chain_hasher_destroy(in->h);
	free(in);
}

/* The next record of stream s, after link (the stream's own by default). */
static char *sealed(struct input *in, int s, const char *body, struct ax_link *link)
{
	char text[512];
	snprintf(text, sizeof(text), "{\"Id\":\"%s\",\"annexa\":{\"source\":\"x\",\"stream\":\"%s\",\"seq\":%llu,"
		 "\"chain\":\"" ZEROS64 "\"}}", body, names[s], (unsigned long long)link->seq + 1);
	struct ax_chain_tail t;
	assert_true(ax_chain_tail_parse(text, strlen(text), &t));
	uint8_t chain[AX_CHAIN_LEN];
	struct ax_chain_slot slot = { .rec = text, .begin = t.begin, .end = t.end, .hex = t.hex };
	assert_int_equal(ax_chain_seal(in->h, &slot, link->chain, chain), AX_OK);
	link->seq++;
	memcpy(link->chain, chain, AX_CHAIN_LEN);
	return strdup(text);
}

static void add_line(struct input *in, char *line)
{
	assert_true(in->n < MAX_LINES);
	in->line[in->n++] = line;
}

/* n records of stream s, each its own line. */
static void add_records(struct input *in, int s, int n)
{
	char body[32];
	for (int i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "%s-%llu", names[s], (unsigned long long)in->link[s].seq + 1);
		add_line(in, sealed(in, s, body, &in->link[s]));
	}
}

static struct ax_verify *judge(const struct input *in, const struct ax_verify_report **r)
{
	struct ax_verify *v = ax_verify_create();
	assert_non_null(v);
	for (size_t i = 0; i < in->n; i++)
		assert_int_equal(ax_verify_add(v, in->line[i], strlen(in->line[i]), i + 1), AX_OK);
	assert_int_equal(ax_verify_finish(v, r), AX_OK);
	return v;
}

static const struct ax_verify_stream *stream(const struct ax_verify_report *r, int s)
{
	for (size_t i = 0; i < r->nstreams; i++)
		if (strcmp(r->streams[i].name, names[s]) == 0)
			return &r->streams[i];
	fail_msg("no stream %s", names[s]);
	return NULL;
}

/* Streams interleaved, lines shuffled, CRLF and blank lines: intact. */
static void test_intact(void **state)
{
	(void)state;
	struct input *in = input_new();
	for (int round = 0; round < 10; round++)
		for (int s = 0; s < 3; s++)
			add_records(in, s, 1 + (round + s) % 3);
	/* reversed halves (a Splunk export is newest first) */
	for (size_t i = 0; i < in->n / 2; i++) {
		char *t = in->line[i];
		in->line[i] = in->line[in->n - 1 - i];
		in->line[in->n - 1 - i] = t;
	}
	char *crlf = malloc(strlen(in->line[3]) + 3);
	sprintf(crlf, "%s\r\n", in->line[3]);
	free(in->line[3]);
	in->line[3] = crlf;
	add_line(in, strdup(""));
	add_line(in, strdup("   \t"));
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	assert_true(ax_verify_clean(r));
	assert_int_equal(r->nstreams, 3);
	assert_int_equal(r->records, in->n - 2);
	for (int s = 0; s < 3; s++) {
		const struct ax_verify_stream *st = stream(r, s);
		assert_int_equal(st->first, 1);
		assert_int_equal(st->last, in->link[s].seq);
		assert_int_equal(st->records, in->link[s].seq);
		assert_int_equal(st->missing_count + st->nbroken + st->nduplicates + st->nconflicts, 0);
	}
	assert_int_equal(r->nunreadable, 0);
	ax_verify_destroy(v);
	input_free(in);
}

/* The acceptance's case: a line deleted, a line edited; both, precisely. */
static void test_deleted_and_edited(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 0, 10);
	add_records(in, 1, 10);
	/* a: seq 4 deleted (line 4); b: seq 7 (line 17) edited */
	free(in->line[3]);
	memmove(&in->line[3], &in->line[4], (in->n - 4) * sizeof(char *));
	in->n--;
	char *edited = in->line[15];
	assert_non_null(strstr(edited, "\"seq\":7,"));
	edited[8] = 'X'; /* inside the Id */
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	assert_false(ax_verify_clean(r));
	assert_int_equal(r->missing, 1);
	assert_int_equal(r->broken, 1);
	assert_int_equal(r->duplicates + r->conflicts + r->nunreadable, 0);
	const struct ax_verify_stream *a = stream(r, 0), *b = stream(r, 1);
	assert_int_equal(a->nmissing, 1);
	assert_int_equal(a->missing[0].first, 4);
	assert_int_equal(a->missing[0].last, 4);
	assert_int_equal(a->nbroken, 0); /* seq 5 cannot be checked, and is not blamed */
	assert_int_equal(a->records, 9);
	assert_int_equal(b->nbroken, 1);
	assert_int_equal(b->broken[0].seq, 7);
	assert_int_equal(b->broken[0].line, 16);
	assert_int_equal(b->missing_count, 0);
	ax_verify_destroy(v);
	input_free(in);
}

/* An edit whose author recomputed the record's chain: the next one breaks. */
static void test_edit_with_new_chain(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 0, 3);
	struct ax_link before = { 0 };
	char *r1 = sealed(in, 0, "a-1", &before);
	assert_string_equal(r1, in->line[0]);
	free(r1);
	free(in->line[1]);
	in->line[1] = sealed(in, 0, "forged", &before); /* seq 2, a valid link to seq 1 */
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	const struct ax_verify_stream *a = stream(r, 0);
	assert_int_equal(a->nbroken, 1);
	assert_int_equal(a->broken[0].seq, 3);
	assert_int_equal(a->broken[0].line, 3);
	ax_verify_destroy(v);
	input_free(in);
}

/* The first record edited: it does not chain to the start (zero). */
static void test_first_edited(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 2, 2);
	in->line[0][8] = 'Z';
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	assert_int_equal(stream(r, 2)->nbroken, 1);
	assert_int_equal(stream(r, 2)->broken[0].seq, 1);
	assert_int_equal(stream(r, 2)->broken[0].line, 1);
	ax_verify_destroy(v);
	input_free(in);
}

/* At-least-once: the same bytes twice are a duplicate, not tampering. */
static void test_duplicates(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 0, 5);
	add_line(in, strdup(in->line[2]));
	add_line(in, strdup(in->line[2]));
	add_line(in, strdup(in->line[4]));
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	assert_true(ax_verify_clean(r));
	const struct ax_verify_stream *a = stream(r, 0);
	assert_int_equal(a->records, 5);
	assert_int_equal(a->nduplicates, 3);
	assert_int_equal(a->duplicates[0].seq, 3);
	assert_int_equal(a->duplicates[0].line, 6);
	assert_int_equal(a->duplicates[0].other, 3);
	assert_int_equal(a->duplicates[1].line, 7);
	assert_int_equal(a->duplicates[1].other, 3);
	assert_int_equal(a->duplicates[2].seq, 5);
	assert_int_equal(a->duplicates[2].other, 5);
	ax_verify_destroy(v);
	input_free(in);
}

/* Two intact records under one number (a stream numbered twice): a
 * conflict; an edited copy beside the original: broken. */
static void test_conflicts(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 0, 3);
	struct ax_link back = { 0 };
	free(sealed(in, 0, "a-1", &back)); /* back = after seq 1 */
	add_line(in, sealed(in, 0, "other", &back)); /* line 4: another seq 2 */
	add_line(in, strdup(in->line[2]));
	in->line[4][8] = 'Q'; /* line 5: an edited copy of seq 3 */
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	const struct ax_verify_stream *a = stream(r, 0);
	assert_false(ax_verify_clean(r));
	assert_int_equal(a->nconflicts, 1);
	assert_int_equal(a->conflicts[0].seq, 2);
	assert_int_equal(a->conflicts[0].line, 4);
	assert_int_equal(a->conflicts[0].other, 2);
	assert_int_equal(a->nbroken, 1);
	assert_int_equal(a->broken[0].seq, 3);
	assert_int_equal(a->broken[0].line, 5);
	assert_int_equal(a->nduplicates, 0);
	ax_verify_destroy(v);
	input_free(in);
}

/* An export window: the stream starts at seq 41; holes inside are ranges. */
static void test_window_and_ranges(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 3, 60);
	/* keep 41..60 minus 45..47 and 50 */
	size_t k = 0;
	for (size_t i = 0; i < in->n; i++) {
		uint64_t seq = i + 1;
		if (seq < 41 || (seq >= 45 && seq <= 47) || seq == 50)
			free(in->line[i]);
		else
			in->line[k++] = in->line[i];
	}
	in->n = k;
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	const struct ax_verify_stream *d = stream(r, 3);
	assert_int_equal(d->first, 41);
	assert_int_equal(d->last, 60);
	assert_int_equal(d->nmissing, 2);
	assert_int_equal(d->missing[0].first, 45);
	assert_int_equal(d->missing[0].last, 47);
	assert_int_equal(d->missing[1].first, 50);
	assert_int_equal(d->missing[1].last, 50);
	assert_int_equal(d->missing_count, 4);
	assert_int_equal(d->nbroken, 0);
	ax_verify_destroy(v);
	input_free(in);
}

static void test_unreadable(void **state)
{
	(void)state;
	struct input *in = input_new();
	add_records(in, 0, 2);
	add_line(in, strdup("hello"));
	add_line(in, strdup("{\"Id\":\"1\"}"));
	const char *line2 = in->line[1], *c = strstr(line2, "\"chain\":\"");
	char *reformatted = malloc(strlen(line2) + 2); /* "chain": "…, as a reformatting SIEM would */
	sprintf(reformatted, "%.*s %s", (int)(c + 8 - line2), line2, c + 8);
	add_line(in, reformatted);
	const struct ax_verify_report *r;
	struct ax_verify *v = judge(in, &r);
	assert_false(ax_verify_clean(r));
	assert_int_equal(r->nunreadable, 3);
	assert_int_equal(r->unreadable[0], 3);
	assert_int_equal(r->unreadable[2], 5);
	assert_int_equal(r->records, 2);
	assert_int_equal(r->missing + r->broken, 0);
	ax_verify_destroy(v);
	input_free(in);
}

static void test_empty(void **state)
{
	(void)state;
	struct ax_verify *v = ax_verify_create();
	const struct ax_verify_report *r;
	assert_int_equal(ax_verify_finish(v, &r), AX_OK);
	assert_int_equal(r->nstreams, 0);
	assert_true(ax_verify_clean(r));
	ax_verify_destroy(v);
	ax_verify_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_deleted_and_edited),
		cmocka_unit_test(test_edit_with_new_chain),
		cmocka_unit_test(test_first_edited),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_window_and_ranges),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

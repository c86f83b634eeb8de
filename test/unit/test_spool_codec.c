/* test_spool_codec.c - a spooled record decodes to the record encoded, for
 * strings of every length around the decoder's 16-byte steps, and a body
 * that is cut short, lacks a NUL or has bytes left over is refused (under
 * ASan: without reading past it). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spool_codec.h"

#define NFIELDS 11 /* the record's strings after the JSON, in spool order */
#define MAX_LEN 70

/* Lengths for field f of case c: every length from 0 to MAX_LEN comes up
 * in every field, at every offset from a 16-byte step. */
static size_t field_len(int c, int f)
{
	return (size_t)(c * 7 + f * 13) % (MAX_LEN + 1);
}

struct sample {
	char json[64];
	char str[NFIELDS][MAX_LEN + 1];
	char ctl[8][8];
	const char *controls[8];
	struct ax_record r;
};

static void fill(char *s, size_t len, char first)
{
	for (size_t i = 0; i < len; i++)
		s[i] = (char)(first + (char)(i % 26));
	s[len] = '\0';
}

static void make(struct sample *s, int c)
{
	size_t ncontrols = (size_t)c % 9; /* 0 to 8 */
	snprintf(s->json, sizeof(s->json), "{\"case\":%d}", c);
	for (int f = 0; f < NFIELDS; f++)
		fill(s->str[f], field_len(c, f), (char)('a' + f));
	for (size_t k = 0; k < ncontrols; k++) {
		snprintf(s->ctl[k], sizeof(s->ctl[k]), "%zu.%d", 5 + k % 4, c % 40);
		s->controls[k] = s->ctl[k];
	}
	s->r = (struct ax_record){
		.json = s->json, .len = strlen(s->json),
		.id = s->str[0], .creation_time = s->str[1], .workload = s->str[2], .operation = s->str[3],
		.user = s->str[4], .client_ip = s->str[5], .category = s->str[6], .rule = s->str[7],
		.source = s->str[8], .content_type = s->str[9], .tenant = s->str[10],
		.severity = (enum ax_severity)(c % 5), .controls = s->controls, .ncontrols = ncontrols,
	};
}

static void check(const struct ax_record *got, const struct ax_record *want, int c)
{
	const char *g[NFIELDS] = { got->id, got->creation_time, got->workload, got->operation, got->user,
				   got->client_ip, got->category, got->rule, got->source, got->content_type,
				   got->tenant };
	const char *w[NFIELDS] = { want->id, want->creation_time, want->workload, want->operation, want->user,
				   want->client_ip, want->category, want->rule, want->source,
				   want->content_type, want->tenant };
	if (got->len != want->len || memcmp(got->json, want->json, want->len) != 0)
		fail_msg("case %d: json '%.*s'", c, (int)got->len, got->json);
	for (int f = 0; f < NFIELDS; f++)
		if (strcmp(g[f], w[f]) != 0)
			fail_msg("case %d, field %d: '%s', not '%s'", c, f, g[f], w[f]);
	assert_int_equal(got->severity, want->severity);
	assert_int_equal(got->ncontrols, want->ncontrols);
	for (size_t k = 0; k < want->ncontrols; k++)
		assert_string_equal(got->controls[k], want->controls[k]);
}

/* Many records in one payload, as a frame holds them, decoded in turn. */
static void test_round_trip(void **state)
{
	(void)state;
	enum { CASES = 200 };
	static struct sample s[CASES];
	struct ax_buf payload;
	ax_buf_init(&payload, 1u << 20);
	for (int c = 0; c < CASES; c++) {
		make(&s[c], c);
		assert_int_equal(ax_spool_encode_record(&payload, &s[c].r), AX_OK);
	}
	size_t pos = 0;
	const char *controls[AX_SPOOL_MAX_CONTROLS];
	for (int c = 0; c < CASES; c++) {
		struct ax_record r;
		assert_int_equal(ax_spool_decode_record(payload.data, payload.len, &pos, &r, controls), AX_OK);
		check(&r, &s[c].r, c);
	}
	assert_int_equal(pos, payload.len);
	ax_buf_finish(&payload);
}

/* The record's body alone in a buffer of its size: ASan sees any read past it. */
static ax_err decode_copy(const char *body, size_t len)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, body, len);
	size_t pos = 0;
	struct ax_record r;
	const char *controls[AX_SPOOL_MAX_CONTROLS];
	ax_err err = ax_spool_decode_record(copy, len, &pos, &r, controls);
	if (err)
		assert_int_equal(pos, 0);
	free(copy);
	return err;
}

/* Its length prefix set to body_len, the record's other bytes as they are. */
static void set_length(char *encoded, size_t body_len)
{
	uint32_t n = (uint32_t)body_len;
	memcpy(encoded, &n, sizeof(n));
}

/* Case c alone, encoded in b (a new buffer: finish it). */
static void encode_case(struct sample *s, struct ax_buf *b, int c)
{
	ax_buf_init(b, 4096);
	make(s, c);
	assert_int_equal(ax_spool_encode_record(b, &s->r), AX_OK);
}

static void test_cut_short(void **state)
{
	(void)state;
	for (int c = 0; c < 40; c++) {
		struct sample s;
		struct ax_buf b;
		encode_case(&s, &b, c);
		assert_int_equal(decode_copy(b.data, b.len), AX_OK);
		for (size_t cut = 0; cut < b.len; cut++) {
			if (cut >= 4)
				set_length(b.data, cut - 4); /* a body that says it ends there */
			if (decode_copy(b.data, cut) != AX_ERR_JSON)
				fail_msg("case %d: decoded cut to %zu of %zu bytes", c, cut, b.len);
		}
		ax_buf_finish(&b);
	}
}

/* Every 0 byte after the JSON's NUL made a letter: a string end (the strings run on), or
 * a severity or control count of 0 (then out of range); each time the record is refused. */
static void test_missing_nul(void **state)
{
	(void)state;
	for (int c = 0; c < 40; c++) {
		struct sample s;
		struct ax_buf b;
		encode_case(&s, &b, c);
		size_t strings = 8 + s.r.len + 1; /* length, JSON length, JSON, its NUL */
		int tried = 0;
		for (size_t i = strings; i < b.len; i++) {
			if (b.data[i] != '\0')
				continue;
			b.data[i] = 'z';
			if (decode_copy(b.data, b.len) != AX_ERR_JSON)
				fail_msg("case %d: decoded without the NUL at %zu", c, i);
			b.data[i] = '\0';
			tried++;
		}
		assert_true(tried >= NFIELDS);
		ax_buf_finish(&b);
	}
}

static void test_left_over_and_severity(void **state)
{
	(void)state;
	struct sample s;
	struct ax_buf b;
	encode_case(&s, &b, 3);
	size_t len = b.len;
	assert_int_equal(ax_buf_add(&b, "x", 1), AX_OK);
	set_length(b.data, len + 1 - 4); /* a byte after the last control id */
	assert_int_equal(decode_copy(b.data, b.len), AX_ERR_JSON);
	set_length(b.data, len - 4);
	b.len = len;
	size_t sev = len - 2; /* the severity byte, then the control count, then the ids */
	for (size_t k = 0; k < s.r.ncontrols; k++)
		sev -= strlen(s.ctl[k]) + 1;
	assert_int_equal(b.data[sev], (char)s.r.severity);
	b.data[sev] = (char)(AX_SEV_CRITICAL + 1);
	assert_int_equal(decode_copy(b.data, b.len), AX_ERR_JSON);
	b.data[sev] = (char)AX_SEV_CRITICAL;
	assert_int_equal(decode_copy(b.data, b.len), AX_OK);
	ax_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_missing_nul),
		cmocka_unit_test(test_left_over_and_severity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

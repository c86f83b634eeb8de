/* test_chain.c - chain.c and the sealing in enrich.c: the chain value is
 * SHA-256(previous chain || SHA-256(R')) as documented (known answers from
 * Python's hashlib), a record's end is found from its last bytes only, the
 * streams' positions survive a restart in state_dir/chain, and the records
 * spooled after the file was last written move them on (a crash's window). */
#define _GNU_SOURCE /* memmem */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "chain.h"
#include "enrich.h"
#include "rules.h"
#include "spool.h"

#define ZEROS64 "0000000000000000000000000000000000000000000000000000000000000000"

/* hashlib: sha256(bytes(32) + sha256(R'1)), then sha256(c1 + sha256(R'2)) */
static const char *const known_r1 = "{\"a\":1,\"annexa\":{\"x\":1,\"stream\":\"s\",\"seq\":1,\"chain\":\"" ZEROS64 "\"}}";
static const char *const known_r2 = "{\"a\":2,\"annexa\":{\"x\":1,\"stream\":\"s\",\"seq\":2,\"chain\":\"" ZEROS64 "\"}}";
static const char *const known_c1 = "19550e630f41b717d82816555447f6e09e5b2e104a6f6e771253c2ead8037a9d";
static const char *const known_c2 = "44531a1c29c66c650426bcaaad86daf4c814b2b1a730c7df5ae96ce03bc1e02b";

/* Seals text (a record with 64 placeholder digits) in place after prev. */
static void seal_text(struct ax_chain_hasher *h, char *text, const uint8_t prev[AX_CHAIN_LEN],
		      uint8_t chain[AX_CHAIN_LEN])
{
	struct ax_chain_tail t;
	assert_true(ax_chain_tail_parse(text, strlen(text), &t));
	struct ax_chain_slot slot = { .rec = text, .begin = t.begin, .end = t.end, .hex = t.hex };
	assert_int_equal(ax_chain_seal(h, &slot, prev, chain), AX_OK);
}

static void test_known_answer(void **state)
{
	(void)state;
	struct ax_chain_hasher *h = ax_chain_hasher_create();
	assert_non_null(h);
	static const uint8_t zero[AX_CHAIN_LEN];
	uint8_t c1[AX_CHAIN_LEN], c2[AX_CHAIN_LEN];
	char r1[256], r2[256], hex[AX_CHAIN_HEX + 1] = "";
	strcpy(r1, known_r1);
	strcpy(r2, known_r2);
	seal_text(h, r1, zero, c1);
	ax_chain_hex(c1, hex);
	assert_string_equal(hex, known_c1);
	assert_non_null(strstr(r1, known_c1)); /* written into the record */
	seal_text(h, r2, c1, c2);
	ax_chain_hex(c2, hex);
	assert_string_equal(hex, known_c2);

	/* and read back: the parsed members, the digest and the link agree */
	struct ax_chain_tail t;
	uint8_t d[AX_CHAIN_LEN], again[AX_CHAIN_LEN];
	assert_true(ax_chain_tail_parse(r2, strlen(r2), &t));
	assert_int_equal(t.seq, 2);
	assert_int_equal(t.stream_len, 1);
	assert_memory_equal(t.stream, "s", 1);
	assert_memory_equal(t.chain, c2, AX_CHAIN_LEN);
	assert_int_equal(ax_chain_digest(h, r2, &t, d), AX_OK);
	assert_int_equal(ax_chain_link(h, c1, d, again), AX_OK);
	assert_memory_equal(again, c2, AX_CHAIN_LEN);

	/* sealed as a group: the same values (side by side with SHA-NI, one
	 * after the other without) */
	struct ax_chain_slot slots[2];
	uint8_t pair[2][AX_CHAIN_LEN];
	strcpy(r1, known_r1);
	strcpy(r2, known_r2);
	char *texts[2] = { r1, r2 };
	for (int i = 0; i < 2; i++) {
		assert_true(ax_chain_tail_parse(texts[i], strlen(texts[i]), &t));
		slots[i] = (struct ax_chain_slot){ .rec = texts[i], .begin = t.begin, .end = t.end, .hex = t.hex };
	}
	assert_int_equal(ax_chain_seal_n(h, slots, 2, zero, pair), AX_OK);
	assert_memory_equal(pair[0], c1, AX_CHAIN_LEN);
	assert_memory_equal(pair[1], c2, AX_CHAIN_LEN);
	assert_non_null(strstr(r1, known_c1));
	assert_non_null(strstr(r2, known_c2));
	ax_chain_hasher_destroy(h);
}

static void test_hex(void **state)
{
	(void)state;
	uint8_t v[AX_CHAIN_LEN], w[AX_CHAIN_LEN];
	char hex[AX_CHAIN_HEX];
	for (size_t i = 0; i < AX_CHAIN_LEN; i++)
		v[i] = (uint8_t)(i * 37 + 5);
	ax_chain_hex(v, hex);
	assert_true(ax_chain_unhex(hex, w));
	assert_memory_equal(v, w, AX_CHAIN_LEN);
	hex[7] = 'A'; /* the agent writes lowercase only: an uppercase digit is an edit */
	assert_false(ax_chain_unhex(hex, w));
	hex[7] = 'g';
	assert_false(ax_chain_unhex(hex, w));
}

static void test_tail_parse(void **state)
{
	(void)state;
	static const struct {
		const char *text, *stream;
		uint64_t seq;
	} good[] = {
		{ "{\"annexa\":{\"v\":1,\"stream\":\"replay\",\"seq\":7,\"chain\":\"" ZEROS64 "\"}}", "replay", 7 },
		{ "  {\"a\":{},\"annexa\":{\"v\":1,\"stream\":\"x\",\"seq\":1,\"chain\":\"" ZEROS64 "\"}} \r\n", "x", 1 },
		{ "{\"annexa\":{\"v\":1,\"stream\":\"\",\"seq\":18446744073709551615,\"chain\":\"" ZEROS64 "\"}}", "",
		  UINT64_MAX },
		/* escapes inside the name: the key is found past them */
		{ "{\"annexa\":{\"v\":1,\"stream\":\"a\\\"b\\\\\",\"seq\":2,\"chain\":\"" ZEROS64 "\"}}", "a\\\"b\\\\", 2 },
		{ "{\"annexa\":{\"v\":1,\"stream\":\"x\\\",\\\"stream\\\":\\\"y\",\"seq\":3,\"chain\":\"" ZEROS64 "\"}}",
		  "x\\\",\\\"stream\\\":\\\"y", 3 },
		/* the record's own members may look like ours */
		{ "{\"stream\":\"evil\",\"seq\":9,\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":4,\"chain\":\"" ZEROS64 "\"}}",
		  "s", 4 },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(good); i++) {
		struct ax_chain_tail t;
		if (!ax_chain_tail_parse(good[i].text, strlen(good[i].text), &t))
			fail_msg("not parsed: %s", good[i].text);
		assert_int_equal(t.seq, good[i].seq);
		assert_int_equal(t.stream_len, strlen(good[i].stream));
		assert_memory_equal(t.stream, good[i].stream, t.stream_len);
		assert_int_equal(good[i].text[t.begin], '{');
		assert_int_equal(good[i].text[t.end - 1], '}');
		assert_memory_equal(good[i].text + t.hex, ZEROS64, AX_CHAIN_HEX);
	}
	static const char *const bad[] = {
		"",
		"{}",
		"{\"Id\":\"1\"}",
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":1,\"chain\":\"" ZEROS64 "0\"}}",    /* 65 digits */
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":1,\"chain\":\"000000000000000000000000000000000000000000000"
		"000000000000000000\"}}",                                                          /* 63 */
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":1,\"chain\":\"" ZEROS64 "\"}}x",    /* after the end */
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":1,\"chain\":\"" ZEROS64 "\"}",      /* one brace */
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":0,\"chain\":\"" ZEROS64 "\"}}",     /* seq from 1 */
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":01,\"chain\":\"" ZEROS64 "\"}}",
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":18446744073709551616,\"chain\":\"" ZEROS64 "\"}}",
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":-1,\"chain\":\"" ZEROS64 "\"}}",
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":\"1\",\"chain\":\"" ZEROS64 "\"}}",
		"{\"annexa\":{\"v\":1,\"seq\":1,\"chain\":\"" ZEROS64 "\"}}",                      /* no stream */
		"{\"annexa\":{\"stream\":\"s\",\"seq\":1,\"chain\":\"" ZEROS64 "\"}}",              /* no ',' before it */
		"{\"annexa\":{\"v\":1,\"stream\":\"s\",\"seq\":1,\"chain\": \"" ZEROS64 "\"}}",    /* reformatted */
		"\"stream\":\"s\",\"seq\":1,\"chain\":\"" ZEROS64 "\"}}",                          /* no '{' */
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++) {
		struct ax_chain_tail t;
		if (ax_chain_tail_parse(bad[i], strlen(bad[i]), &t))
			fail_msg("parsed: %s", bad[i]);
	}
}

static void test_stream_names(void **state)
{
	(void)state;
	struct ax_buf b;
	ax_buf_init(&b, 4096);
	static const struct {
		struct ax_origin o;
		const char *want;
	} cases[] = {
		{ { .source = "replay", .type = "file" }, "replay" },
		{ { .source = "contoso", .type = "o365", .tenant = "t-1", .content_type = "Audit.Exchange" },
		  "contoso/t-1/Audit.Exchange" },
		{ { .source = "contoso", .type = "evidence_gap", .tenant = "t-1", .content_type = "Audit.Exchange" },
		  "contoso/t-1/Audit.Exchange" }, /* a source's gaps: in the stream they are about */
		{ { .source = "g", .type = "graph_alerts", .tenant = "", .content_type = "Graph.SecurityAlerts" },
		  "g/Graph.SecurityAlerts" },
		{ { .source = "spool", .type = "evidence_gap", .stream = AX_CHAIN_SPOOL_STREAM }, "annexa:spool" },
		{ { .source = "c", .type = "o365", .tenant = "we\"ird\\\n" }, "c/we\\\"ird\\\\\\n" },
	};
	for (size_t i = 0; i < UNIT_ARRAY_LEN(cases); i++) {
		assert_int_equal(ax_chain_stream_name(&cases[i].o, &b), AX_OK);
		assert_string_equal(b.data, cases[i].want);
	}
	ax_buf_finish(&b);
}

/* ---- sealing in the enricher ---- */

struct fixture {
	struct ax_rules *rules;
	struct ax_processor p;
	struct ax_chain_hasher *h;
	char *tmp;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ax_diag diag;
	ax_diag_init(&diag);
	f->rules = ax_rules_load(NULL, &diag);
	unit_diag_dump(&diag);
	ax_diag_finish(&diag);
	assert_non_null(f->rules);
	assert_int_equal(ax_processor_init(&f->p, f->rules, 64, 1u << 20), AX_OK);
	f->h = ax_chain_hasher_create();
	assert_non_null(f->h);
	f->tmp = unit_tmpdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_processor_finish(&f->p);
	ax_rules_destroy(f->rules);
	ax_chain_hasher_destroy(f->h);
	unit_tmpdir_remove(f->tmp);
	free(f);
	return 0;
}

/* The record the processor made, checked against the documented chain. */
/* proc's record carries seal's number and a chain value that links it after seal->prev. */
static void check_sealed(struct fixture *f, const struct ax_processor *proc, const struct ax_seal *seal,
			 const char *stream)
{
	const struct ax_record *r = &proc->record;
	struct ax_chain_tail t;
	uint8_t d[AX_CHAIN_LEN], want[AX_CHAIN_LEN];
	assert_true(ax_chain_tail_parse(r->json, r->len, &t));
	assert_int_equal(t.seq, seal->prev.seq + 1);
	assert_int_equal(seal->next.seq, seal->prev.seq + 1);
	assert_int_equal(t.stream_len, strlen(stream));
	assert_memory_equal(t.stream, stream, t.stream_len);
	assert_memory_equal(t.chain, seal->next.chain, AX_CHAIN_LEN);
	assert_int_equal(ax_chain_digest(f->h, r->json, &t, d), AX_OK);
	assert_int_equal(ax_chain_link(f->h, seal->prev.chain, d, want), AX_OK);
	assert_memory_equal(want, seal->next.chain, AX_CHAIN_LEN);
}

static void test_sealed_records(void **state)
{
	struct fixture *f = *state;
	struct ax_origin o = { .source = "contoso", .type = "o365", .tenant = "t-1", .content_type = "Audit.Exchange",
			       .host = "h", .version = "0.1.0" };
	static const char *const raws[] = {
		"{\"Id\":\"1\",\"Operation\":\"Send\",\"Workload\":\"Exchange\"}",
		"  {\"Id\":\"2\"}",          /* leading whitespace is not part of R' */
		"{\"Id\":\"3\"} \t",         /* nor trailing */
		"{}",
		"{\"Id\":\"5\",\"Last\":\"}}\"}",
	};
	struct ax_buf name;
	ax_buf_init(&name, 4096);
	assert_int_equal(ax_chain_stream_name(&o, &name), AX_OK);
	struct ax_link link = { 0 };
	for (size_t i = 0; i < UNIT_ARRAY_LEN(raws); i++) {
		struct ax_seal seal = { .stream = name.data, .prev = link };
		assert_int_equal(ax_process_sealed(&f->p, raws[i], strlen(raws[i]), &o, &seal), AX_OK);
		check_sealed(f, &f->p, &seal, "contoso/t-1/Audit.Exchange");
		link = seal.next;
	}
	assert_int_equal(link.seq, UNIT_ARRAY_LEN(raws));

	/* the members, in their order, and a well-formed record */
	char *text = strndup(f->p.record.json, f->p.record.len);
	char why[128];
	yajl_val tree = yajl_tree_parse(text, why, sizeof(why));
	assert_non_null(tree);
	const char *path[] = { "annexa", NULL };
	yajl_val a = yajl_tree_get(tree, path, yajl_t_object);
	assert_non_null(a);
	static const char *const keys[] = { "source", "type", "content_type", "tenant", "ingested_at", "host",
					    "version", "stream", "seq", "chain" };
	assert_int_equal(YAJL_GET_OBJECT(a)->len, UNIT_ARRAY_LEN(keys));
	for (size_t i = 0; i < UNIT_ARRAY_LEN(keys); i++)
		assert_string_equal(YAJL_GET_OBJECT(a)->keys[i], keys[i]);
	assert_int_equal(YAJL_GET_INTEGER(YAJL_GET_OBJECT(a)->values[8]), 5);
	yajl_tree_free(tree);
	free(text);

	/* the same record after another predecessor has another chain */
	struct ax_seal s1 = { .stream = name.data, .prev = link }, s2 = s1;
	s2.prev.chain[0] ^= 1;
	assert_int_equal(ax_process_sealed(&f->p, raws[0], strlen(raws[0]), &o, &s1), AX_OK);
	assert_int_equal(ax_process_sealed(&f->p, raws[0], strlen(raws[0]), &o, &s2), AX_OK);
	assert_memory_not_equal(s1.next.chain, s2.next.chain, AX_CHAIN_LEN);

	/* a refused record leaves the seal's next alone: the caller keeps its number */
	struct ax_seal s3 = { .stream = name.data, .prev = link };
	assert_int_not_equal(ax_process_sealed(&f->p, "[1]", 3, &o, &s3), AX_OK);
	assert_int_equal(s3.next.seq, 0);
	ax_buf_finish(&name);
}

/* A record numbered ahead and then given another number (the pipeline's
 * records after one that failed): the same bytes but the digits of seq,
 * fewer or more, and sealed it links as documented. */
static void test_renumbered(void **state)
{
	struct fixture *f = *state;
	struct ax_origin o = { .source = "s", .type = "file", .host = "h", .version = "v", .stream = "s" };
	static const char raw[] = "{\"Id\":\"r\",\"Operation\":\"Send\",\"Tail\":\"}\"} ";
	static const uint64_t numbers[] = { 9, 10, 123456789012ULL, 1, 99999 };
	struct ax_seal first = { .stream = "s", .prev.seq = 41 };
	for (size_t i = 0; i < UNIT_ARRAY_LEN(numbers); i++) {
		assert_int_equal(ax_process_numbered(&f->p, raw, strlen(raw), &o, &first), AX_OK);
		char *was = strndup(f->p.record.json, f->p.record.len); /* its ingested_at: this second's */
		const char *digits = strstr(was, "\"seq\":42,") + 6;
		struct ax_seal seal = { .stream = "s", .prev = { .seq = numbers[i] - 1 } };
		seal.prev.chain[0] = (uint8_t)i;
		assert_int_equal(ax_process_renumber(&f->p, &seal), AX_OK);
		char want[32];
		int n = snprintf(want, sizeof(want), "%llu", (unsigned long long)numbers[i]);
		const char *now = f->p.record.json;
		size_t head = (size_t)(digits - was), tail = strlen(was) - head - 2;
		assert_int_equal(f->p.record.len, head + (size_t)n + tail);
		assert_memory_equal(now, was, head);
		assert_memory_equal(now + head, want, (size_t)n);
		assert_memory_equal(now + head + n, digits + 2, tail);
		assert_int_equal(ax_process_seal(&f->p, &seal), AX_OK);
		check_sealed(f, &f->p, &seal, "s");
		free(was);
	}
}

/* Numbered in groups of every size and sealed together
 * (ax_process_seal_n), records of every length chain as when each is
 * sealed on its own. */
static void test_sealed_in_groups(void **state)
{
	struct fixture *f = *state;
	struct ax_origin o = { .source = "s", .type = "map", .host = "h", .version = "v" };
	struct ax_processor procs[AX_CHAIN_GROUP];
	for (size_t k = 0; k < AX_CHAIN_GROUP; k++)
		assert_int_equal(ax_processor_init(&procs[k], f->rules, 64, 1u << 20), AX_OK);
	char raw[4200];
	struct ax_link link = { 0 };
	uint64_t records = 0;
	for (int round = 0; round < 12; round++) {
		size_t n = (size_t)round % AX_CHAIN_GROUP + 1;
		struct ax_seal seal[AX_CHAIN_GROUP];
		for (size_t k = 0; k < n; k++) {
			int len = (round * 333 + (int)k * 1017) % 4000;
			snprintf(raw, sizeof(raw), "{\"Id\":\"%0*d\"}", len + 1, (int)k);
			seal[k] = (struct ax_seal){ .stream = "s", .prev = link };
			seal[k].prev.seq += k;
			assert_int_equal(ax_process_numbered(&procs[k], raw, strlen(raw), &o, &seal[k]), AX_OK);
		}
		assert_int_equal(ax_process_seal_n(procs, seal, n), AX_OK);
		for (size_t k = 0; k < n; k++) {
			if (k)
				assert_memory_equal(seal[k].prev.chain, seal[k - 1].next.chain, AX_CHAIN_LEN);
			check_sealed(f, &procs[k], &seal[k], "s");
		}
		link = seal[n - 1].next;
		records += n;
	}
	assert_int_equal(link.seq, records);
	for (size_t k = 0; k < AX_CHAIN_GROUP; k++)
		ax_processor_finish(&procs[k]);
}

/* Unsealed records (ax_process) keep the 1.0 shape: no chain members. */
static void test_unsealed(void **state)
{
	struct fixture *f = *state;
	struct ax_origin o = { .source = "s", .type = "map", .host = "h", .version = "v" };
	assert_int_equal(ax_process(&f->p, "{\"Id\":\"1\"}", 10, &o), AX_OK);
	struct ax_chain_tail t;
	assert_false(ax_chain_tail_parse(f->p.record.json, f->p.record.len, &t));
	assert_null(memmem(f->p.record.json, f->p.record.len, "\"seq\"", 5));
}

/* ---- positions in state_dir ---- */

static void test_chains_save_load(void **state)
{
	struct fixture *f = *state;
	struct ax_chains c;
	assert_int_equal(ax_chains_init(&c, f->tmp, true), AX_OK);
	assert_int_equal(c.n, 0);
	struct ax_chain_stream *a = ax_chains_get(&c, "a"), *b = ax_chains_get(&c, "b/t/Audit.Exchange");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(ax_chains_get(&c, "a"), a);
	struct ax_link la = { .seq = 5 }, lb = { .seq = 18446744073709551615u };
	memset(la.chain, 0xab, AX_CHAIN_LEN);
	memset(lb.chain, 0x01, AX_CHAIN_LEN);
	ax_chains_advance(&c, a, &la);
	ax_chains_advance(&c, b, &lb);
	assert_int_equal(ax_chains_save(&c, 1234), AX_OK);
	ax_chains_finish(&c);

	char path[1024];
	snprintf(path, sizeof(path), "%s/chain", f->tmp);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *text = unit_read_file(path, NULL);
	assert_contains(text, "annexa-chain 1\nspool 1234\n5 abababab");
	assert_contains(text, "18446744073709551615 0101");
	free(text);

	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.spool_at, 1234);
	a = ax_chains_get(&c, "a");
	b = ax_chains_get(&c, "b/t/Audit.Exchange");
	assert_int_equal(a->link.seq, 5);
	assert_memory_equal(a->link.chain, la.chain, AX_CHAIN_LEN);
	assert_int_equal(b->link.seq, lb.seq);
	/* nothing moved: nothing written */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ax_chains_save(&c, 99), AX_OK);
	assert_int_not_equal(access(path, F_OK), 0);
	ax_chains_finish(&c);

	/* in memory only (annexa map): no file */
	assert_int_equal(ax_chains_init(&c, NULL, false), AX_OK);
	ax_chains_advance(&c, ax_chains_get(&c, "x"), &la);
	assert_int_equal(ax_chains_save(&c, 1), AX_OK);
	ax_chains_finish(&c);
}

static void test_chains_unreadable(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "garbage\n", "annexa-chain 1\nspool 1\n5 zz x\nend\n",
					   "annexa-chain 1\nspool 1\n5 " ZEROS64 " x\n" /* torn: no end */ };
	unit_quiet_logs();
	for (size_t i = 0; i < UNIT_ARRAY_LEN(bad); i++) {
		free(unit_write_file(f->tmp, "chain", bad[i], SIZE_MAX));
		struct ax_chains c;
		assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK); /* evidence goes on */
		assert_int_equal(c.n, 0);
		assert_int_equal(c.spool_at, UINT64_MAX); /* the whole spool is read */
		ax_chains_finish(&c);
	}
}

/* ---- spool = memory: the journal keeps what outputs may have ---- */

static struct ax_link link_at(uint64_t seq, uint8_t fill)
{
	struct ax_link l = { .seq = seq };
	memset(l.chain, fill, AX_CHAIN_LEN);
	return l;
}

static int count_lines(const char *text)
{
	int n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* Positions journaled after the last save (the process then dies) move
 * the streams at the next start; a line cut short is left. */
static void test_journal_after_crash(void **state)
{
	struct fixture *f = *state;
	struct ax_chains c;
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	struct ax_chain_stream *a = ax_chains_get(&c, "a"), *b = ax_chains_get(&c, "b/t/Audit.Exchange");
	struct ax_link l = link_at(3, 0x11);
	ax_chains_advance(&c, a, &l);
	assert_int_equal(ax_chains_save(&c, 0), AX_OK);
	l = link_at(9, 0x22);
	ax_chains_advance(&c, a, &l);
	ax_chains_journal(&c);
	l = link_at(4, 0x33);
	ax_chains_advance(&c, b, &l);
	ax_chains_journal(&c); /* b alone: a has not moved since */
	l = link_at(5, 0x44);
	ax_chains_journal_ahead(&c, b, &l); /* an own record going out before b moves */
	ax_chains_finish(&c);              /* a crash: no save */

	char path[1024];
	snprintf(path, sizeof(path), "%s/chain.journal", f->tmp);
	char *text = unit_read_file(path, NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 3);
	FILE *j = fopen(path, "a");
	assert_non_null(j);
	fputs("7 4444", j); /* torn */
	fclose(j);
	free(text);

	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 9);
	assert_memory_equal(ax_chains_get(&c, "a")->link.chain, link_at(9, 0x22).chain, AX_CHAIN_LEN);
	assert_int_equal(ax_chains_get(&c, "b/t/Audit.Exchange")->link.seq, 5);
	assert_memory_equal(ax_chains_get(&c, "b/t/Audit.Exchange")->link.chain, l.chain, AX_CHAIN_LEN);
	assert_true(c.dirty);
	assert_int_equal(ax_chains_save(&c, 0), AX_OK); /* the file has it all: the journal goes */
	assert_int_not_equal(access(path, F_OK), 0);
	ax_chains_finish(&c);
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 9);
	assert_int_equal(ax_chains_get(&c, "b/t/Audit.Exchange")->link.seq, 5);
	ax_chains_finish(&c);
}

/* A save starts the journal again, but for a position journaled ahead of
 * its stream (an own record out while the record before it waits). */
static void test_journal_restarts(void **state)
{
	struct fixture *f = *state;
	struct ax_chains c;
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	struct ax_chain_stream *a = ax_chains_get(&c, "a"), *b = ax_chains_get(&c, "b");
	struct ax_link l = link_at(2, 0x01);
	ax_chains_advance(&c, a, &l);
	ax_chains_journal(&c);
	l = link_at(8, 0x02);
	ax_chains_journal_ahead(&c, b, &l);
	assert_int_equal(ax_chains_save(&c, 0), AX_OK);
	char path[1024];
	snprintf(path, sizeof(path), "%s/chain.journal", f->tmp);
	char *text = unit_read_file(path, NULL);
	assert_non_null(text);
	assert_int_equal(strncmp(text, "8 0202", 6), 0);
	assert_int_equal(count_lines(text), 1);
	free(text);
	ax_chains_finish(&c);
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 2);
	assert_int_equal(ax_chains_get(&c, "b")->link.seq, 8);
	ax_chains_finish(&c);
}

/* ---- a crash's window: what the spool holds moves the streams on ---- */

static void append_sealed(struct fixture *f, struct ax_spool *sp, const char *stream, struct ax_link *link)
{
	char text[256];
	snprintf(text, sizeof(text), "{\"Id\":\"%s-%llu\",\"annexa\":{\"v\":1,\"stream\":\"%s\",\"seq\":%llu,"
		 "\"chain\":\"" ZEROS64 "\"}}", stream, (unsigned long long)link->seq + 1, stream,
		 (unsigned long long)link->seq + 1);
	uint8_t chain[AX_CHAIN_LEN];
	seal_text(f->h, text, link->chain, chain);
	link->seq++;
	memcpy(link->chain, chain, AX_CHAIN_LEN);
	struct ax_record r = { .json = text, .len = strlen(text), .id = "", .creation_time = "", .workload = "",
			       .operation = "", .client_ip = "", .category = "", .rule = "", .source = "",
			       .content_type = "", .tenant = "" };
	atomic_int stop = 0;
	assert_int_equal(ax_spool_append(sp, &r, &stop), AX_OK);
}

static void test_chains_recover(void **state)
{
	struct fixture *f = *state;
	static const char *const outputs[] = { "o" };
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/spool", f->tmp);
	struct ax_spool_conf conf = { .dir = dir, .max_size = 1u << 20, .fsync = false, .max_record = 1u << 16,
				      .outputs = outputs, .noutputs = 1 };
	ax_err err;
	struct ax_spool *sp = ax_spool_open(&conf, &err);
	assert_non_null(sp);
	atomic_int stop = 0;
	struct ax_link a = { 0 }, b = { 0 };
	struct ax_chains c;
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_recover(&c, sp), AX_OK); /* empty spool, no file: nothing moves */
	for (int i = 0; i < 5; i++)
		append_sealed(f, sp, "a", &a);
	assert_int_equal(ax_spool_flush(sp, &stop), AX_OK);
	ax_chains_advance(&c, ax_chains_get(&c, "a"), &a);
	assert_int_equal(ax_chains_save(&c, ax_spool_end(sp)), AX_OK);
	ax_chains_finish(&c);
	/* spooled after the save, then the process dies */
	for (int i = 0; i < 7; i++) {
		append_sealed(f, sp, "a", &a);
		append_sealed(f, sp, "b", &b);
	}
	assert_int_equal(ax_spool_flush(sp, &stop), AX_OK);
	ax_spool_close(sp);

	sp = ax_spool_open(&conf, &err);
	assert_non_null(sp);
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 5);
	assert_int_equal(ax_chains_recover(&c, sp), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 12);
	assert_memory_equal(ax_chains_get(&c, "a")->link.chain, a.chain, AX_CHAIN_LEN);
	assert_int_equal(ax_chains_get(&c, "b")->link.seq, 7);
	assert_memory_equal(ax_chains_get(&c, "b")->link.chain, b.chain, AX_CHAIN_LEN);
	assert_int_equal(c.spool_at, ax_spool_end(sp)); /* and written: the next start reads from here */
	ax_chains_finish(&c);

	/* a file from another spool (one emptied at a clean stop) is past its
	 * end: nothing is read; an unreadable file: everything is */
	char path[1024];
	snprintf(path, sizeof(path), "%s/chain", f->tmp);
	free(unit_write_file(f->tmp, "chain", "annexa-chain 1\nspool 99999999\n3 " ZEROS64 " a\nend\n", SIZE_MAX));
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_recover(&c, sp), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 3);
	ax_chains_finish(&c);
	unit_quiet_logs();
	free(unit_write_file(f->tmp, "chain", "torn", SIZE_MAX));
	assert_int_equal(ax_chains_init(&c, f->tmp, false), AX_OK);
	assert_int_equal(ax_chains_recover(&c, sp), AX_OK);
	assert_int_equal(ax_chains_get(&c, "a")->link.seq, 12);
	assert_int_equal(ax_chains_get(&c, "b")->link.seq, 7);
	ax_chains_finish(&c);
	ax_spool_close(sp);
	unit_tmpdir_remove(strdup(dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_tail_parse),
		cmocka_unit_test(test_stream_names),
		cmocka_unit_test_setup_teardown(test_sealed_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_in_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renumbered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chains_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chains_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chains_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_restarts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

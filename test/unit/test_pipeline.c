/* test_pipeline.c - records numbered into their stream as the spool takes
 * them: processed side by side in chunks (every 7th record bad, so the
 * numbers given ahead are often wrong and the records renumbered), and with the
 * agent's own records of the same stream spooled while the spool waits for
 * room (spool_full = pause). Whatever the spool holds at the end, read back
 * and checked by ax_verify, is one stream numbered 1..N without a gap or a
 * number given twice, every link intact. With spool = memory, every number
 * the output reads is in the chain journal first. */
#include "unit.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "verify.h"

#define SPOOL_BYTES (2u << 20)
#define RECORDS_PER_UNIT 101 /* odd: a unit ends with a record alone */

static const char *const outputs[] = { "a" };

struct fixture {
	char *tmp, dir[512];
	struct ax_agent_conf agent;
	struct ax_rules *rules;
	struct ax_spool *sp;
	struct ax_spool_reader *reader;
	struct ax_deadletter dl;
	struct ax_pipeline p;
	atomic_int stop;
	struct ax_verify *verify;
	uint64_t lines, good, dead, own;
	unsigned waits;
	bool stop_at_wait; /* the waiter stops the agent instead of making room */
	bool memory;       /* spool = memory: the journal must hold every number the output reads */
};

static const struct ax_origin origin = { .source = "s", .type = "file", .host = "h", .version = "v", .stream = "s" };
static const struct ax_origin own_origin = { .source = "s", .type = "evidence_gap", .content_type = "Annexa.Evidence",
					     .host = "h", .version = "v", .stream = "s" };

/* The furthest number of stream s in STATE_DIR/chain.journal (chain.h). */
static uint64_t journaled(const struct fixture *f)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/chain.journal", f->tmp);
	char *text = unit_read_file(path, NULL);
	uint64_t max = 0;
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		unsigned long long seq;
		char name[8];
		if (sscanf(line, "%llu %*64s %7s", &seq, name) == 2 && strcmp(name, "s") == 0 && seq > max)
			max = seq;
	}
	free(text);
	return max;
}

/* Everything the output has not read yet goes to the verifier; the room it
 * took is given back. In memory, every number read was journaled before
 * the output could read it. */
static void read_spool(struct fixture *f)
{
	uint64_t limit = f->memory ? journaled(f) : UINT64_MAX;
	const struct ax_record *r;
	struct ax_chain_tail t;
	while ((r = ax_spool_next(f->reader))) {
		assert_true(ax_chain_tail_parse(r->json, r->len, &t));
		assert_true(t.seq <= limit);
		assert_int_equal(ax_verify_add(f->verify, r->json, r->len, ++f->lines), AX_OK);
	}
	assert_int_equal(ax_spool_commit(f->reader, ax_spool_tell(f->reader)), AX_OK);
}

/* The spool is full: an own record of the stream goes in at once, then the
 * output reads (room again) or the agent stops. */
static void waiter(void *arg)
{
	struct fixture *f = arg;
	char json[128];
	f->waits++;
	snprintf(json, sizeof(json), "{\"Id\":\"own-%u\",\"reason\":\"test\"}", f->waits);
	assert_true(ax_pipeline_own(&f->p, json, strlen(json), &own_origin));
	f->own++;
	if (f->stop_at_wait)
		atomic_store(&f->stop, 1);
	else
		read_spool(f);
}

static int setup_spool(void **state, bool memory)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->memory = memory;
	unit_quiet_logs();
	f->tmp = unit_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/spool", f->tmp);
	assert_int_equal(ax_agent_conf_defaults(&f->agent), AX_OK);
	free(f->agent.state_dir);
	f->agent.state_dir = strdup(f->tmp);
	f->agent.spool = memory ? AX_SPOOL_MEMORY : AX_SPOOL_DISK;
	struct ax_diag diag;
	ax_diag_init(&diag);
	f->rules = ax_rules_load(NULL, &diag);
	ax_diag_finish(&diag);
	assert_non_null(f->rules);
	struct ax_spool_conf conf = { .dir = memory ? NULL : f->dir, .max_size = SPOOL_BYTES, .max_record = 1 << 20,
				      .outputs = outputs, .noutputs = 1 };
	ax_err err = AX_OK;
	f->sp = ax_spool_open(&conf, &err);
	assert_non_null(f->sp);
	assert_int_equal(ax_deadletter_open(&f->dl, NULL), AX_OK);
	assert_int_equal(ax_pipeline_init(&f->p, &f->agent, f->rules, f->sp, &f->dl, &f->stop), AX_OK);
	ax_spool_set_waiter(f->sp, waiter, f);
	f->reader = ax_spool_reader_open(f->sp, "a", &err);
	assert_non_null(f->reader);
	f->verify = ax_verify_create();
	assert_non_null(f->verify);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_spool(state, false);
}

static int setup_memory(void **state)
{
	return setup_spool(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ax_verify_destroy(f->verify);
	ax_spool_reader_close(f->reader);
	ax_pipeline_abandon(&f->p);
	ax_pipeline_finish(&f->p);
	ax_spool_close(f->sp);
	ax_deadletter_close(&f->dl);
	ax_rules_destroy(f->rules);
	ax_agent_conf_finish(&f->agent);
	unit_tmpdir_remove(f->tmp);
	free(f);
	return 0;
}

static void unit_done(struct ax_unit *u, bool ok)
{
	(void)u;
	(void)ok;
}

/* A unit of ~1 KiB records, every 7th not JSON (dead-lettered, no number). */
static void fill_unit(struct fixture *f, struct ax_unit *u, unsigned n)
{
	char rec[1200], pad[1000];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	ax_unit_clear(u);
	u->origin = origin;
	u->done = unit_done;
	for (unsigned i = 0; i < RECORDS_PER_UNIT; i++) {
		bool bad = (n * RECORDS_PER_UNIT + i) % 7 == 3;
		int len = snprintf(rec, sizeof(rec), bad ? "{\"Id\":\"%u-%u\", oops" : "{\"Id\":\"%u-%u\",\"Pad\":\"%s\"}",
				   n, i, pad);
		assert_int_equal(ax_unit_add(u, rec, (size_t)len, i + 1, 0, (uint64_t)len, false), AX_OK);
		if (bad)
			f->dead++;
		else
			f->good++;
	}
}

/* Reads the rest and judges: one stream, numbered 1..N without a gap or a
 * number given twice, every link intact; returns N. */
static uint64_t check_stream(struct fixture *f)
{
	f->stop_at_wait = false;
	atomic_store(&f->stop, 0);
	assert_int_equal(ax_spool_flush(f->sp, &f->stop), AX_OK);
	read_spool(f);
	const struct ax_verify_report *r;
	assert_int_equal(ax_verify_finish(f->verify, &r), AX_OK);
	assert_int_equal(r->nstreams, 1);
	assert_string_equal(r->streams[0].name, "s");
	assert_int_equal(r->conflicts, 0);
	assert_int_equal(r->missing, 0);
	assert_int_equal(r->broken, 0);
	assert_int_equal(r->duplicates, 0);
	assert_true(ax_verify_clean(r));
	assert_int_equal(r->streams[0].first, 1);
	assert_int_equal(r->streams[0].last, r->records);
	return r->records;
}

/* The spool fills again and again; each time an own record of the stream
 * goes in ahead of the records waiting for room, numbered after them. */
static void test_own_records_while_full(void **state)
{
	struct fixture *f = *state;
	struct ax_unit u;
	struct ax_pipeline_counts counts = { 0 };
	ax_unit_init(&u, 1 << 20);
	for (unsigned n = 0; n < 60; n++) {
		fill_unit(f, &u, n);
		ax_pipeline_consume(&f->p, &u, &origin, &counts);
		ax_pipeline_abandon(&f->p); /* u is filled again: no longer the pipeline's */
	}
	assert_true(f->waits >= 2);
	assert_int_equal(counts.dead_lettered, f->dead);
	assert_int_equal(check_stream(f), f->good + f->own);
	ax_unit_finish(&u);
}

/* The agent stops while records wait for room, after an own record was
 * numbered behind them: they go in all the same, no number is missing. */
static void test_stop_while_full(void **state)
{
	struct fixture *f = *state;
	struct ax_unit u;
	struct ax_pipeline_counts counts = { 0 };
	ax_unit_init(&u, 1 << 20);
	f->stop_at_wait = true;
	uint64_t before = 0;
	for (unsigned n = 0; n < 60 && !f->waits; n++) {
		before = f->good;
		fill_unit(f, &u, n);
		ax_pipeline_consume(&f->p, &u, &origin, &counts);
		ax_pipeline_abandon(&f->p); /* u is filled again: no longer the pipeline's */
	}
	assert_int_equal(f->waits, 1);
	/* the units before, the own record and the waiting pair at least; the
	 * stopped unit's records after them got no number */
	uint64_t n = check_stream(f);
	assert_true(n >= before + 2);
	assert_true(n < f->good + f->own);
	ax_unit_finish(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_records_while_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_records_while_full, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_full, setup_memory, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

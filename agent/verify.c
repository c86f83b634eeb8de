#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"

/* One record line: what judging needs, nothing more. */
struct entry {
	uint32_t stream;
	bool copy; /* the same bytes as an earlier line of its seq */
	uint64_t seq, line;
	uint8_t digest[AX_CHAIN_LEN]; /* SHA-256(R') */
	uint8_t chain[AX_CHAIN_LEN];  /* as the record says */
};

struct ax_verify {
	struct ax_chain_hasher *hasher;
	struct entry *e;
	size_t n;
	/* stream names, and an open-addressing index of them */
	char **names;
	size_t nnames;
	uint32_t *index; /* slot -> name + 1; 0: empty */
	size_t index_cap;
	uint64_t *unreadable;
	size_t nunreadable;
	struct ax_verify_report report;
};

struct ax_verify *ax_verify_create(void)
{
	struct ax_verify *v = calloc(1, sizeof(*v));
	if (v && !(v->hasher = ax_chain_hasher_create())) {
		free(v);
		v = NULL;
	}
	return v;
}

static void free_stream(struct ax_verify_stream *s)
{
	free(s->missing);
	free(s->broken);
	free(s->duplicates);
	free(s->conflicts);
}

void ax_verify_destroy(struct ax_verify *v)
{
	if (!v)
		return;
	for (size_t i = 0; v->report.streams && i < v->report.nstreams; i++)
		free_stream(&v->report.streams[i]);
	free(v->report.streams);
	for (size_t i = 0; i < v->nnames; i++)
		free(v->names[i]);
	free(v->names);
	free(v->index);
	free(v->e);
	free(v->unreadable);
	ax_chain_hasher_destroy(v->hasher);
	free(v);
}

/* p (n items of sz bytes) with room for one more, or NULL. Lists double
 * from 64, so the capacity follows from the length. */
static void *room_for_one(void *p, size_t n, size_t sz)
{
	if (n != 0 && (n < 64 || (n & (n - 1))))
		return p;
	return realloc(p, (n ? 2 * n : 64) * sz);
}

static uint64_t hash_name(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
	return h;
}

static bool rehash(struct ax_verify *v)
{
	size_t cap = v->index_cap ? 2 * v->index_cap : 64;
	uint32_t *index = calloc(cap, sizeof(*index));
	if (!index)
		return false;
	for (size_t i = 0; i < v->nnames; i++) {
		size_t slot = hash_name(v->names[i], strlen(v->names[i])) & (cap - 1);
		while (index[slot])
			slot = (slot + 1) & (cap - 1);
		index[slot] = (uint32_t)i + 1;
	}
	free(v->index);
	v->index = index;
	v->index_cap = cap;
	return true;
}

/* The stream's number, added when new. */
static ax_err stream_id(struct ax_verify *v, const char *name, size_t len, uint32_t *id)
{
	if (2 * (v->nnames + 1) > v->index_cap && !rehash(v))
		return AX_ERR_NOMEM;
	size_t slot = hash_name(name, len) & (v->index_cap - 1);
	for (; v->index[slot]; slot = (slot + 1) & (v->index_cap - 1)) {
		const char *known = v->names[v->index[slot] - 1];
		if (strlen(known) == len && memcmp(known, name, len) == 0) {
			*id = v->index[slot] - 1;
			return AX_OK;
		}
	}
	char **names = v->nnames < UINT32_MAX - 1 ? room_for_one(v->names, v->nnames, sizeof(*names)) : NULL;
	if (!names)
		return AX_ERR_NOMEM;
	v->names = names;
	char *copy = strndup(name, len);
	if (!copy)
		return AX_ERR_NOMEM;
	v->names[v->nnames] = copy;
	*id = (uint32_t)v->nnames++;
	v->index[slot] = *id + 1;
	return AX_OK;
}

ax_err ax_verify_add(struct ax_verify *v, const char *line, size_t len, uint64_t number)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
		i++;
	if (i == len)
		return AX_OK;
	struct ax_chain_tail t;
	if (!ax_chain_tail_parse(line, len, &t)) {
		uint64_t *u = room_for_one(v->unreadable, v->nunreadable, sizeof(*u));
		if (!u)
			return AX_ERR_NOMEM;
		v->unreadable = u;
		v->unreadable[v->nunreadable++] = number;
		return AX_OK;
	}
	struct entry *all = room_for_one(v->e, v->n, sizeof(*all));
	if (!all)
		return AX_ERR_NOMEM;
	v->e = all;
	struct entry *e = &v->e[v->n];
	*e = (struct entry){ .seq = t.seq, .line = number };
	memcpy(e->chain, t.chain, AX_CHAIN_LEN);
	ax_err err = stream_id(v, t.stream, t.stream_len, &e->stream);
	if (!err)
		err = ax_chain_digest(v->hasher, line, &t, e->digest);
	if (!err)
		v->n++;
	return err;
}

static int by_stream_seq_line(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static bool same_record(const struct entry *a, const struct entry *b)
{
	return memcmp(a->digest, b->digest, AX_CHAIN_LEN) == 0 && memcmp(a->chain, b->chain, AX_CHAIN_LEN) == 0;
}

static ax_err add_finding(struct ax_verify_finding **list, size_t *n, uint64_t seq, uint64_t line, uint64_t other)
{
	struct ax_verify_finding *l = room_for_one(*list, *n, sizeof(*l));
	if (!l)
		return AX_ERR_NOMEM;
	*list = l;
	l[(*n)++] = (struct ax_verify_finding){ .seq = seq, .line = line, .other = other };
	return AX_OK;
}

/* Does e chain to one of the records [pa, pb) (the seq before it)? */
static ax_err links(struct ax_verify *v, const struct entry *e, const struct entry *pa, const struct entry *pb,
		    bool *ok)
{
	static const uint8_t zero[AX_CHAIN_LEN];
	uint8_t want[AX_CHAIN_LEN];
	*ok = false;
	if (e->seq == 1) {
		ax_err err = ax_chain_link(v->hasher, zero, e->digest, want);
		*ok = !err && memcmp(want, e->chain, AX_CHAIN_LEN) == 0;
		return err;
	}
	for (const struct entry *p = pa; p < pb && !*ok; p++) {
		if (p->copy)
			continue;
		ax_err err = ax_chain_link(v->hasher, p->chain, e->digest, want);
		if (err)
			return err;
		*ok = memcmp(want, e->chain, AX_CHAIN_LEN) == 0;
	}
	return AX_OK;
}

/* The records of one seq, [a, b); [pa, pb): those of the seq before, if present. */
static ax_err judge_seq(struct ax_verify *v, struct ax_verify_stream *s, struct entry *a, struct entry *b,
			const struct entry *pa, const struct entry *pb)
{
	const struct entry *intact = NULL;
	ax_err err = AX_OK;
	for (struct entry *e = a; e < b && !err; e++) {
		for (const struct entry *f = a; f < e && !e->copy; f++)
			if (!f->copy && same_record(e, f)) {
				e->copy = true;
				err = add_finding(&s->duplicates, &s->nduplicates, e->seq, e->line, f->line);
			}
		if (e->copy || err)
			continue;
		s->records++;
		bool ok = true;
		if (e->seq == 1 || pa)
			err = links(v, e, pa, pb, &ok);
		if (!err && !ok)
			err = add_finding(&s->broken, &s->nbroken, e->seq, e->line, 0);
		else if (!err && intact)
			err = add_finding(&s->conflicts, &s->nconflicts, e->seq, e->line, intact->line);
		else if (!err)
			intact = e;
	}
	return err;
}

static ax_err add_missing(struct ax_verify_stream *s, uint64_t first, uint64_t last)
{
	struct ax_verify_range *m = room_for_one(s->missing, s->nmissing, sizeof(*m));
	if (!m)
		return AX_ERR_NOMEM;
	s->missing = m;
	s->missing[s->nmissing++] = (struct ax_verify_range){ first, last };
	s->missing_count += last - first + 1;
	return AX_OK;
}

/* The entries [a, b) of one stream. */
static ax_err judge_stream(struct ax_verify *v, struct ax_verify_stream *s, struct entry *a, struct entry *b)
{
	s->first = a->seq;
	s->last = (b - 1)->seq;
	const struct entry *pa = NULL, *pb = NULL;
	ax_err err = AX_OK;
	for (struct entry *i = a, *j; i < b && !err; i = j) {
		for (j = i; j < b && j->seq == i->seq; j++)
			;
		if (pa && pa->seq + 1 < i->seq)
			err = add_missing(s, pa->seq + 1, i->seq - 1);
		bool adjacent = pa && pa->seq + 1 == i->seq;
		if (!err)
			err = judge_seq(v, s, i, j, adjacent ? pa : NULL, adjacent ? pb : NULL);
		pa = i;
		pb = j;
	}
	return err;
}

ax_err ax_verify_finish(struct ax_verify *v, const struct ax_verify_report **report)
{
	struct ax_verify_report *r = &v->report;
	*report = r;
	r->unreadable = v->unreadable;
	r->nunreadable = v->nunreadable;
	if (v->nnames && !(r->streams = calloc(v->nnames, sizeof(*r->streams))))
		return AX_ERR_NOMEM;
	r->nstreams = v->nnames;
	if (v->n)
		qsort(v->e, v->n, sizeof(*v->e), by_stream_seq_line);
	ax_err err = AX_OK;
	for (size_t i = 0, j; i < v->n && !err; i = j) {
		for (j = i; j < v->n && v->e[j].stream == v->e[i].stream; j++)
			;
		struct ax_verify_stream *s = &r->streams[v->e[i].stream];
		s->name = v->names[v->e[i].stream];
		err = judge_stream(v, s, &v->e[i], &v->e[j]);
		r->records += s->records;
		r->missing += s->missing_count;
		r->broken += s->nbroken;
		r->duplicates += s->nduplicates;
		r->conflicts += s->nconflicts;
	}
	return err;
}

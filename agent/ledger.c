#include "ledger.h"
#include "ledger_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "sources/statefile.h"
#include "sources/window.h"

#define FILE_MAX_BYTES (1u << 30)

/* ---- days and times ---- */

void ax_ledger_day_format(int32_t day, char out[11])
{
	char text[21];
	ax_time_format_utc((int64_t)day * AX_DAY_S, text);
	memcpy(out, text, 10);
	out[10] = '\0';
}

bool ax_ledger_day_parse(const char *s, int32_t *day)
{
	int64_t ticks;
	if (strlen(s) != 10 || !ax_time_parse(s, 10, &ticks))
		return false;
	*day = ax_ledger_day(ticks / AX_TICKS_PER_SEC);
	return true;
}

/* An event time as records write it ("2026-11-23T07:22:33", with a
 * fraction or a zone; some exports put a space for the T); 0 when it
 * cannot be read. */
int64_t ax_ledger_parse_time(const char *s)
{
	int64_t ticks;
	char text[40];
	size_t n = s ? strlen(s) : 0;
	if (n < 10 || n >= sizeof(text))
		return 0;
	memcpy(text, s, n);
	if (n > 10 && text[10] == ' ')
		text[10] = 'T';
	if (!ax_time_parse(text, n, &ticks))
		return 0;
	int64_t t = ticks / AX_TICKS_PER_SEC;
	return t > 0 ? t : 0;
}

static bool two_digits(const char *s, int max, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*v = (s[0] - '0') * 10 + s[1] - '0';
	return *v <= max;
}

/* parse_time for the records of the hot path: the common UTC forms are read
 * here, the day's start kept from the record before (records come in time
 * order, many a day); anything else (a zone offset) goes to parse_time. */
static int64_t event_time(struct ax_ledger *l, const char *s)
{
	int h, m, sec;
	if (!s || strnlen(s, 20) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':' || !two_digits(s + 11, 23, &h) || !two_digits(s + 14, 59, &m) || !two_digits(s + 17, 60, &sec))
		return ax_ledger_parse_time(s);
	const char *tail = s + 19;
	if (*tail == '.')
		for (tail++; *tail >= '0' && *tail <= '9'; tail++)
			;
	if (*tail && strcmp(tail, "Z") != 0)
		return ax_ledger_parse_time(s);
	if (memcmp(s, l->day_text, 10) != 0) {
		int64_t ticks;
		if (!ax_time_parse(s, 10, &ticks))
			return 0;
		memcpy(l->day_text, s, 10);
		l->day_start = ticks / AX_TICKS_PER_SEC;
	}
	int64_t t = l->day_start + h * 3600 + m * 60 + sec;
	return t > 0 ? t : 0;
}

/* ---- look-ups ---- */

static uint32_t hash_str(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return (h ^ 0xff) * 16777619u; /* ends the string: ("ab","c") is not ("a","bc") */
}

static uint32_t stream_hash(const char *tenant, const char *source, const char *ctype)
{
	return hash_str(hash_str(hash_str(2166136261u, tenant), source), ctype);
}

static bool stream_is(const struct ax_ledger_stream *s, const char *tenant, const char *source, const char *ctype)
{
	return strcmp(s->content_type, ctype) == 0 && strcmp(s->party->source, source) == 0 &&
	       strcmp(s->party->tenant->name, tenant) == 0;
}

int ax_ledger_control(const struct ax_ledger *l, const char *id)
{
	/* "T.N": a table; anything else through the catalog */
	if (id[0] >= '0' && id[0] <= '9' && id[1] == '.' && id[2] >= '0' && id[2] <= '9') {
		int n = id[2] - '0';
		if (id[3] >= '0' && id[3] <= '9' && !id[4])
			n = n * 10 + id[3] - '0';
		else if (id[3])
			n = -1;
		if (n >= 0 && n < 64)
			return l->control_of[id[0] - '0'][n];
	}
	return -1;
}

static void build_control_table(struct ax_ledger *l)
{
	memset(l->control_of, -1, sizeof(l->control_of));
	for (size_t i = 0; i < l->catalog->n2022 && i < AX_CSET_MAX; i++) {
		const char *id = l->catalog->c2022[i].id;
		char *end;
		long t = strtol(id, &end, 10);
		long n = *end == '.' ? strtol(end + 1, &end, 10) : -1;
		if (t >= 0 && t < 10 && n >= 0 && n < 64 && !*end)
			l->control_of[t][n] = (int8_t)i;
	}
}

struct ax_ledger_tenant *ax_ledger_tenant(struct ax_ledger *l, const char *name)
{
	for (size_t i = 0; i < l->ntenants; i++)
		if (strcmp(l->tenants[i]->name, name) == 0)
			return l->tenants[i];
	struct ax_ledger_tenant **grown = realloc(l->tenants, (l->ntenants + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	l->tenants = grown;
	struct ax_ledger_tenant *t = calloc(1, sizeof(*t));
	if (t && !(t->name = strdup(name))) {
		free(t);
		t = NULL;
	}
	if (t)
		l->tenants[l->ntenants++] = t;
	return t;
}

struct ax_ledger_party *ax_ledger_party(struct ax_ledger *l, const char *tenant, const char *source)
{
	for (size_t i = 0; i < l->nparties; i++)
		if (strcmp(l->parties[i]->source, source) == 0 && strcmp(l->parties[i]->tenant->name, tenant) == 0)
			return l->parties[i];
	struct ax_ledger_tenant *t = ax_ledger_tenant(l, tenant);
	struct ax_ledger_party **grown = t ? realloc(l->parties, (l->nparties + 1) * sizeof(*grown)) : NULL;
	if (!grown)
		return NULL;
	l->parties = grown;
	struct ax_ledger_party *p = calloc(1, sizeof(*p));
	if (p && !(p->source = strdup(source))) {
		free(p);
		p = NULL;
	}
	if (p) {
		p->tenant = t;
		l->parties[l->nparties++] = p;
	}
	return p;
}

static bool stream_index_put(struct ax_ledger *l, struct ax_ledger_stream *s)
{
	if ((l->nstreams + 1) * 2 > l->stream_index_cap) {
		size_t cap = l->stream_index_cap ? l->stream_index_cap * 2 : 64;
		struct ax_ledger_stream **index = calloc(cap, sizeof(*index));
		if (!index)
			return false;
		for (size_t i = 0; i < l->nstreams; i++) {
			size_t k = l->streams[i]->hash & (cap - 1);
			while (index[k])
				k = (k + 1) & (cap - 1);
			index[k] = l->streams[i];
		}
		free(l->stream_index);
		l->stream_index = index;
		l->stream_index_cap = cap;
	}
	size_t k = s->hash & (l->stream_index_cap - 1);
	while (l->stream_index[k])
		k = (k + 1) & (l->stream_index_cap - 1);
	l->stream_index[k] = s;
	return true;
}

static struct ax_ledger_stream *stream_find(struct ax_ledger *l, const char *tenant, const char *source,
					    const char *ctype, uint32_t h)
{
	if (!l->stream_index_cap)
		return NULL;
	for (size_t k = h & (l->stream_index_cap - 1); l->stream_index[k]; k = (k + 1) & (l->stream_index_cap - 1))
		if (l->stream_index[k]->hash == h && stream_is(l->stream_index[k], tenant, source, ctype))
			return l->stream_index[k];
	return NULL;
}

/* Records mix a few streams (a file's content types): a handful of string
 * compares finds the stream cheaper than hashing the three names. */
static struct ax_ledger_stream *recent_find(const struct ax_ledger *l, const char *tenant, const char *source,
					    const char *ctype)
{
	for (size_t i = 0; i < AX_LEDGER_RECENT_STREAMS && l->recent_streams[i]; i++)
		if (stream_is(l->recent_streams[i], tenant, source, ctype))
			return l->recent_streams[i];
	return NULL;
}

static struct ax_ledger_stream *recent_put(struct ax_ledger *l, struct ax_ledger_stream *s)
{
	l->recent_streams[l->recent_streams_next] = s;
	l->recent_streams_next = (l->recent_streams_next + 1) % AX_LEDGER_RECENT_STREAMS;
	return s;
}

struct ax_ledger_stream *ax_ledger_stream(struct ax_ledger *l, const char *tenant, const char *source,
					  const char *content_type)
{
	tenant = tenant ? tenant : "";
	source = source ? source : "";
	content_type = content_type ? content_type : "";
	struct ax_ledger_stream *s = recent_find(l, tenant, source, content_type);
	if (s)
		return s;
	uint32_t h = stream_hash(tenant, source, content_type);
	if ((s = stream_find(l, tenant, source, content_type, h)))
		return recent_put(l, s);
	struct ax_ledger_party *p = ax_ledger_party(l, tenant, source);
	struct ax_ledger_stream **grown = p ? realloc(l->streams, (l->nstreams + 1) * sizeof(*grown)) : NULL;
	if (!grown)
		return NULL;
	l->streams = grown;
	if ((s = calloc(1, sizeof(*s))))
		s->hash = h;
	if (!s || !(s->content_type = strdup(content_type)) || !stream_index_put(l, s)) {
		if (s)
			free(s->content_type);
		free(s);
		return NULL;
	}
	s->party = p;
	l->streams[l->nstreams++] = s;
	return recent_put(l, s);
}

/* ---- rows ---- */

static size_t row_hash(const struct ax_ledger_stream *s, int32_t day)
{
	uint64_t h = ((uint64_t)s->hash << 32 | (uint32_t)day) * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 20);
}

static bool index_put(struct ax_ledger_row **index, size_t cap, struct ax_ledger_row *r)
{
	size_t k = row_hash(r->stream, r->day) & (cap - 1);
	while (index[k])
		k = (k + 1) & (cap - 1);
	index[k] = r;
	return true;
}

static bool index_rebuild(struct ax_ledger *l, size_t cap)
{
	struct ax_ledger_row **index = calloc(cap, sizeof(*index));
	if (!index)
		return false;
	for (size_t i = 0; i < l->nrows; i++)
		index_put(index, cap, l->rows[i]);
	free(l->index);
	l->index = index;
	l->index_cap = cap;
	return true;
}

static struct ax_ledger_row *row_new(struct ax_ledger *l, struct ax_ledger_stream *s, int32_t day)
{
	if ((l->nrows + 1) * 2 > l->index_cap && !index_rebuild(l, l->index_cap ? l->index_cap * 2 : 256))
		return NULL;
	if (l->nrows == l->rows_cap) {
		size_t cap = l->rows_cap ? l->rows_cap * 2 : 64;
		struct ax_ledger_row **rows = realloc(l->rows, cap * sizeof(*rows));
		if (!rows)
			return NULL;
		l->rows = rows;
		l->rows_cap = cap;
	}
	struct ax_ledger_row *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->stream = s;
	r->day = day;
	l->rows[l->nrows++] = r;
	index_put(l->index, l->index_cap, r);
	return r;
}

struct ax_ledger_row *ax_ledger_row(struct ax_ledger *l, struct ax_ledger_stream *s, int32_t day)
{
	struct ax_ledger_row **recent = &s->recent[(uint32_t)day % AX_LEDGER_RECENT];
	struct ax_ledger_row *hit = *recent;
	if (hit && hit->day == day)
		return hit;
	struct ax_ledger_row *r = NULL;
	for (size_t k = l->index_cap ? row_hash(s, day) & (l->index_cap - 1) : 0; l->index_cap && l->index[k];
	     k = (k + 1) & (l->index_cap - 1)) {
		if (l->index[k]->stream == s && l->index[k]->day == day) {
			r = l->index[k];
			break;
		}
	}
	if (!r)
		r = row_new(l, s, day);
	if (r)
		*recent = r;
	return r;
}

static void row_free(struct ax_ledger_row *r)
{
	free(r->cells);
	free(r->acked);
	free(r->row_acked);
	free(r);
}

/* Room for ack counts of output out. */
bool ax_ledger_row_widen(struct ax_ledger_row *r, size_t out)
{
	if (out < r->width)
		return true;
	size_t width = out + 1 > 4 ? out + 1 : 4;
	uint64_t *acked = calloc(r->cap * width + 1, sizeof(*acked));
	uint64_t *row_acked = calloc(width, sizeof(*row_acked));
	if (!acked || !row_acked) {
		free(acked);
		free(row_acked);
		return false;
	}
	for (size_t c = 0; c < r->ncells; c++)
		for (size_t o = 0; o < r->width; o++)
			acked[c * width + o] = r->acked[c * r->width + o];
	for (size_t o = 0; o < r->width; o++)
		row_acked[o] = r->row_acked[o];
	free(r->acked);
	free(r->row_acked);
	r->acked = acked;
	r->row_acked = row_acked;
	r->width = width;
	return true;
}

struct ax_ledger_cell *ax_ledger_cell(struct ax_ledger_row *r, unsigned control)
{
	if (r->slot[control])
		return &r->cells[r->slot[control] - 1];
	if (r->ncells == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		struct ax_ledger_cell *cells = realloc(r->cells, cap * sizeof(*cells));
		if (!cells)
			return NULL;
		r->cells = cells;
		if (r->width) {
			uint64_t *acked = realloc(r->acked, (cap * r->width + 1) * sizeof(*acked));
			if (!acked)
				return NULL;
			memset(acked + r->cap * r->width, 0, (cap - r->cap) * r->width * sizeof(*acked));
			r->acked = acked;
		}
		r->cap = cap;
	}
	struct ax_ledger_cell *c = &r->cells[r->ncells];
	*c = (struct ax_ledger_cell){ .control = control };
	r->slot[control] = (uint8_t)++r->ncells;
	return c;
}

/* ---- the hot path ---- */

/* The record's day and event time (now when it has none, or one more than
 * a day ahead: a clock that is off must not make rows in the future). */
static int32_t day_of(struct ax_ledger *l, const struct ax_record *r, int64_t now, int64_t *t)
{
	*t = event_time(l, r->creation_time);
	if (!*t || *t > now + AX_DAY_S)
		*t = now;
	return ax_ledger_day(*t);
}

void ax_ledger_count(struct ax_ledger *l, const struct ax_record *r, bool live, int64_t now)
{
	ax_ledger_lock(l);
	ax_ledger_count_locked(l, r, live, now);
	ax_ledger_unlock(l);
}

void ax_ledger_count_locked(struct ax_ledger *l, const struct ax_record *r, bool live, int64_t now)
{
	int64_t t;
	int32_t day = day_of(l, r, now, &t);
	struct ax_ledger_stream *s = ax_ledger_stream(l, r->tenant, r->source, r->content_type);
	struct ax_ledger_row *row = s ? ax_ledger_row(l, s, day) : NULL;
	if (!row) {
		l->lost++;
		return;
	}
	s->live = live;
	s->last_arrival = now;
	s->party->last_arrival = now;
	if (t > s->newest_event)
		s->newest_event = t;
	row->records++;
	struct ax_ledger_tenant *tenant = s->party->tenant;
	for (size_t i = 0; i < r->ncontrols; i++) {
		int k = ax_ledger_control(l, r->controls[i]);
		struct ax_ledger_cell *c = k >= 0 ? ax_ledger_cell(row, (unsigned)k) : NULL;
		if (!c)
			continue;
		if (!c->records || t < c->first)
			c->first = t;
		if (t > c->last)
			c->last = t;
		c->records++;
		tenant->ctl_last[k] = now;
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void gap_free(struct ax_ledger_gap *g)
{
	free(g->reason);
	free(g->detail);
	free(g->content_id);
	memset(g, 0, sizeof(*g));
}

void ax_ledger_gap_keep(struct ax_ledger *l, const struct ax_ledger_gap *g)
{
	if (!l->gaps && !(l->gaps = calloc(AX_LEDGER_MAX_GAPS, sizeof(*l->gaps))))
		return;
	if (l->ngaps == AX_LEDGER_MAX_GAPS) {
		gap_free(&l->gaps[l->gap_start]);
		l->gap_start = (l->gap_start + 1) % AX_LEDGER_MAX_GAPS;
		l->ngaps--;
	}
	struct ax_ledger_gap *e = ax_ledger_gap_at(l, l->ngaps);
	*e = *g;
	e->reason = dup_or_null(g->reason ? g->reason : "");
	e->detail = dup_or_null(g->detail);
	e->content_id = dup_or_null(g->content_id);
	l->ngaps++;
}

void ax_ledger_gap(struct ax_ledger *l, const struct ax_record *r, const struct ax_ledger_gap *g, int64_t now)
{
	ax_ledger_lock(l);
	struct ax_ledger_stream *s = ax_ledger_stream(l, r->tenant, r->source, r->content_type);
	int64_t t = g->time ? g->time : now;
	struct ax_ledger_row *row = s ? ax_ledger_row(l, s, ax_ledger_day(t)) : NULL;
	if (row) {
		row->gaps++;
		struct ax_ledger_gap e = *g;
		e.stream = s;
		e.time = t;
		e.day = row->day;
		ax_ledger_gap_keep(l, &e);
	}
	ax_ledger_unlock(l);
}

static bool own_record(const struct ax_record *r)
{
	return strcmp(r->workload, "annexa") == 0;
}

void ax_ledger_ack(struct ax_ledger *l, int out, const struct ax_record *records, size_t n, int64_t now)
{
	if (out < 0)
		return;
	ax_ledger_lock(l);
	for (size_t i = 0; i < n; i++) {
		const struct ax_record *r = &records[i];
		if (own_record(r))
			continue;
		int64_t t;
		int32_t day = day_of(l, r, now, &t);
		struct ax_ledger_stream *s = ax_ledger_stream(l, r->tenant, r->source, r->content_type);
		struct ax_ledger_row *row = s ? ax_ledger_row(l, s, day) : NULL;
		if (!row || !ax_ledger_row_widen(row, (size_t)out))
			continue;
		row->row_acked[out]++;
		for (size_t k = 0; k < r->ncontrols; k++) {
			int ctl = ax_ledger_control(l, r->controls[k]);
			struct ax_ledger_cell *c = ctl >= 0 ? ax_ledger_cell(row, (unsigned)ctl) : NULL;
			if (c) /* a cell made here (its count was lost in a crash) keeps records 0 */
				row->acked[(size_t)(c - row->cells) * row->width + (size_t)out]++;
		}
	}
	ax_ledger_unlock(l);
}

int ax_ledger_output(struct ax_ledger *l, const char *name)
{
	int found = -1;
	ax_ledger_lock(l);
	for (size_t i = 0; i < l->noutputs && found < 0; i++)
		if (strcmp(l->outputs[i], name) == 0)
			found = (int)i;
	if (found < 0 && l->noutputs < AX_LEDGER_MAX_OUTPUTS && (l->outputs[l->noutputs] = strdup(name)))
		found = (int)l->noutputs++;
	ax_ledger_unlock(l);
	return found;
}

static void prune(struct ax_ledger *l, int32_t today)
{
	int32_t oldest = today - (int32_t)(l->retention_days - 1);
	size_t kept = 0;
	for (size_t i = 0; i < l->nrows; i++) {
		if (l->rows[i]->day >= oldest)
			l->rows[kept++] = l->rows[i];
		else
			row_free(l->rows[i]);
	}
	if (kept < l->nrows) {
		l->nrows = kept;
		for (size_t i = 0; i < l->nstreams; i++)
			memset(l->streams[i]->recent, 0, sizeof(l->streams[i]->recent));
		if (!index_rebuild(l, l->index_cap)) /* same size: fails only when memory is out */
			memset(l->index, 0, l->index_cap * sizeof(*l->index));
	}
	size_t kept_gaps = 0; /* in the order they came, which is not quite the days' */
	for (size_t i = 0; i < l->ngaps; i++) {
		struct ax_ledger_gap *g = ax_ledger_gap_at(l, i);
		if (g->day < oldest) {
			gap_free(g);
		} else if (kept_gaps++ != i) {
			*ax_ledger_gap_at(l, kept_gaps - 1) = *g;
			memset(g, 0, sizeof(*g));
		}
	}
	l->ngaps = kept_gaps;
}

ax_err ax_ledger_save(struct ax_ledger *l, int32_t today)
{
	struct ax_buf b;
	ax_buf_init(&b, FILE_MAX_BYTES);
	ax_ledger_lock(l);
	prune(l, today);
	ax_err err = ax_ledger_render(l, &b);
	ax_ledger_unlock(l);
	if (!err && l->path)
		err = ax_state_write(l->path, b.data, b.len);
	ax_buf_finish(&b);
	return err;
}

struct ax_ledger *ax_ledger_open(const char *path, const struct ax_catalog *catalog, int64_t retention_days,
				 size_t *skipped, ax_err *err)
{
	size_t ignored = 0;
	skipped = skipped ? skipped : &ignored;
	*skipped = 0;
	struct ax_ledger *l = calloc(1, sizeof(*l));
	if (!l || (path && !(l->path = strdup(path)))) {
		free(l);
		*err = AX_ERR_NOMEM;
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->catalog = catalog;
	l->retention_days = retention_days > 0 ? retention_days : 1;
	build_control_table(l);
	*err = path ? ax_ledger_load(l, skipped) : AX_OK;
	if (*err) {
		ax_ledger_close(l);
		return NULL;
	}
	return l;
}

void ax_ledger_close(struct ax_ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nrows; i++)
		row_free(l->rows[i]);
	for (size_t i = 0; i < l->ngaps; i++)
		gap_free(ax_ledger_gap_at(l, i));
	for (size_t i = 0; i < l->nstreams; i++) {
		free(l->streams[i]->content_type);
		free(l->streams[i]);
	}
	for (size_t i = 0; i < l->nparties; i++) {
		free(l->parties[i]->source);
		free(l->parties[i]);
	}
	for (size_t i = 0; i < l->ntenants; i++) {
		free(l->tenants[i]->name);
		free(l->tenants[i]);
	}
	for (size_t i = 0; i < l->noutputs; i++)
		free(l->outputs[i]);
	free(l->gaps);
	free(l->rows);
	free(l->index);
	free(l->streams);
	free(l->stream_index);
	free(l->parties);
	free(l->tenants);
	pthread_mutex_destroy(&l->lock);
	free(l->path);
	free(l);
}

#define _GNU_SOURCE /* asprintf */
#include "chain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "enrich.h"
#include "log.h"
#include "sha256_ni.h"
#include "sha256_x16.h"
#include "spool.h"

#define LOG_NAME "chain"
#define FILE_HEAD "annexa-chain 1\n"

/* The CPU's SHA instructions where it has them (sha256_ni.h), else OpenSSL;
 * groups of records in AVX-512 lanes where that pays (sha256_x16.h). */
struct ax_chain_hasher {
	bool ni, x16;
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

struct ax_chain_hasher *ax_chain_hasher_create(void)
{
	struct ax_chain_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ni = ax_sha256_ni_usable();
	h->x16 = ax_sha256_x16_pays();
	if (h->ni) /* OpenSSL is not needed: fetching loads its provider, about 2 MiB resident */
		return h;
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL); /* once: an implicit fetch per record costs */
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx) {
		ax_chain_hasher_destroy(h);
		return NULL;
	}
	return h;
}

void ax_chain_hasher_destroy(struct ax_chain_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

/* SHA-256 of two pieces, one after the other. */
static ax_err sha256_2(struct ax_chain_hasher *h, const void *a, size_t alen, const void *b, size_t blen,
		       uint8_t out[AX_CHAIN_LEN])
{
	if (h->ni) {
		struct ax_sha256_msg m = { { a, b }, { alen, blen } };
		ax_sha256_ni_lanes(&m, 1, (uint8_t(*)[AX_CHAIN_LEN])out);
		return AX_OK;
	}
	unsigned n = 0;
	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
	    EVP_DigestUpdate(h->ctx, b, blen) != 1 || EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != AX_CHAIN_LEN)
		return AX_ERR_UNSUPPORTED;
	return AX_OK;
}

void ax_chain_hex(const uint8_t v[AX_CHAIN_LEN], char out[AX_CHAIN_HEX])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < AX_CHAIN_LEN; i++) {
		out[2 * i] = digits[v[i] >> 4];
		out[2 * i + 1] = digits[v[i] & 15];
	}
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lowercase only: the agent writes no other, so an uppercased digit is an edit. */
bool ax_chain_unhex(const char *hex, uint8_t v[AX_CHAIN_LEN])
{
	for (size_t i = 0; i < AX_CHAIN_LEN; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		v[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* True when the len bytes before end are lit. */
static bool ends_with(const char *rec, size_t end, const char *lit, size_t len)
{
	return end >= len && memcmp(rec + end - len, lit, len) == 0;
}

static const char STREAM_KEY[] = ",\"stream\":\"";
static const char SEQ_KEY[] = "\",\"seq\":";
static const char CHAIN_KEY[] = ",\"chain\":\"";

/* The name's opening quote: the last ,"stream":" before at. Inside a JSON
 * string every '"' follows a backslash, so ," never occurs in one and the
 * last match is the member's key. */
static bool find_stream(const char *rec, size_t at, size_t *name)
{
	size_t k = sizeof(STREAM_KEY) - 1;
	for (size_t i = at; i >= k; i--) {
		if (rec[i - 1] == '"' && memcmp(rec + i - k, STREAM_KEY, k) == 0) {
			*name = i;
			return true;
		}
	}
	return false;
}

bool ax_chain_tail_parse(const char *rec, size_t len, struct ax_chain_tail *t)
{
	size_t end = len;
	while (end > 0 && is_space(rec[end - 1]))
		end--;
	const char *open = memchr(rec, '{', len);
	/* ..."chain":"HEX"}} */
	if (!open || end < 4 + AX_CHAIN_HEX || !ends_with(rec, end, "\"}}", 3))
		return false;
	size_t hex = end - 3 - AX_CHAIN_HEX;
	if (!ax_chain_unhex(rec + hex, t->chain) || !ends_with(rec, hex, CHAIN_KEY, sizeof(CHAIN_KEY) - 1))
		return false;
	size_t digits_end = hex - (sizeof(CHAIN_KEY) - 1), d = digits_end;
	while (d > 0 && rec[d - 1] >= '0' && rec[d - 1] <= '9')
		d--;
	if (d == digits_end || digits_end - d > 20 || (rec[d] == '0' && digits_end - d > 1))
		return false;
	uint64_t seq = 0;
	for (size_t i = d; i < digits_end; i++) {
		unsigned digit = (unsigned)(rec[i] - '0');
		if (seq > (UINT64_MAX - digit) / 10)
			return false;
		seq = seq * 10 + digit;
	}
	if (seq == 0 || !ends_with(rec, d, SEQ_KEY, sizeof(SEQ_KEY) - 1))
		return false;
	size_t quote = d - (sizeof(SEQ_KEY) - 1); /* the name's closing quote */
	size_t name;
	if (!find_stream(rec, quote, &name) || (size_t)(open - rec) >= name)
		return false;
	t->stream = rec + name;
	t->stream_len = quote - name;
	t->seq = seq;
	t->begin = (size_t)(open - rec);
	t->end = end;
	t->hex = hex;
	return true;
}

ax_err ax_chain_digest(struct ax_chain_hasher *h, const char *rec, const struct ax_chain_tail *t,
		       uint8_t out[AX_CHAIN_LEN])
{
	return sha256_2(h, rec + t->begin, t->hex - t->begin, rec + t->hex + AX_CHAIN_HEX,
			t->end - t->hex - AX_CHAIN_HEX, out);
}

ax_err ax_chain_link(struct ax_chain_hasher *h, const uint8_t prev[AX_CHAIN_LEN], const uint8_t digest[AX_CHAIN_LEN],
		     uint8_t out[AX_CHAIN_LEN])
{
	if (h->ni) {
		ax_sha256_ni_pair(prev, digest, out);
		return AX_OK;
	}
	return sha256_2(h, prev, AX_CHAIN_LEN, digest, AX_CHAIN_LEN, out);
}

static struct ax_sha256_msg r_prime(const struct ax_chain_slot *s)
{
	return (struct ax_sha256_msg){ { s->rec + s->begin, s->rec + s->hex + AX_CHAIN_HEX },
				       { s->hex - s->begin, s->end - s->hex - AX_CHAIN_HEX } };
}

static ax_err digest_of(struct ax_chain_hasher *h, const struct ax_chain_slot *s, uint8_t out[AX_CHAIN_LEN])
{
	struct ax_sha256_msg m = r_prime(s);
	return sha256_2(h, m.piece[0], m.len[0], m.piece[1], m.len[1], out);
}

ax_err ax_chain_put(struct ax_chain_hasher *h, const struct ax_chain_slot *s, const uint8_t prev[AX_CHAIN_LEN],
		    const uint8_t digest[AX_CHAIN_LEN], uint8_t chain[AX_CHAIN_LEN])
{
	ax_err err = ax_chain_link(h, prev, digest, chain);
	if (!err)
		ax_chain_hex(chain, s->rec + s->hex);
	return err;
}

ax_err ax_chain_seal(struct ax_chain_hasher *h, const struct ax_chain_slot *s, const uint8_t prev[AX_CHAIN_LEN],
		     uint8_t chain[AX_CHAIN_LEN])
{
	return ax_chain_seal_n(h, s, 1, prev, (uint8_t(*)[AX_CHAIN_LEN])chain);
}

_Static_assert(AX_CHAIN_GROUP <= AX_SHA256_LANES, "a group is hashed side by side");

ax_err ax_chain_digest_n(struct ax_chain_hasher *h, const struct ax_chain_slot *const *s, size_t n,
			 uint8_t (*digest)[AX_CHAIN_LEN])
{
	unsigned handoff = h->ni ? AX_SHA256_X16_HANDOFF : 0;
	struct ax_sha256_msg m[AX_CHAIN_GROUP] = { 0 };
	for (size_t k = 0; k < n; k++)
		m[k] = r_prime(s[k]);
	if (h->x16 && n >= handoff) {
		ax_sha256_x16(m, n, handoff, digest);
		return AX_OK;
	}
	if (!h->ni) {
		ax_err err = AX_OK;
		for (size_t k = 0; k < n && !err; k++)
			err = digest_of(h, s[k], digest[k]);
		return err;
	}
	ax_sha256_ni_lanes(m, n, digest);
	return AX_OK;
}

ax_err ax_chain_seal_n(struct ax_chain_hasher *h, const struct ax_chain_slot *s, size_t n,
		       const uint8_t prev[AX_CHAIN_LEN], uint8_t (*chain)[AX_CHAIN_LEN])
{
	const struct ax_chain_slot *slot[AX_CHAIN_GROUP] = { 0 };
	uint8_t digest[AX_CHAIN_GROUP][AX_CHAIN_LEN];
	for (size_t k = 0; k < n; k++)
		slot[k] = &s[k];
	ax_err err = ax_chain_digest_n(h, slot, n, digest);
	for (size_t k = 0; k < n && !err; k++)
		err = ax_chain_put(h, &s[k], k ? chain[k - 1] : prev, digest[k], chain[k]);
	return err;
}

/* ---- streams ---- */

ax_err ax_chain_stream_name(const struct ax_origin *o, struct ax_buf *out)
{
	char raw[1024];
	if (o->stream)
		snprintf(raw, sizeof(raw), "%s", o->stream);
	else
		snprintf(raw, sizeof(raw), "%s%s%s%s%s", o->source, o->tenant && *o->tenant ? "/" : "",
			 o->tenant ? o->tenant : "", o->content_type && *o->content_type ? "/" : "",
			 o->content_type ? o->content_type : "");
	/* as it is written in records and in the file: JSON string content */
	ax_buf_clear(out);
	ax_err err = ax_buf_add_json_str(out, raw, strlen(raw));
	if (err)
		return err;
	memmove(out->data, out->data + 1, out->len - 2);
	out->len -= 2;
	return ax_buf_cstr(out);
}

struct ax_chain_stream *ax_chains_get(struct ax_chains *c, const char *name)
{
	if (c->last < c->n && strcmp(c->v[c->last]->name, name) == 0)
		return c->v[c->last];
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i]->name, name) == 0) {
			c->last = i;
			return c->v[i];
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct ax_chain_stream **v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	struct ax_chain_stream *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		return NULL;
	}
	c->v[c->n] = s;
	c->last = c->n++;
	return s;
}

/* A "SEQ HEX NAME" line (NUL-terminated): the link, and where the name starts. */
static bool parse_link(const char *line, struct ax_link *link, int *name_at)
{
	unsigned long long seq;
	char hex[AX_CHAIN_HEX + 1];
	*name_at = 0;
	if (sscanf(line, "%llu %64s %n", &seq, hex, name_at) != 2 || !*name_at || strlen(hex) != AX_CHAIN_HEX ||
	    !ax_chain_unhex(hex, link->chain))
		return false;
	link->seq = seq;
	return true;
}

/* "SEQ HEX NAME" lines between the head and "end"; the spool's end first. */
static bool parse_file(struct ax_chains *c, char *text)
{
	if (strncmp(text, FILE_HEAD, strlen(FILE_HEAD)) != 0)
		return false;
	char *line = text + strlen(FILE_HEAD), *nl;
	unsigned long long at;
	int used = 0;
	if (sscanf(line, "spool %llu%n", &at, &used) != 1 || line[used] != '\n')
		return false;
	c->spool_at = at;
	for (line += used + 1; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (strcmp(line, "end") == 0)
			return nl[1] == '\0';
		struct ax_link link;
		struct ax_chain_stream *s = parse_link(line, &link, &used) ? ax_chains_get(c, line + used) : NULL;
		if (!s)
			return false;
		s->link = link;
	}
	return false;
}

/* The line parse_link reads. */
static ax_err add_link(struct ax_buf *b, const struct ax_link *l, const char *name)
{
	char hex[AX_CHAIN_HEX + 1];
	ax_chain_hex(l->chain, hex);
	hex[AX_CHAIN_HEX] = '\0';
	return ax_buf_addf(b, "%" PRIu64 " %s %s\n", l->seq, hex, name);
}

/* The journal's lines: each stream goes to the furthest position in them.
 * A line a crash cut short (no newline) is left; so is one that does not
 * parse. Returns how many positions moved a stream on. */
static size_t apply_journal(struct ax_chains *c, char *text)
{
	size_t moved = 0;
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		struct ax_link link;
		int used;
		struct ax_chain_stream *s = parse_link(line, &link, &used) ? ax_chains_get(c, line + used) : NULL;
		if (s && link.seq > s->link.seq) {
			s->link = s->journaled = link;
			c->dirty = true;
			moved++;
		}
	}
	return moved;
}

static void clear_streams(struct ax_chains *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i]->name);
		free(c->v[i]);
	}
	c->n = 0;
	c->last = 0;
}

/* The whole file, NUL-terminated, in text; *found false when it does not exist. */
static ax_err read_text(const char *path, struct ax_buf *text, bool *found)
{
	FILE *f = fopen(path, "r");
	*found = f != NULL;
	if (!f && errno == ENOENT)
		return AX_OK;
	if (!f) {
		ax_error(LOG_NAME, "cannot read %s: %s", path, strerror(errno));
		return AX_ERR_IO;
	}
	char chunk[8192];
	size_t n;
	ax_err err = AX_OK;
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		err = ax_buf_add(text, chunk, n);
	if (!err)
		err = ferror(f) ? AX_ERR_IO : ax_buf_cstr(text);
	fclose(f);
	if (err)
		ax_error(LOG_NAME, "cannot read %s: %s", path, ax_strerror(err));
	return err;
}

static ax_err load_file(struct ax_chains *c)
{
	struct ax_buf text;
	ax_buf_init(&text, 64u << 20);
	bool found;
	ax_err err = read_text(c->path, &text, &found);
	if (!err && found && !parse_file(c, text.data)) {
		/* Keep running: evidence matters more than its numbering. The
		 * spool is read from its start to find every stream it holds. */
		ax_error(LOG_NAME, "%s does not read back: the evidence chains start again (annexa verify will show "
			 "numbers given twice)", c->path);
		clear_streams(c);
		c->spool_at = UINT64_MAX;
	}
	ax_buf_finish(&text);
	return err;
}

static ax_err load_journal(struct ax_chains *c)
{
	struct ax_buf text;
	ax_buf_init(&text, 64u << 20);
	ax_err err = read_text(c->journal_path, &text, &c->journal_left);
	if (!err && c->journal_left && apply_journal(c, text.data))
		ax_info(LOG_NAME, "streams continue after the records %s says were numbered since %s was written "
			"(spool = memory, a crash)", c->journal_path, c->path);
	ax_buf_finish(&text);
	return err;
}

ax_err ax_chains_init(struct ax_chains *c, const char *state_dir, bool fsync)
{
	*c = (struct ax_chains){ .fsync = fsync, .spool_at = UINT64_MAX, .journal_fd = -1 };
	ax_buf_init(&c->journal_text, 64u << 20);
	if (!state_dir)
		return AX_OK;
	if (asprintf(&c->path, "%s/chain", state_dir) < 0)
		c->path = NULL;
	if (c->path && asprintf(&c->journal_path, "%s.journal", c->path) < 0)
		c->journal_path = NULL;
	if (!c->journal_path)
		return AX_ERR_NOMEM;
	ax_err err = load_file(c);
	return err ? err : load_journal(c);
}

void ax_chains_finish(struct ax_chains *c)
{
	clear_streams(c);
	free(c->v);
	free(c->path);
	free(c->journal_path);
	if (c->journal_fd >= 0)
		close(c->journal_fd);
	ax_buf_finish(&c->journal_text);
	*c = (struct ax_chains){ .journal_fd = -1 };
}

static ax_err write_file(const char *path, const char *data, size_t len, bool sync)
{
	char *tmp;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return AX_ERR_NOMEM;
	unlink(tmp); /* a left-over keeps its mode through O_TRUNC */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ax_err err = fd < 0 ? AX_ERR_IO : AX_OK;
	for (size_t done = 0; !err && done < len;) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			err = AX_ERR_IO;
		else
			done += (size_t)w;
	}
	if (!err && sync && fsync(fd) != 0)
		err = AX_ERR_IO;
	if (fd >= 0 && close(fd) != 0 && !err)
		err = AX_ERR_IO;
	if (!err && rename(tmp, path) != 0)
		err = AX_ERR_IO;
	if (err) {
		ax_error(LOG_NAME, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	if (!err && sync) {
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash)
			*slash = '\0';
		int dfd = slash ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (dfd >= 0) {
			(void)fsync(dfd); /* the rename is done; a lost one only means a longer scan */
			close(dfd);
		}
		free(dir);
	}
	return err;
}

/* Appends journal_text to the journal, opened the first time. */
static void journal_write(struct ax_chains *c)
{
	if (!c->journal_text.len || !c->journal_path)
		return;
	if (c->journal_fd < 0)
		c->journal_fd = open(c->journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	bool ok = c->journal_fd >= 0;
	for (size_t done = 0; ok && done < c->journal_text.len;) {
		ssize_t w = write(c->journal_fd, c->journal_text.data + done, c->journal_text.len - done);
		if (w > 0)
			done += (size_t)w;
		else
			ok = w < 0 && errno == EINTR;
	}
	if (!ok && !c->journal_failed)
		ax_error(LOG_NAME, "cannot write %s: %s; after a crash, numbers the outputs had may be given again "
			 "(annexa verify shows them as conflicting)", c->journal_path, strerror(errno));
	c->journal_failed |= !ok;
	ax_buf_clear(&c->journal_text);
}

static void journal_add(struct ax_chains *c, struct ax_chain_stream *s, const struct ax_link *l)
{
	if (add_link(&c->journal_text, l, s->name) == AX_OK)
		s->journaled = *l;
}

/* After a save: the journal holds only what the file does not (a stream
 * journaled ahead of its position, an own record out before the record it
 * waited for); one found at the start and not used since goes. */
static void restart_journal(struct ax_chains *c)
{
	if (c->journal_fd < 0) {
		if (c->journal_left && unlink(c->journal_path) == 0)
			c->journal_left = false;
		return;
	}
	if (ftruncate(c->journal_fd, 0) != 0)
		return; /* it only grows: its positions are still right */
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i]->journaled.seq > c->v[i]->link.seq)
			journal_add(c, c->v[i], &c->v[i]->journaled);
	journal_write(c);
}

ax_err ax_chains_save(struct ax_chains *c, uint64_t spool_end)
{
	if (!c->path || !c->dirty)
		return AX_OK;
	struct ax_buf b;
	ax_buf_init(&b, 64u << 20);
	ax_err err = ax_buf_addf(&b, FILE_HEAD "spool %" PRIu64 "\n", spool_end);
	for (size_t i = 0; !err && i < c->n; i++)
		err = add_link(&b, &c->v[i]->link, c->v[i]->name);
	if (!err)
		err = ax_buf_adds(&b, "end\n");
	if (!err)
		err = write_file(c->path, b.data, b.len, c->fsync);
	ax_buf_finish(&b);
	if (!err) {
		c->dirty = false;
		c->spool_at = spool_end;
		restart_journal(c);
	}
	return err;
}

void ax_chains_journal(struct ax_chains *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i]->link.seq > c->v[i]->journaled.seq)
			journal_add(c, c->v[i], &c->v[i]->link);
	journal_write(c);
}

void ax_chains_journal_ahead(struct ax_chains *c, struct ax_chain_stream *s, const struct ax_link *next)
{
	journal_add(c, s, next);
	journal_write(c);
}

/* One record read back from the spool: its stream moves past it. */
static ax_err recover_record(struct ax_chains *c, const struct ax_record *r, uint64_t *moved)
{
	struct ax_chain_tail t;
	if (!ax_chain_tail_parse(r->json, r->len, &t))
		return AX_OK; /* spooled by a version without chains */
	char *name = strndup(t.stream, t.stream_len);
	struct ax_chain_stream *s = name ? ax_chains_get(c, name) : NULL;
	free(name);
	if (!s)
		return AX_ERR_NOMEM;
	if (t.seq > s->link.seq) {
		s->link.seq = t.seq;
		memcpy(s->link.chain, t.chain, AX_CHAIN_LEN);
		c->dirty = true;
		(*moved)++;
	}
	return AX_OK;
}

ax_err ax_chains_recover(struct ax_chains *c, struct ax_spool *sp)
{
	uint64_t start = ax_spool_start(sp), end = ax_spool_end(sp), from = c->spool_at;
	if (from == UINT64_MAX) {
		from = start;
	} else if (from < start) {
		ax_warn(LOG_NAME, "the spool no longer holds every record numbered since %s was written: a stream "
			"may give a few numbers twice (annexa verify shows them as conflicting)", c->path);
		from = start;
	}
	uint64_t moved = 0;
	ax_err err = AX_OK;
	if (from < end) { /* from > end: a spool emptied at a clean stop; nothing was numbered since */
		struct ax_spool_reader *rd = ax_spool_reader_open_at(sp, from);
		const struct ax_record *r;
		err = rd ? AX_OK : AX_ERR_NOMEM;
		while (!err && (r = ax_spool_next(rd)))
			err = recover_record(c, r, &moved);
		ax_spool_reader_close(rd);
	}
	if (moved)
		ax_info(LOG_NAME, "%" PRIu64 " records spooled after %s was last written: their streams continue "
			"after them", moved, c->path);
	c->dirty = true; /* the spool's end now: positions are per spool, a new one starts at 0 */
	return err ? err : ax_chains_save(c, end);
}

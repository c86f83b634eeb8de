#include "sources/dedup.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX
#define FIRST_ALLOC 256

enum state { FREE, PENDING, DONE };

struct entry {
	struct ax_key key;
	uint8_t state;
};

/* A ring of entries in arrival order (the oldest is evicted when full) and
 * an open-addressing index into it (linear probing, load at most 1/2). */
struct ax_dedup {
	struct entry *ring;
	size_t alloc, capacity, head, count, live;
	uint32_t *table;
	size_t mask;
};

/* ---- keys ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool guid_key(struct ax_key *k, const char *s, size_t len)
{
	if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	size_t n = 0;
	for (size_t i = 0; i < 36; i += 2) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			i++; /* the hyphens, checked above */
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		k->b[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n == 16;
}

/* SHA-256 over the length-prefixed parts (so no two lists hash alike), cut to 128 bits. */
static bool digest(struct ax_key *k, const char *const *parts, const size_t *lens, size_t n)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int olen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	for (size_t i = 0; ok && i < n; i++) {
		uint64_t len = lens[i];
		ok = EVP_DigestUpdate(md, &len, sizeof(len)) == 1 && EVP_DigestUpdate(md, parts[i], lens[i]) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, out, &olen) == 1 && olen >= sizeof(k->b);
	EVP_MD_CTX_free(md);
	if (ok)
		memcpy(k->b, out, sizeof(k->b));
	return ok;
}

bool ax_key_of_parts(struct ax_key *k, const char *const *parts, size_t n)
{
	size_t lens[8];
	if (n > 8)
		return false;
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(parts[i]);
	return digest(k, parts, lens, n);
}

bool ax_key_of(struct ax_key *k, const char *id, size_t len)
{
	return guid_key(k, id, len) || digest(k, &id, &len, 1);
}

/* ---- the set ---- */

static size_t home_of(const struct ax_dedup *d, const struct ax_key *k)
{
	uint64_t a, b;
	memcpy(&a, k->b, 8);
	memcpy(&b, k->b + 8, 8);
	uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x & d->mask;
}

/* The table slot holding k, or the empty slot where it would go. */
static bool find(const struct ax_dedup *d, const struct ax_key *k, size_t *slot)
{
	if (!d->table)
		return false;
	for (size_t i = home_of(d, k);; i = (i + 1) & d->mask) {
		if (d->table[i] == EMPTY || memcmp(&d->ring[d->table[i]].key, k, sizeof(*k)) == 0) {
			*slot = i;
			return d->table[i] != EMPTY;
		}
	}
}

/* Removes table slot i, shifting later entries of its probe run back. */
static void table_delete(struct ax_dedup *d, size_t i)
{
	for (size_t j = (i + 1) & d->mask; d->table[j] != EMPTY; j = (j + 1) & d->mask) {
		size_t home = home_of(d, &d->ring[d->table[j]].key);
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			d->table[i] = d->table[j];
			i = j;
		}
	}
	d->table[i] = EMPTY;
}

static bool rebuild_table(struct ax_dedup *d)
{
	size_t size = 1;
	while (size < d->alloc * 2)
		size *= 2;
	uint32_t *t = malloc(size * sizeof(*t));
	if (!t)
		return false;
	free(d->table);
	d->table = t;
	d->mask = size - 1;
	memset(t, 0xff, size * sizeof(*t));
	for (size_t n = 0; n < d->count; n++) {
		size_t pos = (d->head + n) % d->alloc, slot;
		if (d->ring[pos].state != FREE && !find(d, &d->ring[pos].key, &slot))
			t[slot] = (uint32_t)pos;
	}
	return true;
}

/* Before the ring first fills, head is 0 and positions survive a realloc. */
static bool grow(struct ax_dedup *d)
{
	size_t alloc = d->alloc ? d->alloc * 2 : FIRST_ALLOC;
	if (alloc > d->capacity)
		alloc = d->capacity;
	struct entry *ring = realloc(d->ring, alloc * sizeof(*ring));
	if (!ring)
		return false;
	d->ring = ring;
	d->alloc = alloc;
	return rebuild_table(d);
}

static void evict_oldest(struct ax_dedup *d)
{
	struct entry *e = &d->ring[d->head];
	size_t slot;
	if (e->state != FREE && find(d, &e->key, &slot)) {
		table_delete(d, slot);
		d->live--;
	}
	d->head = (d->head + 1) % d->alloc;
	d->count--;
}

static void insert(struct ax_dedup *d, const struct ax_key *k, enum state st)
{
	if (d->count == d->alloc && (d->alloc == d->capacity || !grow(d)))
		evict_oldest(d); /* full, or no memory to grow: forget the oldest */
	size_t pos = (d->head + d->count) % d->alloc, slot = 0; /* find sets it: the table exists by now */
	d->ring[pos] = (struct entry){ .key = *k, .state = (uint8_t)st };
	d->count++;
	d->live++;
	find(d, k, &slot);
	d->table[slot] = (uint32_t)pos;
}

struct ax_dedup *ax_dedup_create(size_t capacity)
{
	struct ax_dedup *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->capacity = capacity ? capacity : 1;
	if (d->capacity > EMPTY - 1)
		d->capacity = EMPTY - 1;
	if (!grow(d)) {
		ax_dedup_destroy(d);
		return NULL;
	}
	return d;
}

void ax_dedup_destroy(struct ax_dedup *d)
{
	if (!d)
		return;
	free(d->ring);
	free(d->table);
	free(d);
}

bool ax_dedup_claim(struct ax_dedup *d, const struct ax_key *k)
{
	size_t slot;
	if (find(d, k, &slot))
		return false;
	insert(d, k, PENDING);
	return true;
}

void ax_dedup_confirm(struct ax_dedup *d, const struct ax_key *k)
{
	size_t slot;
	if (find(d, k, &slot))
		d->ring[d->table[slot]].state = DONE;
}

void ax_dedup_release(struct ax_dedup *d, const struct ax_key *k)
{
	size_t slot;
	if (!find(d, k, &slot) || d->ring[d->table[slot]].state != PENDING)
		return;
	d->ring[d->table[slot]].state = FREE;
	table_delete(d, slot);
	d->live--;
}

void ax_dedup_add(struct ax_dedup *d, const struct ax_key *k)
{
	size_t slot;
	if (find(d, k, &slot))
		d->ring[d->table[slot]].state = DONE;
	else
		insert(d, k, DONE);
}

bool ax_dedup_has(const struct ax_dedup *d, const struct ax_key *k)
{
	size_t slot;
	return find(d, k, &slot);
}

size_t ax_dedup_count(const struct ax_dedup *d)
{
	return d->live;
}

size_t ax_dedup_capacity(const struct ax_dedup *d)
{
	return d->capacity;
}

bool ax_dedup_each(const struct ax_dedup *d, bool (*fn)(const struct ax_key *k, void *arg), void *arg)
{
	for (size_t n = 0; n < d->count; n++) {
		const struct entry *e = &d->ring[(d->head + n) % d->alloc];
		if (e->state == DONE && !fn(&e->key, arg))
			return false;
	}
	return true;
}

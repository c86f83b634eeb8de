/* Records of the pending batch that Splunk already took.
 *
 * A batch is cut into several requests. When request 3 of 5 must be
 * retried, or one event is refused, the pipeline sends the batch (minus the
 * refused records) again; without this set requests 1 and 2 would reach
 * Splunk twice. A record is known by a 64-bit hash of its enriched bytes,
 * which stay the same while its batch is pending. It is a multiset: two
 * identical records in one batch are two entries, and each entry
 * excuses one record per pass (rewind, then take). The set is emptied once
 * a batch is delivered, or when a batch comes that holds none of it. */
#include <stdlib.h>
#include <string.h>

#include "hec.h"

/* MurmurHash64A (Austin Appleby, public domain) over the record's bytes,
 * 8 at a time: the byte-at-a-time FNV-1a it replaces was one dependent
 * multiplication per byte, 15% of a HEC run's CPU. Keys live only in this
 * process, so the function can change between versions. */
uint64_t ax_hec_done_key(const struct ax_record *r)
{
	const uint64_t m = 0xc6a4a7935bd1e995ull;
	const unsigned char *p = (const unsigned char *)r->json;
	size_t len = r->len;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * m);
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t k;
		memcpy(&k, p, sizeof(k));
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	if (len) {
		uint64_t k = 0;
		memcpy(&k, p, len);
		h ^= k;
		h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

ax_err ax_hec_done_add(struct ax_hec_done *d, uint64_t key)
{
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		uint64_t *keys = realloc(d->keys, cap * sizeof(*keys));
		if (!keys)
			return AX_ERR_NOMEM;
		d->keys = keys;
		bool *taken = realloc(d->taken, cap * sizeof(*taken));
		if (!taken)
			return AX_ERR_NOMEM;
		d->taken = taken;
		d->cap = cap;
	}
	d->taken[d->count] = false;
	d->keys[d->count++] = key;
	d->sorted = false;
	return AX_OK;
}

static int compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void ax_hec_done_rewind(struct ax_hec_done *d)
{
	if (d->count == 0)
		return;
	if (!d->sorted) /* the flags are all cleared below: sorting need not move them */
		qsort(d->keys, d->count, sizeof(*d->keys), compare);
	d->sorted = true;
	memset(d->taken, 0, d->count * sizeof(*d->taken));
}

bool ax_hec_done_take(struct ax_hec_done *d, uint64_t key)
{
	const uint64_t *hit = d->count ? bsearch(&key, d->keys, d->count, sizeof(*d->keys), compare) : NULL;
	if (!hit)
		return false;
	size_t i = (size_t)(hit - d->keys);
	while (i > 0 && d->keys[i - 1] == key)
		i--;
	for (; i < d->count && d->keys[i] == key; i++) {
		if (!d->taken[i]) {
			d->taken[i] = true;
			return true;
		}
	}
	return false;
}

void ax_hec_done_clear(struct ax_hec_done *d)
{
	d->count = 0;
	d->sorted = true;
}

void ax_hec_done_finish(struct ax_hec_done *d)
{
	free(d->keys);
	free(d->taken);
	*d = (struct ax_hec_done){ 0 };
}

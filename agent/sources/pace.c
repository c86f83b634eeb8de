#include "sources/pace.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ax_pace {
	char *key;
	int64_t interval_us; /* between two requests */
	int64_t next_us;     /* the next may start then */
	unsigned refs;
	pthread_mutex_t lock;
	struct ax_pace *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ax_pace *registry;

static int64_t interval_of(unsigned requests_per_minute)
{
	return 60000000 / (requests_per_minute ? requests_per_minute : 1);
}

static struct ax_pace *create(const char *key, int64_t interval_us)
{
	struct ax_pace *p = calloc(1, sizeof(*p));
	if (!p || !(p->key = strdup(key))) {
		free(p);
		return NULL;
	}
	p->interval_us = interval_us;
	pthread_mutex_init(&p->lock, NULL);
	p->next = registry;
	registry = p;
	return p;
}

struct ax_pace *ax_pace_get(const char *key, unsigned requests_per_minute)
{
	int64_t interval = interval_of(requests_per_minute);
	pthread_mutex_lock(&registry_lock);
	struct ax_pace *p = registry;
	while (p && strcmp(p->key, key) != 0)
		p = p->next;
	if (!p)
		p = create(key, interval);
	if (p) {
		p->refs++;
		pthread_mutex_lock(&p->lock);
		if (interval > p->interval_us)
			p->interval_us = interval;
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&registry_lock);
	return p;
}

void ax_pace_put(struct ax_pace *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--p->refs == 0) {
		struct ax_pace **at = &registry;
		while (*at != p)
			at = &(*at)->next;
		*at = p->next;
		pthread_mutex_destroy(&p->lock);
		free(p->key);
		free(p);
	}
	pthread_mutex_unlock(&registry_lock);
}

int64_t ax_pace_take(struct ax_pace *p, int64_t now_ms)
{
	int64_t now = now_ms * 1000, wait = 0;
	pthread_mutex_lock(&p->lock);
	if (p->next_us > now)
		wait = (p->next_us - now + 999) / 1000;
	else
		p->next_us = now + p->interval_us;
	pthread_mutex_unlock(&p->lock);
	return wait;
}

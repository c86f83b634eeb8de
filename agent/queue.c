#include "queue.h"

#include <errno.h>
#include <time.h>

void ax_queue_init(struct ax_queue *q, size_t max_bytes)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, &attr);
	pthread_condattr_destroy(&attr);
	q->head = q->tail = NULL;
	q->bytes = 0;
	q->max_bytes = max_bytes;
	q->closed = false;
}

void ax_queue_finish(struct ax_queue *q)
{
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->lock);
}

static size_t weight(const struct ax_unit *u)
{
	return u->data.len + u->count * sizeof(*u->records);
}

bool ax_queue_push(struct ax_queue *q, struct ax_unit *u)
{
	pthread_mutex_lock(&q->lock);
	while (!q->closed && q->bytes > 0 && q->bytes + weight(u) > q->max_bytes)
		pthread_cond_wait(&q->changed, &q->lock);
	bool taken = !q->closed;
	if (taken) {
		u->next = NULL;
		if (q->tail)
			q->tail->next = u;
		else
			q->head = u;
		q->tail = u;
		q->bytes += weight(u);
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return taken;
}

static struct timespec deadline(int64_t timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

struct ax_unit *ax_queue_pop(struct ax_queue *q, int64_t timeout_ms)
{
	struct timespec until = deadline(timeout_ms);
	pthread_mutex_lock(&q->lock);
	int rc = 0;
	while (!q->head && !q->closed && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->changed, &q->lock, &until);
	struct ax_unit *u = q->head;
	if (u) {
		q->head = u->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= weight(u);
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return u;
}

void ax_queue_close(struct ax_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

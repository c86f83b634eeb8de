#define _GNU_SOURCE /* SCHED_BATCH */
#include "thread.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>

bool ax_thread_batch(void)
{
	struct sched_param none = { 0 };
	return pthread_setschedparam(pthread_self(), SCHED_BATCH, &none) == 0;
}

void ax_thread_name(const char *role, const char *name)
{
	char comm[16];
	snprintf(comm, sizeof(comm), "%s:%s", role, name);
	(void)pthread_setname_np(pthread_self(), comm); /* a name is a courtesy */
}

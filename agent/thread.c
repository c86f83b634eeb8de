#define _GNU_SOURCE /* SCHED_BATCH */
#include "thread.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "log.h"

void ax_thread_background(const char *role, const char *name)
{
	char comm[16];
	snprintf(comm, sizeof(comm), "%s:%s", role, name);
	(void)pthread_setname_np(pthread_self(), comm); /* a name is a courtesy */
	struct sched_param none = { 0 };
	if (pthread_setschedparam(pthread_self(), SCHED_BATCH, &none) != 0)
		ax_debug(name, "cannot mark its thread SCHED_BATCH; it runs as it is");
}

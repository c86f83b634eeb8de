/* thread.h - how the agent's threads are scheduled. */
#ifndef AX_AGENT_THREAD_H
#define AX_AGENT_THREAD_H

/* Names the calling thread "ROLE:NAME" (cut to the kernel's 15 bytes), as
 * top -H and /proc/PID/task/TID/comm show it: "src:NAME" for a source,
 * "out:NAME" for an output's sender; and marks it throughput work
 * (SCHED_BATCH): when it is woken it waits for a free CPU or the next tick
 * instead of preempting the thread running there. For the source and
 * sender threads, which the pipeline wakes for every unit and frame:
 * preempting it cost a two-core replay 6% of its rate and a one-core one 8%
 * of its CPU (context switches). When the system refuses SCHED_BATCH (a
 * seccomp filter, say) it says so at debug level and the thread runs as it
 * was. */
void ax_thread_background(const char *role, const char *name);

#endif

/* fanout.h - a job's items shared out between the calling thread and
 * helper threads, for work that is independent item by item (decoding,
 * mapping and hashing the records of a unit).
 *
 * The caller works too, so with no helpers (one CPU) it does the job
 * alone, and a helper slow to wake takes fewer items: they are claimed a
 * grain at a time from one counter. No lock per item; helpers sleep
 * when no job waits for them. */
#ifndef AX_AGENT_FANOUT_H
#define AX_AGENT_FANOUT_H

#include <stddef.h>

#include "err.h"

#define AX_FANOUT_MAX_HELPERS 7
#define AX_FANOUT_JOBS 3 /* started and not yet retired, at most */

struct ax_fanout;

/* Items [first, first + n) of the job; worker 0 is the caller, helpers
 * are 1 to ax_fanout_helpers(). */
typedef void (*ax_fanout_fn)(void *arg, unsigned worker, size_t first, size_t n);

/* How many CPUs this process may run on (its affinity). */
unsigned ax_fanout_cpus(void);
/* helpers: at most AX_FANOUT_MAX_HELPERS. NULL: no memory, or a thread
 * could not be started (errno). */
struct ax_fanout *ax_fanout_create(unsigned helpers);
unsigned ax_fanout_helpers(const struct ax_fanout *f);
/* Runs fn over items 0..items, grain items a call at most, and returns
 * once every item is done. One job at a time, from one thread. */
void ax_fanout_run(struct ax_fanout *f, ax_fanout_fn fn, void *arg, size_t items, size_t grain);
/* The same in steps, so that the caller can do something else while the
 * helpers work. At most AX_FANOUT_JOBS jobs are started and not yet
 * retired (one more retires the oldest first); the oldest is "the job"
 * below. Helpers finish a job and go on to the next one without sleeping
 * between, when it is started by then. */
void ax_fanout_start(struct ax_fanout *f, ax_fanout_fn fn, void *arg, size_t items, size_t grain);
/* The caller works on the job until no item of it is left to claim. */
void ax_fanout_share(struct ax_fanout *f);
/* Waits until every item of the job is done; while a helper ends its last
 * grain the caller does grains of the later jobs started. */
void ax_fanout_wait(struct ax_fanout *f);
/* Waits, and the job is over: its slot takes a job again. */
void ax_fanout_retire(struct ax_fanout *f);
/* ax_fanout_share, then ax_fanout_retire. */
void ax_fanout_join(struct ax_fanout *f);
/* ax_fanout_join until no job is left. */
void ax_fanout_join_all(struct ax_fanout *f);
void ax_fanout_destroy(struct ax_fanout *f);

#endif

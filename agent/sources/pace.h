/* pace.h - keeping under Microsoft's request quotas instead of learning
 * them from throttling answers.
 *
 * Microsoft counts requests per tenant (the Management API, about 2,000 a
 * minute) or per app and tenant (Graph: 150 a minute on security alerts, 5
 * every 10 s on audit logs), and every tool reading the tenant shares the
 * quota: an agent that spends it all gets the SOC's other connectors
 * throttled too. A pace is one such quota, shared by every stream that
 * draws on it (the five content types of a tenant): requests are spread
 * evenly, one every 60 s / requests_per_minute, so no window of any length
 * holds more than its share. */
#ifndef AX_AGENT_SOURCES_PACE_H
#define AX_AGENT_SOURCES_PACE_H

#include <stdint.h>

struct ax_pace;

/* The pace named key (its quota pool and tenant), created at the first
 * use; streams naming the same key share it, at the slowest rate any of
 * them asks for. NULL: out of memory. */
struct ax_pace *ax_pace_get(const char *key, unsigned requests_per_minute);
void ax_pace_put(struct ax_pace *p);
/* One request at now_ms (monotonic): 0 when it may start now (and it is
 * counted), otherwise how many ms until it may. */
int64_t ax_pace_take(struct ax_pace *p, int64_t now_ms);

#endif

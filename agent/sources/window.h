/* window.h - time as the Microsoft 365 APIs write it, and the listing
 * windows of the Management Activity API.
 *
 * The API lists blobs by contentCreated in windows [start, end) of at most
 * 24 hours, none starting more than 7 days back. Times are whole seconds
 * (its startTime/endTime have no fraction); Graph's timestamps have 100 ns
 * ticks, kept as such so no two distinct values compare equal. */
#ifndef AX_AGENT_SOURCES_WINDOW_H
#define AX_AGENT_SOURCES_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AX_TICKS_PER_SEC 10000000LL
#define AX_DAY_S 86400LL
#define AX_WINDOW_MAX_S AX_DAY_S
#define AX_HORIZON_S (7 * AX_DAY_S)
/* How far inside the 7-day horizon a window starts: the server's clock and
 * ours differ by up to a second, and following pages takes time. */
#define AX_HORIZON_MARGIN_S (15 * 60LL)

/* "YYYY-MM-DD[THH:MM[:SS[.fffffff]]][Z|±HH:MM]" into 100 ns ticks since the epoch. */
bool ax_time_parse(const char *s, size_t len, int64_t *ticks);
/* YYYY-MM-DDTHH:MM:SS, the Management API's form (20 bytes with the NUL). */
void ax_time_format_api(int64_t epoch_s, char out[20]);
/* YYYY-MM-DDTHH:MM:SS.fffffffZ, Graph's form (29 bytes with the NUL). */
void ax_time_format_ticks(int64_t ticks, char out[29]);
/* YYYY-MM-DDTHH:MM:SSZ (21 bytes with the NUL), for gap records and logs. */
void ax_time_format_utc(int64_t epoch_s, char out[21]);

struct ax_window {
	int64_t start, end;          /* what to list: [start, end), epoch seconds */
	int64_t lost_from, lost_to;  /* lost_to > lost_from: out of reach (past the horizon) */
};

/* The next window after cursor (everything before it was delivered) at
 * server time now; each starts overlap seconds early, to find blobs that
 * became visible late. False when there is nothing to list yet. */
bool ax_window_next(int64_t cursor, int64_t now, int64_t overlap, struct ax_window *w);
/* Where a first run starts: backfill seconds back, inside the horizon. */
int64_t ax_window_first_cursor(int64_t now, int64_t backfill);

#endif

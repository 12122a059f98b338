/*
 * clock.h: the one monotonic clock every front-end and stage reads.
 *
 * Wall time can jump (NTP, an operator's date command); rates, redraw
 * intervals and idle packet-time advances need a clock that only moves on.
 * Packet time (timestamps from the capture) is a different thing and never
 * comes from here.
 */
#ifndef OSLOTRACE_COMMON_CLOCK_H
#define OSLOTRACE_COMMON_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC, as a double (ns resolution for ~100 days). */
static inline double clock_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif

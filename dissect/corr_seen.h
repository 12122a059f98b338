/*
 * corr_seen.h: the fanouts already reported, by _unique_id, so that a fanout
 * delivered again long after its record was written is not a new operation.
 *
 * With oslo.messaging's stream fanout (rabbit_stream_fanout, 14.8+) every
 * server reads one shared stream queue "<topic>_fanout"; a consumer that
 * starts again (a restart, a reconnect after basic.cancel) asks for
 * x-stream-offset "last", the stream's last chunk, and gets fanouts it or its
 * predecessor already had: same _unique_id, minutes or hours later. This set
 * remembers the last CORR_SEEN_MAX ids whatever their age (bounded by count,
 * never by time; the oldest is forgotten first, counted).
 */
#ifndef OSLOTRACE_DISSECT_CORR_SEEN_H
#define OSLOTRACE_DISSECT_CORR_SEEN_H

#include <stdbool.h>
#include <stdint.h>

#define CORR_SEEN_MAX 8192

struct corr_seen {
    uint64_t ring[CORR_SEEN_MAX];      /* hashes, oldest at head once full */
    uint64_t slots[2 * CORR_SEEN_MAX]; /* open addressing, 0 = empty */
    uint32_t head, n;
    uint64_t evicted; /* ids forgotten for a newer one */
};

/* A zeroed struct is an empty set. */
bool corr_seen_has(const struct corr_seen *s, const char *id);
/* Adds id (nothing when present); forgets the oldest when full. */
void corr_seen_add(struct corr_seen *s, const char *id);

#endif

/*
 * clock_sync.h: per-source clock offsets estimated from the traffic itself.
 *
 * Captures taken on several hosts (each node of a RabbitMQ cluster, or a
 * client host and a broker host) stamp packets with clocks that differ by a
 * few milliseconds: as much as the latencies being measured. Where one
 * message is seen on two sources, causality bounds the offset between them:
 * a message's publish happens before its delivery, a call's delivery before
 * its reply's publish, and so on. Each sighting is a sample (source, message
 * key, causal rank of the leg, timestamp); every pair of samples of one key
 * on two sources with different ranks bounds off[later] - off[earlier] from
 * below. The bounds of all messages, both directions, are combined (tightened
 * along paths through other sources) into an interval per source relative to
 * the reference (source 0, or the offsets fixed by hand), whose midpoint is
 * the estimate and half its width the uncertainty. corrected = raw + offset.
 *
 * Samples are kept in a bounded array (max_samples; further ones are dropped
 * and counted), solved once, after a first pass over the inputs.
 */
#ifndef OSLOTRACE_ENGINE_CLOCK_SYNC_H
#define OSLOTRACE_ENGINE_CLOCK_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLOCK_SYNC_MAX_SOURCES 64

enum clock_sync_how {
    CLOCK_SYNC_REFERENCE, /* source 0 when nothing fixes it: offset 0 by definition */
    CLOCK_SYNC_FIXED,     /* given by hand (--clock-offset) */
    CLOCK_SYNC_ESTIMATED, /* bounded from both sides: midpoint of the interval */
    CLOCK_SYNC_ONE_SIDED, /* bounded from one side only: that bound, uncertainty unknown */
    CLOCK_SYNC_UNKNOWN,   /* no message links it to the reference: 0, uncertainty unknown */
};

struct clock_sync_estimate {
    enum clock_sync_how how;
    int64_t offset_ns;     /* added to the source's timestamps */
    int64_t half_width_ns; /* uncertainty (±), -1 when unknown (one-sided, unknown) */
    bool inconsistent;     /* the bounds contradict each other (drift, or a wrong fixed value) */
    uint64_t pairs;        /* sample pairs that bounded this source directly */
};

struct clock_sync_stats {
    uint64_t samples;    /* kept */
    uint64_t dropped;    /* not kept: the sample array was full */
    uint64_t pairs;      /* bounding pairs found */
    uint64_t big_groups; /* keys seen more than CLOCK_SYNC_MAX_GROUP times: the rest ignored */
};

#define CLOCK_SYNC_MAX_GROUP 32

struct clock_sync;

/* nsources <= CLOCK_SYNC_MAX_SOURCES; max_samples 0 = 1,048,576. NULL on bad arguments. */
struct clock_sync *clock_sync_new(size_t nsources, size_t max_samples);
/* One sighting: `key` identifies the message (a hash of its ids), `rank` its
 * place in the causal order of the operation (a call: request publish 0,
 * request deliver 1, reply publish 2, reply deliver 3), ts_ns the source's raw time. */
void clock_sync_add(struct clock_sync *cs, unsigned source, uint64_t key, unsigned rank,
                    uint64_t ts_ns);
/* Fixes one source's offset by hand; false when source is out of range. */
bool clock_sync_fix(struct clock_sync *cs, unsigned source, int64_t offset_ns);
/* Combines the samples into out[0 .. nsources-1]. May be called again after more samples. */
void clock_sync_solve(struct clock_sync *cs, struct clock_sync_estimate *out);
void clock_sync_get_stats(const struct clock_sync *cs, struct clock_sync_stats *out);
const char *clock_sync_how_name(enum clock_sync_how h); /* "reference", "fixed", ... */
void clock_sync_free(struct clock_sync *cs);

/* FNV-1a over bytes, for callers building keys. */
uint64_t clock_sync_hash(uint64_t h, const void *p, size_t n);
#define CLOCK_SYNC_HASH_INIT 14695981039346656037ull

#endif

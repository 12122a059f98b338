/*
 * hist.h: a log-linear (HDR-style) histogram of durations in nanoseconds.
 *
 * Each power of two is split into HIST_SUB equal buckets, so any recorded
 * value is known to within 1/HIST_SUB of itself (0.8 %; percentiles report
 * the bucket middle, within 0.4 %). Values from 0 to 2^HIST_MAX_EXP ns
 * (~73 minutes) are kept exactly so; larger ones land in the top bucket
 * and are counted as `overflow` (the exact max is kept anyway). Memory is
 * fixed per octave actually used: one HIST_SUB-counter block is allocated
 * the first time a value falls in that power of two, so a row with a
 * narrow latency range costs a few KiB, never more than ~37 KiB.
 */
#ifndef OSLOTRACE_DISSECT_HIST_H
#define OSLOTRACE_DISSECT_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS) /* 128 sub-buckets per power of two */
#define HIST_MAX_EXP 42                /* 2^42 ns = 73.3 min */
/* Block 0 holds 0..HIST_SUB-1 ns linearly; block k>0 holds [2^(k+6), 2^(k+7)). */
#define HIST_BLOCKS (HIST_MAX_EXP - HIST_SUB_BITS + 1)

struct hist {
    uint64_t count;
    uint64_t min, max; /* exact, ns */
    double sum;        /* ns, for the mean */
    uint64_t overflow; /* values above 2^HIST_MAX_EXP ns (counted in the top bucket) */
    uint64_t dropped;  /* values lost because a block could not be allocated */
    uint64_t *block[HIST_BLOCKS];
};

void hist_init(struct hist *h);
void hist_free(struct hist *h); /* frees the blocks; the struct can be reused after hist_init */
void hist_add(struct hist *h, uint64_t ns);
/* Adds every value of src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/* Nearest-rank percentile (p in 0..100), ns; 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

/* Convenience: the same in milliseconds, -1 when empty. */
double hist_percentile_ms(const struct hist *h, double p);

/* A coarse view for drawing: consecutive ranges [lo_ns, hi_ns) covering
 * min..max, `per_octave` (1, 2, 4 … HIST_SUB) ranges per power of two. */
struct hist_range {
    uint64_t lo_ns, hi_ns;
    uint64_t count;
};
/* Fills at most `max` ranges from the lowest non-empty one to the highest;
 * returns how many were written. */
size_t hist_coarse(const struct hist *h, unsigned per_octave, struct hist_range *out, size_t max);

#endif

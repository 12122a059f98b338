/*
 * hist.c: the log-linear histogram.
 *
 * Index arithmetic: for v < HIST_SUB the bucket is v itself (block 0);
 * otherwise with e = floor(log2 v) >= HIST_SUB_BITS the block is
 * e - HIST_SUB_BITS + 1 and the sub-bucket is the HIST_SUB_BITS bits after
 * the leading one. Blocks are allocated on first use (calloc) so unused
 * octaves cost one pointer.
 */
#include "dissect/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

void hist_free(struct hist *h)
{
    for (unsigned i = 0; i < HIST_BLOCKS; i++) {
        free(h->block[i]);
        h->block[i] = NULL;
    }
}

static unsigned log2u(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

static void index_of(uint64_t v, unsigned *blk, unsigned *sub)
{
    if (v < HIST_SUB) {
        *blk = 0;
        *sub = (unsigned)v;
        return;
    }
    unsigned e = log2u(v);
    *blk = e - HIST_SUB_BITS + 1;
    *sub = (unsigned)(v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
}

/* [lo, hi) of a bucket. */
static void bucket_range(unsigned blk, unsigned sub, uint64_t *lo, uint64_t *hi)
{
    if (blk == 0) {
        *lo = sub;
        *hi = (uint64_t)sub + 1;
        return;
    }
    unsigned shift = blk - 1;
    *lo = ((uint64_t)HIST_SUB + sub) << shift;
    *hi = ((uint64_t)HIST_SUB + sub + 1) << shift;
}

static bool add_n(struct hist *h, uint64_t v, uint64_t n)
{
    uint64_t top = (uint64_t)1 << HIST_MAX_EXP;
    uint64_t iv = v;
    if (v >= top) {
        iv = top - 1;
        h->overflow += n;
    }
    unsigned blk, sub;
    index_of(iv, &blk, &sub);
    if (!h->block[blk]) {
        h->block[blk] = calloc(HIST_SUB, sizeof(uint64_t));
        if (!h->block[blk]) {
            h->dropped += n;
            return false;
        }
    }
    h->block[blk][sub] += n;
    return true;
}

void hist_add(struct hist *h, uint64_t ns)
{
    if (!add_n(h, ns, 1))
        return;
    if (h->count == 0 || ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
    h->count++;
    h->sum += (double)ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    if (!src->count)
        return;
    for (unsigned b = 0; b < HIST_BLOCKS; b++) {
        if (!src->block[b])
            continue;
        for (unsigned s = 0; s < HIST_SUB; s++) {
            uint64_t n = src->block[b][s];
            uint64_t lo, hi;
            if (!n)
                continue;
            bucket_range(b, s, &lo, &hi);
            if (!add_n(dst, lo, n))
                return;
        }
    }
    dst->overflow += src->overflow;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
    if (!h->count)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < HIST_BLOCKS; b++) {
        if (!h->block[b])
            continue;
        for (unsigned s = 0; s < HIST_SUB; s++) {
            seen += h->block[b][s];
            if (seen >= rank) {
                uint64_t lo, hi;
                bucket_range(b, s, &lo, &hi);
                uint64_t mid = lo + (hi - lo - 1) / 2;
                /* The exact extremes are known: never report outside them. */
                if (mid < h->min)
                    mid = h->min;
                if (mid > h->max)
                    mid = h->max;
                return mid;
            }
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

double hist_percentile_ms(const struct hist *h, double p)
{
    return h->count ? (double)hist_percentile(h, p) / 1e6 : -1.0;
}

size_t hist_coarse(const struct hist *h, unsigned per_octave, struct hist_range *out, size_t max)
{
    if (!h->count || max == 0)
        return 0;
    if (per_octave == 0)
        per_octave = 1;
    if (per_octave > HIST_SUB)
        per_octave = HIST_SUB;
    unsigned group = HIST_SUB / per_octave; /* sub-buckets per range (rounded down to a divisor) */
    while (HIST_SUB % group)
        group--;
    size_t n = 0;
    int first = -1, last = -1; /* first/last non-empty range, as a global range index */
    /* Pass 1: find the non-empty span; pass 2: emit it. */
    for (int pass = 0; pass < 2; pass++) {
        int gi = 0;
        for (unsigned b = 0; b < HIST_BLOCKS; b++) {
            for (unsigned s = 0; s < HIST_SUB; s += group, gi++) {
                uint64_t cnt = 0;
                if (h->block[b])
                    for (unsigned k = 0; k < group; k++)
                        cnt += h->block[b][s + k];
                if (pass == 0) {
                    if (cnt) {
                        if (first < 0)
                            first = gi;
                        last = gi;
                    }
                    continue;
                }
                if (gi < first || gi > last || n >= max)
                    continue;
                uint64_t lo, hi, lo2, hi2;
                bucket_range(b, s, &lo, &hi);
                bucket_range(b, s + group - 1, &lo2, &hi2);
                out[n].lo_ns = lo;
                out[n].hi_ns = hi2;
                out[n].count = cnt;
                n++;
            }
        }
    }
    return n;
}

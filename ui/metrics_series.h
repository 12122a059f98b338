/*
 * metrics_series.h: the Prometheus sink's own bounded state, one row per
 * (exchange, topic, method): operations by type and status, and histograms
 * of call latency, queue wait and server time in fixed buckets.
 *
 * The table keeps at most `max_series` rows plus one row whose labels are all
 * "other". When a new series arrives and the table is full, the least active
 * row (operations decayed with a 5-minute half-life of packet time) is
 * folded into "other" if it has become quiet (below one half: one operation
 * five minutes ago); otherwise the new operation itself is
 * counted in "other". Folding only ever adds to "other", so every sum over
 * the labels stays monotonic, as Prometheus counters must. Both are counted.
 */
#ifndef OSLOTRACE_UI_METRICS_SERIES_H
#define OSLOTRACE_UI_METRICS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "dissect/op.h"

/* Upper bounds of the histogram buckets, seconds (+Inf is implied). */
#define METRICS_BUCKETS 15
extern const double metrics_bucket_le[METRICS_BUCKETS];

#define METRICS_DEFAULT_MAX_SERIES 500
#define METRICS_MAX_SERIES_LIMIT 100000
/* Longest label value kept, bytes (longer values are cut at a UTF-8 boundary). */
#define METRICS_LABEL_MAX 127

enum metrics_hist_kind {
    METRICS_LATENCY,     /* calls answered: the op's latency */
    METRICS_QUEUE_WAIT,  /* request deliver - request publish */
    METRICS_SERVER_TIME, /* reply publish - request deliver */
    METRICS_HIST_COUNT
};

struct metrics_hist {
    uint64_t bucket[METRICS_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    uint64_t count;
    double sum; /* seconds */
};

struct metrics_row {
    char exchange[METRICS_LABEL_MAX + 1];
    char topic[METRICS_LABEL_MAX + 1];
    char method[METRICS_LABEL_MAX + 1];
    uint64_t ops[OP_TYPE_COUNT][OP_STATUS_COUNT];
    uint64_t verdicts[OP_VERDICT_COUNT]; /* calls, by why they ended (issue: diagnosis) */
    struct metrics_hist hist[METRICS_HIST_COUNT];
    /* private to metrics_series.c */
    double activity;      /* decayed operation count */
    uint64_t activity_ns; /* packet time the activity was last decayed to */
    int32_t next;         /* hash chain */
    bool used;
};

struct metrics_series_stats {
    uint64_t series;         /* rows in use, "other" included (gauge) */
    uint64_t series_evicted; /* rows folded into "other" to make room */
    uint64_t ops_folded;     /* operations counted in "other" directly */
};

struct metrics_series;

/* max_series: rows besides "other", 1..METRICS_MAX_SERIES_LIMIT. */
struct metrics_series *metrics_series_new(size_t max_series);
void metrics_series_add(struct metrics_series *m, const struct op *op);
/* The rows in use sorted by exchange, topic, method ("other" last); valid
 * until the next add. Returns how many; *rows points into m. */
size_t metrics_series_sorted(struct metrics_series *m, const struct metrics_row *const **rows);
void metrics_series_get_stats(const struct metrics_series *m, struct metrics_series_stats *st);
/* Adds the table's counters (metrics_series, metrics_series_evicted,
 * metrics_ops_folded) to a registry; m must outlive the registry's reads. */
bool metrics_series_register_counters(struct metrics_series *m, struct counters *c);
void metrics_series_free(struct metrics_series *m);

/* Copies a label value: invalid UTF-8 and control characters become '?',
 * NULL becomes "", cut to METRICS_LABEL_MAX bytes at a character boundary. */
void metrics_label_copy(char *dst, const char *src);

#endif

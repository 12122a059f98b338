/*
 * tui_agg.h: the Topics view's numbers, per topic and per (topic, method).
 *
 * Counts by type and status, a rate over packet time, exact percentiles
 * over a bounded sample of the most recent latencies of each row, the
 * maximum over all of them, and a 12-bucket log histogram for a sparkline.
 * The table is bounded: when it is full, new keys are counted in one
 * "(other)" row and in rows_full, so no operation is silently lost.
 */
#ifndef OSLOTRACE_UI_TUI_AGG_H
#define OSLOTRACE_UI_TUI_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/op.h"

#define TUI_AGG_NAME_MAX 128
#define TUI_AGG_BUCKETS 12 /* upper bounds 0.5, 1, 2 ... 512 ms, then everything above */
#define TUI_AGG_OTHER "(other)"

struct tui_agg_row {
    char topic[TUI_AGG_NAME_MAX];
    char method[TUI_AGG_NAME_MAX]; /* "" for a topic's own row */
    uint64_t ops, calls, casts, notifications; /* casts include fanout casts */
    uint64_t by_status[OP_STATUS_COUNT];
    uint64_t first_ts, last_ts;                /* packet time of the first and last op */
    uint64_t nlat;                             /* operations with a latency */
    double max_ms;
    double p50, p90, p99;                      /* over the sample; valid when nlat > 0 */
    uint64_t hist[TUI_AGG_BUCKETS];
};

enum tui_agg_sort {
    TUI_SORT_NAME,
    TUI_SORT_CALLS,
    TUI_SORT_RATE,
    TUI_SORT_ERRORS,
    TUI_SORT_TIMEOUTS,
    TUI_SORT_P50,
    TUI_SORT_P99,
    TUI_SORT_MAX,
    TUI_SORT_COUNT
};

struct tui_agg_config {
    size_t max_rows;   /* topic and method rows together, default 2048 */
    size_t sample_cap; /* latencies kept per row for percentiles, default 1024 */
};

struct tui_agg_stats {
    uint64_t ops;
    uint64_t rows_full;      /* operations counted in "(other)" because the table was full */
    uint64_t alloc_failures; /* samples not kept for lack of memory */
    size_t rows;
};

struct tui_agg;

void tui_agg_config_default(struct tui_agg_config *cfg);
struct tui_agg *tui_agg_new(const struct tui_agg_config *cfg);
void tui_agg_free(struct tui_agg *a);
void tui_agg_add(struct tui_agg *a, const struct op *op);

/* Recomputes changed percentiles and the display order: each topic (sorted
 * by key) followed by its methods (sorted by the same key). Descending for
 * numbers, ascending for names. */
void tui_agg_sort(struct tui_agg *a, enum tui_agg_sort key);
size_t tui_agg_count(const struct tui_agg *a);
/* The i-th row in the order of the last tui_agg_sort. */
const struct tui_agg_row *tui_agg_row_at(const struct tui_agg *a, size_t i);
/* A row by name (method NULL or "" = the topic row); NULL when absent. */
const struct tui_agg_row *tui_agg_find(const struct tui_agg *a, const char *topic,
                                       const char *method);
/* Operations per second of packet time up to now_ts (the capture's newest packet). */
double tui_agg_rate(const struct tui_agg_row *r, uint64_t now_ts);
void tui_agg_get_stats(const struct tui_agg *a, struct tui_agg_stats *out);
const char *tui_agg_sort_name(enum tui_agg_sort key);
/* Which histogram bucket a latency falls in. */
unsigned tui_agg_bucket(double ms);

#endif

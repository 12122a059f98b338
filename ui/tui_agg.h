/*
 * tui_agg.h: the Topics view's table, per topic and per (topic, method).
 *
 * The numbers are the pipeline's shared statistics (dissect/stats.h, the
 * same the report prints), so the TUI and --report never disagree. This
 * module takes a snapshot of them for display: names sanitized, the
 * percentiles read from the histograms only for rows that changed, a
 * 12-bucket log histogram for a sparkline, and a display order (topics
 * sorted by a column, each followed by its methods). Bounded by max_rows;
 * rows beyond it are counted, not shown.
 */
#ifndef OSLOTRACE_UI_TUI_AGG_H
#define OSLOTRACE_UI_TUI_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/op.h"
#include "dissect/stats.h"

#define TUI_AGG_NAME_MAX 128
#define TUI_AGG_BUCKETS 12 /* upper bounds 0.5, 1, 2 ... 512 ms, then everything above */
#define TUI_AGG_OTHER STATS_OTHER

struct tui_agg_row {
    char topic[TUI_AGG_NAME_MAX];
    char method[TUI_AGG_NAME_MAX]; /* "" for a topic's own row */
    uint64_t ops, calls, casts, notifications; /* casts include fanout casts */
    uint64_t by_status[OP_STATUS_COUNT];
    double rate;                               /* ops per second between first and last op */
    uint64_t nlat;                             /* operations with a latency */
    double max_ms;
    double p50, p90, p99;                      /* valid when nlat > 0 */
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
    size_t max_rows; /* topic and method rows together, default 10002 (stats' keys + overflow) */
};

struct tui_agg_stats {
    uint64_t rows_full;      /* stats rows not shown because max_rows was reached */
    uint64_t overflow_ops;   /* operations the shared stats put in its "(other)" rows */
    uint64_t alloc_failures; /* sorts skipped for lack of memory (the old order stays) */
    size_t rows;
};

struct tui_agg;

void tui_agg_config_default(struct tui_agg_config *cfg);
struct tui_agg *tui_agg_new(const struct tui_agg_config *cfg);
void tui_agg_free(struct tui_agg *a);
/* Brings the snapshot up to date with st (rows are only appended there, so
 * row i here is row i there); rows whose op count did not move are skipped. */
void tui_agg_load(struct tui_agg *a, const struct stats *st);

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
void tui_agg_get_stats(const struct tui_agg *a, struct tui_agg_stats *out);
const char *tui_agg_sort_name(enum tui_agg_sort key);
/* Which sparkline bucket a latency falls in. */
unsigned tui_agg_bucket(double ms);

#endif

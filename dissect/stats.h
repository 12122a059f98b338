/*
 * stats.h: running statistics per topic and per (topic, method), for the
 * report and the TUI.
 *
 * Each row counts operations by type and status, keeps first/last packet
 * time (for a rate) and three duration histograms (latency, queue wait,
 * server time). The number of rows is bounded (max_keys, default 10000):
 * once full, operations of new topics go to the "(other)" topic row and
 * new methods of known topics to the ("(other)", "(other)") row, counted in
 * `overflow_ops`, so a capture with a million distinct topics stays small.
 * A totals row sums everything.
 */
#ifndef OSLOTRACE_DISSECT_STATS_H
#define OSLOTRACE_DISSECT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "dissect/hist.h"
#include "dissect/op.h"

#define STATS_DEFAULT_MAX_KEYS 10000
#define STATS_OTHER "(other)"
#define STATS_NAME_MAX 255 /* longer topic/method names are cut */

struct stats_row {
    const char *topic;  /* "(other)" for the overflow rows, "(none)" when the op had none */
    const char *method; /* NULL for a per-topic row */
    bool other;         /* an overflow row */
    uint64_t ops;
    uint64_t by_type[OP_TYPE_COUNT];
    uint64_t by_status[OP_STATUS_COUNT];
    uint64_t late_replies, heartbeats, fanout_receivers;
    uint64_t first_ns, last_ns; /* op timestamps, for the rate */
    struct hist latency, queue_wait, server_time;
    uint64_t by_verdict[OP_VERDICT_COUNT]; /* calls, by why they ended (op.h) */
    uint64_t by_slow[OP_SLOW_COUNT];       /* calls, by the largest part of their time */
};

struct stats;

struct stats *stats_new(size_t max_keys); /* 0 = STATS_DEFAULT_MAX_KEYS */
void stats_free(struct stats *s);
void stats_add(struct stats *s, const struct op *op);

/* Rows in creation order (the overflow rows appear when first used). */
size_t stats_count(const struct stats *s);
const struct stats_row *stats_row(const struct stats *s, size_t i);
const struct stats_row *stats_total(const struct stats *s);
/* The per-topic row of a topic, or the (topic, method) row; NULL if absent. */
const struct stats_row *stats_find(const struct stats *s, const char *topic, const char *method);
uint64_t stats_overflow_ops(const struct stats *s); /* ops that went to an overflow row */
/* Adds the statistics' counters to a registry (false when it cannot). */
bool stats_register_counters(const struct stats *s, struct counters *reg);
size_t stats_max_keys(const struct stats *s);

/* Operations per second between the row's first and last op (0 when < 2 ops). */
double stats_row_rate(const struct stats_row *r);
/* Latency percentile of a row in ms (-1 when no latency was recorded). */
double stats_row_latency_ms(const struct stats_row *r, double p);

#endif

/*
 * counters.h: every stage's counters as data, in one registry.
 *
 * A stage keeps its counters in its own stats struct (tcp_stream_stats,
 * amqp_stats, corr_stats, ...) and describes them once, in a table of
 * counter_def rows next to that struct: name, help text, kind, flags and the
 * field's offset. The engine registers each stage's table with a function
 * that snapshots the stage's stats; the report, the JSON report, SIGUSR1, the
 * TUI status line and any future sink (Prometheus) read the registry and never
 * name a stage's fields. Adding a counter is one field and one row.
 *
 * Reading is a snapshot: counters_snapshot() calls each group's read function
 * once and hands back (definition, value) pairs in registration order.
 */
#ifndef OSLOTRACE_COMMON_COUNTERS_H
#define OSLOTRACE_COMMON_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum counter_kind {
    COUNTER_TOTAL, /* only grows (Prometheus: counter, name ends in _total there) */
    COUNTER_GAUGE, /* goes up and down, or a high-water mark */
};

/* What a counter means to the views that group them. */
enum counter_flag {
    COUNTER_REPORT = 1u << 0,   /* listed in the report's Counters section */
    COUNTER_EVICTION = 1u << 1, /* something was pushed out of a full table */
    COUNTER_ERROR = 1u << 2,    /* input that could not be decoded whole */
};

struct counter_def {
    const char *name; /* lower snake case, unique in a registry */
    const char *help; /* one sentence for people (report docs, Prometheus HELP) */
    uint8_t kind;     /* enum counter_kind */
    uint8_t flags;    /* enum counter_flag bits */
    uint32_t offset;  /* of a uint64_t in the stage's stats struct */
};

/* One row: COUNTER_ROW(struct tcp_stream_stats, gaps, "tcp_gaps", TOTAL, REPORT | ERROR, "...") */
#define COUNTER_ROW(stats_type, field, name, kind, flags, help)                                    \
    {                                                                                              \
        (name), (help), (uint8_t)(COUNTER_##kind), (uint8_t)(flags),                               \
            (uint32_t)offsetof(stats_type, field)                                                  \
    }

/* Fills *stats (a struct of stats_size bytes) from the stage `owner`. */
typedef void (*counters_read_fn)(const void *owner, void *stats);

struct counter_value {
    const struct counter_def *def;
    uint64_t value;
};

struct counters;

struct counters *counters_new(void);
/* Registers a stage's table. The defs and owner must outlive the registry.
 * False on a full registry or no memory (then nothing was added). */
bool counters_add(struct counters *c, const struct counter_def *defs, size_t ndefs,
                  counters_read_fn read, const void *owner, size_t stats_size);
/* How many counters are registered. */
size_t counters_count(const struct counters *c);
/* Reads every group once; writes up to max values in registration order and
 * returns how many were written. */
size_t counters_snapshot(const struct counters *c, struct counter_value *out, size_t max);
/* The sum of every counter carrying any of `flags` (one snapshot). */
uint64_t counters_sum(const struct counters *c, unsigned flags);
/* One counter by name; false when there is none. */
bool counters_get(const struct counters *c, const char *name, uint64_t *value);
/* One counter by name, 0 when there is none (for views that print it). */
uint64_t counters_value(const struct counters *c, const char *name);
void counters_free(struct counters *c);

#endif

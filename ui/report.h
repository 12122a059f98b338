/*
 * report.h: the --report sink: latency per topic and method, a histogram,
 * the slowest calls, the calls that got no reply, and every stage's counters,
 * as text for a person or as one JSON document (--report -j).
 */
#ifndef OSLOTRACE_UI_REPORT_H
#define OSLOTRACE_UI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/counters.h"
#include "dissect/op.h"
#include "dissect/stats.h"
#include "ui/sink.h"

/* What a report is made from: the engine's statistics and counters. */
struct report_input {
    const struct stats *stats;
    const struct counters *counters;
    uint64_t first_ns, last_ns; /* packet time covered; rates are over this span */
    /* --report-interval: this report covers one interval (number `interval`,
     * from 1); totals is the whole run's so far. NULL for the final report. */
    const struct stats_row *totals;
    unsigned interval;
    uint64_t start_ns; /* the capture's first packet, for the totals' rate (0: first_ns) */
    const struct pipeline_clock *clock; /* several captures: nodes and offsets, else NULL */
};

struct report;

struct report *report_new(void);
/* Remembers what the statistics do not: the slowest calls and the unanswered ones (bounded). */
void report_add_op(struct report *r, const struct op *op);
void report_print(FILE *out, const struct report *r, const struct report_input *in, bool json);

extern const struct sink report_sink;
void report_free(struct report *r);

#endif

/*
 * report.h: the --report sink: latency per topic and method, a histogram,
 * the slowest calls, the calls that got no reply, and every stage's counters,
 * as text for a person or as one JSON document (--report -j).
 */
#ifndef OSLOTRACE_UI_REPORT_H
#define OSLOTRACE_UI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "dissect/op.h"
#include "ui/cli.h"
#include "ui/pipeline.h"

struct report;

struct report *report_new(void);
/* Remembers what the statistics do not: the slowest calls and the unanswered ones (bounded). */
void report_add_op(struct report *r, const struct op *op);
void report_print(FILE *out, const struct report *r, struct pipeline *p, bool json);
void report_free(struct report *r);

#endif

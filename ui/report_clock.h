/*
 * report_clock.h: the report's part about several captures (nodes): the
 * clock offset applied to each, how sure it is, and a warning where the
 * uncertainty is large next to the latencies that cross that node's clock.
 */
#ifndef OSLOTRACE_UI_REPORT_CLOCK_H
#define OSLOTRACE_UI_REPORT_CLOCK_H

#include <jansson.h>
#include <stdio.h>

#include "dissect/op.h"
#include "engine/pipeline.h"

/* An offset is too uncertain when its ± exceeds this share of the median
 * cross-node latency it affects. */
#define REPORT_CLOCK_WARN_SHARE 0.25

struct report_clock;

struct report_clock *report_clock_new(void);
/* Each part of a call (queue wait, server time, reply transit) whose two
 * legs were seen on different nodes is measured across their clocks. */
void report_clock_add_op(struct report_clock *rc, const struct op *op);
/* Nothing when pc is NULL (one capture, or live). */
void report_clock_text(FILE *out, const struct report_clock *rc, const struct pipeline_clock *pc);
json_t *report_clock_json(const struct report_clock *rc, const struct pipeline_clock *pc);
void report_clock_free(struct report_clock *rc);

#endif

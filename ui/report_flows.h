/*
 * report_flows.h: the report's flows section — the slowest flows (one user
 * request across services, dissect/flow.h) and the flows that ended in an
 * error or a timeout, each a bounded list of summaries.
 */
#ifndef OSLOTRACE_UI_REPORT_FLOWS_H
#define OSLOTRACE_UI_REPORT_FLOWS_H

#include <jansson.h>
#include <stdio.h>

#include "dissect/flow.h"

#define REPORT_FLOWS_SLOWEST 10
#define REPORT_FLOWS_FAILED 20 /* the first ones; the rest are counted */

struct report_flows;

struct report_flows *report_flows_new(void);
void report_flows_free(struct report_flows *r);
void report_flows_add(struct report_flows *r, const struct flow *f);
/* Nothing when no flow was seen. */
void report_flows_text(FILE *out, const struct report_flows *r);
/* {"total", "slowest": [...], "failed": [...], "failed_total"}, or NULL when none was seen. */
json_t *report_flows_json(const struct report_flows *r);

#endif

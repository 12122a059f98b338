/*
 * report_diag.h: the report's diagnosis section — why calls ended as they
 * did and where their time went, per topic/method (from the shared
 * statistics), and per process (a bounded table of its own): calls made and
 * served, p99 of the calls made, verdicts.
 */
#ifndef OSLOTRACE_UI_REPORT_DIAG_H
#define OSLOTRACE_UI_REPORT_DIAG_H

#include <jansson.h>
#include <stdio.h>

#include "dissect/amqp_conn.h"
#include "dissect/op.h"
#include "dissect/stats.h"

#define REPORT_DIAG_PROCESSES 256 /* more go to one "(other)" row */
#define REPORT_DIAG_BROKER 64     /* distinct broker events kept; more are only counted */
#define REPORT_DIAG_FANOUTS 64    /* fanout topics; more go to one "(other)" row */

struct report_diag;

struct report_diag *report_diag_new(void);
void report_diag_free(struct report_diag *d);
void report_diag_add_op(struct report_diag *d, const struct op *op);
/* Counted by (event, reply code, queue/exchange), with the first process it hit. */
void report_diag_add_broker_event(struct report_diag *d, const struct amqp_broker_event *ev);
/* Nothing when no call and no broker event was seen. */
void report_diag_text(FILE *out, const struct report_diag *d, const struct stats *s);
/* {"by_method": [...], "processes": [...], "broker_events": [...]}, or NULL when nothing was seen.
 */
json_t *report_diag_json(const struct report_diag *d, const struct stats *s);

#endif

/*
 * flow_text.h: flows as text (--flow REQ_ID: the ladder; --flows: a line each).
 */
#ifndef OSLOTRACE_UI_FLOW_TEXT_H
#define OSLOTRACE_UI_FLOW_TEXT_H

#include <stdio.h>

#include "dissect/flow.h"
#include "ui/sink.h"

/* The ladder of one flow, its processes and critical path; width 0 = whole lines. */
void flow_text_write_ladder(FILE *out, const struct flow *f, int width);

extern const struct sink flow_text_sink;

#endif

/*
 * status_line.h: the one-line counters summary of a live capture, as
 * tcpdump prints its packet counts: at the end of the capture and on SIGUSR1.
 */
#ifndef OSLOTRACE_UI_STATUS_LINE_H
#define OSLOTRACE_UI_STATUS_LINE_H

#include <stdio.h>

#include "common/counters.h"
#include "ui/sink.h"

/* "oslotrace: N packets, N dropped by kernel, N ops, N pending calls" */
void status_line_print(FILE *out, const struct counters *reg);

/* Live captures: the line at the end. */
extern const struct sink status_line_sink;

#endif

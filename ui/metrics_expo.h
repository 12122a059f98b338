/*
 * metrics_expo.h: renders oslotrace's metrics as a Prometheus exposition,
 * in the classic text format (0.0.4) or OpenMetrics 1.0.0, from two
 * sources only: the sink's own series table (ui/metrics_series.h) and the
 * engine's counter registry (common/counters.h), every row of which becomes
 * oslotrace_<name>_total (a total) or oslotrace_<name> (a gauge).
 */
#ifndef OSLOTRACE_UI_METRICS_EXPO_H
#define OSLOTRACE_UI_METRICS_EXPO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/counters.h"
#include "ui/metrics_series.h"

enum metrics_format {
    METRICS_TEXT,        /* text/plain; version=0.0.4 */
    METRICS_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* The Content-Type header of a format. */
const char *metrics_expo_content_type(enum metrics_format f);

/* Labels of oslotrace_build_info. */
struct metrics_build {
    const char *version; /* oslotrace */
    const char *libpcap; /* "1.10.3" */
};

/* Renders the whole exposition into a new buffer (*text, *len; NUL-terminated,
 * the caller frees it). reg may be NULL. False when out of memory. */
bool metrics_expo_render(enum metrics_format f, const struct metrics_build *build,
                         struct metrics_series *series, const struct counters *reg, char **text,
                         size_t *len);

#endif

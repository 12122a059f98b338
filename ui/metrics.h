/*
 * metrics.h: the Prometheus sink: --metrics-listen serves /metrics over HTTP,
 * --metrics-file writes the same exposition for node_exporter's textfile
 * collector (docs/fleet.md).
 */
#ifndef OSLOTRACE_UI_METRICS_H
#define OSLOTRACE_UI_METRICS_H

#include "ui/sink.h"

/* Writes len bytes to path atomically: a temporary file in the same
 * directory, then rename. False with a one-line message in err. */
bool metrics_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen);

extern const struct sink metrics_sink;

#endif

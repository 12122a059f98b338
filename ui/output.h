/*
 * output.h: where the per-operation records go (text lines, NDJSON, --amqp),
 * and what happens when that fails.
 *
 * By default stdout. `--output FILE` appends them to FILE instead, a whole
 * record per write so that a reader (tail -f, a log shipper) never sees half
 * a line, and SIGHUP reopens FILE by its name: log rotation (logrotate's
 * create mode: rename, then SIGHUP) loses nothing. Either way, records that
 * cannot be written (disk full) are counted in output_write_failures, told on
 * stderr at once and then once a minute (ui/write_warn.h), and the capture
 * goes on; the run exits 1 at the end.
 *
 * The file is opened before the privilege drop, onto descriptor 1, so every
 * sink that writes stdout writes it; a reopen happens as the -Z user.
 */
#ifndef OSLOTRACE_UI_OUTPUT_H
#define OSLOTRACE_UI_OUTPUT_H

#include "ui/sink.h"

/* First in ui/sinks.c's table: it opens --output before the others and
 * finishes after them, so it sees every write to stdout (see output.c). */
extern const struct sink output_sink;

#endif

/*
 * ndjson.h: one operation as one JSON object per line (-j, on stdout).
 *
 * The record's fields are documented in docs/json.md; every field is always
 * present (null when unknown) so consumers can rely on the shape. It is
 * written straight into a buffer by one encoder (common/json_buf.h), with
 * the bytes jansson's json_dumps would print (compact, %.16g reals).
 */
#ifndef OSLOTRACE_UI_NDJSON_H
#define OSLOTRACE_UI_NDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dissect/op.h"
#include "ui/sink.h"

#define NDJSON_SCHEMA 1

/* The record as one line of JSON text, without the newline: *line is
 * malloc'd and NUL-terminated, *len its length. Bodies (args/result/context)
 * nest as JSON. False only on an allocation failure. */
bool ndjson_format_op(const struct op *op, char **line, size_t *len);
/* Writes the record and a newline; flushes when asked (live captures, pipes).
 * Returns false when the record could not be built or written. */
bool ndjson_write_op(FILE *out, const struct op *op, bool flush);
/* As ndjson_format_op, plus "nodes" after "timeline" when there are several
 * capture files: the node (names[op.leg_source[leg]]) each leg was seen on. */
bool ndjson_format_op_nodes(const struct op *op, const char *const *names, size_t nnames,
                            char **line, size_t *len);
/* A record of type "broker_event" (docs/json.md), as ndjson_format_op. */
bool ndjson_format_broker_event(const struct amqp_broker_event *ev, char **line, size_t *len);

/* The -j output: one record per operation on stdout. */
extern const struct sink ndjson_sink;

#endif

/*
 * ndjson.h: one operation as one JSON object per line (-j, --json FILE).
 *
 * The record's fields are documented in docs/json.md; every field is always
 * present (null when unknown) so consumers can rely on the shape. Built with
 * jansson so escaping and UTF-8 are right by construction.
 */
#ifndef OSLOTRACE_UI_NDJSON_H
#define OSLOTRACE_UI_NDJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "dissect/op.h"
#include "ui/sink.h"

#define NDJSON_SCHEMA 1

/* The record as a new jansson object (caller owns the reference). */
json_t *ndjson_op(const struct op *op);
/* The same record as ndjson_op() dumped compactly, written straight into a
 * buffer without building a tree (the -j hot path); byte for byte what
 * jansson would print. Bodies (args/result/context) are not handled: false
 * when the op has any, or on an allocation failure. *line is malloc'd. */
bool ndjson_format_op(const struct op *op, char **line, size_t *len);
/* Writes the record and a newline; flushes when asked (live captures, pipes).
 * Returns false when the record could not be built or written. */
bool ndjson_write_op(FILE *out, const struct op *op, bool flush);


/* The -j output: one record per operation on stdout. */
extern const struct sink ndjson_sink;

#endif

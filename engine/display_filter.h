/*
 * display_filter.h: the display filter expression (-Y EXPR, as tshark, and the
 * TUI's `/` prompt): comparisons on the fields of an operation record joined
 * by and, or, not and parentheses, e.g.
 *     topic==compute* and (status==error,timeout or latency>500ms)
 * One parser serves both front-ends. A compiled filter is plain data with a
 * bounded number of nodes and bytes of strings, so an op_filter that holds one
 * can still be copied by value (the TUI and the pipeline keep copies).
 */
#ifndef OSLOTRACE_ENGINE_DISPLAY_FILTER_H
#define OSLOTRACE_ENGINE_DISPLAY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/op.h"

#define DFILTER_MAX_NODES 64  /* comparisons and operators in one expression */
#define DFILTER_TEXT_MAX 512  /* bytes of expression text */
#define DFILTER_STRS_MAX 1024 /* bytes of the values it compares with */
#define DFILTER_MAX_DEPTH 32  /* nesting of parentheses and not */

struct dfilter_node {
    uint8_t kind;  /* enum in display_filter.c: and, or, not, compare, present */
    uint8_t field; /* row of the field table */
    uint8_t cmp;   /* ==, !=, ~, !~, <, <=, >, >= */
    uint16_t a, b; /* children; for a string compare, a = offset of the value in strs */
    uint32_t mask; /* enum fields: the values listed, one bit each */
    double num;    /* number fields, in the field's unit (durations: ms) */
};

struct dfilter {
    uint16_t nnodes, root; /* nnodes == 0: no expression, everything matches */
    uint16_t strs_used;
    struct dfilter_node nodes[DFILTER_MAX_NODES];
    char strs[DFILTER_STRS_MAX];
    char text[DFILTER_TEXT_MAX]; /* the expression as given, for status lines */
};

void dfilter_init(struct dfilter *df);
/* Compiles text; "" or blanks give the empty filter. On a bad expression
 * returns false, leaves *df as it was and writes one line to err that says
 * what was wrong and at which column (1-based). */
bool dfilter_compile(struct dfilter *df, const char *text, char *err, size_t errlen);
bool dfilter_is_empty(const struct dfilter *df);
bool dfilter_match(const struct dfilter *df, const struct op *op);
/* The field names, comma-separated, for help texts. */
const char *dfilter_field_list(void);

/* The text lines' target: "topic.server" when the op has a server, else the
 * topic ("-" when none). Filters on the topic match either form. */
void dfilter_shown_target(const struct op *op, char *buf, size_t len);

#endif

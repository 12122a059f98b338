/*
 * filter.h: which operations an operator wants to see.
 *
 * One filter serves every sink (text, NDJSON, report, -w, the TUI): the
 * command line's shorthands (--topic/--method/--server/--status/--type/
 * --min-latency/--request-id/--dialect/--event-type/--priority) fill its
 * fields, -Y its display filter expression (engine/display_filter.h); the
 * TUI's `/` prompt compiles the same expression language
 * ("topic=compute status=error,timeout latency>100" is one). Text fields
 * match what the text lines show: a topic also as topic.server, a
 * notification's method as its event type.
 */
#ifndef OSLOTRACE_ENGINE_FILTER_H
#define OSLOTRACE_ENGINE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/op.h"
#include "engine/display_filter.h"

#define FILTER_STR_MAX 128

struct op_filter {
    char topic[FILTER_STR_MAX];      /* fnmatch glob on topic, "" = any */
    char method[FILTER_STR_MAX];     /* glob on method */
    char server[FILTER_STR_MAX];     /* glob on server */
    char request_id[FILTER_STR_MAX]; /* exact request_id or global_request_id */
    char event_type[FILTER_STR_MAX]; /* glob on a notification's event type */
    char priority[FILTER_STR_MAX];   /* glob on a notification's priority */
    uint32_t status_mask;            /* bit per enum op_status, 0 = any */
    uint32_t type_mask;              /* bit per enum op_type, 0 = any */
    uint32_t dialect_mask;           /* bit per enum op_dialect, 0 = any */
    double min_latency_ms;           /* 0 = any; a timed-out call counts as its timeout */
    struct dfilter expr;             /* -Y / the TUI's `/`; empty = any */
};

void op_filter_init(struct op_filter *f);
bool op_filter_is_empty(const struct op_filter *f);
bool op_filter_match(const struct op_filter *f, const struct op *op);

/* "ok,error" → mask; false and a message naming the bad word otherwise. */
bool op_filter_parse_status(const char *list, uint32_t *mask, char *err, size_t errlen);
bool op_filter_parse_type(const char *list, uint32_t *mask, char *err, size_t errlen);
bool op_filter_parse_dialect(const char *list, uint32_t *mask, char *err, size_t errlen);
/* A glob; "" is refused (it would match nothing shown: '*' matches any). */
bool op_filter_set_glob(char *dst, const char *value, char *err, size_t errlen);

/* The TUI's `/` line: a display filter expression (engine/display_filter.h)
 * that replaces the whole filter; "" clears it. Replaces *f only when the
 * whole line parses; err then says what and at which column. */
bool op_filter_parse_expr(struct op_filter *f, const char *expr, char *err, size_t errlen);
/* The filter as an expression of that language, for status lines; "" when empty. */
void op_filter_describe(const struct op_filter *f, char *buf, size_t len);

#endif

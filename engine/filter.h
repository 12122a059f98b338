/*
 * filter.h: which operations an operator wants to see.
 *
 * One filter serves every sink (text, NDJSON, report, -w, the TUI): the
 * command line's --topic/--method/--server/--status/--type/--min-latency/
 * --request-id/--dialect fill it, and the TUI's `/` prompt parses the same words
 * ("topic=compute status=error,timeout latency>100").
 */
#ifndef OSLOTRACE_ENGINE_FILTER_H
#define OSLOTRACE_ENGINE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/op.h"

#define FILTER_STR_MAX 128

struct op_filter {
    char topic[FILTER_STR_MAX];      /* fnmatch glob on topic, "" = any */
    char method[FILTER_STR_MAX];     /* glob on method */
    char server[FILTER_STR_MAX];     /* glob on server */
    char request_id[FILTER_STR_MAX]; /* exact request_id or global_request_id */
    uint32_t status_mask;            /* bit per enum op_status, 0 = any */
    uint32_t type_mask;              /* bit per enum op_type, 0 = any */
    uint32_t dialect_mask;           /* bit per enum op_dialect, 0 = any */
    double min_latency_ms;           /* 0 = any */
};

void op_filter_init(struct op_filter *f);
bool op_filter_is_empty(const struct op_filter *f);
bool op_filter_match(const struct op_filter *f, const struct op *op);

/* "ok,error" → mask; false and a message naming the bad word otherwise. */
bool op_filter_parse_status(const char *list, uint32_t *mask, char *err, size_t errlen);
bool op_filter_parse_type(const char *list, uint32_t *mask, char *err, size_t errlen);
bool op_filter_parse_dialect(const char *list, uint32_t *mask, char *err, size_t errlen);
bool op_filter_parse_dialect(const char *list, uint32_t *mask, char *err, size_t errlen);
bool op_filter_set_glob(char *dst, const char *value, char *err, size_t errlen);

/* The TUI's one-line syntax: space-separated `key=value` or `latency>MS`
 * (keys: topic, method, server, status, type, dialect, req|request_id). A bare word is a
 * topic glob. Replaces *f only when the whole line parses. */
bool op_filter_parse_expr(struct op_filter *f, const char *expr, char *err, size_t errlen);
/* The filter in that same syntax, for status lines; "" when empty. */
void op_filter_describe(const struct op_filter *f, char *buf, size_t len);

#endif

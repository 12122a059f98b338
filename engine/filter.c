/*
 * filter.c: matching operations against an op_filter, and parsing the
 * filter from command-line values or the TUI's one-line expression (a
 * display filter, engine/display_filter.c, which also holds -Y's).
 * Globs are fnmatch(3) patterns so "compute*" and "*.host-a" work as in a shell;
 * text fields match what the text lines show (topic.server, a notification's
 * event type in the method column).
 */
#include "engine/filter.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void op_filter_init(struct op_filter *f)
{
    memset(f, 0, sizeof *f);
}

bool op_filter_is_empty(const struct op_filter *f)
{
    return !f->topic[0] && !f->method[0] && !f->server[0] && !f->request_id[0] &&
           !f->event_type[0] && !f->priority[0] && !f->status_mask && !f->type_mask &&
           !f->dialect_mask && f->min_latency_ms <= 0 && dfilter_is_empty(&f->expr);
}

static bool glob_match(const char *glob, const char *value)
{
    if (!glob[0])
        return true;
    return fnmatch(glob, value ? value : "", 0) == 0;
}

/* A timed-out call has no measured latency but lasted at least its timeout. */
static bool latency_at_least(const struct op *op, double ms)
{
    if (op->has_latency)
        return op->latency_ms >= ms;
    return op->status == OP_TIMEOUT && op->timeout_s > 0 && op->timeout_s * 1000.0 >= ms;
}

bool op_filter_match(const struct op_filter *f, const struct op *op)
{
    if (f->type_mask && !(f->type_mask & (1u << op->type)))
        return false;
    if (f->status_mask && !(f->status_mask & (1u << op->status)))
        return false;
    if (f->dialect_mask && !(f->dialect_mask & (1u << op->dialect)))
        return false;
    if (f->topic[0] && !glob_match(f->topic, op->topic)) {
        char shown[2 * FILTER_STR_MAX + 512];
        dfilter_shown_target(op, shown, sizeof shown);
        if (!op->server || !glob_match(f->topic, shown))
            return false;
    }
    const char *method =
        op->type == OP_NOTIFICATION ? op->event_type : op->method;
    if (!glob_match(f->method, method) || !glob_match(f->server, op->server) ||
        !glob_match(f->event_type, op->event_type) || !glob_match(f->priority, op->priority))
        return false;
    if (f->min_latency_ms > 0 && !latency_at_least(op, f->min_latency_ms))
        return false;
    if (f->request_id[0]) {
        bool rid = op->request_id && strcmp(op->request_id, f->request_id) == 0;
        bool grid = op->global_request_id && strcmp(op->global_request_id, f->request_id) == 0;
        if (!rid && !grid)
            return false;
    }
    return dfilter_match(&f->expr, op);
}

/* Splits a comma list and maps each word through names[]; any unknown word fails. */
static bool parse_list(const char *list, const char *what, const char *(*name)(int), int count,
                       uint32_t *mask, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(list) >= sizeof buf) {
        snprintf(err, errlen, "%s list too long", what);
        return false;
    }
    strcpy(buf, list);
    uint32_t m = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int i;
        for (i = 0; i < count; i++)
            if (strcmp(w, name(i)) == 0)
                break;
        if (i == count) {
            snprintf(err, errlen, "unknown %s '%s'", what, w);
            return false;
        }
        m |= 1u << i;
    }
    if (!m) {
        snprintf(err, errlen, "empty %s list", what);
        return false;
    }
    *mask = m;
    return true;
}

static const char *status_name(int i)
{
    return op_status_name((enum op_status)i);
}

static const char *type_name(int i)
{
    return op_type_name((enum op_type)i);
}

static const char *dialect_name(int i)
{
    return op_dialect_name((enum op_dialect)i);
}

bool op_filter_parse_dialect(const char *list, uint32_t *mask, char *err, size_t errlen)
{
    return parse_list(list, "dialect", dialect_name, OP_DIALECT_COUNT, mask, err, errlen);
}

bool op_filter_parse_status(const char *list, uint32_t *mask, char *err, size_t errlen)
{
    return parse_list(list, "status", status_name, OP_STATUS_COUNT, mask, err, errlen);
}

bool op_filter_parse_type(const char *list, uint32_t *mask, char *err, size_t errlen)
{
    return parse_list(list, "type", type_name, OP_TYPE_COUNT, mask, err, errlen);
}

bool op_filter_set_glob(char *dst, const char *value, char *err, size_t errlen)
{
    if (!value[0]) {
        snprintf(err, errlen, "empty pattern ('*' matches any)");
        return false;
    }
    if (strlen(value) >= FILTER_STR_MAX) {
        snprintf(err, errlen, "pattern too long: '%.40s...'", value);
        return false;
    }
    strcpy(dst, value);
    return true;
}

bool op_filter_parse_expr(struct op_filter *f, const char *expr, char *err, size_t errlen)
{
    struct op_filter nf;
    op_filter_init(&nf);
    if (!dfilter_compile(&nf.expr, expr, err, errlen))
        return false;
    *f = nf;
    return true;
}

/* Appends key=value, the value quoted when the expression language would
 * otherwise split it, so the description parses back to the same filter. */
static void append(char *buf, size_t len, const char *fmt, const char *v)
{
    size_t used = strlen(buf);
    char q[2 * FILTER_STR_MAX + 3];
    if (strpbrk(v, " \t\"()&|")) {
        size_t o = 0;
        q[o++] = '"';
        for (const char *c = v; *c && o + 3 < sizeof q; c++) {
            if (*c == '"' || *c == '\\')
                q[o++] = '\\';
            q[o++] = *c;
        }
        q[o++] = '"';
        q[o] = '\0';
        v = q;
    }
    if (used < len)
        snprintf(buf + used, len - used, fmt, used ? " " : "", v);
}

static void append_mask(char *buf, size_t len, const char *key, uint32_t mask,
                        const char *(*name)(int), int count)
{
    char list[128] = "";
    for (int i = 0; i < count; i++) {
        if (!(mask & (1u << i)))
            continue;
        size_t u = strlen(list);
        snprintf(list + u, sizeof list - u, "%s%s", u ? "," : "", name(i));
    }
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%%s%s=%%s", key);
    append(buf, len, fmt, list);
}

void op_filter_describe(const struct op_filter *f, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    if (f->topic[0])
        append(buf, len, "%stopic=%s", f->topic);
    if (f->method[0])
        append(buf, len, "%smethod=%s", f->method);
    if (f->server[0])
        append(buf, len, "%sserver=%s", f->server);
    if (f->status_mask)
        append_mask(buf, len, "status", f->status_mask, status_name, OP_STATUS_COUNT);
    if (f->type_mask)
        append_mask(buf, len, "type", f->type_mask, type_name, OP_TYPE_COUNT);
    if (f->dialect_mask)
        append_mask(buf, len, "dialect", f->dialect_mask, dialect_name, OP_DIALECT_COUNT);
    if (f->event_type[0])
        append(buf, len, "%sevent_type=%s", f->event_type);
    if (f->priority[0])
        append(buf, len, "%spriority=%s", f->priority);
    if (f->min_latency_ms > 0) {
        char v[32];
        snprintf(v, sizeof v, "%gms", f->min_latency_ms);
        append(buf, len, "%slatency>=%s", v);
    }
    if (f->request_id[0])
        append(buf, len, "%sreq=%s", f->request_id);
    if (!dfilter_is_empty(&f->expr)) {
        size_t used = strlen(buf);
        if (used < len)
            snprintf(buf + used, len - used, used ? " (%s)" : "%s", f->expr.text);
    }
}

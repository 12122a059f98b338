/*
 * filter.c: matching operations against an op_filter, and parsing the
 * filter from command-line values or the TUI's one-line expression.
 * Globs are fnmatch(3) patterns so "compute*" and "*.host-a" work as in a shell.
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
    return !f->topic[0] && !f->method[0] && !f->server[0] && !f->request_id[0] && !f->status_mask &&
           !f->type_mask && !f->dialect_mask && f->min_latency_ms <= 0;
}

static bool glob_match(const char *glob, const char *value)
{
    if (!glob[0])
        return true;
    return fnmatch(glob, value ? value : "", 0) == 0;
}

bool op_filter_match(const struct op_filter *f, const struct op *op)
{
    if (f->type_mask && !(f->type_mask & (1u << op->type)))
        return false;
    if (f->status_mask && !(f->status_mask & (1u << op->status)))
        return false;
    if (f->dialect_mask && !(f->dialect_mask & (1u << op->dialect)))
        return false;
    if (!glob_match(f->topic, op->topic) || !glob_match(f->method, op->method) ||
        !glob_match(f->server, op->server))
        return false;
    if (f->min_latency_ms > 0 && (!op->has_latency || op->latency_ms < f->min_latency_ms))
        return false;
    if (f->request_id[0]) {
        bool rid = op->request_id && strcmp(op->request_id, f->request_id) == 0;
        bool grid = op->global_request_id && strcmp(op->global_request_id, f->request_id) == 0;
        if (!rid && !grid)
            return false;
    }
    return true;
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
    if (strlen(value) >= FILTER_STR_MAX) {
        snprintf(err, errlen, "pattern too long: '%.40s...'", value);
        return false;
    }
    strcpy(dst, value);
    return true;
}

static bool parse_latency(const char *v, double *out, char *err, size_t errlen)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d < 0) {
        snprintf(err, errlen, "bad latency '%s' (milliseconds)", v);
        return false;
    }
    *out = d;
    return true;
}

static bool apply_word(struct op_filter *f, char *w, char *err, size_t errlen)
{
    char *gt = strstr(w, ">");
    if (gt && strncmp(w, "latency", (size_t)(gt - w)) == 0 && gt != w) {
        const char *v = gt[1] == '=' ? gt + 2 : gt + 1;
        return parse_latency(v, &f->min_latency_ms, err, errlen);
    }
    char *eq = strchr(w, '=');
    if (!eq)
        return op_filter_set_glob(f->topic, w, err, errlen);
    *eq = '\0';
    const char *k = w, *v = eq + 1;
    if (!strcmp(k, "topic"))
        return op_filter_set_glob(f->topic, v, err, errlen);
    if (!strcmp(k, "method"))
        return op_filter_set_glob(f->method, v, err, errlen);
    if (!strcmp(k, "server"))
        return op_filter_set_glob(f->server, v, err, errlen);
    if (!strcmp(k, "req") || !strcmp(k, "request_id"))
        return op_filter_set_glob(f->request_id, v, err, errlen);
    if (!strcmp(k, "status"))
        return op_filter_parse_status(v, &f->status_mask, err, errlen);
    if (!strcmp(k, "type"))
        return op_filter_parse_type(v, &f->type_mask, err, errlen);
    if (!strcmp(k, "dialect"))
        return op_filter_parse_dialect(v, &f->dialect_mask, err, errlen);
    if (!strcmp(k, "latency") || !strcmp(k, "min-latency"))
        return parse_latency(v, &f->min_latency_ms, err, errlen);
    snprintf(err, errlen, "unknown filter key '%s'", k);
    return false;
}

bool op_filter_parse_expr(struct op_filter *f, const char *expr, char *err, size_t errlen)
{
    char buf[1024];
    if (strlen(expr) >= sizeof buf) {
        snprintf(err, errlen, "filter too long");
        return false;
    }
    strcpy(buf, expr);
    struct op_filter nf;
    op_filter_init(&nf);
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        if (!apply_word(&nf, w, err, errlen))
            return false;
    *f = nf;
    return true;
}

static void append(char *buf, size_t len, const char *fmt, const char *v)
{
    size_t used = strlen(buf);
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
    if (f->min_latency_ms > 0) {
        char v[32];
        snprintf(v, sizeof v, "%g", f->min_latency_ms);
        append(buf, len, "%slatency>%s", v);
    }
    if (f->request_id[0])
        append(buf, len, "%sreq=%s", f->request_id);
}

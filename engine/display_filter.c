/*
 * display_filter.c: parsing and evaluating display filter expressions
 * (engine/display_filter.h). A recursive-descent parser over a small tokenizer
 * fills a bounded array of nodes; evaluation walks it. Fields are rows of one
 * table (name, kind, how to read it from a struct op), so a new filterable
 * field is one row. Text values are fnmatch(3) globs, like the --topic family.
 *
 * Grammar (lowest precedence first):
 *     or   := and { ("or" | "||") and }
 *     and  := not { ["and" | "&&"] not }      juxtaposition is "and"
 *     not  := ("not" | "!") not | "(" or ")" | field [cmp value]
 *     cmp  := == | = | != | ~ | !~ | < | <= | > | >=
 * A field alone tests that it is present (a verdict, a latency, an error).
 */
#include "engine/display_filter.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"

enum node_kind { N_AND, N_OR, N_NOT, N_CMP, N_PRESENT };
enum cmp_op { C_EQ, C_NE, C_HAS, C_HASNOT, C_LT, C_LE, C_GT, C_GE };
enum field_kind { K_STR, K_ENUM, K_DUR, K_NUM, K_BOOL };

#define MAX_VALUES 2
#define VALUE_BUF (2 * OP_PROCESS_MAX + 8)

/* Number fields answer how well they know their value. */
enum num_state { NUM_ABSENT, NUM_EXACT, NUM_AT_LEAST };

struct field_def {
    const char *name;
    enum field_kind kind;
    /* K_STR: up to MAX_VALUES values (the field matches when any does) */
    size_t (*strs)(const struct op *op, const char **out, char *buf, size_t len);
    /* K_ENUM: the value, -1 when absent; its names */
    int (*en)(const struct op *op);
    const char *(*en_name)(int v);
    int en_count;
    /* K_DUR, K_NUM */
    enum num_state (*num)(const struct op *op, double *out);
    double unit_ms; /* K_DUR: what a bare number means, in ms */
    /* K_BOOL */
    bool (*flag)(const struct op *op);
};

/* ---- field readers ---- */

static size_t one(const char *s, const char **out)
{
    if (!s)
        return 0;
    out[0] = s;
    return 1;
}

void dfilter_shown_target(const struct op *op, char *buf, size_t len)
{
    const char *topic = op->topic ? op->topic : "-";
    if (op->server)
        snprintf(buf, len, "%s.%s", topic, op->server);
    else
        snprintf(buf, len, "%s", topic);
}

/* The topic as stored and as the text lines show it (topic.server). */
static size_t f_topic(const struct op *op, const char **out, char *buf, size_t len)
{
    size_t n = one(op->topic, out);
    if (op->server) {
        dfilter_shown_target(op, buf, len);
        out[n++] = buf;
    }
    return n;
}

/* A notification's method is its event type: the METHOD column shows it. */
static size_t f_method(const struct op *op, const char **out, char *buf, size_t len)
{
    (void)buf, (void)len;
    return one(op->type == OP_NOTIFICATION ? op->event_type : op->method, out);
}

static size_t f_request_id(const struct op *op, const char **out, char *buf, size_t len)
{
    (void)buf, (void)len;
    size_t n = one(op->request_id, out);
    return n + one(op->global_request_id, out + n);
}

static size_t peer(const struct op_peer *p, const char **out, char *buf, size_t len)
{
    if (!p->known)
        return 0;
    netaddr_format(&p->addr, buf, len);
    out[0] = buf;
    return 1;
}

static size_t f_client(const struct op *op, const char **out, char *buf, size_t len)
{
    return peer(&op->client, out, buf, len);
}

static size_t f_server_peer(const struct op *op, const char **out, char *buf, size_t len)
{
    return peer(&op->server_peer, out, buf, len);
}

static size_t f_client_process(const struct op *op, const char **out, char *buf, size_t len)
{
    return one(op_client_process(op, buf, len), out);
}

static size_t f_server_process(const struct op *op, const char **out, char *buf, size_t len)
{
    return one(op_server_process(op, buf, len), out);
}

static size_t f_process(const struct op *op, const char **out, char *buf, size_t len)
{
    size_t half = len / 2;
    size_t n = one(op_client_process(op, buf, half), out);
    return n + one(op_server_process(op, buf + half, len - half), out + n);
}

#define STR_READER(fname, member)                                                                  \
    static size_t fname(const struct op *op, const char **out, char *buf, size_t len)              \
    {                                                                                              \
        (void)buf, (void)len;                                                                      \
        return one(op->member, out);                                                               \
    }
STR_READER(f_server, server)
STR_READER(f_exchange, exchange)
STR_READER(f_routing_key, routing_key)
STR_READER(f_msg_id, msg_id)
STR_READER(f_unique_id, unique_id)
STR_READER(f_reply_q, reply_q)
STR_READER(f_namespace, namespace_)
STR_READER(f_version, version)
STR_READER(f_global_request_id, global_request_id)
STR_READER(f_error_class, error_class)
STR_READER(f_error_module, error_module)
STR_READER(f_error_message, error_message)
STR_READER(f_event_type, event_type)
STR_READER(f_priority, priority)
STR_READER(f_publisher_id, publisher_id)
STR_READER(f_message_id, message_id)

static int e_type(const struct op *op)
{
    return (int)op->type;
}
static int e_status(const struct op *op)
{
    return (int)op->status;
}
static int e_dialect(const struct op *op)
{
    return (int)op->dialect;
}
static int e_verdict(const struct op *op)
{
    return op->verdict == OP_VERDICT_NONE ? -1 : (int)op->verdict;
}
static int e_slow_in(const struct op *op)
{
    return op->slow_in == OP_SLOW_NONE ? -1 : (int)op->slow_in;
}
static const char *n_type(int v)
{
    return op_type_name((enum op_type)v);
}
static const char *n_status(int v)
{
    return op_status_name((enum op_status)v);
}
static const char *n_dialect(int v)
{
    return op_dialect_name((enum op_dialect)v);
}
static const char *n_verdict(int v)
{
    return op_verdict_name((enum op_verdict)v);
}
static const char *n_slow_in(int v)
{
    return op_slow_name((enum op_slow)v);
}

/* A timed-out call has no measured latency, but it lasted at least its
 * timeout: "latency>500ms" keeps it when the timeout is longer. */
static enum num_state d_latency(const struct op *op, double *out)
{
    if (op->has_latency) {
        *out = op->latency_ms;
        return NUM_EXACT;
    }
    if (op->status == OP_TIMEOUT && op->timeout_s > 0) {
        *out = op->timeout_s * 1000.0;
        return NUM_AT_LEAST;
    }
    return NUM_ABSENT;
}

static enum num_state nonneg(double v, double *out)
{
    if (v < 0)
        return NUM_ABSENT;
    *out = v;
    return NUM_EXACT;
}
static enum num_state d_queue_wait(const struct op *op, double *out)
{
    return nonneg(op->queue_wait_ms, out);
}
static enum num_state d_server_time(const struct op *op, double *out)
{
    return nonneg(op->server_ms, out);
}
static enum num_state d_reply_time(const struct op *op, double *out)
{
    return nonneg(op->reply_ms, out);
}
static enum num_state d_timeout(const struct op *op, double *out)
{
    return op->timeout_s > 0 ? nonneg(op->timeout_s * 1000.0, out) : NUM_ABSENT;
}
static enum num_state n_replies(const struct op *op, double *out)
{
    *out = op->replies;
    return op->type == OP_CALL ? NUM_EXACT : NUM_ABSENT;
}
static enum num_state n_heartbeats(const struct op *op, double *out)
{
    *out = op->heartbeats;
    return op->type == OP_CALL ? NUM_EXACT : NUM_ABSENT;
}
static enum num_state n_receivers(const struct op *op, double *out)
{
    *out = op->fanout_receivers;
    return op->type == OP_FANOUT ? NUM_EXACT : NUM_ABSENT;
}
static bool b_late_reply(const struct op *op)
{
    return op->late_reply;
}
static bool b_body_truncated(const struct op *op)
{
    return op->body_truncated;
}

#define F_STR(n, fn)                                                                               \
    {                                                                                              \
        n, K_STR, fn, NULL, NULL, 0, NULL, 0, NULL                                                 \
    }
#define F_ENUM(n, fn, name, count)                                                                 \
    {                                                                                              \
        n, K_ENUM, NULL, fn, name, count, NULL, 0, NULL                                            \
    }
#define F_DUR(n, fn, unit)                                                                         \
    {                                                                                              \
        n, K_DUR, NULL, NULL, NULL, 0, fn, unit, NULL                                              \
    }
#define F_NUM(n, fn)                                                                               \
    {                                                                                              \
        n, K_NUM, NULL, NULL, NULL, 0, fn, 1, NULL                                                 \
    }
#define F_BOOL(n, fn)                                                                              \
    {                                                                                              \
        n, K_BOOL, NULL, NULL, NULL, 0, NULL, 0, fn                                                \
    }

/* Names are docs/json.md's where a record field exists; aliases follow their field. */
static const struct field_def fields[] = {
    F_STR("topic", f_topic),
    F_STR("server", f_server),
    F_STR("method", f_method),
    F_ENUM("type", e_type, n_type, OP_TYPE_COUNT),
    F_ENUM("status", e_status, n_status, OP_STATUS_COUNT),
    F_ENUM("verdict", e_verdict, n_verdict, OP_VERDICT_COUNT),
    F_ENUM("slow_in", e_slow_in, n_slow_in, OP_SLOW_COUNT),
    F_ENUM("dialect", e_dialect, n_dialect, OP_DIALECT_COUNT),
    F_DUR("latency", d_latency, 1),
    F_DUR("latency_ms", d_latency, 1),
    F_DUR("queue_wait", d_queue_wait, 1),
    F_DUR("queue_wait_ms", d_queue_wait, 1),
    F_DUR("server_time", d_server_time, 1),
    F_DUR("server_ms", d_server_time, 1),
    F_DUR("reply_time", d_reply_time, 1),
    F_DUR("timeout", d_timeout, 1000),
    F_DUR("timeout_s", d_timeout, 1000),
    F_NUM("replies", n_replies),
    F_NUM("heartbeats", n_heartbeats),
    F_NUM("fanout_receivers", n_receivers),
    F_BOOL("late_reply", b_late_reply),
    F_BOOL("body_truncated", b_body_truncated),
    F_STR("msg_id", f_msg_id),
    F_STR("unique_id", f_unique_id),
    F_STR("reply_q", f_reply_q),
    F_STR("request_id", f_request_id),
    F_STR("req", f_request_id),
    F_STR("global_request_id", f_global_request_id),
    F_STR("exchange", f_exchange),
    F_STR("routing_key", f_routing_key),
    F_STR("namespace", f_namespace),
    F_STR("version", f_version),
    F_STR("error", f_error_class),
    F_STR("error_class", f_error_class),
    F_STR("error_module", f_error_module),
    F_STR("error_message", f_error_message),
    F_STR("event_type", f_event_type),
    F_STR("priority", f_priority),
    F_STR("publisher_id", f_publisher_id),
    F_STR("message_id", f_message_id),
    F_STR("client", f_client),
    F_STR("server_peer", f_server_peer),
    F_STR("client_process", f_client_process),
    F_STR("server_process", f_server_process),
    F_STR("process", f_process),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

const char *dfilter_field_list(void)
{
    return "topic, server, method, type, status, verdict, slow_in, dialect, latency, "
           "queue_wait, server_time, reply_time, timeout, replies, heartbeats, "
           "fanout_receivers, late_reply, body_truncated, msg_id, unique_id, reply_q, "
           "request_id, global_request_id, exchange, routing_key, namespace, version, error, "
           "error_module, error_message, event_type, priority, publisher_id, message_id, "
           "client, server_peer, client_process, server_process, process";
}

/* ---- the parser ---- */

enum tok_kind { T_END, T_LP, T_RP, T_AND, T_OR, T_NOT, T_CMP, T_WORD, T_STRING, T_BAD };

struct tok {
    enum tok_kind kind;
    enum cmp_op cmp;
    size_t pos, len; /* where in the text; for T_STRING the quotes included */
};

struct parser {
    const char *s;
    size_t pos;
    struct tok t; /* the current token */
    struct dfilter *df;
    int depth;
    char *err;
    size_t errlen;
    bool failed;
};

static bool fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    char what[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s at column %zu", what, pos + 1);
    return false;
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* A bare value runs to a blank, a parenthesis or && / ||. */
static size_t bare_value_len(const char *s)
{
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]) && s[n] != '(' && s[n] != ')' &&
           !(s[n] == '&' && s[n + 1] == '&') && !(s[n] == '|' && s[n + 1] == '|'))
        n++;
    return n;
}

static void next(struct parser *p)
{
    const char *s = p->s;
    while (isspace((unsigned char)s[p->pos]))
        p->pos++;
    struct tok t = {T_END, C_EQ, p->pos, 0};
    char c = s[p->pos], d = c ? s[p->pos + 1] : '\0';
    if (!c) {
        p->t = t;
        return;
    }
    t.len = 1;
    if (c == '(')
        t.kind = T_LP;
    else if (c == ')')
        t.kind = T_RP;
    else if (c == '&' && d == '&')
        t.kind = T_AND, t.len = 2;
    else if (c == '|' && d == '|')
        t.kind = T_OR, t.len = 2;
    else if (c == '=' || c == '~' || c == '<' || c == '>' || (c == '!' && (d == '=' || d == '~'))) {
        t.kind = T_CMP;
        if (c == '=')
            t.cmp = C_EQ, t.len = d == '=' ? 2 : 1;
        else if (c == '~')
            t.cmp = C_HAS;
        else if (c == '!')
            t.cmp = d == '=' ? C_NE : C_HASNOT, t.len = 2;
        else if (c == '<')
            t.cmp = d == '=' ? C_LE : C_LT, t.len = d == '=' ? 2 : 1;
        else
            t.cmp = d == '=' ? C_GE : C_GT, t.len = d == '=' ? 2 : 1;
    } else if (c == '!')
        t.kind = T_NOT;
    else if (c == '"') {
        size_t n = 1;
        while (s[p->pos + n] && s[p->pos + n] != '"')
            n += s[p->pos + n] == '\\' && s[p->pos + n + 1] ? 2 : 1;
        t.kind = s[p->pos + n] == '"' ? T_STRING : T_BAD;
        t.len = s[p->pos + n] ? n + 1 : n;
    } else if (is_word_char(c)) {
        size_t n = 0;
        while (is_word_char(s[p->pos + n]))
            n++;
        t.kind = T_WORD, t.len = n;
        if (n == 3 && strncmp(s + p->pos, "and", 3) == 0)
            t.kind = T_AND;
        else if (n == 2 && strncmp(s + p->pos, "or", 2) == 0)
            t.kind = T_OR;
        else if (n == 3 && strncmp(s + p->pos, "not", 3) == 0)
            t.kind = T_NOT;
    } else
        t.kind = T_BAD;
    p->pos += t.len;
    p->t = t;
}

static int new_node(struct parser *p, enum node_kind kind, size_t pos)
{
    struct dfilter *df = p->df;
    if (df->nnodes == DFILTER_MAX_NODES) {
        fail(p, pos, "too many terms (at most %d)", DFILTER_MAX_NODES);
        return -1;
    }
    struct dfilter_node *n = &df->nodes[df->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    return df->nnodes++;
}

static int parse_or(struct parser *p);

/* Stores s[0..len) (with "*" around it for ~) in the string pool; -1 when full. */
static int store_str(struct parser *p, const char *s, size_t len, bool contains, size_t pos)
{
    struct dfilter *df = p->df;
    size_t need = len + 1 + (contains ? 2 : 0);
    if (df->strs_used + need > DFILTER_STRS_MAX) {
        fail(p, pos, "values too long (at most %d bytes in all)", DFILTER_STRS_MAX);
        return -1;
    }
    int off = df->strs_used;
    char *d = df->strs + off;
    if (contains)
        *d++ = '*';
    memcpy(d, s, len);
    d += len;
    if (contains)
        *d++ = '*';
    *d = '\0';
    df->strs_used = (uint16_t)(df->strs_used + need);
    return off;
}

/* The value after a comparison: a "quoted string" (\" and \\ escape) or a bare word. */
static bool take_value(struct parser *p, char *buf, size_t buflen, size_t *pos)
{
    const char *s = p->s;
    while (isspace((unsigned char)s[p->pos]))
        p->pos++;
    *pos = p->pos;
    size_t o = 0;
    if (s[p->pos] == '"') {
        size_t i = p->pos + 1;
        while (s[i] && s[i] != '"') {
            if (s[i] == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\'))
                i++;
            if (o + 1 >= buflen)
                return fail(p, *pos, "value too long");
            buf[o++] = s[i++];
        }
        if (s[i] != '"')
            return fail(p, *pos, "unterminated string");
        p->pos = i + 1;
    } else {
        size_t n = bare_value_len(s + p->pos);
        if (!n)
            return fail(p, *pos, "expected a value");
        if (n >= buflen)
            return fail(p, *pos, "value too long");
        memcpy(buf, s + p->pos, n);
        o = n;
        p->pos += n;
    }
    buf[o] = '\0';
    return true;
}

static const char *cmp_text(enum cmp_op c)
{
    static const char *const t[] = {"==", "!=", "~", "!~", "<", "<=", ">", ">="};
    return t[c];
}

static bool parse_enum_list(struct parser *p, const struct field_def *f, const char *v, size_t pos,
                            uint32_t *mask)
{
    *mask = 0;
    const char *w = v;
    while (true) {
        size_t n = strcspn(w, ",");
        int i;
        for (i = 0; i < f->en_count; i++) {
            const char *name = f->en_name(i);
            if (name && strlen(name) == n && strncmp(name, w, n) == 0)
                break;
        }
        if (i == f->en_count) {
            char names[256] = "";
            for (int j = 0; j < f->en_count; j++) {
                const char *name = f->en_name(j);
                size_t u = strlen(names);
                if (name)
                    snprintf(names + u, sizeof names - u, "%s%s", u ? ", " : "", name);
            }
            return fail(p, pos + (size_t)(w - v), "unknown %s '%.*s' (%s)", f->name, (int)n, w,
                        names);
        }
        *mask |= 1u << i;
        if (!w[n])
            return true;
        w += n + 1;
    }
}

/* "250", "250ms", "1.5s", "800us", "2min"; bare numbers in the field's unit. */
static bool parse_number(struct parser *p, const struct field_def *f, const char *v, size_t pos,
                         double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || !(d == d) || d > 1e15 || d < -1e15)
        return fail(p, pos, "'%s' is not a number (%s)", v, f->name);
    double scale = f->kind == K_DUR ? f->unit_ms : 1;
    if (*end && f->kind == K_DUR) {
        if (!strcmp(end, "us"))
            scale = 0.001;
        else if (!strcmp(end, "ms"))
            scale = 1;
        else if (!strcmp(end, "s"))
            scale = 1000;
        else if (!strcmp(end, "min"))
            scale = 60000;
        else
            return fail(p, pos + (size_t)(end - v), "unknown unit '%s' (us, ms, s, min)", end);
    } else if (*end)
        return fail(p, pos, "'%s' is not a number (%s)", v, f->name);
    *out = d * scale;
    return true;
}

static bool parse_bool(struct parser *p, const char *v, size_t pos, double *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
        *out = 0;
    else
        return fail(p, pos, "'%s' is not true or false", v);
    return true;
}

static int parse_compare(struct parser *p, const struct field_def *f, size_t fpos)
{
    enum cmp_op cmp = p->t.cmp;
    size_t cpos = p->t.pos;
    bool text_cmp = cmp == C_HAS || cmp == C_HASNOT;
    bool order_cmp = cmp >= C_LT;
    if (text_cmp && f->kind != K_STR)
        return fail(p, cpos, "'%s' matches text; %s is not text", cmp_text(cmp), f->name), -1;
    if (order_cmp && f->kind != K_DUR && f->kind != K_NUM)
        return fail(p, cpos, "'%s' compares numbers; %s is not a number", cmp_text(cmp), f->name),
               -1;
    char v[DFILTER_TEXT_MAX];
    size_t vpos;
    if (!take_value(p, v, sizeof v, &vpos))
        return -1;
    int id = new_node(p, N_CMP, fpos);
    if (id < 0)
        return -1;
    struct dfilter_node *n = &p->df->nodes[id];
    n->field = (uint8_t)(f - fields);
    n->cmp = (uint8_t)cmp;
    bool ok = true;
    switch (f->kind) {
    case K_STR: {
        int off = store_str(p, v, strlen(v), text_cmp, vpos);
        ok = off >= 0;
        n->a = (uint16_t)(ok ? off : 0);
        break;
    }
    case K_ENUM:
        ok = parse_enum_list(p, f, v, vpos, &n->mask);
        break;
    case K_DUR:
    case K_NUM:
        ok = parse_number(p, f, v, vpos, &n->num);
        break;
    case K_BOOL:
        ok = parse_bool(p, v, vpos, &n->num);
        break;
    }
    if (!ok)
        return -1;
    next(p);
    return id;
}

static const struct field_def *find_field(const char *s, size_t len)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strlen(fields[i].name) == len && strncmp(fields[i].name, s, len) == 0)
            return &fields[i];
    return NULL;
}

static int parse_primary(struct parser *p)
{
    struct tok t = p->t;
    switch (t.kind) {
    case T_NOT: {
        if (++p->depth > DFILTER_MAX_DEPTH)
            return fail(p, t.pos, "nested too deep (at most %d)", DFILTER_MAX_DEPTH), -1;
        next(p);
        int child = parse_primary(p);
        p->depth--;
        if (child < 0)
            return -1;
        int id = new_node(p, N_NOT, t.pos);
        if (id >= 0)
            p->df->nodes[id].a = (uint16_t)child;
        return id;
    }
    case T_LP: {
        if (++p->depth > DFILTER_MAX_DEPTH)
            return fail(p, t.pos, "nested too deep (at most %d)", DFILTER_MAX_DEPTH), -1;
        next(p);
        int inner = parse_or(p);
        p->depth--;
        if (inner < 0)
            return -1;
        if (p->t.kind != T_RP)
            return fail(p, t.pos, "unclosed '('"), -1;
        next(p);
        return inner;
    }
    case T_WORD: {
        const struct field_def *f = find_field(p->s + t.pos, t.len);
        if (!f) {
            char v[DFILTER_TEXT_MAX];
            size_t n = bare_value_len(p->s + t.pos);
            snprintf(v, sizeof v, "%.*s", (int)(n < 60 ? n : 60), p->s + t.pos);
            if (n > t.len) /* "a==1": a comparison on an unknown field */
                return fail(p, t.pos, "unknown field '%.*s' (man oslotrace lists them)", (int)t.len,
                            p->s + t.pos),
                       -1;
            return fail(p, t.pos, "unknown field '%.*s' (a topic glob is topic==%s)", (int)t.len,
                        p->s + t.pos, v),
                   -1;
        }
        next(p);
        if (p->t.kind == T_CMP)
            return parse_compare(p, f, t.pos);
        int id = new_node(p, N_PRESENT, t.pos);
        if (id >= 0)
            p->df->nodes[id].field = (uint8_t)(f - fields);
        return id;
    }
    case T_END:
        return fail(p, t.pos, "expression ends too soon"), -1;
    case T_RP:
        return fail(p, t.pos, "unexpected ')'"), -1;
    case T_CMP:
        return fail(p, t.pos, "'%s' needs a field before it", cmp_text(t.cmp)), -1;
    case T_AND:
    case T_OR:
        return fail(p, t.pos, "'%.*s' needs a term before it", (int)t.len, p->s + t.pos), -1;
    case T_STRING:
        return fail(p, t.pos, "a value needs a field and a comparison before it"), -1;
    default:
        return fail(p, t.pos, "unexpected '%c'", p->s[t.pos]), -1;
    }
}

static bool starts_term(enum tok_kind k)
{
    return k == T_WORD || k == T_LP || k == T_NOT;
}

static int join(struct parser *p, enum node_kind kind, int left, int right, size_t pos)
{
    int id = new_node(p, kind, pos);
    if (id >= 0) {
        p->df->nodes[id].a = (uint16_t)left;
        p->df->nodes[id].b = (uint16_t)right;
    }
    return id;
}

static int parse_and(struct parser *p)
{
    int left = parse_primary(p);
    while (left >= 0 && (p->t.kind == T_AND || starts_term(p->t.kind))) {
        size_t pos = p->t.pos;
        if (p->t.kind == T_AND)
            next(p);
        int right = parse_primary(p);
        if (right < 0)
            return -1;
        left = join(p, N_AND, left, right, pos);
    }
    return left;
}

static int parse_or(struct parser *p)
{
    int left = parse_and(p);
    while (left >= 0 && p->t.kind == T_OR) {
        size_t pos = p->t.pos;
        next(p);
        int right = parse_and(p);
        if (right < 0)
            return -1;
        left = join(p, N_OR, left, right, pos);
    }
    return left;
}

void dfilter_init(struct dfilter *df)
{
    df->nnodes = df->root = df->strs_used = 0;
    df->text[0] = '\0';
}

bool dfilter_is_empty(const struct dfilter *df)
{
    return df->nnodes == 0;
}

bool dfilter_compile(struct dfilter *df, const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    if (len >= DFILTER_TEXT_MAX) {
        snprintf(err, errlen, "expression too long (at most %d bytes)", DFILTER_TEXT_MAX - 1);
        return false;
    }
    /* Built aside so a bad expression leaves *df as it was. */
    struct dfilter *nf = malloc(sizeof *nf);
    if (!nf) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    dfilter_init(nf);
    struct parser p = {.s = text, .df = nf, .err = err, .errlen = errlen};
    next(&p);
    bool ok = true;
    if (p.t.kind != T_END) {
        int root = parse_or(&p);
        if (root >= 0 && p.t.kind != T_END)
            fail(&p, p.t.pos,
                 p.t.kind == T_RP    ? "unexpected ')'"
                 : p.t.kind == T_BAD ? "unexpected character"
                                     : "expected 'and', 'or' or the end");
        ok = !p.failed;
        nf->root = (uint16_t)(root >= 0 ? root : 0);
        /* trimmed text, for status lines and describe */
        size_t a = 0, b = len;
        while (a < b && isspace((unsigned char)text[a]))
            a++;
        while (b > a && isspace((unsigned char)text[b - 1]))
            b--;
        memcpy(nf->text, text + a, b - a);
        nf->text[b - a] = '\0';
    }
    if (ok)
        *df = *nf;
    free(nf);
    return ok;
}

/* ---- evaluation ---- */

static bool cmp_num(enum cmp_op c, enum num_state st, double v, double x)
{
    if (st == NUM_ABSENT)
        return c == C_NE;
    if (st == NUM_AT_LEAST) /* v is a lower bound: only "more than" can be told */
        return c == C_GT ? v > x : c == C_GE ? v >= x : c == C_NE ? v > x : false;
    switch (c) {
    case C_EQ:
        return v == x;
    case C_NE:
        return v != x;
    case C_LT:
        return v < x;
    case C_LE:
        return v <= x;
    case C_GT:
        return v > x;
    case C_GE:
        return v >= x;
    default:
        return false;
    }
}

static bool eval_cmp(const struct dfilter *df, const struct dfilter_node *n, const struct op *op)
{
    const struct field_def *f = &fields[n->field];
    enum cmp_op c = (enum cmp_op)n->cmp;
    switch (f->kind) {
    case K_STR: {
        const char *vals[MAX_VALUES];
        char buf[VALUE_BUF];
        size_t nv = f->strs(op, vals, buf, sizeof buf);
        bool any = false;
        for (size_t i = 0; i < nv && !any; i++)
            any = fnmatch(df->strs + n->a, vals[i], 0) == 0;
        return c == C_EQ || c == C_HAS ? any : !any;
    }
    case K_ENUM: {
        int v = f->en(op);
        bool in = v >= 0 && (n->mask & (1u << v));
        return c == C_EQ ? in : !in;
    }
    case K_DUR:
    case K_NUM: {
        double v = 0;
        enum num_state st = f->num(op, &v);
        return cmp_num(c, st, v, n->num);
    }
    case K_BOOL: {
        bool in = f->flag(op) == (n->num != 0);
        return c == C_EQ ? in : !in;
    }
    }
    return false;
}

static bool present(const struct field_def *f, const struct op *op)
{
    switch (f->kind) {
    case K_STR: {
        const char *vals[MAX_VALUES];
        char buf[VALUE_BUF];
        size_t nv = f->strs(op, vals, buf, sizeof buf);
        for (size_t i = 0; i < nv; i++)
            if (vals[i][0])
                return true;
        return false;
    }
    case K_ENUM:
        return f->en(op) >= 0;
    case K_DUR:
    case K_NUM: {
        double v;
        return f->num(op, &v) != NUM_ABSENT;
    }
    case K_BOOL:
        return f->flag(op);
    }
    return false;
}

static bool eval(const struct dfilter *df, uint16_t id, const struct op *op)
{
    const struct dfilter_node *n = &df->nodes[id];
    switch ((enum node_kind)n->kind) {
    case N_AND:
        return eval(df, n->a, op) && eval(df, n->b, op);
    case N_OR:
        return eval(df, n->a, op) || eval(df, n->b, op);
    case N_NOT:
        return !eval(df, n->a, op);
    case N_CMP:
        return eval_cmp(df, n, op);
    case N_PRESENT:
        return present(&fields[n->field], op);
    }
    return false;
}

bool dfilter_match(const struct dfilter *df, const struct op *op)
{
    return df->nnodes == 0 || eval(df, df->root, op);
}

/*
 * ndjson.c: struct op → one JSON line.
 *
 * Times are seconds since the epoch as reals with the nanosecond fraction
 * (what tcpdump -tt and Python's time.time() read), durations milliseconds.
 * args/result/context are the redacted JSON text correlation kept; they are
 * parsed back so they nest as JSON, not as strings. Invalid UTF-8 cannot
 * reach here (the oslo stage rejects it), but jansson would refuse it anyway
 * and the field would become null rather than the line being lost.
 */
#include "ui/ndjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/real_format.h"

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *ts_or_null(uint64_t ns)
{
    return ns ? json_real((double)(ns / 1000000000ull) + (double)(ns % 1000000000ull) / 1e9)
              : json_null();
}

static json_t *ms_or_null(double ms)
{
    return ms >= 0 ? json_real(ms) : json_null();
}

static json_t *peer(const struct op_peer *p)
{
    if (!p->known)
        return json_null();
    char addr[NETADDR_STRLEN];
    netaddr_format(&p->addr, addr, sizeof(addr));
    return json_pack(
        "{s:s, s:o}", "addr", addr, "connection_name",
        str_or_null(p->connection_name && p->connection_name[0] ? p->connection_name : NULL));
}

static json_t *parsed(const char *text)
{
    if (!text)
        return json_null();
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    return v ? v : json_null();
}

json_t *ndjson_op(const struct op *op)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "schema", json_integer(NDJSON_SCHEMA));
    json_object_set_new(o, "type", json_string(op_type_name(op->type)));
    json_object_set_new(o, "ts", ts_or_null(op->ts_ns));
    json_object_set_new(o, "msg_id", str_or_null(op->msg_id));
    json_object_set_new(o, "unique_id", str_or_null(op->unique_id));
    json_object_set_new(o, "reply_q", str_or_null(op->reply_q));
    json_object_set_new(o, "exchange", str_or_null(op->exchange));
    json_object_set_new(o, "routing_key", str_or_null(op->routing_key));
    json_object_set_new(o, "topic", str_or_null(op->topic));
    json_object_set_new(o, "server", str_or_null(op->server));
    json_object_set_new(o, "method", str_or_null(op->method));
    json_object_set_new(o, "namespace", str_or_null(op->namespace_));
    json_object_set_new(o, "version", str_or_null(op->version));
    json_object_set_new(o, "status", json_string(op_status_name(op->status)));
    json_object_set_new(o, "latency_ms", op->has_latency ? json_real(op->latency_ms) : json_null());
    json_object_set_new(o, "latency_from",
                        op->has_latency ? json_string(op_leg_name(op->latency_from)) : json_null());
    json_object_set_new(o, "latency_to",
                        op->has_latency ? json_string(op_leg_name(op->latency_to)) : json_null());
    json_object_set_new(o, "queue_wait_ms", ms_or_null(op->queue_wait_ms));
    json_object_set_new(o, "server_ms", ms_or_null(op->server_ms));
    json_object_set_new(o, "timeout_s",
                        op->type == OP_CALL ? json_real(op->timeout_s) : json_null());
    json_object_set_new(o, "late_reply", json_boolean(op->late_reply));
    json_object_set_new(o, "replies", json_integer(op->replies));
    json_object_set_new(o, "heartbeats", json_integer(op->heartbeats));
    json_t *tl = json_object();
    for (int l = 0; l < LEG_COUNT; l++)
        json_object_set_new(tl, op_leg_name((enum op_leg)l), ts_or_null(op->timeline[l]));
    json_object_set_new(o, "timeline", tl);
    if (op->status == OP_ERROR || op->error_class || op->error_message)
        json_object_set_new(o, "error",
                            json_pack("{s:o, s:o, s:o}", "class", str_or_null(op->error_class),
                                      "module", str_or_null(op->error_module), "message",
                                      str_or_null(op->error_message)));
    else
        json_object_set_new(o, "error", json_null());
    json_object_set_new(o, "request_id", str_or_null(op->request_id));
    json_object_set_new(o, "global_request_id", str_or_null(op->global_request_id));
    json_object_set_new(o, "client", peer(&op->client));
    json_object_set_new(o, "server_peer", peer(&op->server_peer));
    json_object_set_new(o, "fanout_receivers",
                        op->type == OP_CALL ? json_null() : json_integer(op->fanout_receivers));
    if (op->type == OP_NOTIFICATION) {
        json_object_set_new(o, "event_type", str_or_null(op->event_type));
        json_object_set_new(o, "priority", str_or_null(op->priority));
        json_object_set_new(o, "publisher_id", str_or_null(op->publisher_id));
        json_object_set_new(o, "message_id", str_or_null(op->message_id));
    }
    if (op->args_json || op->result_json || op->context_json) {
        json_object_set_new(o, "args", parsed(op->args_json));
        json_object_set_new(o, "result", parsed(op->result_json));
        json_object_set_new(o, "context", parsed(op->context_json));
    }
    return o;
}

/* ---- the direct writer: the same bytes as json_dumps of ndjson_op() ---- */

struct jbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

/* Grows the buffer for `more` bytes; false (and failed set) when it cannot. */
static bool jb_grow(struct jbuf *b, size_t more)
{
    if (b->failed)
        return false;
    size_t cap = b->cap ? b->cap : 2048; /* a record without bodies is about 1 KB */
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static inline void jb_put(struct jbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap && !jb_grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void jb_lit(struct jbuf *b, const char *s)
{
    jb_put(b, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at s (as jansson accepts it), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* A JSON string as jansson writes it; null for NULL or invalid UTF-8 (as
 * str_or_null). One pass: plain ASCII runs are copied at once, multi-byte
 * sequences validated as they come, and an invalid one takes back what was
 * written of the string. */
static void jb_str(struct jbuf *b, const char *s)
{
    if (!s) {
        jb_lit(b, "null");
        return;
    }
    size_t start = b->len;
    jb_put(b, "\"", 1);
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80)
            continue;
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)p);
            if (!n) {
                b->len = b->failed ? b->len : start;
                jb_lit(b, "null");
                return;
            }
            p += n - 1;
            continue;
        }
        jb_put(b, run, (size_t)(p - run));
        if (!c)
            break;
        char esc[8];
        switch (c) {
        case '"':
            jb_lit(b, "\\\"");
            break;
        case '\\':
            jb_lit(b, "\\\\");
            break;
        case '\b':
            jb_lit(b, "\\b");
            break;
        case '\f':
            jb_lit(b, "\\f");
            break;
        case '\n':
            jb_lit(b, "\\n");
            break;
        case '\r':
            jb_lit(b, "\\r");
            break;
        case '\t':
            jb_lit(b, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            jb_lit(b, esc);
            break;
        }
        run = p + 1;
    }
    jb_put(b, "\"", 1);
}

/* A real as jansson prints it with JSON_REAL_PRECISION(16): %.16g, and ".0" when it looks like an
 * integer. */
static void jb_real(struct jbuf *b, double v)
{
    char tmp[REAL_FORMAT_LEN];
    size_t n = real_format_g16(v, tmp);
    if (n == 0 || !isfinite(v)) {
        jb_lit(b, "null");
        return;
    }
    jb_put(b, tmp, n);
    if (!strpbrk(tmp, ".eE"))
        jb_lit(b, ".0");
}

static void jb_int(struct jbuf *b, long long v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    jb_put(b, tmp + n, sizeof tmp - n);
}

static void jb_key(struct jbuf *b, const char *k)
{
    jb_put(b, ",\"", 2);
    jb_lit(b, k);
    jb_put(b, "\":", 2);
}

static void jb_ts(struct jbuf *b, uint64_t ns)
{
    if (!ns)
        jb_lit(b, "null");
    else
        jb_real(b, (double)(ns / 1000000000ull) + (double)(ns % 1000000000ull) / 1e9);
}

static void jb_ms(struct jbuf *b, double ms)
{
    if (ms >= 0)
        jb_real(b, ms);
    else
        jb_lit(b, "null");
}

static void jb_peer(struct jbuf *b, const struct op_peer *p)
{
    if (!p->known) {
        jb_lit(b, "null");
        return;
    }
    char addr[NETADDR_STRLEN];
    netaddr_format(&p->addr, addr, sizeof(addr));
    jb_lit(b, "{\"addr\":");
    jb_str(b, addr);
    jb_lit(b, ",\"connection_name\":");
    jb_str(b, p->connection_name && p->connection_name[0] ? p->connection_name : NULL);
    jb_lit(b, "}");
}

bool ndjson_format_op(const struct op *op, char **line, size_t *len)
{
    if (op->args_json || op->result_json || op->context_json)
        return false;
    struct jbuf b = {0};
    jb_lit(&b, "{\"schema\":");
    jb_int(&b, NDJSON_SCHEMA);
    jb_key(&b, "type");
    jb_str(&b, op_type_name(op->type));
    jb_key(&b, "ts");
    jb_ts(&b, op->ts_ns);
    const struct {
        const char *key, *value;
    } strs[] = {{"msg_id", op->msg_id},           {"unique_id", op->unique_id},
                {"reply_q", op->reply_q},         {"exchange", op->exchange},
                {"routing_key", op->routing_key}, {"topic", op->topic},
                {"server", op->server},           {"method", op->method},
                {"namespace", op->namespace_},    {"version", op->version}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        jb_key(&b, strs[i].key);
        jb_str(&b, strs[i].value);
    }
    jb_key(&b, "status");
    jb_str(&b, op_status_name(op->status));
    jb_key(&b, "latency_ms");
    if (op->has_latency)
        jb_real(&b, op->latency_ms);
    else
        jb_lit(&b, "null");
    jb_key(&b, "latency_from");
    jb_str(&b, op->has_latency ? op_leg_name(op->latency_from) : NULL);
    jb_key(&b, "latency_to");
    jb_str(&b, op->has_latency ? op_leg_name(op->latency_to) : NULL);
    jb_key(&b, "queue_wait_ms");
    jb_ms(&b, op->queue_wait_ms);
    jb_key(&b, "server_ms");
    jb_ms(&b, op->server_ms);
    jb_key(&b, "timeout_s");
    if (op->type == OP_CALL)
        jb_real(&b, op->timeout_s);
    else
        jb_lit(&b, "null");
    jb_key(&b, "late_reply");
    jb_lit(&b, op->late_reply ? "true" : "false");
    jb_key(&b, "replies");
    jb_int(&b, op->replies);
    jb_key(&b, "heartbeats");
    jb_int(&b, op->heartbeats);
    jb_key(&b, "timeline");
    for (int l = 0; l < LEG_COUNT; l++) {
        jb_lit(&b, l ? ",\"" : "{\"");
        jb_lit(&b, op_leg_name((enum op_leg)l));
        jb_lit(&b, "\":");
        jb_ts(&b, op->timeline[l]);
    }
    jb_lit(&b, "}");
    jb_key(&b, "error");
    if (op->status == OP_ERROR || op->error_class || op->error_message) {
        jb_lit(&b, "{\"class\":");
        jb_str(&b, op->error_class);
        jb_lit(&b, ",\"module\":");
        jb_str(&b, op->error_module);
        jb_lit(&b, ",\"message\":");
        jb_str(&b, op->error_message);
        jb_lit(&b, "}");
    } else {
        jb_lit(&b, "null");
    }
    jb_key(&b, "request_id");
    jb_str(&b, op->request_id);
    jb_key(&b, "global_request_id");
    jb_str(&b, op->global_request_id);
    jb_key(&b, "client");
    jb_peer(&b, &op->client);
    jb_key(&b, "server_peer");
    jb_peer(&b, &op->server_peer);
    jb_key(&b, "fanout_receivers");
    if (op->type == OP_CALL)
        jb_lit(&b, "null");
    else
        jb_int(&b, op->fanout_receivers);
    if (op->type == OP_NOTIFICATION) {
        jb_key(&b, "event_type");
        jb_str(&b, op->event_type);
        jb_key(&b, "priority");
        jb_str(&b, op->priority);
        jb_key(&b, "publisher_id");
        jb_str(&b, op->publisher_id);
        jb_key(&b, "message_id");
        jb_str(&b, op->message_id);
    }
    jb_lit(&b, "}");
    jb_put(&b, "", 1); /* NUL */
    if (b.failed) {
        free(b.p);
        return false;
    }
    *line = b.p;
    *len = b.len - 1;
    return true;
}

bool ndjson_write_op(FILE *out, const struct op *op, bool flush)
{
    char *line = NULL;
    size_t len;
    if (!ndjson_format_op(op, &line, &len)) {
        /* With bodies: through jansson, which re-nests the bodies' JSON. */
        json_t *o = ndjson_op(op);
        if (!o)
            return false;
        line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
        json_decref(o);
        if (!line)
            return false;
        len = strlen(line);
    }
    bool ok = fwrite(line, 1, len, out) == len && fputc('\n', out) != EOF;
    free(line);
    if (flush && fflush(out) != 0)
        ok = false;
    return ok;
}

/* ---- the sink: -j ---- */

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    /* -q --report -j: the report is the one JSON document on stdout. */
    if (!env->o->json || (env->o->quiet && env->o->report))
        return NULL;
    struct sink_env *st = malloc(sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *st = *env;
    return st;
}

static void sink_on_op(void *s, const struct op *op)
{
    const struct sink_env *env = s;
    ndjson_write_op(env->out, op, env->flush_lines);
}

const struct sink ndjson_sink = {
    .name = "ndjson", .open = sink_open, .on_op = sink_on_op, .close = free};

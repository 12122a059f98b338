/*
 * ndjson.c: struct op → one JSON line.
 *
 * The record is the table `fields` below, in output order: a row names the
 * key, how the value is written and, for the optional groups, when the key
 * is there at all; adding a field is adding a row (and its line in
 * docs/json.md). Values go straight into a buffer through common/json_buf.h.
 * Times are seconds since the epoch as reals with the nanosecond fraction
 * (what tcpdump -tt and Python's time.time() read), durations milliseconds.
 * args/result/context are the redacted JSON text correlation kept; they are
 * parsed and re-printed so they nest as JSON, not as strings (null when they
 * do not parse). A string that is not valid UTF-8 becomes null rather than
 * the line being lost.
 */
#include "ui/ndjson.h"

#include <stdlib.h>
#include <string.h>

#include "common/json_buf.h"
#include "common/netaddr.h"
#include "ui/start_order.h"
#include "dissect/hist.h"

/* A record buffer grown past this (bodies of megabytes) is freed after its line. */
#define NDJSON_BUF_KEEP (1u << 20)

enum field_kind {
    F_STR,  /* a const char * member: string, null when NULL */
    F_TS,   /* a uint64_t member in ns: seconds since the epoch, null when 0 */
    F_MS,   /* a double member: milliseconds, null when negative (not seen) */
    F_BODY, /* a const char * member holding JSON text: nested JSON */
    F_FN,   /* computed from the whole op by `write` */
};

struct field {
    const char *key;
    enum field_kind kind;
    size_t off; /* of the member, for every kind but F_FN */
    void (*write)(struct jbuf *b, const struct op *op);
    bool (*when)(const struct op *op); /* NULL: on every record */
};

static void ts(struct jbuf *b, uint64_t ns)
{
    if (ns)
        jb_real(b, (double)(ns / 1000000000ull) + (double)(ns % 1000000000ull) / 1e9);
    else
        jb_lit(b, "null");
}

static void peer(struct jbuf *b, const struct op_peer *p)
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

static void w_schema(struct jbuf *b, const struct op *op)
{
    (void)op;
    jb_int(b, NDJSON_SCHEMA);
}

static void w_type(struct jbuf *b, const struct op *op)
{
    jb_str(b, op_type_name(op->type));
}

static void w_dialect(struct jbuf *b, const struct op *op)
{
    jb_str(b, op_dialect_name(op->dialect));
}

static void w_status(struct jbuf *b, const struct op *op)
{
    jb_str(b, op_status_name(op->status));
}

static void w_latency_ms(struct jbuf *b, const struct op *op)
{
    if (op->has_latency)
        jb_real(b, op->latency_ms);
    else
        jb_lit(b, "null");
}

static void w_latency_from(struct jbuf *b, const struct op *op)
{
    jb_str(b, op->has_latency ? op_leg_name(op->latency_from) : NULL);
}

static void w_latency_to(struct jbuf *b, const struct op *op)
{
    jb_str(b, op->has_latency ? op_leg_name(op->latency_to) : NULL);
}

static void w_timeout_s(struct jbuf *b, const struct op *op)
{
    if (op->type == OP_CALL)
        jb_real(b, op->timeout_s);
    else
        jb_lit(b, "null");
}

static void w_late_reply(struct jbuf *b, const struct op *op)
{
    jb_bool(b, op->late_reply);
}

static void w_replies(struct jbuf *b, const struct op *op)
{
    jb_int(b, op->replies);
}

static void w_heartbeats(struct jbuf *b, const struct op *op)
{
    jb_int(b, op->heartbeats);
}

/* {"request_publish": ts, ...}: every leg, null when not seen. */
static void w_timeline(struct jbuf *b, const struct op *op)
{
    jb_lit(b, "{");
    for (int l = 0; l < LEG_COUNT; l++) {
        jb_key(b, op_leg_name((enum op_leg)l), l == 0);
        ts(b, op->timeline[l]);
    }
    jb_lit(b, "}");
}

static void w_error(struct jbuf *b, const struct op *op)
{
    if (op->status != OP_ERROR && !op->error_class && !op->error_message) {
        jb_lit(b, "null");
        return;
    }
    jb_lit(b, "{\"class\":");
    jb_str(b, op->error_class);
    jb_lit(b, ",\"module\":");
    jb_str(b, op->error_module);
    jb_lit(b, ",\"message\":");
    jb_str(b, op->error_message);
    jb_lit(b, "}");
}

static void w_client(struct jbuf *b, const struct op *op)
{
    peer(b, &op->client);
}

static void w_server_peer(struct jbuf *b, const struct op *op)
{
    peer(b, &op->server_peer);
}

static void w_fanout_receivers(struct jbuf *b, const struct op *op)
{
    if (op->type == OP_CALL)
        jb_lit(b, "null");
    else
        jb_int(b, op->fanout_receivers);
}

static void w_verdict(struct jbuf *b, const struct op *op)
{
    jb_str(b, op->type == OP_CALL ? op_verdict_name(op->verdict) : NULL);
}

static void w_slow_in(struct jbuf *b, const struct op *op)
{
    jb_str(b, op_slow_name(op->slow_in));
}

static void w_client_process(struct jbuf *b, const struct op *op)
{
    char buf[OP_PROCESS_MAX];
    jb_str(b, op_client_process(op, buf, sizeof buf));
}

static void w_server_process(struct jbuf *b, const struct op *op)
{
    char buf[OP_PROCESS_MAX];
    jb_str(b, op_server_process(op, buf, sizeof buf));
}

static bool is_notification(const struct op *op)
{
    return op->type == OP_NOTIFICATION;
}

static bool body_was_cut(const struct op *op)
{
    return op->body_truncated;
}

static void w_true(struct jbuf *b, const struct op *op)
{
    (void)op;
    jb_lit(b, "true");
}

static bool has_bodies(const struct op *op)
{
    return op->args_json || op->result_json || op->context_json;
}

#define STR(key, member)                                                                           \
    {                                                                                              \
        key, F_STR, offsetof(struct op, member), NULL, NULL                                        \
    }
#define STR_IF(key, member, when)                                                                  \
    {                                                                                              \
        key, F_STR, offsetof(struct op, member), NULL, when                                        \
    }
#define TS(key, member)                                                                            \
    {                                                                                              \
        key, F_TS, offsetof(struct op, member), NULL, NULL                                         \
    }
#define MS(key, member)                                                                            \
    {                                                                                              \
        key, F_MS, offsetof(struct op, member), NULL, NULL                                         \
    }
#define BODY(key, member)                                                                          \
    {                                                                                              \
        key, F_BODY, offsetof(struct op, member), NULL, has_bodies                                 \
    }
#define FN(key, fn)                                                                                \
    {                                                                                              \
        key, F_FN, 0, fn, NULL                                                                     \
    }

/* The record, in output order. */
static const struct field fields[] = {
    FN("schema", w_schema),
    FN("type", w_type),
    FN("dialect", w_dialect),
    TS("ts", ts_ns),
    STR("msg_id", msg_id),
    STR("unique_id", unique_id),
    STR("reply_q", reply_q),
    STR("exchange", exchange),
    STR("routing_key", routing_key),
    STR("topic", topic),
    STR("server", server),
    STR("method", method),
    STR("namespace", namespace_),
    STR("version", version),
    FN("status", w_status),
    FN("latency_ms", w_latency_ms),
    FN("latency_from", w_latency_from),
    FN("latency_to", w_latency_to),
    MS("queue_wait_ms", queue_wait_ms),
    MS("server_ms", server_ms),
    FN("timeout_s", w_timeout_s),
    FN("late_reply", w_late_reply),
    FN("replies", w_replies),
    FN("heartbeats", w_heartbeats),
    FN("timeline", w_timeline),
    FN("error", w_error),
    STR("request_id", request_id),
    STR("global_request_id", global_request_id),
    FN("client", w_client),
    FN("server_peer", w_server_peer),
    FN("fanout_receivers", w_fanout_receivers),
    FN("verdict", w_verdict),
    FN("slow_in", w_slow_in),
    FN("client_process", w_client_process),
    FN("server_process", w_server_process),
    STR_IF("event_type", event_type, is_notification),
    STR_IF("priority", priority, is_notification),
    STR_IF("publisher_id", publisher_id, is_notification),
    STR_IF("message_id", message_id, is_notification),
    BODY("args", args_json),
    BODY("result", result_json),
    BODY("context", context_json),
    {"body_truncated", F_FN, 0, w_true, body_was_cut},
};

static void write_field(struct jbuf *b, const struct field *f, const struct op *op)
{
    const char *member = (const char *)op + f->off;
    const char *s;
    uint64_t ns;
    double ms;
    switch (f->kind) {
    case F_STR:
    case F_BODY:
        memcpy(&s, member, sizeof s);
        if (f->kind == F_STR)
            jb_str(b, s);
        else
            jb_json_text(b, s);
        break;
    case F_TS:
        memcpy(&ns, member, sizeof ns);
        ts(b, ns);
        break;
    case F_MS:
        memcpy(&ms, member, sizeof ms);
        if (ms >= 0)
            jb_real(b, ms);
        else
            jb_lit(b, "null");
        break;
    case F_FN:
        f->write(b, op);
        break;
    }
}

/* {"request_publish": "node-a", ...}: the node of every leg, null when not seen. */
static void w_nodes(struct jbuf *b, const struct op *op, const char *const *names, size_t n)
{
    jb_lit(b, "{");
    for (int l = 0; l < LEG_COUNT; l++) {
        jb_key(b, op_leg_name((enum op_leg)l), l == 0);
        bool seen = op->timeline[l] && op->leg_conn[l] && op->leg_source[l] < n;
        jb_str(b, seen ? names[op->leg_source[l]] : NULL);
    }
    jb_lit(b, "}");
}

/* The record's object, appended to b. */
static void write_record(struct jbuf *b, const struct op *op, const char *const *names,
                         size_t nnames)
{
    bool first = true;
    jb_lit(b, "{");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].when && !fields[i].when(op))
            continue;
        jb_key(b, fields[i].key, first);
        write_field(b, &fields[i], op);
        first = false;
        if (names && fields[i].write == w_timeline) {
            jb_key(b, "nodes", false);
            w_nodes(b, op, names, nnames);
        }
    }
    jb_lit(b, "}");
}

bool ndjson_format_op_nodes(const struct op *op, const char *const *names, size_t nnames,
                            char **line, size_t *len)
{
    struct jbuf b = {0};
    write_record(&b, op, names, nnames);
    return jb_finish(&b, line, len);
}

bool ndjson_format_op(const struct op *op, char **line, size_t *len)
{
    return ndjson_format_op_nodes(op, NULL, 0, line, len);
}

/* A record and its newline through b, a buffer kept from one record to the
 * next (no allocation per record once it has grown); one write per line. */
static bool write_op(FILE *out, struct jbuf *b, const struct op *op, const char *const *names,
                     size_t nnames, bool flush)
{
    b->len = 0;
    b->failed = false;
    write_record(b, op, names, nnames);
    jb_put(b, "\n", 1);
    bool ok = !b->failed && fwrite(b->p, 1, b->len, out) == b->len;
    if (b->cap > NDJSON_BUF_KEEP) { /* one record with huge --args bodies: let it go */
        free(b->p);
        *b = (struct jbuf){0};
    }
    if (flush && fflush(out) != 0)
        ok = false;
    return ok;
}

bool ndjson_write_op(FILE *out, const struct op *op, bool flush)
{
    struct jbuf b = {0};
    bool ok = write_op(out, &b, op, NULL, 0, flush);
    free(b.p);
    return ok;
}

static void ms_or_null(struct jbuf *b, const char *key, const struct hist *h, double p)
{
    jb_key(b, key, false);
    if (h->count)
        jb_real(b, p < 0 ? (double)h->max / 1e6 : hist_percentile_ms(h, p));
    else
        jb_lit(b, "null");
}

/* The fields only some events have (docs/json.md), after the common ones. */
static void broker_event_extra(struct jbuf *b, const struct amqp_broker_event *ev)
{
    if (!strcmp(ev->event, "basic.nack")) {
        jb_key(b, "delivery_tag", false);
        jb_int(b, (long long)ev->delivery_tag);
        jb_key(b, "messages", false);
        jb_int(b, (long long)ev->messages);
        jb_key(b, "latency_ms", false);
        jb_real(b, (double)ev->latency_ns / 1e6);
    } else if (ev->confirms) {
        const struct amqp_confirm_stats *c = ev->confirms;
        jb_key(b, "published", false);
        jb_int(b, (long long)c->published);
        jb_key(b, "acked", false);
        jb_int(b, (long long)c->acked);
        jb_key(b, "nacked", false);
        jb_int(b, (long long)c->nacked);
        jb_key(b, "unconfirmed", false);
        jb_int(b, (long long)ev->unconfirmed);
        jb_key(b, "forgotten", false);
        jb_int(b, (long long)c->forgotten);
        ms_or_null(b, "confirm_p50_ms", &c->latency, 50);
        ms_or_null(b, "confirm_p99_ms", &c->latency, 99);
        ms_or_null(b, "confirm_max_ms", &c->latency, -1);
    } else if (!strcmp(ev->event, "redelivery")) {
        jb_key(b, "delivery_tag", false);
        jb_int(b, (long long)ev->delivery_tag);
        jb_key(b, "delivery_count", false);
        if (ev->delivery_count)
            jb_int(b, (long long)ev->delivery_count);
        else
            jb_lit(b, "null");
    } else if (!strcmp(ev->event, "connection_churn")) {
        jb_key(b, "minute", false);
        ts(b, ev->minute_ns);
        jb_key(b, "opened", false);
        jb_int(b, ev->opened);
        jb_key(b, "closed", false);
        jb_int(b, ev->closed);
    }
}

bool ndjson_format_broker_event(const struct amqp_broker_event *ev, char **line, size_t *len)
{
    struct jbuf b = {0};
    char proc[OP_PROCESS_MAX];
    jb_lit(&b, "{");
    jb_key(&b, "schema", true);
    jb_int(&b, NDJSON_SCHEMA);
    jb_key(&b, "type", false);
    jb_str(&b, "broker_event");
    jb_key(&b, "ts", false);
    ts(&b, ev->ts_ns);
    jb_key(&b, "event", false);
    jb_str(&b, ev->event);
    struct op_peer p = {0};
    if (ev->conn) {
        p.known = true;
        p.addr = ev->conn->client;
        p.connection_name = ev->conn->connection_name;
    }
    jb_key(&b, "connection", false);
    peer(&b, &p);
    /* The process, named as in an operation record's client_process. */
    struct op o = {0};
    o.client = p;
    jb_key(&b, "process", false);
    jb_str(&b, ev->process ? ev->process : op_client_process(&o, proc, sizeof proc));
    jb_key(&b, "channel", false);
    jb_int(&b, ev->channel);
    jb_key(&b, "reply_code", false);
    if (ev->reply_code)
        jb_int(&b, ev->reply_code);
    else
        jb_lit(&b, "null");
    char text[256];
    snprintf(text, sizeof text, "%.*s", (int)(ev->reply_text.len < 255 ? ev->reply_text.len : 255),
             ev->reply_text.p ? (const char *)ev->reply_text.p : "");
    jb_key(&b, "reply_text", false);
    jb_str(&b, ev->reply_text.p ? text : NULL);
    jb_key(&b, "failed_method", false);
    jb_str(&b, ev->failed_method);
    bool queue = ev->name_kind && !strcmp(ev->name_kind, "queue");
    jb_key(&b, "queue", false);
    jb_str(&b, queue ? ev->name : NULL);
    jb_key(&b, "exchange", false);
    jb_str(&b, !queue && ev->name_kind ? ev->name : NULL);
    broker_event_extra(&b, ev);
    jb_lit(&b, "}");
    return jb_finish(&b, line, len);
}

/* ---- the sink: -j ---- */

struct ndjson_sink {
    struct sink_env env;
    struct jbuf line; /* reused for every record */
    const char *names[ENGINE_MAX_FILES]; /* several files: each one's node */
    size_t nnames;
    struct start_order *order; /* --sort-start, else NULL */
};

static void emit_held(void *user, uint64_t start_ns, const char *text, size_t len)
{
    const struct ndjson_sink *st = user;
    (void)start_ns;
    fwrite(text, 1, len, st->env.out);
    if (st->env.flush_lines)
        fflush(st->env.out);
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    /* -q: no per-operation output of any kind (so -q --report -j leaves the
     * report as the one JSON document on stdout); --amqp -j: AMQP records only. */
    if (!env->o->json || env->o->quiet || env->o->amqp || env->o->flow_id || env->o->flows)
        return NULL;
    struct ndjson_sink *st = sink_state_new(sizeof *st, env, err, errlen);
    const struct pipeline_clock *pc = st && env->p ? pipeline_clock(env->p) : NULL;
    for (size_t i = 0; pc && i < pc->n; i++)
        st->names[st->nnames++] = pc->node[i].name;
    if (st) {
        st->order = start_order_open(env, emit_held, st, err, errlen);
        if (!st->order && err[0]) {
            free(st);
            return NULL;
        }
    }
    return st;
}

static void sink_on_op(void *s, const struct op *op)
{
    struct ndjson_sink *st = s;
    if (st->order) {
        char *line = NULL;
        size_t len;
        if (ndjson_format_op_nodes(op, st->nnames ? st->names : NULL, st->nnames, &line, &len)) {
            line[len] = '\n'; /* over the NUL */
            start_order_add_op(st->order, &st->env, op, line, len + 1);
            free(line);
        }
        return;
    }
    write_op(st->env.out, &st->line, op, st->nnames ? st->names : NULL, st->nnames,
             st->env.flush_lines);
}

static void sink_tick(void *s, double now)
{
    struct ndjson_sink *st = s;
    (void)now;
    if (st->order)
        start_order_tick(st->order, &st->env);
}

static bool sink_finish(void *s)
{
    struct ndjson_sink *st = s;
    if (st->order)
        start_order_finish(st->order);
    return true;
}

static void sink_close(void *s)
{
    struct ndjson_sink *st = s;
    start_order_free(st->order);
    free(st->line.p);
    free(st);
}

static void sink_on_broker_event(void *s, const struct amqp_broker_event *ev)
{
    const struct sink_env *env = s;
    char *line = NULL;
    size_t len;
    if (!env->o->broker_events) /* opt-in: -j streams stay operations only */
        return;
    if (!ndjson_format_broker_event(ev, &line, &len))
        return;
    line[len] = '\n';
    fwrite(line, 1, len + 1, env->out);
    free(line);
    if (env->flush_lines)
        fflush(env->out);
}

const struct sink ndjson_sink = {.name = "ndjson",
                                 .open = sink_open,
                                 .on_op = sink_on_op,
                                 .tick = sink_tick,
                                 .finish = sink_finish,
                                 .close = sink_close,
                                 .on_broker_event = sink_on_broker_event};

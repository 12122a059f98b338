/*
 * text.c: one aligned line per operation, tcpdump style:
 *   time type topic[.server] method status latency client > server request_id [error]
 * The first six columns fit in 80 columns (a notification's event type is
 * never cut: its column grows); addresses and ids follow. Colour
 * marks the status only, and only on a terminal without NO_COLOR. With
 * --args, indented lines after it carry the arguments and the result.
 */
#include "ui/text.h"
#include "ui/start_order.h"
#include "ui/text_broker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void text_format_time(uint64_t ts_ns, char *buf, size_t len)
{
    time_t sec = (time_t)(ts_ns / 1000000000u);
    struct tm tm;
    localtime_r(&sec, &tm);
    snprintf(buf, len, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(ts_ns % 1000000000u / 1000u));
}

void text_format_latency(const struct op *op, char *buf, size_t len)
{
    if (!op->has_latency)
        snprintf(buf, len, "-");
    else if (op->latency_ms < 1000.0)
        snprintf(buf, len, "%.2fms", op->latency_ms);
    else
        snprintf(buf, len, "%.3fs", op->latency_ms / 1000.0);
}

void text_format_target(const struct op *op, char *buf, size_t len)
{
    const char *topic = op->topic ? op->topic : "-";
    if (op->server)
        snprintf(buf, len, "%s.%s", topic, op->server);
    else
        snprintf(buf, len, "%s", topic);
}

bool text_use_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && nc[0])
        return false;
    return isatty(fileno(f));
}

bool text_color_wanted(int mode, FILE *f)
{
    if (mode == TEXT_COLOR_ALWAYS)
        return true;
    if (mode == TEXT_COLOR_NEVER)
        return false;
    return text_use_color(f);
}

static const char *status_color(enum op_status s)
{
    switch (s) {
    case OP_OK:
        return "\033[32m";
    case OP_ERROR:
    case OP_UNROUTABLE:
        return "\033[31m";
    case OP_TIMEOUT:
    case OP_EVICTED:
        return "\033[33m";
    default:
        return "\033[36m";
    }
}

static const char *short_type(enum op_type t)
{
    return t == OP_NOTIFICATION ? "notif" : op_type_name(t);
}

static void format_peer(const struct op_peer *p, char *buf, size_t len)
{
    if (p->known)
        netaddr_format(&p->addr, buf, len);
    else
        snprintf(buf, len, "?");
}

/* Writes s in exactly `width` columns: padded, or cut with "…" so the columns
 * after it stay aligned (the full value is in -j). ASCII-width assumption is
 * fine for oslo names, which are identifiers. */
static void put_fit(FILE *out, const char *s, int width)
{
    int len = (int)strlen(s);
    if (len <= width)
        fprintf(out, "%-*s", width, s);
    else
        fprintf(out, "%.*s…", width - 1, s);
}

void text_write_op(FILE *out, const struct op *op, bool color)
{
    struct text_clock clock;
    char stamp[TEXT_STAMP_MAX];
    text_clock_init(&clock, TEXT_TIME_DEFAULT);
    text_clock_stamp(&clock, op->ts_ns, stamp, sizeof stamp);
    text_write_op_stamped(out, op, color, stamp);
}

void text_write_op_stamped(FILE *out, const struct op *op, bool color, const char *stamp)
{
    char target[256], lat[32], client[NETADDR_STRLEN], server[NETADDR_STRLEN];
    text_format_target(op, target, sizeof target);
    text_format_latency(op, lat, sizeof lat);
    format_peer(&op->client, client, sizeof client);
    format_peer(&op->server_peer, server, sizeof server);
    const char *method = op->type == OP_NOTIFICATION ? op->event_type : op->method;
    const char *status = op_status_name(op->status);

    fprintf(out, "%s%-6s ", stamp, short_type(op->type));
    put_fit(out, target, 18);
    fputc(' ', out);
    /* An event type is the one name a user greps for whole: its column grows. */
    if (op->type == OP_NOTIFICATION)
        fprintf(out, "%-20s", method ? method : "-");
    else
        put_fit(out, method ? method : "-", 20);
    fputc(' ', out);
    if (color)
        fprintf(out, "%s%-7s\033[0m", status_color(op->status), status);
    else
        fprintf(out, "%-7s", status);
    fprintf(out, " %9s %s > %s", lat, client, server);
    if (op->request_id)
        fprintf(out, " %s", op->request_id);
    if (op->late_reply)
        fputs(" late-reply", out);
    if (op->status == OP_ERROR && op->error_class)
        fprintf(out, " %s: %.120s", op->error_class, op->error_message ? op->error_message : "");
    /* Diagnosis (docs/json.md): why, where the time went, who asked, who served. */
    char cp[OP_PROCESS_MAX], sp[OP_PROCESS_MAX];
    const char *cproc = op_client_process(op, cp, sizeof cp);
    const char *sproc = op_server_process(op, sp, sizeof sp);
    if (op->type == OP_CALL && op_verdict_name(op->verdict))
        fprintf(out, " verdict=%s", op_verdict_name(op->verdict));
    if (op_slow_name(op->slow_in))
        fprintf(out, " slow_in=%s", op_slow_name(op->slow_in));
    /* A name with a space (pika apps name connections freely) is quoted. */
    const char *cq = cproc && strchr(cproc, ' ') ? "\"" : "";
    const char *sq = sproc && strchr(sproc, ' ') ? "\"" : "";
    fprintf(out, " by=%s%s%s on=%s%s%s", cq, cproc ? cproc : "?", cq, sq, sproc ? sproc : "?", sq);
    if (op->type == OP_FANOUT)
        fprintf(out, " receivers=%u", op->fanout_receivers);
    if (op->dialect != OP_DIALECT_OSLO)
        fprintf(out, " dialect=%s", op_dialect_name(op->dialect));
    fputc('\n', out);
}

/* One indented continuation line, like tcpdump -v's: "    args: {...}". The
 * JSON text is already redacted (dissect/redact.c); it is one line, but a
 * newline would break the one-line-per-item shape, so it becomes a blank. */
static void put_body(FILE *out, const char *label, const char *json)
{
    fprintf(out, "    %s: ", label);
    for (const char *c = json; *c; c++)
        fputc(*c == '\n' || *c == '\r' ? ' ' : *c, out);
    fputc('\n', out);
}

void text_write_bodies(FILE *out, const struct op *op)
{
    const char *args_label = op->type == OP_NOTIFICATION ? "payload" : "args";
    if (op->body_truncated && !op->args_json && !op->result_json) {
        fprintf(out, "    %s: (not kept: the body is longer than --max-body)\n", args_label);
        return;
    }
    if (op->args_json)
        put_body(out, args_label, op->args_json);
    /* An answered call always has a result, JSON null included. */
    if (op->result_json || (op->type == OP_CALL && op->status == OP_OK))
        put_body(out, "result", op->result_json ? op->result_json : "null");
}

/* ---- the sink: the default output ---- */

struct text_sink_state {
    struct sink_env env;
    struct text_clock clock; /* -t ... -ttttt */
    struct start_order *order; /* --sort-start, else NULL */
};

/* A line let go by --sort-start: stamped now, so -ttt's deltas follow the
 * printed order. */
static void emit_held(void *user, uint64_t start_ns, const char *text, size_t len)
{
    struct text_sink_state *st = user;
    char stamp[TEXT_STAMP_MAX];
    text_clock_stamp(&st->clock, start_ns, stamp, sizeof stamp);
    fputs(stamp, st->env.out);
    fwrite(text, 1, len, st->env.out);
    if (st->env.flush_lines)
        fflush(st->env.out);
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    const struct cli_options *o = env->o;
    if (o->json || o->quiet || o->report || o->amqp || o->tui || o->flow_id || o->flows)
        return NULL;
    struct text_sink_state *st = sink_state_new(sizeof *st, env, err, errlen);
    if (!st)
        return NULL;
    text_clock_init(&st->clock, (enum text_time_mode)o->time_format);
    st->order = start_order_open(env, emit_held, st, err, errlen);
    if (!st->order && err[0]) {
        free(st);
        return NULL;
    }
    return st;
}

static void sink_on_op(void *s, const struct op *op)
{
    struct text_sink_state *st = s;
    const struct sink_env *env = &st->env;
    if (st->order) { /* rendered now (the op dies with this call), stamped when let go */
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (mem) {
            text_write_op_stamped(mem, op, env->color, "");
            if (env->o->args)
                text_write_bodies(mem, op);
            if (fclose(mem) == 0 && text) {
                start_order_add_op(st->order, env, op, text, len);
                free(text);
                return;
            }
            free(text);
        }
    }
    char stamp[TEXT_STAMP_MAX];
    text_clock_stamp(&st->clock, op->ts_ns, stamp, sizeof stamp);
    text_write_op_stamped(env->out, op, env->color, stamp);
    if (env->o->args)
        text_write_bodies(env->out, op);
    if (env->flush_lines)
        fflush(env->out);
}

static void sink_on_broker_event(void *s, const struct amqp_broker_event *ev)
{
    const struct sink_env *env = s;
    if (!env->o->broker_events) /* opt-in, as with -j */
        return;
    text_write_broker_event(env->out, ev);
    if (env->flush_lines)
        fflush(env->out);
}

static void sink_tick(void *s, double now)
{
    struct text_sink_state *st = s;
    (void)now;
    if (st->order)
        start_order_tick(st->order, &st->env);
}

static bool sink_finish(void *s)
{
    struct text_sink_state *st = s;
    if (st->order)
        start_order_finish(st->order);
    return true;
}

static void sink_close(void *s)
{
    struct text_sink_state *st = s;
    start_order_free(st->order);
    free(st);
}

const struct sink text_sink = {.name = "text",
                               .open = sink_open,
                               .on_op = sink_on_op,
                               .tick = sink_tick,
                               .finish = sink_finish,
                               .close = sink_close,
                               .on_broker_event = sink_on_broker_event};

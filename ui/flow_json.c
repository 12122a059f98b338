/*
 * flow_json.c: -j with --flows (or --flow REQ_ID): one JSON object per flow,
 * written when the flow ends: its request ids, its ops in publish order with
 * their parent links and legs, per-process time, the critical path and the
 * worst status (docs/json.md, "The flow record"). Written through
 * common/json_buf like the operation records.
 */
#include "ui/flow_json.h"

#include <stdlib.h>
#include <string.h>

#include "common/json_buf.h"

struct flow_json {
    struct sink_env env;
    struct jbuf b;
};

static void str_or_null(struct jbuf *b, const char *key, const char *v)
{
    jb_key(b, key, false);
    if (v)
        jb_str(b, v);
    else
        jb_lit(b, "null");
}

/* Seconds since the epoch, microseconds kept (as the operation records). */
static void ts(struct jbuf *b, uint64_t ns)
{
    if (ns)
        jb_real(b, (double)(ns / 1000u) / 1e6);
    else
        jb_lit(b, "null");
}

static void ms(struct jbuf *b, double v)
{
    jb_real(b, (double)(long long)(v * 1000.0 + 0.5) / 1000.0);
}

static void write_op(struct jbuf *b, const struct flow *f, size_t i)
{
    const struct flow_op *o = &f->ops[i];
    jb_lit(b, "{");
    jb_key(b, "i", true);
    jb_int(b, (long long)i);
    str_or_null(b, "type", op_type_name(o->type));
    str_or_null(b, "status", op_status_name(o->status));
    str_or_null(b, "verdict", op_verdict_name(o->verdict));
    jb_key(b, "parent", false);
    if (o->parent >= 0)
        jb_int(b, o->parent);
    else
        jb_lit(b, "null");
    jb_key(b, "depth", false);
    jb_int(b, o->depth);
    str_or_null(b, "topic", o->topic);
    str_or_null(b, "server", o->server);
    str_or_null(b, "method", o->method);
    str_or_null(b, "event_type", o->event_type);
    str_or_null(b, "msg_id", o->msg_id);
    str_or_null(b, "unique_id", o->unique_id);
    str_or_null(b, "message_id", o->message_id);
    str_or_null(b, "request_id", o->request_id);
    str_or_null(b, "global_request_id", o->global_request_id);
    str_or_null(b, "client_process", o->client);
    str_or_null(b, "server_process", o->server_proc);
    jb_key(b, "ts", false);
    ts(b, o->timeline[LEG_REQUEST_PUBLISH] ? o->timeline[LEG_REQUEST_PUBLISH] : o->ts_ns);
    jb_key(b, "latency_ms", false);
    if (o->latency_ms >= 0)
        ms(b, o->latency_ms);
    else
        jb_lit(b, "null");
    jb_key(b, "late_reply", false);
    jb_bool(b, o->late_reply);
    str_or_null(b, "error_class", o->error_class);
    jb_key(b, "timeline", false);
    jb_lit(b, "{");
    for (int l = 0; l < LEG_COUNT; l++) {
        jb_key(b, op_leg_name((enum op_leg)l), l == 0);
        ts(b, o->timeline[l]);
    }
    jb_lit(b, "}}");
}

static void write_flow(struct jbuf *b, const struct flow *f)
{
    jb_lit(b, "{");
    jb_key(b, "schema", true);
    jb_int(b, 1);
    str_or_null(b, "type", "flow");
    jb_key(b, "flow", false);
    jb_int(b, (long long)f->seq);
    jb_key(b, "request_ids", false);
    jb_lit(b, "[");
    for (size_t i = 0; i < f->nids; i++) {
        if (i)
            jb_lit(b, ",");
        jb_str(b, f->ids[i]);
    }
    jb_lit(b, "]");
    jb_key(b, "start", false);
    ts(b, f->start_ns);
    jb_key(b, "end", false);
    ts(b, f->end_ns);
    jb_key(b, "total_ms", false);
    ms(b, flow_total_ms(f));
    str_or_null(b, "worst_status", op_status_name(f->worst));
    jb_key(b, "evicted", false);
    jb_bool(b, f->evicted);
    jb_key(b, "ops_dropped", false);
    jb_int(b, (long long)f->ops_dropped);
    jb_key(b, "ops", false);
    jb_lit(b, "[");
    for (size_t i = 0; i < f->nops; i++) {
        if (i)
            jb_lit(b, ",");
        write_op(b, f, i);
    }
    jb_lit(b, "]");
    jb_key(b, "processes", false);
    jb_lit(b, "[");
    for (size_t i = 0; i < f->nprocs; i++) {
        const struct flow_proc *p = &f->procs[i];
        jb_lit(b, i ? ",{" : "{");
        jb_key(b, "name", true);
        jb_str(b, p->name);
        jb_key(b, "sent", false);
        jb_int(b, p->sent);
        jb_key(b, "handled", false);
        jb_int(b, p->handled);
        jb_key(b, "handling_ms", false);
        ms(b, p->handling_ms);
        jb_key(b, "self_ms", false);
        ms(b, p->self_ms);
        jb_lit(b, "}");
    }
    jb_lit(b, "]");
    jb_key(b, "critical_path", false);
    jb_lit(b, "[");
    for (size_t i = 0; i < f->ncrit; i++) {
        if (i)
            jb_lit(b, ",");
        jb_int(b, (long long)f->crit[i]);
    }
    jb_lit(b, "]}\n");
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    const struct cli_options *o = env->o;
    if (o->tui || !o->json || o->amqp || (!o->flow_id && !o->flows))
        return NULL;
    return sink_state_new(sizeof(struct flow_json), env, err, errlen);
}

static void sink_on_flow(void *s, const struct flow *f)
{
    struct flow_json *j = s;
    if (j->env.o->flow_id && !flow_has_id(f, j->env.o->flow_id))
        return;
    j->b.len = 0;
    j->b.failed = false;
    write_flow(&j->b, f);
    if (!j->b.failed && j->b.len)
        fwrite(j->b.p, 1, j->b.len, j->env.out);
    if (j->env.flush_lines)
        fflush(j->env.out);
}

static void sink_close(void *s)
{
    struct flow_json *j = s;
    free(j->b.p);
    free(j);
}

const struct sink flow_json_sink = {
    .name = "flow_json",
    .open = sink_open,
    .on_flow = sink_on_flow,
    .close = sink_close,
};

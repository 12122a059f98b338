/*
 * sinks.c: the table of outputs and the set that fans the engine's events
 * out to the open ones (see sink.h). The table's order is the order in which
 * an operation reaches them: the writers mark its packets before the report
 * counts it and before a line is printed.
 */
#include "ui/sink.h"

#include <stdlib.h>
#include <string.h>

#include "ui/amqp_view.h"
#include "ui/flow_json.h"
#include "ui/flow_text.h"
#include "ui/live_writer.h"
#include "ui/metrics.h"
#include "ui/ndjson.h"
#include "ui/output.h"
#include "ui/report.h"
#include "ui/status_line.h"
#include "ui/text.h"
#include "ui/writer.h"

const struct sink *const sink_table[] = {
    &output_sink,      /* --output FILE, write failures of stdout; first: finishes last */
    &writer_sink,      /* -w, reading a file: written in a second pass at the end */
    &live_writer_sink, /* -w, live: a ring of recent packets */
    &status_line_sink, /* live: the counters line at the end */
    &limit_warn_sink,  /* the first eviction of each table, once on stderr */
    &report_sink,      /* --report, --report-interval */
    &metrics_sink,     /* --metrics-listen, --metrics-file */
    &ndjson_sink,      /* -j */
    &text_sink,        /* the default: one line per operation */
    &amqp_view_sink,   /* --amqp */
    &flow_text_sink,   /* --flow REQ_ID, --flows: ladders, a line per flow */
    &flow_json_sink,   /* -j --flows: a record per flow */
    NULL,
};

void *sink_state_new(size_t size, const struct sink_env *env, char *err, size_t errlen)
{
    void *st = calloc(1, size < sizeof *env ? sizeof *env : size);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(st, env, sizeof *env);
    return st;
}

static void set_op(void *user, const struct op *op)
{
    struct sink_set *set = user;
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->on_op)
            set->rows[i]->on_op(set->state[i], op);
}

static void set_method(void *user, const struct amqp_method_event *ev)
{
    struct sink_set *set = user;
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->on_method)
            set->rows[i]->on_method(set->state[i], ev);
}

static void set_conn(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct sink_set *set = user;
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->on_conn)
            set->rows[i]->on_conn(set->state[i], info, ev);
}

static void set_broker_event(void *user, const struct amqp_broker_event *ev)
{
    struct sink_set *set = user;
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->on_broker_event)
            set->rows[i]->on_broker_event(set->state[i], ev);
}

static void set_flow(void *user, const struct flow *f)
{
    struct sink_set *set = user;
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->on_flow)
            set->rows[i]->on_flow(set->state[i], f);
}

static void set_packet(void *user, const struct packet *pkt)
{
    struct sink_set *set = user;
    if (!set->any_packet) /* the usual case: no sink keeps packets */
        return;
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->on_packet)
            set->rows[i]->on_packet(set->state[i], pkt);
}

struct pipeline_sinks sink_set_callbacks(struct sink_set *set)
{
    memset(set, 0, sizeof *set);
    return (struct pipeline_sinks){.on_op = set_op,
                                   .on_method = set_method,
                                   .on_conn = set_conn,
                                   .user = set,
                                   .on_packet = set_packet,
                                   .on_broker_event = set_broker_event,
                                   .on_flow = set_flow};
}

static bool add(struct sink_set *set, const struct sink *row, const struct sink_env *env, char *err,
                size_t errlen)
{
    err[0] = '\0';
    void *s = row->open(env, err, errlen);
    if (!s)
        return err[0] == '\0';
    if (set->n == SINK_SET_MAX) {
        snprintf(err, errlen, "too many outputs");
        if (row->close)
            row->close(s);
        return false;
    }
    set->rows[set->n] = row;
    set->state[set->n] = s;
    set->n++;
    if (row->on_packet)
        set->any_packet = true;
    return true;
}

bool sink_set_open(struct sink_set *set, const struct sink_env *env, const struct sink *extra,
                   char *err, size_t errlen)
{
    for (size_t i = 0; sink_table[i]; i++)
        if (!add(set, sink_table[i], env, err, errlen))
            return false;
    return !extra || add(set, extra, env, err, errlen);
}

void sink_set_tick(struct sink_set *set, double now)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->tick)
            set->rows[i]->tick(set->state[i], now);
}

void sink_set_reopen(struct sink_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->rows[i]->reopen)
            set->rows[i]->reopen(set->state[i]);
}

bool sink_set_finish(struct sink_set *set)
{
    bool ok = true;
    for (size_t i = set->n; i-- > 0;)
        if (set->rows[i]->finish && !set->rows[i]->finish(set->state[i]))
            ok = false;
    return ok;
}

void sink_set_close(struct sink_set *set)
{
    for (size_t i = set->n; i-- > 0;)
        if (set->rows[i]->close)
            set->rows[i]->close(set->state[i]);
    set->n = 0;
    set->any_packet = false;
}

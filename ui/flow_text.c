/*
 * flow_text.c: flows as text. `--flow REQ_ID` prints the ladder of the flow
 * holding that request id (or global request id): a summary line, the
 * columns, one row per leg, then the time each process spent and the
 * critical path. `--flows` without -j prints one line per flow as it ends.
 * Flows come from the engine's flow table (dissect/flow.h) when they end.
 */
#include "ui/flow_text.h"

#include <stdlib.h>
#include <string.h>

#include "ui/flow_ladder.h"
#include "ui/text.h"

struct flow_text {
    struct sink_env env;
    size_t shown;
};

static void ids_text(const struct flow *f, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->nids && n < len; i++) {
        int k = snprintf(buf + n, len - n, "%s%s", i ? "," : "", f->ids[i]);
        if (k < 0)
            break;
        n += (size_t)k;
    }
}

static void summary(FILE *out, const struct flow *f)
{
    char ts[32], ids[512], first[256];
    text_format_time(f->start_ns, ts, sizeof ts);
    ids_text(f, ids, sizeof ids);
    if (f->nops)
        flow_op_title(f, 0, first, sizeof first);
    else
        snprintf(first, sizeof first, "-");
    fprintf(out, "%s flow %llu %-7s %10.3fms %3zu ops %2zu processes  %s  %s%s\n", ts,
            (unsigned long long)f->seq, op_status_name(f->worst), flow_total_ms(f), f->nops,
            f->nprocs, first + (first[0] == '#' ? 3 : 0), ids, f->evicted ? " (evicted)" : "");
}

void flow_text_write_ladder(FILE *out, const struct flow *f, int width)
{
    char ts[32], ids[512];
    text_format_time(f->start_ns, ts, sizeof ts);
    ids_text(f, ids, sizeof ids);
    fprintf(out, "flow %llu  %s  start %s  %.3fms  %zu ops  worst %s%s\n",
            (unsigned long long)f->seq, ids, ts, flow_total_ms(f), f->nops,
            op_status_name(f->worst), f->evicted ? "  (evicted: the flow table was full)" : "");
    if (f->ops_dropped)
        fprintf(out, "  (%llu more ops not kept: a flow keeps at most the first ones)\n",
                (unsigned long long)f->ops_dropped);
    struct ladder l;
    if (!flow_ladder_build(&l, f)) {
        fprintf(out, "  (out of memory drawing the ladder)\n");
        return;
    }
    char line[2048];
    flow_ladder_header(&l, width, line, sizeof line);
    fprintf(out, "%s\n", line);
    for (size_t i = 0; i < l.nrows; i++) {
        flow_ladder_line(&l, i, width, line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    flow_ladder_free(&l);
    fprintf(out, "processes:\n");
    for (size_t i = 0; i < f->nprocs; i++) {
        const struct flow_proc *p = &f->procs[i];
        fprintf(out, "  %-32s sent %3u  handled %3u  handling %10.3fms  self %10.3fms\n", p->name,
                p->sent, p->handled, p->handling_ms, p->self_ms);
    }
    fprintf(out, "critical path:");
    for (size_t i = 0; i < f->ncrit; i++) {
        char t[256];
        flow_op_title(f, f->crit[i], t, sizeof t);
        fprintf(out, "%s %s", i ? " >" : "", t);
    }
    fprintf(out, "\n\n");
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    const struct cli_options *o = env->o;
    if (o->tui || o->json || o->amqp || (!o->flow_id && !o->flows))
        return NULL;
    return sink_state_new(sizeof(struct flow_text), env, err, errlen);
}

static void sink_on_flow(void *s, const struct flow *f)
{
    struct flow_text *t = s;
    const struct cli_options *o = t->env.o;
    if (o->flow_id) {
        if (!flow_has_id(f, o->flow_id))
            return;
        flow_text_write_ladder(t->env.out, f, 0);
    } else {
        summary(t->env.out, f);
    }
    t->shown++;
    if (t->env.flush_lines)
        fflush(t->env.out);
}

static bool sink_finish(void *s)
{
    struct flow_text *t = s;
    if (t->env.o->flow_id && !t->shown)
        fprintf(stderr, "oslotrace: no flow holds request id %s\n", t->env.o->flow_id);
    return true;
}

const struct sink flow_text_sink = {
    .name = "flow_text",
    .open = sink_open,
    .on_flow = sink_on_flow,
    .finish = sink_finish,
    .close = free,
};

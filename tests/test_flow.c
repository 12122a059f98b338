/*
 * test_flow.c: the flow table fed by hand-made ops: grouping by request id,
 * the union through a global request id (and the merge of two open flows),
 * parent links from who handled what when, per-process time, the critical
 * path, the worst status, idle ends, eviction of the least recently active
 * flow and the per-flow op limit, each with its counter.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/flow.h"

#define MS 1000000ull

struct got {
    struct flow *flows[64];
    size_t n;
};

static void on_end(void *user, const struct flow *f)
{
    struct got *g = user;
    assert_true(g->n < 64);
    g->flows[g->n++] = flow_clone(f);
    assert_non_null(g->flows[g->n - 1]);
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        flow_free(g->flows[i]);
    g->n = 0;
}

/* An op from process `from` to process `to` (connection names "<p>:<pid>:<uuid>"),
 * published at t ms, delivered at t+1, replied (calls) at t+r and back at t+r+1. */
static struct op mk(enum op_type type, const char *id, const char *req, const char *greq,
                    const char *from, const char *to, uint64_t t, uint64_t r)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = type;
    op.status = OP_OK;
    op.unique_id = id;
    op.msg_id = type == OP_CALL ? id : NULL;
    op.topic = "conductor";
    op.method = id;
    op.request_id = req;
    op.global_request_id = greq;
    op.client.known = true;
    op.client.connection_name = from;
    op.server_peer.known = to != NULL;
    op.server_peer.connection_name = to;
    op.ts_ns = t * MS;
    op.timeline[LEG_REQUEST_PUBLISH] = t * MS;
    op.timeline[LEG_REQUEST_DELIVER] = to ? (t + 1) * MS : 0;
    if (type == OP_CALL && r) {
        op.timeline[LEG_REPLY_PUBLISH] = (t + r) * MS;
        op.timeline[LEG_REPLY_DELIVER] = (t + r + 1) * MS;
        op.has_latency = true;
        op.latency_ms = (double)(r + 1);
    }
    return op;
}

#define API "nova-api:1:aaaa"
#define COND "nova-conductor:2:bbbb"
#define COND2 "nova-conductor:2:cccc" /* the same process, another connection */
#define SCHED "nova-scheduler:3:dddd"
#define COMP "nova-compute:4:eeee"
#define LIST "ceilometer:5:ffff"

static const struct flow_op *by_id(const struct flow *f, const char *id, int *index)
{
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].unique_id && !strcmp(f->ops[i].unique_id, id)) {
            if (index)
                *index = (int)i;
            return &f->ops[i];
        }
    fail_msg("no op %s", id);
    return NULL;
}

static const char *parent_id(const struct flow *f, const char *id)
{
    const struct flow_op *o = by_id(f, id, NULL);
    return o->parent < 0 ? NULL : f->ops[o->parent].unique_id;
}

/* nova boot, ops handed over in the order they end (not the order they began). */
static void feed_boot(struct flow_table *t, const char *req)
{
    struct op ops[] = {
        /* api → conductor: cast build (t 100), handled from 101 */
        mk(OP_CAST, "build", req, NULL, API, COND, 100, 0),
        /* conductor → scheduler: call select (110 .. 141) */
        mk(OP_CALL, "select", req, NULL, COND2, SCHED, 110, 30),
        /* scheduler notifies while handling select */
        mk(OP_NOTIFICATION, "n1", req, NULL, SCHED, LIST, 115, 0),
        /* conductor → compute: cast run (150) */
        mk(OP_CAST, "run", req, NULL, COND, COMP, 150, 0),
        /* compute → conductor: call update (160 .. 181): the conductor serves it */
        mk(OP_CALL, "update", req, NULL, COMP, COND, 160, 20),
        /* compute notifies at the end (200) */
        mk(OP_NOTIFICATION, "n2", req, NULL, COMP, LIST, 200, 0),
    };
    /* the order ops end in: notifications and casts after their hold, calls at the reply */
    int order[] = {2, 1, 0, 4, 3, 5};
    for (size_t i = 0; i < 6; i++)
        flow_table_add(t, &ops[order[i]], ops[order[i]].ts_ns);
}

static void test_boot_parents(void **state)
{
    (void)state;
    struct got g = {0};
    struct flow_config c;
    flow_config_default(&c);
    struct flow_table *t = flow_table_new(&c, on_end, &g);
    feed_boot(t, "req-1");
    assert_int_equal(flow_table_stats(t)->active, 1);
    flow_table_finish(t);
    assert_int_equal(g.n, 1);
    const struct flow *f = g.flows[0];
    assert_int_equal(f->nops, 6);
    /* in publish order */
    assert_string_equal(f->ops[0].unique_id, "build");
    assert_string_equal(f->ops[5].unique_id, "n2");
    assert_null(parent_id(f, "build"));
    assert_string_equal(parent_id(f, "select"), "build");
    assert_string_equal(parent_id(f, "n1"), "select");
    assert_string_equal(parent_id(f, "run"), "build");
    assert_string_equal(parent_id(f, "update"), "run");
    assert_string_equal(parent_id(f, "n2"), "run");
    assert_int_equal(by_id(f, "n1", NULL)->depth, 2);
    assert_int_equal(f->worst, OP_OK);
    assert_int_equal(f->start_ns, 100 * MS);
    assert_int_equal(f->end_ns, 201 * MS);
    assert_true(flow_total_ms(f) > 100.9 && flow_total_ms(f) < 101.1);
    /* the critical path ends at the op that ended last: n2, via run and build */
    assert_int_equal(f->ncrit, 3);
    assert_string_equal(f->ops[f->crit[0]].unique_id, "build");
    assert_string_equal(f->ops[f->crit[1]].unique_id, "run");
    assert_string_equal(f->ops[f->crit[2]].unique_id, "n2");
    /* per process: the conductor handled build (101 .. its last child's publish, 150)
     * and update (161 .. 180); its own call select took 31 ms of build's time */
    const struct flow_proc *cond = NULL, *api = NULL;
    for (size_t i = 0; i < f->nprocs; i++) {
        if (!strcmp(f->procs[i].name, "nova-conductor:2"))
            cond = &f->procs[i];
        if (!strcmp(f->procs[i].name, "nova-api:1"))
            api = &f->procs[i];
    }
    assert_non_null(cond);
    assert_non_null(api);
    assert_int_equal(cond->handled, 2);
    assert_int_equal(cond->sent, 2);
    assert_int_equal(api->sent, 1);
    assert_int_equal(api->handled, 0);
    assert_true(cond->handling_ms > 67.9 && cond->handling_ms < 68.1); /* 49 + 19 */
    assert_true(cond->self_ms > 36.9 && cond->self_ms < 37.1);         /* 68 - 31 */
    flow_table_free(t);
    got_free(&g);
}

/* A call's reply ends its handling: what its server publishes later is not its child. */
static void test_reply_closes_window(void **state)
{
    (void)state;
    struct got g = {0};
    struct flow_config c;
    flow_config_default(&c);
    struct flow_table *t = flow_table_new(&c, on_end, &g);
    struct op a = mk(OP_CALL, "a", "req-2", NULL, API, COND, 10, 5); /* handled 11 .. 15 */
    struct op b = mk(OP_CAST, "b", "req-2", NULL, COND, COMP, 20, 0);
    struct op inner = mk(OP_CAST, "inner", "req-2", NULL, COND, COMP, 13, 0);
    flow_table_add(t, &a, 0);
    flow_table_add(t, &b, 0);
    flow_table_add(t, &inner, 0);
    flow_table_finish(t);
    assert_int_equal(g.n, 1);
    assert_null(parent_id(g.flows[0], "b"));
    assert_string_equal(parent_id(g.flows[0], "inner"), "a");
    /* another process publishing in a's window is not its child */
    flow_table_free(t);
    got_free(&g);
}

/* Two requests linked by a global id: one flow; and two open flows merged by an op. */
static void test_global_union_and_merge(void **state)
{
    (void)state;
    struct got g = {0};
    struct flow_config c;
    flow_config_default(&c);
    struct flow_table *t = flow_table_new(&c, on_end, &g);
    struct op a = mk(OP_CALL, "attach", "req-A", NULL, API, COMP, 10, 50);
    struct op r = mk(OP_CALL, "reserve", "req-B", "req-A", COMP, "cinder-volume:9:x", 20, 10);
    flow_table_add(t, &r, 0); /* ends first: opens the flow of req-B and req-A */
    flow_table_add(t, &a, 0);
    assert_int_equal(flow_table_stats(t)->active, 1);
    /* two flows open, then an op naming both */
    struct op x = mk(OP_CAST, "x", "req-X", NULL, API, COND, 100, 0);
    struct op y = mk(OP_CAST, "y", "req-Y", NULL, API, COND, 101, 0);
    struct op xy = mk(OP_CAST, "xy", "req-Y", "req-X", COND, COMP, 105, 0);
    flow_table_add(t, &x, 0);
    flow_table_add(t, &y, 0);
    assert_int_equal(flow_table_stats(t)->active, 3);
    flow_table_add(t, &xy, 0);
    assert_int_equal(flow_table_stats(t)->active, 2);
    assert_int_equal(flow_table_stats(t)->merged, 1);
    /* no id at all: in no flow */
    struct op none = mk(OP_CAST, "none", NULL, NULL, API, COND, 5, 0);
    flow_table_add(t, &none, 0);
    assert_int_equal(flow_table_stats(t)->ops_without_id, 1);
    flow_table_finish(t);
    assert_int_equal(g.n, 2);
    const struct flow *fa = flow_has_id(g.flows[0], "req-A") ? g.flows[0] : g.flows[1];
    const struct flow *fx = fa == g.flows[0] ? g.flows[1] : g.flows[0];
    assert_true(flow_has_id(fa, "req-B"));
    assert_int_equal(fa->nops, 2);
    assert_string_equal(parent_id(fa, "reserve"), "attach");
    assert_int_equal(fx->nops, 3);
    assert_true(flow_has_id(fx, "req-X") && flow_has_id(fx, "req-Y"));
    assert_int_equal(fx->nids, 2);
    flow_table_free(t);
    got_free(&g);
}

static void test_worst_status(void **state)
{
    (void)state;
    struct got g = {0};
    struct flow_config c;
    flow_config_default(&c);
    struct flow_table *t = flow_table_new(&c, on_end, &g);
    struct op a = mk(OP_CALL, "a", "req-3", NULL, API, COND, 10, 50);
    struct op b = mk(OP_CALL, "b", "req-3", NULL, COND, COMP, 20, 10);
    b.status = OP_ERROR;
    flow_table_add(t, &b, 0);
    flow_table_add(t, &a, 0);
    struct op d = mk(OP_CALL, "d", "req-4", NULL, API, COND, 10, 0);
    d.status = OP_TIMEOUT;
    struct op e = mk(OP_CALL, "e", "req-4", NULL, API, COND, 11, 2);
    e.status = OP_ERROR;
    flow_table_add(t, &e, 0);
    flow_table_add(t, &d, 0);
    flow_table_finish(t);
    assert_int_equal(g.n, 2);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(g.flows[i]->worst,
                         flow_has_id(g.flows[i], "req-3") ? OP_ERROR : OP_TIMEOUT);
    /* a call whose reply ends the flow: the path goes on down to its inner call */
    const struct flow *f3 = flow_has_id(g.flows[0], "req-3") ? g.flows[0] : g.flows[1];
    assert_int_equal(f3->ncrit, 2);
    assert_string_equal(f3->ops[f3->crit[0]].unique_id, "a");
    assert_string_equal(f3->ops[f3->crit[1]].unique_id, "b");
    assert_true(flow_status_rank(OP_TIMEOUT) > flow_status_rank(OP_ERROR));
    assert_true(flow_status_rank(OP_ERROR) > flow_status_rank(OP_OPEN));
    flow_table_free(t);
    got_free(&g);
}

static void test_idle_and_eviction(void **state)
{
    (void)state;
    struct got g = {0};
    struct flow_config c;
    flow_config_default(&c);
    c.max_flows = 3;
    c.idle_ns = 1000 * MS;
    struct flow_table *t = flow_table_new(&c, on_end, &g);
    struct counters *reg = counters_new();
    assert_true(flow_register_counters(t, reg));
    char req[32];
    for (int i = 0; i < 5; i++) {
        snprintf(req, sizeof req, "req-e%d", i);
        struct op o = mk(OP_CAST, "o", req, NULL, API, COND, (uint64_t)i, 0);
        flow_table_add(t, &o, (uint64_t)i * 100 * MS);
    }
    /* 5 flows in a table of 3: the two least recently active were evicted */
    assert_int_equal(g.n, 2);
    assert_true(g.flows[0]->evicted && flow_has_id(g.flows[0], "req-e0"));
    assert_true(g.flows[1]->evicted && flow_has_id(g.flows[1], "req-e1"));
    assert_int_equal(counters_value(reg, "flows_evicted"), 2);
    assert_int_equal(counters_value(reg, "flows_active"), 3);
    /* an op of req-e2 makes it the most recent: the tick at 1350 ms ends e3 only */
    struct op o = mk(OP_CAST, "o2", "req-e2", NULL, API, COND, 9, 0);
    flow_table_add(t, &o, 600 * MS);
    flow_table_tick(t, 1350 * MS);
    assert_int_equal(g.n, 3);
    assert_false(g.flows[2]->evicted);
    assert_true(flow_has_id(g.flows[2], "req-e3"));
    assert_int_equal(counters_value(reg, "flows_ended"), 1);
    flow_table_tick(t, 1601 * MS);
    assert_int_equal(g.n, 5);
    assert_int_equal(counters_value(reg, "flows_active"), 0);
    assert_int_equal(counters_value(reg, "flows_started"), 5);
    flow_table_free(t);
    counters_free(reg);
    got_free(&g);
}

static void test_op_limit(void **state)
{
    (void)state;
    struct got g = {0};
    struct flow_config c;
    flow_config_default(&c);
    c.max_ops = 4;
    struct flow_table *t = flow_table_new(&c, on_end, &g);
    struct counters *reg = counters_new();
    assert_true(flow_register_counters(t, reg));
    for (int i = 0; i < 10; i++) {
        struct op o = mk(OP_CAST, "o", "req-big", NULL, API, COND, (uint64_t)i, 0);
        flow_table_add(t, &o, 0);
    }
    assert_int_equal(counters_value(reg, "flow_ops_dropped"), 6);
    /* the ops of all open flows are bounded too: a second flow pushes the first out */
    struct flow_table *t2 = flow_table_new(
        &(struct flow_config){
            .max_flows = 10, .max_ops = 4, .max_ids = 4, .max_total_ops = 5, .idle_ns = 1000 * MS},
        on_end, &g);
    for (int i = 0; i < 4; i++) {
        struct op o1 = mk(OP_CAST, "a", "req-1st", NULL, API, COND, (uint64_t)i, 0);
        flow_table_add(t2, &o1, 0);
    }
    struct op o2 = mk(OP_CAST, "b", "req-2nd", NULL, API, COND, 10, 0);
    flow_table_add(t2, &o2, 0);
    assert_int_equal(flow_table_stats(t2)->evicted, 0);
    struct op o3 = mk(OP_CAST, "c", "req-2nd", NULL, API, COND, 11, 0);
    flow_table_add(t2, &o3, 0);
    assert_int_equal(flow_table_stats(t2)->evicted, 1);
    assert_int_equal(g.n, 1);
    assert_true(g.flows[0]->evicted && flow_has_id(g.flows[0], "req-1st"));
    assert_int_equal(flow_table_stats(t2)->active, 1);
    flow_table_free(t2);
    got_free(&g);
    flow_table_finish(t);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.flows[0]->nops, 4);
    assert_int_equal(g.flows[0]->ops_dropped, 6);
    flow_table_free(t);
    counters_free(reg);
    got_free(&g);
}

/* The view of open flows analyses them without ending them. */
static void seen(void *user, const struct flow *f)
{
    (*(size_t *)user) += f->nops;
}

static void test_foreach_open(void **state)
{
    (void)state;
    struct flow_config c;
    flow_config_default(&c);
    struct flow_table *t = flow_table_new(&c, NULL, NULL);
    feed_boot(t, "req-5");
    feed_boot(t, "req-6");
    size_t ops = 0;
    assert_int_equal(flow_table_foreach(t, 10, seen, &ops), 2);
    assert_int_equal(ops, 12);
    ops = 0;
    assert_int_equal(flow_table_foreach(t, 1, seen, &ops), 1);
    assert_int_equal(flow_table_stats(t)->active, 2);
    flow_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_parents),           cmocka_unit_test(test_reply_closes_window),
        cmocka_unit_test(test_global_union_and_merge), cmocka_unit_test(test_worst_status),
        cmocka_unit_test(test_idle_and_eviction),      cmocka_unit_test(test_op_limit),
        cmocka_unit_test(test_foreach_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * flow.h: flows — every operation of one user request, across services.
 *
 * One user action (nova boot) becomes a chain of RPC whose messages carry
 * the same request_id, and across services the same global_request_id. The
 * flow table is fed finished ops (after correlation and the filter); an op
 * joins the flow of any of its ids, and an op whose two ids belong to two
 * flows merges them, so a flow is the union of ids linked by global ones.
 * A flow ends when no op joined it for `idle_ns` of packet time, at the end
 * of the input, or when the table is full and it is the least recently
 * active (evicted: ended early, counted). An ended flow is analysed (parent
 * links, per-process time, critical path, worst status) and handed to the
 * callback, then freed.
 *
 * Parent and child: op B's parent is the op A that B's publisher was handling
 * when it published B — A's server process is B's client process, A was
 * delivered before B was published, and A (a call) had not replied yet; the
 * innermost (latest delivered) such A wins. Casts have no end on the wire,
 * so a cast's handling stays open.
 */
#ifndef OSLOTRACE_DISSECT_FLOW_H
#define OSLOTRACE_DISSECT_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "common/list.h"
#include "dissect/op.h"

struct flow_config {
    size_t max_flows;     /* flows open at once; the least recently active is evicted */
    size_t max_ops;       /* ops kept per flow; more are counted and dropped */
    size_t max_ids;       /* request ids per flow; a merge past it is refused (counted) */
    size_t max_total_ops; /* ops in all open flows; past it the least recently active end */
    uint64_t idle_ns;     /* a flow with no new op for this long (packet time) ends */
};
void flow_config_default(struct flow_config *c);

/* What a flow keeps of one op: what a ladder and the JSON need. */
struct flow_op {
    enum op_type type;
    enum op_status status;
    enum op_verdict verdict;
    bool late_reply;
    uint64_t ts_ns;
    uint64_t timeline[LEG_COUNT];
    uint64_t end_ns;   /* the last leg seen */
    double latency_ms; /* < 0 when none */
    double timeout_s;
    unsigned fanout_receivers;
    /* Strings, NULL when absent; owned by the flow. */
    char *msg_id, *unique_id, *message_id;
    char *topic, *server, *method, *event_type;
    char *request_id, *global_request_id;
    char *client, *server_proc; /* "<argv0>:<pid>", see op_client_process */
    char *error_class;
    /* Filled when the flow ends. */
    int parent;     /* index in flow.ops, -1 for a root */
    unsigned depth; /* 0 for a root */
};

/* Per process, when the flow ends. */
struct flow_proc {
    char *name;
    unsigned sent, handled; /* ops it published; calls/casts/fanouts it received */
    double handling_ms;     /* deliver → reply publish of the calls it served; deliver →
                             * its last child's publish for casts and fanouts */
    double self_ms;         /* handling_ms less the time its own calls from there took */
};

struct flow {
    uint64_t seq; /* 1, 2, ... in the order flows began */
    struct flow_op *ops;
    size_t nops, cap;
    uint64_t ops_dropped; /* past max_ops */
    char **ids;           /* every request_id and global_request_id of the flow */
    size_t nids;
    uint64_t start_ns, end_ns; /* first publish, last leg */
    uint64_t last_seen_ns;     /* packet time the last op joined */
    bool evicted;              /* ended early: the table was full */
    /* Filled when the flow ends (flow_analyze). */
    enum op_status worst;
    struct flow_proc *procs;
    size_t nprocs;
    size_t *crit; /* indexes into ops: the critical path, root first (flow_analyze) */
    size_t ncrit;
    struct list_node lru; /* the table's, most recently active first (flow.c) */
};

struct flow_stats {
    uint64_t active, active_max;
    uint64_t started, ended, evicted, merged;
    uint64_t ops_in, ops_without_id, ops_dropped, ids_refused;
};

typedef void (*flow_cb)(void *user, const struct flow *f);

struct flow_table;
struct flow_table *flow_table_new(const struct flow_config *c, flow_cb on_end, void *user);
/* A finished op; copies what it needs. */
void flow_table_add(struct flow_table *t, const struct op *op, uint64_t now_ns);
/* Ends flows idle since now_ns - idle_ns. */
void flow_table_tick(struct flow_table *t, uint64_t now_ns);
/* Ends every flow (end of input). */
void flow_table_finish(struct flow_table *t);
/* The open flows, most recently active first, analysed as if they ended now;
 * at most max. Returns how many fn saw. */
size_t flow_table_foreach(struct flow_table *t, size_t max,
                          void (*fn)(void *user, const struct flow *f), void *user);
const struct flow_stats *flow_table_stats(const struct flow_table *t);
bool flow_register_counters(struct flow_table *t, struct counters *c);
void flow_table_free(struct flow_table *t);

/* Analysis, exposed for tests and for copies of flows (the TUI keeps some). */
void flow_analyze(struct flow *f);
/* Whether the flow holds this request_id or global_request_id. */
bool flow_has_id(const struct flow *f, const char *id);
/* How bad a status is, for "worst": ok < open < evicted < unroutable < error < timeout. */
int flow_status_rank(enum op_status s);
double flow_total_ms(const struct flow *f);
/* A deep copy (NULL on no memory) and its release, for views that keep flows. */
struct flow *flow_clone(const struct flow *f);
void flow_free(struct flow *f);

#endif

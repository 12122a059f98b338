/*
 * flow.c: the flow table (flow.h) — ops grouped by request ids, with an
 * index from each id to its flow, an LRU list of open flows for idle ends and
 * eviction, and the analysis made when a flow ends.
 *
 * Ops reach the table when they end, not when they begin, so the order of a
 * flow is only known when it is complete: parents, per-process times and the
 * critical path are computed at the end (and for a view of the open ones on
 * request), never kept up to date op by op. Every id, op and flow is bounded
 * by the config; what did not fit is counted.
 */
#include "dissect/flow.h"

#include <stdlib.h>
#include <string.h>

struct id_entry {
    const char *id; /* the flow's copy */
    struct flow *f;
    struct id_entry *next;
};

struct flow_table {
    struct flow_config cfg;
    flow_cb on_end;
    void *user;
    struct id_entry **buckets;
    size_t nbuckets; /* a power of two */
    struct list_node lru;
    size_t nflows;
    size_t total_ops; /* in every open flow */
    uint64_t seq;
    struct flow_stats n;
};

void flow_config_default(struct flow_config *c)
{
    c->max_flows = 4096;
    c->max_ops = 512;
    c->max_ids = 16;
    c->max_total_ops = 131072; /* a few hundred bytes each: tens of MiB at most */
    c->idle_ns = 10ull * 1000000000ull;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

struct flow_table *flow_table_new(const struct flow_config *c, flow_cb on_end, void *user)
{
    struct flow_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *c;
    if (!t->cfg.max_flows)
        t->cfg.max_flows = 1;
    if (!t->cfg.max_ops)
        t->cfg.max_ops = 1;
    if (t->cfg.max_ids < 2)
        t->cfg.max_ids = 2;
    if (!t->cfg.max_total_ops)
        t->cfg.max_total_ops = t->cfg.max_ops;
    t->on_end = on_end;
    t->user = user;
    size_t want = t->cfg.max_flows * 2;
    t->nbuckets = 64;
    while (t->nbuckets < want && t->nbuckets < (1u << 24))
        t->nbuckets <<= 1;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    list_init(&t->lru);
    return t;
}

static struct id_entry **slot(struct flow_table *t, const char *id)
{
    return &t->buckets[hash_str(id) & (t->nbuckets - 1)];
}

static struct flow *find(struct flow_table *t, const char *id)
{
    if (!id)
        return NULL;
    for (struct id_entry *e = *slot(t, id); e; e = e->next)
        if (!strcmp(e->id, id))
            return e->f;
    return NULL;
}

static void index_remove(struct flow_table *t, const char *id)
{
    for (struct id_entry **pp = slot(t, id); *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id)) {
            struct id_entry *e = *pp;
            *pp = e->next;
            free(e);
            return;
        }
}

static bool index_add(struct flow_table *t, const char *id, struct flow *f)
{
    struct id_entry *e = malloc(sizeof *e);
    if (!e)
        return false;
    e->id = id;
    e->f = f;
    struct id_entry **s = slot(t, id);
    e->next = *s;
    *s = e;
    return true;
}

static void index_repoint(struct flow_table *t, const char *id, struct flow *f)
{
    for (struct id_entry *e = *slot(t, id); e; e = e->next)
        if (!strcmp(e->id, id)) {
            e->f = f;
            return;
        }
}

/* ------------------------------------------------------------------ flows */

static void op_free(struct flow_op *o)
{
    char **s[] = {&o->msg_id,     &o->unique_id,   &o->message_id,
                  &o->topic,      &o->server,      &o->method,
                  &o->event_type, &o->request_id,  &o->global_request_id,
                  &o->client,     &o->server_proc, &o->error_class};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

static void clear_analysis(struct flow *f)
{
    for (size_t i = 0; i < f->nprocs; i++)
        free(f->procs[i].name);
    free(f->procs);
    free(f->crit);
    f->procs = NULL;
    f->crit = NULL;
    f->nprocs = f->ncrit = 0;
}

void flow_free(struct flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nops; i++)
        op_free(&f->ops[i]);
    free(f->ops);
    for (size_t i = 0; i < f->nids; i++)
        free(f->ids[i]);
    free(f->ids);
    clear_analysis(f);
    free(f);
}

static uint64_t op_pub(const struct flow_op *o)
{
    return o->timeline[LEG_REQUEST_PUBLISH] ? o->timeline[LEG_REQUEST_PUBLISH] : o->ts_ns;
}

static bool copy_op(struct flow_op *o, const struct op *op)
{
    char buf[OP_PROCESS_MAX];
    memset(o, 0, sizeof *o);
    o->type = op->type;
    o->status = op->status;
    o->verdict = op->verdict;
    o->late_reply = op->late_reply;
    o->ts_ns = op->ts_ns;
    memcpy(o->timeline, op->timeline, sizeof o->timeline);
    o->end_ns = op->ts_ns;
    for (int l = 0; l < LEG_COUNT; l++)
        if (op->timeline[l] > o->end_ns)
            o->end_ns = op->timeline[l];
    o->latency_ms = op->has_latency ? op->latency_ms : -1;
    o->timeout_s = op->timeout_s;
    o->fanout_receivers = op->fanout_receivers;
    o->parent = -1;
    o->msg_id = dup_or_null(op->msg_id);
    o->unique_id = dup_or_null(op->unique_id);
    o->message_id = dup_or_null(op->message_id);
    o->topic = dup_or_null(op->topic);
    o->server = dup_or_null(op->server);
    o->method = dup_or_null(op->method);
    o->event_type = dup_or_null(op->event_type);
    o->request_id = dup_or_null(op->request_id);
    o->global_request_id = dup_or_null(op->global_request_id);
    o->client = dup_or_null(op_client_process(op, buf, sizeof buf));
    o->server_proc = dup_or_null(op_server_process(op, buf, sizeof buf));
    o->error_class = dup_or_null(op->error_class);
    /* strdup failing leaves a field NULL: shown as unknown, never a crash */
    return true;
}

static bool append_op(struct flow_table *t, struct flow *f, struct flow_op *o)
{
    if (f->nops >= t->cfg.max_ops) {
        f->ops_dropped++;
        t->n.ops_dropped++;
        op_free(o);
        return false;
    }
    if (f->nops == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        if (cap > t->cfg.max_ops)
            cap = t->cfg.max_ops;
        struct flow_op *n = realloc(f->ops, cap * sizeof *n);
        if (!n) {
            f->ops_dropped++;
            t->n.ops_dropped++;
            op_free(o);
            return false;
        }
        f->ops = n;
        f->cap = cap;
    }
    f->ops[f->nops++] = *o;
    t->total_ops++;
    uint64_t pub = op_pub(o);
    if (!f->start_ns || pub < f->start_ns)
        f->start_ns = pub;
    if (o->end_ns > f->end_ns)
        f->end_ns = o->end_ns;
    return true;
}

static void add_id(struct flow_table *t, struct flow *f, const char *id)
{
    if (!id || find(t, id))
        return;
    if (f->nids >= t->cfg.max_ids) {
        t->n.ids_refused++;
        return;
    }
    char *copy = strdup(id);
    if (!copy || !index_add(t, copy, f)) {
        free(copy);
        t->n.ids_refused++;
        return;
    }
    f->ids[f->nids++] = copy;
}

static struct flow *flow_new(struct flow_table *t)
{
    struct flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ids = calloc(t->cfg.max_ids, sizeof *f->ids);
    if (!f->ids) {
        free(f);
        return NULL;
    }
    f->seq = ++t->seq;
    list_prepend(&t->lru, &f->lru);
    t->nflows++;
    t->n.started++;
    t->n.active = t->nflows;
    if (t->n.active > t->n.active_max)
        t->n.active_max = t->n.active;
    return f;
}

static void end_flow(struct flow_table *t, struct flow *f, bool evicted)
{
    t->total_ops -= f->nops;
    list_unlink(&f->lru);
    for (size_t i = 0; i < f->nids; i++)
        index_remove(t, f->ids[i]);
    t->nflows--;
    t->n.active = t->nflows;
    f->evicted = evicted;
    if (evicted)
        t->n.evicted++;
    else
        t->n.ended++;
    flow_analyze(f);
    if (t->on_end)
        t->on_end(t->user, f);
    flow_free(f);
}

/* `from` joins `into`: its ops, its ids (as many as fit), its times. */
static void merge(struct flow_table *t, struct flow *into, struct flow *from)
{
    t->total_ops -= from->nops; /* counted again as they join `into` */
    for (size_t i = 0; i < from->nops; i++)
        append_op(t, into, &from->ops[i]); /* takes the strings, or frees them */
    from->nops = 0;
    into->ops_dropped += from->ops_dropped;
    for (size_t i = 0; i < from->nids; i++) {
        if (into->nids < t->cfg.max_ids) {
            index_repoint(t, from->ids[i], into);
            into->ids[into->nids++] = from->ids[i];
        } else {
            index_remove(t, from->ids[i]);
            free(from->ids[i]);
            t->n.ids_refused++;
        }
    }
    from->nids = 0;
    if (from->seq < into->seq)
        into->seq = from->seq;
    if (from->last_seen_ns > into->last_seen_ns)
        into->last_seen_ns = from->last_seen_ns;
    list_unlink(&from->lru);
    t->nflows--;
    t->n.active = t->nflows;
    t->n.merged++;
    flow_free(from);
}

void flow_table_add(struct flow_table *t, const struct op *op, uint64_t now_ns)
{
    t->n.ops_in++;
    const char *r = op->request_id && *op->request_id ? op->request_id : NULL;
    const char *g = op->global_request_id && *op->global_request_id ? op->global_request_id : NULL;
    if (g && r && !strcmp(g, r))
        g = NULL;
    if (!r && !g) {
        t->n.ops_without_id++;
        return;
    }
    struct flow *fr = find(t, r), *fg = find(t, g);
    struct flow *f = fr ? fr : fg;
    if (fr && fg && fr != fg) {
        f = fr->nops >= fg->nops ? fr : fg;
        merge(t, f, f == fr ? fg : fr);
    }
    if (!f) {
        if (t->nflows >= t->cfg.max_flows)
            end_flow(t, list_item(list_last(&t->lru), struct flow, lru), true);
        f = flow_new(t);
        if (!f) {
            t->n.ops_dropped++;
            return;
        }
    }
    add_id(t, f, r);
    add_id(t, f, g);
    struct flow_op o;
    copy_op(&o, op);
    append_op(t, f, &o);
    f->last_seen_ns = now_ns > f->last_seen_ns ? now_ns : f->last_seen_ns;
    list_unlink(&f->lru);
    list_prepend(&t->lru, &f->lru);
    /* every open flow together is bounded too: the least recently active end early */
    while (t->total_ops > t->cfg.max_total_ops) {
        struct flow *old = list_item(list_last(&t->lru), struct flow, lru);
        if (old == f)
            break;
        end_flow(t, old, true);
    }
}

void flow_table_tick(struct flow_table *t, uint64_t now_ns)
{
    while (!list_empty(&t->lru)) {
        struct flow *f = list_item(list_last(&t->lru), struct flow, lru);
        if (f->last_seen_ns + t->cfg.idle_ns > now_ns)
            break;
        end_flow(t, f, false);
    }
}

static int cmp_seq(const void *a, const void *b)
{
    const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void flow_table_finish(struct flow_table *t)
{
    /* in the order they began (a reader's order), else least recently active first */
    struct flow **all = t->nflows ? calloc(t->nflows, sizeof *all) : NULL;
    if (all) {
        size_t n = 0;
        struct list_node *it;
        list_foreach(&t->lru, it) all[n++] = list_item(it, struct flow, lru);
        qsort(all, n, sizeof *all, cmp_seq);
        for (size_t i = 0; i < n; i++)
            end_flow(t, all[i], false);
        free(all);
    }
    while (!list_empty(&t->lru))
        end_flow(t, list_item(list_last(&t->lru), struct flow, lru), false);
}

size_t flow_table_foreach(struct flow_table *t, size_t max,
                          void (*fn)(void *user, const struct flow *f), void *user)
{
    size_t n = 0;
    struct list_node *it;
    list_foreach(&t->lru, it)
    {
        if (n == max)
            break;
        struct flow *f = list_item(it, struct flow, lru);
        flow_analyze(f);
        fn(user, f);
        n++;
    }
    return n;
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
    return &t->n;
}

void flow_table_free(struct flow_table *t)
{
    if (!t)
        return;
    while (!list_empty(&t->lru)) {
        struct flow *f = list_item(list_first(&t->lru), struct flow, lru);
        list_unlink(&f->lru);
        for (size_t i = 0; i < f->nids; i++)
            index_remove(t, f->ids[i]);
        flow_free(f);
    }
    free(t->buckets);
    free(t);
}

/* ------------------------------------------------------------------ counters */

static const struct counter_def flow_rows[] = {
    COUNTER_ROW(struct flow_stats, active, "flows_active", GAUGE, 0,
                "Flows (operations of one request) still open."),
    COUNTER_ROW(struct flow_stats, active_max, "flows_active_max", GAUGE, 0,
                "The most flows open at once."),
    COUNTER_ROW(struct flow_stats, started, "flows_started", TOTAL, COUNTER_REPORT,
                "Flows begun: a request id not in any open flow."),
    COUNTER_ROW(struct flow_stats, ended, "flows_ended", TOTAL, COUNTER_REPORT,
                "Flows ended: idle, or at the end of the input."),
    COUNTER_ROW(struct flow_stats, evicted, "flows_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Flows ended early because the flow table was full (flows or operations; the "
                "least recently active)."),
    COUNTER_ROW(struct flow_stats, merged, "flows_merged", TOTAL, 0,
                "Flows joined into one by an operation carrying ids of both."),
    COUNTER_ROW(struct flow_stats, ops_in, "flow_ops", TOTAL, 0,
                "Operations handed to the flow table."),
    COUNTER_ROW(struct flow_stats, ops_without_id, "flow_ops_without_request_id", TOTAL, 0,
                "Operations with no request_id nor global_request_id: in no flow."),
    COUNTER_ROW(struct flow_stats, ops_dropped, "flow_ops_dropped", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Operations left out of a flow that already held the most it keeps."),
    COUNTER_ROW(struct flow_stats, ids_refused, "flow_ids_refused", TOTAL, COUNTER_EVICTION,
                "Request ids not linked to a flow that already held the most it keeps."),
};

static void read_flow_stats(const void *owner, void *out)
{
    memcpy(out, &((const struct flow_table *)owner)->n, sizeof(struct flow_stats));
}

bool flow_register_counters(struct flow_table *t, struct counters *c)
{
    return counters_add(c, flow_rows, sizeof flow_rows / sizeof flow_rows[0], read_flow_stats, t,
                        sizeof(struct flow_stats));
}

/* ------------------------------------------------------------------ analysis */

int flow_status_rank(enum op_status s)
{
    switch (s) {
    case OP_OK:
        return 0;
    case OP_OPEN:
        return 1;
    case OP_EVICTED:
        return 2;
    case OP_UNROUTABLE:
        return 3;
    case OP_ERROR:
        return 4;
    case OP_TIMEOUT:
        return 5;
    default:
        return 0;
    }
}

double flow_total_ms(const struct flow *f)
{
    return f->end_ns > f->start_ns ? (double)(f->end_ns - f->start_ns) / 1e6 : 0.0;
}

bool flow_has_id(const struct flow *f, const char *id)
{
    for (size_t i = 0; i < f->nids; i++)
        if (!strcmp(f->ids[i], id))
            return true;
    return false;
}

static int cmp_ops(const void *a, const void *b)
{
    const struct flow_op *x = a, *y = b;
    uint64_t px = op_pub(x), py = op_pub(y);
    if (px != py)
        return px < py ? -1 : 1;
    if (x->end_ns != y->end_ns)
        return x->end_ns < y->end_ns ? -1 : 1;
    return 0;
}

static bool same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* The op whose handler published ops[i], or -1 (see flow.h). */
static int find_parent(const struct flow *f, size_t i)
{
    const struct flow_op *b = &f->ops[i];
    uint64_t pub = op_pub(b);
    int best = -1;
    uint64_t best_deliver = 0;
    for (size_t j = 0; j < i; j++) {
        const struct flow_op *a = &f->ops[j];
        if (a->type == OP_NOTIFICATION || !same(a->server_proc, b->client))
            continue;
        uint64_t d = a->timeline[LEG_REQUEST_DELIVER];
        if (!d || d > pub)
            continue;
        uint64_t rp = a->timeline[LEG_REPLY_PUBLISH];
        if (a->type == OP_CALL && rp && rp < pub)
            continue;
        if (best < 0 || d >= best_deliver) {
            best = (int)j;
            best_deliver = d;
        }
    }
    return best;
}

static struct flow_proc *proc_of(struct flow *f, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < f->nprocs; i++)
        if (!strcmp(f->procs[i].name, name))
            return &f->procs[i];
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    struct flow_proc *p = &f->procs[f->nprocs++];
    memset(p, 0, sizeof *p);
    p->name = copy;
    return p;
}

static double ms_between(uint64_t a, uint64_t b)
{
    return b > a ? (double)(b - a) / 1e6 : 0.0;
}

/* Handling time of ops[j] on its server, and that less its own calls' time. */
static void handling(const struct flow *f, size_t j, double *total, double *self)
{
    const struct flow_op *a = &f->ops[j];
    uint64_t d = a->timeline[LEG_REQUEST_DELIVER];
    *total = *self = 0;
    if (!d)
        return;
    uint64_t end = a->type == OP_CALL ? a->timeline[LEG_REPLY_PUBLISH] : 0;
    uint64_t last_child = d;
    for (size_t i = j + 1; !end && i < f->nops; i++) {
        const struct flow_op *c = &f->ops[i];
        if (c->parent != (int)j)
            continue;
        uint64_t back = c->type == OP_CALL && c->timeline[LEG_REPLY_DELIVER]
                            ? c->timeline[LEG_REPLY_DELIVER]
                            : op_pub(c);
        if (back > last_child)
            last_child = back;
    }
    if (!end)
        end = last_child;
    /* its own calls, as far as they lie inside its handling */
    double waits = 0;
    for (size_t i = j + 1; i < f->nops; i++) {
        const struct flow_op *c = &f->ops[i];
        if (c->parent != (int)j || c->type != OP_CALL)
            continue;
        uint64_t back = c->timeline[LEG_REPLY_DELIVER] ? c->timeline[LEG_REPLY_DELIVER] : end;
        waits += ms_between(op_pub(c), back < end ? back : end);
    }
    *total = ms_between(d, end);
    *self = *total > waits ? *total - waits : 0;
}

/* The critical path: from the root whose subtree ended last, down through the
 * child whose subtree ended last, to a leaf — the chain that decided when the
 * request was done. A child always comes after its parent in f->ops. */
static void critical_path(struct flow *f)
{
    uint64_t *sub = calloc(f->nops, sizeof *sub);
    f->crit = calloc(f->nops, sizeof *f->crit);
    if (!sub || !f->crit) {
        free(sub);
        free(f->crit);
        f->crit = NULL;
        return;
    }
    for (size_t i = f->nops; i-- > 0;) {
        if (f->ops[i].end_ns > sub[i])
            sub[i] = f->ops[i].end_ns;
        int p = f->ops[i].parent;
        if (p >= 0 && sub[i] > sub[p])
            sub[p] = sub[i];
    }
    int cur = -1;
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].parent < 0 && (cur < 0 || sub[i] >= sub[cur]))
            cur = (int)i;
    while (cur >= 0 && f->ncrit < f->nops) {
        f->crit[f->ncrit++] = (size_t)cur;
        int next = -1;
        for (size_t i = (size_t)cur + 1; i < f->nops; i++)
            if (f->ops[i].parent == cur && (next < 0 || sub[i] >= sub[next]))
                next = (int)i;
        cur = next;
    }
    free(sub);
}

void flow_analyze(struct flow *f)
{
    clear_analysis(f);
    if (!f->nops)
        return;
    qsort(f->ops, f->nops, sizeof f->ops[0], cmp_ops);
    f->worst = OP_OK;
    f->start_ns = op_pub(&f->ops[0]);
    f->end_ns = 0;
    for (size_t i = 0; i < f->nops; i++) {
        struct flow_op *o = &f->ops[i];
        o->parent = find_parent(f, i);
        o->depth = o->parent < 0 ? 0 : f->ops[o->parent].depth + 1;
        if (flow_status_rank(o->status) > flow_status_rank(f->worst))
            f->worst = o->status;
        if (op_pub(o) < f->start_ns)
            f->start_ns = op_pub(o);
        if (o->end_ns > f->end_ns)
            f->end_ns = o->end_ns;
    }
    f->procs = calloc(2 * f->nops, sizeof *f->procs);
    if (f->procs)
        for (size_t i = 0; i < f->nops; i++) {
            struct flow_op *o = &f->ops[i];
            struct flow_proc *c = proc_of(f, o->client);
            if (c)
                c->sent++;
            struct flow_proc *s = proc_of(f, o->server_proc);
            if (!s)
                continue;
            s->handled++;
            if (o->type == OP_NOTIFICATION)
                continue;
            double total, self;
            handling(f, i, &total, &self);
            s->handling_ms += total;
            s->self_ms += self;
        }
    critical_path(f);
}

/* ------------------------------------------------------------------ copies */

static char *dup_field(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *ok = false;
    return c;
}

struct flow *flow_clone(const struct flow *src)
{
    struct flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    *f = *src;
    f->ops = NULL;
    f->ids = NULL;
    f->procs = NULL;
    f->crit = NULL;
    f->nops = f->cap = f->nids = f->nprocs = f->ncrit = 0;
    list_node_init(&f->lru);
    bool ok = true;
    f->ops = calloc(src->nops ? src->nops : 1, sizeof *f->ops);
    f->ids = calloc(src->nids ? src->nids : 1, sizeof *f->ids);
    f->procs = calloc(src->nprocs ? src->nprocs : 1, sizeof *f->procs);
    f->crit = calloc(src->ncrit ? src->ncrit : 1, sizeof *f->crit);
    if (!f->ops || !f->ids || !f->procs || !f->crit) {
        flow_free(f);
        return NULL;
    }
    for (size_t i = 0; i < src->nops; i++) {
        const struct flow_op *s = &src->ops[i];
        struct flow_op *o = &f->ops[f->nops++];
        *o = *s;
        o->msg_id = dup_field(s->msg_id, &ok);
        o->unique_id = dup_field(s->unique_id, &ok);
        o->message_id = dup_field(s->message_id, &ok);
        o->topic = dup_field(s->topic, &ok);
        o->server = dup_field(s->server, &ok);
        o->method = dup_field(s->method, &ok);
        o->event_type = dup_field(s->event_type, &ok);
        o->request_id = dup_field(s->request_id, &ok);
        o->global_request_id = dup_field(s->global_request_id, &ok);
        o->client = dup_field(s->client, &ok);
        o->server_proc = dup_field(s->server_proc, &ok);
        o->error_class = dup_field(s->error_class, &ok);
    }
    f->cap = f->nops;
    for (size_t i = 0; i < src->nids; i++)
        f->ids[f->nids++] = dup_field(src->ids[i], &ok);
    for (size_t i = 0; i < src->nprocs; i++) {
        f->procs[f->nprocs] = src->procs[i];
        f->procs[f->nprocs++].name = dup_field(src->procs[i].name, &ok);
    }
    memcpy(f->crit, src->crit, src->ncrit * sizeof *f->crit);
    f->ncrit = src->ncrit;
    if (!ok) {
        flow_free(f);
        return NULL;
    }
    return f;
}

/*
 * correlate.c: the correlation state machine — matching the legs of RPC
 * operations and deciding when each operation has ended.
 *
 * Every AMQP message goes through the dialects (dissect/dialect.h: oslo
 * first, then plain AMQP RPC); what comes back is a dialect-neutral
 * struct rpc_msg, and everything below works on that. Calls are keyed by
 * their call id (oslo _msg_id, AMQP correlation_id) within their dialect;
 * casts and fanouts by unique id, notifications by message_id. The entries
 * live in dissect/corr_table.h (hash, creation order, one deadline each);
 * they become struct op in dissect/corr_op.h.
 *
 * Entry life: PENDING (collecting legs) → TIMED_OUT (calls only: waiting
 * for a late reply) → DONE (emitted; the key lingers a little so stray
 * legs are recognised as duplicates, not new operations) → freed.
 */
#include "dissect/correlate.h"

#include <stdlib.h>
#include <string.h>

#include "common/strpool.h"
#include "dissect/corr_id.h"
#include "dissect/corr_op.h"
#include "dissect/corr_table.h"
#include "dissect/dialect.h"
#include "dissect/rpc_msg.h"

#define CORR_MAX_PKTS 256 /* packet numbers kept per operation */
#define CORR_FANOUT_RX 32 /* distinct fanout receivers remembered */
#define CORR_STR_MAX 4096 /* longer pooled strings are cut */

struct corr {
    struct corr_config cfg;
    void (*on_op)(void *user, const struct op *op);
    void *user;
    struct dialects dialects;
    struct strpool sp;
    struct corr_table t;
    uint64_t now;
    struct corr_stats st;
};

void corr_config_default(struct corr_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->call_timeout_s = 60.0;
    cfg->max_pending = 1000000;
    cfg->max_inflate = 64u << 20;
    cfg->hold_s = 2.0;
    cfg->want_pkts = true;
}

static uint64_t secs_to_ns(double s)
{
    return s <= 0 ? 0 : (uint64_t)(s * 1e9 + 0.5);
}

static uint32_t ms_of(double s)
{
    double ms = s * 1000.0;
    return ms > 4e9 ? 4000000000u : ms < 1 ? 1u : (uint32_t)(ms + 0.5);
}

static enum op_leg request_leg(const struct amqp_message *m)
{
    return m->kind == AMQP_CONTENT_PUBLISH ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER;
}

/* ---------- entry lifetime ---------- */

static void release_strings(struct corr *c, struct corr_entry *e)
{
    struct strpool_str **s[] = {&e->shape, &e->conn[0], &e->conn[1], &e->conn[2], &e->conn[3]};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        strpool_put(&c->sp, *s[i]);
        *s[i] = NULL;
    }
    corr_id_release(&c->sp, &e->unique_id);
    corr_id_release(&c->sp, &e->request_id);
    corr_id_release(&c->sp, &e->global_request_id);
    free(e->pkts);
    e->pkts = NULL;
    e->npkts = e->cap_pkts = 0;
    struct corr_extra *x = e->x;
    if (x) {
        free(x->rx);
        for (uint32_t i = 0; i < x->nreply_ids && i < CORR_REPLY_IDS; i++)
            corr_id_release(&c->sp, &x->reply_ids[i]);
        corr_id_release(&c->sp, &x->final_reply_id);
        free(x->error_class);
        free(x->error_module);
        free(x->error_message);
        free(x->args_json);
        free(x->result_json);
        free(x->context_json);
        strpool_put(&c->sp, x->event_type);
        strpool_put(&c->sp, x->priority);
        strpool_put(&c->sp, x->publisher_id);
        free(x);
        e->x = NULL;
    }
}

static bool is_pending_call(const struct corr_entry *e)
{
    return e->kind == CORR_ENT_CALL && e->state != CORR_DONE && (e->flags & CORR_F_REQUEST);
}

static void entry_free(struct corr *c, struct corr_entry *e)
{
    if (is_pending_call(e) && c->st.pending)
        c->st.pending--;
    release_strings(c, e);
    corr_id_release(&c->sp, &e->key);
    corr_table_remove(&c->t, e);
}

static struct corr_extra *extra(struct corr_entry *e)
{
    if (!e->x)
        e->x = calloc(1, sizeof(*e->x));
    return e->x;
}

static void set_deadline(struct corr *c, struct corr_entry *e, uint64_t t)
{
    corr_table_set_deadline(&c->t, e, t);
}

static void emit(struct corr *c, struct corr_entry *e, enum op_status status);
static void finalize(struct corr *c, struct corr_entry *e, bool evicted);

/* A new entry for key; the oldest entries go when the table is full. */
static struct corr_entry *entry_new(struct corr *c, uint8_t kind, uint8_t dialect,
                                    const struct corr_id *key)
{
    struct corr_entry *old;
    while (c->t.n >= c->cfg.max_pending && (old = corr_table_oldest(&c->t))) {
        if (old->state != CORR_DONE)
            c->st.evicted++;
        finalize(c, old, true);
        entry_free(c, old);
    }
    return corr_table_add(&c->t, kind, dialect, key);
}

static struct strpool_str *counted(struct corr *c, struct strpool_str *p)
{
    if (!p)
        c->st.intern_full++;
    return p;
}

static void set_str(struct corr *c, struct strpool_str **dst, const char *s)
{
    if (*dst || !s)
        return;
    *dst = counted(c, strpool_cstr(&c->sp, s));
}

static void set_id(struct corr *c, struct corr_id *dst, const char *s)
{
    if (dst->form != CORR_ID_NONE || !s)
        return;
    if (!corr_id_make(&c->sp, s, dst))
        c->st.intern_full++;
}

static void add_pkts(struct corr *c, struct corr_entry *e, const struct amqp_message *m)
{
    if (!c->cfg.want_pkts || !m->npkts || !m->pkts)
        return;
    for (size_t i = 0; i < m->npkts && e->npkts < CORR_MAX_PKTS; i++) {
        uint64_t p = m->pkts[i];
        bool dup = false;
        /* Frames of neighbouring messages share segments: check the recent tail. */
        for (uint32_t k = e->npkts > 16 ? e->npkts - 16u : 0; k < e->npkts; k++)
            if (e->pkts[k] == p)
                dup = true;
        if (dup)
            continue;
        if (e->npkts == e->cap_pkts) {
            uint16_t ncap = (uint16_t)(e->cap_pkts ? e->cap_pkts * 2 : 4);
            if (ncap > CORR_MAX_PKTS)
                ncap = CORR_MAX_PKTS;
            uint64_t *np = realloc(e->pkts, ncap * sizeof(*np));
            if (!np)
                return;
            e->pkts = np;
            e->cap_pkts = ncap;
        }
        e->pkts[e->npkts++] = p;
    }
}

static void set_leg(struct corr *c, struct corr_entry *e, enum op_leg leg,
                    const struct amqp_message *m)
{
    if (!e->timeline[leg])
        e->timeline[leg] = m->ts_ns ? m->ts_ns : 1;
    if (!e->conn[leg])
        e->conn[leg] = counted(c, corr_op_conn(&c->sp, m->conn));
    if (!e->first_ns || m->ts_ns < e->first_ns)
        e->first_ns = m->ts_ns;
}

static char *take_body(char **src)
{
    char *s = *src;
    *src = NULL;
    return s;
}

/* ---------- calls ---------- */

static uint64_t call_start(const struct corr_entry *e)
{
    if (e->timeline[LEG_REQUEST_PUBLISH])
        return e->timeline[LEG_REQUEST_PUBLISH];
    if (e->timeline[LEG_REQUEST_DELIVER])
        return e->timeline[LEG_REQUEST_DELIVER];
    return e->first_ns;
}

/* When the client gives up: start + timeout, earlier with a call monitor
 * that saw no heartbeat for monitor_ms. */
static uint64_t call_tmo_deadline(const struct corr_entry *e)
{
    uint64_t start = call_start(e);
    uint64_t d = start + (uint64_t)e->timeout_ms * 1000000ull;
    if (e->monitor_ms) {
        uint64_t beat = e->x && e->x->last_beat_ns > start ? e->x->last_beat_ns : start;
        uint64_t md = beat + (uint64_t)e->monitor_ms * 1000000ull;
        if (md < d)
            d = md;
    }
    return d;
}

static uint64_t late_window_ns(const struct corr *c, const struct corr_entry *e)
{
    if (c->cfg.late_window_s > 0)
        return secs_to_ns(c->cfg.late_window_s);
    /* The timeout the client really applied (a call monitor can shorten it). */
    double t = (double)(call_tmo_deadline(e) - call_start(e)) / 1e9;
    if (t < 5)
        t = 5;
    if (t > 300)
        t = 300;
    return secs_to_ns(t);
}

static uint64_t linger_ns(const struct corr *c)
{
    double h = c->cfg.hold_s > 1.0 ? c->cfg.hold_s : 1.0;
    return secs_to_ns(h);
}

/* Re-evaluates what a call waits for next and sets its deadline; emits it when done. */
static void call_schedule(struct corr *c, struct corr_entry *e)
{
    if (e->state == CORR_DONE)
        return;
    if (!(e->flags & CORR_F_REQUEST)) {
        /* Replies only so far: wait hold_s for the request, then count an orphan. */
        set_deadline(c, e, e->first_ns + secs_to_ns(c->cfg.hold_s));
        return;
    }
    if (e->flags & CORR_F_UNROUTABLE) {
        emit(c, e, OP_UNROUTABLE);
        return;
    }
    if (e->flags & CORR_F_FINAL_DEL) {
        /* With all four legs in view there is nothing left to wait for. With
         * fewer, a missing leg may still come (the capture stage can hand
         * legs over out of order, e.g. data held behind a TCP hole): give it
         * hold_s of packet time. */
        bool all = true;
        for (int l = 0; l < LEG_COUNT; l++)
            all = all && e->timeline[l];
        if (all)
            finalize(c, e, false);
        else
            set_deadline(c, e, e->timeline[LEG_REPLY_DELIVER] + secs_to_ns(c->cfg.hold_s));
        return;
    }
    uint64_t tmo = call_tmo_deadline(e);
    if (e->flags & CORR_F_FINAL_PUB) {
        set_deadline(c, e, e->timeline[LEG_REPLY_PUBLISH] + secs_to_ns(c->cfg.hold_s));
        return;
    }
    if (e->state == CORR_TIMED_OUT)
        set_deadline(c, e, tmo + late_window_ns(c, e));
    else
        set_deadline(c, e, tmo);
}

static enum op_type op_type_of(enum rpc_kind k)
{
    return k == RPC_FANOUT         ? OP_FANOUT
           : k == RPC_NOTIFICATION ? OP_NOTIFICATION
           : k == RPC_CAST         ? OP_CAST
                                   : OP_CALL;
}

static void fill_request(struct corr *c, struct corr_entry *e, struct rpc_msg *r)
{
    bool first = !(e->flags & CORR_F_REQUEST);
    e->flags |= CORR_F_REQUEST;
    e->type = (uint8_t)op_type_of(r->kind);
    e->dialect = (uint8_t)r->dialect;
    if (!e->shape)
        e->shape = counted(c, corr_op_shape(&c->sp, r));
    set_id(c, &e->unique_id, r->unique_id);
    set_id(c, &e->request_id, r->request_id);
    set_id(c, &e->global_request_id, r->global_request_id);
    if (r->kind == RPC_CALL_REQUEST && first) {
        e->timeout_ms = ms_of(r->has_timeout ? r->timeout_s : c->cfg.call_timeout_s);
        if (r->has_monitor)
            e->monitor_ms = ms_of(r->monitor_timeout_s);
    }
    if (r->kind == RPC_NOTIFICATION) {
        struct corr_extra *x = extra(e);
        if (x) {
            set_str(c, &x->event_type, r->event_type);
            set_str(c, &x->priority, r->priority);
            set_str(c, &x->publisher_id, r->publisher_id);
        }
    }
    if (c->cfg.want_bodies && (r->args_json || r->context_json)) {
        struct corr_extra *x = extra(e);
        if (x && !x->args_json && !x->context_json) {
            x->args_json = take_body(&r->args_json);
            x->context_json = take_body(&r->context_json);
        }
    }
}

/* The first step of every leg: pools the operation's id into *key and finds
 * its entry (*e, NULL when new). False, counted, when the id cannot be pooled
 * or the operation was reported already (a late leg: a redelivery, or a leg
 * the capture stage handed over late, held behind a TCP hole); the key is then
 * released. Otherwise the caller owns *key until take_entry(). */
static bool find_live(struct corr *c, uint8_t kind, uint8_t dialect, const char *id,
                      struct corr_id *key, struct corr_entry **e)
{
    if (!corr_id_make(&c->sp, id, key)) {
        c->st.intern_full++;
        return false;
    }
    *e = corr_table_find(&c->t, kind, dialect, key);
    if (*e && (*e)->state == CORR_DONE) {
        c->st.late_legs++;
        corr_id_release(&c->sp, key);
        return false;
    }
    return true;
}

/* e, or a new entry for key when e is NULL; the key's pool reference goes to
 * the new entry or is released. NULL when no entry could be made. */
static struct corr_entry *take_entry(struct corr *c, uint8_t kind, uint8_t dialect,
                                     struct corr_id *key, struct corr_entry *e)
{
    if (e) {
        corr_id_release(&c->sp, key);
        return e;
    }
    e = entry_new(c, kind, dialect, key);
    if (!e)
        corr_id_release(&c->sp, key);
    return e;
}

static void on_request(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    struct corr_id key;
    struct corr_entry *e;
    if (!find_live(c, CORR_ENT_CALL, (uint8_t)r->dialect, r->call_id, &key, &e))
        return;
    if (e && (e->flags & CORR_F_REQUEST) && m->kind != AMQP_CONTENT_RETURN) {
        enum op_leg leg = request_leg(m);
        struct corr_id uid = {0};
        bool same = true;
        if (r->unique_id && e->unique_id.form != CORR_ID_NONE &&
            corr_id_make(&c->sp, r->unique_id, &uid)) {
            same = corr_id_equal(&uid, &e->unique_id);
            corr_id_release(&c->sp, &uid);
        }
        if (!same) {
            /* Two different requests with one call id: report the first as it
             * stands and start over with the second, never mixing them. */
            c->st.duplicate_msg_ids++;
            finalize(c, e, false);
            entry_free(c, e);
            e = NULL;
        } else if (e->timeline[leg]) {
            c->st.duplicates++; /* re-published or redelivered */
            add_pkts(c, e, m);
            corr_id_release(&c->sp, &key);
            return;
        }
    }
    if (!(e = take_entry(c, CORR_ENT_CALL, (uint8_t)r->dialect, &key, e)))
        return;
    if (!(e->flags & CORR_F_REQUEST)) {
        c->st.calls++;
        if (r->dialect == OP_DIALECT_AMQP)
            c->st.amqp_calls++;
        if (++c->st.pending > c->st.pending_peak)
            c->st.pending_peak = c->st.pending;
    }
    fill_request(c, e, r);
    add_pkts(c, e, m);
    if (m->kind == AMQP_CONTENT_RETURN) {
        c->st.unroutable++;
        e->flags |= CORR_F_UNROUTABLE;
        if (!e->first_ns)
            e->first_ns = m->ts_ns;
    } else {
        set_leg(c, e, request_leg(m), m);
    }
    call_schedule(c, e);
}

/* Remembers a reply's unique id; true when it had not been seen for this call. */
static bool reply_is_new(struct corr *c, struct corr_entry *e, const struct rpc_msg *r,
                         enum op_leg leg, struct corr_id *uid_out)
{
    struct corr_extra *x = extra(e);
    memset(uid_out, 0, sizeof(*uid_out));
    if (!r->unique_id || !x || !corr_id_make(&c->sp, r->unique_id, uid_out)) {
        /* No id: count the publish leg, or the deliver leg when no publish is in view. */
        return leg == LEG_REPLY_PUBLISH || !(e->flags & CORR_F_REPLY_PUB);
    }
    uint32_t n = x->nreply_ids < CORR_REPLY_IDS ? x->nreply_ids : CORR_REPLY_IDS;
    for (uint32_t i = 0; i < n; i++)
        if (corr_id_equal(&x->reply_ids[i], uid_out))
            return false;
    struct corr_id *slot = &x->reply_ids[x->nreply_ids % CORR_REPLY_IDS];
    corr_id_release(&c->sp, slot);
    *slot = *uid_out;
    corr_id_retain(uid_out); /* the slot holds its own reference */
    x->nreply_ids++;
    return true;
}

/* A reply's answer: ok or error, and the result body. */
static void take_answer(struct corr_entry *e, struct corr_extra *x, struct rpc_msg *r)
{
    e->flags |= CORR_F_ANSWERED;
    if (r->has_failure) {
        e->flags |= CORR_F_ERROR;
        if (r->error_message) {
            x->error_class = r->error_class && r->error_class[0] ? strdup(r->error_class) : NULL;
            x->error_module =
                r->error_module && r->error_module[0] ? strdup(r->error_module) : NULL;
            x->error_message = strdup(r->error_message);
        }
    }
    if (r->result_json && !x->result_json)
        x->result_json = take_body(&r->result_json);
}

static void on_reply(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    if (m->kind == AMQP_CONTENT_RETURN) {
        c->st.returned_replies++;
        return;
    }
    enum op_leg leg = m->kind == AMQP_CONTENT_PUBLISH ? LEG_REPLY_PUBLISH : LEG_REPLY_DELIVER;
    struct corr_id key;
    struct corr_entry *e;
    /* For a call reported already, this is its reply's other leg after the hold, or a repeat. */
    if (!find_live(c, CORR_ENT_CALL, (uint8_t)r->dialect, r->call_id, &key, &e))
        return;
    bool created = !e;
    if (!(e = take_entry(c, CORR_ENT_CALL, (uint8_t)r->dialect, &key, e)))
        return;
    if (created) {
        e->type = OP_CALL;
        e->first_ns = m->ts_ns;
    }
    struct corr_extra *x = extra(e);
    struct corr_id uid;
    bool fresh = reply_is_new(c, e, r, leg, &uid);
    if (leg == LEG_REPLY_PUBLISH)
        e->flags |= CORR_F_REPLY_PUB;
    add_pkts(c, e, m);
    if (fresh) {
        c->st.replies++;
        if (e->replies < UINT16_MAX)
            e->replies++;
        if (r->heartbeat) {
            c->st.heartbeats++;
            if (e->heartbeats < UINT16_MAX)
                e->heartbeats++;
        }
    }
    if (r->heartbeat && x && m->ts_ns > x->last_beat_ns)
        x->last_beat_ns = m->ts_ns;
    if ((r->has_result || r->has_failure) && x && !(e->flags & CORR_F_ANSWERED))
        take_answer(e, x, r);
    if (r->ending && x) {
        /* The final reply. Its two legs share one unique id; another id is a second answer. */
        if (x->final_reply_id.form == CORR_ID_NONE && uid.form != CORR_ID_NONE) {
            x->final_reply_id = uid;
            corr_id_retain(&uid);
        } else if (fresh && (e->flags & (CORR_F_FINAL_PUB | CORR_F_FINAL_DEL))) {
            c->st.duplicate_replies++;
        }
        if (!e->timeline[leg]) {
            e->timeline[leg] = m->ts_ns ? m->ts_ns : 1;
            e->conn[leg] = counted(c, corr_op_conn(&c->sp, m->conn));
        }
        e->flags |= leg == LEG_REPLY_PUBLISH ? CORR_F_FINAL_PUB : CORR_F_FINAL_DEL;
    }
    corr_id_release(&c->sp, &uid);
    call_schedule(c, e);
}

/* ---------- casts, fanouts, notifications ---------- */

/* A cast with no id to de-duplicate on: reported by itself, at once. */
static void emit_unkeyed(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    struct corr_entry tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.kind = CORR_ENT_CAST;
    heap_node_init(&tmp.deadline, 0);
    fill_request(c, &tmp, r);
    add_pkts(c, &tmp, m);
    if (m->kind == AMQP_CONTENT_RETURN)
        tmp.flags |= CORR_F_UNROUTABLE;
    else
        set_leg(c, &tmp, request_leg(m), m);
    if (m->kind == AMQP_CONTENT_DELIVER || m->kind == AMQP_CONTENT_GET_OK)
        tmp.fanout_receivers = 1;
    emit(c, &tmp, (tmp.flags & CORR_F_UNROUTABLE) ? OP_UNROUTABLE : OP_OK);
    release_strings(c, &tmp);
}

/* A deliver leg of a cast: a new receiver unless this (connection, queue) already had it. */
static void cast_delivered(struct corr *c, struct corr_entry *e, const struct amqp_message *m)
{
    uint64_t rx = 1469598103934665603ull;
    uint64_t conn_id = m->conn ? m->conn->id : 0;
    for (int i = 0; i < 8; i++)
        rx = (rx ^ ((conn_id >> (8 * i)) & 0xFF)) * 1099511628211ull;
    const struct amqp_bytes *q = m->queue.p ? &m->queue : &m->consumer_tag;
    for (size_t i = 0; q->p && i < q->len; i++)
        rx = (rx ^ q->p[i]) * 1099511628211ull;
    struct corr_extra *x = extra(e);
    bool seen = false;
    if (x && !x->rx)
        x->rx = calloc(CORR_FANOUT_RX, sizeof(*x->rx));
    if (x && x->rx) {
        uint32_t n = x->nrx < CORR_FANOUT_RX ? x->nrx : CORR_FANOUT_RX;
        for (uint32_t i = 0; i < n; i++)
            if (x->rx[i] == rx)
                seen = true;
        if (!seen)
            x->rx[x->nrx++ % CORR_FANOUT_RX] = rx;
    }
    if (seen || (m->redelivered && e->timeline[LEG_REQUEST_DELIVER])) {
        c->st.duplicates++;
    } else if (e->type != OP_FANOUT && e->fanout_receivers) {
        /* A cast is consumed once: a second delivery is a duplicate. */
        c->st.duplicates++;
    } else if (e->fanout_receivers < UINT16_MAX) {
        e->fanout_receivers++;
    }
    set_leg(c, e, LEG_REQUEST_DELIVER, m);
}

static void on_cast(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    const char *id = r->kind == RPC_NOTIFICATION && r->message_id ? r->message_id : r->unique_id;
    uint64_t *count = r->kind == RPC_FANOUT         ? &c->st.fanouts
                      : r->kind == RPC_NOTIFICATION ? &c->st.notifications
                                                    : &c->st.casts;
    if (!id) {
        c->st.unkeyed++;
        (*count)++;
        emit_unkeyed(c, r);
        return;
    }
    struct corr_id key;
    struct corr_entry *e;
    if (!find_live(c, CORR_ENT_CAST, (uint8_t)r->dialect, id, &key, &e))
        return;
    bool created = !e;
    if (!(e = take_entry(c, CORR_ENT_CAST, (uint8_t)r->dialect, &key, e)))
        return;
    fill_request(c, e, r); /* on a later leg: fills what the first lacked (e.g. a server) */
    if (created) {
        (*count)++;
        e->first_ns = m->ts_ns;
        set_deadline(c, e, m->ts_ns + secs_to_ns(c->cfg.hold_s));
    }
    add_pkts(c, e, m);
    if (m->kind == AMQP_CONTENT_RETURN) {
        if (!(e->flags & CORR_F_UNROUTABLE))
            c->st.unroutable++;
        e->flags |= CORR_F_UNROUTABLE;
        return;
    }
    if (m->kind == AMQP_CONTENT_PUBLISH) {
        if (e->timeline[LEG_REQUEST_PUBLISH])
            c->st.duplicates++;
        set_leg(c, e, LEG_REQUEST_PUBLISH, m);
        return;
    }
    cast_delivered(c, e, m);
}

/* ---------- emission ---------- */

static void emit(struct corr *c, struct corr_entry *e, enum op_status status)
{
    struct op op;
    struct corr_op_text text;
    corr_op_build(e, status, &op, &text);
    if (op.late_reply)
        c->st.late_replies++;
    if (status == OP_TIMEOUT)
        c->st.timeouts++;
    if (status == OP_OPEN)
        c->st.open++;
    c->st.emitted++;
    if (c->on_op)
        c->on_op(c->user, &op);
    /* Keep only the key, for a short while, to recognise stray legs. */
    if (is_pending_call(e) && c->st.pending)
        c->st.pending--;
    e->state = CORR_DONE;
    release_strings(c, e);
    if (e->deadline.idx != HEAP_NO_INDEX)
        set_deadline(c, e, c->now + linger_ns(c));
}

/* Emits an entry whose time has come (or that must go now) with the status it
 * has earned: a call still inside its timeout is open at the end of the
 * capture, evicted when pushed out of the full table. */
static void finalize(struct corr *c, struct corr_entry *e, bool evicted)
{
    if (e->state == CORR_DONE)
        return;
    if (e->kind == CORR_ENT_CAST) {
        emit(c, e, (e->flags & CORR_F_UNROUTABLE) ? OP_UNROUTABLE : OP_OK);
        return;
    }
    if (!(e->flags & CORR_F_REQUEST)) {
        /* Replies whose call never showed up. */
        c->st.orphan_replies++;
        e->state = CORR_DONE;
        release_strings(c, e);
        if (e->deadline.idx != HEAP_NO_INDEX)
            set_deadline(c, e, c->now + linger_ns(c));
        return;
    }
    if (e->flags & CORR_F_UNROUTABLE) {
        emit(c, e, OP_UNROUTABLE);
        return;
    }
    uint64_t tmo = call_tmo_deadline(e);
    if (e->flags & (CORR_F_FINAL_PUB | CORR_F_FINAL_DEL)) {
        uint64_t arrival = e->timeline[LEG_REPLY_DELIVER] ? e->timeline[LEG_REPLY_DELIVER]
                                                          : e->timeline[LEG_REPLY_PUBLISH];
        if (arrival > tmo)
            emit(c, e, OP_TIMEOUT); /* answered, but after the client gave up */
        else
            emit(c, e, (e->flags & CORR_F_ERROR) ? OP_ERROR : OP_OK);
        return;
    }
    if (e->state == CORR_TIMED_OUT || c->now >= tmo) {
        emit(c, e, OP_TIMEOUT);
        return;
    }
    emit(c, e, evicted ? OP_EVICTED : OP_OPEN);
}

/* An entry's deadline passed. */
static void expire(struct corr *c, struct corr_entry *e)
{
    if (e->state == CORR_DONE) {
        entry_free(c, e);
        return;
    }
    if (e->kind == CORR_ENT_CALL && (e->flags & CORR_F_REQUEST) && e->state == CORR_PENDING &&
        !(e->flags & (CORR_F_FINAL_PUB | CORR_F_FINAL_DEL))) {
        /* The client gave up: wait a while for a late reply before reporting. */
        e->state = CORR_TIMED_OUT;
        call_schedule(c, e);
        return;
    }
    finalize(c, e, false);
}

void corr_tick(struct corr *c, uint64_t now_ns)
{
    if (now_ns > c->now)
        c->now = now_ns;
    for (struct corr_entry *e; (e = corr_table_due(&c->t, c->now));)
        expire(c, e);
}

void corr_finish(struct corr *c, uint64_t end_ns)
{
    corr_tick(c, end_ns);
    for (struct corr_entry *e; (e = corr_table_oldest(&c->t));) {
        finalize(c, e, false);
        entry_free(c, e);
    }
}

/* ---------- the stage ---------- */

struct corr *corr_new(const struct corr_config *cfg, void (*on_op)(void *user, const struct op *op),
                      void *user)
{
    struct corr *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (cfg)
        c->cfg = *cfg;
    else
        corr_config_default(&c->cfg);
    if (c->cfg.max_pending == 0)
        c->cfg.max_pending = 1;
    if (c->cfg.call_timeout_s <= 0)
        c->cfg.call_timeout_s = 60.0;
    if (c->cfg.hold_s < 0)
        c->cfg.hold_s = 0;
    c->on_op = on_op;
    c->user = user;
    struct dialect_config dc = {c->cfg.want_bodies, c->cfg.show_secrets, c->cfg.max_inflate};
    /* Each entry holds at most ~20 pooled strings; the pool cannot outgrow that. */
    size_t max_strings = c->cfg.max_pending > SIZE_MAX / 32 ? SIZE_MAX : c->cfg.max_pending * 24;
    if (!dialects_open(&c->dialects, &dc)) {
        free(c);
        return NULL;
    }
    if (!corr_table_init(&c->t) || !strpool_init(&c->sp, max_strings + 4096, CORR_STR_MAX)) {
        corr_table_free(&c->t);
        strpool_free(&c->sp);
        dialects_close(&c->dialects);
        free(c);
        return NULL;
    }
    return c;
}

void corr_free(struct corr *c)
{
    if (!c)
        return;
    for (struct corr_entry *e; (e = corr_table_oldest(&c->t));)
        entry_free(c, e);
    corr_table_free(&c->t);
    strpool_free(&c->sp);
    dialects_close(&c->dialects);
    free(c);
}

/* Counts a message no dialect claimed, by what the first dialect found. */
static void count_unclaimed(struct corr *c, const struct rpc_msg *r)
{
    c->st.not_rpc++;
    switch (r->reject) {
    case RPC_REJECT_EMPTY:
        c->st.empty_bodies++;
        break;
    case RPC_REJECT_INFLATE:
        c->st.inflate_errors++;
        break;
    case RPC_REJECT_TRUNCATED:
        c->st.truncated_bodies++;
        break;
    case RPC_REJECT_MALFORMED:
        c->st.malformed_json++;
        break;
    case RPC_REJECT_FOREIGN:
        c->st.not_oslo++;
        break;
    case RPC_REJECT_NONE:
        break;
    }
}

/* A reply that is one only if its call is known (plain AMQP): is it? */
static bool call_known(struct corr *c, const struct rpc_msg *r)
{
    struct corr_id key;
    if (!corr_id_make(&c->sp, r->call_id, &key))
        return false;
    bool known = corr_table_find(&c->t, CORR_ENT_CALL, (uint8_t)r->dialect, &key) != NULL;
    corr_id_release(&c->sp, &key);
    return known;
}

void corr_message(struct corr *c, const struct amqp_message *m)
{
    c->st.messages++;
    corr_tick(c, m->ts_ns);
    struct rpc_msg r;
    bool mine = dialects_decode(&c->dialects, m, &r);
    if (r.bodies_failed)
        c->st.bodies_failed++;
    if (r.cut)
        c->st.cut_fields++;
    if (!mine) {
        count_unclaimed(c, &r);
        return;
    }
    switch (r.kind) {
    case RPC_CALL_REQUEST:
        on_request(c, &r);
        break;
    case RPC_REPLY:
        if (r.reply_needs_call && !call_known(c, &r))
            c->st.not_rpc++;
        else
            on_reply(c, &r);
        break;
    case RPC_CAST:
    case RPC_FANOUT:
    case RPC_NOTIFICATION:
        on_cast(c, &r);
        break;
    case RPC_OTHER:
        c->st.not_rpc++;
        break;
    }
    rpc_msg_release(&r);
}

/* Still waiting for a reply: not timed out, no reply on the wire yet. */
static bool is_waiting(const struct corr_entry *e)
{
    return is_pending_call(e) && e->state == CORR_PENDING && !e->timeline[LEG_REPLY_PUBLISH] &&
           !e->timeline[LEG_REPLY_DELIVER];
}

size_t corr_foreach_pending(struct corr *c, size_t max, void (*fn)(void *user, const struct op *op),
                            void *user)
{
    /* Walk back from the newest entry to find the newest `max` pending calls,
     * then hand them out oldest first, as a list is read. */
    struct corr_entry *e = corr_table_newest(&c->t), *first = NULL;
    size_t n = 0;
    for (; e && n < max; e = corr_table_older(&c->t, e)) {
        if (is_waiting(e)) {
            first = e;
            n++;
        }
    }
    for (e = first; e; e = corr_table_newer(&c->t, e)) {
        if (!is_waiting(e))
            continue;
        struct op op;
        struct corr_op_text text;
        corr_op_build(e, OP_OPEN, &op, &text);
        fn(user, &op);
    }
    return n;
}

void corr_get_stats(const struct corr *c, struct corr_stats *out)
{
    *out = c->st;
    out->entries = c->t.n;
    memset(out->oslo_errors, 0, sizeof(out->oslo_errors));
    dialects_add_stats(&c->dialects, out);
}

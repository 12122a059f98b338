/*
 * corr_entry.c: the life of one correlation entry, shared by the call and
 * cast state machines: finding the live entry of an id (or turning a late
 * leg away), creating it, filling it from a request's rpc_msg, recording
 * legs and packet numbers, and releasing its pooled strings when it goes.
 * Everything here keeps the entry packed (dissect/corr_table.h): strings are
 * pooled, ids compact, rare fields in the on-demand extra.
 */
#include <stdlib.h>
#include <string.h>

#include "dissect/corr_internal.h"
#include "dissect/corr_op.h"

static uint32_t ms_of(double s)
{
    double ms = s * 1000.0;
    return ms > 4e9 ? 4000000000u : ms < 1 ? 1u : (uint32_t)(ms + 0.5);
}

void corr_release_strings(struct corr *c, struct corr_entry *e)
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

bool corr_is_pending_call(const struct corr_entry *e)
{
    return e->kind == CORR_ENT_CALL && e->state != CORR_DONE && (e->flags & CORR_F_REQUEST);
}

void corr_entry_free(struct corr *c, struct corr_entry *e)
{
    if (corr_is_pending_call(e) && c->st.pending)
        c->st.pending--;
    corr_release_strings(c, e);
    corr_id_release(&c->sp, &e->key);
    corr_table_remove(&c->t, e);
}

struct corr_extra *corr_get_extra(struct corr_entry *e)
{
    if (!e->x)
        e->x = calloc(1, sizeof(*e->x));
    return e->x;
}

void corr_set_deadline(struct corr *c, struct corr_entry *e, uint64_t t)
{
    corr_table_set_deadline(&c->t, e, t);
}

/* A new entry for key; the oldest entries go when the table is full. */
static struct corr_entry *entry_new(struct corr *c, uint8_t kind, uint8_t dialect,
                                    const struct corr_id *key)
{
    struct corr_entry *old;
    while (c->t.n >= c->cfg.max_pending && (old = corr_table_oldest(&c->t))) {
        if (old->state != CORR_DONE)
            c->st.evicted++;
        corr_finalize(c, old, true);
        corr_entry_free(c, old);
    }
    return corr_table_add(&c->t, kind, dialect, key);
}

struct strpool_str *corr_counted(struct corr *c, struct strpool_str *p)
{
    if (!p)
        c->st.intern_full++;
    return p;
}

static void set_str(struct corr *c, struct strpool_str **dst, const char *s)
{
    if (*dst || !s)
        return;
    *dst = corr_counted(c, strpool_cstr(&c->sp, s));
}

static void set_id(struct corr *c, struct corr_id *dst, const char *s)
{
    if (dst->form != CORR_ID_NONE || !s)
        return;
    if (!corr_id_make(&c->sp, s, dst))
        c->st.intern_full++;
}

void corr_add_pkts(struct corr *c, struct corr_entry *e, const struct amqp_message *m)
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

void corr_set_leg(struct corr *c, struct corr_entry *e, enum op_leg leg,
                  const struct amqp_message *m)
{
    if (!e->timeline[leg])
        e->timeline[leg] = m->ts_ns ? m->ts_ns : 1;
    if (!e->conn[leg])
        e->conn[leg] = corr_counted(c, corr_op_conn(&c->sp, &c->conn_memo, m->conn));
    if (!e->first_ns || m->ts_ns < e->first_ns)
        e->first_ns = m->ts_ns;
    if (m->body_truncated)
        e->flags |= CORR_F_BODY_CUT;
}

char *corr_take_body(char **src)
{
    char *s = *src;
    *src = NULL;
    return s;
}

uint64_t corr_linger_ns(const struct corr *c)
{
    double h = c->cfg.hold_s > 1.0 ? c->cfg.hold_s : 1.0;
    return corr_secs_to_ns(h);
}

static enum op_type op_type_of(enum rpc_kind k)
{
    return k == RPC_FANOUT         ? OP_FANOUT
           : k == RPC_NOTIFICATION ? OP_NOTIFICATION
           : k == RPC_CAST         ? OP_CAST
                                   : OP_CALL;
}

void corr_fill_request(struct corr *c, struct corr_entry *e, struct rpc_msg *r)
{
    bool first = !(e->flags & CORR_F_REQUEST);
    e->flags |= CORR_F_REQUEST;
    e->type = (uint8_t)op_type_of(r->kind);
    e->dialect = (uint8_t)r->dialect;
    if (!e->shape)
        e->shape = corr_counted(c, corr_op_shape(&c->sp, r));
    set_id(c, &e->unique_id, r->unique_id);
    set_id(c, &e->request_id, r->request_id);
    set_id(c, &e->global_request_id, r->global_request_id);
    if (r->kind == RPC_CALL_REQUEST && first) {
        e->timeout_ms = ms_of(r->has_timeout ? r->timeout_s : c->cfg.call_timeout_s);
        if (r->has_monitor)
            e->monitor_ms = ms_of(r->monitor_timeout_s);
    }
    if (r->kind == RPC_NOTIFICATION) {
        struct corr_extra *x = corr_get_extra(e);
        if (x) {
            set_str(c, &x->event_type, r->event_type);
            set_str(c, &x->priority, r->priority);
            set_str(c, &x->publisher_id, r->publisher_id);
        }
    }
    if (c->cfg.want_bodies && (r->args_json || r->context_json)) {
        struct corr_extra *x = corr_get_extra(e);
        if (x && !x->args_json && !x->context_json) {
            x->args_json = corr_take_body(&r->args_json);
            x->context_json = corr_take_body(&r->context_json);
        }
    }
}

/* The first step of every leg: pools the operation's id into *key and finds
 * its entry (*e, NULL when new). False, counted, when the id cannot be pooled
 * or the operation was reported already (a late leg: a redelivery, or a leg
 * the capture stage handed over late, held behind a TCP hole); the key is then
 * released. Otherwise the caller owns *key until corr_take_entry(). */
bool corr_find_live(struct corr *c, uint8_t kind, uint8_t dialect, const char *id,
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
struct corr_entry *corr_take_entry(struct corr *c, uint8_t kind, uint8_t dialect,
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

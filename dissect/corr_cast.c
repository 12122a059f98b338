/*
 * corr_cast.c: casts, fanouts and notifications — one-way messages, keyed
 * by their unique id (notifications by message_id), held hold_s after they
 * were first seen so their deliver legs join and a fanout counts its
 * receivers; without any id a leg is reported by itself at once.
 */
#include <stdlib.h>
#include <string.h>

#include "dissect/corr_internal.h"

/* ---------- casts, fanouts, notifications ---------- */

/* A cast with no id to de-duplicate on: reported by itself, at once. */
static void emit_unkeyed(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    struct corr_entry tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.kind = CORR_ENT_CAST;
    heap_node_init(&tmp.deadline, 0);
    corr_fill_request(c, &tmp, r);
    corr_add_pkts(c, &tmp, m);
    if (m->kind == AMQP_CONTENT_RETURN)
        tmp.flags |= CORR_F_UNROUTABLE;
    else
        corr_set_leg(c, &tmp, corr_request_leg(m), m);
    if (m->kind == AMQP_CONTENT_DELIVER || m->kind == AMQP_CONTENT_GET_OK)
        tmp.fanout_receivers = 1;
    corr_emit(c, &tmp, (tmp.flags & CORR_F_UNROUTABLE) ? OP_UNROUTABLE : OP_OK);
    corr_release_strings(c, &tmp);
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
    struct corr_extra *x = corr_get_extra(e);
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
    corr_set_leg(c, e, LEG_REQUEST_DELIVER, m);
}

/* A fanout's first leg: a delivery of one already reported is a replay (a
 * stream re-read, corr_seen.h), counted; anything else is remembered. */
static bool fanout_replayed(struct corr *c, const struct amqp_message *m, const char *id)
{
    if (!c->seen && !(c->seen = calloc(1, sizeof *c->seen)))
        return false;
    bool deliver = m->kind == AMQP_CONTENT_DELIVER || m->kind == AMQP_CONTENT_GET_OK;
    if (deliver && corr_seen_has(c->seen, id)) {
        c->st.fanout_replays++;
        return true;
    }
    corr_seen_add(c->seen, id);
    c->st.fanout_ids_evicted = c->seen->evicted;
    return false;
}

void corr_on_cast(struct corr *c, struct rpc_msg *r)
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
    if (!corr_find_live(c, CORR_ENT_CAST, (uint8_t)r->dialect, id, &key, &e))
        return;
    if (!e && r->kind == RPC_FANOUT && fanout_replayed(c, m, id)) {
        corr_id_release(&c->sp, &key);
        return;
    }
    bool created = !e;
    if (!(e = corr_take_entry(c, CORR_ENT_CAST, (uint8_t)r->dialect, &key, e)))
        return;
    corr_fill_request(c, e, r); /* on a later leg: fills what the first lacked (e.g. a server) */
    if (created) {
        (*count)++;
        e->first_ns = m->ts_ns;
        corr_set_deadline(c, e, m->ts_ns + corr_secs_to_ns(c->cfg.hold_s));
    }
    corr_add_pkts(c, e, m);
    if (m->kind == AMQP_CONTENT_RETURN) {
        if (!(e->flags & CORR_F_UNROUTABLE))
            c->st.unroutable++;
        e->flags |= CORR_F_UNROUTABLE;
        return;
    }
    if (m->kind == AMQP_CONTENT_PUBLISH) {
        if (e->timeline[LEG_REQUEST_PUBLISH])
            c->st.duplicates++;
        corr_set_leg(c, e, LEG_REQUEST_PUBLISH, m);
        return;
    }
    cast_delivered(c, e, m);
}
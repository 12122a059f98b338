/*
 * corr_call.c: the call state machine — a call's request legs, its replies
 * (heartbeats, the final answer, duplicates) and what it waits for next.
 *
 * A call waits for its final reply until its timeout (the client's own:
 * expiration, else --call-timeout; earlier with an oslo call monitor that
 * saw no heartbeat), then a bounded late window so a late reply lands on
 * the call itself; a reply seen only on its publish leg waits hold_s for
 * its deliver leg. Everything here is dialect-neutral (struct rpc_msg).
 */
#include <stdlib.h>
#include <string.h>

#include "dissect/corr_internal.h"
#include "dissect/corr_op.h"

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
uint64_t corr_call_deadline(const struct corr_entry *e)
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
        return corr_secs_to_ns(c->cfg.late_window_s);
    /* The timeout the client really applied (a call monitor can shorten it). */
    double t = (double)(corr_call_deadline(e) - call_start(e)) / 1e9;
    if (t < 5)
        t = 5;
    if (t > 300)
        t = 300;
    return corr_secs_to_ns(t);
}

/* Re-evaluates what a call waits for next and sets its deadline; emits it when done. */
void corr_call_schedule(struct corr *c, struct corr_entry *e)
{
    if (e->state == CORR_DONE)
        return;
    if (!(e->flags & CORR_F_REQUEST)) {
        /* Replies only so far: wait hold_s for the request, then count an orphan. */
        corr_set_deadline(c, e, e->first_ns + corr_secs_to_ns(c->cfg.hold_s));
        return;
    }
    if (e->flags & CORR_F_UNROUTABLE) {
        corr_emit(c, e, OP_UNROUTABLE);
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
            corr_finalize(c, e, false);
        else
            corr_set_deadline(c, e,
                              e->timeline[LEG_REPLY_DELIVER] + corr_secs_to_ns(c->cfg.hold_s));
        return;
    }
    uint64_t tmo = corr_call_deadline(e);
    if ((e->flags & CORR_F_FINAL_PUB) && !corr_call_awaits_deliver(c, e)) {
        corr_set_deadline(c, e, e->timeline[LEG_REPLY_PUBLISH] + corr_secs_to_ns(c->cfg.hold_s));
        return;
    }
    /* No reply yet, or one the broker returned or has not delivered while the
     * capture shows deliveries: the caller waits until its timeout. */
    if (e->state == CORR_TIMED_OUT)
        corr_set_deadline(c, e, tmo + late_window_ns(c, e));
    else
        corr_set_deadline(c, e, tmo);
}

void corr_on_request(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    struct corr_id key;
    struct corr_entry *e;
    if (!corr_find_live(c, CORR_ENT_CALL, (uint8_t)r->dialect, r->call_id, &key, &e))
        return;
    if (e && (e->flags & CORR_F_REQUEST) && m->kind != AMQP_CONTENT_RETURN) {
        enum op_leg leg = corr_request_leg(m);
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
            corr_finalize(c, e, false);
            corr_entry_free(c, e);
            e = NULL;
        } else if (e->timeline[leg]) {
            c->st.duplicates++; /* re-published or redelivered */
            corr_add_pkts(c, e, m);
            corr_id_release(&c->sp, &key);
            return;
        }
    }
    if (!(e = corr_take_entry(c, CORR_ENT_CALL, (uint8_t)r->dialect, &key, e)))
        return;
    if (!(e->flags & CORR_F_REQUEST)) {
        c->st.calls++;
        if (r->dialect == OP_DIALECT_AMQP)
            c->st.amqp_calls++;
        if (++c->st.pending > c->st.pending_peak)
            c->st.pending_peak = c->st.pending;
    }
    corr_fill_request(c, e, r);
    corr_add_pkts(c, e, m);
    if (m->kind == AMQP_CONTENT_RETURN) {
        c->st.unroutable++;
        e->flags |= CORR_F_UNROUTABLE;
        if (!e->first_ns)
            e->first_ns = m->ts_ns;
    } else {
        corr_set_leg(c, e, corr_request_leg(m), m);
    }
    corr_call_schedule(c, e);
}

/* Remembers a reply's unique id; true when it had not been seen for this call. */
static bool reply_is_new(struct corr *c, struct corr_entry *e, const struct rpc_msg *r,
                         enum op_leg leg, struct corr_id *uid_out)
{
    struct corr_extra *x = corr_get_extra(e);
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
        x->result_json = corr_take_body(&r->result_json);
}

/* A reply the broker returned to the server (its mandatory publish found no
 * queue: the caller's reply queue is gone). Matched to its call by call id on
 * whatever connection it comes back; a call reported already only counts it. */
static void on_returned_reply(struct corr *c, struct rpc_msg *r)
{
    c->st.returned_replies++;
    struct corr_id key;
    if (!r->call_id || !corr_id_make(&c->sp, r->call_id, &key))
        return;
    struct corr_entry *e = corr_table_find(&c->t, CORR_ENT_CALL, (uint8_t)r->dialect, &key);
    corr_id_release(&c->sp, &key);
    if (!e || e->state == CORR_DONE || !(e->flags & CORR_F_REQUEST))
        return;
    e->flags |= CORR_F_REPLY_RETURNED;
    corr_add_pkts(c, e, r->leg);
    corr_call_schedule(c, e);
}

bool corr_call_awaits_deliver(const struct corr *c, const struct corr_entry *e)
{
    if (!(e->flags & CORR_F_FINAL_PUB) || (e->flags & CORR_F_FINAL_DEL))
        return false;
    return (e->flags & CORR_F_REPLY_RETURNED) ||
           (c->legs_seen[e->dialect] & (1u << LEG_REPLY_DELIVER));
}

enum op_verdict corr_call_verdict(const struct corr *c, const struct corr_entry *e,
                                  enum op_status s)
{
    if (e->kind != CORR_ENT_CALL || !(e->flags & CORR_F_REQUEST))
        return OP_VERDICT_NONE;
    if (s == OP_UNROUTABLE)
        return OP_VERDICT_NOT_ROUTED;
    if (s == OP_OPEN || s == OP_EVICTED || s == OP_UNKNOWN)
        return OP_VERDICT_UNKNOWN; /* not ended when the capture did, or the capture was blind */
    unsigned seen = c->legs_seen[e->dialect];
    if (e->flags & CORR_F_FINAL_DEL)
        return s == OP_TIMEOUT ? OP_VERDICT_LATE_REPLY
               : s == OP_ERROR ? OP_VERDICT_REMOTE_ERROR
                               : OP_VERDICT_OK;
    if (e->flags & CORR_F_REPLY_RETURNED)
        return OP_VERDICT_REPLY_RETURNED;
    if (e->flags & CORR_F_FINAL_PUB) {
        if (seen & (1u << LEG_REPLY_DELIVER))
            return OP_VERDICT_REPLY_NOT_DELIVERED;
        /* The caller's side is out of view: only a reply published after the
         * timeout tells something. */
        if (s == OP_TIMEOUT && e->timeline[LEG_REPLY_PUBLISH] > corr_call_deadline(e))
            return OP_VERDICT_LATE_REPLY;
        return OP_VERDICT_UNKNOWN;
    }
    if (e->timeline[LEG_REQUEST_DELIVER])
        return (seen & (1u << LEG_REPLY_PUBLISH)) ? OP_VERDICT_NO_REPLY : OP_VERDICT_UNKNOWN;
    return (seen & (1u << LEG_REQUEST_DELIVER)) ? OP_VERDICT_NOT_DELIVERED : OP_VERDICT_UNKNOWN;
}

void corr_on_reply(struct corr *c, struct rpc_msg *r)
{
    const struct amqp_message *m = r->leg;
    if (m->kind == AMQP_CONTENT_RETURN) {
        on_returned_reply(c, r);
        return;
    }
    enum op_leg leg = m->kind == AMQP_CONTENT_PUBLISH ? LEG_REPLY_PUBLISH : LEG_REPLY_DELIVER;
    struct corr_id key;
    struct corr_entry *e;
    /* For a call reported already, this is its reply's other leg after the hold, or a repeat. */
    if (!corr_find_live(c, CORR_ENT_CALL, (uint8_t)r->dialect, r->call_id, &key, &e))
        return;
    bool created = !e;
    if (!(e = corr_take_entry(c, CORR_ENT_CALL, (uint8_t)r->dialect, &key, e)))
        return;
    if (created) {
        e->type = OP_CALL;
        e->first_ns = m->ts_ns;
    }
    struct corr_extra *x = corr_get_extra(e);
    struct corr_id uid;
    bool fresh = reply_is_new(c, e, r, leg, &uid);
    if (leg == LEG_REPLY_PUBLISH)
        e->flags |= CORR_F_REPLY_PUB;
    if (m->body_truncated)
        e->flags |= CORR_F_BODY_CUT;
    corr_add_pkts(c, e, m);
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
            e->conn[leg] = corr_counted(c, corr_op_conn(&c->sp, &c->conn_memo, m->conn));
        }
        e->flags |= leg == LEG_REPLY_PUBLISH ? CORR_F_FINAL_PUB : CORR_F_FINAL_DEL;
    }
    corr_id_release(&c->sp, &uid);
    corr_call_schedule(c, e);
}
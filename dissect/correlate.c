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
 * they become struct op in dissect/corr_op.h. This file is the stage: the
 * dialects, emission and timers; the call state machine is in corr_call.c,
 * casts in corr_cast.c, an entry's life (finding, creating, filling, freeing)
 * in corr_entry.c (shared: corr_internal.h).
 *
 * Entry life: PENDING (collecting legs) → TIMED_OUT (calls only: waiting
 * for a late reply) → DONE (emitted; the key lingers a little so stray
 * legs are recognised as duplicates, not new operations) → freed.
 */
#include "dissect/correlate.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/corr_internal.h"
#include "dissect/corr_op.h"

void corr_config_default(struct corr_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->call_timeout_s = 60.0;
    cfg->max_pending = 1000000;
    cfg->max_inflate = 64u << 20;
    cfg->hold_s = 2.0;
    cfg->want_pkts = true;
}

uint64_t corr_secs_to_ns(double s)
{
    return s <= 0 ? 0 : (uint64_t)(s * 1e9 + 0.5);
}

enum op_leg corr_request_leg(const struct amqp_message *m)
{
    return m->kind == AMQP_CONTENT_PUBLISH ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER;
}

/* ---------- emission ---------- */

void corr_emit(struct corr *c, struct corr_entry *e, enum op_status status)
{
    struct op op;
    struct corr_op_text text;
    corr_op_build(e, status, &op, &text);
    op.verdict = corr_call_verdict(c, e, status);
    if (op.verdict == OP_VERDICT_REPLY_RETURNED || op.verdict == OP_VERDICT_REPLY_NOT_DELIVERED)
        op.late_reply = false; /* a reply was published, but never reached the caller */
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
    if (corr_is_pending_call(e) && c->st.pending)
        c->st.pending--;
    e->state = CORR_DONE;
    corr_release_strings(c, e);
    if (e->deadline.idx != HEAP_NO_INDEX)
        corr_set_deadline(c, e, c->now + corr_linger_ns(c));
}

void corr_note_loss(struct corr *c, uint64_t from_ns, uint64_t to_ns)
{
    if (to_ns < from_ns)
        to_ns = from_ns;
    struct corr_loss *last = c->nloss ? &c->loss[c->nloss - 1] : NULL;
    if (last && from_ns <= last->to && to_ns >= last->from) { /* overlaps the newest: widen it */
        last->from = from_ns < last->from ? from_ns : last->from;
        last->to = to_ns > last->to ? to_ns : last->to;
        return;
    }
    if (c->nloss == CORR_LOSS_MAX) {
        c->loss[0].to = c->loss[1].to > c->loss[0].to ? c->loss[1].to : c->loss[0].to;
        memmove(&c->loss[1], &c->loss[2], (CORR_LOSS_MAX - 2) * sizeof c->loss[0]);
        c->nloss--;
    }
    c->loss[c->nloss++] = (struct corr_loss){from_ns, to_ns};
}

/* Whether the capture lost packets while the call was pending. */
static bool pending_during_loss(const struct corr *c, const struct corr_entry *e, uint64_t until)
{
    uint64_t from = e->timeline[LEG_REQUEST_PUBLISH] ? e->timeline[LEG_REQUEST_PUBLISH]
                                                    : e->timeline[LEG_REQUEST_DELIVER];
    for (unsigned i = 0; i < c->nloss; i++)
        if (c->loss[i].from <= until && c->loss[i].to >= from)
            return true;
    return false;
}

/* A call that ends without a reply seen: a timeout, unless the capture was
 * blind for a while during it. */
static enum op_status no_reply_status(struct corr *c, const struct corr_entry *e)
{
    uint64_t tmo = corr_call_deadline(e);
    if (!pending_during_loss(c, e, tmo < c->now ? tmo : c->now))
        return OP_TIMEOUT;
    c->st.unknown_loss++;
    return OP_UNKNOWN;
}

/* Emits an entry whose time has come (or that must go now) with the status it
 * has earned: a call still inside its timeout is open at the end of the
 * capture, evicted when pushed out of the full table. */
void corr_finalize(struct corr *c, struct corr_entry *e, bool evicted)
{
    if (e->state == CORR_DONE)
        return;
    if (e->kind == CORR_ENT_CAST) {
        corr_emit(c, e, (e->flags & CORR_F_UNROUTABLE) ? OP_UNROUTABLE : OP_OK);
        return;
    }
    if (!(e->flags & CORR_F_REQUEST)) {
        /* Replies whose call never showed up. */
        c->st.orphan_replies++;
        e->state = CORR_DONE;
        corr_release_strings(c, e);
        if (e->deadline.idx != HEAP_NO_INDEX)
            corr_set_deadline(c, e, c->now + corr_linger_ns(c));
        return;
    }
    if (e->flags & CORR_F_UNROUTABLE) {
        corr_emit(c, e, OP_UNROUTABLE);
        return;
    }
    uint64_t tmo = corr_call_deadline(e);
    if (corr_call_awaits_deliver(c, e)) {
        /* Published, returned or not delivered: the caller is still waiting. */
        corr_emit(c, e,
                  e->state == CORR_TIMED_OUT || c->now >= tmo ? no_reply_status(c, e)
                  : evicted                                   ? OP_EVICTED
                                                              : OP_OPEN);
        return;
    }
    if (e->flags & (CORR_F_FINAL_PUB | CORR_F_FINAL_DEL)) {
        uint64_t arrival = e->timeline[LEG_REPLY_DELIVER] ? e->timeline[LEG_REPLY_DELIVER]
                                                          : e->timeline[LEG_REPLY_PUBLISH];
        if (arrival > tmo)
            corr_emit(c, e, OP_TIMEOUT); /* answered, but after the client gave up */
        else
            corr_emit(c, e, (e->flags & CORR_F_ERROR) ? OP_ERROR : OP_OK);
        return;
    }
    if (e->state == CORR_TIMED_OUT || c->now >= tmo) {
        corr_emit(c, e, no_reply_status(c, e));
        return;
    }
    corr_emit(c, e, evicted ? OP_EVICTED : OP_OPEN);
}

/* An entry's deadline passed. */
static void expire(struct corr *c, struct corr_entry *e)
{
    if (e->state == CORR_DONE) {
        corr_entry_free(c, e);
        return;
    }
    if (e->kind == CORR_ENT_CALL && (e->flags & CORR_F_REQUEST) && e->state == CORR_PENDING &&
        !(e->flags & CORR_F_FINAL_DEL) &&
        (!(e->flags & CORR_F_FINAL_PUB) || corr_call_awaits_deliver(c, e))) {
        if (c->now < corr_call_deadline(e)) {
            /* Deliveries came into view since the reply's hold was set. */
            corr_call_schedule(c, e);
            return;
        }
        /* The client gave up: wait a while for a late reply before reporting. */
        e->state = CORR_TIMED_OUT;
        corr_call_schedule(c, e);
        return;
    }
    corr_finalize(c, e, false);
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
        corr_finalize(c, e, false);
        corr_entry_free(c, e);
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
        corr_entry_free(c, e);
    corr_table_free(&c->t);
    corr_conn_memo_free(&c->sp, &c->conn_memo);
    strpool_free(&c->sp);
    dialects_close(&c->dialects);
    free(c->seen);
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
    /* Which kinds of call legs the capture shows at all (for the verdicts); a
     * would-be reply of no known call is no evidence. */
    bool reply_of_none = r.kind == RPC_REPLY && r.reply_needs_call && !call_known(c, &r);
    if ((r.kind == RPC_CALL_REQUEST || r.kind == RPC_REPLY) && !reply_of_none &&
        m->kind != AMQP_CONTENT_RETURN && (unsigned)r.dialect < OP_DIALECT_COUNT) {
        bool pub = m->kind == AMQP_CONTENT_PUBLISH;
        enum op_leg leg = r.kind == RPC_CALL_REQUEST
                              ? (pub ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER)
                          : pub ? LEG_REPLY_PUBLISH
                                : LEG_REPLY_DELIVER;
        c->legs_seen[r.dialect] |= (uint8_t)(1u << leg);
    }
    switch (r.kind) {
    case RPC_CALL_REQUEST:
        corr_on_request(c, &r);
        break;
    case RPC_REPLY:
        if (reply_of_none)
            c->st.not_rpc++;
        else
            corr_on_reply(c, &r);
        break;
    case RPC_CAST:
    case RPC_FANOUT:
    case RPC_NOTIFICATION:
        corr_on_cast(c, &r);
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
    return corr_is_pending_call(e) && e->state == CORR_PENDING && !e->timeline[LEG_REPLY_PUBLISH] &&
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

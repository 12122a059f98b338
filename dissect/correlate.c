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
 * dialects, entry life, emission and timers; the call state machine is in
 * corr_call.c, casts in corr_cast.c (shared: corr_internal.h).
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

static uint32_t ms_of(double s)
{
    double ms = s * 1000.0;
    return ms > 4e9 ? 4000000000u : ms < 1 ? 1u : (uint32_t)(ms + 0.5);
}

enum op_leg corr_request_leg(const struct amqp_message *m)
{
    return m->kind == AMQP_CONTENT_PUBLISH ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER;
}

/* ---------- entry lifetime ---------- */

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
        e->conn[leg] = corr_counted(c, corr_op_conn(&c->sp, m->conn));
    if (!e->first_ns || m->ts_ns < e->first_ns)
        e->first_ns = m->ts_ns;
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

/* ---------- emission ---------- */

void corr_emit(struct corr *c, struct corr_entry *e, enum op_status status)
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
    if (corr_is_pending_call(e) && c->st.pending)
        c->st.pending--;
    e->state = CORR_DONE;
    corr_release_strings(c, e);
    if (e->deadline.idx != HEAP_NO_INDEX)
        corr_set_deadline(c, e, c->now + corr_linger_ns(c));
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
        corr_emit(c, e, OP_TIMEOUT);
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
        !(e->flags & (CORR_F_FINAL_PUB | CORR_F_FINAL_DEL))) {
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
        corr_on_request(c, &r);
        break;
    case RPC_REPLY:
        if (r.reply_needs_call && !call_known(c, &r))
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

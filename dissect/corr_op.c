/*
 * corr_op.c: building struct op from a correlation entry (corr_op.h).
 *
 * The shape string packs each field as a presence byte, the bytes and a NUL,
 * so the pooled copy is read back as plain C strings with no allocation.
 * Latency is taken between the widest pair of legs seen (request publish →
 * reply deliver first), so it means "what the client waited" when it can.
 */
#include "dissect/corr_op.h"

#include <stdlib.h>
#include <string.h>

#define CORR_FIELD_MAX 255 /* one field of a shape */

enum shape_field {
    SH_EXCHANGE,
    SH_ROUTING_KEY,
    SH_TOPIC,
    SH_SERVER,
    SH_METHOD,
    SH_NAMESPACE,
    SH_VERSION,
    SH_REPLY_Q,
    SH_COUNT
};

static size_t shape_put(uint8_t *buf, size_t n, const void *p, size_t len, bool present)
{
    buf[n++] = present;
    if (present) {
        if (len > CORR_FIELD_MAX)
            len = CORR_FIELD_MAX;
        memcpy(buf + n, p, len);
        n += len;
    }
    buf[n++] = '\0';
    return n;
}

static size_t shape_str(uint8_t *buf, size_t n, const char *s)
{
    return shape_put(buf, n, s, s ? strlen(s) : 0, s != NULL);
}

struct strpool_str *corr_op_shape(struct strpool *sp, const struct rpc_msg *r)
{
    uint8_t buf[SH_COUNT * (CORR_FIELD_MAX + 2)];
    size_t n = 0;
    n = shape_put(buf, n, r->exchange.p, r->exchange.len, r->exchange.p != NULL);
    n = shape_put(buf, n, r->routing_key.p, r->routing_key.len, r->routing_key.p != NULL);
    n = shape_str(buf, n, r->topic);
    n = shape_str(buf, n, r->server);
    n = shape_str(buf, n, r->method);
    n = shape_str(buf, n, r->namespace_);
    n = shape_str(buf, n, r->version);
    n = shape_str(buf, n, r->reply_to);
    return strpool_get(sp, buf, n);
}

static void shape_fields(const struct strpool_str *sh, const char *out[SH_COUNT])
{
    memset(out, 0, SH_COUNT * sizeof(out[0]));
    if (!sh)
        return;
    const char *p = sh->s, *end = sh->s + sh->len;
    for (int i = 0; i < SH_COUNT && p < end; i++) {
        bool present = *p++;
        out[i] = present ? p : NULL;
        p += strlen(p) + 1;
    }
}

/* Connection identity as pooled bytes: id(8) family(1) ip(16) port(2) name. */
#define CONN_HDR 29

void corr_conn_memo_free(struct strpool *sp, struct corr_conn_memo *memo)
{
    for (size_t i = 0; i < CORR_CONN_MEMO; i++) {
        strpool_put(sp, memo->key[i]);
        memo->key[i] = NULL;
    }
}

struct strpool_str *corr_op_conn(struct strpool *sp, struct corr_conn_memo *memo,
                                 const struct amqp_conn_info *ci)
{
    uint8_t buf[CONN_HDR + sizeof(ci->connection_name)];
    if (!ci)
        return NULL;
    size_t nl = strnlen(ci->connection_name, sizeof(ci->connection_name) - 1);
    memcpy(buf, &ci->id, 8);
    buf[8] = ci->client.family;
    memcpy(buf + 9, ci->client.ip, 16);
    memcpy(buf + 25, &ci->client.port, 2);
    memcpy(buf + 27, &ci->source, 2);
    memcpy(buf + CONN_HDR, ci->connection_name, nl);
    size_t n = CONN_HDR + nl;
    struct strpool_str **slot =
        &memo->key[(ci->id * 0x9e3779b97f4a7c15ull) >> (64 - CORR_CONN_MEMO_BITS)];
    if (*slot && (*slot)->len == n && memcmp((*slot)->s, buf, n) == 0)
        return strpool_ref(*slot); /* what strpool_get would answer */
    struct strpool_str *p = strpool_get(sp, buf, n);
    if (p) {
        strpool_put(sp, *slot);
        *slot = strpool_ref(p);
    }
    return p;
}

static void conn_peer(const struct strpool_str *p, struct op_peer *peer, uint64_t *id,
                      uint16_t *source)
{
    memset(peer, 0, sizeof(*peer));
    if (!p || p->len < CONN_HDR)
        return;
    peer->known = true;
    memcpy(id, p->s, 8);
    memcpy(source, p->s + 27, 2);
    peer->addr.family = (uint8_t)p->s[8];
    memcpy(peer->addr.ip, p->s + 9, 16);
    memcpy(&peer->addr.port, p->s + 25, 2);
    peer->connection_name = p->len > CONN_HDR ? p->s + CONN_HDR : NULL;
}

static double leg_ms(const struct corr_entry *e, enum op_leg a, enum op_leg b)
{
    if (!e->timeline[a] || !e->timeline[b] || e->timeline[b] < e->timeline[a])
        return -1.0;
    return (double)(e->timeline[b] - e->timeline[a]) / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void set_latency(const struct corr_entry *e, struct op *op)
{
    static const enum op_leg pairs[][2] = {
        {LEG_REQUEST_PUBLISH, LEG_REPLY_DELIVER},
        {LEG_REQUEST_PUBLISH, LEG_REPLY_PUBLISH},
        {LEG_REQUEST_DELIVER, LEG_REPLY_DELIVER},
        {LEG_REQUEST_DELIVER, LEG_REPLY_PUBLISH},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        double ms = leg_ms(e, pairs[i][0], pairs[i][1]);
        if (ms >= 0) {
            op->has_latency = true;
            op->latency_ms = ms;
            op->latency_from = pairs[i][0];
            op->latency_to = pairs[i][1];
            return;
        }
    }
}

/* The largest part of the time between the first and last legs seen, when
 * every part in between was seen (else nothing: the split is unknown). */
static enum op_slow slow_part(const struct corr_entry *e)
{
    int first = -1, last = -1;
    for (int l = 0; l < LEG_COUNT; l++) {
        if (!e->timeline[l])
            continue;
        if (first < 0)
            first = l;
        last = l;
    }
    if (first < 0 || last <= first || last < LEG_REPLY_PUBLISH)
        return OP_SLOW_NONE; /* no reply leg: nothing answered, nothing to split */
    enum op_slow best = OP_SLOW_NONE;
    double best_ms = -1;
    for (int l = first; l < last; l++) {
        double ms = leg_ms(e, (enum op_leg)l, (enum op_leg)(l + 1));
        if (ms < 0)
            return OP_SLOW_NONE;
        if (ms > best_ms) {
            best_ms = ms;
            best = (enum op_slow)(OP_SLOW_QUEUE + l);
        }
    }
    return best;
}

static void set_peers(const struct corr_entry *e, struct op *op)
{
    /* client: who published the request (else who received the reply);
     * server_peer: who received the request (else who published the reply). */
    const struct strpool_str *cl =
        e->conn[LEG_REQUEST_PUBLISH] ? e->conn[LEG_REQUEST_PUBLISH] : e->conn[LEG_REPLY_DELIVER];
    const struct strpool_str *sv =
        e->conn[LEG_REQUEST_DELIVER] ? e->conn[LEG_REQUEST_DELIVER] : e->conn[LEG_REPLY_PUBLISH];
    uint64_t dummy;
    uint16_t dsrc;
    conn_peer(cl, &op->client, &dummy, &dsrc);
    conn_peer(sv, &op->server_peer, &dummy, &dsrc);
    for (int l = 0; l < LEG_COUNT; l++) {
        struct op_peer p;
        conn_peer(e->conn[l], &p, &op->leg_conn[l], &op->leg_source[l]);
    }
}

void corr_op_build(struct corr_entry *e, enum op_status status, struct op *out,
                   struct corr_op_text *t)
{
    struct op op;
    memset(&op, 0, sizeof(op));
    op.dialect = (enum op_dialect)e->dialect;
    op.type = (enum op_type)e->type;
    op.status = status;
    memcpy(op.timeline, e->timeline, sizeof(op.timeline));
    op.ts_ns = e->timeline[LEG_REQUEST_PUBLISH] ? e->timeline[LEG_REQUEST_PUBLISH] : e->first_ns;
    if (e->kind == CORR_ENT_CALL)
        op.msg_id = corr_id_format(&e->key, t->msg, sizeof(t->msg));
    op.unique_id = corr_id_format(&e->unique_id, t->uid, sizeof(t->uid));
    const char *sh[SH_COUNT];
    shape_fields(e->shape, sh);
    op.exchange = sh[SH_EXCHANGE];
    op.routing_key = sh[SH_ROUTING_KEY];
    op.topic = sh[SH_TOPIC];
    op.server = sh[SH_SERVER];
    op.method = sh[SH_METHOD];
    op.namespace_ = sh[SH_NAMESPACE];
    op.version = sh[SH_VERSION];
    op.reply_q = sh[SH_REPLY_Q];
    op.request_id = corr_id_format(&e->request_id, t->req, sizeof(t->req));
    op.global_request_id = corr_id_format(&e->global_request_id, t->greq, sizeof(t->greq));
    op.queue_wait_ms = leg_ms(e, LEG_REQUEST_PUBLISH, LEG_REQUEST_DELIVER);
    op.server_ms = leg_ms(e, LEG_REQUEST_DELIVER, LEG_REPLY_PUBLISH);
    op.reply_ms = leg_ms(e, LEG_REPLY_PUBLISH, LEG_REPLY_DELIVER);
    op.replies = e->replies;
    op.heartbeats = e->heartbeats;
    op.fanout_receivers = e->fanout_receivers;
    if (e->kind == CORR_ENT_CALL) {
        op.timeout_s = (double)e->timeout_ms / 1000.0;
        uint64_t arrival = e->timeline[LEG_REPLY_DELIVER] ? e->timeline[LEG_REPLY_DELIVER]
                                                          : e->timeline[LEG_REPLY_PUBLISH];
        op.late_reply = status == OP_TIMEOUT && arrival != 0;
        if (status == OP_OK || status == OP_ERROR)
            set_latency(e, &op);
        op.slow_in = slow_part(e);
    }
    set_peers(e, &op);
    op.body_truncated = (e->flags & CORR_F_BODY_CUT) != 0;
    struct corr_extra *x = e->x;
    if (x) {
        if (status == OP_ERROR || (e->flags & CORR_F_ERROR)) {
            op.error_class = x->error_class;
            op.error_module = x->error_module;
            op.error_message = x->error_message;
        }
        op.event_type = strpool_text(x->event_type);
        op.priority = strpool_text(x->priority);
        op.publisher_id = strpool_text(x->publisher_id);
        op.args_json = x->args_json;
        op.result_json = x->result_json;
        op.context_json = x->context_json;
    }
    if (e->npkts) {
        qsort(e->pkts, e->npkts, sizeof(e->pkts[0]), cmp_u64);
        op.pkts = e->pkts;
        op.npkts = e->npkts;
    }
    /* Notifications are keyed by message_id (by unique id only when it was missing). */
    if (e->type == OP_NOTIFICATION && !corr_id_equal(&e->key, &e->unique_id))
        op.message_id = corr_id_format(&e->key, t->mid, sizeof(t->mid));
    *out = op;
}

/*
 * test_correlate.c: correlation fed hand-built AMQP messages (no AMQP stage).
 *
 * Each test plays a short story — legs of calls, replies, casts — with
 * chosen packet timestamps, ticks the clock, and checks what was emitted
 * and the counters: every reply shape (single, old two-message, call-monitor
 * heartbeats), timeouts, late replies, eviction, orphans, unroutable
 * requests, duplicated msg_ids, redeliveries, every subset of the four legs
 * in every order, fanout receivers, cast and notification de-duplication,
 * a bounded table under a flood, and secrets never reaching an op.
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

#include "dissect/correlate.h"
#include "ui/ndjson.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1795576490ull * SEC)
#define TOKEN "HARNESSFAKETOKEN"

/* What the tests look at, copied out of the callback. */
struct rec {
    enum op_type type;
    enum op_status status;
    char msg_id[64], unique_id[64], topic[64], server[64], method[64], error_class[64];
    char client_name[64], server_name[64], event_type[64], message_id[64];
    bool has_latency, late_reply;
    enum op_verdict verdict;
    enum op_slow slow_in;
    char client_process[64], server_process[64];
    double latency_ms, queue_wait_ms, server_ms;
    enum op_leg from, to;
    unsigned replies, heartbeats, fanout_receivers;
    uint64_t timeline[LEG_COUNT], ts;
    size_t npkts;
    uint64_t pkts[8];
    double timeout_s;
    bool leak;
};

struct fx {
    struct corr *c;
    struct rec recs[64];
    size_t n;
};

static void cp(char *dst, const char *src)
{
    snprintf(dst, 64, "%s", src ? src : "");
}

static void on_op(void *u, const struct op *op)
{
    struct fx *f = u;
    char *line;
    size_t len;
    assert_true(ndjson_format_op(op, &line, &len));
    bool leak = strstr(line, TOKEN) != NULL;
    free(line);
    if (f->n >= 64) {
        f->n++;
        return;
    }
    struct rec *r = &f->recs[f->n++];
    memset(r, 0, sizeof *r);
    r->leak = leak;
    r->type = op->type;
    r->status = op->status;
    cp(r->msg_id, op->msg_id);
    cp(r->unique_id, op->unique_id);
    cp(r->topic, op->topic);
    cp(r->server, op->server);
    cp(r->method, op->method);
    cp(r->error_class, op->error_class);
    cp(r->client_name, op->client.connection_name);
    cp(r->server_name, op->server_peer.connection_name);
    cp(r->event_type, op->event_type);
    cp(r->message_id, op->message_id);
    r->has_latency = op->has_latency;
    r->late_reply = op->late_reply;
    r->verdict = op->verdict;
    r->slow_in = op->slow_in;
    char pb[OP_PROCESS_MAX];
    cp(r->client_process, op_client_process(op, pb, sizeof pb));
    cp(r->server_process, op_server_process(op, pb, sizeof pb));
    r->latency_ms = op->latency_ms;
    r->queue_wait_ms = op->queue_wait_ms;
    r->server_ms = op->server_ms;
    r->from = op->latency_from;
    r->to = op->latency_to;
    r->replies = op->replies;
    r->heartbeats = op->heartbeats;
    r->fanout_receivers = op->fanout_receivers;
    memcpy(r->timeline, op->timeline, sizeof r->timeline);
    r->ts = op->ts_ns;
    r->timeout_s = op->timeout_s;
    r->npkts = op->npkts;
    for (size_t i = 0; i < op->npkts && i < 8; i++)
        r->pkts[i] = op->pkts[i];
}

static struct fx *fx_new(size_t max_pending, bool bodies)
{
    struct fx *f = calloc(1, sizeof *f);
    struct corr_config cfg;
    corr_config_default(&cfg);
    if (max_pending)
        cfg.max_pending = max_pending;
    cfg.want_bodies = bodies;
    f->c = corr_new(&cfg, on_op, f);
    assert_non_null(f->c);
    return f;
}

static void fx_free(struct fx *f)
{
    corr_free(f->c);
    free(f);
}

static struct corr_stats stats(struct fx *f)
{
    struct corr_stats s;
    corr_get_stats(f->c, &s);
    return s;
}

/* Connections: the client's publishing one, its reply consumer, two servers. */
static struct amqp_conn_info conns[5];

static int group_setup(void **state)
{
    (void)state;
    const char *names[] = {"", "client:pub", "client:reply", "server:host-a", "server:host-b"};
    for (int i = 1; i < 5; i++) {
        conns[i].id = (uint64_t)i;
        conns[i].client.family = 4;
        conns[i].client.ip[0] = 10, conns[i].client.ip[3] = (uint8_t)i;
        conns[i].client.port = (uint16_t)(40000 + i);
        snprintf(conns[i].connection_name, sizeof conns[i].connection_name, "%s", names[i]);
    }
    return 0;
}

enum { C_PUB = 1, C_REPLY = 2, C_SRV_A = 3, C_SRV_B = 4 };

static uint64_t pktno = 100;

static void feed(struct fx *f, enum amqp_content_kind kind, int conn, uint64_t ts,
                 const char *exchange, const char *rk, const char *body, const char *expiration,
                 const char *queue, bool redelivered)
{
    struct amqp_message m;
    memset(&m, 0, sizeof m);
    m.kind = kind;
    m.conn = &conns[conn];
    m.dir = kind == AMQP_CONTENT_PUBLISH ? 0 : 1;
    m.ts_ns = ts;
    m.ts_end_ns = ts;
    m.exchange.p = (const uint8_t *)exchange;
    m.exchange.len = strlen(exchange);
    m.routing_key.p = (const uint8_t *)rk;
    m.routing_key.len = strlen(rk);
    if (queue) {
        m.queue.p = (const uint8_t *)queue;
        m.queue.len = strlen(queue);
    }
    m.redelivered = redelivered;
    if (expiration) {
        m.props.present |= AMQP_PROP_EXPIRATION;
        m.props.expiration.p = (const uint8_t *)expiration;
        m.props.expiration.len = strlen(expiration);
    }
    m.body = (const uint8_t *)body;
    m.body_len = strlen(body);
    m.body_size = m.body_len;
    uint64_t pk[2] = {pktno, pktno + 1};
    pktno += 2;
    m.pkts = pk;
    m.npkts = 2;
    corr_message(f->c, &m);
}

/* The inner message wrapped in the v2 envelope (escaping the quotes). */
static void envelope(char *out, size_t cap, const char *inner)
{
    size_t n = (size_t)snprintf(out, cap, "{\"oslo.version\": \"2.0\", \"oslo.message\": \"");
    for (const char *p = inner; *p && n + 4 < cap; p++) {
        if (*p == '"' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    snprintf(out + n, cap - n, "\"}");
}

static const char *ID = "0123456789abcdef0123456789abcdef";

/* A request leg of call `id`. monitor: _timeout seconds (0 = null). */
static void call_leg(struct fx *f, const char *id, const char *uid, enum op_leg leg, uint64_t ts,
                     const char *expiration, int monitor)
{
    char inner[1024], body[2048], mon[16];
    snprintf(mon, sizeof mon, "%d", monitor);
    snprintf(inner, sizeof inner,
             "{\"method\": \"echo\", \"args\": {\"value\": 1, \"password\": \"" TOKEN "p\"}, "
             "\"version\": \"2.4\", \"_msg_id\": \"%s\", \"_reply_q\": \"reply_q1\", "
             "\"_timeout\": %s, \"_unique_id\": \"%s\", \"_context_request_id\": \"req-1\", "
             "\"_context_auth_token\": \"" TOKEN "x\"}",
             id, monitor ? mon : "null", uid);
    envelope(body, sizeof body, inner);
    if (leg == LEG_REQUEST_PUBLISH)
        feed(f, AMQP_CONTENT_PUBLISH, C_PUB, ts, "openstack", "compute.host-a", body, expiration,
             NULL, false);
    else if (leg == LEG_REQUEST_DELIVER)
        feed(f, AMQP_CONTENT_DELIVER, C_SRV_A, ts, "openstack", "compute.host-a", body, expiration,
             "compute.host-a", false);
}

enum reply_shape {
    R_RESULT,
    R_FAILURE,
    R_HEARTBEAT,
    R_ENDING_ONLY,
    R_ANSWER_NO_ENDING,
    R_FAILURE_NO_ENDING
};

static void reply_leg(struct fx *f, const char *id, const char *uid, enum op_leg leg, uint64_t ts,
                      enum reply_shape shape)
{
    char inner[1024], body[2048];
    const char *res = "null", *fail = "null", *ending = "true";
    switch (shape) {
    case R_RESULT:
        res = "{\"answer\": 42}";
        break;
    case R_FAILURE:
        fail = "\"{\\\"class\\\": \\\"ValueError\\\", \\\"module\\\": \\\"builtins\\\", "
               "\\\"message\\\": \\\"bad\\\", \\\"tb\\\": []}\"";
        break;
    case R_HEARTBEAT:
        ending = "false";
        break;
    case R_ENDING_ONLY:
        break;
    case R_ANSWER_NO_ENDING:
        res = "\"first\"";
        ending = NULL;
        break;
    case R_FAILURE_NO_ENDING:
        fail = "\"{\\\"class\\\": \\\"KeyError\\\", \\\"module\\\": \\\"builtins\\\", "
               "\\\"message\\\": \\\"k\\\"}\"";
        ending = NULL;
        break;
    }
    if (ending)
        snprintf(inner, sizeof inner,
                 "{\"result\": %s, \"failure\": %s, \"ending\": %s, \"_msg_id\": \"%s\", "
                 "\"_unique_id\": \"%s\"}",
                 res, fail, ending, id, uid);
    else
        snprintf(inner, sizeof inner,
                 "{\"result\": %s, \"failure\": %s, \"_msg_id\": \"%s\", \"_unique_id\": \"%s\"}",
                 res, fail, id, uid);
    envelope(body, sizeof body, inner);
    if (leg == LEG_REPLY_PUBLISH)
        feed(f, AMQP_CONTENT_PUBLISH, C_SRV_A, ts, "", "reply_q1", body, NULL, NULL, false);
    else
        feed(f, AMQP_CONTENT_DELIVER, C_REPLY, ts, "", "reply_q1", body, NULL, "reply_q1", false);
}

static void leg(struct fx *f, enum op_leg l, uint64_t ts)
{
    if (l <= LEG_REQUEST_DELIVER)
        call_leg(f, ID, "u-req", l, ts, "30000", 0);
    else
        reply_leg(f, ID, "u-rep", l, ts, R_RESULT);
}

static void test_single_reply(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    leg(f, LEG_REQUEST_PUBLISH, T0);
    leg(f, LEG_REQUEST_DELIVER, T0 + 1 * MS);
    leg(f, LEG_REPLY_PUBLISH, T0 + 4 * MS);
    assert_int_equal(f->n, 0); /* the client has not got it yet */
    leg(f, LEG_REPLY_DELIVER, T0 + 5 * MS);
    assert_int_equal(f->n, 1); /* emitted at the final deliver, no waiting */
    struct rec *r = &f->recs[0];
    assert_int_equal(r->type, OP_CALL);
    assert_int_equal(r->status, OP_OK);
    assert_string_equal(r->msg_id, ID);
    assert_string_equal(r->unique_id, "u-req");
    assert_string_equal(r->topic, "compute");
    assert_string_equal(r->server, "host-a");
    assert_string_equal(r->method, "echo");
    assert_true(r->has_latency);
    assert_int_equal(r->from, LEG_REQUEST_PUBLISH);
    assert_int_equal(r->to, LEG_REPLY_DELIVER);
    assert_true(r->latency_ms > 4.999 && r->latency_ms < 5.001);
    assert_true(r->queue_wait_ms > 0.999 && r->queue_wait_ms < 1.001);
    assert_true(r->server_ms > 2.999 && r->server_ms < 3.001);
    assert_int_equal(r->replies, 1);
    assert_int_equal(r->ts, T0);
    assert_true(r->timeout_s > 29.9 && r->timeout_s < 30.1);
    assert_string_equal(r->client_name, "client:pub");
    assert_string_equal(r->server_name, "server:host-a");
    assert_int_equal(r->npkts, 8); /* 4 legs x 2 packets, union */
    for (size_t i = 1; i < 8; i++)
        assert_true(r->pkts[i] > r->pkts[i - 1]);
    assert_false(r->leak);
    corr_finish(f->c, T0 + 10 * SEC);
    struct corr_stats s = stats(f);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.replies, 1);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.emitted, 1);
    assert_int_equal(f->n, 1);
    fx_free(f);
}

static void test_error_reply(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "30000", 0);
    call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + MS, "30000", 0);
    reply_leg(f, ID, "u2", LEG_REPLY_PUBLISH, T0 + 2 * MS, R_FAILURE);
    reply_leg(f, ID, "u2", LEG_REPLY_DELIVER, T0 + 3 * MS, R_FAILURE);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_ERROR);
    assert_string_equal(f->recs[0].error_class, "ValueError");
    assert_int_equal(f->recs[0].replies, 1);
    fx_free(f);
}

/* Before Newton: the answer, then {"result": null, "failure": null, "ending": true}. */
static void test_old_two_message_reply(void **state)
{
    (void)state;
    for (int failing = 0; failing <= 1; failing++) {
        struct fx *f = fx_new(0, false);
        call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "30000", 0);
        call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + MS, "30000", 0);
        enum reply_shape first = failing ? R_FAILURE_NO_ENDING : R_ANSWER_NO_ENDING;
        reply_leg(f, ID, "a1", LEG_REPLY_PUBLISH, T0 + 2 * MS, first);
        reply_leg(f, ID, "a1", LEG_REPLY_DELIVER, T0 + 3 * MS, first);
        assert_int_equal(f->n, 0); /* not ended by the answer */
        reply_leg(f, ID, "a2", LEG_REPLY_PUBLISH, T0 + 4 * MS, R_ENDING_ONLY);
        reply_leg(f, ID, "a2", LEG_REPLY_DELIVER, T0 + 5 * MS, R_ENDING_ONLY);
        assert_int_equal(f->n, 1);
        struct rec *r = &f->recs[0];
        assert_int_equal(r->status, failing ? OP_ERROR : OP_OK);
        if (failing)
            assert_string_equal(r->error_class, "KeyError");
        assert_int_equal(r->replies, 2);
        assert_true(r->latency_ms > 4.999 && r->latency_ms < 5.001); /* ends at the ending */
        assert_int_equal(stats(f).replies, 2);
        assert_int_equal(stats(f).duplicate_replies, 0);
        fx_free(f);
    }
}

/* Call monitor: heartbeats keep the call alive past _timeout; none: it dies at _timeout. */
static void test_heartbeats(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "60000", 2);
    call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + MS, "60000", 2);
    for (int i = 1; i <= 3; i++) {
        char uid[16];
        snprintf(uid, sizeof uid, "hb%d", i);
        reply_leg(f, ID, uid, LEG_REPLY_PUBLISH, T0 + (uint64_t)i * SEC, R_HEARTBEAT);
        reply_leg(f, ID, uid, LEG_REPLY_DELIVER, T0 + (uint64_t)i * SEC + MS, R_HEARTBEAT);
        corr_tick(f->c, T0 + (uint64_t)i * SEC + 500 * MS);
        assert_int_equal(f->n, 0);
    }
    reply_leg(f, ID, "fin", LEG_REPLY_PUBLISH, T0 + 4500 * MS, R_RESULT);
    reply_leg(f, ID, "fin", LEG_REPLY_DELIVER, T0 + 4501 * MS, R_RESULT);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_OK);
    assert_int_equal(f->recs[0].heartbeats, 3);
    assert_int_equal(f->recs[0].replies, 4);
    assert_false(f->recs[0].late_reply);
    assert_int_equal(stats(f).heartbeats, 3);
    fx_free(f);

    /* No heartbeat: the client gives up after _timeout (1 s), not after 60 s. */
    f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "60000", 1);
    corr_tick(f->c, T0 + 5 * SEC);
    assert_int_equal(f->n, 0); /* waiting a while for a late reply */
    corr_tick(f->c, T0 + 7 * SEC);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_TIMEOUT);
    fx_free(f);
}

/* A returned reply (basic.return of the server's mandatory publish). */
static void returned_reply(struct fx *f, const char *id, const char *uid, uint64_t ts)
{
    char inner[512], body[1024];
    snprintf(inner, sizeof inner,
             "{\"result\": 1, \"failure\": null, \"ending\": true, \"_msg_id\": \"%s\", "
             "\"_unique_id\": \"%s\"}",
             id, uid);
    envelope(body, sizeof body, inner);
    feed(f, AMQP_CONTENT_RETURN, C_SRV_A, ts, "", "reply_q1", body, NULL, NULL, false);
}

static void test_verdicts(void **state)
{
    (void)state;
    /* All four legs: ok, the largest part named, processes from the connection names. */
    struct fx *f = fx_new(0, false);
    leg(f, LEG_REQUEST_PUBLISH, T0);
    leg(f, LEG_REQUEST_DELIVER, T0 + 30 * MS);
    leg(f, LEG_REPLY_PUBLISH, T0 + 40 * MS);
    leg(f, LEG_REPLY_DELIVER, T0 + 41 * MS);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].verdict, OP_VERDICT_OK);
    assert_int_equal(f->recs[0].slow_in, OP_SLOW_QUEUE);
    assert_true(f->recs[0].client_process[0] && !strchr(f->recs[0].client_process, ' '));

    /* Delivered to a server, never answered: no_reply (reply publishes are in view). */
    call_leg(f, "n1", "u-n1", LEG_REQUEST_PUBLISH, T0 + SEC, "1000", 0);
    call_leg(f, "n1", "u-n1", LEG_REQUEST_DELIVER, T0 + SEC + MS, "1000", 0);
    /* Published, never delivered to anyone: not_delivered (deliveries are in view). */
    call_leg(f, "n2", "u-n2", LEG_REQUEST_PUBLISH, T0 + SEC, "1000", 0);
    corr_tick(f->c, T0 + 10 * SEC);
    assert_int_equal(f->n, 3);
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal(f->recs[i].status, OP_TIMEOUT);
        assert_int_equal(f->recs[i].verdict, !strcmp(f->recs[i].msg_id, "n1")
                                                 ? OP_VERDICT_NO_REPLY
                                                 : OP_VERDICT_NOT_DELIVERED);
        assert_int_equal(f->recs[i].slow_in, OP_SLOW_NONE);
    }

    /* The reply came back (reply queue gone): matched by its _msg_id, the call
     * waits for its timeout, reply_returned, not a late reply. */
    call_leg(f, "r1", "u-r1", LEG_REQUEST_PUBLISH, T0 + 20 * SEC, "1000", 0);
    call_leg(f, "r1", "u-r1", LEG_REQUEST_DELIVER, T0 + 20 * SEC + MS, "1000", 0);
    reply_leg(f, "r1", "rr1", LEG_REPLY_PUBLISH, T0 + 20 * SEC + 500 * MS, R_RESULT);
    returned_reply(f, "r1", "rr1", T0 + 20 * SEC + 501 * MS);
    corr_tick(f->c, T0 + 20 * SEC + 3 * SEC); /* past the 2 s hold: still waiting */
    assert_int_equal(f->n, 3);
    corr_tick(f->c, T0 + 30 * SEC);
    assert_int_equal(f->n, 4);
    assert_int_equal(f->recs[3].status, OP_TIMEOUT);
    assert_int_equal(f->recs[3].verdict, OP_VERDICT_REPLY_RETURNED);
    assert_false(f->recs[3].late_reply);
    assert_int_equal(f->recs[3].slow_in, OP_SLOW_SERVER);
    assert_int_equal(stats(f).returned_replies, 1);

    /* Published, not returned, never delivered while deliveries are in view. */
    call_leg(f, "d1", "u-d1", LEG_REQUEST_PUBLISH, T0 + 40 * SEC, "1000", 0);
    reply_leg(f, "d1", "rd1", LEG_REPLY_PUBLISH, T0 + 40 * SEC + 10 * MS, R_RESULT);
    corr_tick(f->c, T0 + 50 * SEC);
    assert_int_equal(f->n, 5);
    assert_int_equal(f->recs[4].status, OP_TIMEOUT);
    assert_int_equal(f->recs[4].verdict, OP_VERDICT_REPLY_NOT_DELIVERED);
    fx_free(f);

    /* A capture that saw only the client's legs cannot tell where a call died. */
    f = fx_new(0, false);
    call_leg(f, "c1", "u-c1", LEG_REQUEST_PUBLISH, T0, "1000", 0);
    corr_tick(f->c, T0 + 10 * SEC);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_TIMEOUT);
    assert_int_equal(f->recs[0].verdict, OP_VERDICT_UNKNOWN);
    /* ... and a call still in flight at the end of the capture is unknown too. */
    call_leg(f, "c2", "u-c2", LEG_REQUEST_PUBLISH, T0 + 11 * SEC, "30000", 0);
    corr_finish(f->c, T0 + 12 * SEC);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->recs[1].status, OP_OPEN);
    assert_int_equal(f->recs[1].verdict, OP_VERDICT_UNKNOWN);
    fx_free(f);
}

static void test_timeout_and_late_reply(void **state)
{
    (void)state;
    /* Never answered: timeout, reported after the late-reply window (5 s minimum). */
    struct fx *f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "1000", 0);
    corr_tick(f->c, T0 + 1500 * MS);
    assert_int_equal(f->n, 0);
    corr_tick(f->c, T0 + 6100 * MS);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_TIMEOUT);
    assert_false(f->recs[0].late_reply);
    assert_false(f->recs[0].has_latency);
    assert_int_equal(stats(f).timeouts, 1);
    assert_int_equal(stats(f).pending, 0);
    fx_free(f);

    /* Answered at 2.5 s with a 1 s timeout: flagged on the call, emitted at the deliver. */
    f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "1000", 0);
    call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + MS, "1000", 0);
    corr_tick(f->c, T0 + 2 * SEC);
    reply_leg(f, ID, "r", LEG_REPLY_PUBLISH, T0 + 2500 * MS, R_RESULT);
    assert_int_equal(f->n, 0);
    reply_leg(f, ID, "r", LEG_REPLY_DELIVER, T0 + 2501 * MS, R_RESULT);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_TIMEOUT);
    assert_true(f->recs[0].late_reply);
    assert_true(f->recs[0].server_ms > 2498 && f->recs[0].server_ms < 2500);
    assert_int_equal(stats(f).late_replies, 1);
    fx_free(f);

    /* Published in time but delivered after the deadline: late too. */
    f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "1000", 0);
    call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + MS, "1000", 0);
    reply_leg(f, ID, "r", LEG_REPLY_PUBLISH, T0 + 990 * MS, R_RESULT);
    reply_leg(f, ID, "r", LEG_REPLY_DELIVER, T0 + 1010 * MS, R_RESULT);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_TIMEOUT);
    assert_true(f->recs[0].late_reply);
    fx_free(f);

    /* No expiration: --call-timeout (60 s default). */
    f = fx_new(0, false);
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, NULL, 0);
    corr_tick(f->c, T0 + 59 * SEC);
    corr_finish(f->c, T0 + 59 * SEC);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_OPEN);
    assert_true(f->recs[0].timeout_s > 59.9 && f->recs[0].timeout_s < 60.1);
    assert_int_equal(stats(f).open, 1);
    fx_free(f);
}

static void test_evicted(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, false);
    char id[40];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "%032x", i + 1);
        call_leg(f, id, "u", LEG_REQUEST_PUBLISH, T0 + (uint64_t)i * MS, "30000", 0);
    }
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_EVICTED);
    assert_string_equal(f->recs[0].msg_id, "00000000000000000000000000000001");
    assert_int_equal(stats(f).evicted, 1);
    assert_int_equal(stats(f).pending, 3);
    assert_int_equal(stats(f).entries, 3);
    /* Its reply later is an orphan, not a second record. */
    reply_leg(f, "00000000000000000000000000000001", "r", LEG_REPLY_DELIVER, T0 + 5 * MS, R_RESULT);
    corr_finish(f->c, T0 + 10 * MS);
    /* The orphan reply took a slot too: the next oldest call went, then two open. */
    assert_int_equal(f->n, 4);
    assert_int_equal(f->recs[1].status, OP_EVICTED);
    assert_int_equal(f->recs[2].status, OP_OPEN);
    assert_int_equal(f->recs[3].status, OP_OPEN);
    assert_int_equal(stats(f).orphan_replies, 1);
    fx_free(f);
}

static void test_orphans(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    reply_leg(f, ID, "r", LEG_REPLY_PUBLISH, T0, R_RESULT);
    reply_leg(f, ID, "r", LEG_REPLY_DELIVER, T0 + MS, R_RESULT);
    corr_tick(f->c, T0 + 3 * SEC);
    assert_int_equal(stats(f).orphan_replies, 1); /* one call's reply, both legs */
    assert_int_equal(stats(f).replies, 1);
    corr_finish(f->c, T0 + 4 * SEC);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).orphan_replies, 1);
    fx_free(f);
}

static void test_unroutable(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    char inner[512], body[1024];
    snprintf(inner, sizeof inner,
             "{\"method\": \"echo\", \"args\": {}, \"_msg_id\": \"%s\", \"_reply_q\": \"rq\", "
             "\"_unique_id\": \"u\"}",
             ID);
    envelope(body, sizeof body, inner);
    call_leg(f, ID, "u", LEG_REQUEST_PUBLISH, T0, "30000", 0);
    feed(f, AMQP_CONTENT_RETURN, C_PUB, T0 + MS, "openstack", "compute.host-a", body, NULL, NULL,
         false);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_UNROUTABLE);
    assert_int_equal(stats(f).unroutable, 1);
    /* A returned cast. */
    const char *cast = "{\"method\": \"reboot\", \"args\": {}, \"_unique_id\": \"cast1\"}";
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0 + 2 * MS, "openstack", "compute", cast, NULL, NULL,
         false);
    feed(f, AMQP_CONTENT_RETURN, C_PUB, T0 + 3 * MS, "openstack", "compute", cast, NULL, NULL,
         false);
    corr_finish(f->c, T0 + 5 * SEC);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->recs[1].type, OP_CAST);
    assert_int_equal(f->recs[1].status, OP_UNROUTABLE);
    /* A returned reply (reply queue gone) only counts. */
    reply_leg(f, ID, "r", LEG_REPLY_PUBLISH, T0 + 6 * SEC, R_RESULT);
    fx_free(f);
}

static void test_duplicates(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    /* Redelivered request (same _unique_id): one call. */
    call_leg(f, ID, "u1", LEG_REQUEST_PUBLISH, T0, "30000", 0);
    call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + MS, "30000", 0);
    call_leg(f, ID, "u1", LEG_REQUEST_DELIVER, T0 + 2 * MS, "30000", 0);
    assert_int_equal(stats(f).duplicates, 1);
    /* Two distinct final replies: the second is a duplicate reply. */
    reply_leg(f, ID, "r1", LEG_REPLY_PUBLISH, T0 + 3 * MS, R_RESULT);
    reply_leg(f, ID, "r2", LEG_REPLY_PUBLISH, T0 + 4 * MS, R_RESULT);
    assert_int_equal(stats(f).duplicate_replies, 1);
    reply_leg(f, ID, "r1", LEG_REPLY_DELIVER, T0 + 5 * MS, R_RESULT);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].replies, 2);
    /* Stray legs after emission: counted, no second record. */
    reply_leg(f, ID, "r2", LEG_REPLY_DELIVER, T0 + 6 * MS, R_RESULT);
    assert_int_equal(stats(f).late_legs, 1);
    corr_finish(f->c, T0 + SEC);
    assert_int_equal(f->n, 1);
    fx_free(f);

    /* Same _msg_id, different request: the first is reported as it stood. */
    f = fx_new(0, false);
    call_leg(f, ID, "first", LEG_REQUEST_PUBLISH, T0, "30000", 0);
    call_leg(f, ID, "second", LEG_REQUEST_PUBLISH, T0 + MS, "30000", 0);
    assert_int_equal(f->n, 1);
    assert_string_equal(f->recs[0].unique_id, "first");
    assert_int_equal(f->recs[0].status, OP_OPEN);
    assert_int_equal(stats(f).duplicate_msg_ids, 1);
    reply_leg(f, ID, "r", LEG_REPLY_DELIVER, T0 + 2 * MS, R_RESULT);
    assert_int_equal(f->n, 1); /* two legs missing: held for them */
    corr_tick(f->c, T0 + 2100 * MS);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->recs[1].unique_id, "second");
    assert_int_equal(f->recs[1].status, OP_OK);
    assert_int_equal(stats(f).calls, 2);
    fx_free(f);
}

/* Every non-empty subset of the four legs, fed in every order. */
static void test_leg_subsets_and_orders(void **state)
{
    (void)state;
    static const enum op_leg pref[4][2] = {
        {LEG_REQUEST_PUBLISH, LEG_REPLY_DELIVER},
        {LEG_REQUEST_PUBLISH, LEG_REPLY_PUBLISH},
        {LEG_REQUEST_DELIVER, LEG_REPLY_DELIVER},
        {LEG_REQUEST_DELIVER, LEG_REPLY_PUBLISH},
    };
    static const uint64_t at[LEG_COUNT] = {0, 1 * MS, 4 * MS, 6 * MS};
    int cases = 0;
    for (unsigned mask = 1; mask < 16; mask++) {
        enum op_leg legs[4];
        int n = 0;
        for (int l = 0; l < 4; l++)
            if (mask & (1u << l))
                legs[n++] = (enum op_leg)l;
        /* all permutations of legs[0..n) (Heap's algorithm, iterative) */
        int c[4] = {0}, i = 0;
        enum op_leg p[4];
        memcpy(p, legs, sizeof p);
        for (bool first = true;; first = false) {
            if (!first) {
                while (i < n && c[i] >= i) {
                    c[i] = 0;
                    i++;
                }
                if (i >= n)
                    break;
                enum op_leg t;
                if (i % 2 == 0)
                    t = p[0], p[0] = p[i], p[i] = t;
                else
                    t = p[c[i]], p[c[i]] = p[i], p[i] = t;
                c[i]++;
                i = 0;
            }
            struct fx *f = fx_new(0, false);
            for (int k = 0; k < n; k++)
                leg(f, p[k], T0 + at[p[k]]);
            corr_finish(f->c, T0 + SEC);
            bool has_req = mask & 3u, has_rep = mask & 12u;
            cases++;
            if (!has_req) {
                assert_int_equal(f->n, 0);
                assert_int_equal(stats(f).orphan_replies, 1);
                fx_free(f);
                continue;
            }
            if (f->n != 1)
                fail_msg("mask %x: %zu records", mask, f->n);
            struct rec *r = &f->recs[0];
            assert_string_equal(r->msg_id, ID);
            assert_string_equal(r->method, "echo");
            assert_int_equal(r->status, has_rep ? OP_OK : OP_OPEN);
            for (int l = 0; l < 4; l++)
                if ((r->timeline[l] != 0) != ((mask >> l) & 1u))
                    fail_msg("mask %x order %d%d%d%d: leg %d timeline %llu", mask, p[0],
                             n > 1 ? p[1] : 9, n > 2 ? p[2] : 9, n > 3 ? p[3] : 9, l,
                             (unsigned long long)r->timeline[l]);
            if (has_rep) {
                assert_true(r->has_latency);
                int k = 0;
                while (!((mask >> pref[k][0]) & 1u) || !((mask >> pref[k][1]) & 1u))
                    k++;
                assert_int_equal(r->from, pref[k][0]);
                assert_int_equal(r->to, pref[k][1]);
                double want = (double)(at[pref[k][1]] - at[pref[k][0]]) / 1e6;
                assert_true(r->latency_ms > want - 0.001 && r->latency_ms < want + 0.001);
                assert_int_equal(r->replies, 1);
            } else {
                assert_false(r->has_latency);
            }
            assert_int_equal(stats(f).pending, 0);
            assert_int_equal(stats(f).orphan_replies, 0);
            fx_free(f);
        }
    }
    assert_int_equal(cases, 64); /* sum over subsets of k! = 4 + 12 + 24 + 24 */
}

/* Only the server side captured: emitted hold_s after the reply publish. */
static void test_hold_after_reply_publish(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    leg(f, LEG_REQUEST_DELIVER, T0);
    leg(f, LEG_REPLY_PUBLISH, T0 + 3 * MS);
    corr_tick(f->c, T0 + 1900 * MS);
    assert_int_equal(f->n, 0);
    corr_tick(f->c, T0 + 2100 * MS);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_OK);
    assert_int_equal(f->recs[0].from, LEG_REQUEST_DELIVER);
    assert_int_equal(f->recs[0].to, LEG_REPLY_PUBLISH);
    assert_string_equal(f->recs[0].client_name, "");
    assert_string_equal(f->recs[0].server_name, "server:host-a");
    fx_free(f);
}

static void test_fanout_receivers(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    const char *body = "{\"method\": \"refresh\", \"args\": {}, \"_unique_id\": \"fan1\"}";
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "compute_fanout", "compute", body, NULL, NULL, false);
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_A, T0 + 1 * MS, "compute_fanout", "compute", body, NULL,
         "compute_fanout_aaa", false);
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_B, T0 + 2 * MS, "compute_fanout", "compute", body, NULL,
         "compute_fanout_bbb", false);
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_B, T0 + 3 * MS, "compute_fanout", "compute", body, NULL,
         "compute_fanout_ccc", false);
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_A, T0 + 4 * MS, "compute_fanout", "compute", body, NULL,
         "compute_fanout_aaa", true); /* redelivered to the same queue */
    corr_tick(f->c, T0 + 1900 * MS);
    assert_int_equal(f->n, 0); /* held for its deliver legs */
    corr_tick(f->c, T0 + 2100 * MS);
    assert_int_equal(f->n, 1);
    struct rec *r = &f->recs[0];
    assert_int_equal(r->type, OP_FANOUT);
    assert_int_equal(r->status, OP_OK);
    assert_int_equal(r->fanout_receivers, 3);
    assert_string_equal(r->topic, "compute");
    assert_string_equal(r->server, "");
    assert_string_equal(r->unique_id, "fan1");
    assert_true(r->queue_wait_ms > 0.999 && r->queue_wait_ms < 1.001);
    assert_int_equal(stats(f).fanouts, 1);
    assert_int_equal(stats(f).duplicates, 1);
    fx_free(f);
}

static void test_cast_dedupe(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    const char *body = "{\"method\": \"reboot\", \"args\": {}, \"_unique_id\": \"c1\"}";
    /* Deliver seen first (capture order across connections), then publish. */
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_A, T0 + 2 * MS, "openstack", "compute.host-a", body, NULL,
         "compute.host-a", false);
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "openstack", "compute.host-a", body, NULL, NULL,
         false);
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_B, T0 + 3 * MS, "openstack", "compute.host-a", body, NULL,
         "compute.host-a", true);
    corr_tick(f->c, T0 + 3 * SEC);
    assert_int_equal(f->n, 1);
    struct rec *r = &f->recs[0];
    assert_int_equal(r->type, OP_CAST);
    assert_string_equal(r->server, "host-a");
    assert_int_equal(r->ts, T0); /* the publish time */
    assert_true(r->queue_wait_ms > 1.999 && r->queue_wait_ms < 2.001);
    assert_int_equal(stats(f).duplicates, 1);
    /* Within the linger: a late leg, not a new cast. */
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_B, T0 + 3100 * MS, "openstack", "compute.host-a", body,
         NULL, "compute.host-a", true);
    assert_int_equal(stats(f).late_legs, 1);
    corr_finish(f->c, T0 + 10 * SEC);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).casts, 1);
    fx_free(f);
}

static void test_notification(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    const char *inner = "{\"message_id\": \"581a65be-12a7-47f9-a6c4-531452ece195\", "
                        "\"publisher_id\": \"volume.host-b\", \"event_type\": \"volume.usage\", "
                        "\"priority\": \"WARN\", \"payload\": {\"size\": 1}, "
                        "\"timestamp\": \"2026-11-25 03:15:45.929387\", \"_unique_id\": \"nu\"}";
    char body[1024];
    envelope(body, sizeof body, inner);
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "openstack", "notifications.warn", body, NULL, NULL,
         false);
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_A, T0 + MS, "openstack", "notifications.warn", body, NULL,
         "notifications.warn", false);
    /* The bare v1 form of the same notification is the same operation. */
    feed(f, AMQP_CONTENT_DELIVER, C_SRV_A, T0 + MS, "openstack", "notifications.warn", inner, NULL,
         "notifications.warn", true);
    corr_finish(f->c, T0 + SEC);
    assert_int_equal(f->n, 1);
    struct rec *r = &f->recs[0];
    assert_int_equal(r->type, OP_NOTIFICATION);
    assert_string_equal(r->event_type, "volume.usage");
    assert_string_equal(r->message_id, "581a65be-12a7-47f9-a6c4-531452ece195");
    assert_string_equal(r->topic, "notifications");
    assert_int_equal(stats(f).notifications, 1);
    fx_free(f);
}

/* A flood of calls that are never answered: the table stays at its bound. */
static void test_bounded_flood(void **state)
{
    (void)state;
    struct fx *f = fx_new(1000, false);
    char id[40], uid[40];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "%032x", i + 7);
        snprintf(uid, sizeof uid, "u%d", i); /* not hex: pooled strings */
        call_leg(f, id, uid, LEG_REQUEST_PUBLISH, T0 + (uint64_t)i * 1000, "30000", 0);
        if (i % 1000 == 0)
            assert_true(stats(f).entries <= 1000);
    }
    struct corr_stats s = stats(f);
    assert_int_equal(s.calls, 20000);
    assert_int_equal(s.evicted, 19000);
    assert_int_equal(s.pending, 1000);
    assert_int_equal(s.pending_peak, 1000);
    corr_finish(f->c, T0 + SEC);
    assert_int_equal(stats(f).entries, 0);
    assert_int_equal(stats(f).emitted, 20000);
    fx_free(f);
}

static void test_bad_bodies_counted(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "openstack", "compute", "{broken", NULL, NULL, false);
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "openstack", "compute", "{\"a\":\"\xff\"}", NULL, NULL,
         false);
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "openstack", "compute", "{\"hello\":1}", NULL, NULL,
         false);
    feed(f, AMQP_CONTENT_PUBLISH, C_PUB, T0, "openstack", "compute", "", NULL, NULL, false);
    struct corr_stats s = stats(f);
    assert_int_equal(s.messages, 4);
    assert_int_equal(s.malformed_json, 2);
    assert_int_equal(s.not_oslo, 1);
    assert_int_equal(s.empty_bodies, 1);
    assert_int_equal(s.oslo_errors[OSLO_ERR_UTF8], 1);
    corr_finish(f->c, T0 + SEC);
    assert_int_equal(f->n, 0);
    fx_free(f);
}

/* --args: bodies on the op, secrets masked in every one of them. */
static void test_bodies_without_secrets(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, true);
    leg(f, LEG_REQUEST_PUBLISH, T0);
    leg(f, LEG_REPLY_DELIVER, T0 + MS);
    assert_int_equal(f->n, 0); /* client side only: held for the other legs */
    corr_tick(f->c, T0 + 2100 * MS);
    assert_int_equal(f->n, 1);
    assert_false(f->recs[0].leak);
    fx_free(f);
}

struct seen_open {
    int n;
    char msg_id[64];
    enum op_status status;
};

static void on_open(void *u, const struct op *op)
{
    struct seen_open *so = u;
    so->n++;
    cp(so->msg_id, op->msg_id);
    so->status = op->status;
}

/* A live view lists the calls still waiting; the listing changes nothing. */
static void test_foreach_pending(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, false);
    struct seen_open so = {0};
    assert_int_equal(corr_foreach_pending(f->c, 10, on_open, &so), 0);
    leg(f, LEG_REQUEST_PUBLISH, T0);
    leg(f, LEG_REQUEST_DELIVER, T0 + 1 * MS);
    assert_int_equal(corr_foreach_pending(f->c, 10, on_open, &so), 1);
    assert_int_equal(so.n, 1);
    assert_string_equal(so.msg_id, ID);
    assert_int_equal(so.status, OP_OPEN);
    assert_int_equal(f->n, 0);                                        /* nothing was emitted */
    assert_int_equal(corr_foreach_pending(f->c, 0, on_open, &so), 0); /* max bounds it */
    leg(f, LEG_REPLY_PUBLISH, T0 + 4 * MS); /* a reply is on the wire: no longer waiting */
    so.n = 0;
    assert_int_equal(corr_foreach_pending(f->c, 10, on_open, &so), 0);
    assert_int_equal(so.n, 0);
    leg(f, LEG_REPLY_DELIVER, T0 + 5 * MS);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_OK);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_reply),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_old_two_message_reply),
        cmocka_unit_test(test_heartbeats),
        cmocka_unit_test(test_timeout_and_late_reply),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_evicted),
        cmocka_unit_test(test_orphans),
        cmocka_unit_test(test_unroutable),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_leg_subsets_and_orders),
        cmocka_unit_test(test_hold_after_reply_publish),
        cmocka_unit_test(test_fanout_receivers),
        cmocka_unit_test(test_cast_dedupe),
        cmocka_unit_test(test_notification),
        cmocka_unit_test(test_bounded_flood),
        cmocka_unit_test(test_bad_bodies_counted),
        cmocka_unit_test(test_bodies_without_secrets),
        cmocka_unit_test(test_foreach_pending),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

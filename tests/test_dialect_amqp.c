/*
 * test_dialect_amqp.c: plain AMQP 0-9-1 RPC (dissect/dialect_amqp.c) through
 * the correlator, with hand-made AMQP messages.
 *
 * A classic reply queue and RabbitMQ direct reply-to (the request published
 * to "amq.rabbitmq.reply-to", delivered with the rewritten name, answered to
 * it), the timeout taken from the expiration property or --call-timeout,
 * basic.return, messages that are not RPC, and the order rule: an oslo
 * message is oslo's even when it carries reply_to / correlation_id, and an
 * oslo reply is never taken for a plain AMQP reply.
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

/* Messages are compound literals listing only the fields a test sets. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1795576490ull * SEC)

struct rec {
    enum op_dialect dialect;
    enum op_type type;
    enum op_status status;
    char msg_id[64], topic[64], reply_q[64], method[64], routing_key[64];
    bool method_null, has_latency;
    enum op_leg from, to;
    double latency_ms, timeout_s;
    uint64_t timeline[LEG_COUNT];
};

struct fx {
    struct corr *c;
    struct rec recs[16];
    size_t n;
};

static void cp(char *dst, const char *src)
{
    snprintf(dst, 64, "%s", src ? src : "");
}

static void on_op(void *u, const struct op *op)
{
    struct fx *f = u;
    assert_true(f->n < 16);
    struct rec *r = &f->recs[f->n++];
    memset(r, 0, sizeof *r);
    r->dialect = op->dialect;
    r->type = op->type;
    r->status = op->status;
    cp(r->msg_id, op->msg_id);
    cp(r->topic, op->topic);
    cp(r->reply_q, op->reply_q);
    cp(r->method, op->method);
    cp(r->routing_key, op->routing_key);
    r->method_null = op->method == NULL;
    r->has_latency = op->has_latency;
    r->from = op->latency_from;
    r->to = op->latency_to;
    r->latency_ms = op->latency_ms;
    r->timeout_s = op->timeout_s;
    memcpy(r->timeline, op->timeline, sizeof r->timeline);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct corr_config cfg;
    corr_config_default(&cfg);
    cfg.call_timeout_s = 30;
    f->c = corr_new(&cfg, on_op, f);
    assert_non_null(f->c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    corr_free(f->c);
    free(f);
    return 0;
}

static struct corr_stats stats(struct fx *f)
{
    struct corr_stats s;
    corr_get_stats(f->c, &s);
    return s;
}

static struct amqp_conn_info conns[4]; /* 1 client, 2 server */

static struct amqp_bytes b(const char *s)
{
    struct amqp_bytes r = {(const uint8_t *)s, s ? strlen(s) : 0};
    return r;
}

/* One AMQP message; NULL properties are absent. */
struct msg_spec {
    enum amqp_content_kind kind;
    int conn;
    uint64_t ts;
    const char *exchange, *rk, *body;
    const char *correlation_id, *reply_to, *expiration;
    const char *consumer_tag;
};

static void feed(struct fx *f, struct msg_spec s)
{
    struct amqp_message m;
    memset(&m, 0, sizeof m);
    if (!conns[1].id)
        for (int i = 1; i < 4; i++) {
            conns[i].id = (uint64_t)i;
            conns[i].client.family = 4;
            conns[i].client.ip[3] = (uint8_t)i;
        }
    m.kind = s.kind;
    m.conn = &conns[s.conn];
    m.dir = s.kind == AMQP_CONTENT_PUBLISH ? 0 : 1;
    m.ts_ns = m.ts_end_ns = s.ts;
    m.exchange = b(s.exchange ? s.exchange : "");
    m.routing_key = b(s.rk ? s.rk : "");
    if (s.consumer_tag) {
        m.consumer_tag = b(s.consumer_tag);
        m.queue = b(s.consumer_tag);
    }
    if (s.correlation_id) {
        m.props.present |= AMQP_PROP_CORRELATION_ID;
        m.props.correlation_id = b(s.correlation_id);
    }
    if (s.reply_to) {
        m.props.present |= AMQP_PROP_REPLY_TO;
        m.props.reply_to = b(s.reply_to);
    }
    if (s.expiration) {
        m.props.present |= AMQP_PROP_EXPIRATION;
        m.props.expiration = b(s.expiration);
    }
    const char *body = s.body ? s.body : "\x80\x04payload";
    m.body = (const uint8_t *)body;
    m.body_len = m.body_size = strlen(body);
    if (s.kind == AMQP_CONTENT_RETURN) {
        m.reply_code = 312;
        m.reply_text = b("NO_ROUTE");
    }
    corr_message(f->c, &m);
}

static void test_classic_reply_queue(void **state)
{
    struct fx *f = *state;
    const char *q = "amq.gen-JzTY20BRgKO-HjmUJj0wLg";
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "rpc_queue", NULL, "c-1", q});
    feed(f, (struct msg_spec){AMQP_CONTENT_DELIVER, 2, T0 + 1 * MS, "", "rpc_queue", NULL, "c-1", q,
                              .consumer_tag = "ctag-srv"});
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 2, T0 + 9 * MS, "", q, NULL, "c-1"});
    assert_int_equal(f->n, 0); /* the client has not got it yet */
    feed(f, (struct msg_spec){AMQP_CONTENT_DELIVER, 1, T0 + 10 * MS, "", q, NULL, "c-1",
                              .consumer_tag = "ctag-cli"});
    assert_int_equal(f->n, 1); /* all four legs: emitted at once */
    struct rec *r = &f->recs[0];
    assert_int_equal(r->dialect, OP_DIALECT_AMQP);
    assert_int_equal(r->type, OP_CALL);
    assert_int_equal(r->status, OP_OK);
    assert_string_equal(r->msg_id, "c-1");
    assert_string_equal(r->topic, "rpc_queue");
    assert_string_equal(r->routing_key, "rpc_queue");
    assert_string_equal(r->reply_q, q);
    assert_true(r->method_null);
    assert_true(r->has_latency);
    assert_int_equal(r->from, LEG_REQUEST_PUBLISH);
    assert_int_equal(r->to, LEG_REPLY_DELIVER);
    assert_float_equal(r->latency_ms, 10.0, 1e-9);
    for (int l = 0; l < LEG_COUNT; l++)
        assert_true(r->timeline[l] != 0);
    assert_float_equal(r->timeout_s, 30.0, 1e-9); /* no expiration: --call-timeout */
    struct corr_stats s = stats(f);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.amqp_calls, 1);
    assert_int_equal(s.replies, 1);
    assert_int_equal(s.not_rpc, 0);
    assert_int_equal(s.malformed_json, 0); /* the bodies are not JSON, and that is fine */
    assert_int_equal(s.pending, 0);
}

static void test_direct_reply_to(void **state)
{
    struct fx *f = *state;
    const char *pseudo = "amq.rabbitmq.reply-to";
    const char *full = "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAyMjkzMjk0NgAAF8sAAAAAYiA=.abc==";
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "rpc_queue", NULL,
                              "6f1ef9a4-3c1a-4b44-9c5c-2a1d3e0f4b51", pseudo, "5000"});
    feed(f, (struct msg_spec){AMQP_CONTENT_DELIVER, 2, T0 + 2 * MS, "", "rpc_queue", NULL,
                              "6f1ef9a4-3c1a-4b44-9c5c-2a1d3e0f4b51", full, "5000",
                              .consumer_tag = "srv"});
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 2, T0 + 5 * MS, "", full, NULL,
                              "6f1ef9a4-3c1a-4b44-9c5c-2a1d3e0f4b51"});
    feed(f, (struct msg_spec){AMQP_CONTENT_DELIVER, 1, T0 + 6 * MS, "", full, NULL,
                              "6f1ef9a4-3c1a-4b44-9c5c-2a1d3e0f4b51", .consumer_tag = pseudo});
    assert_int_equal(f->n, 1);
    struct rec *r = &f->recs[0];
    assert_int_equal(r->dialect, OP_DIALECT_AMQP);
    assert_int_equal(r->status, OP_OK);
    assert_string_equal(r->msg_id, "6f1ef9a4-3c1a-4b44-9c5c-2a1d3e0f4b51");
    assert_string_equal(r->reply_q, pseudo); /* as the client published it */
    assert_float_equal(r->latency_ms, 6.0, 1e-9);
    assert_float_equal(r->timeout_s, 5.0, 1e-9);
    assert_int_equal(stats(f).amqp_calls, 1);
    assert_int_equal(stats(f).not_rpc, 0);
}

static void test_timeout_from_expiration(void **state)
{
    struct fx *f = *state;
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "slow", NULL, "t-1", "amq.gen-q",
                              "1500"});
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "slow", NULL, "t-2", "amq.gen-q"});
    corr_tick(f->c, T0 + 1400 * MS);
    assert_int_equal(f->n, 0);
    corr_finish(f->c, T0 + 10 * SEC); /* t-1: 1.5 s passed; t-2: within its 30 s */
    assert_int_equal(f->n, 2);
    for (size_t i = 0; i < 2; i++) {
        struct rec *r = &f->recs[i];
        assert_int_equal(r->dialect, OP_DIALECT_AMQP);
        if (strcmp(r->msg_id, "t-1") == 0) {
            assert_int_equal(r->status, OP_TIMEOUT);
            assert_float_equal(r->timeout_s, 1.5, 1e-9);
        } else {
            assert_string_equal(r->msg_id, "t-2");
            assert_int_equal(r->status, OP_OPEN);
            assert_float_equal(r->timeout_s, 30.0, 1e-9);
        }
    }
    assert_int_equal(stats(f).timeouts, 1);
    assert_int_equal(stats(f).open, 1);
}

static void test_unroutable(void **state)
{
    struct fx *f = *state;
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "nobody", NULL, "u-1", "amq.gen-q"});
    feed(f, (struct msg_spec){AMQP_CONTENT_RETURN, 1, T0 + 1 * MS, "", "nobody", NULL, "u-1",
                              "amq.gen-q"});
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].status, OP_UNROUTABLE);
    assert_int_equal(f->recs[0].dialect, OP_DIALECT_AMQP);
    assert_int_equal(stats(f).unroutable, 1);
}

static void test_not_rpc(void **state)
{
    struct fx *f = *state;
    /* A correlation_id but no reply_to, and no call with that id: not a reply. */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "events", NULL, "e-1"});
    /* Neither property, a body that is not JSON. */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "logs", "x", NULL});
    /* reply_to without correlation_id: nothing to pair on. */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "work", NULL, NULL, "amq.gen-q"});
    corr_finish(f->c, T0 + 10 * SEC);
    assert_int_equal(f->n, 0);
    struct corr_stats s = stats(f);
    assert_int_equal(s.not_rpc, 3);
    assert_int_equal(s.calls, 0);
    assert_int_equal(s.orphan_replies, 0);
    assert_int_equal(s.malformed_json,
                     2); /* the two that no dialect claimed and oslo could not read */
}

#define OSLO_CALL                                                                                  \
    "{\"method\": \"ping\", \"args\": {}, \"_msg_id\": \"0123456789abcdef0123456789abcdef\", "     \
    "\"_reply_q\": \"reply_0123\", \"_unique_id\": \"11112222333344445555666677778888\"}"
#define OSLO_REPLY                                                                                 \
    "{\"result\": 1, \"failure\": null, \"ending\": true, "                                        \
    "\"_msg_id\": \"0123456789abcdef0123456789abcdef\", "                                          \
    "\"_unique_id\": \"99990000aaaabbbbccccddddeeeeffff\"}"

static void test_oslo_first(void **state)
{
    struct fx *f = *state;
    /* An oslo call that (unlike kombu's) carries reply_to and correlation_id. */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "openstack", "compute", OSLO_CALL,
                              "0123456789abcdef0123456789abcdef", "reply_0123", "10000"});
    /* Its oslo reply, with the same correlation_id and no reply_to. */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 2, T0 + 3 * MS, "reply_0123", "reply_0123",
                              OSLO_REPLY, "0123456789abcdef0123456789abcdef"});
    feed(f, (struct msg_spec){AMQP_CONTENT_DELIVER, 1, T0 + 4 * MS, "reply_0123", "reply_0123",
                              OSLO_REPLY, "0123456789abcdef0123456789abcdef",
                              .consumer_tag = "reply_0123"});
    corr_finish(f->c, T0 + 10 * SEC);
    assert_int_equal(f->n, 1);
    struct rec *r = &f->recs[0];
    assert_int_equal(r->dialect, OP_DIALECT_OSLO);
    assert_int_equal(r->status, OP_OK);
    assert_string_equal(r->method, "ping");
    struct corr_stats s = stats(f);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.amqp_calls, 0);
    assert_int_equal(s.not_rpc, 0);
    assert_int_equal(s.replies, 1);
}

static void test_oslo_reply_not_generic(void **state)
{
    struct fx *f = *state;
    /* A plain AMQP call whose correlation_id equals an oslo _msg_id... */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "", "rpc_queue", NULL,
                              "0123456789abcdef0123456789abcdef", "amq.gen-q", "2000"});
    /* ...and an oslo reply carrying that correlation_id: it is oslo's (an orphan), not the answer.
     */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 2, T0 + 3 * MS, "", "amq.gen-q", OSLO_REPLY,
                              "0123456789abcdef0123456789abcdef"});
    corr_finish(f->c, T0 + 60 * SEC);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].dialect, OP_DIALECT_AMQP);
    assert_int_equal(f->recs[0].status, OP_TIMEOUT);
    struct corr_stats s = stats(f);
    assert_int_equal(s.orphan_replies, 1);
    assert_int_equal(s.amqp_calls, 1);
}

static void test_oslo_call_id_space_separate(void **state)
{
    struct fx *f = *state;
    /* An oslo call pending with _msg_id X; a plain reply with correlation_id X is not its answer.
     */
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 1, T0, "openstack", "compute", OSLO_CALL});
    feed(f, (struct msg_spec){AMQP_CONTENT_PUBLISH, 2, T0 + 1 * MS, "", "reply_0123", NULL,
                              "0123456789abcdef0123456789abcdef"});
    assert_int_equal(stats(f).not_rpc, 1);
    corr_finish(f->c, T0 + 2 * SEC);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->recs[0].dialect, OP_DIALECT_OSLO);
    assert_int_equal(f->recs[0].status, OP_OPEN);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(op_dialect_name(OP_DIALECT_OSLO), "oslo");
    assert_string_equal(op_dialect_name(OP_DIALECT_AMQP), "amqp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classic_reply_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_reply_to, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_from_expiration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unroutable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_rpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oslo_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oslo_reply_not_generic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oslo_call_id_space_separate, setup, teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

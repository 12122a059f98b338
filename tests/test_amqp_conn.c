/*
 * test_amqp_conn.c: the AMQP stage end to end on hand-made byte streams:
 * content assembly across interleaved channels, zero-length and truncated
 * bodies, huge size claims, broker-side detection with and without a
 * handshake, handshake facts (and no password kept), consumer tags,
 * orphans, gaps, eviction under the partial-body limit and the channel and
 * consumer limits, malformed tables, basic.return, unknown methods.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>

#include "amqp_test_util.h"
#include "dissect/amqp_conn.h"

#define MAXM 64

struct got_msg {
    enum amqp_content_kind kind;
    int dir;
    uint16_t channel;
    uint8_t *body;
    size_t body_len;
    uint64_t body_size, ts, ts_end, delivery_tag;
    bool truncated;
    char exchange[64], rk[64], queue[64], ctag[64], reply_text[64];
    uint16_t reply_code;
    size_t npkts;
    uint64_t pkts[8];
    uint32_t props_present;
};

struct got_ev {
    char name[48];
    int dir;
    uint16_t channel;
    bool has_content, complete, has_props;
    uint64_t body_size;
};

struct got {
    struct got_msg m[MAXM];
    size_t nm;
    struct got_ev e[MAXM * 2];
    size_t ne;
    int opens, updates, closes;
    struct amqp_conn_info last_info;
};

static void cpy(char *dst, size_t cap, struct amqp_bytes b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    if (n)
        memcpy(dst, b.p, n);
    dst[n] = 0;
}

static void on_msg(void *u, const struct amqp_message *msg)
{
    struct got *g = u;
    assert_true(g->nm < MAXM);
    struct got_msg *m = &g->m[g->nm++];
    m->kind = msg->kind;
    m->dir = msg->dir;
    m->channel = msg->channel;
    m->body = malloc(msg->body_len + 1);
    if (msg->body_len)
        memcpy(m->body, msg->body, msg->body_len);
    m->body_len = msg->body_len;
    m->body_size = msg->body_size;
    m->ts = msg->ts_ns;
    m->ts_end = msg->ts_end_ns;
    m->truncated = msg->body_truncated;
    m->delivery_tag = msg->delivery_tag;
    cpy(m->exchange, 64, msg->exchange);
    cpy(m->rk, 64, msg->routing_key);
    cpy(m->queue, 64, msg->queue);
    cpy(m->ctag, 64, msg->consumer_tag);
    cpy(m->reply_text, 64, msg->reply_text);
    m->reply_code = msg->reply_code;
    m->npkts = msg->npkts;
    for (size_t i = 0; i < msg->npkts && i < 8; i++)
        m->pkts[i] = msg->pkts[i];
    m->props_present = msg->props.present;
}

static void on_method(void *u, const struct amqp_method_event *ev)
{
    struct got *g = u;
    assert_true(g->ne < MAXM * 2);
    struct got_ev *e = &g->e[g->ne++];
    snprintf(e->name, sizeof e->name, "%s", ev->method ? ev->method->name : "unknown");
    e->dir = ev->dir;
    e->channel = ev->channel;
    e->has_content = ev->has_content;
    e->complete = ev->content_complete;
    e->has_props = ev->props != NULL;
    e->body_size = ev->body_size;
}

static void on_conn(void *u, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct got *g = u;
    if (ev == AMQP_CONN_OPEN)
        g->opens++;
    else if (ev == AMQP_CONN_UPDATE)
        g->updates++;
    else
        g->closes++;
    g->last_info = *info;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->nm; i++)
        free(g->m[i].body);
    memset(g, 0, sizeof *g);
}

struct fixture {
    struct amqp_dissector *d;
    struct amqp_conn *c;
    struct got g;
    struct amqp_config cfg;
    uint64_t pkt;
};

static struct netaddr addr(uint16_t port)
{
    struct netaddr a = {0};
    a.family = 4;
    a.ip[0] = 127;
    a.ip[3] = 1;
    a.port = port;
    return a;
}

static void fx_open(struct fixture *f, uint16_t port_a, uint16_t port_b)
{
    struct amqp_callbacks cb = {on_method, on_msg, on_conn, &f->g, NULL};
    f->d = amqp_dissector_new(&f->cfg, &cb);
    struct netaddr a = addr(port_a), b = addr(port_b);
    f->c = amqp_conn_open(f->d, 7, &a, &b, 1);
}

static struct fixture *fx_new(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    amqp_config_default(&f->cfg);
    f->cfg.want_methods = true;
    return f;
}

/* Feeds in one delivery per call, copied so nothing may point into it afterwards. */
static void fx_feed(struct fixture *f, int dir, const struct wbuf *b)
{
    uint8_t *c = malloc(b->len ? b->len : 1);
    memcpy(c, b->p, b->len);
    f->pkt++;
    amqp_conn_data(f->c, dir, c, b->len, f->pkt * 1000, f->pkt);
    free(c);
}

static void fx_free(struct fixture *f)
{
    if (f->c)
        amqp_conn_close(f->c, 0);
    amqp_dissector_free(f->d);
    got_free(&f->g);
    free(f);
}

static struct amqp_stats stats(struct fixture *f)
{
    struct amqp_stats s;
    amqp_dissector_get_stats(f->d, &s);
    return s;
}

static void test_interleaved_channels(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 40000, 5672);
    char big[3000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('A' + i % 23);
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "openstack", "compute");
    w_header(&b, 1, 3000, "application/json");
    w_body(&b, 1, big, 1000);
    fx_feed(f, 0, &b);
    b.len = 0;
    w_basic_publish(&b, 2, "openstack", "conductor");
    w_header(&b, 2, 5, NULL);
    w_body(&b, 2, "hello", 5); /* channel 2 completes in between */
    w_body(&b, 1, big + 1000, 1500);
    fx_feed(f, 0, &b);
    b.len = 0;
    w_body(&b, 1, big + 2500, 500);
    fx_feed(f, 0, &b);
    assert_int_equal(f->g.nm, 2);
    struct got_msg *m2 = &f->g.m[0], *m1 = &f->g.m[1];
    assert_int_equal(m2->channel, 2);
    assert_int_equal(m2->body_len, 5);
    assert_memory_equal(m2->body, "hello", 5);
    assert_int_equal(m1->channel, 1);
    assert_int_equal(m1->kind, AMQP_CONTENT_PUBLISH);
    assert_int_equal(m1->dir, 0);
    assert_int_equal(m1->body_len, 3000);
    assert_memory_equal(m1->body, big, 3000);
    assert_string_equal(m1->exchange, "openstack");
    assert_string_equal(m1->rk, "compute");
    assert_int_equal(m1->ts, 1000);
    assert_int_equal(m1->ts_end, 3000);
    assert_int_equal(m1->npkts, 3);
    assert_int_equal(m1->pkts[0], 1);
    assert_int_equal(m1->pkts[2], 3);
    assert_int_equal(m1->props_present, AMQP_PROP_CONTENT_TYPE);
    assert_false(m1->truncated);
    /* the method events of content methods come with their content */
    assert_int_equal(f->g.ne, 2);
    assert_string_equal(f->g.e[1].name, "basic.publish");
    assert_true(f->g.e[1].complete);
    assert_true(f->g.e[1].has_props);
    assert_int_equal(f->g.e[1].body_size, 3000);
    struct amqp_stats s = stats(f);
    assert_int_equal(s.messages, 2);
    assert_int_equal(s.partial_bytes, 0);
    assert_int_equal(s.contents_dropped, 0);
    w_free(&b);
    fx_free(f);
}

static void test_zero_length_and_truncation(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    f->cfg.max_body = 100;
    fx_open(f, 40000, 5672);
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "", "reply_1");
    w_header(&b, 1, 0, NULL);
    char big[400];
    memset(big, 'q', sizeof big);
    w_basic_publish(&b, 1, "", "r");
    w_header(&b, 1, 400, NULL);
    w_body(&b, 1, big, 150); /* several frames: copied, cut at 100 */
    w_body(&b, 1, big, 250);
    w_basic_publish(&b, 1, "", "r");
    w_header(&b, 1, 400, NULL);
    w_body(&b, 1, big, 400); /* one frame: in place, cut at 100 */
    fx_feed(f, 0, &b);
    assert_int_equal(f->g.nm, 3);
    assert_int_equal(f->g.m[0].body_len, 0);
    assert_int_equal(f->g.m[0].body_size, 0);
    assert_false(f->g.m[0].truncated);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(f->g.m[i].body_len, 100);
        assert_int_equal(f->g.m[i].body_size, 400);
        assert_true(f->g.m[i].truncated);
    }
    assert_int_equal(stats(f).bodies_truncated, 2);
    assert_int_equal(stats(f).partial_bytes, 0);
    w_free(&b);
    fx_free(f);
}

static void test_huge_claim_no_allocation(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 40000, 5672);
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "", "r");
    w_header(&b, 1, 1ull << 63, NULL);
    char chunk[1000];
    memset(chunk, 'z', sizeof chunk);
    for (int i = 0; i < 5; i++)
        w_body(&b, 1, chunk, sizeof chunk);
    fx_feed(f, 0, &b);
    struct amqp_stats s = stats(f);
    assert_int_equal(f->g.nm, 0);
    assert_true(s.partial_bytes <= 8192); /* grows with what arrived, not with the claim */
    amqp_conn_close(f->c, 10);
    f->c = NULL;
    s = stats(f);
    assert_int_equal(s.errors[AMQP_ERR_CONTENT_UNFINISHED], 1);
    assert_int_equal(s.partial_bytes, 0);
    assert_int_equal(f->g.ne, 1);
    assert_false(f->g.e[0].complete);
    w_free(&b);
    fx_free(f);
}

static void test_broker_by_port(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 5672, 40000); /* the flow's a side is the broker (capture saw its packet first) */
    const struct amqp_conn_info *in = amqp_conn_get_info(f->c);
    assert_true(in->broker_known);
    assert_int_equal(in->broker.port, 5672);
    struct wbuf b = {0};
    w_basic_deliver(&b, 1, "ctag", 3, "openstack", "compute");
    w_header(&b, 1, 2, NULL);
    w_body(&b, 1, "{}", 2);
    fx_feed(f, 0, &b); /* a -> b = broker -> client */
    assert_int_equal(f->g.nm, 1);
    assert_int_equal(f->g.m[0].dir, 1);
    assert_int_equal(f->g.m[0].kind, AMQP_CONTENT_DELIVER);
    assert_int_equal(f->g.m[0].delivery_tag, 3);
    w_free(&b);
    fx_free(f);
}

static void test_broker_by_method_direction(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 1111, 2222); /* no known port, no handshake */
    assert_false(amqp_conn_get_info(f->c)->broker_known);
    struct wbuf b = {0};
    w_basic_deliver(&b, 1, "ctag", 1, "x", "y"); /* only brokers deliver */
    w_header(&b, 1, 0, NULL);
    fx_feed(f, 0, &b);
    const struct amqp_conn_info *in = amqp_conn_get_info(f->c);
    assert_true(in->broker_known);
    assert_int_equal(in->broker.port, 1111);
    assert_int_equal(in->client.port, 2222);
    assert_int_equal(f->g.m[0].dir, 1);
    assert_int_equal(f->g.updates, 1);
    /* basic.ack flows both ways: it must not flip anything */
    b.len = 0;
    const struct amqp_method_def *ack = amqp_method_find(60, 80);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    w_method(&b, 1, ack, v);
    fx_feed(f, 1, &b);
    assert_int_equal(in->broker.port, 1111);
    assert_int_equal(f->g.e[f->g.ne - 1].dir, 0);
    w_free(&b);
    fx_free(f);
}

static void test_handshake(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 3333, 4444); /* roles from the protocol header alone; b is the client here */
    struct wbuf b = {0};
    w_raw(&b, "AMQP\x00\x00\x09\x01", 8);
    fx_feed(f, 1, &b);
    const struct amqp_conn_info *in = amqp_conn_get_info(f->c);
    assert_true(in->broker_known);
    assert_int_equal(in->client.port, 4444);

    struct wbuf sp = {0};
    w_sstr(&sp, "product");
    w_u8(&sp, 'S');
    w_lstr(&sp, "RabbitMQ", 8);
    w_sstr(&sp, "version");
    w_u8(&sp, 'S');
    w_lstr(&sp, "3.10.8", 6);
    const struct amqp_method_def *start = amqp_method_find(10, 10);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    v[0].u = 0;
    v[1].u = 9;
    v[2].bytes.p = sp.p;
    v[2].bytes.len = sp.len;
    arg_str(start, v, "mechanisms", "PLAIN AMQPLAIN");
    arg_str(start, v, "locales", "en_US");
    b.len = 0;
    w_method(&b, 0, start, v);
    fx_feed(f, 0, &b);

    struct wbuf cp = {0};
    w_sstr(&cp, "product");
    w_u8(&cp, 'S');
    w_lstr(&cp, "py-amqp", 7);
    w_sstr(&cp, "product_version");
    w_u8(&cp, 'S');
    w_lstr(&cp, "5.1.1", 5);
    w_sstr(&cp, "connection_name");
    w_u8(&cp, 'S');
    w_lstr(&cp, "nova-compute:42", 15);
    const struct amqp_method_def *sok = amqp_method_find(10, 11);
    memset(v, 0, sizeof v);
    v[0].bytes.p = cp.p;
    v[0].bytes.len = cp.len;
    arg_str(sok, v, "mechanism", "PLAIN");
    static const char resp[] = "\0stackrabbit\0SECRETPASSWORD";
    v[2].bytes.p = (const uint8_t *)resp;
    v[2].bytes.len = sizeof resp - 1;
    arg_str(sok, v, "locale", "en_US");
    b.len = 0;
    w_method(&b, 0, sok, v);
    /* split the start-ok over two deliveries so it is assembled in the splitter's buffer */
    struct wbuf h1 = {0}, h2 = {0};
    w_raw(&h1, b.p, 10);
    w_raw(&h2, b.p + 10, b.len - 10);
    fx_feed(f, 1, &h1);
    fx_feed(f, 1, &h2);

    const struct amqp_method_def *tok = amqp_method_find(10, 31);
    memset(v, 0, sizeof v);
    v[0].u = 2047;
    v[1].u = 131072;
    v[2].u = 60;
    b.len = 0;
    w_method(&b, 0, tok, v);
    const struct amqp_method_def *open = amqp_method_find(10, 40);
    memset(v, 0, sizeof v);
    arg_str(open, v, "virtual_host", "/nova");
    w_method(&b, 0, open, v);
    fx_feed(f, 1, &b);
    b.len = 0;
    memset(v, 0, sizeof v);
    w_method(&b, 0, amqp_method_find(10, 41), v);
    fx_feed(f, 0, &b);

    assert_string_equal(in->server_product, "RabbitMQ");
    assert_string_equal(in->server_version, "3.10.8");
    assert_string_equal(in->product, "py-amqp");
    assert_string_equal(in->client_version, "5.1.1");
    assert_string_equal(in->connection_name, "nova-compute:42");
    assert_string_equal(in->user, "stackrabbit");
    assert_string_equal(in->mechanism, "PLAIN");
    assert_string_equal(in->vhost, "/nova");
    assert_int_equal(in->channel_max, 2047);
    assert_int_equal(in->frame_max, 131072);
    assert_int_equal(in->heartbeat, 60);
    assert_true(in->handshake_seen);
    assert_int_equal(in->nhandshake_pkts,
                     6); /* header, start, start-ok x2, tune-ok+open, open-ok */
    assert_null(memmem(in, sizeof *in, "SECRETPASSWORD", 14));
    assert_true(f->g.updates >= 3);
    /* The set-up after the handshake (channel.open, a declare) is kept too, up
     * to the first message: a -w file without it starts the first message
     * after a hole, which a reader holds back (the live -w read-back lost a
     * call that way). The first content method closes the list and says so. */
    b.len = 0;
    memset(v, 0, sizeof v);
    w_method(&b, 1, amqp_method_find(20, 10), v); /* channel.open */
    fx_feed(f, 1, &b);
    b.len = 0;
    memset(v, 0, sizeof v);
    arg_str(amqp_method_find(50, 10), v, "queue", "compute");
    w_method(&b, 1, amqp_method_find(50, 10), v); /* queue.declare */
    fx_feed(f, 1, &b);
    assert_int_equal(in->nhandshake_pkts, 8);
    unsigned updates = f->g.updates;
    b.len = 0;
    w_basic_publish(&b, 1, "openstack", "compute");
    fx_feed(f, 1, &b);
    assert_int_equal(f->g.updates, updates + 1);
    b.len = 0;
    memset(v, 0, sizeof v);
    w_method(&b, 1, amqp_method_find(20, 10), v); /* set-up after a message: not kept */
    fx_feed(f, 1, &b);
    assert_int_equal(in->nhandshake_pkts, 8);
    /* after tune-ok, a frame over frame_max is refused */
    b.len = 0;
    char big[140000];
    memset(big, 'x', sizeof big);
    w_body(&b, 1, big, sizeof big);
    fx_feed(f, 1, &b);
    assert_int_equal(stats(f).oversize_frames, 1);
    w_free(&b);
    w_free(&sp);
    w_free(&cp);
    w_free(&h1);
    w_free(&h2);
    fx_free(f);
}

static void consume(struct wbuf *b, uint16_t ch, const char *queue, const char *tag)
{
    const struct amqp_method_def *m = amqp_method_find(60, 20);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    arg_str(m, v, "queue", queue);
    arg_str(m, v, "consumer_tag", tag);
    w_method(b, ch, m, v);
}

static void consume_ok(struct wbuf *b, uint16_t ch, const char *tag)
{
    const struct amqp_method_def *m = amqp_method_find(60, 21);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    arg_str(m, v, "consumer_tag", tag);
    w_method(b, ch, m, v);
}

static void test_consumer_tags(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    f->cfg.max_consumers = 2;
    fx_open(f, 40000, 5672);
    struct wbuf c = {0}, s = {0};
    consume(&c, 1, "compute", "");       /* server-generated tag */
    consume(&c, 1, "conductor", "tagB"); /* client tag */
    fx_feed(f, 0, &c);
    consume_ok(&s, 1, "amq.ctag-1");
    consume_ok(&s, 1, "tagB");
    w_basic_deliver(&s, 1, "amq.ctag-1", 1, "openstack", "compute");
    w_header(&s, 1, 0, NULL);
    w_basic_deliver(&s, 1, "tagB", 2, "openstack", "conductor");
    w_header(&s, 1, 0, NULL);
    fx_feed(f, 1, &s);
    assert_int_equal(f->g.nm, 2);
    assert_string_equal(f->g.m[0].queue, "compute");
    assert_string_equal(f->g.m[1].queue, "conductor");
    assert_int_equal(amqp_conn_get_info(f->c)->consumers, 2);
    c.len = 0;
    consume(&c, 1, "third", "tagC"); /* over the limit: the oldest (tagB, known first) goes */
    fx_feed(f, 0, &c);
    assert_int_equal(stats(f).consumers_evicted, 1);
    s.len = 0;
    w_basic_deliver(&s, 1, "tagB", 3, "openstack", "conductor");
    w_header(&s, 1, 0, NULL);
    fx_feed(f, 1, &s);
    assert_string_equal(f->g.m[2].queue, "");
    w_free(&c);
    w_free(&s);
    fx_free(f);
}

static void test_orphans_and_gap(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 40000, 5672);
    struct wbuf b = {0};
    /* capture began inside a content: body frames without their header */
    w_body(&b, 1, "tail1", 5);
    w_body(&b, 1, "tail2", 5);
    w_basic_publish(&b, 1, "", "r");
    w_header(&b, 1, 10, NULL);
    w_body(&b, 1, "01234", 5);
    fx_feed(f, 0, &b);
    struct amqp_stats s = stats(f);
    assert_int_equal(s.errors[AMQP_ERR_BODY_WITHOUT_HEADER], 1); /* counted once per content */
    /* the TCP stream loses bytes inside the content */
    amqp_conn_gap(f->c, 0, 100, 5000);
    b.len = 0;
    w_body(&b, 1, "56789", 5); /* its tail: must not complete anything */
    w_basic_publish(&b, 1, "", "r2");
    w_header(&b, 1, 3, NULL);
    w_body(&b, 1, "abc", 3);
    fx_feed(f, 0, &b);
    s = stats(f);
    assert_int_equal(f->g.nm, 1);
    assert_string_equal(f->g.m[0].rk, "r2");
    assert_int_equal(s.errors[AMQP_ERR_CONTENT_GAP], 1);
    assert_int_equal(s.gaps, 1);
    /* the lost publish is still reported as a method, marked incomplete */
    assert_string_equal(f->g.e[0].name, "basic.publish");
    assert_false(f->g.e[0].complete);
    /* a header without its method */
    b.len = 0;
    w_header(&b, 4, 5, NULL);
    w_body(&b, 4, "abcde", 5);
    fx_feed(f, 0, &b);
    s = stats(f);
    assert_int_equal(s.errors[AMQP_ERR_HEADER_WITHOUT_METHOD], 1);
    assert_int_equal(s.errors[AMQP_ERR_BODY_WITHOUT_HEADER], 1);
    w_free(&b);
    fx_free(f);
}

static void test_partial_eviction(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    f->cfg.max_partial_bytes = 10000;
    fx_open(f, 40000, 5672);
    char chunk[4000];
    memset(chunk, 'p', sizeof chunk);
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "", "old");
    w_header(&b, 1, 20000, NULL);
    w_body(&b, 1, chunk, 4000);
    w_body(&b, 1, chunk, 4000);
    w_basic_publish(&b, 2, "", "new");
    w_header(&b, 2, 8000, NULL);
    w_body(&b, 2, chunk, 4000);
    w_body(&b, 2, chunk, 4000);
    fx_feed(f, 0, &b);
    struct amqp_stats s = stats(f);
    assert_int_equal(s.partial_evicted, 1);
    assert_true(s.partial_bytes <= 10000);
    assert_int_equal(f->g.nm, 1);
    assert_string_equal(f->g.m[0].rk, "new");
    assert_int_equal(f->g.m[0].body_len, 8000);
    /* the rest of the evicted content is swallowed, not an orphan */
    b.len = 0;
    w_body(&b, 1, chunk, 4000);
    fx_feed(f, 0, &b);
    assert_int_equal(stats(f).errors[AMQP_ERR_BODY_WITHOUT_HEADER], 0);
    w_free(&b);
    fx_free(f);
}

static void test_malformed_table_and_return(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    fx_open(f, 40000, 5672);
    struct wbuf b = {0};
    /* queue.declare whose arguments table runs past the frame */
    static const uint8_t qd[] = {0, 50, 0, 10, 0, 0, 1, 'q', 0, 0, 0, 0, 40, 1, 'k', 'S'};
    w_frame(&b, 1, 1, qd, sizeof qd);
    fx_feed(f, 0, &b);
    struct amqp_stats s = stats(f);
    assert_int_equal(s.malformed_frames, 1);
    assert_int_equal(s.errors[AMQP_ERR_BAD_ARGS], 1);
    /* basic.return -> AMQP_CONTENT_RETURN with code and text */
    b.len = 0;
    const struct amqp_method_def *ret = amqp_method_find(60, 50);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    v[0].u = 312;
    arg_str(ret, v, "reply_text", "NO_ROUTE");
    arg_str(ret, v, "exchange", "openstack");
    arg_str(ret, v, "routing_key", "compute.nohost");
    w_method(&b, 1, ret, v);
    w_header(&b, 1, 2, NULL);
    w_body(&b, 1, "{}", 2);
    /* unknown method */
    static const uint8_t um[] = {0, 60, 0, 99};
    w_frame(&b, 1, 1, um, sizeof um);
    fx_feed(f, 1, &b);
    assert_int_equal(f->g.nm, 1);
    assert_int_equal(f->g.m[0].kind, AMQP_CONTENT_RETURN);
    assert_int_equal(f->g.m[0].reply_code, 312);
    assert_string_equal(f->g.m[0].reply_text, "NO_ROUTE");
    s = stats(f);
    assert_int_equal(s.unknown_methods, 1);
    assert_string_equal(f->g.e[f->g.ne - 1].name, "unknown");
    w_free(&b);
    fx_free(f);
}

static void test_channel_limit_and_footprint(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    f->cfg.max_channels = 4;
    fx_open(f, 40000, 5672);
    assert_true(amqp_conn_footprint(f->c) <= 2048);
    struct wbuf b = {0};
    const struct amqp_method_def *open = amqp_method_find(20, 10);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    for (uint16_t ch = 1; ch <= 10; ch++)
        w_method(&b, ch, open, v);
    fx_feed(f, 0, &b);
    assert_int_equal(amqp_conn_get_info(f->c)->channels_open, 4);
    assert_int_equal(stats(f).channels_evicted, 6);
    /* channel.close-ok frees the channel */
    b.len = 0;
    w_method(&b, 10, amqp_method_find(20, 41), v);
    fx_feed(f, 1, &b);
    assert_int_equal(amqp_conn_get_info(f->c)->channels_open, 3);
    assert_true(amqp_conn_footprint(f->c) <= 2048);
    w_free(&b);
    fx_free(f);
}

static void test_without_methods_callback(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    f->cfg.want_methods = false;
    fx_open(f, 40000, 5672);
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "", "r");
    w_header(&b, 1, 1, NULL);
    w_body(&b, 1, "x", 1);
    fx_feed(f, 0, &b);
    assert_int_equal(f->g.nm, 1);
    assert_int_equal(f->g.ne, 0);
    w_free(&b);
    fx_free(f);
}

static uint32_t rng(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Valid traffic with random bit flips, cuts, gaps and garbage: no crash, no
 * leak (ASan), every message within its bounds, partial bytes back to zero. */
static void test_mutated_streams(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    struct wbuf clean = {0};
    char body[3000];
    memset(body, 'b', sizeof body);
    for (int i = 0; i < 30; i++) {
        w_basic_publish(&clean, (uint16_t)(1 + i % 3), "openstack", "compute");
        w_header(&clean, (uint16_t)(1 + i % 3), 3000, "application/json");
        w_body(&clean, (uint16_t)(1 + i % 3), body, 1000);
        w_body(&clean, (uint16_t)(1 + i % 3), body, 2000);
        consume(&clean, 2, "q", "t");
    }
    for (int round = 0; round < 300; round++) {
        struct fixture *f = fx_new();
        f->cfg.max_body = 1500;
        f->cfg.max_partial_bytes = 5000;
        f->cfg.max_channels = 2;
        fx_open(f, 40000, 5672);
        uint8_t *m = malloc(clean.len);
        memcpy(m, clean.p, clean.len);
        int flips = (int)(rng(&seed) % 20);
        for (int k = 0; k < flips; k++)
            m[rng(&seed) % clean.len] ^= (uint8_t)(1u << (rng(&seed) % 8));
        size_t off = rng(&seed) % 64;
        while (off < clean.len) {
            size_t n = 1 + rng(&seed) % 3000;
            if (n > clean.len - off)
                n = clean.len - off;
            uint8_t *c = malloc(n);
            memcpy(c, m + off, n);
            int dir = (rng(&seed) % 8) == 0;
            if (rng(&seed) % 16 == 0)
                amqp_conn_gap(f->c, dir, n, off);
            else
                amqp_conn_data(f->c, dir, c, n, off, off);
            free(c);
            off += n;
        }
        free(m);
        for (size_t i = 0; i < f->g.nm; i++) {
            assert_true(f->g.m[i].body_len <= 1500);
            assert_true(f->g.m[i].body_len <= f->g.m[i].body_size);
        }
        assert_true(stats(f).partial_bytes <= 5000);
        amqp_conn_close(f->c, 0);
        f->c = NULL;
        assert_int_equal(stats(f).partial_bytes, 0);
        assert_int_equal(stats(f).connections_open, 0);
        fx_free(f);
    }
    w_free(&clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interleaved_channels),
        cmocka_unit_test(test_zero_length_and_truncation),
        cmocka_unit_test(test_huge_claim_no_allocation),
        cmocka_unit_test(test_broker_by_port),
        cmocka_unit_test(test_broker_by_method_direction),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_consumer_tags),
        cmocka_unit_test(test_orphans_and_gap),
        cmocka_unit_test(test_partial_eviction),
        cmocka_unit_test(test_malformed_table_and_return),
        cmocka_unit_test(test_channel_limit_and_footprint),
        cmocka_unit_test(test_without_methods_callback),
        cmocka_unit_test(test_mutated_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

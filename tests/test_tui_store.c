/*
 * test_tui_store.c: the TUI's model without a terminal. The store (copies,
 * eviction, filtered list, pause bound, body caps and budget, packet caps,
 * connections), the Topics snapshot of the shared stats (counts,
 * percentiles, sparkline histogram, bounds, overflow rows, sorting) and the formatted
 * text (column fitting in UTF-8, rows of exactly the screen width, the
 * Detail view's lines, sanitizing of hostile strings), fed with fake ops.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dissect/stats.h"
#include "engine/filter.h"
#include "ui/tui_agg.h"
#include "ui/tui_format.h"
#include "ui/tui_store.h"

static struct op fake_op(const char *topic, const char *method, enum op_status status,
                         double latency_ms)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_CALL;
    op.status = status;
    op.ts_ns = 1795576471000000000ull;
    op.topic = topic;
    op.method = method;
    op.msg_id = "775339337feb4689acd43f054dd4b441";
    op.has_latency = latency_ms >= 0;
    op.latency_ms = latency_ms;
    op.queue_wait_ms = -1;
    op.server_ms = -1;
    return op;
}

static struct tui_store *small_store(size_t history)
{
    struct tui_store_config c;
    tui_store_config_default(&c);
    c.history = history;
    struct tui_store *s = tui_store_new(&c);
    assert_non_null(s);
    return s;
}

static void test_copies_strings(void **state)
{
    (void)state;
    struct tui_store *s = small_store(10);
    char topic[] = "compute", method[] = "echo", rid[] = "req-1";
    uint64_t pkts[] = {3, 5, 8};
    struct op op = fake_op(topic, method, OP_OK, 1.5);
    op.request_id = rid;
    op.pkts = pkts;
    op.npkts = 3;
    const struct tui_entry *e = tui_store_add_op(s, &op);
    assert_non_null(e);
    memset(topic, 'X', sizeof topic - 1);
    memset(method, 'Y', sizeof method - 1);
    pkts[0] = 99;
    assert_string_equal(e->op.topic, "compute");
    assert_string_equal(e->op.method, "echo");
    assert_string_equal(e->op.request_id, "req-1");
    assert_ptr_not_equal(e->op.topic, topic);
    assert_null(e->op.server);
    assert_null(e->op.args_json);
    assert_int_equal(e->op.npkts, 3);
    assert_int_equal(e->op.pkts[0], 3);
    assert_int_equal(e->seq, 1);
    tui_store_free(s);
}

static void test_evicts_oldest(void **state)
{
    (void)state;
    struct tui_store *s = small_store(3);
    for (int i = 0; i < 5; i++) {
        struct op op = fake_op("compute", "echo", OP_OK, i);
        assert_non_null(tui_store_add_op(s, &op));
    }
    struct tui_store_stats st;
    tui_store_get_stats(s, &st);
    assert_int_equal(st.added, 5);
    assert_int_equal(st.evicted, 2);
    assert_int_equal(st.entries, 3);
    assert_int_equal(tui_store_visible(s), 3);
    assert_null(tui_store_find(s, 1));
    assert_null(tui_store_find(s, 2));
    assert_non_null(tui_store_find(s, 3));
    assert_null(tui_store_find(s, 6));
    assert_int_equal(tui_store_visible_at(s, 0)->seq, 3);
    assert_int_equal(tui_store_visible_at(s, 2)->seq, 5);
    assert_null(tui_store_visible_at(s, 3));
    assert_int_equal(tui_store_last_seq(s), 5);
    tui_store_free(s);
}

static void test_filter_and_pause(void **state)
{
    (void)state;
    struct tui_store *s = small_store(4);
    const char *topics[] = {"compute", "conductor", "compute", "conductor", "compute"};
    for (int i = 0; i < 3; i++) {
        struct op op = fake_op(topics[i], "echo", OP_OK, 1);
        tui_store_add_op(s, &op);
    }
    struct op_filter f;
    char err[128];
    assert_true(op_filter_parse_expr(&f, "topic=compute", err, sizeof err));
    tui_store_set_filter(s, &f);
    assert_int_equal(tui_store_visible(s), 2);
    assert_int_equal(tui_store_visible_at(s, 0)->seq, 1);
    assert_int_equal(tui_store_visible_at(s, 1)->seq, 3);
    /* new entries are filtered as they arrive; the evicted seq 1 leaves the list */
    for (int i = 3; i < 5; i++) {
        struct op op = fake_op(topics[i], "echo", OP_OK, 1);
        tui_store_add_op(s, &op);
    }
    assert_int_equal(tui_store_visible(s), 2);
    assert_int_equal(tui_store_visible_at(s, 0)->seq, 3);
    assert_int_equal(tui_store_visible_at(s, 1)->seq, 5);
    assert_int_equal(tui_store_visible_upto(s, 4), 1);
    assert_int_equal(tui_store_visible_upto(s, 5), 2);
    assert_int_equal(tui_store_visible_upto(s, 2), 0);
    /* status filter, then clearing */
    assert_true(op_filter_parse_expr(&f, "status=error", err, sizeof err));
    tui_store_set_filter(s, &f);
    assert_int_equal(tui_store_visible(s), 0);
    op_filter_init(&f);
    tui_store_set_filter(s, &f);
    assert_int_equal(tui_store_visible(s), 4);
    tui_store_free(s);
}

/* The visible list always equals "stored entries that match", whatever the
 * mix of evictions and filter changes. */
static void test_visible_list_invariant(void **state)
{
    (void)state;
    struct tui_store *s = small_store(37);
    const char *topics[] = {"compute", "conductor", "scheduler"};
    struct op_filter f;
    char err[128];
    assert_true(op_filter_parse_expr(&f, "topic=co*", err, sizeof err));
    tui_store_set_filter(s, &f);
    unsigned seed = 7;
    for (int i = 0; i < 1000; i++) {
        seed = seed * 1103515245u + 12345u;
        struct op op = fake_op(topics[(seed >> 16) % 3], "m", (enum op_status)((seed >> 8) % 3), 1);
        tui_store_add_op(s, &op);
        if (i % 97 == 0)
            tui_store_set_filter(s, &f); /* rebuilds from the ring: same answer */
        size_t want = 0;
        uint64_t last = tui_store_last_seq(s);
        for (uint64_t q = last > 36 ? last - 36 : 1; q <= last; q++) {
            const struct tui_entry *e = tui_store_find(s, q);
            assert_non_null(e);
            if (op_filter_match(&f, &e->op))
                want++;
        }
        assert_int_equal(tui_store_visible(s), want);
        for (size_t k = 1; k < tui_store_visible(s); k++)
            assert_true(tui_store_visible_at(s, k - 1)->seq < tui_store_visible_at(s, k)->seq);
    }
    tui_store_free(s);
}

static void test_body_cap_and_budget(void **state)
{
    (void)state;
    struct tui_store_config c;
    tui_store_config_default(&c);
    c.history = 100;
    c.body_cap = 10;
    c.body_budget = 40;
    struct tui_store *s = tui_store_new(&c);
    /* 9 ASCII bytes then a 2-byte character: the cut must not split it */
    struct op op = fake_op("compute", "echo", OP_OK, 1);
    op.args_json = "\"abcdefg\xc3\xa9xyz\"";
    const struct tui_entry *e1 = tui_store_add_op(s, &op);
    assert_true(e1->body_cut[TUI_BODY_ARGS]);
    assert_string_equal(e1->op.args_json, "\"abcdefg\xc3\xa9");
    uint64_t seq1 = e1->seq;
    op.args_json = "[1,2,3]";
    op.result_json = "{\"a\":1}";
    for (int i = 0; i < 5; i++)
        tui_store_add_op(s, &op);
    struct tui_store_stats st;
    tui_store_get_stats(s, &st);
    assert_true(st.body_bytes <= 40);
    assert_true(st.bodies_dropped >= 1);
    assert_int_equal(st.bodies_cut, 1);
    const struct tui_entry *old = tui_store_find(s, seq1);
    assert_non_null(old);             /* the entry stays listed ... */
    assert_true(old->bodies_dropped); /* ... without its bodies */
    assert_null(old->op.args_json);
    const struct tui_entry *last = tui_store_find(s, tui_store_last_seq(s));
    assert_string_equal(last->op.args_json, "[1,2,3]");
    assert_string_equal(last->op.result_json, "{\"a\":1}");
    tui_store_free(s);
}

static void test_pkts_cap(void **state)
{
    (void)state;
    struct tui_store_config c;
    tui_store_config_default(&c);
    c.max_pkts = 2;
    struct tui_store *s = tui_store_new(&c);
    uint64_t pkts[] = {1, 2, 3, 4};
    struct op op = fake_op("compute", "echo", OP_OK, 1);
    op.pkts = pkts;
    op.npkts = 4;
    const struct tui_entry *e = tui_store_add_op(s, &op);
    assert_int_equal(e->op.npkts, 2);
    assert_true(e->pkts_cut);
    struct tui_store_stats st;
    tui_store_get_stats(s, &st);
    assert_int_equal(st.pkts_cut, 1);
    tui_store_free(s);
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[64];
    assert_true(tui_sanitize(out, sizeof out, "\x1b[31mred\x07"));
    assert_string_equal(out, "?[31mred?");
    assert_true(tui_sanitize(out, sizeof out, "caf\xc3\xa9 \xe2\x96\x81"));
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x96\x81");
    assert_true(tui_sanitize(out, sizeof out, "bad\xff\xc3(\xc2\x9b"));
    assert_string_equal(out, "bad?"
                             "?(?"); /* stray bytes and a C1 control */
    assert_true(tui_sanitize(out, sizeof out, "\xc0\xaf\xed\xa0\x80")); /* overlong, surrogate */
    assert_string_equal(out, "????"
                             "?");
    /* a cut never splits a character */
    assert_false(tui_sanitize(out, 6, "abcd\xc3\xa9"));
    assert_string_equal(out, "abcd");
    /* hostile strings are sanitized in the stored copy */
    struct tui_store *s = small_store(2);
    struct op op = fake_op("comp\x1b]0;pwned\x07ute", "echo\n", OP_OK, 1);
    const struct tui_entry *e = tui_store_add_op(s, &op);
    assert_string_equal(e->op.topic, "comp?]0;pwned?ute");
    assert_string_equal(e->op.method, "echo?");
    tui_store_free(s);
}

static void test_long_strings_cut(void **state)
{
    (void)state;
    struct tui_store *s = small_store(2);
    char big[TUI_STORE_STR_MAX * 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct op op = fake_op(big, "echo", OP_OK, 1);
    const struct tui_entry *e = tui_store_add_op(s, &op);
    assert_int_equal(strlen(e->op.topic), TUI_STORE_STR_MAX - 1);
    struct tui_store_stats st;
    tui_store_get_stats(s, &st);
    assert_int_equal(st.strings_cut, 1);
    tui_store_free(s);
}

static struct amqp_conn_info conn_info(uint64_t id, uint64_t last_ts, const char *name)
{
    struct amqp_conn_info in;
    memset(&in, 0, sizeof in);
    in.id = id;
    in.client.family = 4;
    in.client.ip[0] = 127;
    in.client.ip[3] = 1;
    in.client.port = (uint16_t)(40000 + id);
    in.broker = in.client;
    in.broker.port = 5672;
    in.broker_known = true;
    in.last_ts = last_ts;
    snprintf(in.connection_name, sizeof in.connection_name, "%s", name);
    return in;
}

static void test_connections(void **state)
{
    (void)state;
    struct tui_store_config c;
    tui_store_config_default(&c);
    c.max_conns = 2;
    struct tui_store *s = tui_store_new(&c);
    uint64_t hs[TUI_STORE_HANDSHAKE_MAX + 4]; /* more than kept */
    for (int i = 0; i < TUI_STORE_HANDSHAKE_MAX + 4; i++)
        hs[i] = (uint64_t)i + 100;
    struct amqp_conn_info a = conn_info(7, 100, "nova-compute:host\x1b[2J");
    a.handshake_pkts = hs;
    a.nhandshake_pkts = TUI_STORE_HANDSHAKE_MAX + 4;
    tui_store_conn_event(s, &a, AMQP_CONN_OPEN);
    struct amqp_conn_info b = conn_info(3, 50, "conductor");
    tui_store_conn_event(s, &b, AMQP_CONN_OPEN);
    assert_int_equal(tui_store_conn_count(s), 2);
    assert_int_equal(tui_store_conn_at(s, 0)->info.id, 3); /* id order */
    const struct tui_conn *ca = tui_store_conn_find(s, 7);
    assert_non_null(ca);
    assert_string_equal(ca->info.connection_name, "nova-compute:host?[2J");
    assert_int_equal(ca->nhandshake, TUI_STORE_HANDSHAKE_MAX);
    assert_int_equal(ca->handshake[TUI_STORE_HANDSHAKE_MAX - 1], 100 + TUI_STORE_HANDSHAKE_MAX - 1);
    assert_null(ca->info.handshake_pkts);
    /* an update replaces, a close marks */
    a.frames = 42;
    tui_store_conn_event(s, &a, AMQP_CONN_CLOSE);
    assert_int_equal(tui_store_conn_find(s, 7)->info.frames, 42);
    assert_true(tui_store_conn_find(s, 7)->closed);
    /* full: the closed one goes even though it is the most recent */
    struct amqp_conn_info d = conn_info(9, 500, "scheduler");
    tui_store_conn_event(s, &d, AMQP_CONN_OPEN);
    assert_null(tui_store_conn_find(s, 7));
    assert_non_null(tui_store_conn_find(s, 3));
    assert_non_null(tui_store_conn_find(s, 9));
    /* none closed: the least recently active goes */
    struct amqp_conn_info e = conn_info(1, 600, "api");
    tui_store_conn_event(s, &e, AMQP_CONN_OPEN);
    assert_null(tui_store_conn_find(s, 3));
    assert_int_equal(tui_store_conn_at(s, 0)->info.id, 1);
    struct tui_store_stats st;
    tui_store_get_stats(s, &st);
    assert_int_equal(st.conns_evicted, 2);
    assert_int_equal(st.conns_seen, 4);
    tui_store_free(s);
}

static struct tui_agg *new_agg(size_t max_rows)
{
    struct tui_agg_config c;
    tui_agg_config_default(&c);
    if (max_rows)
        c.max_rows = max_rows;
    struct tui_agg *a = tui_agg_new(&c);
    assert_non_null(a);
    return a;
}

static bool near(double got, double want)
{
    return got > want * 0.99 && got < want * 1.01;
}

static void test_agg_percentiles(void **state)
{
    (void)state;
    struct stats *st = stats_new(0);
    struct tui_agg *a = new_agg(0);
    /* 1..100 ms in a shuffled order: nearest rank gives p50 50, p90 90, p99 99 */
    for (int i = 0; i < 100; i++) {
        int v = (i * 37) % 100 + 1;
        struct op op = fake_op("compute", i % 2 ? "echo" : "boom", OP_OK, v);
        stats_add(st, &op);
    }
    struct op cast = fake_op("compute", "cast_sink", OP_OK, -1);
    cast.type = OP_CAST;
    stats_add(st, &cast);
    tui_agg_load(a, st);
    struct op err = fake_op("conductor", "echo", OP_ERROR, 2000);
    stats_add(st, &err);
    struct op tmo = fake_op("conductor", "echo", OP_TIMEOUT, -1);
    stats_add(st, &tmo);
    tui_agg_load(a, st); /* a second load adds the new rows and refreshes changed ones */
    tui_agg_sort(a, TUI_SORT_NAME);
    const struct tui_agg_row *r = tui_agg_find(a, "compute", NULL);
    assert_non_null(r);
    assert_int_equal(r->calls, 100);
    assert_int_equal(r->casts, 1);
    assert_int_equal(r->ops, 101);
    assert_int_equal(r->nlat, 100);
    assert_true(near(r->p50, 50.0));
    assert_true(near(r->p90, 90.0));
    assert_true(near(r->p99, 99.0));
    assert_true(r->max_ms == 100.0);
    uint64_t inhist = 0;
    for (int i = 0; i < TUI_AGG_BUCKETS; i++)
        inhist += r->hist[i];
    assert_int_equal(inhist, 100);
    /* 1 ms: its octave [0.52, 1.05) ms folds into [0.5, 1) */
    assert_int_equal(r->hist[tui_agg_bucket(0.7)], 1);
    const struct tui_agg_row *m = tui_agg_find(a, "compute", "echo");
    assert_int_equal(m->calls, 50);
    const struct tui_agg_row *cd = tui_agg_find(a, "conductor", "");
    assert_int_equal(cd->by_status[OP_ERROR], 1);
    assert_int_equal(cd->by_status[OP_TIMEOUT], 1);
    assert_int_equal(cd->hist[TUI_AGG_BUCKETS - 1], 1);
    /* order: topics by name, each followed by its methods */
    assert_int_equal(tui_agg_count(a), 6);
    assert_string_equal(tui_agg_row_at(a, 0)->topic, "compute");
    assert_string_equal(tui_agg_row_at(a, 0)->method, "");
    assert_string_equal(tui_agg_row_at(a, 1)->method, "boom");
    assert_string_equal(tui_agg_row_at(a, 4)->topic, "conductor");
    assert_string_equal(tui_agg_row_at(a, 4)->method, "");
    /* by errors: conductor first */
    tui_agg_sort(a, TUI_SORT_ERRORS);
    assert_string_equal(tui_agg_row_at(a, 0)->topic, "conductor");
    assert_string_equal(tui_agg_row_at(a, 1)->method, "echo");
    tui_agg_sort(a, TUI_SORT_CALLS);
    assert_string_equal(tui_agg_row_at(a, 0)->topic, "compute");
    assert_string_equal(tui_agg_row_at(a, 1)->method, "boom"); /* 50 calls, tie with echo: name */
    tui_agg_free(a);
    stats_free(st);
}

/* The snapshot follows the shared table as it grows, and the display table
 * is bounded on its own: what does not fit is counted, never drawn wrong. */
static void test_agg_bounded(void **state)
{
    (void)state;
    struct stats *st = stats_new(0);
    struct tui_agg *a = new_agg(5);
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "topic%d", i);
        struct op op = fake_op(name, "m", OP_OK, 1);
        stats_add(st, &op);
        tui_agg_load(a, st);
    }
    struct tui_agg_stats as;
    tui_agg_get_stats(a, &as);
    assert_int_equal(as.rows, 5);
    assert_int_equal(as.rows_full, 15);
    tui_agg_sort(a, TUI_SORT_NAME);
    for (size_t i = 0; i < tui_agg_count(a); i++)
        assert_non_null(tui_agg_row_at(a, i));
    assert_null(tui_agg_row_at(a, 5));
    assert_null(tui_agg_find(a, "topic9", NULL));
    tui_agg_free(a);
    stats_free(st);
}

/* The shared table's own overflow rows ("(other)") are shown like any topic. */
static void test_agg_overflow_rows(void **state)
{
    (void)state;
    struct stats *st = stats_new(3);
    struct tui_agg *a = new_agg(0);
    char name[32];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "topic%d", i);
        struct op op = fake_op(name, "m", OP_OK, 1);
        stats_add(st, &op);
    }
    tui_agg_load(a, st);
    tui_agg_sort(a, TUI_SORT_CALLS);
    uint64_t total = 0;
    for (size_t i = 0; i < tui_agg_count(a); i++) {
        const struct tui_agg_row *r = tui_agg_row_at(a, i);
        assert_non_null(r);
        if (!r->method[0])
            total += r->ops;
    }
    struct tui_agg_stats as;
    tui_agg_get_stats(a, &as);
    assert_true(as.overflow_ops > 0);
    assert_true(total >= 6 - as.overflow_ops);
    assert_int_equal(as.rows_full, 0);
    assert_int_equal(tui_agg_count(a), stats_count(st));
    tui_agg_free(a);
    stats_free(st);
}

static void test_agg_bucket(void **state)
{
    (void)state;
    assert_int_equal(tui_agg_bucket(0.1), 0);
    assert_int_equal(tui_agg_bucket(0.5), 1);
    assert_int_equal(tui_agg_bucket(1.5), 2);
    assert_int_equal(tui_agg_bucket(511), 10);
    assert_int_equal(tui_agg_bucket(512), 11);
    assert_int_equal(tui_agg_bucket(1e9), 11);
}

static void test_fit_and_format(void **state)
{
    (void)state;
    char buf[256];
    assert_int_equal(tui_fit(buf, sizeof buf, "abc", 6, true), 6);
    assert_string_equal(buf, "abc   ");
    assert_int_equal(tui_fit(buf, sizeof buf, "abcdefgh", 5, false), 5);
    assert_string_equal(buf, "abcd\xe2\x80\xa6"); /* cut mark in UTF-8 */
    /* wide characters count two columns */
    assert_int_equal(tui_text_cols("\xe6\x97\xa5\xe6\x9c\xac"), 4);
    assert_int_equal(tui_fit(buf, sizeof buf, "\xe6\x97\xa5\xe6\x9c\xac", 3, true), 3);
    assert_int_equal(tui_text_cols(buf), 3);
    tui_format_ms(0.421, buf, sizeof buf);
    assert_string_equal(buf, "0.42ms");
    tui_format_ms(12.34, buf, sizeof buf);
    assert_string_equal(buf, "12.3ms");
    tui_format_ms(1250, buf, sizeof buf);
    assert_string_equal(buf, "1.25s");
    tui_format_ms(-1, buf, sizeof buf);
    assert_string_equal(buf, "-");
    tui_format_bytes(1536, buf, sizeof buf);
    assert_string_equal(buf, "1.5KiB");
    tui_format_count(12345, buf, sizeof buf);
    assert_string_equal(buf, "12.3k");
    uint64_t h[4] = {0, 1, 4, 8};
    tui_sparkline(h, 4, true, buf, sizeof buf);
    assert_string_equal(buf, " \xe2\x96\x81\xe2\x96\x84\xe2\x96\x88");
    tui_sparkline(h, 4, false, buf, sizeof buf);
    assert_string_equal(buf, " .=@");
}

static void test_rows_fit_width(void **state)
{
    (void)state;
    struct tui_store *s = small_store(4);
    struct op op = fake_op("compute\xe6\x97\xa5", "echo", OP_OPEN, -1);
    op.server = "host-a";
    op.request_id = "req-3d0f5615-b67a-4497-892f-9a3c26838868";
    const struct tui_entry *e = tui_store_add_op(s, &op);
    struct stats *st = stats_new(0);
    stats_add(st, &op);
    struct tui_agg *a = new_agg(0);
    tui_agg_load(a, st);
    tui_agg_sort(a, TUI_SORT_NAME);
    struct amqp_conn_info ci = conn_info(1, 1, "a-very-long-connection-name-that-will-not-fit");
    tui_store_conn_event(s, &ci, AMQP_CONN_OPEN);
    char buf[4096];
    int widths[] = {80, 100, 132, 200};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        int w = widths[i];
        tui_calls_header(w, TUI_CSORT_LATENCY, buf, sizeof buf);
        assert_int_equal(tui_text_cols(buf), w);
        tui_calls_row(e, op.ts_ns + 2500000000ull, w, buf, sizeof buf);
        assert_int_equal(tui_text_cols(buf), w);
        assert_non_null(strstr(buf, ">2.50s")); /* an open call shows its age */
        assert_non_null(strstr(buf, "open"));
        tui_topics_header(w, TUI_SORT_P99, buf, sizeof buf);
        assert_int_equal(tui_text_cols(buf), w);
        assert_non_null(strstr(buf, "P99"));
        assert_non_null(strstr(buf, "CALLS"));
        tui_topics_row(tui_agg_row_at(a, 0), TUI_SORT_P99, w, true, buf, sizeof buf);
        assert_int_equal(tui_text_cols(buf), w);
        tui_conns_header(w, buf, sizeof buf);
        assert_int_equal(tui_text_cols(buf), w);
        tui_conns_row(tui_store_conn_at(s, 0), w, buf, sizeof buf);
        assert_int_equal(tui_text_cols(buf), w);
    }
    tui_calls_row(e, 0, 132, buf, sizeof buf);
    assert_non_null(strstr(buf, "req-3d0f5615-b67a-4497-892f-9a3c26838868"));
    assert_non_null(strstr(buf, "compute\xe6\x97\xa5.host-a"));
    tui_agg_free(a);
    stats_free(st);
    tui_store_free(s);
}

static bool lines_contain(const struct tui_lines *l, const char *needle)
{
    for (size_t i = 0; i < l->n; i++)
        if (strstr(l->text[i], needle))
            return true;
    return false;
}

static void test_detail(void **state)
{
    (void)state;
    struct tui_store *s = small_store(4);
    struct amqp_conn_info ci = conn_info(5, 1, "nova-conductor:1234");
    snprintf(ci.product, sizeof ci.product, "py-amqp");
    tui_store_conn_event(s, &ci, AMQP_CONN_OPEN);
    struct op op = fake_op("conductor", "echo", OP_ERROR, 10.5);
    uint64_t t0 = 1795576471000000000ull;
    op.timeline[LEG_REQUEST_PUBLISH] = t0;
    op.timeline[LEG_REQUEST_DELIVER] = t0 + 1500000;
    op.timeline[LEG_REPLY_PUBLISH] = t0 + 6500000;
    op.timeline[LEG_REPLY_DELIVER] = t0 + 10500000;
    op.leg_conn[LEG_REQUEST_PUBLISH] = 5;
    op.latency_from = LEG_REQUEST_PUBLISH;
    op.latency_to = LEG_REPLY_DELIVER;
    op.queue_wait_ms = 1.5;
    op.server_ms = 5.0;
    op.timeout_s = 30;
    op.replies = 1;
    op.error_class = "ValueError";
    op.error_module = "builtins";
    op.error_message = "bad value\nTraceback (most recent call last):\x1b[0m";
    op.context_json =
        "{\"request_id\":\"req-1\",\"auth_token\":\"<redacted>\",\"roles\":[\"admin\"]}";
    op.args_json = "{\"value\":{\"nested\":[1,2]}}";
    op.result_json = "not json {";
    const struct tui_entry *e = tui_store_add_op(s, &op);
    struct tui_lines l;
    tui_lines_init(&l, 1000);
    tui_detail_build(&l, e, s, 120);
    assert_true(lines_contain(&l, "775339337feb4689acd43f054dd4b441"));
    assert_true(lines_contain(&l, "Timeline"));
    assert_true(lines_contain(&l, "request_deliver"));
    assert_true(lines_contain(&l, "1.50ms")); /* gap publish -> deliver */
    assert_true(lines_contain(&l, "4.00ms")); /* gap reply publish -> deliver */
    assert_true(lines_contain(&l, "queue wait 1.50ms"));
    assert_true(lines_contain(&l, "server time 5.00ms"));
    assert_true(lines_contain(&l, "ValueError"));
    assert_true(lines_contain(&l, "builtins"));
    assert_true(lines_contain(&l, "nova-conductor:1234"));
    assert_true(lines_contain(&l, "roles"));
    assert_true(lines_contain(&l, "[\"admin\"]"));
    assert_true(lines_contain(&l, "<redacted>"));
    assert_true(lines_contain(&l, "\"nested\": [")); /* indented JSON */
    assert_true(lines_contain(&l, "not json {"));    /* invalid JSON shown raw */
    for (size_t i = 0; i < l.n; i++) {
        assert_true(tui_text_cols(l.text[i]) <= 120);
        for (const char *p = l.text[i]; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    tui_lines_free(&l);
    /* bounded: the line limit holds and the rest is counted */
    tui_lines_init(&l, 5);
    tui_detail_build(&l, e, s, 100);
    assert_int_equal(l.n, 5);
    assert_true(l.dropped > 0);
    tui_lines_free(&l);
    tui_store_free(s);
}

static void test_wrap(void **state)
{
    (void)state;
    struct tui_lines l;
    tui_lines_init(&l, 100);
    tui_lines_add(&l, TUI_STYLE_NORMAL, 4, "abcdefghij");
    assert_int_equal(l.n, 3);
    assert_string_equal(l.text[0], "abcd");
    assert_string_equal(l.text[2], "ij");
    tui_lines_add(&l, TUI_STYLE_NORMAL, 3, "\xe6\x97\xa5\xe6\x9c\xac");
    assert_int_equal(l.n, 5); /* two wide characters do not fit three columns together */
    /* wide enough to indent: continuation lines start with four spaces */
    tui_lines_add(&l, TUI_STYLE_NORMAL, 24, "0123456789012345678901234567890123456789");
    assert_int_equal(l.n, 7);
    assert_string_equal(l.text[5], "012345678901234567890123");
    assert_string_equal(l.text[6], "    4567890123456789");
    tui_lines_free(&l);
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8"))
        setlocale(LC_ALL, "en_US.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_strings),
        cmocka_unit_test(test_evicts_oldest),
        cmocka_unit_test(test_filter_and_pause),
        cmocka_unit_test(test_visible_list_invariant),
        cmocka_unit_test(test_body_cap_and_budget),
        cmocka_unit_test(test_pkts_cap),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_long_strings_cut),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_agg_percentiles),
        cmocka_unit_test(test_agg_bounded),
        cmocka_unit_test(test_agg_overflow_rows),
        cmocka_unit_test(test_agg_bucket),
        cmocka_unit_test(test_fit_and_format),
        cmocka_unit_test(test_rows_fit_width),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

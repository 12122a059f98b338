/*
 * test_stats.c: per-topic / per-method rows, their counters and histograms,
 * and the key limit: a million distinct topics keep the table at its bound,
 * with the rest in the "(other)" rows and counted.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "dissect/stats.h"

static struct op mk(enum op_type t, enum op_status s, const char *topic, const char *method,
                    double lat_ms, uint64_t ts)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = t;
    op.status = s;
    op.topic = topic;
    op.method = method;
    op.ts_ns = ts;
    op.has_latency = lat_ms >= 0;
    op.latency_ms = lat_ms;
    op.queue_wait_ms = -1;
    op.server_ms = lat_ms >= 0 ? lat_ms / 2 : -1;
    return op;
}

static void test_rows(void **state)
{
    (void)state;
    struct stats *s = stats_new(0);
    assert_int_equal(stats_max_keys(s), STATS_DEFAULT_MAX_KEYS);
    for (int i = 0; i < 100; i++) {
        struct op a = mk(OP_CALL, i % 10 ? OP_OK : OP_ERROR, "compute", "echo", 1.0 + i,
                         1000000000ull * (uint64_t)(i + 1));
        stats_add(s, &a);
    }
    struct op c = mk(OP_CAST, OP_OK, "compute", "reboot", -1, 5);
    stats_add(s, &c);
    struct op n = mk(OP_NOTIFICATION, OP_OK, "notifications", NULL, -1, 7);
    stats_add(s, &n);
    struct op t = mk(OP_CALL, OP_TIMEOUT, NULL, "x", -1, 9);
    t.late_reply = true;
    stats_add(s, &t);

    const struct stats_row *topic = stats_find(s, "compute", NULL);
    assert_non_null(topic);
    assert_null(topic->method);
    assert_int_equal(topic->ops, 101);
    assert_int_equal(topic->by_type[OP_CALL], 100);
    assert_int_equal(topic->by_type[OP_CAST], 1);
    assert_int_equal(topic->by_status[OP_ERROR], 10);
    const struct stats_row *echo = stats_find(s, "compute", "echo");
    assert_non_null(echo);
    assert_int_equal(echo->ops, 100);
    assert_int_equal(echo->latency.count, 100);
    assert_int_equal(echo->server_time.count, 100);
    assert_int_equal(echo->queue_wait.count, 0);
    double p50 = stats_row_latency_ms(echo, 50);
    assert_true(p50 > 49.5 && p50 < 51.5);
    assert_true(stats_row_latency_ms(echo, 100) > 99.9);
    /* 100 ops over 99 s: 1 op/s. */
    double rate = stats_row_rate(echo);
    assert_true(rate > 0.99 && rate < 1.01);
    assert_non_null(stats_find(s, "notifications", NULL));
    assert_null(stats_find(s, "notifications", "x"));
    const struct stats_row *none = stats_find(s, "(none)", NULL);
    assert_non_null(none);
    assert_int_equal(none->late_replies, 1);
    assert_int_equal(stats_total(s)->ops, 103);
    assert_int_equal(stats_overflow_ops(s), 0);
    /* Rows in creation order. */
    assert_string_equal(stats_row(s, 0)->topic, "compute");
    assert_null(stats_row(s, 0)->method);
    assert_string_equal(stats_row(s, 1)->method, "echo");
    assert_null(stats_row(s, stats_count(s)));
    stats_free(s);
}

static void test_key_limit(void **state)
{
    (void)state;
    size_t max = 10000;
    struct stats *s = stats_new(max);
    char topic[32];
    for (int i = 0; i < 1000000; i++) {
        snprintf(topic, sizeof topic, "topic-%d", i);
        struct op op = mk(OP_CALL, OP_OK, topic, "m", 1.0, (uint64_t)i);
        stats_add(s, &op);
    }
    /* max keys + the two overflow rows, never more. */
    assert_true(stats_count(s) <= max + 2);
    const struct stats_row *other = NULL;
    for (size_t i = 0; i < stats_count(s); i++)
        if (stats_row(s, i)->other && !stats_row(s, i)->method)
            other = stats_row(s, i);
    assert_non_null(other);
    assert_string_equal(other->topic, STATS_OTHER);
    /* 5000 topics got a topic row and a method row; everything else overflowed. */
    assert_int_equal(stats_total(s)->ops, 1000000);
    assert_true(stats_overflow_ops(s) >= 1000000 - max);
    uint64_t sum = 0;
    for (size_t i = 0; i < stats_count(s); i++)
        if (!stats_row(s, i)->method)
            sum += stats_row(s, i)->ops;
    assert_int_equal(sum, 1000000); /* every op in exactly one topic-level row */
    /* Known topics keep counting after the table is full. */
    struct op again = mk(OP_CALL, OP_OK, "topic-1", "m", 1.0, 1);
    uint64_t before = stats_find(s, "topic-1", NULL)->ops;
    stats_add(s, &again);
    assert_int_equal(stats_find(s, "topic-1", NULL)->ops, before + 1);
    /* A new method of a known topic goes to the method-level overflow row. */
    struct op newm = mk(OP_CALL, OP_OK, "topic-1", "brand_new", 1.0, 1);
    stats_add(s, &newm);
    assert_null(stats_find(s, "topic-1", "brand_new"));
    stats_free(s);
}

static void test_long_names_cut(void **state)
{
    (void)state;
    struct stats *s = stats_new(10);
    char longname[1000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    struct op op = mk(OP_CAST, OP_OK, longname, longname, -1, 1);
    stats_add(s, &op);
    stats_add(s, &op);
    assert_int_equal(strlen(stats_row(s, 0)->topic), STATS_NAME_MAX);
    assert_int_equal(stats_row(s, 0)->ops, 2);
    assert_int_equal(stats_count(s), 2);
    stats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_key_limit),
        cmocka_unit_test(test_long_names_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

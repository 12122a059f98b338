/*
 * test_metrics.c: the Prometheus sink's pieces without the engine: the
 * bounded series table (ui/metrics_series.c: one row per label set, the fold
 * into "other" when full, eviction of a row quiet for a half-life, totals
 * kept), label values made safe (UTF-8, control characters, length), bucket
 * edges, and the renderer (ui/metrics_expo.c: escaping, registry rows named
 * _total or not, OpenMetrics' family names and # EOF).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ui/metrics_expo.h"
#include "ui/metrics_series.h"

#define SEC 1000000000ull

static struct op call(const char *topic, const char *method, uint64_t ts_ns, double latency_ms)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_CALL;
    op.status = OP_OK;
    op.ts_ns = ts_ns;
    op.exchange = "openstack";
    op.topic = topic;
    op.method = method;
    op.has_latency = true;
    op.latency_ms = latency_ms;
    op.queue_wait_ms = -1;
    op.server_ms = -1;
    return op;
}

static uint64_t total_ops(struct metrics_series *m)
{
    const struct metrics_row *const *rows;
    size_t n = metrics_series_sorted(m, &rows);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        for (int t = 0; t < OP_TYPE_COUNT; t++)
            for (int s = 0; s < OP_STATUS_COUNT; s++)
                sum += rows[i]->ops[t][s];
    return sum;
}

static void test_fold_when_busy(void **state)
{
    (void)state;
    struct metrics_series *m = metrics_series_new(2);
    assert_non_null(m);
    for (int i = 0; i < 10; i++) {
        struct op a = call("compute", "a", (uint64_t)i * SEC, 1);
        struct op b = call("compute", "b", (uint64_t)i * SEC, 1);
        struct op c = call("compute", "c", (uint64_t)i * SEC, 1);
        metrics_series_add(m, &a);
        metrics_series_add(m, &b);
        metrics_series_add(m, &c); /* both rows busy: c goes to "other" */
    }
    struct metrics_series_stats st;
    metrics_series_get_stats(m, &st);
    assert_int_equal(st.series, 3);
    assert_int_equal(st.ops_folded, 10);
    assert_int_equal(st.series_evicted, 0);
    const struct metrics_row *const *rows;
    size_t n = metrics_series_sorted(m, &rows);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0]->method, "a");
    assert_string_equal(rows[1]->method, "b");
    assert_string_equal(rows[2]->topic, "other");
    assert_int_equal(rows[2]->ops[OP_CALL][OP_OK], 10);
    assert_int_equal(total_ops(m), 30);
    metrics_series_free(m);
}

static void test_quiet_row_evicted(void **state)
{
    (void)state;
    struct metrics_series *m = metrics_series_new(2);
    struct op a = call("compute", "a", 1 * SEC, 1);
    struct op b = call("compute", "b", 1 * SEC, 1);
    metrics_series_add(m, &a);
    metrics_series_add(m, &b);
    /* Still within a half-life: c is folded, nobody is evicted. */
    struct op c = call("compute", "c", 200 * SEC, 1);
    metrics_series_add(m, &c);
    struct metrics_series_stats st;
    metrics_series_get_stats(m, &st);
    assert_int_equal(st.series_evicted, 0);
    assert_int_equal(st.ops_folded, 1);
    /* b keeps busy, a goes quiet: after 10 minutes a gives its row to d. */
    for (uint64_t t = 300; t <= 700; t += 100) {
        struct op bb = call("compute", "b", t * SEC, 1);
        metrics_series_add(m, &bb);
    }
    struct op d = call("compute", "d", 701 * SEC, 1);
    metrics_series_add(m, &d);
    metrics_series_get_stats(m, &st);
    assert_int_equal(st.series_evicted, 1);
    const struct metrics_row *const *rows;
    size_t n = metrics_series_sorted(m, &rows);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0]->method, "b");
    assert_string_equal(rows[1]->method, "d");
    assert_string_equal(rows[2]->method, "other");
    assert_int_equal(rows[2]->ops[OP_CALL][OP_OK], 2); /* c, and a's one */
    assert_int_equal(rows[2]->hist[METRICS_LATENCY].count, 2);
    assert_int_equal(total_ops(m), 9);
    /* a is back: it is found as a new row only if there is room (there is not). */
    struct op a2 = call("compute", "a", 702 * SEC, 1);
    metrics_series_add(m, &a2);
    assert_int_equal(total_ops(m), 10);
    metrics_series_free(m);
}

static void test_fold_labels_never_duplicated(void **state)
{
    (void)state;
    struct metrics_series *m = metrics_series_new(5);
    struct op o = call("other", "other", SEC, 1);
    o.exchange = "other";
    metrics_series_add(m, &o);
    const struct metrics_row *const *rows;
    assert_int_equal(metrics_series_sorted(m, &rows), 1);
    assert_int_equal(rows[0]->ops[OP_CALL][OP_OK], 1);
    metrics_series_free(m);
}

static void test_limits(void **state)
{
    (void)state;
    assert_null(metrics_series_new(0));
    assert_null(metrics_series_new(METRICS_MAX_SERIES_LIMIT + 1));
}

static void test_label_copy(void **state)
{
    (void)state;
    char out[METRICS_LABEL_MAX + 1];
    metrics_label_copy(out, NULL);
    assert_string_equal(out, "");
    metrics_label_copy(out, "a\nb\x7f\xff\xc3\xa9\xed\xa0\x80z");
    assert_string_equal(out, "a?b??\xc3\xa9???z");
    char longv[300];
    memset(longv, 'x', sizeof longv);
    longv[METRICS_LABEL_MAX - 1] = '\xc3'; /* a 2-byte character across the limit */
    longv[METRICS_LABEL_MAX] = '\xa9';
    longv[sizeof longv - 1] = '\0';
    metrics_label_copy(out, longv);
    assert_int_equal(strlen(out), METRICS_LABEL_MAX - 1);
}

static void test_bucket_edges(void **state)
{
    (void)state;
    struct metrics_series *m = metrics_series_new(1);
    double ms[] = {0, 1, 1.0001, 60000, 60001, -5};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        struct op o = call("t", "m", SEC, ms[i]);
        metrics_series_add(m, &o);
    }
    const struct metrics_row *const *rows;
    metrics_series_sorted(m, &rows);
    const struct metrics_hist *h = &rows[0]->hist[METRICS_LATENCY];
    assert_int_equal(h->count, 5);                       /* a negative duration is not observed */
    assert_int_equal(h->bucket[0], 2);                   /* 0 and exactly le=0.001 */
    assert_int_equal(h->bucket[1], 1);                   /* just above */
    assert_int_equal(h->bucket[METRICS_BUCKETS - 1], 1); /* exactly 60 s */
    assert_int_equal(h->bucket[METRICS_BUCKETS], 1);     /* +Inf */
    metrics_series_free(m);
}

struct fake_stats {
    uint64_t frames, open_now;
};
static const struct counter_def fake_rows[] = {
    COUNTER_ROW(struct fake_stats, frames, "frames", TOTAL, 0, "Frames \\ seen\nhere."),
    COUNTER_ROW(struct fake_stats, open_now, "open_now", GAUGE, 0, "Open \"now\"."),
};
static void read_fake(const void *owner, void *out)
{
    memcpy(out, owner, sizeof(struct fake_stats));
}

static void test_render(void **state)
{
    (void)state;
    struct fake_stats fs = {7, 3};
    struct counters *reg = counters_new();
    assert_true(counters_add(reg, fake_rows, 2, read_fake, &fs, sizeof fs));
    struct metrics_series *m = metrics_series_new(4);
    struct op o = call("we\"ird\\", "m", SEC, 2);
    metrics_series_add(m, &o);
    struct metrics_build b = {.version = "1.2.3", .libpcap = "1.10.3"};
    char *text;
    size_t len;
    assert_true(metrics_expo_render(METRICS_TEXT, &b, m, reg, &text, &len));
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "oslotrace_build_info{version=\"1.2.3\",libpcap=\"1.10.3\"} 1\n"));
    assert_non_null(strstr(text, "# HELP oslotrace_frames_total Frames \\\\ seen\\nhere.\n"
                                 "# TYPE oslotrace_frames_total counter\n"
                                 "oslotrace_frames_total 7\n"));
    assert_non_null(strstr(text, "# TYPE oslotrace_open_now gauge\noslotrace_open_now 3\n"));
    assert_non_null(strstr(text, "topic=\"we\\\"ird\\\\\""));
    assert_non_null(strstr(text, "oslotrace_rpc_call_latency_seconds_bucket{exchange=\"openstack\","
                                 "topic=\"we\\\"ird\\\\\",method=\"m\",le=\"0.0025\"} 1\n"));
    assert_null(strstr(text, "# EOF"));
    free(text);
    assert_true(metrics_expo_render(METRICS_OPENMETRICS, &b, m, reg, &text, &len));
    assert_non_null(strstr(text, "# TYPE oslotrace_frames counter\noslotrace_frames_total 7\n"));
    assert_non_null(strstr(text, "# HELP oslotrace_open_now Open \\\"now\\\".\n"));
    assert_non_null(strstr(text, "# TYPE oslotrace_build info\n"));
    assert_non_null(strstr(text, "le=\"1.0\"} 1\n"));
    assert_true(len > 6 && strcmp(text + len - 6, "# EOF\n") == 0);
    free(text);
    metrics_series_free(m);
    counters_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_when_busy),
        cmocka_unit_test(test_quiet_row_evicted),
        cmocka_unit_test(test_fold_labels_never_duplicated),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_label_copy),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

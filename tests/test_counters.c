/*
 * test_counters.c: the counter registry (common/counters.h): rows read at
 * their offsets in registration order, one read per group per snapshot,
 * sums by flag, lookups by name, and rows that point outside their struct
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/counters.h"

struct stage_a {
    uint64_t frames, errors, evicted;
};
struct stage_b {
    uint64_t pad, open_now;
};

struct owner {
    struct stage_a a;
    unsigned reads;
};

static void read_a(const void *owner, void *out)
{
    struct owner *o = (struct owner *)(uintptr_t)owner;
    o->reads++;
    memcpy(out, &o->a, sizeof o->a);
}

static void read_b(const void *owner, void *out)
{
    memcpy(out, owner, sizeof(struct stage_b));
}

static const struct counter_def rows_a[] = {
    COUNTER_ROW(struct stage_a, frames, "a_frames", TOTAL, COUNTER_REPORT, "Frames."),
    COUNTER_ROW(struct stage_a, errors, "a_errors", TOTAL, COUNTER_REPORT | COUNTER_ERROR,
                "Bad frames."),
    COUNTER_ROW(struct stage_a, evicted, "a_evicted", TOTAL, COUNTER_EVICTION, "Evicted."),
};
static const struct counter_def rows_b[] = {
    COUNTER_ROW(struct stage_b, open_now, "b_open", GAUGE, COUNTER_ERROR | COUNTER_EVICTION,
                "Open now."),
};

static void test_snapshot_order_and_values(void **state)
{
    (void)state;
    struct owner oa = {{10, 2, 3}, 0};
    struct stage_b b = {99, 7};
    struct counters *c = counters_new();
    assert_non_null(c);
    assert_true(counters_add(c, rows_a, 3, read_a, &oa, sizeof oa.a));
    assert_true(counters_add(c, rows_b, 1, read_b, &b, sizeof b));
    assert_int_equal(counters_count(c), 4);

    struct counter_value v[8];
    assert_int_equal(counters_snapshot(c, v, 8), 4);
    assert_int_equal(oa.reads, 1); /* one read for the whole group */
    assert_string_equal(v[0].def->name, "a_frames");
    assert_int_equal(v[0].value, 10);
    assert_string_equal(v[1].def->name, "a_errors");
    assert_int_equal(v[1].value, 2);
    assert_int_equal(v[2].value, 3);
    assert_string_equal(v[3].def->name, "b_open");
    assert_int_equal(v[3].value, 7);
    assert_int_equal(v[3].def->kind, COUNTER_GAUGE);

    /* A snapshot reads the stage's value now, not a cached one. */
    oa.a.frames = 11;
    assert_int_equal(counters_snapshot(c, v, 2), 2);
    assert_int_equal(v[0].value, 11);

    assert_int_equal(counters_sum(c, COUNTER_ERROR), 2 + 7);
    assert_int_equal(counters_sum(c, COUNTER_EVICTION), 3 + 7);
    assert_int_equal(counters_sum(c, COUNTER_ERROR | COUNTER_EVICTION), 2 + 3 + 7);
    uint64_t x = 0;
    assert_true(counters_get(c, "b_open", &x));
    assert_int_equal(x, 7);
    assert_false(counters_get(c, "no_such", &x));
    assert_int_equal(counters_value(c, "b_open"), 7);
    assert_int_equal(counters_value(c, "no_such"), 0);
    counters_free(c);
}

static void test_row_outside_struct_refused(void **state)
{
    (void)state;
    struct stage_b b = {0, 0};
    struct counters *c = counters_new();
    /* rows_a's offsets reach past a struct of one uint64_t */
    assert_false(counters_add(c, rows_a, 3, read_b, &b, sizeof(uint64_t)));
    assert_int_equal(counters_count(c), 0);
    counters_free(c);
}

static void test_many_groups(void **state)
{
    (void)state;
    struct stage_b b = {0, 5};
    struct counters *c = counters_new();
    for (int i = 0; i < 100; i++)
        assert_true(counters_add(c, rows_b, 1, read_b, &b, sizeof b));
    assert_int_equal(counters_sum(c, COUNTER_ERROR), 500);
    counters_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_order_and_values),
        cmocka_unit_test(test_row_outside_struct_refused),
        cmocka_unit_test(test_many_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

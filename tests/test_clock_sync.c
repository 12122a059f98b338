/*
 * test_clock_sync.c: clock offsets from causal bounds (engine/clock_sync.h).
 *
 * Synthetic calls between sources whose clocks are shifted by known
 * offsets, with random broker transit times: the estimate must lie within
 * its own uncertainty of the true offset, the uncertainty must shrink with
 * fast messages, a source linked to the reference only through another is
 * still placed, offsets given by hand win, one direction only gives a
 * one-sided bound, no shared message gives unknown, contradictions are
 * flagged, and a full sample array drops and counts.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>

#include "engine/clock_sync.h"
#include "test_rng.h"

#define MS 1000000ll

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* A transit time between 0.2 and 3 ms. */
static int64_t transit(void)
{
    return 200000 + (int64_t)(test_rng_next(&rng_state) % (uint64_t)(2800000));
}

/* One call: client on source c, server on source s; true times from t0;
 * each source stamps true time minus its offset (corrected = raw + off). */
static void call(struct clock_sync *cs, uint64_t key, unsigned c, unsigned s, const int64_t *off,
                 int64_t t0)
{
    int64_t t[4];
    t[0] = t0;
    t[1] = t[0] + transit();
    t[2] = t[1] + 5 * MS;
    t[3] = t[2] + transit();
    unsigned src[4] = {c, s, s, c};
    for (unsigned l = 0; l < 4; l++)
        clock_sync_add(cs, src[l], key, l, (uint64_t)(t[l] - off[src[l]]));
}

static void test_two_sources(void **state)
{
    (void)state;
    int64_t off[2] = {0, 4 * MS};
    struct clock_sync *cs = clock_sync_new(2, 0);
    assert_non_null(cs);
    for (uint64_t k = 1; k <= 200; k++)
        call(cs, k, k % 2, 1 - k % 2, off, (int64_t)1700000000 * 1000 * MS + (int64_t)k * 10 * MS);
    struct clock_sync_estimate e[2];
    clock_sync_solve(cs, e);
    assert_int_equal(e[0].how, CLOCK_SYNC_REFERENCE);
    assert_int_equal(e[0].offset_ns, 0);
    assert_int_equal(e[1].how, CLOCK_SYNC_ESTIMATED);
    assert_false(e[1].inconsistent);
    int64_t err = llabs(e[1].offset_ns - off[1]);
    assert_true(err <= e[1].half_width_ns);
    /* 200 calls with transits down to 0.2 ms: the interval is well under 1 ms wide. */
    assert_true(e[1].half_width_ns < MS / 2);
    assert_true(e[1].pairs > 0);
    clock_sync_free(cs);
}

static void test_three_sources_chain(void **state)
{
    (void)state;
    /* Sources 0 and 2 share no message: 2 is placed through 1. */
    int64_t off[3] = {0, -3 * MS, 7 * MS};
    struct clock_sync *cs = clock_sync_new(3, 0);
    int64_t t0 = (int64_t)1700000000 * 1000 * MS;
    for (uint64_t k = 1; k <= 300; k++) {
        unsigned a = k % 2 ? 0 : 2;
        call(cs, k, a, 1, off, t0 + (int64_t)k * 7 * MS);
        call(cs, 100000 + k, 1, a, off, t0 + (int64_t)k * 7 * MS + 3 * MS);
    }
    struct clock_sync_estimate e[3];
    clock_sync_solve(cs, e);
    for (int s = 1; s < 3; s++) {
        assert_int_equal(e[s].how, CLOCK_SYNC_ESTIMATED);
        assert_true(llabs(e[s].offset_ns - off[s]) <= e[s].half_width_ns);
        assert_true(llabs(e[s].offset_ns - off[s]) < MS);
    }
    clock_sync_free(cs);
}

static void test_fixed_and_one_sided(void **state)
{
    (void)state;
    struct clock_sync *cs = clock_sync_new(3, 0);
    /* Source 1 only ever receives from 0: a lower bound only. */
    clock_sync_add(cs, 0, 1, 0, 1000 * MS);
    clock_sync_add(cs, 1, 1, 1, 990 * MS);
    /* Source 2 shares nothing. */
    clock_sync_add(cs, 2, 9, 0, 5 * MS);
    struct clock_sync_estimate e[3];
    clock_sync_solve(cs, e);
    assert_int_equal(e[1].how, CLOCK_SYNC_ONE_SIDED);
    assert_int_equal(e[1].offset_ns, 10 * MS);
    assert_int_equal(e[1].half_width_ns, -1);
    assert_int_equal(e[2].how, CLOCK_SYNC_UNKNOWN);
    assert_int_equal(e[2].offset_ns, 0);
    /* By hand wins, and 0 can be fixed too. */
    assert_true(clock_sync_fix(cs, 2, -2 * MS));
    assert_true(clock_sync_fix(cs, 0, 1 * MS));
    assert_false(clock_sync_fix(cs, 3, 0));
    clock_sync_solve(cs, e);
    assert_int_equal(e[0].how, CLOCK_SYNC_FIXED);
    assert_int_equal(e[0].offset_ns, MS);
    assert_int_equal(e[2].how, CLOCK_SYNC_FIXED);
    assert_int_equal(e[2].offset_ns, -2 * MS);
    assert_int_equal(e[1].how, CLOCK_SYNC_ONE_SIDED);
    assert_int_equal(e[1].offset_ns, 11 * MS);
    clock_sync_free(cs);
}

static void test_inconsistent(void **state)
{
    (void)state;
    struct clock_sync *cs = clock_sync_new(2, 0);
    /* 0 → 1 says off1 >= +10 ms, 1 → 0 says off1 <= +2 ms. */
    clock_sync_add(cs, 0, 1, 0, 1000 * MS);
    clock_sync_add(cs, 1, 1, 1, 990 * MS);
    clock_sync_add(cs, 1, 2, 0, 2000 * MS);
    clock_sync_add(cs, 0, 2, 1, 2002 * MS);
    struct clock_sync_estimate e[2];
    clock_sync_solve(cs, e);
    assert_int_equal(e[1].how, CLOCK_SYNC_ESTIMATED);
    assert_true(e[1].inconsistent);
    assert_int_equal(e[1].offset_ns, 6 * MS);
    assert_int_equal(e[1].half_width_ns, 4 * MS);
    clock_sync_free(cs);
}

static void test_same_source_and_rank_ignored(void **state)
{
    (void)state;
    struct clock_sync *cs = clock_sync_new(2, 0);
    clock_sync_add(cs, 0, 1, 0, 1000 * MS);
    clock_sync_add(cs, 0, 1, 1, 900 * MS);   /* same source: no bound */
    clock_sync_add(cs, 1, 1, 0, 500 * MS);   /* same rank as source 0's: no bound */
    clock_sync_add(cs, 7, 1, 0, 500 * MS);   /* no such source: ignored */
    clock_sync_add(cs, 1, 1, 300, 500 * MS); /* rank out of range: ignored */
    struct clock_sync_estimate e[2];
    clock_sync_solve(cs, e);
    struct clock_sync_stats st;
    clock_sync_get_stats(cs, &st);
    assert_int_equal(st.samples, 3);
    /* One pair only: (1, rank 0, 500) before (0, rank 1, 900), so off1 <= 400 ms. */
    assert_int_equal(e[1].how, CLOCK_SYNC_ONE_SIDED);
    assert_int_equal(e[1].offset_ns, 400 * MS);
    clock_sync_free(cs);
}

static void test_no_samples(void **state)
{
    (void)state;
    /* Every offset given by hand: no first pass, nothing to sort (ASan found a qsort(NULL)). */
    struct clock_sync *cs = clock_sync_new(2, 0);
    assert_true(clock_sync_fix(cs, 1, -4 * MS));
    struct clock_sync_estimate e[2];
    clock_sync_solve(cs, e);
    assert_int_equal(e[0].how, CLOCK_SYNC_REFERENCE);
    assert_int_equal(e[1].how, CLOCK_SYNC_FIXED);
    assert_int_equal(e[1].offset_ns, -4 * MS);
    assert_false(e[1].inconsistent);
    clock_sync_free(cs);
    cs = clock_sync_new(2, 0);
    clock_sync_solve(cs, e);
    assert_int_equal(e[1].how, CLOCK_SYNC_UNKNOWN);
    clock_sync_free(cs);
}

static void test_bounded(void **state)
{
    (void)state;
    assert_null(clock_sync_new(0, 0));
    assert_null(clock_sync_new(CLOCK_SYNC_MAX_SOURCES + 1, 0));
    struct clock_sync *cs = clock_sync_new(2, 5000);
    for (uint64_t k = 0; k < 6000; k++)
        clock_sync_add(cs, (unsigned)(k % 2), k / 2, (unsigned)(k % 2), 1000 * MS + k);
    struct clock_sync_stats st;
    clock_sync_get_stats(cs, &st);
    assert_int_equal(st.samples, 5000);
    assert_int_equal(st.dropped, 1000);
    /* One key seen far too often: only the first CLOCK_SYNC_MAX_GROUP samples count. */
    struct clock_sync *big = clock_sync_new(2, 0);
    for (unsigned k = 0; k < 100; k++)
        clock_sync_add(big, k % 2, 42, k % 4, 1000 * MS + k);
    struct clock_sync_estimate e[2];
    clock_sync_solve(big, e);
    clock_sync_get_stats(big, &st);
    assert_int_equal(st.big_groups, 1);
    clock_sync_free(big);
    clock_sync_free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_sources),
        cmocka_unit_test(test_three_sources_chain),
        cmocka_unit_test(test_fixed_and_one_sided),
        cmocka_unit_test(test_inconsistent),
        cmocka_unit_test(test_same_source_and_rank_ignored),
        cmocka_unit_test(test_no_samples),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

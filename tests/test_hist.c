/*
 * test_hist.c: the log-linear histogram against exact percentiles.
 *
 * Random samples spread over nine decades (1 µs .. 1000 s), several
 * distributions; every percentile from the histogram must lie within 1 %
 * of the exact nearest-rank percentile of the sorted samples. Also: exact
 * min/max, overflow above ~73 min, merge, the coarse ranges, and memory
 * staying proportional to the octaves actually used.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/hist.h"
#include "test_rng.h"

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    return test_rng_next(&rng_state);
}
static double unif(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t exact(const uint64_t *sorted, size_t n, double p)
{
    if (p <= 0)
        return sorted[0];
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static void check_distribution(int kind)
{
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof *v);
    struct hist h;
    hist_init(&h);
    for (size_t i = 0; i < n; i++) {
        double x;
        switch (kind) {
        case 0: /* log-uniform 1 µs .. 1000 s */
            x = pow(10.0, 3.0 + 9.0 * unif());
            break;
        case 1: /* narrow normal-ish around 5 ms */
            x = 5e6 + 1e6 * (unif() + unif() + unif() - 1.5);
            break;
        default: /* bimodal: fast hits and slow misses */
            x = unif() < 0.9 ? 2e5 * (1 + unif()) : 3e9 * (1 + unif());
            break;
        }
        v[i] = (uint64_t)x;
        hist_add(&h, v[i]);
    }
    qsort(v, n, sizeof *v, cmp);
    static const double ps[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double want = (double)exact(v, n, ps[i]);
        double got = (double)hist_percentile(&h, ps[i]);
        double err = fabs(got - want) / want;
        if (err > 0.01)
            fail_msg("kind %d p%.2f: got %.0f want %.0f (%.3f%%)", kind, ps[i], got, want,
                     err * 100);
    }
    assert_int_equal(h.count, n);
    assert_int_equal(h.min, v[0]);
    assert_int_equal(h.max, v[n - 1]);
    assert_int_equal(hist_percentile(&h, 0), v[0]);
    assert_int_equal(hist_percentile(&h, 100), v[n - 1]);
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += (double)v[i];
    mean /= (double)n;
    assert_true(fabs(hist_mean(&h) - mean) / mean < 1e-9);
    free(v);
    hist_free(&h);
}

static void test_percentiles(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++)
        check_distribution(k);
}

static void test_small_values_exact(void **state)
{
    (void)state;
    struct hist h;
    hist_init(&h);
    for (uint64_t i = 0; i < 128; i++)
        hist_add(&h, i);
    for (uint64_t i = 1; i <= 100; i++)
        assert_int_equal(hist_percentile(&h, (double)i * 100.0 / 128.0), i - 1);
    hist_free(&h);
}

static void test_empty_and_overflow(void **state)
{
    (void)state;
    struct hist h;
    hist_init(&h);
    assert_int_equal(hist_percentile(&h, 50), 0);
    assert_true(hist_percentile_ms(&h, 50) < 0);
    struct hist_range r[4];
    assert_int_equal(hist_coarse(&h, 1, r, 4), 0);
    uint64_t huge = 10ull * 3600 * 1000000000ull; /* 10 hours */
    hist_add(&h, huge);
    hist_add(&h, UINT64_MAX);
    assert_int_equal(h.overflow, 2);
    assert_int_equal(h.max, UINT64_MAX);
    assert_int_equal(hist_percentile(&h, 100), UINT64_MAX);
    /* In the top bucket, reported no lower than the exact min. */
    assert_true(hist_percentile(&h, 50) >= huge);
    hist_free(&h);
}

static void test_merge(void **state)
{
    (void)state;
    struct hist a, b, all;
    hist_init(&a);
    hist_init(&b);
    hist_init(&all);
    for (int i = 0; i < 10000; i++) {
        uint64_t x = 1000 + rnd() % 100000000;
        hist_add(i % 2 ? &a : &b, x);
        hist_add(&all, x);
    }
    hist_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    for (int p = 1; p < 100; p += 7)
        assert_int_equal(hist_percentile(&a, p), hist_percentile(&all, p));
    hist_free(&a);
    hist_free(&b);
    hist_free(&all);
}

static void test_coarse_and_memory(void **state)
{
    (void)state;
    struct hist h;
    hist_init(&h);
    /* 1 ms .. 4 ms: two octaves (2^19..2^22 ns spans three blocks at most). */
    for (int i = 0; i < 1000; i++)
        hist_add(&h, 1000000 + (uint64_t)i * 3000);
    int blocks = 0;
    for (int i = 0; i < HIST_BLOCKS; i++)
        blocks += h.block[i] != NULL;
    assert_true(blocks <= 3);
    struct hist_range r[64];
    size_t n = hist_coarse(&h, 4, r, 64);
    assert_true(n >= 2 && n <= 16);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(r[i].lo_ns < r[i].hi_ns);
        if (i)
            assert_int_equal(r[i].lo_ns, r[i - 1].hi_ns); /* contiguous */
        total += r[i].count;
    }
    assert_int_equal(total, 1000);
    assert_true(r[0].lo_ns <= 1000000 && r[n - 1].hi_ns > h.max);
    assert_true(r[0].count > 0 && r[n - 1].count > 0);
    /* Output bounded by max. */
    assert_int_equal(hist_coarse(&h, HIST_SUB, r, 5), 5);
    hist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles),        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_empty_and_overflow), cmocka_unit_test(test_merge),
        cmocka_unit_test(test_coarse_and_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_real_format.c: real_format_g16 must print exactly what
 * snprintf("%.16g") prints, since NDJSON records are promised byte for byte
 * what jansson writes. Compared on: timestamps as the sinks build them from
 * nanoseconds, latencies in milliseconds, random bit patterns over the fast
 * path's range and beyond it, exact binary ties at the 17th digit, values
 * next to powers of ten (where the exponent changes on rounding), and the
 * special values that take the slow path.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/real_format.h"
#include "test_rng.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    return test_rng_next(&rng_state);
}

static unsigned long mismatches;

/* Both precisions: %.16g (NDJSON) and %.17g (--amqp -j). */
static void check(double v)
{
    for (int prec = 16; prec <= 17; prec++) {
        char want[64], got[REAL_FORMAT_LEN];
        snprintf(want, sizeof(want), "%.*g", prec, v);
        size_t n = prec == 16 ? real_format_g16(v, got) : real_format_g17(v, got);
        if (strcmp(want, got) != 0 || n != strlen(want)) {
            if (mismatches++ < 10)
                print_error("%.17g: printf \"%s\", real_format \"%s\" (len %zu)\n", v, want,
                            got, n);
        }
    }
}

static void test_timestamps(void **state)
{
    (void)state;
    mismatches = 0;
    for (int i = 0; i < 1000000; i++) {
        /* 2001 .. 2096, any nanosecond, built as the NDJSON sink builds them */
        uint64_t ns = 1000000000ull * 1000000000ull + rnd() % (3000000000ull * 1000000000ull);
        check((double)(ns / 1000000000ull) + (double)(ns % 1000000000ull) / 1e9);
    }
    assert_int_equal(mismatches, 0);
}

static void test_latencies(void **state)
{
    (void)state;
    mismatches = 0;
    for (int i = 0; i < 1000000; i++) {
        uint64_t ns = rnd() % (1ull << (rnd() % 48));
        check((double)ns / 1e6);
        check(-(double)ns / 1e6);
        check((double)(rnd() % 100000) / 1000.0);
    }
    assert_int_equal(mismatches, 0);
}

static void test_random_bits(void **state)
{
    (void)state;
    mismatches = 0;
    for (int i = 0; i < 1000000; i++) {
        /* mantissa random, exponent over 1e-6 .. 1e17 to cover both paths' edges */
        uint64_t bits = (rnd() & ((1ull << 52) - 1)) | ((uint64_t)(1003 + rnd() % 75) << 52);
        double v;
        memcpy(&v, &bits, sizeof(v));
        check(v);
    }
    assert_int_equal(mismatches, 0);
}

static void test_ties_and_powers(void **state)
{
    (void)state;
    mismatches = 0;
    /* Few significant bits: exact decimal expansions, many ending in 5 at the
     * 17th digit, the case where round-half-even matters. */
    for (int e = -14; e <= 50; e++)
        for (uint64_t m = 1; m < 4096; m++)
            check(ldexp((double)m, e));
    for (int x = -6; x <= 17; x++) {
        double p = pow(10.0, x);
        check(p);
        check(nextafter(p, 0));
        check(nextafter(p, INFINITY));
        check(p * 0.99999999999999995);
        check(p * 9.9999999999999995);
        check(p * 9.99999999999999999);
    }
    check(9999999999999999.0);
    check(999999999999999.94);
    check(0.00099999999999999995);
    assert_int_equal(mismatches, 0);
}

static void test_special(void **state)
{
    (void)state;
    mismatches = 0;
    check(0.0);
    check(-0.0);
    check(INFINITY);
    check(-INFINITY);
    check(NAN);
    check(5e-324);
    check(1.7976931348623157e308);
    check(1e-4);
    check(1e15);
    check(1.5);
    check(1764057600.0);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamps),  cmocka_unit_test(test_latencies),
        cmocka_unit_test(test_random_bits), cmocka_unit_test(test_ties_and_powers),
        cmocka_unit_test(test_special),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_strpool.c: the interned string pool (common/strpool.h).
 *
 * Equal strings share one copy and count references; the copy goes with the
 * last reference; strings are cut at max_len; a full pool refuses and counts;
 * thousands of strings (chain array growth) all stay findable.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "common/strpool.h"

static void test_interning_and_refs(void **state)
{
    (void)state;
    struct strpool sp;
    assert_true(strpool_init(&sp, 100, 64));
    struct strpool_str *a = strpool_cstr(&sp, "compute");
    struct strpool_str *b = strpool_get(&sp, "compute!!", 7);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_int_equal(a->refs, 2);
    assert_string_equal(strpool_text(a), "compute");
    assert_int_equal(a->len, 7);
    struct strpool_str *c = strpool_cstr(&sp, "conductor");
    assert_ptr_not_equal(a, c);
    assert_int_equal(sp.n, 2);
    /* Embedded NULs are bytes like any other. */
    struct strpool_str *z = strpool_get(&sp, "a\0b", 3);
    assert_ptr_not_equal(z, strpool_get(&sp, "a\0c", 3));
    assert_int_equal(sp.n, 4);
    strpool_put(&sp, a);
    assert_int_equal(sp.n, 4);
    strpool_put(&sp, b); /* the last reference */
    assert_int_equal(sp.n, 3);
    struct strpool_str *again = strpool_cstr(&sp, "compute");
    assert_int_equal(again->refs, 1);
    assert_ptr_equal(strpool_ref(again), again);
    assert_int_equal(again->refs, 2);
    strpool_put(&sp, NULL); /* ignored */
    assert_null(strpool_text(NULL));
    strpool_free(&sp);
}

static void test_cut_and_full(void **state)
{
    (void)state;
    struct strpool sp;
    assert_true(strpool_init(&sp, 2, 4));
    struct strpool_str *a = strpool_cstr(&sp, "abcdefgh");
    assert_string_equal(a->s, "abcd");
    assert_ptr_equal(strpool_cstr(&sp, "abcdXYZ"), a); /* the same once cut */
    assert_non_null(strpool_cstr(&sp, "x"));
    assert_null(strpool_cstr(&sp, "y"));
    assert_int_equal(sp.full, 1);
    assert_non_null(strpool_cstr(&sp, "x")); /* known strings are still found */
    strpool_free(&sp);
}

static void test_many(void **state)
{
    (void)state;
    struct strpool sp;
    enum { N = 20000 };
    static struct strpool_str *p[N];
    char buf[32];
    assert_true(strpool_init(&sp, N, 64));
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "name-%d", i);
        p[i] = strpool_cstr(&sp, buf);
        assert_non_null(p[i]);
    }
    assert_true(sp.nb >= N); /* the chain array grew */
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "name-%d", i);
        assert_ptr_equal(strpool_cstr(&sp, buf), p[i]);
        strpool_put(&sp, p[i]);
    }
    for (int i = 0; i < N; i += 2)
        strpool_put(&sp, p[i]);
    assert_int_equal(sp.n, N / 2);
    strpool_free(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interning_and_refs),
        cmocka_unit_test(test_cut_and_full),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

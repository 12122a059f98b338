/*
 * test_start_order.c: the --sort-start buffer (ui/start_order.c): lines come
 * out in start order once packet time has passed start + delay, a longer
 * operation timeout widens the delay, a full buffer lets the earliest go and
 * counts it, and flush empties it in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ui/start_order.h"

#define S 1000000000ull

struct seen {
    char text[64][16];
    uint64_t start[64];
    size_t n;
};

static void collect(void *user, uint64_t start_ns, const char *text, size_t len)
{
    struct seen *s = user;
    assert_true(s->n < 64);
    snprintf(s->text[s->n], sizeof s->text[0], "%.*s", (int)len, text);
    s->start[s->n++] = start_ns;
}

/* timeout 1 s: delay = 1 + late window 5 + hold 2 + slack 1 = 9 s */
static void test_order_and_delay(void **state)
{
    (void)state;
    struct seen s = {0};
    struct start_order *so = start_order_new(100, 1.0, collect, &s);
    assert_non_null(so);
    assert_true(start_order_delay_s(so) > 8.99 && start_order_delay_s(so) < 9.01);
    start_order_push(so, 10 * S, 11 * S, "b", 1);
    start_order_push(so, 5 * S, 12 * S, "a", 1); /* began earlier, ended later (a timeout) */
    assert_int_equal(s.n, 0);
    start_order_push(so, 12 * S, 14 * S + 1, "c", 1); /* now > 5 + 9: "a" may go */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text[0], "a");
    start_order_release(so, 19 * S); /* 10 + 9 */
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[1], "b");
    start_order_note_timeout(so, 30.0); /* delay 30 + 30 + 3 = 63 s */
    start_order_release(so, 30 * S);
    assert_int_equal(s.n, 2);
    start_order_flush(so);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.text[2], "c");
    struct start_order_stats st;
    start_order_get_stats(so, &st);
    assert_int_equal(st.held, 3);
    assert_int_equal(st.forced, 0);
    assert_int_equal(st.max_held, 2);
    start_order_free(so);
}

static void test_full_buffer(void **state)
{
    (void)state;
    struct seen s = {0};
    struct start_order *so = start_order_new(2, 60.0, collect, &s);
    start_order_push(so, 3 * S, 3 * S, "3", 1);
    start_order_push(so, 2 * S, 3 * S, "2", 1);
    start_order_push(so, 4 * S, 4 * S, "4", 1); /* full: "2" goes early */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text[0], "2");
    start_order_push(so, 1 * S, 4 * S, "1", 1); /* earlier than all held: goes itself */
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[1], "1");
    start_order_flush(so);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.text[2], "3");
    assert_string_equal(s.text[3], "4");
    struct start_order_stats st;
    start_order_get_stats(so, &st);
    assert_int_equal(st.forced, 2);
    start_order_free(so);
}

static void test_ties_keep_arrival(void **state)
{
    (void)state;
    struct seen s = {0};
    struct start_order *so = start_order_new(10, 1.0, collect, &s);
    for (int i = 0; i < 5; i++) {
        char t[2] = {(char)('a' + i), 0};
        start_order_push(so, 7 * S, 7 * S, t, 1);
    }
    start_order_flush(so);
    assert_int_equal(s.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(s.text[i][0], 'a' + i);
    start_order_free(so);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_delay),
        cmocka_unit_test(test_full_buffer),
        cmocka_unit_test(test_ties_keep_arrival),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

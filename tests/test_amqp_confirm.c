/*
 * test_amqp_confirm.c: publisher-confirm latency per channel (dissect/
 * amqp_confirm.h): single and multiple acks, nacks, the "everything so far"
 * ack (tag 0, multiple), acks of nothing remembered, and the bounded ring:
 * more unconfirmed publishes than it keeps push the oldest out, counted.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "dissect/amqp_confirm.h"

struct seen {
    uint64_t tags[512], lat[512];
    bool nack[512];
    size_t n;
};

static void rec(void *user, uint64_t tag, uint64_t latency_ns, bool nack)
{
    struct seen *s = user;
    s->tags[s->n] = tag;
    s->lat[s->n] = latency_ns;
    s->nack[s->n] = nack;
    s->n++;
}

static void single_and_multiple(void **state)
{
    (void)state;
    struct amqp_confirm_stats st;
    struct amqp_confirm_chan ch;
    struct seen s = {0};
    amqp_confirm_stats_init(&st);
    amqp_confirm_chan_init(&ch);
    for (uint64_t i = 1; i <= 5; i++)
        amqp_confirm_publish(&ch, &st, i * 1000);
    assert_int_equal(amqp_confirm_pending(&ch), 5);
    /* ack 2 alone, then everything up to 4 (1, 3, 4), then nack 5 */
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 2, false, false, 2500, rec, &s), 1);
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 4, true, false, 10000, rec, &s), 3);
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 5, false, true, 5100, rec, &s), 1);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.tags[0], 2);
    assert_int_equal(s.lat[0], 500);
    assert_int_equal(s.tags[1], 1);
    assert_int_equal(s.lat[1], 9000);
    assert_int_equal(s.tags[3], 4);
    assert_int_equal(s.lat[3], 6000);
    assert_true(s.nack[4]);
    assert_int_equal(s.lat[4], 100);
    assert_int_equal(st.published, 5);
    assert_int_equal(st.acked, 4);
    assert_int_equal(st.nacked, 1);
    assert_int_equal(st.latency.count, 5);
    assert_int_equal(st.latency.max, 9000);
    assert_int_equal(amqp_confirm_pending(&ch), 0);
    /* an ack again, or of a tag never published: nothing, counted */
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 2, false, false, 20000, rec, &s), 0);
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 9, false, false, 20000, rec, &s), 0);
    assert_int_equal(st.unmatched, 2);
    /* tag 0 with multiple: everything so far */
    amqp_confirm_publish(&ch, &st, 30000);
    amqp_confirm_publish(&ch, &st, 31000);
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 0, true, false, 32000, rec, &s), 2);
    assert_int_equal(s.tags[6], 7);
    amqp_confirm_stats_free(&st);
}

static void ring_is_bounded(void **state)
{
    (void)state;
    struct amqp_confirm_stats st;
    struct amqp_confirm_chan ch;
    struct seen s = {0};
    amqp_confirm_stats_init(&st);
    amqp_confirm_chan_init(&ch);
    uint64_t n = AMQP_CONFIRM_OUTSTANDING + 10;
    for (uint64_t i = 1; i <= n; i++)
        amqp_confirm_publish(&ch, &st, i * 10);
    assert_int_equal(st.forgotten, 10);
    assert_int_equal(amqp_confirm_pending(&ch), AMQP_CONFIRM_OUTSTANDING);
    /* the forgotten ones are not confirmed; the rest are, with their own times */
    assert_int_equal(amqp_confirm_resolve(&ch, &st, 5, false, false, 100000, rec, &s), 0);
    assert_int_equal(amqp_confirm_resolve(&ch, &st, n, true, false, n * 10 + 7, rec, &s),
                     AMQP_CONFIRM_OUTSTANDING);
    assert_int_equal(s.tags[0], 11);
    assert_int_equal(s.lat[s.n - 1], 7);
    assert_int_equal(st.acked, AMQP_CONFIRM_OUTSTANDING);
    assert_int_equal(amqp_confirm_pending(&ch), 0);
    amqp_confirm_stats_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_and_multiple),
        cmocka_unit_test(ring_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

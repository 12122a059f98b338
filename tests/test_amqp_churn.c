/*
 * test_amqp_churn.c: connection churn per process and minute (dissect/
 * amqp_churn.h): minutes are handed out when packet time leaves them or at
 * the end, empty minutes never, and a full table pushes out the process
 * quiet longest (its minute handed out first, counted).
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "dissect/amqp_churn.h"

#define MIN AMQP_CHURN_MINUTE_NS

struct out {
    char process[8][AMQP_CHURN_PROCESS_MAX];
    uint64_t minute[8], at[8];
    uint32_t opened[8], closed[8];
    size_t n;
};

static void rec(void *user, const char *process, uint64_t minute_ns, uint32_t opened,
                uint32_t closed, uint64_t at_ns)
{
    struct out *o = user;
    if (o->n >= 8)
        return;
    snprintf(o->process[o->n], AMQP_CHURN_PROCESS_MAX, "%s", process);
    o->minute[o->n] = minute_ns;
    o->at[o->n] = at_ns;
    o->opened[o->n] = opened;
    o->closed[o->n] = closed;
    o->n++;
}

static void minutes(void **state)
{
    (void)state;
    static struct amqp_churn c;
    struct out o = {0};
    amqp_churn_init(&c, rec, &o);
    uint64_t t0 = 100 * MIN;
    amqp_churn_note(&c, "nova-api:1", t0 + 1, true);
    amqp_churn_note(&c, "nova-api:1", t0 + 2, false);
    amqp_churn_note(&c, "nova-api:1", t0 + 3, true);
    amqp_churn_note(&c, "10.0.0.1", t0 + 4, true);
    amqp_churn_tick(&c, t0 + MIN - 1); /* still inside the minute */
    assert_int_equal(o.n, 0);
    amqp_churn_tick(&c, t0 + MIN + 5);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.process[0], "nova-api:1");
    assert_int_equal(o.minute[0], t0);
    assert_int_equal(o.opened[0], 2);
    assert_int_equal(o.closed[0], 1);
    assert_int_equal(o.at[0], t0 + MIN + 5);
    /* an event two minutes on hands out nothing old (the tick did) and counts anew */
    amqp_churn_note(&c, "nova-api:1", t0 + 2 * MIN + 9, false);
    amqp_churn_tick(&c, t0 + 2 * MIN + 10);
    assert_int_equal(o.n, 2);
    amqp_churn_finish(&c);
    assert_int_equal(o.n, 3);
    assert_int_equal(o.minute[2], t0 + 2 * MIN);
    assert_int_equal(o.closed[2], 1);
    assert_int_equal(o.at[2], t0 + 2 * MIN + 9);
    amqp_churn_finish(&c); /* nothing twice */
    assert_int_equal(o.n, 3);
}

static void table_is_bounded(void **state)
{
    (void)state;
    static struct amqp_churn c;
    struct out o = {0};
    amqp_churn_init(&c, rec, &o);
    char name[32];
    for (int i = 0; i < AMQP_CHURN_PROCESSES; i++) {
        snprintf(name, sizeof name, "p:%d", i);
        amqp_churn_note(&c, name, 1000 + (uint64_t)i, true);
    }
    assert_int_equal(o.n, 0);
    amqp_churn_note(&c, "newcomer:1", 5000, true);
    assert_int_equal(c.evicted, 1);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.process[0], "p:0"); /* the one quiet longest */
    assert_int_equal(o.opened[0], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minutes),
        cmocka_unit_test(table_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

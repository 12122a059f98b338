/*
 * test_corr_op.c: connection keys as pooled strings (dissect/corr_op.h).
 *
 * corr_op_conn answers what interning the key would (the same pooled copy,
 * one more reference) whether its memo holds the connection or not: after a
 * change of the client's name, with two connections in one memo slot, and
 * every reference it kept goes back with corr_conn_memo_free.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "dissect/corr_op.h"

static void conn(struct amqp_conn_info *ci, uint64_t id, const char *name)
{
    memset(ci, 0, sizeof *ci);
    ci->id = id;
    ci->client.family = 4;
    ci->client.ip[0] = 127;
    ci->client.ip[3] = 1;
    ci->client.port = (uint16_t)(40000 + id);
    snprintf(ci->connection_name, sizeof ci->connection_name, "%s", name);
}

static size_t slot_of(uint64_t id)
{
    return (size_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - CORR_CONN_MEMO_BITS));
}

static void test_memo_answers_like_the_pool(void **state)
{
    (void)state;
    struct strpool sp;
    struct corr_conn_memo memo = {{0}};
    assert_true(strpool_init(&sp, 100, 512));
    assert_null(corr_op_conn(&sp, &memo, NULL));

    struct amqp_conn_info a, b;
    conn(&a, 1, "nova-compute:4242:host-1");
    struct strpool_str *a1 = corr_op_conn(&sp, &memo, &a);
    struct strpool_str *a2 = corr_op_conn(&sp, &memo, &a);
    assert_non_null(a1);
    assert_ptr_equal(a1, a2);
    assert_int_equal(a1->refs, 3); /* two callers and the memo */
    assert_string_equal(a1->s + 29, "nova-compute:4242:host-1");

    /* the name changes: a new key; the memo lets go of the old one */
    conn(&a, 1, "nova-compute:4242:host-2");
    struct strpool_str *a3 = corr_op_conn(&sp, &memo, &a);
    assert_ptr_not_equal(a3, a1);
    assert_int_equal(a1->refs, 2);
    assert_int_equal(a3->refs, 2);

    /* another connection in the same slot: each still gets its own key */
    uint64_t other = 2;
    while (slot_of(other) != slot_of(1))
        other++;
    conn(&b, other, "nova-conductor:7:host-3");
    struct strpool_str *b1 = corr_op_conn(&sp, &memo, &b);
    struct strpool_str *a4 = corr_op_conn(&sp, &memo, &a);
    struct strpool_str *b2 = corr_op_conn(&sp, &memo, &b);
    assert_ptr_not_equal(b1, a3);
    assert_ptr_equal(a4, a3);
    assert_ptr_equal(b2, b1);

    /* every reference handed out, then the memo's, goes back */
    struct strpool_str *held[] = {a1, a2, a3, a4, b1, b2};
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++)
        strpool_put(&sp, held[i]);
    assert_int_not_equal(sp.n, 0); /* the memo still holds the last keys */
    corr_conn_memo_free(&sp, &memo);
    assert_int_equal(sp.n, 0);
    strpool_free(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_answers_like_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

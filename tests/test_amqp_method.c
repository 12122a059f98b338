/*
 * test_amqp_method.c: the method table and its decoder. Every row is encoded
 * by the test's own encoder (walking the same row) with distinct values per
 * argument and decoded back; a few methods are also checked against literal
 * bytes written from the spec, so a wrong row cannot pass by symmetry.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>

#include "amqp_test_util.h"
#include "dissect/amqp_method.h"
#include "dissect/amqp_table.h"

static void test_table_sorted_and_complete(void **state)
{
    (void)state;
    size_t n;
    const struct amqp_method_def *t = amqp_method_table(&n);
    assert_int_equal(n, 66); /* 14 connection, 6 channel, 2 access, 8 exchange, 10 queue, 18 basic,
                                2 confirm, 6 tx */
    for (size_t i = 1; i < n; i++) {
        uint32_t a = (uint32_t)t[i - 1].class_id << 16 | t[i - 1].method_id;
        uint32_t b = (uint32_t)t[i].class_id << 16 | t[i].method_id;
        assert_true(a < b);
    }
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(amqp_method_find(t[i].class_id, t[i].method_id), &t[i]);
        /* the name starts with the class name and a dot */
        const char *cls = amqp_class_name(t[i].class_id);
        assert_non_null(cls);
        assert_int_equal(strncmp(t[i].name, cls, strlen(cls)), 0);
        assert_int_equal(t[i].name[strlen(cls)], '.');
        assert_true(t[i].nargs <= AMQP_METHOD_MAX_ARGS);
        assert_true(t[i].flow >= 1 && t[i].flow <= 3);
    }
    assert_null(amqp_method_find(60, 41));
    assert_null(amqp_method_find(99, 10));
    /* the RabbitMQ extensions are rows too */
    assert_string_equal(amqp_method_find(40, 51)->name, "exchange.unbind-ok");
    assert_string_equal(amqp_method_find(10, 60)->name, "connection.blocked");
    assert_string_equal(amqp_method_find(10, 71)->name, "connection.update-secret-ok");
    assert_string_equal(amqp_method_find(60, 120)->name, "basic.nack");
    assert_string_equal(amqp_method_find(85, 11)->name, "confirm.select-ok");
    /* content methods are exactly publish, return, deliver, get-ok */
    int content = 0;
    for (size_t i = 0; i < n; i++)
        content += t[i].content;
    assert_int_equal(content, 4);
    assert_true(amqp_method_find(60, 71)->content);
}

static void test_every_row_roundtrip(void **state)
{
    (void)state;
    size_t n;
    const struct amqp_method_def *t = amqp_method_table(&n);
    static const uint8_t tbl[] = {1, 'k', 'S', 0, 0, 0, 1, 'v'}; /* {"k": "v"} */
    for (size_t r = 0; r < n; r++) {
        const struct amqp_method_def *m = &t[r];
        struct amqp_arg_value in[AMQP_METHOD_MAX_ARGS] = {0}, out[AMQP_METHOD_MAX_ARGS];
        char strs[AMQP_METHOD_MAX_ARGS][32];
        for (unsigned i = 0; i < m->nargs; i++) {
            in[i].type = m->args[i].type;
            switch (m->args[i].type) {
            case AMQP_ARG_BIT:
                in[i].u = (r + i) & 1u;
                break;
            case AMQP_ARG_OCTET:
                in[i].u = 0x80 + i;
                break;
            case AMQP_ARG_SHORT:
                in[i].u = 0x8100 + i;
                break;
            case AMQP_ARG_LONG:
                in[i].u = 0x82000000u + i;
                break;
            case AMQP_ARG_LONGLONG:
            case AMQP_ARG_TIMESTAMP:
                in[i].u = 0x8300000000000000ull + i;
                break;
            case AMQP_ARG_SHORTSTR:
            case AMQP_ARG_LONGSTR:
                snprintf(strs[i], sizeof strs[i], "a%zu-%u", r, i);
                in[i].bytes.p = (const uint8_t *)strs[i];
                in[i].bytes.len = strlen(strs[i]);
                break;
            case AMQP_ARG_TABLE:
                in[i].bytes.p = tbl;
                in[i].bytes.len = sizeof tbl;
                break;
            }
        }
        struct wbuf b = {0};
        w_args(&b, m, in);
        /* exact-size copy so ASan flags any read past the arguments */
        uint8_t *copy = malloc(b.len ? b.len : 1);
        if (b.len)
            memcpy(copy, b.p, b.len);
        assert_int_equal(amqp_method_decode_args(m, copy, b.len, out), AMQP_OK);
        for (unsigned i = 0; i < m->nargs; i++) {
            assert_int_equal(out[i].type, m->args[i].type);
            if (m->args[i].type == AMQP_ARG_SHORTSTR || m->args[i].type == AMQP_ARG_LONGSTR ||
                m->args[i].type == AMQP_ARG_TABLE) {
                assert_int_equal(out[i].bytes.len, in[i].bytes.len);
                assert_memory_equal(out[i].bytes.p, in[i].bytes.p, in[i].bytes.len);
            } else {
                assert_int_equal(out[i].u, in[i].u);
            }
        }
        /* every shorter payload is an error (no method ends with an optional arg) */
        for (size_t cut = 0; cut < b.len; cut++)
            assert_int_not_equal(amqp_method_decode_args(m, copy, cut, out), AMQP_OK);
        free(copy);
        w_free(&b);
    }
}

static void decode_literal(uint16_t c, uint16_t mid, const uint8_t *p, size_t len,
                           struct amqp_arg_value *out)
{
    uint16_t cc, mm;
    assert_int_equal(amqp_method_ids(p, len, &cc, &mm), AMQP_OK);
    assert_int_equal(cc, c);
    assert_int_equal(mm, mid);
    const struct amqp_method_def *m = amqp_method_find(cc, mm);
    assert_non_null(m);
    assert_int_equal(amqp_method_decode_args(m, p + 4, len - 4, out), AMQP_OK);
}

static void test_literal_publish(void **state)
{
    (void)state;
    static const uint8_t p[] = {0x00, 0x3c, 0x00, 0x28, 0x00, 0x00, 9,   'o', 'p',
                                'e',  'n',  's',  't',  'a',  'c',  'k', 7,   'c',
                                'o',  'm',  'p',  'u',  't',  'e',  0x01};
    struct amqp_arg_value a[AMQP_METHOD_MAX_ARGS];
    decode_literal(60, 40, p, sizeof p, a);
    assert_memory_equal(a[1].bytes.p, "openstack", 9);
    assert_memory_equal(a[2].bytes.p, "compute", 7);
    assert_int_equal(a[3].u, 1); /* mandatory */
    assert_int_equal(a[4].u, 0); /* immediate */
}

static void test_literal_tune(void **state)
{
    (void)state;
    static const uint8_t p[] = {0, 10, 0, 30, 0x07, 0xff, 0, 2, 0, 0, 0, 60};
    struct amqp_arg_value a[AMQP_METHOD_MAX_ARGS];
    decode_literal(10, 30, p, sizeof p, a);
    assert_int_equal(a[0].u, 2047);
    assert_int_equal(a[1].u, 131072);
    assert_int_equal(a[2].u, 60);
}

static void test_literal_packed_bits(void **state)
{
    (void)state;
    /* queue.declare ticket=0 queue="q" durable auto_delete, arguments {} */
    static const uint8_t qd[] = {0, 50, 0, 10, 0, 0, 1, 'q', 0x0a, 0, 0, 0, 0};
    struct amqp_arg_value a[AMQP_METHOD_MAX_ARGS];
    decode_literal(50, 10, qd, sizeof qd, a);
    assert_int_equal(a[2].u, 0); /* passive */
    assert_int_equal(a[3].u, 1); /* durable */
    assert_int_equal(a[4].u, 0); /* exclusive */
    assert_int_equal(a[5].u, 1); /* auto_delete */
    assert_int_equal(a[6].u, 0); /* nowait */
    assert_int_equal(a[7].bytes.len, 0);
    /* basic.nack delivery_tag=5 multiple requeue */
    static const uint8_t nk[] = {0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 0, 5, 0x03};
    decode_literal(60, 120, nk, sizeof nk, a);
    assert_int_equal(a[0].u, 5);
    assert_int_equal(a[1].u, 1);
    assert_int_equal(a[2].u, 1);
    /* basic.deliver: the bit between delivery_tag and exchange takes its own octet */
    static const uint8_t dl[] = {0, 60, 0, 60, 1,    'c', 0,   0, 0,   0,
                                 0, 0,  0, 9,  0x01, 1,   'x', 2, 'r', 'k'};
    decode_literal(60, 60, dl, sizeof dl, a);
    assert_int_equal(a[1].u, 9);
    assert_int_equal(a[2].u, 1);
    assert_memory_equal(a[3].bytes.p, "x", 1);
    assert_memory_equal(a[4].bytes.p, "rk", 2);
}

static void test_table_arg_past_frame(void **state)
{
    (void)state;
    /* queue.declare whose arguments table claims 50 bytes but has 2 */
    static const uint8_t p[] = {0, 0, 1, 'q', 0x00, 0, 0, 0, 50, 1, 'k'};
    const struct amqp_method_def *m = amqp_method_find(50, 10);
    struct amqp_arg_value a[AMQP_METHOD_MAX_ARGS];
    assert_int_equal(amqp_method_decode_args(m, p, sizeof p, a), AMQP_ERR_BAD_ARGS);
    /* a table whose items run past the table's own length */
    static const uint8_t q[] = {0, 0, 1, 'q', 0x00, 0, 0, 0, 3, 1, 'k', 'S', 0, 0, 0, 9};
    assert_int_equal(amqp_method_decode_args(m, q, sizeof q, a), AMQP_ERR_BAD_TABLE);
    uint16_t c, mm;
    assert_int_equal(amqp_method_ids(p, 3, &c, &mm), AMQP_ERR_SHORT_METHOD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sorted_and_complete),
        cmocka_unit_test(test_every_row_roundtrip),
        cmocka_unit_test(test_literal_publish),
        cmocka_unit_test(test_literal_tune),
        cmocka_unit_test(test_literal_packed_bits),
        cmocka_unit_test(test_table_arg_past_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

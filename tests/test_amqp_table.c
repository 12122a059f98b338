/*
 * test_amqp_table.c: field tables and arrays with every type letter RabbitMQ
 * writes (plus py-amqp's U and L), nesting, the depth bound, overruns and
 * the lookup helper the oslo stage uses for `compression`.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>

#include "amqp_test_util.h"
#include "dissect/amqp_table.h"

static void key(struct wbuf *b, const char *k, char letter)
{
    w_sstr(b, k);
    w_u8(b, (uint8_t)letter);
}

static void build_all_types(struct wbuf *t)
{
    key(t, "t", 't');
    w_u8(t, 1);
    key(t, "b", 'b');
    w_u8(t, 0xFE); /* -2 */
    key(t, "B", 'B');
    w_u8(t, 0xFE); /* 254 */
    key(t, "s", 's');
    w_be16(t, 0xFFFD); /* -3 */
    key(t, "u", 'u');
    w_be16(t, 0xFFFD); /* 65533 */
    key(t, "I", 'I');
    w_be32(t, 0xFFFFFFFC); /* -4 */
    key(t, "i", 'i');
    w_be32(t, 0xFFFFFFFC); /* 4294967292 */
    key(t, "l", 'l');
    w_be64(t, (uint64_t)-5); /* -5 */
    key(t, "f", 'f');
    w_be32(t, 0x3FC00000); /* 1.5f */
    key(t, "d", 'd');
    w_be64(t, 0x4004000000000000ull); /* 2.5 */
    key(t, "D", 'D');
    w_u8(t, 2);
    w_be32(t, 12345); /* 123.45 */
    key(t, "S", 'S');
    w_lstr(t, "hello", 5);
    key(t, "x", 'x');
    w_lstr(t, "\x00\x01", 2);
    key(t, "T", 'T');
    w_be64(t, 1700000000);
    key(t, "V", 'V');
    key(t, "U", 'U');
    w_be16(t, 0xFFFF); /* -1 */
    key(t, "L", 'L');
    w_be64(t, (uint64_t)-6);
    struct wbuf arr = {0};
    w_u8(&arr, 'I');
    w_be32(&arr, 7);
    w_u8(&arr, 'S');
    w_lstr(&arr, "x", 1);
    key(t, "A", 'A');
    w_lstr(t, arr.p, arr.len);
    struct wbuf inner = {0};
    key(&inner, "compression", 'S');
    w_lstr(&inner, "gzip", 4);
    key(t, "F", 'F');
    w_lstr(t, inner.p, inner.len);
    w_free(&arr);
    w_free(&inner);
}

static void test_every_type(void **state)
{
    (void)state;
    struct wbuf t = {0};
    build_all_types(&t);
    assert_int_equal(amqp_table_validate(t.p, t.len, false, AMQP_TABLE_MAX_DEPTH), AMQP_OK);

    struct amqp_table_iter it;
    struct amqp_bytes k;
    struct amqp_table_value v;
    amqp_table_iter_init(&it, t.p, t.len, false);
    int n = 0;
    while (amqp_table_next(&it, &k, &v) == 1) {
        assert_int_equal(k.len, 1);
        assert_int_equal(k.p[0], (uint8_t)v.letter);
        switch (v.letter) {
        case 't':
            assert_true(v.v.b);
            break;
        case 'b':
            assert_int_equal(v.v.i, -2);
            break;
        case 'B':
            assert_int_equal(v.v.u, 254);
            break;
        case 's':
            assert_int_equal(v.v.i, -3);
            break;
        case 'u':
            assert_int_equal(v.v.u, 65533);
            break;
        case 'I':
            assert_int_equal(v.v.i, -4);
            break;
        case 'i':
            assert_int_equal(v.v.u, 4294967292u);
            break;
        case 'l':
            assert_int_equal(v.v.i, -5);
            break;
        case 'f':
            assert_true(fabsf(v.v.f - 1.5f) < 1e-6f);
            break;
        case 'd':
            assert_true(fabs(v.v.d - 2.5) < 1e-12);
            break;
        case 'D':
            assert_int_equal(v.v.dec.scale, 2);
            assert_int_equal(v.v.dec.value, 12345);
            break;
        case 'S':
            assert_int_equal(v.kind, AMQP_VAL_STRING);
            assert_memory_equal(v.bytes.p, "hello", 5);
            break;
        case 'x':
            assert_int_equal(v.kind, AMQP_VAL_BYTES);
            assert_int_equal(v.bytes.len, 2);
            break;
        case 'T':
            assert_int_equal(v.v.u, 1700000000);
            break;
        case 'V':
            assert_int_equal(v.kind, AMQP_VAL_VOID);
            break;
        case 'U':
            assert_int_equal(v.v.i, -1);
            break;
        case 'L':
            assert_int_equal(v.v.i, -6);
            break;
        case 'A': {
            struct amqp_table_iter ai;
            struct amqp_bytes ak;
            struct amqp_table_value av;
            amqp_table_iter_init(&ai, v.bytes.p, v.bytes.len, true);
            assert_int_equal(amqp_table_next(&ai, &ak, &av), 1);
            assert_int_equal(av.v.i, 7);
            assert_int_equal(ak.len, 0);
            assert_int_equal(amqp_table_next(&ai, &ak, &av), 1);
            assert_int_equal(av.kind, AMQP_VAL_STRING);
            assert_int_equal(amqp_table_next(&ai, &ak, &av), 0);
            break;
        }
        case 'F':
            assert_int_equal(v.kind, AMQP_VAL_TABLE);
            break;
        default:
            fail_msg("unexpected letter %c", v.letter);
        }
        n++;
    }
    assert_int_equal(n, 19);
    w_free(&t);
}

static void test_find(void **state)
{
    (void)state;
    struct wbuf t = {0};
    build_all_types(&t);
    struct amqp_table_value v;
    assert_true(amqp_table_find(t.p, t.len, "S", &v));
    assert_int_equal(v.kind, AMQP_VAL_STRING);
    assert_false(amqp_table_find(t.p, t.len, "missing", &v));
    /* nested table: the oslo stage looks up compression in headers */
    assert_true(amqp_table_find(t.p, t.len, "F", &v));
    char buf[8];
    assert_true(amqp_table_find_str(v.bytes.p, v.bytes.len, "compression", buf, sizeof buf));
    assert_string_equal(buf, "gzip");
    assert_false(amqp_table_find_str(t.p, t.len, "I", buf, sizeof buf)); /* not a string */
    char small[3];
    assert_true(amqp_table_find_str(t.p, t.len, "S", small, sizeof small));
    assert_string_equal(small, "he");
    w_free(&t);
}

static void test_overruns(void **state)
{
    (void)state;
    struct wbuf t = {0};
    key(&t, "S", 'S');
    w_be32(&t, 100); /* claims 100 bytes, has 3 */
    w_raw(&t, "abc", 3);
    assert_int_equal(amqp_table_validate(t.p, t.len, false, 32), AMQP_ERR_BAD_TABLE);
    struct amqp_table_value v;
    assert_false(amqp_table_find(t.p, t.len, "S", &v));
    w_free(&t);

    /* every truncation of a good table is rejected or shorter, never read past */
    struct wbuf g = {0};
    build_all_types(&g);
    bool boundary[1024] = {false};
    assert_true(g.len < sizeof boundary);
    struct amqp_table_iter it;
    struct amqp_bytes k;
    struct amqp_table_value v0;
    amqp_table_iter_init(&it, g.p, g.len, false);
    while (amqp_table_next(&it, &k, &v0) == 1)
        boundary[it.r.p - g.p] = true;
    for (size_t cut = 1; cut < g.len; cut++) {
        uint8_t *copy = malloc(cut); /* exact size so ASan sees any overread */
        memcpy(copy, g.p, cut);
        enum amqp_err e = amqp_table_validate(copy, cut, false, 32);
        /* a cut between items is a shorter valid table; anywhere else is malformed */
        assert_int_equal(e, boundary[cut] ? AMQP_OK : AMQP_ERR_BAD_TABLE);
        free(copy);
    }
    w_free(&g);

    /* unknown type letter */
    struct wbuf u = {0};
    key(&u, "q", 'Q');
    assert_int_equal(amqp_table_validate(u.p, u.len, false, 32), AMQP_ERR_BAD_TABLE);
    w_free(&u);
}

static void test_depth(void **state)
{
    (void)state;
    /* 40 nested tables: {"a": {"a": ...}} */
    struct wbuf cur = {0};
    for (int i = 0; i < 40; i++) {
        struct wbuf next = {0};
        key(&next, "a", 'F');
        w_lstr(&next, cur.p, cur.len);
        w_free(&cur);
        cur = next;
    }
    assert_int_equal(amqp_table_validate(cur.p, cur.len, false, AMQP_TABLE_MAX_DEPTH),
                     AMQP_ERR_TABLE_TOO_DEEP);
    assert_int_equal(amqp_table_validate(cur.p, cur.len, false, 64), AMQP_OK);
    w_free(&cur);
}

static void test_empty(void **state)
{
    (void)state;
    assert_int_equal(amqp_table_validate(NULL, 0, false, 32), AMQP_OK);
    struct amqp_table_value v;
    assert_false(amqp_table_find(NULL, 0, "x", &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type), cmocka_unit_test(test_find),
        cmocka_unit_test(test_overruns),   cmocka_unit_test(test_depth),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

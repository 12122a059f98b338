/*
 * test_corr_id.c: compact operation ids (dissect/corr_id.h).
 *
 * Hex, dashed uuid and "req-" uuid ids pack into 16 bytes and print back
 * exactly; any other text (one wrong byte at any position, upper case, a
 * dash out of place, another length) is pooled and prints back as itself.
 * The hash values are pinned to FNV-1a: the correlation table's slot order,
 * and so the order of some output, follows them.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "dissect/corr_id.h"

static const char HEX[] = "0123456789abcdeffedcba9876543210";
static const char UUID[] = "01234567-89ab-cdef-fedc-ba9876543210";
static const char REQ[] = "req-01234567-89ab-cdef-fedc-ba9876543210";

/* id from s has form, and prints back as s. */
static void check_round_trip(struct strpool *sp, const char *s, enum corr_id_form form)
{
    struct corr_id id;
    char buf[CORR_ID_TEXT];
    assert_true(corr_id_make(sp, s, &id));
    assert_int_equal(id.form, form);
    assert_string_equal(corr_id_format(&id, buf, sizeof(buf)), s);
    corr_id_release(sp, &id);
    assert_int_equal(id.form, CORR_ID_NONE);
}

static void test_forms(void **state)
{
    (void)state;
    struct strpool sp;
    assert_true(strpool_init(&sp, 100, 256));
    check_round_trip(&sp, HEX, CORR_ID_HEX);
    check_round_trip(&sp, UUID, CORR_ID_UUID);
    check_round_trip(&sp, REQ, CORR_ID_REQ_UUID);
    check_round_trip(&sp, "0123456789ABCDEFFEDCBA9876543210", CORR_ID_STR);  /* upper case */
    check_round_trip(&sp, "0123456789abcdeffedcba987654321", CORR_ID_STR);   /* 31 */
    check_round_trip(&sp, "0123456789abcdeffedcba98765432100", CORR_ID_STR); /* 33 */
    check_round_trip(&sp, "01234567-89ab-cdef-fedc-ba987654321", CORR_ID_STR);
    check_round_trip(&sp, "01234567-89ab-cdef-fedc-ba98765432100", CORR_ID_STR);
    check_round_trip(&sp, "012345678-9ab-cdef-fedc-ba9876543210", CORR_ID_STR); /* dash moved */
    check_round_trip(&sp, "01234567089ab-cdef-fedc-ba9876543210", CORR_ID_STR); /* no dash */
    check_round_trip(&sp, "reqx01234567-89ab-cdef-fedc-ba9876543210", CORR_ID_STR);
    check_round_trip(&sp, "req-0123456789abcdeffedcba9876543210", CORR_ID_STR); /* req- hex */
    check_round_trip(&sp, "req-01234567-89ab-cdef-fedc-ba98765432100", CORR_ID_STR);
    check_round_trip(&sp, "", CORR_ID_STR);
    check_round_trip(&sp, "compute.host-1", CORR_ID_STR);
    assert_int_equal(sp.n, 0); /* every pooled id went back */

    struct corr_id id;
    assert_true(corr_id_make(&sp, UUID, &id));
    static const uint8_t packed[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                       0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    assert_memory_equal(id.b, packed, 16);
    char small[8];
    assert_string_equal(corr_id_format(&id, small, sizeof(small)), ""); /* too small: empty */
    strpool_free(&sp);
}

/* Every byte value at every position: packed only when it is what the form
 * wants there (a lower-case hex digit, or the dash), pooled otherwise, and
 * always printed back as the text that came in. */
static void sweep(struct strpool *sp, const char *good, enum corr_id_form form)
{
    size_t len = strlen(good);
    char s[64];
    for (size_t pos = 0; pos < len; pos++) {
        for (int c = 1; c < 256; c++) {
            memcpy(s, good, len + 1);
            s[pos] = (char)c;
            bool dash = good[pos] == '-';
            bool ok = dash ? c == '-' : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            if (form == CORR_ID_REQ_UUID && pos < 4)
                ok = c == good[pos];
            check_round_trip(sp, s, ok ? form : CORR_ID_STR);
        }
    }
}

static void test_every_byte_everywhere(void **state)
{
    (void)state;
    struct strpool sp;
    assert_true(strpool_init(&sp, 100, 256));
    sweep(&sp, HEX, CORR_ID_HEX);
    sweep(&sp, UUID, CORR_ID_UUID);
    sweep(&sp, REQ, CORR_ID_REQ_UUID);
    assert_int_equal(sp.n, 0);
    strpool_free(&sp);
}

static void test_hash_is_fnv(void **state)
{
    (void)state;
    struct strpool sp;
    assert_true(strpool_init(&sp, 100, 256));
    struct corr_id a, b, c;
    assert_true(corr_id_make(&sp, HEX, &a));
    assert_true(corr_id_make(&sp, UUID, &b));
    assert_true(corr_id_make(&sp, "not-an-uuid", &c));
    /* packed: FNV-1a over the form byte then the 16 bytes */
    uint32_t h = strpool_hash(&a.form, 1, STRPOOL_HASH_SEED);
    assert_int_equal(corr_id_hash(&a), strpool_hash(a.b, 16, h));
    assert_int_not_equal(corr_id_hash(&a), corr_id_hash(&b)); /* same bytes, other form */
    assert_false(corr_id_equal(&a, &b));
    /* pooled: FNV-1a of the text, xor a constant */
    assert_int_equal(corr_id_hash(&c),
                     strpool_hash("not-an-uuid", 11, STRPOOL_HASH_SEED) ^ 0x9e3779b9u);
    /* FNV-1a's own test vector, so that strpool_hash itself cannot drift */
    assert_int_equal(strpool_hash("a", 1, STRPOOL_HASH_SEED), 0xe40c292cu);
    struct corr_id c2;
    assert_true(corr_id_make(&sp, "not-an-uuid", &c2));
    assert_true(corr_id_equal(&c, &c2));
    assert_int_equal(corr_id_hash(&c), corr_id_hash(&c2));
    corr_id_release(&sp, &c);
    corr_id_release(&sp, &c2);
    strpool_free(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_every_byte_everywhere),
        cmocka_unit_test(test_hash_is_fnv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

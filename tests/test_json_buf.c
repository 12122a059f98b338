/*
 * test_json_buf.c: the buffer JSON writers against jansson.
 *
 * The NDJSON record must stay byte for byte what json_dumps printed when it
 * was a jansson tree (JSON_COMPACT | JSON_REAL_PRECISION(16)), so every
 * writer is compared with jansson dumping the same value: strings that need
 * escaping or are not UTF-8, reals, integers, and embedded JSON text.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_buf.h"

#define FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16) | JSON_ENCODE_ANY)

/* What jansson prints for v (decref'd here); "null" when v is NULL. */
static char *jansson_dump(json_t *v)
{
    if (!v)
        return strdup("null");
    char *s = json_dumps(v, FLAGS);
    json_decref(v);
    assert_non_null(s);
    return s;
}

static char *finish(struct jbuf *b)
{
    char *text;
    size_t len;
    assert_true(jb_finish(b, &text, &len));
    assert_int_equal(len, strlen(text));
    return text;
}

static void test_strings(void **state)
{
    (void)state;
    static const char *const odd[] = {
        "plain",
        "quote\" back\\slash",
        "ctl\x01\x1f\b\f\n\r\t\x7f",
        "unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
        "max \xf4\x8f\xbf\xbf",
        "bad \xff utf8",
        "surrogate \xed\xa0\x80",
        "overlong \xc0\xaf",
        "overlong3 \xe0\x80\xaf",
        "above max \xf4\x90\x80\x80",
        "cut \xe2\x82",
        "slash / and <script>",
        "",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        struct jbuf b = {0};
        jb_lit(&b, "[");
        jb_str(&b, odd[i]);
        jb_lit(&b, "]");
        char *ours = finish(&b);
        json_t *arr = json_array();
        json_t *s = json_string(odd[i]);
        json_array_append_new(arr, s ? s : json_null());
        char *theirs = jansson_dump(arr);
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
    }
    /* The exact spellings, not only agreement. */
    struct jbuf b = {0};
    jb_str(&b, "a\x01\n\"\\\xc3\xa9");
    jb_str(&b, NULL);
    jb_str(&b, "x\xff");
    char *t = finish(&b);
    assert_string_equal(t, "\"a\\u0001\\n\\\"\\\\\xc3\xa9\"nullnull");
    free(t);
}

static void test_numbers(void **state)
{
    (void)state;
    static const double reals[] = {0.0,  30.0,  -1.5, 1e6,   1795576490.123456789,
                                   5.0,  0.125, 1e-7, 1e300, 123456789012345678.0,
                                   1e15, -0.0,  0.1,  2.5e-5};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        struct jbuf b = {0};
        jb_real(&b, reals[i]);
        char *ours = finish(&b);
        char *theirs = jansson_dump(json_real(reals[i]));
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
    }
    struct jbuf b = {0};
    jb_real(&b, NAN);
    jb_lit(&b, " ");
    jb_real(&b, INFINITY);
    char *t = finish(&b);
    assert_string_equal(t, "null null");
    free(t);

    static const long long ints[] = {0, 1, -1, 42, LLONG_MAX, LLONG_MIN, 4294967295ll};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        struct jbuf bi = {0};
        jb_int(&bi, ints[i]);
        char *ours = finish(&bi);
        char *theirs = jansson_dump(json_integer(ints[i]));
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
    }
}

/* JSON text nests as jansson re-prints it; text that does not parse is null. */
static void test_json_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"b\": 1, \"a\": [1, 2.50, \"x\"]}", "{\"b\":1,\"a\":[1,2.5,\"x\"]}"},
        {"  \"scalar\"  ", "\"scalar\""},
        {"3", "3"},
        {"1e2", "100.0"},
        {"0.1", "0.1"},
        {"null", "null"},
        {"\"nul\\u0000inside\"", "\"nul\\u0000inside\""},
        {"\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\""},
        {"{\"k\": \"v\"", "null"},
        {"not json", "null"},
        {"", "null"},
        {"[1] trailing", "null"},
        {"\"\xff\"", "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jbuf b = {0};
        jb_json_text(&b, cases[i].in);
        char *t = finish(&b);
        if (strcmp(t, cases[i].out) != 0)
            fail_msg("%s: got %s, want %s", cases[i].in, t, cases[i].out);
        free(t);
    }
    struct jbuf b = {0};
    jb_json_text(&b, NULL);
    char *t = finish(&b);
    assert_string_equal(t, "null");
    free(t);
}

static void test_keys_and_growth(void **state)
{
    (void)state;
    struct jbuf b = {0};
    jb_lit(&b, "{");
    for (int i = 0; i < 5000; i++) { /* well past the first 2 KB */
        jb_key(&b, "k", i == 0);
        jb_int(&b, i);
    }
    jb_lit(&b, "}");
    char *t = finish(&b);
    assert_int_equal(strncmp(t, "{\"k\":0,\"k\":1,", 13), 0);
    json_t *back = json_loads(t, 0, NULL); /* duplicate keys: jansson keeps the last */
    assert_non_null(back);
    assert_int_equal(json_integer_value(json_object_get(back, "k")), 4999);
    json_decref(back);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_keys_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

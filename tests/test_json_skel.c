/*
 * test_json_skel.c: the streaming skeleton of a JSON object (json_skel.h).
 *
 * What --max-body relies on: the keys after a large value are kept, nested
 * values become {} / [], an oslo envelope is skeletonised inside its string,
 * long strings are cut without breaking an escape or a UTF-8 sequence, the
 * result is the same whatever the chunking, and what is not one JSON object
 * gives no skeleton.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/json_scan.h"
#include "dissect/json_skel.h"

/* The skeleton of text fed in chunks of `chunk` bytes, NUL-terminated (NULL: none). */
static char *skel_of(const char *text, size_t len, size_t chunk)
{
    struct json_skel *s = json_skel_new();
    assert_non_null(s);
    for (size_t i = 0; i < len; i += chunk)
        json_skel_feed(s, (const uint8_t *)text + i, len - i < chunk ? len - i : chunk);
    size_t n;
    const uint8_t *r = json_skel_result(s, &n);
    char *out = NULL;
    if (r) {
        out = malloc(n + 1);
        memcpy(out, r, n);
        out[n] = '\0';
        assert_int_equal(json_scan_object(r, n, NULL, NULL, NULL), JSON_SCAN_OK);
    }
    json_skel_free(s);
    return out;
}

static void expect(const char *in, const char *want)
{
    static const size_t chunks[] = {1, 3, 7, 4096};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        char *got = skel_of(in, strlen(in), chunks[k]);
        if (!want) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_string_equal(got, want);
        }
        free(got);
    }
}

static void test_plain(void **state)
{
    (void)state;
    expect("{}", "{}");
    expect(" { \"a\" : 1 , \"b\":\"x\\\"y\", \"c\":{\"d\":[1,{\"e\":\"}\"}]}, \"f\":null,"
           "\"g\":true, \"h\":[] }",
           "{\"a\":1,\"b\":\"x\\\"y\",\"c\":{},\"f\":null,\"g\":true,\"h\":[]}");
    expect("{\"s\":\"\"}", "{\"s\":\"\"}");
}

static void test_envelope(void **state)
{
    (void)state;
    expect("{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"method\\\": \\\"echo\\\", "
           "\\\"args\\\": {\\\"x\\\": \\\"a\\\\\\\"b\\\"}, \\\"_msg_id\\\": \\\"m1\\\", "
           "\\\"u\\\": \\\"\\u00e9\\\"}\"}",
           "{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"method\\\":\\\"echo\\\","
           "\\\"args\\\":{},\\\"_msg_id\\\":\\\"m1\\\",\\\"u\\\":\\\"\xc3\xa9\\\"}\"}");
}

static void test_big_value_then_key(void **state)
{
    (void)state;
    size_t big = 3u << 20;
    char *in = malloc(big + 100);
    int n = sprintf(in, "{\"args\":\"");
    memset(in + n, 'x', big);
    sprintf(in + n + big, "\",\"_msg_id\":\"abc\"}");
    char *got = skel_of(in, strlen(in), 65536);
    assert_non_null(got);
    assert_non_null(strstr(got, ",\"_msg_id\":\"abc\"}"));
    assert_true(strlen(got) < JSON_SKEL_STR_MAX + 64);
    free(got);
    /* A cut must not split an escape or a UTF-8 sequence. */
    for (size_t i = 0; i < big; i += 2)
        memcpy(in + n + i, (i / 2) % 2 ? "\\n" : "\xc3\xa9", 2);
    got = skel_of(in, strlen(in), 4096);
    assert_non_null(got);
    assert_non_null(strstr(got, "\"_msg_id\":\"abc\""));
    free(got);
    free(in);
}

static void test_long_key_dropped(void **state)
{
    (void)state;
    char in[600];
    char key[300];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    snprintf(in, sizeof(in), "{\"%s\":1,\"a\":2}", key);
    expect(in, "{\"a\":2}");
}

static void test_not_an_object(void **state)
{
    (void)state;
    expect("", NULL);
    expect("[1,2]", NULL);
    expect("\x78\x9c\x01\x02", NULL);
    expect("{\"a\":1", NULL);
    expect("{\"a\":1} x", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_big_value_then_key),
        cmocka_unit_test(test_long_key_dropped),
        cmocka_unit_test(test_not_an_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

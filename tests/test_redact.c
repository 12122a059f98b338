/*
 * test_redact.c: which keys are secret, and masking them in decoded trees.
 *
 * The rule is by name (token, password, secret, credential, any case, as a
 * substring), applied at every depth of objects and arrays, whatever the
 * value's type; the fake token marker must never survive.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

#include "dissect/redact.h"

#define TOKEN "HARNESSFAKETOKEN"

static bool secret(const char *k)
{
    return redact_key_is_secret(k, strlen(k));
}

static void test_key_names(void **state)
{
    (void)state;
    assert_true(secret("auth_token"));
    assert_true(secret("_context_auth_token"));
    assert_true(secret("auth_token_info"));
    assert_true(secret("service_token"));
    assert_true(secret("Password"));
    assert_true(secret("admin_PASSWORD"));
    assert_true(secret("client_secret"));
    assert_true(secret("Credentials"));
    assert_true(secret("TOKEN"));
    assert_false(secret("user_id"));
    assert_false(secret("request_id"));
    assert_false(secret("tok"));
    assert_false(secret("pass"));
    assert_false(secret(""));
    /* Length-bounded: the part after len is not looked at. */
    assert_false(redact_key_is_secret("xtoken", 3));
}

static void test_tree(void **state)
{
    (void)state;
    const char *text =
        "{\"auth_token\":\"" TOKEN "a\",\"user\":\"bob\","
        "\"nested\":{\"list\":[{\"password\":\"" TOKEN "b\"},[{\"x_secret\":{\"deep\":\"" TOKEN
        "c\"}}]],\"credential\":[\"" TOKEN "d\"],\"ok\":{\"id\":1}},"
        "\"arr\":[1,\"two\",{\"token\":12345}]}";
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    assert_int_equal(redact_json(v), 5);
    char *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    assert_null(strstr(out, TOKEN));
    assert_null(strstr(out, "12345"));
    assert_non_null(strstr(out, "\"user\":\"bob\""));
    assert_non_null(strstr(out, "\"ok\":{\"id\":1}"));
    assert_non_null(strstr(out, "\"auth_token\":\"***\""));
    assert_non_null(strstr(out, "\"x_secret\":\"***\""));
    free(out);
    json_decref(v);
    /* Scalars and NULL: nothing to do, no crash. */
    assert_int_equal(redact_json(NULL), 0);
    json_t *s = json_string(TOKEN);
    assert_int_equal(redact_json(s), 0); /* a bare value has no key to judge it by */
    json_decref(s);
}

static void test_deep_tree(void **state)
{
    (void)state;
    /* 2000 levels (jansson's limit is 2048): iterative, no stack trouble. */
    json_t *root = json_object(), *cur = root;
    for (int i = 0; i < 2000; i++) {
        json_t *next = json_object();
        json_object_set_new(cur, i % 2 ? "a" : "b", json_array());
        json_array_append_new(json_object_get(cur, i % 2 ? "a" : "b"), next);
        cur = next;
    }
    json_object_set_new(cur, "token", json_string(TOKEN));
    assert_int_equal(redact_json(root), 1);
    char *out = json_dumps(root, JSON_COMPACT);
    assert_null(strstr(out, TOKEN));
    free(out);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_deep_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

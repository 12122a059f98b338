/*
 * test_json_scan.c: the top-level JSON scanner and string unescaper.
 *
 * What the oslo stage relies on: members reported in order with the right
 * types and spans, keys found after a 1 MB value, 50,000-deep nesting
 * handled without recursion, every kind of broken input (truncated,
 * garbage, bad escapes, bad numbers, mismatched brackets, invalid UTF-8)
 * rejected with its reason, and bounded unescaping. The quoted scanner (an
 * object still escaped inside a JSON string) reports what the plain one
 * reports on the unescaped text, or declines.
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
#include <time.h>

#include "dissect/json_scan.h"

struct seen {
    int n;
    char keys[16][32];
    enum json_type types[16];
    char vals[16][64];
};

static bool collect(void *user, const struct json_member *m)
{
    struct seen *s = user;
    if (s->n < 16) {
        snprintf(s->keys[s->n], sizeof s->keys[0], "%.*s", (int)m->key_len, m->key);
        s->types[s->n] = m->type;
        snprintf(s->vals[s->n], sizeof s->vals[0], "%.*s", (int)(m->val_len < 60 ? m->val_len : 60),
                 m->val);
    }
    s->n++;
    return true;
}

static enum json_scan_err scan(const char *text, struct seen *s)
{
    memset(s, 0, sizeof *s);
    return json_scan_object((const uint8_t *)text, strlen(text), collect, s, NULL);
}

static void test_members(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(scan(" {\"a\": 1, \"b\" : \"x\\\"y\", \"c\":[1,{\"d\":[]}],\"e\":{},"
                          "\"f\":true,\"g\":false,\"h\":null,\"i\":-1.5e+3} ",
                          &s),
                     JSON_SCAN_OK);
    assert_int_equal(s.n, 8);
    assert_string_equal(s.keys[0], "a");
    assert_int_equal(s.types[0], JSON_T_NUMBER);
    assert_string_equal(s.vals[0], "1");
    assert_int_equal(s.types[1], JSON_T_STRING);
    assert_string_equal(s.vals[1], "\"x\\\"y\"");
    assert_int_equal(s.types[2], JSON_T_ARRAY);
    assert_string_equal(s.vals[2], "[1,{\"d\":[]}]");
    assert_int_equal(s.types[3], JSON_T_OBJECT);
    assert_int_equal(s.types[4], JSON_T_TRUE);
    assert_int_equal(s.types[5], JSON_T_FALSE);
    assert_int_equal(s.types[6], JSON_T_NULL);
    assert_string_equal(s.vals[7], "-1.5e+3");
    assert_int_equal(scan("{}", &s), JSON_SCAN_OK);
    assert_int_equal(s.n, 0);
}

static bool stop_at_b(void *user, const struct json_member *m)
{
    int *n = user;
    (*n)++;
    return !(m->key_len == 1 && m->key[0] == 'b');
}

static void test_stop_early(void **state)
{
    (void)state;
    int n = 0;
    const char *t = "{\"a\":1,\"b\":2,\"c\":3}";
    assert_int_equal(json_scan_object((const uint8_t *)t, strlen(t), stop_at_b, &n, NULL),
                     JSON_SCAN_OK);
    assert_int_equal(n, 2);
}

static void test_broken(void **state)
{
    (void)state;
    struct seen s;
    static const struct {
        const char *text;
        enum json_scan_err want;
    } cases[] = {
        {"", JSON_SCAN_ERR_TRUNCATED},
        {"{", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\"", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\":", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\":[1,2", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\":\"abc", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\":tru", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\":1", JSON_SCAN_ERR_TRUNCATED},
        {"{\"a\":[1,2}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":{\"b\":1]}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":1,}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":[1,]}", JSON_SCAN_ERR_SYNTAX},
        {"{a:1}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\" 1}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":01}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":1.}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":-}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":1e}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":+1}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":nul}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":\"\\x\"}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":\"\\u12g4\"}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":\"tab\there\"}", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":1} x", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":1}{}", JSON_SCAN_ERR_SYNTAX},
        {"[1,2]", JSON_SCAN_ERR_NOT_OBJECT},
        {"\"str\"", JSON_SCAN_ERR_NOT_OBJECT},
        {"garbage", JSON_SCAN_ERR_SYNTAX},
        {"{\"a\":\"\xff\"}", JSON_SCAN_ERR_UTF8},
        {"{\"a\":\"\xc0\xaf\"}", JSON_SCAN_ERR_UTF8},         /* overlong '/' */
        {"{\"a\":\"\xed\xa0\x80\"}", JSON_SCAN_ERR_UTF8},     /* encoded surrogate */
        {"{\"a\":\"\xf4\x90\x80\x80\"}", JSON_SCAN_ERR_UTF8}, /* above U+10FFFF */
        {"{\"a\":\"\xe2\x82\"}", JSON_SCAN_ERR_UTF8},         /* cut sequence */
        {"{\"\xff\":1}", JSON_SCAN_ERR_UTF8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum json_scan_err got = scan(cases[i].text, &s);
        if (got != cases[i].want)
            fail_msg("case %zu %s: got %s want %s", i, cases[i].text, json_scan_err_name(got),
                     json_scan_err_name(cases[i].want));
    }
    /* Valid UTF-8 of every length passes. */
    assert_int_equal(scan("{\"a\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", &s), JSON_SCAN_OK);
    /* NUL bytes outside strings are garbage, inside strings control characters. */
    const uint8_t nul[] = {'{', '"', 'a', '"', ':', '"', 0, '"', '}'};
    assert_int_equal(json_scan_object(nul, sizeof nul, NULL, NULL, NULL), JSON_SCAN_ERR_SYNTAX);
}

/* The correlation keys after 1 MB of args: found, and quickly. */
static void test_big_args_before_key(void **state)
{
    (void)state;
    size_t big = 1u << 20;
    char *text = malloc(big + 256);
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "{\"args\":{\"blob\":\"");
    for (size_t i = 0; i < big; i++)
        text[n++] = (char)('a' + i % 26);
    n += (size_t)sprintf(text + n, "\",\"list\":[1,2,3]},\"_msg_id\":\"abc\"}");
    struct seen s;
    memset(&s, 0, sizeof s);
    clock_t t0 = clock();
    for (int i = 0; i < 10; i++) {
        memset(&s, 0, sizeof s);
        assert_int_equal(json_scan_object((uint8_t *)text, n, collect, &s, NULL), JSON_SCAN_OK);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[1], "_msg_id");
    assert_string_equal(s.vals[1], "\"abc\"");
    /* 10 MB scanned: well under a second even unoptimised with sanitizers. */
    printf("  10 x 1 MB scanned in %.3f s\n", secs);
    assert_true(secs < 5.0);
    free(text);
}

static char *nested(size_t depth, char open, char close, const char *tail)
{
    char *t = malloc(2 * depth + 64);
    size_t n = (size_t)sprintf(t, "{\"args\":");
    for (size_t i = 0; i < depth; i++)
        t[n++] = open;
    for (size_t i = 0; i < depth; i++)
        t[n++] = close;
    strcpy(t + n, tail);
    return t;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    struct seen s;
    char *t = nested(50000, '[', ']', ",\"_msg_id\":\"x\"}");
    assert_int_equal(scan(t, &s), JSON_SCAN_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[1], "_msg_id");
    free(t);
    /* Deeper than the bound: an error, not a crash. */
    t = nested(JSON_SCAN_MAX_DEPTH + 10, '[', ']', "}");
    assert_int_equal(scan(t, &s), JSON_SCAN_ERR_DEPTH);
    free(t);
    /* 50,000 unclosed: truncated. */
    t = nested(50000, '[', ' ', "");
    assert_int_equal(scan(t, &s), JSON_SCAN_ERR_TRUNCATED);
    free(t);
    /* Mixed objects and arrays, deep. */
    size_t depth = 30000;
    char *m = malloc(depth * 8 + 64);
    size_t n = (size_t)sprintf(m, "{\"k\":");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(m + n, i % 2 ? "[" : "{\"a\":");
    for (size_t i = depth; i-- > 0;)
        m[n++] = i % 2 ? ']' : '}';
    strcpy(m + n, "}");
    assert_int_equal(scan(m, &s), JSON_SCAN_OK);
    assert_int_equal(json_scan_value((uint8_t *)m, strlen(m), NULL), JSON_SCAN_OK);
    free(m);
}

static void test_unescape(void **state)
{
    (void)state;
    char out[64];
    size_t len;
    bool cut;
    const char *lit = "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_OK);
    assert_false(cut);
    assert_string_equal(out, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    /* Lone surrogates become U+FFFD. */
    lit = "\"x\\ud800y\\udc00\"";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_OK);
    assert_string_equal(out, "x\xef\xbf\xbdy\xef\xbf\xbd");
    /* \u0000 is a NUL byte counted in the length. */
    lit = "\"a\\u0000b\"";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "a\0b", 3);
    /* Cut at the buffer, never inside a UTF-8 sequence, still validated to the end. */
    char small[5];
    lit = "\"ab\\u20acdef\"";
    assert_int_equal(
        json_unescape((const uint8_t *)lit, strlen(lit), small, sizeof small, &len, &cut),
        JSON_SCAN_OK);
    assert_true(cut);
    assert_string_equal(small, "ab");
    lit = "\"abcdefgh\\q\"";
    assert_int_equal(
        json_unescape((const uint8_t *)lit, strlen(lit), small, sizeof small, &len, &cut),
        JSON_SCAN_ERR_SYNTAX);
    lit = "\"abc";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_ERR_TRUNCATED);
    lit = "\"\\u12";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_ERR_TRUNCATED);
    lit = "\"\xff\"";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_ERR_UTF8);
    lit = "x";
    assert_int_equal(json_unescape((const uint8_t *)lit, strlen(lit), out, sizeof out, &len, &cut),
                     JSON_SCAN_ERR_SYNTAX);
}

static bool find_msg_id(void *user, const struct json_member *m)
{
    bool *found = user;
    if (json_key_is(m, "_msg_id"))
        *found = true;
    return true;
}

static void test_escaped_key(void **state)
{
    (void)state;
    bool found = false;
    const char *t = "{\"\\u005fmsg_id\":\"x\"}";
    assert_int_equal(json_scan_object((const uint8_t *)t, strlen(t), find_msg_id, &found, NULL),
                     JSON_SCAN_OK);
    assert_true(found);
    found = false;
    t = "{\"_msg_idx\":\"x\",\"_msg\":1}";
    assert_int_equal(json_scan_object((const uint8_t *)t, strlen(t), find_msg_id, &found, NULL),
                     JSON_SCAN_OK);
    assert_false(found);
}

static void test_number(void **state)
{
    (void)state;
    double v;
    assert_true(json_number((const uint8_t *)"2.5", 3, &v));
    assert_true(v > 2.49 && v < 2.51);
    assert_false(json_number((const uint8_t *)"2.5x", 4, &v));
    assert_false(json_number((const uint8_t *)"", 0, &v));
}

/* Every prefix of a valid document is truncated, never OK, never a crash. */
static void test_every_prefix(void **state)
{
    (void)state;
    const char *t = "{\"a\":[1,{\"b\":\"\\u00e9x\"},-2.5e3,true,null],\"c\":\"\xe2\x82\xac\"}";
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        uint8_t *copy = malloc(i ? i : 1); /* exact size: ASan catches any overread */
        memcpy(copy, t, i);
        enum json_scan_err e = json_scan_object(copy, i, NULL, NULL, NULL);
        if (e != JSON_SCAN_ERR_TRUNCATED)
            fail_msg("prefix %zu: %s", i, json_scan_err_name(e));
        free(copy);
    }
    assert_int_equal(json_scan_object((const uint8_t *)t, n, NULL, NULL, NULL), JSON_SCAN_OK);
}

/* Every prefix of string literals whose plain runs end on and off the 16-byte
 * steps of the SSE2 copy, in exact-size buffers (ASan sees any overread),
 * with output buffers from tight to roomy: the prefixes are truncated, the
 * whole literal decodes to the expected text. A fuzzer found the unescaper
 * reading one byte past a literal cut right after a 16-byte step. */
static void test_unescape_prefixes(void **state)
{
    (void)state;
    for (size_t run = 0; run < 50; run++) {
        char lit[160], want[160];
        size_t n = 0, w = 0;
        lit[n++] = '"';
        for (size_t i = 0; i < run; i++)
            lit[n++] = want[w++] = (char)('a' + i % 26);
        memcpy(lit + n, "\\\"x\\n", 5); /* \"x\n */
        n += 5;
        want[w++] = '"';
        want[w++] = 'x';
        want[w++] = '\n';
        for (size_t i = 0; i < run; i++)
            lit[n++] = want[w++] = (char)('A' + i % 26);
        lit[n++] = '"';
        for (size_t len = 0; len <= n; len++) {
            uint8_t *in = malloc(len ? len : 1);
            memcpy(in, lit, len);
            for (size_t cap = 1; cap <= n + 1; cap += (cap < 20 ? 1 : 17)) {
                char *out = malloc(cap);
                size_t olen = 0, used = 0;
                bool cut;
                enum json_scan_err e = json_unescape_prefix(in, len, out, cap, &olen, &cut, &used);
                if (len < n) {
                    if (e != JSON_SCAN_ERR_TRUNCATED && !(len == 0 && e == JSON_SCAN_ERR_SYNTAX))
                        fail_msg("run %zu len %zu cap %zu: %s", run, len, cap,
                                 json_scan_err_name(e));
                } else {
                    assert_int_equal(e, JSON_SCAN_OK);
                    assert_int_equal(used, n);
                    assert_int_equal(cut, w + 1 > cap);
                    assert_int_equal(olen, cut ? cap - 1 : w);
                    assert_memory_equal(out, want, olen);
                    assert_int_equal(out[olen], '\0');
                }
                free(out);
            }
            free(in);
        }
    }
}

/* The text json.dumps writes for the string s (ensure_ascii=False), with its quotes. */
static char *dumps_string(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 3), *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (*p < 0x20) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Members of a quoted scan, each checked against json_scan_object's on the
 * unescaped text: same keys, types, and values that unescape to the same bytes. */
struct pair {
    struct seen plain;
    int n;
    const char *inner; /* the unescaped text */
    bool escaped[16];
};

static bool collect_quoted(void *user, const struct json_member *m)
{
    struct pair *p = user;
    assert_true(m->quoted);
    if (p->n < 16)
        p->escaped[p->n] = m->val_escaped;
    if (p->n < 16 && p->n < p->plain.n) {
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)m->key_len, m->key);
        assert_string_equal(key, p->plain.keys[p->n]);
        assert_int_equal(m->type, p->plain.types[p->n]);
        /* The span, put back between quotes and unescaped, is the plain span. */
        char *wrapped = malloc(m->val_len + 3), got[256];
        size_t glen;
        bool cut;
        wrapped[0] = '"';
        memcpy(wrapped + 1, m->val, m->val_len);
        wrapped[m->val_len + 1] = '"';
        assert_int_equal(json_unescape((const uint8_t *)wrapped, m->val_len + 2, got, sizeof got,
                                       &glen, &cut),
                         JSON_SCAN_OK);
        free(wrapped);
        assert_false(cut);
        got[glen < 60 ? glen : 60] = '\0';
        assert_string_equal(got, p->plain.vals[p->n]);
    }
    p->n++;
    return true;
}

/* true when the quoted scan took the string; then checks it against the plain way. */
static bool quoted_agrees(const char *inner, struct pair *p)
{
    char *e = dumps_string(inner);
    size_t elen = strlen(e), used = 0;
    char *tail = malloc(elen + 8);
    memcpy(tail, e, elen);
    memcpy(tail + elen, ", \"x\"}", 7); /* what follows the string in an envelope */
    memset(p, 0, sizeof *p);
    p->inner = inner;
    enum json_scan_err plain = scan(inner, &p->plain);
    bool took = json_scan_quoted_object((const uint8_t *)tail, elen + 6, collect_quoted, p, &used);
    if (took) {
        assert_int_equal(plain, JSON_SCAN_OK);
        assert_int_equal(p->n, p->plain.n);
        assert_int_equal(used, elen);
    }
    free(tail);
    free(e);
    return took;
}

static void test_quoted_oslo_message(void **state)
{
    (void)state;
    struct pair p;
    const char *msg = "{\"_msg_id\": \"4f3c2a\", \"_reply_q\": \"reply_1\", \"method\": \"ping\","
                      " \"args\": {\"note\": \"say \\\"hi\\\" \\\\ caf\\u00e9\\n\", \"n\": [1, -2.5e3,"
                      " true, false, null, {}, []]}, \"_context_roles\": [\"admin\"],"
                      " \"_timeout\": 60, \"version\": \"1.0\", \"ending\": true}";
    assert_true(quoted_agrees(msg, &p));
    assert_int_equal(p.n, 8);
    assert_false(p.escaped[0]); /* _msg_id: plain, copied as it lies */
    assert_false(p.escaped[3]); /* args is an object, not a string */
    assert_true(quoted_agrees("{}", &p));
    assert_true(quoted_agrees("  { \"a\" : \"b\\\\\" }  ", &p));
    assert_int_equal(p.n, 1);
    assert_true(p.escaped[0]);
}

static void test_quoted_declines(void **state)
{
    (void)state;
    struct pair p;
    /* Valid, but not the form read in place: the unescaping path decides. */
    assert_false(quoted_agrees("{\"a\": \"caf\xc3\xa9\"}", &p)); /* raw non-ASCII */
    assert_false(quoted_agrees("{\n\"a\": 1}", &p));               /* \n between tokens */
    assert_false(quoted_agrees("{\"a\\\"b\": 1}", &p));            /* an escaped key */
    assert_false(quoted_agrees("{\"a\": \"x\ty\"}", &p));          /* a control byte: bad JSON */
    /* Not valid inner JSON: declined, never accepted. */
    const char *bad[] = {"{\"a\": tru}", "{\"a\" 1}", "{\"a\": 1,}", "[1]", "{\"a\": 01}",
                         "{\"a\": \"\\x\"}", "{\"a\": [1}", "{\"a\": 1} x", "{\"a\": -}",
                         "{\"a\": \"\\u12g4\"}", "{\"a\": 1.}", "{\"a\": 1e}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(quoted_agrees(bad[i], &p));
    /* Outer text that is not one whole string: */
    size_t used;
    const char *outer[] = {"\"{\\\"a\\\": \\\"x\"}\"",   /* a bare quote inside an inner string */
                           "\"{\\\"a\\\": 1}",           /* no closing quote */
                           "\"{\\\"a\\\": 1} \\n\"",     /* an escaped newline after the object */
                           "{\\\"a\\\": 1}\"",           /* no opening quote */
                           "\"{\\\"a\\\": \\\"x\\/y\\\"}\"", /* \/ : the outer string's own escape */
                           "\"{\\\"a\\\": 1}\\\"\""};
    for (size_t i = 0; i < sizeof outer / sizeof outer[0]; i++)
        assert_false(json_scan_quoted_object((const uint8_t *)outer[i], strlen(outer[i]), NULL,
                                             NULL, &used));
}

/* Every prefix of a quoted message is declined without reading past it (ASan). */
static void test_quoted_every_prefix(void **state)
{
    (void)state;
    char *e = dumps_string("{\"_msg_id\": \"a\\\"b\", \"x\": [1, {\"y\": \"\\u0041\"}], \"t\": 2.5}");
    size_t n = strlen(e), used;
    for (size_t i = 0; i < n; i++) {
        uint8_t *cut = malloc(i ? i : 1);
        memcpy(cut, e, i);
        assert_false(json_scan_quoted_object(cut, i, NULL, NULL, &used));
        free(cut);
    }
    assert_true(json_scan_quoted_object((const uint8_t *)e, n, NULL, NULL, &used));
    assert_int_equal(used, n);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),      cmocka_unit_test(test_stop_early),
        cmocka_unit_test(test_broken),       cmocka_unit_test(test_big_args_before_key),
        cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_escaped_key),  cmocka_unit_test(test_number),
        cmocka_unit_test(test_every_prefix), cmocka_unit_test(test_unescape_prefixes),
        cmocka_unit_test(test_quoted_oslo_message), cmocka_unit_test(test_quoted_declines),
        cmocka_unit_test(test_quoted_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_json_quoted.c: libFuzzer target, differential, for the in-place
 * scanner of an object inside a JSON string (json_scan_quoted_object).
 *
 * Its promise: whenever it takes a string, unescaping that string and
 * running json_scan_object on the result gives the same members (keys,
 * types, values that unescape to the same bytes) and the string ends where
 * the unescaper says. Input: one mode byte, then text. Mode even: the text
 * is the inner JSON, escaped here as json.dumps would (so the fast form is
 * common); mode odd: the text is taken as the outer string's content as it
 * is (odd escapes, bare quotes, bytes of every kind). Any disagreement traps.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/json_scan.h"

#define MAX_MEMBERS 64

struct member {
    const uint8_t *key, *val;
    size_t key_len, val_len;
    enum json_type type;
};

struct list {
    struct member m[MAX_MEMBERS];
    size_t n;
};

static bool collect(void *user, const struct json_member *jm)
{
    struct list *l = user;
    if (l->n < MAX_MEMBERS)
        l->m[l->n] = (struct member){jm->key, jm->val, jm->key_len, jm->val_len, jm->type};
    l->n++;
    return true;
}

static void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

/* The outer string for inner text t: quotes, backslashes and control bytes escaped. */
static size_t escape(const uint8_t *t, size_t n, uint8_t *out)
{
    size_t o = 0;
    static const char hex[] = "0123456789abcdef";
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"' || t[i] == '\\') {
            out[o++] = '\\';
            out[o++] = t[i];
        } else if (t[i] < 0x20) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = (uint8_t)hex[t[i] >> 4];
            out[o + 5] = (uint8_t)hex[t[i] & 15];
            o += 6;
        } else {
            out[o++] = t[i];
        }
    }
    out[o++] = '"';
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *t = data + 1;
    size_t n = size - 1;
    uint8_t *outer = malloc(n * 6 + 8);
    size_t olen;
    if (mode % 2 == 0) {
        olen = escape(t, n, outer);
    } else {
        outer[0] = '"';
        memcpy(outer + 1, t, n);
        olen = n + 1;
    }
    struct list q = {0}, plain = {0};
    size_t used = 0;
    bool took = json_scan_quoted_object(outer, olen, collect, &q, &used);
    if (took) {
        /* The unescaper must agree on where the string ends and what it holds... */
        char *inner = malloc(olen + 1);
        size_t ilen, consumed;
        bool cut;
        check(json_unescape_prefix(outer, olen, inner, olen + 1, &ilen, &cut, &consumed) ==
              JSON_SCAN_OK);
        check(!cut && consumed == used);
        /* ...and the plain scanner on it must report the same members. */
        check(json_scan_object((const uint8_t *)inner, ilen, collect, &plain, NULL) ==
              JSON_SCAN_OK);
        check(q.n == plain.n);
        uint8_t *wrapped = malloc(olen + 2);
        char *val = malloc(olen + 1);
        for (size_t i = 0; i < q.n && i < MAX_MEMBERS; i++) {
            const struct member *a = &q.m[i], *b = &plain.m[i];
            check(a->type == b->type);
            check(a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0);
            /* The quoted value span, put between quotes and unescaped, is the plain span. */
            wrapped[0] = '"';
            memcpy(wrapped + 1, a->val, a->val_len);
            wrapped[a->val_len + 1] = '"';
            size_t vlen;
            check(json_unescape(wrapped, a->val_len + 2, val, olen + 1, &vlen, &cut) ==
                  JSON_SCAN_OK);
            check(vlen == b->val_len && memcmp(val, b->val, vlen) == 0);
        }
        free(val);
        free(wrapped);
        free(inner);
    }
    free(outer);
    return 0;
}

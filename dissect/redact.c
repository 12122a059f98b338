/*
 * redact.c: masking of credential-bearing keys in decoded oslo JSON.
 *
 * The walk over the tree is iterative with a heap-allocated work list, so a
 * hostile document cannot exhaust the C stack (jansson already bounds the
 * depth at 2048 on decode, but the tree may come from elsewhere). Masking
 * replaces the value with the string "***" whatever its type: a token stored
 * as a dict or list is hidden as a whole.
 */
#include "dissect/redact.h"

#include <stdlib.h>
#include <string.h>

static bool contains_ci(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    for (size_t i = 0; i + wl <= len; i++) {
        size_t j = 0;
        while (j < wl) {
            char c = s[i + j];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != word[j])
                break;
            j++;
        }
        if (j == wl)
            return true;
    }
    return false;
}

bool redact_key_is_secret(const char *key, size_t len)
{
    return contains_ci(key, len, "token") || contains_ci(key, len, "password") ||
           contains_ci(key, len, "secret") || contains_ci(key, len, "credential");
}

struct worklist {
    json_t **v;
    size_t n, cap;
};

static bool wl_push(struct worklist *w, json_t *v)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        json_t **nv = realloc(w->v, ncap * sizeof(*nv));
        if (!nv)
            return false;
        w->v = nv;
        w->cap = ncap;
    }
    w->v[w->n++] = v;
    return true;
}

size_t redact_json(json_t *root)
{
    struct worklist w = {0};
    size_t masked = 0;
    if (!root || !wl_push(&w, root))
        return 0;
    while (w.n) {
        json_t *v = w.v[--w.n];
        if (json_is_object(v)) {
            const char *key;
            json_t *val;
            void *it = json_object_iter(v);
            while (it) {
                key = json_object_iter_key(it);
                val = json_object_iter_value(it);
                if (redact_key_is_secret(key, strlen(key))) {
                    json_object_iter_set_new(v, it, json_string(REDACT_MASK));
                    masked++;
                } else if ((json_is_object(val) || json_is_array(val)) && !wl_push(&w, val)) {
                    /* Out of memory: mask the whole subtree rather than leak a secret. */
                    json_object_iter_set_new(v, it, json_string(REDACT_MASK));
                    masked++;
                }
                it = json_object_iter_next(v, it);
            }
        } else if (json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *e = json_array_get(v, i);
                if ((json_is_object(e) || json_is_array(e)) && !wl_push(&w, e)) {
                    json_array_set_new(v, i, json_string(REDACT_MASK));
                    masked++;
                }
            }
        }
    }
    free(w.v);
    return masked;
}

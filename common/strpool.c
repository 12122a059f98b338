/*
 * strpool.c: the interned string pool of strpool.h.
 *
 * Chained hashing; the chain array doubles when there are more strings than
 * chains, so lookups stay O(1) at any size. The chains hash 8 bytes a step
 * (pool_hash), not FNV-1a's one: correlation interns a ~130-byte connection
 * key and a shape string for every operation, and byte-wise FNV was the
 * larger part of that cost. strpool_hash stays FNV-1a for its callers,
 * whose table order depends on its values. Strings are single
 * mallocs (header and bytes together); a string leaves the pool with its
 * last reference.
 */
#include "common/strpool.h"

#include <stdlib.h>
#include <string.h>

uint32_t strpool_hash(const void *p, size_t len, uint32_t h)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

/* The chains' hash: a multiply-rotate step per 8 bytes, then murmur3's
 * 64-bit finaliser so that the low bits (the chain index) depend on every
 * input bit. Not exported: its values are no one else's business. */
static uint32_t pool_hash(const void *p, size_t len)
{
    const uint8_t *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    for (; len >= 8; s += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (rotl64(h, 27) ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)s[i] << (8 * i);
    h = (rotl64(h, 27) ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)h;
}

bool strpool_init(struct strpool *sp, size_t max_strings, size_t max_len)
{
    memset(sp, 0, sizeof(*sp));
    sp->nb = 1024;
    sp->b = calloc(sp->nb, sizeof(*sp->b));
    sp->max = max_strings;
    sp->max_len = max_len;
    return sp->b != NULL;
}

static void grow(struct strpool *sp)
{
    size_t nb = sp->nb * 2;
    struct strpool_str **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* keep the longer chains */
    for (size_t i = 0; i < sp->nb; i++) {
        struct strpool_str *e = sp->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(sp->b);
    sp->b = b;
    sp->nb = nb;
}

struct strpool_str *strpool_get(struct strpool *sp, const void *p, size_t len)
{
    if (len > sp->max_len)
        len = sp->max_len;
    uint32_t h = pool_hash(p, len);
    for (struct strpool_str *e = sp->b[h & (sp->nb - 1)]; e; e = e->next) {
        if (e->hash == h && e->len == len && memcmp(e->s, p, len) == 0) {
            e->refs++;
            return e;
        }
    }
    if (sp->n >= sp->max) {
        sp->full++;
        return NULL;
    }
    struct strpool_str *e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        sp->full++;
        return NULL;
    }
    e->refs = 1;
    e->hash = h;
    e->len = (uint32_t)len;
    memcpy(e->s, p, len);
    e->s[len] = '\0';
    e->next = sp->b[h & (sp->nb - 1)];
    sp->b[h & (sp->nb - 1)] = e;
    if (++sp->n > sp->nb)
        grow(sp);
    return e;
}

struct strpool_str *strpool_cstr(struct strpool *sp, const char *s)
{
    return strpool_get(sp, s, strlen(s));
}

void strpool_put(struct strpool *sp, struct strpool_str *e)
{
    if (!e || --e->refs)
        return;
    struct strpool_str **pp = &sp->b[e->hash & (sp->nb - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    sp->n--;
    free(e);
}

void strpool_free(struct strpool *sp)
{
    for (size_t i = 0; i < sp->nb; i++) {
        struct strpool_str *e = sp->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(sp->b);
    sp->b = NULL;
    sp->nb = sp->n = 0;
}

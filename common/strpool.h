/*
 * strpool.h: an interned, reference-counted string pool.
 *
 * Equal byte strings share one NUL-terminated copy: strpool_get() returns
 * the pooled copy with one more reference, strpool_put() drops one and frees
 * the copy with the last. Correlation keeps thousands of operations that
 * name the same exchanges, topics, methods and connections; pooling makes
 * each name cost one pointer per operation. The pool is bounded (max
 * strings, max length per string): a full pool answers NULL and counts it,
 * so a flood of distinct strings costs a counter, not memory.
 */
#ifndef OSLOTRACE_COMMON_STRPOOL_H
#define OSLOTRACE_COMMON_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strpool_str {
    struct strpool_str *next; /* hash chain */
    uint32_t refs, hash, len; /* hash: the pool's own chain hash, not strpool_hash */
    char s[]; /* len bytes and a NUL */
};

struct strpool {
    struct strpool_str **b; /* chains, a power of two of them */
    size_t nb, n;
    size_t max;     /* strings kept at most */
    size_t max_len; /* longer strings are cut to this */
    uint64_t full;  /* strings refused because the pool was full (or out of memory) */
};

/* FNV-1a over len bytes, continuing from h (2166136261u to start). */
uint32_t strpool_hash(const void *p, size_t len, uint32_t h);
#define STRPOOL_HASH_SEED 2166136261u

bool strpool_init(struct strpool *sp, size_t max_strings, size_t max_len);
void strpool_free(struct strpool *sp); /* frees every string, referenced or not */

/* A reference to the pooled copy of p[0..len) (cut to max_len); NULL when full. */
struct strpool_str *strpool_get(struct strpool *sp, const void *p, size_t len);
struct strpool_str *strpool_cstr(struct strpool *sp, const char *s);

/* One more reference to a string already held; returns it. */
static inline struct strpool_str *strpool_ref(struct strpool_str *s)
{
    if (s)
        s->refs++;
    return s;
}

/* Drops one reference (NULL is ignored); the last one frees the copy. */
void strpool_put(struct strpool *sp, struct strpool_str *s);

/* The text of a pooled string, NULL for NULL. */
static inline const char *strpool_text(const struct strpool_str *s)
{
    return s ? s->s : NULL;
}

#endif

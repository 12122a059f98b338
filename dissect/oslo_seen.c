/*
 * oslo_seen.c: the table of recently decoded bodies (dissect/oslo_seen.h).
 *
 * oslo.c decodes a publish and stores what came out of the body here; the
 * deliver leg of the same message carries the same bytes, so it costs a hash
 * and a memcmp instead of a JSON scan and an unescape. Slots are one array of
 * headers; values and body copies are allocated when a slot is first used and
 * reused after (a body buffer grows, never shrinks, within max_body).
 */
#include "dissect/oslo_seen.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t hash;
    size_t len; /* 0: empty */
    uint32_t tag;
    size_t cap; /* bytes allocated at body */
    uint8_t *body;
    void *val;
};

struct oslo_seen {
    struct slot *slots;
    size_t mask, val_size, max_body, max_bytes, bytes;
    oslo_seen_release_fn release;
    struct oslo_seen_stats st;
};

struct oslo_seen *oslo_seen_new(size_t slots, size_t val_size, size_t max_body, size_t max_bytes,
                                oslo_seen_release_fn release)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    struct oslo_seen *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->slots = calloc(n, sizeof(*s->slots));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->mask = n - 1;
    s->val_size = val_size;
    s->max_body = max_body;
    s->max_bytes = max_bytes;
    s->release = release;
    return s;
}

void oslo_seen_free(struct oslo_seen *s)
{
    if (!s)
        return;
    for (size_t i = 0; i <= s->mask; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->val) {
            if (sl->len && s->release)
                s->release(sl->val);
            free(sl->val);
        }
        free(sl->body);
    }
    free(s->slots);
    free(s);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

/* Two independent lanes of multiply-xor over 8-byte words: distribution is
 * all it needs (a match is confirmed by memcmp), so past 512 bytes only the
 * last 256 and 32 bytes of every 128 before them are mixed in: every oslo
 * message carries ids and a request id in that much. */
uint64_t oslo_seen_hash(const uint8_t *p, size_t len)
{
    uint64_t a = 0x243F6A8885A308D3ull ^ len, b = 0x13198A2E03707344ull;
    size_t i = 0;
    if (len > 512) {
        for (; i + 256 + 128 <= len; i += 128) {
            a = mix(a, load64(p + i) ^ load64(p + i + 16));
            b = mix(b, load64(p + i + 8) ^ load64(p + i + 24));
        }
    }
    for (; i + 16 <= len; i += 16) {
        a = mix(a, load64(p + i));
        b = mix(b, load64(p + i + 8));
    }
    uint8_t tail[16] = {0};
    memcpy(tail, p + i, len - i);
    a = mix(a, load64(tail));
    b = mix(b, load64(tail + 8));
    return mix(a, b ^ (b >> 29));
}

void *oslo_seen_find(struct oslo_seen *s, const uint8_t *body, size_t len, uint64_t hash,
                     uint32_t tag)
{
    struct slot *sl = &s->slots[hash & s->mask];
    if (len && sl->len == len && sl->hash == hash && sl->tag == tag &&
        memcmp(sl->body, body, len) == 0) {
        s->st.hits++;
        return sl->val;
    }
    s->st.misses++;
    return NULL;
}

void *oslo_seen_put(struct oslo_seen *s, const uint8_t *body, size_t len, uint64_t hash,
                    uint32_t tag)
{
    struct slot *sl = &s->slots[hash & s->mask];
    if (len == 0 || len > s->max_body) {
        s->st.not_kept++;
        return NULL;
    }
    if (sl->len) {
        if (s->release)
            s->release(sl->val);
        sl->len = 0;
        s->st.replaced++;
    }
    if (len > sl->cap) {
        if (s->bytes - sl->cap + len > s->max_bytes) {
            s->st.not_kept++;
            return NULL;
        }
        uint8_t *nb = realloc(sl->body, len);
        if (!nb) {
            s->st.not_kept++;
            return NULL;
        }
        s->bytes = s->bytes - sl->cap + len;
        sl->body = nb;
        sl->cap = len;
    }
    if (!sl->val && !(sl->val = malloc(s->val_size))) {
        s->st.not_kept++;
        return NULL;
    }
    memcpy(sl->body, body, len);
    sl->len = len;
    sl->hash = hash;
    sl->tag = tag;
    s->st.stored++;
    return sl->val;
}

const struct oslo_seen_stats *oslo_seen_stats(const struct oslo_seen *s)
{
    return &s->st;
}

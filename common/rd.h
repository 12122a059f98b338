/*
 * rd.h: the one bounds-checked cursor every parser in capture/ and dissect/
 * reads wire data through.
 *
 * A parser never indexes a packet or frame buffer directly: it asks the cursor
 * for a u8/be16/be32/be64 or a run of bytes, and the cursor answers false once
 * the data runs out (and stays failed). A length read from the wire therefore
 * cannot lead a parser past its input; the caller checks `ok` once at the end
 * or after each step and turns a failure into a counted "malformed" event.
 */
#ifndef OSLOTRACE_COMMON_RD_H
#define OSLOTRACE_COMMON_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
    const uint8_t *p;   /* next byte to read */
    const uint8_t *end; /* one past the last readable byte */
    bool ok;            /* false after any read that ran out of data */
};

static inline struct rd rd_make(const void *data, size_t len)
{
    struct rd r = {(const uint8_t *)data, (const uint8_t *)data + len, true};
    return r;
}

static inline size_t rd_left(const struct rd *r)
{
    return r->ok ? (size_t)(r->end - r->p) : 0;
}

/* Marks the cursor failed when fewer than n bytes remain; true when n are there. */
static inline bool rd_need(struct rd *r, size_t n)
{
    if (!r->ok || (size_t)(r->end - r->p) < n) {
        r->ok = false;
        return false;
    }
    return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
    if (!rd_need(r, 1))
        return 0;
    return *r->p++;
}

static inline uint16_t rd_be16(struct rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    uint16_t v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return v;
}

static inline uint32_t rd_be32(struct rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
                 (uint32_t)r->p[3];
    r->p += 4;
    return v;
}

static inline uint64_t rd_be64(struct rd *r)
{
    uint64_t hi = rd_be32(r);
    uint64_t lo = rd_be32(r);
    return hi << 32 | lo;
}

/* Returns a pointer to the next n bytes and skips them, or NULL when they are not there. */
static inline const uint8_t *rd_bytes(struct rd *r, size_t n)
{
    if (!rd_need(r, n))
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static inline bool rd_skip(struct rd *r, size_t n)
{
    return rd_bytes(r, n) != NULL || n == 0;
}

/* A sub-cursor over the next n bytes; the parent skips them. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
    const uint8_t *p = rd_bytes(r, n);
    if (!p) {
        struct rd bad = {r->end, r->end, false};
        return bad;
    }
    return rd_make(p, n);
}

#endif

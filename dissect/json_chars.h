/*
 * json_chars.h: the byte-level pieces both JSON scanners share
 * (dissect/json_scan.c reads plain JSON, dissect/json_scan_quoted.c reads
 * JSON still escaped inside another JSON string): which bytes a string can
 * hold as they are, the 16-bytes-at-a-time run of them, the one-letter
 * escapes, and the bit stack that holds object/array nesting.
 *
 * Private to those two files: static inline, so each keeps its own copy in
 * its hot loops.
 */
#ifndef OSLOTRACE_DISSECT_JSON_CHARS_H
#define OSLOTRACE_DISSECT_JSON_CHARS_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/json_scan.h"

/* Bytes that can appear in a JSON string as they are and need no further
 * look: printable ASCII other than '"' and '\\'. The hot loops of a scanner
 * that walks megabytes of args are runs of these. */
static inline bool json_plain_byte(uint8_t c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#ifdef __SSE2__
/* Bit i set when byte i of v is not plain. As signed bytes, everything >= 0x80
 * is negative, so one "less than 0x20" compare catches control bytes and
 * non-ASCII alike. */
static inline int json_stop_mask16(__m128i v)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                _mm_cmplt_epi8(v, space));
    return _mm_movemask_epi8(stop);
}
#endif

/* End of the run of plain bytes starting at p (never past end). */
static inline const uint8_t *json_plain_run(const uint8_t *p, const uint8_t *end)
{
#ifdef __SSE2__
    while (end - p >= 16) {
        int m = json_stop_mask16(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m)
            return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
#endif
    while (end - p >= 8 && json_plain_byte(p[0]) && json_plain_byte(p[1]) &&
           json_plain_byte(p[2]) && json_plain_byte(p[3]) && json_plain_byte(p[4]) &&
           json_plain_byte(p[5]) && json_plain_byte(p[6]) && json_plain_byte(p[7]))
        p += 8;
    while (p < end && json_plain_byte(*p))
        p++;
    return p;
}

/* The character a one-letter escape (the byte after the backslash) stands
 * for, or -1 when e is not one of "\/bfnrt. A table, not strchr: the inner
 * oslo message escapes every quote, so this runs for a tenth of its bytes. */
static inline int json_simple_escape(int e)
{
    static const char to[256] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                 ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};
    return (unsigned)e < 256 && to[e] ? to[e] : -1;
}

/* Object-or-array per nesting level, one bit each: depth costs bits, not C
 * stack frames (8 KiB on the caller's stack for the deepest allowed). */
struct json_bitstack {
    uint8_t bits[JSON_SCAN_MAX_DEPTH / 8];
    size_t depth;
};

static inline bool json_bs_push(struct json_bitstack *s, bool is_object)
{
    if (s->depth >= JSON_SCAN_MAX_DEPTH)
        return false;
    size_t i = s->depth++;
    if (is_object)
        s->bits[i / 8] = (uint8_t)(s->bits[i / 8] | (1u << (i % 8)));
    else
        s->bits[i / 8] = (uint8_t)(s->bits[i / 8] & ~(1u << (i % 8)));
    return true;
}

static inline bool json_bs_top_is_object(const struct json_bitstack *s)
{
    size_t i = s->depth - 1;
    return (s->bits[i / 8] >> (i % 8)) & 1u;
}

#endif

/*
 * json_plain.h: runs of the bytes a JSON string holds as they are (printable
 * ASCII but '"' and '\\'), found 16 at a time with SSE2 where there is SSE2.
 * Every stage that reads or writes JSON text spends most of its time in such
 * runs: the scanners of dissect/json_scan*.c skip them, common/json_buf.c
 * copies them.
 */
#ifndef OSLOTRACE_COMMON_JSON_PLAIN_H
#define OSLOTRACE_COMMON_JSON_PLAIN_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdbool.h>
#include <stdint.h>

/* Bytes that can appear in a JSON string as they are and need no further
 * look: printable ASCII other than '"' and '\\'. */
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

#endif

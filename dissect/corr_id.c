/*
 * corr_id.c: parsing, comparing, hashing and printing compact ids (corr_id.h).
 *
 * Hex is recognised with SSE2 compares 16 bytes at a time (x86-64's
 * baseline; a 256-entry table without it), not a chain of compares: it runs
 * for every id of every message. Only lower-case hex is packed, because that
 * is the canonical form and printing must give back the same text.
 */
#include "dissect/corr_id.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef __SSE2__
/* 16 lower-case hex digits to 8 bytes in a few vector steps: a byte is a
 * digit or a-f by signed compares (bytes >= 0x80 are negative, so never in
 * range); its value is its low nibble, plus 9 for a letter. */
static bool hex16_sse2(const uint8_t *s, __m128i *out)
{
    __m128i v = _mm_loadu_si128((const __m128i *)s);
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(v, _mm_set1_epi8('f' + 1)));
    if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xFFFF)
        return false;
    __m128i nib = _mm_add_epi8(_mm_and_si128(v, _mm_set1_epi8(0x0F)),
                               _mm_and_si128(letter, _mm_set1_epi8(9)));
    /* each 16-bit lane holds hi | lo << 8: make it hi << 4 | lo */
    *out = _mm_or_si128(_mm_and_si128(_mm_slli_epi16(nib, 4), _mm_set1_epi16(0x00F0)),
                        _mm_srli_epi16(nib, 8));
    return true;
}

/* 32 contiguous lower-case hex digits to 16 bytes. */
static bool hex32(const uint8_t *s, uint8_t out[16])
{
    __m128i a, b;
    if (!hex16_sse2(s, &a) || !hex16_sse2(s + 16, &b))
        return false;
    _mm_storeu_si128((__m128i *)out, _mm_packus_epi16(a, b));
    return true;
}
#else
/* 32 contiguous lower-case hex digits to 16 bytes. */
static bool hex32(const uint8_t *u, uint8_t out[16])
{
    static const int8_t nib[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
        ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
        ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16};
    int bad = 0;
    for (size_t j = 0; j < 16; j++) {
        int hi = nib[u[2 * j]] - 1, lo = nib[u[2 * j + 1]] - 1;
        bad |= hi | lo; /* -1 for a byte that is not a lower-case hex digit */
        out[j] = (uint8_t)((hi & 0xF) << 4 | (lo & 0xF));
    }
    return bad >= 0;
}
#endif

/* A dashed uuid (8-4-4-4-12, 36 bytes): the dashes checked, the 32 digits
 * gathered so that one contiguous parse does the rest. */
static bool uuid36(const char *s, uint8_t out[16])
{
    uint8_t h[32];
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
    memcpy(h, s, 8);
    memcpy(h + 8, s + 9, 4);
    memcpy(h + 12, s + 14, 4);
    memcpy(h + 16, s + 19, 4);
    memcpy(h + 20, s + 24, 12);
    return hex32(h, out);
}

static struct strpool_str *id_str(const struct corr_id *id)
{
    struct strpool_str *p;
    memcpy(&p, id->b, sizeof(p));
    return p;
}

bool corr_id_make(struct strpool *sp, const char *s, struct corr_id *id)
{
    size_t len = strlen(s);
    uint8_t b[16];
    memset(id, 0, sizeof(*id));
    /* The length alone says which packed form can apply. */
    if (len == 32 && hex32((const uint8_t *)s, b))
        id->form = CORR_ID_HEX;
    else if (len == 36 && uuid36(s, b))
        id->form = CORR_ID_UUID;
    else if (len == 40 && memcmp(s, "req-", 4) == 0 && uuid36(s + 4, b))
        id->form = CORR_ID_REQ_UUID;
    else {
        struct strpool_str *p = strpool_cstr(sp, s);
        if (!p)
            return false;
        id->form = CORR_ID_STR;
        memcpy(id->b, &p, sizeof(p));
        return true;
    }
    memcpy(id->b, b, 16);
    return true;
}

void corr_id_release(struct strpool *sp, struct corr_id *id)
{
    if (id->form == CORR_ID_STR)
        strpool_put(sp, id_str(id));
    id->form = CORR_ID_NONE;
}

void corr_id_retain(const struct corr_id *id)
{
    if (id->form == CORR_ID_STR)
        strpool_ref(id_str(id));
}

bool corr_id_equal(const struct corr_id *a, const struct corr_id *b)
{
    if (a->form != b->form)
        return false;
    if (a->form == CORR_ID_STR)
        return id_str(a) == id_str(b); /* pooled: equal strings share a copy */
    return memcmp(a->b, b->b, 16) == 0;
}

uint32_t corr_id_hash(const struct corr_id *id)
{
    if (id->form == CORR_ID_STR) {
        /* FNV of the text as before (the pool's chain hash is its own):
         * the correlation table's slot order follows these values. */
        const struct strpool_str *p = id_str(id);
        return strpool_hash(p->s, p->len, STRPOOL_HASH_SEED) ^ 0x9e3779b9u;
    }
    /* strpool_hash(id->b, 16, strpool_hash(&id->form, 1, seed)), the same
     * FNV-1a steps with a fixed count the compiler unrolls: it runs for
     * every table lookup. */
    uint32_t h = (STRPOOL_HASH_SEED ^ id->form) * 16777619u;
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        h = (h ^ id->b[i]) * 16777619u;
    return h;
}

/* 16 bytes to 32 lower-case hex digits (no NUL). */
static void hex_out(const uint8_t b[16], char out[32])
{
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)b);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F));
    __m128i lo = _mm_and_si128(v, _mm_set1_epi8(0x0F));
    /* nibble + '0', and 'a' - '0' - 10 more for 10..15 */
    __m128i nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '0' - 10);
    hi = _mm_add_epi8(_mm_add_epi8(hi, zero), _mm_and_si128(_mm_cmpgt_epi8(hi, nine), gap));
    lo = _mm_add_epi8(_mm_add_epi8(lo, zero), _mm_and_si128(_mm_cmpgt_epi8(lo, nine), gap));
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi8(hi, lo));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_unpackhi_epi8(hi, lo));
#else
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
#endif
}

const char *corr_id_format(const struct corr_id *id, char *buf, size_t len)
{
    char h[32];
    char *p = buf;
    if (id->form == CORR_ID_NONE)
        return NULL;
    if (id->form == CORR_ID_STR)
        return id_str(id)->s;
    if (len < sizeof("req-") + 36) { /* below CORR_ID_TEXT: the header's contract */
        if (len)
            buf[0] = '\0';
        return buf;
    }
    if (id->form == CORR_ID_HEX) {
        hex_out(id->b, buf);
        buf[32] = '\0';
        return buf;
    }
    if (id->form == CORR_ID_REQ_UUID) {
        memcpy(p, "req-", 4);
        p += 4;
    }
    hex_out(id->b, h); /* then the uuid's dashes at 8-4-4-4-12 */
    memcpy(p, h, 8);
    p[8] = '-';
    memcpy(p + 9, h + 8, 4);
    p[13] = '-';
    memcpy(p + 14, h + 12, 4);
    p[18] = '-';
    memcpy(p + 19, h + 16, 4);
    p[23] = '-';
    memcpy(p + 24, h + 20, 12);
    p[36] = '\0';
    return buf;
}

/*
 * json_buf.c: the JSON value writers behind ui/ndjson.c.
 *
 * Strings are escaped as jansson escapes them (", \, control characters as
 * \b \f \n \r \t or \u00XX, everything else verbatim) and validated as UTF-8
 * by the same rules as jansson's json_string, in one pass: plain ASCII runs
 * are copied at once. Reals go through common/real_format.c, which is %.16g
 * without printf's multi-precision path. Embedded JSON text is the one thing
 * left to jansson: it is parsed and dumped with the record's flags.
 */
#include "common/json_buf.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_plain.h"
#include "common/real_format.h"

bool jb_grow(struct jbuf *b, size_t more)
{
    if (b->failed)
        return false;
    size_t cap = b->cap ? b->cap : 2048; /* a record without bodies is about 1 KB */
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static size_t utf8_len(const unsigned char *s);

/* The same with the bytes left known: a sequence cut by the end is invalid. */
static size_t utf8_len_n(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > left)
        return 0;
    return utf8_len(s);
}

/* Length of a valid UTF-8 sequence at s (as jansson accepts it), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* One character that JSON escapes (", \\, below 0x20), as jansson writes it. */
static void jb_escape(struct jbuf *b, unsigned char c)
{
    char esc[8];
    switch (c) {
    case '"':
        jb_lit(b, "\\\"");
        break;
    case '\\':
        jb_lit(b, "\\\\");
        break;
    case '\b':
        jb_lit(b, "\\b");
        break;
    case '\f':
        jb_lit(b, "\\f");
        break;
    case '\n':
        jb_lit(b, "\\n");
        break;
    case '\r':
        jb_lit(b, "\\r");
        break;
    case '\t':
        jb_lit(b, "\\t");
        break;
    default:
        snprintf(esc, sizeof esc, "\\u%04X", c);
        jb_lit(b, esc);
        break;
    }
}

/* An invalid sequence takes back what was written of the string. */
void jb_str(struct jbuf *b, const char *s)
{
    if (!s || !jb_strn(b, s, strlen(s)))
        jb_lit(b, "null");
}

bool jb_utf8_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_len_n(p, (size_t)(end - p));
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* Wire bytes (NUL allowed, as jansson's json_stringn allows it): escaped as
 * jb_str escapes, or false with nothing written when they are not UTF-8. */
bool jb_strn(struct jbuf *b, const char *s, size_t len)
{
    size_t start = b->len;
    jb_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    for (;;) {
        /* Plain ASCII runs (most of every value) found 16 bytes at a time. */
        p = json_plain_run(p, end);
        if (p == end)
            break;
        if (*p >= 0x80) {
            size_t n = utf8_len_n(p, (size_t)(end - p));
            if (!n) {
                b->len = b->failed ? b->len : start;
                return false;
            }
            p += n;
            continue;
        }
        jb_put(b, (const char *)run, (size_t)(p - run));
        jb_escape(b, *p);
        run = ++p;
    }
    jb_put(b, (const char *)run, (size_t)(end - run));
    jb_put(b, "\"", 1);
    return true;
}

static void jb_real_prec(struct jbuf *b, double v, bool p17)
{
    char tmp[REAL_FORMAT_LEN];
    size_t n = !isfinite(v) ? 0 : p17 ? real_format_g17(v, tmp) : real_format_g16(v, tmp);
    if (n == 0) {
        jb_lit(b, "null");
        return;
    }
    char *e = memchr(tmp, 'e', n);
    if (!e) {
        jb_put(b, tmp, n);
        if (!memchr(tmp, '.', n))
            jb_lit(b, ".0");
        return;
    }
    /* jansson drops the exponent's '+' and leading zeros: 1e-07 → 1e-7, 1e+300 → 1e300. */
    const char *digits = e + 1;
    if (*digits == '+' || *digits == '-')
        digits++;
    const char *rest = digits;
    while (*rest == '0')
        rest++;
    jb_put(b, tmp, (size_t)(e + 1 - tmp));
    if (e[1] == '-')
        jb_lit(b, "-");
    jb_put(b, rest, (size_t)(tmp + n - rest));
}

void jb_real(struct jbuf *b, double v)
{
    jb_real_prec(b, v, false);
}

void jb_real17(struct jbuf *b, double v)
{
    jb_real_prec(b, v, true);
}

void jb_int(struct jbuf *b, long long v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    jb_put(b, tmp + n, sizeof tmp - n);
}

void jb_bool(struct jbuf *b, bool v)
{
    jb_lit(b, v ? "true" : "false");
}

static int dump_into(const char *s, size_t n, void *data)
{
    struct jbuf *b = data;
    jb_put(b, s, n);
    return b->failed ? -1 : 0;
}

/* JSON_ENCODE_ANY only lets a top-level scalar through, which nested in the
 * record it always was. */
#define JB_DUMP_FLAGS                                                                              \
    (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16) | JSON_ENCODE_ANY)

void jb_json_text(struct jbuf *b, const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    size_t start = b->len;
    if (v && json_dump_callback(v, dump_into, b, JB_DUMP_FLAGS) != 0 && !b->failed) {
        b->len = start; /* jansson gave up part way: as unparseable */
        json_decref(v);
        v = NULL;
    }
    if (!v)
        jb_lit(b, "null");
    json_decref(v);
}

bool jb_finish(struct jbuf *b, char **text, size_t *len)
{
    jb_put(b, "", 1);
    if (b->failed) {
        free(b->p);
        *b = (struct jbuf){0};
        return false;
    }
    *text = b->p;
    *len = b->len - 1;
    *b = (struct jbuf){0};
    return true;
}

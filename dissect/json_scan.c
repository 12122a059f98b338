/*
 * json_scan.c: the top-level JSON member scanner and string unescaper.
 *
 * One validating state machine (value / key / after-value) with an explicit
 * bit stack for object-vs-array nesting, so depth costs bits, not C stack
 * frames. Strings are skipped with a tight loop that only slows down for
 * escapes and non-ASCII bytes (validated as UTF-8: no overlongs, no
 * surrogates, nothing above U+10FFFF). Input is read through common/rd.h.
 */
#include "dissect/json_scan.h"

#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/rd.h"
#include "dissect/json_scan_parts.h"

const char *json_scan_err_name(enum json_scan_err e)
{
    static const char *const names[JSON_SCAN_ERR_COUNT] = {
        "ok", "truncated", "syntax", "invalid UTF-8", "too deep", "not an object"};
    return (unsigned)e < JSON_SCAN_ERR_COUNT ? names[e] : "?";
}

static void skip_ws(struct rd *r)
{
    int c;
    while ((c = json_peek(r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        r->p++;
}

/* Validates one UTF-8 sequence whose lead byte is at r->p (>= 0x80) and skips it;
 * *cp gets the code point. */
static enum json_scan_err utf8_seq(struct rd *r, uint32_t *cp)
{
    uint8_t b0 = rd_u8(r);
    unsigned n;
    uint32_t v, min;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 1, v = b0 & 0x1Fu, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 2, v = b0 & 0x0Fu, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 3, v = b0 & 0x07u, min = 0x10000;
    } else {
        return JSON_SCAN_ERR_UTF8;
    }
    for (unsigned i = 0; i < n; i++) {
        if (!rd_left(r))
            return JSON_SCAN_ERR_TRUNCATED;
        uint8_t b = rd_u8(r);
        if ((b & 0xC0) != 0x80)
            return JSON_SCAN_ERR_UTF8;
        v = v << 6 | (b & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return JSON_SCAN_ERR_UTF8;
    *cp = v;
    return JSON_SCAN_OK;
}

/* r->p is at the opening quote; skips the whole literal. *escaped: saw a backslash. */
static enum json_scan_err skip_string(struct rd *r, bool *escaped)
{
    r->p++; /* the quote, checked by the caller */
    *escaped = false;
    for (;;) {
        /* Fast path: plain printable ASCII. */
        if (r->ok)
            r->p = json_plain_run(r->p, r->end);
        int c = json_peek(r);
        if (c < 0)
            return JSON_SCAN_ERR_TRUNCATED;
        if (c == '"') {
            r->p++;
            return JSON_SCAN_OK;
        }
        if (c < 0x20)
            return JSON_SCAN_ERR_SYNTAX;
        if (c == '\\') {
            *escaped = true;
            r->p++;
            int e = json_peek(r);
            if (e < 0)
                return JSON_SCAN_ERR_TRUNCATED;
            r->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++) {
                    int h = json_peek(r);
                    if (h < 0)
                        return JSON_SCAN_ERR_TRUNCATED;
                    if (hex_digit(h) < 0)
                        return JSON_SCAN_ERR_SYNTAX;
                    r->p++;
                }
            } else if (json_simple_escape(e) < 0) {
                return JSON_SCAN_ERR_SYNTAX;
            }
            continue;
        }
        uint32_t cp;
        enum json_scan_err err = utf8_seq(r, &cp);
        if (err != JSON_SCAN_OK)
            return err;
    }
}

/* Skips one complete value of any type starting at r->p (after whitespace).
 * *type gets the type of the outermost value. Iterative: the bit stack holds
 * the nesting. */
static enum json_scan_err skip_value(struct rd *r, struct json_bitstack *s, enum json_type *type)
{
    enum { S_VALUE, S_KEY, S_AFTER } st = S_VALUE;
    bool esc, first = true;
    s->depth = 0;
    for (;;) {
        enum json_scan_err err = JSON_SCAN_OK;
        skip_ws(r);
        int c = json_peek(r);
        if (c < 0)
            return JSON_SCAN_ERR_TRUNCATED;
        switch (st) {
        case S_VALUE: {
            enum json_type t;
            st = S_AFTER;
            if (c == '"') {
                t = JSON_T_STRING;
                err = skip_string(r, &esc);
            } else if (c == '{' || c == '[') {
                t = c == '{' ? JSON_T_OBJECT : JSON_T_ARRAY;
                r->p++;
                if (!json_bs_push(s, c == '{'))
                    return JSON_SCAN_ERR_DEPTH;
                skip_ws(r);
                int d = json_peek(r);
                if (d == (c == '{' ? '}' : ']')) {
                    r->p++;
                    s->depth--;
                } else if (c == '{') {
                    st = S_KEY;
                } else {
                    st = S_VALUE;
                }
            } else if (c == 't') {
                t = JSON_T_TRUE;
                err = json_skip_literal(r, "true");
            } else if (c == 'f') {
                t = JSON_T_FALSE;
                err = json_skip_literal(r, "false");
            } else if (c == 'n') {
                t = JSON_T_NULL;
                err = json_skip_literal(r, "null");
            } else if (c == '-' || json_is_digit(c)) {
                t = JSON_T_NUMBER;
                err = json_skip_number(r);
            } else {
                return JSON_SCAN_ERR_SYNTAX;
            }
            if (first) {
                *type = t;
                first = false;
            }
            break;
        }
        case S_KEY:
            if (c != '"')
                return JSON_SCAN_ERR_SYNTAX;
            err = skip_string(r, &esc);
            if (err != JSON_SCAN_OK)
                return err;
            skip_ws(r);
            c = json_peek(r);
            if (c < 0)
                return JSON_SCAN_ERR_TRUNCATED;
            if (c != ':')
                return JSON_SCAN_ERR_SYNTAX;
            r->p++;
            st = S_VALUE;
            break;
        case S_AFTER:
            if (s->depth == 0)
                return JSON_SCAN_OK;
            if (c == ',') {
                r->p++;
                st = json_bs_top_is_object(s) ? S_KEY : S_VALUE;
            } else if (c == (json_bs_top_is_object(s) ? '}' : ']')) {
                r->p++;
                s->depth--;
            } else {
                return JSON_SCAN_ERR_SYNTAX;
            }
            break;
        }
        if (err != JSON_SCAN_OK)
            return err;
        if (st == S_AFTER && s->depth == 0)
            return JSON_SCAN_OK;
    }
}

static enum json_scan_err finish(struct rd *r, const uint8_t *start, size_t *err_off,
                                 enum json_scan_err err)
{
    if (err_off)
        *err_off = (size_t)(r->p - start);
    return err;
}

enum json_scan_err json_scan_object(const uint8_t *p, size_t len, json_scan_fn fn, void *user,
                                    size_t *err_off)
{
    struct rd r = rd_make(p, len);
    /* 8 KiB on the stack: a malloc per message showed in the profile. */
    struct json_bitstack stack, *s = &stack;
    enum json_scan_err err = JSON_SCAN_OK;
    skip_ws(&r);
    int c = json_peek(&r);
    if (c < 0) {
        err = JSON_SCAN_ERR_TRUNCATED;
        goto out;
    }
    if (c != '{') {
        /* Tell "valid JSON, wrong shape" apart from garbage. */
        enum json_type t;
        err = skip_value(&r, s, &t);
        if (err == JSON_SCAN_OK)
            err = JSON_SCAN_ERR_NOT_OBJECT;
        goto out;
    }
    r.p++;
    skip_ws(&r);
    if (json_peek(&r) == '}') {
        r.p++;
        goto tail;
    }
    for (;;) {
        struct json_member m;
        skip_ws(&r);
        c = json_peek(&r);
        if (c < 0) {
            err = JSON_SCAN_ERR_TRUNCATED;
            goto out;
        }
        if (c != '"') {
            err = JSON_SCAN_ERR_SYNTAX;
            goto out;
        }
        const uint8_t *k = r.p;
        m.quoted = m.val_escaped = false;
        if ((err = skip_string(&r, &m.key_escaped)) != JSON_SCAN_OK)
            goto out;
        m.key = k + 1;
        m.key_len = (size_t)(r.p - k) - 2;
        skip_ws(&r);
        c = json_peek(&r);
        if (c != ':') {
            err = c < 0 ? JSON_SCAN_ERR_TRUNCATED : JSON_SCAN_ERR_SYNTAX;
            goto out;
        }
        r.p++;
        skip_ws(&r);
        m.val = r.p;
        if ((err = skip_value(&r, s, &m.type)) != JSON_SCAN_OK)
            goto out;
        m.val_len = (size_t)(r.p - m.val);
        if (fn && !fn(user, &m))
            goto out;
        skip_ws(&r);
        c = json_peek(&r);
        if (c == ',') {
            r.p++;
            continue;
        }
        if (c == '}') {
            r.p++;
            break;
        }
        err = c < 0 ? JSON_SCAN_ERR_TRUNCATED : JSON_SCAN_ERR_SYNTAX;
        goto out;
    }
tail:
    skip_ws(&r);
    if (rd_left(&r))
        err = JSON_SCAN_ERR_SYNTAX;
out:
    return finish(&r, p, err_off, err);
}

enum json_scan_err json_scan_value(const uint8_t *p, size_t len, size_t *err_off)
{
    struct rd r = rd_make(p, len);
    struct json_bitstack s;
    enum json_type t;
    enum json_scan_err err = skip_value(&r, &s, &t);
    if (err == JSON_SCAN_OK) {
        skip_ws(&r);
        if (rd_left(&r))
            err = JSON_SCAN_ERR_SYNTAX;
    }
    return finish(&r, p, err_off, err);
}

static size_t utf8_encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static bool read_hex4(struct rd *r, uint32_t *v)
{
    const uint8_t *h = rd_bytes(r, 4);
    if (!h)
        return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int x = hex_digit(h[i]);
        if (x < 0)
            return false;
        *v = *v << 4 | (uint32_t)x;
    }
    return true;
}

/* One escape after the backslash; *cp gets the code point. */
static enum json_scan_err unescape_one(struct rd *r, uint32_t *cp)
{
    if (!rd_left(r))
        return JSON_SCAN_ERR_TRUNCATED;
    uint8_t e = rd_u8(r);
    int simple = json_simple_escape(e);
    if (simple >= 0) {
        *cp = (uint32_t)simple;
        return JSON_SCAN_OK;
    }
    if (e != 'u')
        return JSON_SCAN_ERR_SYNTAX;
    uint32_t v;
    if (!read_hex4(r, &v))
        return rd_left(r) || r->ok ? JSON_SCAN_ERR_SYNTAX : JSON_SCAN_ERR_TRUNCATED;
    if (v >= 0xD800 && v <= 0xDBFF) {
        /* A high surrogate: only a following \uDC00-\uDFFF completes it. */
        struct rd save = *r;
        uint32_t lo;
        if (rd_left(r) >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
            rd_skip(r, 2);
            if (read_hex4(r, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                *cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                return JSON_SCAN_OK;
            }
        }
        *r = save;
        v = 0xFFFD;
    } else if (v >= 0xDC00 && v <= 0xDFFF) {
        v = 0xFFFD;
    }
    *cp = v;
    return JSON_SCAN_OK;
}

enum json_scan_err json_unescape_prefix(const uint8_t *raw, size_t len, char *out, size_t cap,
                                        size_t *out_len, bool *cut, size_t *consumed)
{
    struct rd r = rd_make(raw, len);
    *consumed = 0;
    size_t n = 0;
    *cut = false;
    if (out_len)
        *out_len = 0;
    if (cap == 0)
        return JSON_SCAN_ERR_SYNTAX;
    out[0] = '\0';
    if (rd_u8(&r) != '"')
        return r.ok ? JSON_SCAN_ERR_SYNTAX : JSON_SCAN_ERR_TRUNCATED;
    for (;;) {
        uint8_t buf[4];
        size_t blen;
        if (!rd_left(&r))
            return JSON_SCAN_ERR_TRUNCATED;
#ifdef __SSE2__
        /* Plain bytes 16 at a time, stored as they are loaded (the bytes after
         * the run's end are overwritten later or lie past the NUL): the runs
         * between the escaped quotes of an inner oslo message are short, and
         * a scan then a memcpy per run cost more than the bytes themselves. */
        while (!*cut && r.end - r.p >= 16 && cap - n > 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)r.p);
            _mm_storeu_si128((__m128i *)(void *)(out + n), v);
            int m = json_stop_mask16(v);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz((unsigned)m);
                r.p += k;
                n += k;
                break;
            }
            r.p += 16;
            n += 16;
        }
        if (!rd_left(&r))
            return JSON_SCAN_ERR_TRUNCATED; /* the copy above ran to the end */
#endif
        /* A one-letter escape, the commonest stop inside an inner message. */
        if (rd_left(&r) >= 2 && r.p[0] == '\\' && json_simple_escape(r.p[1]) >= 0) {
            char e = (char)json_simple_escape(r.p[1]);
            r.p += 2;
            if (!*cut && n + 1 < cap)
                out[n++] = e;
            else
                *cut = true;
            continue;
        }
        /* A run of plain ASCII is copied at once (what fits). */
        const uint8_t *run_end = json_plain_run(r.p, r.end);
        if (run_end != r.p) {
            size_t rl = (size_t)(run_end - r.p);
            size_t room = *cut || n + 1 >= cap ? 0 : cap - 1 - n;
            size_t take = rl < room ? rl : room;
            memcpy(out + n, r.p, take);
            n += take;
            if (take < rl)
                *cut = true; /* keep validating to the end of the literal */
            r.p = run_end;
            continue;
        }
        uint8_t c = r.p[0];
        if (c == '"') {
            r.p++;
            break;
        }
        if (c < 0x20)
            return JSON_SCAN_ERR_SYNTAX;
        if (c == '\\') {
            uint32_t cp;
            r.p++;
            enum json_scan_err err = unescape_one(&r, &cp);
            if (err != JSON_SCAN_OK)
                return err;
            blen = utf8_encode(cp, buf);
        } else if (c < 0x80) {
            buf[0] = c;
            blen = 1;
            r.p++;
        } else {
            const uint8_t *s = r.p;
            uint32_t cp;
            enum json_scan_err err = utf8_seq(&r, &cp);
            if (err != JSON_SCAN_OK)
                return err;
            blen = (size_t)(r.p - s);
            memcpy(buf, s, blen);
        }
        if (!*cut && n + blen < cap) {
            memcpy(out + n, buf, blen);
            n += blen;
        } else {
            *cut = true; /* keep validating to the end of the literal */
        }
    }
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    *consumed = (size_t)(r.p - raw);
    return JSON_SCAN_OK;
}

enum json_scan_err json_unescape(const uint8_t *raw, size_t len, char *out, size_t cap,
                                 size_t *out_len, bool *cut)
{
    size_t used;
    enum json_scan_err err = json_unescape_prefix(raw, len, out, cap, out_len, cut, &used);
    return err == JSON_SCAN_OK && used != len ? JSON_SCAN_ERR_SYNTAX : err;
}

bool json_key_is_escaped(const struct json_member *m, const char *name, size_t nl)
{
    /* Rare: an escaped key. Decode it (bounded) and compare. */
    char buf[256];
    size_t blen;
    bool cut;
    if (m->key_len + 2 > 4096 || nl >= sizeof(buf))
        return false;
    /* json_unescape wants the quotes: m->key - 1 .. m->key + key_len + 1 are the quotes. */
    if (json_unescape(m->key - 1, m->key_len + 2, buf, sizeof(buf), &blen, &cut) != JSON_SCAN_OK ||
        cut)
        return false;
    return blen == nl && memcmp(buf, name, nl) == 0;
}

bool json_number(const uint8_t *raw, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, raw, len);
    buf[len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + len;
}

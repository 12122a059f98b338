/*
 * json_scan_parts.h: the pieces both JSON scanners share (dissect/json_scan.c
 * reads plain JSON, dissect/json_scan_quoted.c reads JSON still escaped
 * inside another JSON string): the cursor's peek, numbers and the literals
 * true/false/null (no escapes in them, so read alike), the one-letter escapes and
 * the bit stack that holds object/array nesting; common/json_plain.h has the runs of plain bytes.
 *
 * Private to those two files: static inline, so each keeps its own copy in
 * its hot loops.
 */
#ifndef OSLOTRACE_DISSECT_JSON_SCAN_PARTS_H
#define OSLOTRACE_DISSECT_JSON_SCAN_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json_plain.h"
#include "common/rd.h"
#include "dissect/json_scan.h"

/* Next byte without consuming it, -1 at the end. */
static inline int json_peek(const struct rd *r)
{
    return rd_left(r) ? r->p[0] : -1;
}

static inline bool json_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Strict JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? A number holds no
 * escapes, so both scanners read it alike. */
static inline enum json_scan_err json_skip_number(struct rd *r)
{
    if (json_peek(r) == '-')
        r->p++;
    int c = json_peek(r);
    if (c < 0)
        return JSON_SCAN_ERR_TRUNCATED;
    if (c == '0') {
        r->p++;
    } else if (json_is_digit(c)) {
        while (json_is_digit(json_peek(r)))
            r->p++;
    } else {
        return JSON_SCAN_ERR_SYNTAX;
    }
    if (json_peek(r) == '.') {
        r->p++;
        if (json_peek(r) < 0)
            return JSON_SCAN_ERR_TRUNCATED;
        if (!json_is_digit(json_peek(r)))
            return JSON_SCAN_ERR_SYNTAX;
        while (json_is_digit(json_peek(r)))
            r->p++;
    }
    c = json_peek(r);
    if (c == 'e' || c == 'E') {
        r->p++;
        c = json_peek(r);
        if (c == '+' || c == '-')
            r->p++;
        if (json_peek(r) < 0)
            return JSON_SCAN_ERR_TRUNCATED;
        if (!json_is_digit(json_peek(r)))
            return JSON_SCAN_ERR_SYNTAX;
        while (json_is_digit(json_peek(r)))
            r->p++;
    }
    return JSON_SCAN_OK;
}

/* true, false or null, the word given. */
static inline enum json_scan_err json_skip_literal(struct rd *r, const char *word)
{
    for (const char *w = word; *w; w++) {
        int c = json_peek(r);
        if (c < 0)
            return JSON_SCAN_ERR_TRUNCATED;
        if (c != *w)
            return JSON_SCAN_ERR_SYNTAX;
        r->p++;
    }
    return JSON_SCAN_OK;
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

/*
 * json_scan_parts.h: the pieces both JSON scanners share (dissect/json_scan.c
 * reads plain JSON, dissect/json_scan_quoted.c reads JSON still escaped
 * inside another JSON string): the one-letter escapes and the bit stack that
 * holds object/array nesting; common/json_plain.h has the runs of plain bytes.
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
#include "dissect/json_scan.h"

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

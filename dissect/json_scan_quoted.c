/*
 * json_scan_quoted.c: json_scan_quoted_object (dissect/json_scan.h), the
 * top-level member scanner for a JSON object that is the content of another
 * JSON string, read in place.
 *
 * Why: oslo.messaging's v2 envelope carries every message as a string
 * ("oslo.message": "{\"_msg_id\": ...}"). Unescaping that string into a buffer
 * and then scanning the buffer walked every byte twice and wrote it once;
 * the record needs a dozen short values out of it. Here the escaped text is
 * scanned once: the inner JSON's quotes are \" in the outer text, its own
 * escapes are \\ followed by the escaped character as the outer text writes
 * it (\\\" for a quote, \\\\ for a backslash, \\n, \\u00e9...).
 *
 * The form json.dumps produces is handled: ASCII text, spaces between tokens,
 * keys without escapes. Everything else (a raw non-ASCII byte, an escape of
 * the outer string alone such as \n or \u00e9, an escaped key) and every error
 * returns false, and the caller takes the unescape-then-scan path, so which
 * path ran never changes a result or an error. Numbers and literals are read
 * by the pieces json_scan.c uses (dissect/json_scan_parts.h); the walk of
 * values mirrors its skip_value state machine, with strings that start at \".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hex.h"
#include "common/rd.h"
#include "dissect/json_scan.h"
#include "dissect/json_scan_parts.h"

/* The cursor (common/rd.h) runs over the outer string's text; a bare '"' is
 * where that string ends. */

/* Whitespace between inner tokens: only a space can stand there unescaped
 * (a tab or newline would be written \t, \n in the outer text: not handled). */
static inline void qskip_ws(struct rd *r)
{
    while (r->p < r->end && *r->p == ' ')
        r->p++;
}

/* At \" : an inner string starts (or ends) here. */
static inline bool q_at_quote(const struct rd *r)
{
    return r->end - r->p >= 2 && r->p[0] == '\\' && r->p[1] == '"';
}

/* The inner escape's character after its backslash, as the outer text writes
 * it: \" or \\ (the outer string's escapes of '"' and '\\'), a letter of
 * /bfnrt, or u and four hex digits. */
static bool q_skip_inner_escape(struct rd *r)
{
    if (r->p >= r->end)
        return false;
    uint8_t e = *r->p;
    if (e == '\\') {
        if (r->end - r->p < 2 || (r->p[1] != '"' && r->p[1] != '\\'))
            return false;
        r->p += 2;
        return true;
    }
    if (e == 'u') {
        if (r->end - r->p < 5)
            return false;
        for (int i = 1; i <= 4; i++)
            if (hex_digit(r->p[i]) < 0)
                return false;
        r->p += 5;
        return true;
    }
    if (e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        r->p++;
        return true;
    }
    return false;
}

/* At \" : skips the inner string through its closing \". *escaped: it holds
 * escapes of its own. */
static bool q_skip_string(struct rd *r, bool *escaped)
{
    r->p += 2;
    *escaped = false;
    for (;;) {
        r->p = json_plain_run(r->p, r->end);
        /* Stopped at the end, a bare quote (the outer string ended inside an
         * inner one), a control or non-ASCII byte, or a backslash. */
        if (r->end - r->p < 2 || r->p[0] != '\\')
            return false;
        uint8_t d = r->p[1];
        r->p += 2;
        if (d == '"')
            return true;
        if (d != '\\')
            return false; /* the outer string's own escape (\n, \u00e9, \/...) */
        *escaped = true;
        if (!q_skip_inner_escape(r))
            return false;
    }
}

/* One complete value; *type of the outermost, *escaped for a string value. */
static bool q_skip_value(struct rd *r, struct json_bitstack *s, enum json_type *type, bool *escaped)
{
    enum { S_VALUE, S_KEY, S_AFTER } st = S_VALUE;
    bool first = true, esc;
    *escaped = false;
    s->depth = 0;
    for (;;) {
        qskip_ws(r);
        int c = json_peek(r);
        if (c < 0)
            return false;
        bool ok = true;
        switch (st) {
        case S_VALUE: {
            enum json_type t;
            st = S_AFTER;
            if (c == '\\') {
                if (!q_at_quote(r))
                    return false;
                t = JSON_T_STRING;
                ok = q_skip_string(r, &esc);
                if (first)
                    *escaped = esc;
            } else if (c == '{' || c == '[') {
                t = c == '{' ? JSON_T_OBJECT : JSON_T_ARRAY;
                r->p++;
                if (!json_bs_push(s, c == '{'))
                    return false;
                qskip_ws(r);
                if (json_peek(r) == (c == '{' ? '}' : ']')) {
                    r->p++;
                    s->depth--;
                } else {
                    st = c == '{' ? S_KEY : S_VALUE;
                }
            } else if (c == 't') {
                t = JSON_T_TRUE;
                ok = json_skip_literal(r, "true") == JSON_SCAN_OK;
            } else if (c == 'f') {
                t = JSON_T_FALSE;
                ok = json_skip_literal(r, "false") == JSON_SCAN_OK;
            } else if (c == 'n') {
                t = JSON_T_NULL;
                ok = json_skip_literal(r, "null") == JSON_SCAN_OK;
            } else if (c == '-' || json_is_digit(c)) {
                t = JSON_T_NUMBER;
                ok = json_skip_number(r) == JSON_SCAN_OK;
            } else {
                return false;
            }
            if (first) {
                *type = t;
                first = false;
            }
            break;
        }
        case S_KEY:
            if (!q_at_quote(r) || !q_skip_string(r, &esc))
                return false;
            qskip_ws(r);
            if (json_peek(r) != ':')
                return false;
            r->p++;
            st = S_VALUE;
            break;
        case S_AFTER:
            if (c == ',') {
                r->p++;
                st = json_bs_top_is_object(s) ? S_KEY : S_VALUE;
            } else if (c == (json_bs_top_is_object(s) ? '}' : ']')) {
                r->p++;
                s->depth--;
            } else {
                return false;
            }
            break;
        }
        if (!ok)
            return false;
        if (st == S_AFTER && s->depth == 0)
            return true;
    }
}

bool json_scan_quoted_object(const uint8_t *p, size_t len, json_scan_fn fn, void *user,
                             size_t *consumed)
{
    struct rd r = rd_make(p, len);
    struct json_bitstack stack; /* 8 KiB on the stack, as json_scan_object */
    if (len == 0 || p[0] != '"')
        return false;
    r.p++;
    qskip_ws(&r);
    if (json_peek(&r) != '{')
        return false;
    r.p++;
    qskip_ws(&r);
    if (json_peek(&r) == '}') {
        r.p++;
    } else {
        for (;;) {
            struct json_member m;
            qskip_ws(&r);
            if (!q_at_quote(&r))
                return false;
            const uint8_t *k = r.p;
            if (!q_skip_string(&r, &m.key_escaped) || m.key_escaped)
                return false;
            m.key = k + 2;
            m.key_len = (size_t)(r.p - k) - 4;
            qskip_ws(&r);
            if (json_peek(&r) != ':')
                return false;
            r.p++;
            qskip_ws(&r);
            m.val = r.p;
            m.quoted = true;
            if (!q_skip_value(&r, &stack, &m.type, &m.val_escaped))
                return false;
            m.val_len = (size_t)(r.p - m.val);
            if (fn && !fn(user, &m))
                return false;
            qskip_ws(&r);
            int c = json_peek(&r);
            if (c == ',') {
                r.p++;
                continue;
            }
            if (c != '}')
                return false;
            r.p++;
            break;
        }
    }
    qskip_ws(&r);
    if (json_peek(&r) != '"')
        return false;
    *consumed = (size_t)(r.p + 1 - p);
    return true;
}

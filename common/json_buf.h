/*
 * json_buf.h: JSON text written straight into a growing buffer.
 *
 * The NDJSON record (ui/ndjson.c) is written with these instead of building a
 * jansson tree and dumping it: one pass, no allocation per value. Each writer
 * prints a value exactly as jansson's json_dumps prints it with JSON_COMPACT
 * and JSON_REAL_PRECISION(16), so the output did not change when the tree
 * went away. An allocation failure is sticky: later writes do nothing and
 * jb_finish() reports it once.
 */
#ifndef OSLOTRACE_COMMON_JSON_BUF_H
#define OSLOTRACE_COMMON_JSON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

/* Grows the buffer for `more` bytes; false (and failed set) when it cannot. */
bool jb_grow(struct jbuf *b, size_t more);
/* Raw bytes and literal text (punctuation, "null", "true", keys known to be
 * plain ASCII). Inline: a record is a few hundred of these. */
static inline void jb_put(struct jbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap && !jb_grow(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
}
static inline void jb_lit(struct jbuf *b, const char *s)
{
    jb_put(b, s, strlen(s));
}
/* A NUL-terminated string as a JSON string; null for NULL and for text that
 * is not valid UTF-8 (jansson's json_string refuses it). */
void jb_str(struct jbuf *b, const char *s);
/* A real as jansson prints it: %.16g, ".0" when that looks like an integer,
 * the exponent without '+' or leading zeros (1e-7, 1e300); null when not
 * finite. */
void jb_real(struct jbuf *b, double v);
/* The same with JSON_REAL_PRECISION(17) (%.17g). */
void jb_real17(struct jbuf *b, double v);
/* len bytes as a JSON string, NUL included (\u0000), as json_stringn + dump
 * print them; false with nothing written when they are not valid UTF-8. */
bool jb_strn(struct jbuf *b, const char *s, size_t len);
/* True when len bytes are valid UTF-8 by jansson's rules (NUL allowed). */
bool jb_utf8_ok(const char *s, size_t len);
void jb_int(struct jbuf *b, long long v);
void jb_bool(struct jbuf *b, bool v);
/* `"key":` with a leading comma unless first; key is plain ASCII. Inline,
 * with one room check: every value of a record comes after one. */
static inline void jb_key(struct jbuf *b, const char *key, bool first)
{
    size_t n = strlen(key);
    if (b->len + n + 4 > b->cap && !jb_grow(b, n + 4))
        return;
    char *o = b->p + b->len;
    if (!first)
        *o++ = ',';
    *o++ = '"';
    memcpy(o, key, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    b->len = (size_t)(o - b->p);
}
/* JSON text (a whole document, any type) re-printed as jansson prints it, so
 * it nests as JSON; null when it does not parse. */
void jb_json_text(struct jbuf *b, const char *text);
/* NUL-terminates and hands over the text (*len without the NUL); false, with
 * the buffer freed, when any write failed. */
bool jb_finish(struct jbuf *b, char **text, size_t *len);

#endif

/*
 * json_scan.h: a validating, non-allocating scanner for the top level of a
 * JSON object, and a bounded string unescaper.
 *
 * The oslo stage needs a handful of top-level keys (_msg_id, method, ending…)
 * that may sit after a megabyte of `args`. Building a tree for that is waste,
 * so the scanner walks the text once, hands each top-level member to a
 * callback as raw spans, and skips nested values without recursion (an
 * explicit bit stack, so a 50,000-deep document costs 8 KiB, not the C
 * stack). It still validates the whole grammar and UTF-8, so "scanned OK"
 * means "jansson would accept it too" (up to jansson's own depth limit).
 */
#ifndef OSLOTRACE_DISSECT_JSON_SCAN_H
#define OSLOTRACE_DISSECT_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Nesting deeper than this is an error (the bit stack is this many bits). */
#define JSON_SCAN_MAX_DEPTH 65536

enum json_scan_err {
    JSON_SCAN_OK,
    JSON_SCAN_ERR_TRUNCATED,  /* the text ended inside a value */
    JSON_SCAN_ERR_SYNTAX,     /* not JSON */
    JSON_SCAN_ERR_UTF8,       /* a string holds bytes that are not UTF-8 */
    JSON_SCAN_ERR_DEPTH,      /* nested deeper than JSON_SCAN_MAX_DEPTH */
    JSON_SCAN_ERR_NOT_OBJECT, /* valid start, but the top level is not an object */
    JSON_SCAN_ERR_COUNT
};

const char *json_scan_err_name(enum json_scan_err e);

enum json_type {
    JSON_T_STRING,
    JSON_T_NUMBER,
    JSON_T_TRUE,
    JSON_T_FALSE,
    JSON_T_NULL,
    JSON_T_OBJECT,
    JSON_T_ARRAY,
};

/* One top-level member, as spans of the input text (valid during the callback). */
struct json_member {
    const uint8_t *key; /* between the quotes, still escaped */
    size_t key_len;
    bool key_escaped; /* the key contains a backslash escape */
    enum json_type type;
    const uint8_t *val; /* the raw value; strings include their quotes */
    size_t val_len;
    /* From json_scan_quoted_object: key and val are spans of the text still
     * escaped inside the outer string (a string value keeps its \" quotes),
     * and val_escaped says whether a string value holds escapes of its own.
     * false (both) from json_scan_object. */
    bool quoted, val_escaped;
};

/* Return false to stop the scan early (json_scan_object then returns JSON_SCAN_OK). */
typedef bool (*json_scan_fn)(void *user, const struct json_member *m);

/* Scans `len` bytes that must hold exactly one JSON object (whitespace around
 * it allowed) and calls fn for each top-level member in order. Members seen
 * before an error were already reported. *err_off (may be NULL) gets the byte
 * offset where scanning stopped. */
enum json_scan_err json_scan_object(const uint8_t *p, size_t len, json_scan_fn fn, void *user,
                                    size_t *err_off);

/* The same for an object that is itself the content of a JSON string, read
 * where it lies instead of unescaped first: oslo.messaging's envelope carries
 * the message as {"oslo.message": "{\"_msg_id\": \"...\", ...}"}. p[0..len)
 * starts at that string's opening quote; *consumed gets the length through its
 * closing quote. Only the common form is handled: ASCII text whose only
 * escapes are the quotes and backslashes of the inner JSON, keys without
 * escapes, the inner JSON's own escapes inside its strings. Anything else, and
 * every error, returns false: the caller then unescapes the string and runs
 * json_scan_object, which decides the error. When true, json_scan_object on
 * the unescaped string would have reported the same members (differential
 * fuzz target tests/fuzz/fuzz_json_quoted.c). fn may return false to stop;
 * the result is then false too. */
bool json_scan_quoted_object(const uint8_t *p, size_t len, json_scan_fn fn, void *user,
                             size_t *consumed);

/* Validates one complete JSON value of any type (the same grammar, iterative). */
enum json_scan_err json_scan_value(const uint8_t *p, size_t len, size_t *err_off);

/* Decodes the JSON string literal raw[0..len) (quotes included, as in
 * json_member.val) into out, NUL-terminated, at most cap-1 bytes, never
 * splitting a UTF-8 sequence; *cut is set when it did not fit. Lone UTF-16
 * surrogate escapes become U+FFFD. \u0000 is kept as a NUL byte, so *out_len
 * is the length to use. Returns JSON_SCAN_OK or the reason the literal is bad. */
enum json_scan_err json_unescape(const uint8_t *raw, size_t len, char *out, size_t cap,
                                 size_t *out_len, bool *cut);

/* The same for a literal at the start of raw[0..len) that may be followed by
 * more text: *consumed gets the literal's length, closing quote included. */
enum json_scan_err json_unescape_prefix(const uint8_t *raw, size_t len, char *out, size_t cap,
                                        size_t *out_len, bool *cut, size_t *consumed);
/* True when the raw (escaped) key equals the NUL-terminated name. Escaped keys
 * are compared after decoding them (bounded). */
bool json_key_is_escaped(const struct json_member *m, const char *name, size_t name_len);
/* Inline so that a literal name's length folds away: the decoder asks this of
 * every top-level key for each wanted name. */
#if defined(__GNUC__)
#define JSON_SCAN_INLINE static inline __attribute__((always_inline))
#else
#define JSON_SCAN_INLINE static inline
#endif
JSON_SCAN_INLINE bool json_key_is(const struct json_member *m, const char *name)
{
    size_t nl = strlen(name);
    if (!m->key_escaped)
        return m->key_len == nl && memcmp(m->key, name, nl) == 0;
    return json_key_is_escaped(m, name, nl);
}

/* Parses a JSON number span into a double; false if it is not a number. */
bool json_number(const uint8_t *raw, size_t len, double *out);

#endif

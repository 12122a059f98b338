/*
 * json_skel.c: a byte-at-a-time state machine over one JSON object that keeps
 * its top-level members in a compact copy (see json_skel.h).
 *
 * Two levels share one structure: level 0 reads the body; a top-level string
 * that starts with `{` is unescaped into level 1, whose skeleton is escaped
 * back into level 0's output when the string ends. Validation is light (the
 * structure, not every grammar rule): the dialect decoding the skeleton runs
 * the full scanner over it anyway, and rejects what is not JSON.
 */
#include "dissect/json_skel.h"

#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

#define KEY_MAX 128
#define TAIL 16 /* room kept for the closing bytes */
#define SCALAR_MAX 64

enum skel_state {
    S_START,    /* before the opening brace */
    S_FIRST,    /* after `{`: a key or `}` */
    S_KEY_OPEN, /* after `,`: a key */
    S_KEY,      /* inside a key */
    S_COLON,
    S_VALUE,
    S_STR,    /* inside a string value, copied */
    S_EXPAND, /* inside a string value holding an object, unescaped into level 1 */
    S_SCALAR,
    S_NESTED, /* inside a nested object or array, skipped */
    S_AFTER,  /* after a value: `,` or `}` */
    S_DONE,
    S_FAILED
};

struct skel_level {
    enum skel_state state;
    uint32_t depth;   /* S_NESTED */
    bool in_str;      /* S_NESTED: inside a string */
    uint8_t esc;      /* 0, 1 after a backslash, 2..5 inside \uXXXX */
    uint32_t uacc;    /* S_EXPAND: the \u code point so far */
    bool str_cut;     /* S_STR: stopped copying */
    bool str_started; /* S_STR: the first content byte was seen */
    bool drop;        /* this member does not fit: roll back at its end */
    bool key_long;    /* the key is over KEY_MAX: the member is dropped */
    uint8_t key[KEY_MAX];
    size_t key_len, str_len, mark;
    unsigned members;
    uint8_t *out;
    size_t out_len, out_cap;
};

struct json_skel {
    struct skel_level lv[2];
};

struct json_skel *json_skel_new(void)
{
    return calloc(1, sizeof(struct json_skel));
}

void json_skel_free(struct json_skel *s)
{
    if (!s)
        return;
    free(s->lv[0].out);
    free(s->lv[1].out);
    free(s);
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool put_lim(struct skel_level *l, const void *p, size_t n, size_t limit)
{
    if (l->drop)
        return false;
    if (l->out_len + n > limit) {
        l->drop = true;
        return false;
    }
    if (l->out_len + n > l->out_cap) {
        size_t cap = l->out_cap ? l->out_cap * 2 : 1024;
        while (cap < l->out_len + n)
            cap *= 2;
        if (cap > JSON_SKEL_OUT_MAX)
            cap = JSON_SKEL_OUT_MAX;
        uint8_t *nb = realloc(l->out, cap);
        if (!nb) {
            l->drop = true;
            return false;
        }
        l->out = nb;
        l->out_cap = cap;
    }
    memcpy(l->out + l->out_len, p, n);
    l->out_len += n;
    return true;
}

/* Member bytes leave TAIL bytes free so the closing brace always fits. */
static bool put(struct skel_level *l, const void *p, size_t n)
{
    return put_lim(l, p, n, JSON_SKEL_OUT_MAX - TAIL);
}

static void put_c(struct skel_level *l, uint8_t c)
{
    put(l, &c, 1);
}

static void level_reset(struct skel_level *l)
{
    uint8_t *out = l->out;
    size_t cap = l->out_cap;
    memset(l, 0, sizeof(*l));
    l->out = out;
    l->out_cap = cap;
}

/* Starts a member's value: `,"key":` (or rolls it back later). */
static void member_begin(struct skel_level *l)
{
    l->mark = l->out_len;
    l->drop = l->key_long;
    if (l->members)
        put_c(l, ',');
    put_c(l, '"');
    put(l, l->key, l->key_len);
    put(l, "\":", 2);
}

static void member_end(struct skel_level *l)
{
    if (l->drop)
        l->out_len = l->mark;
    else
        l->members++;
    l->drop = false;
    l->state = S_AFTER;
}

static void level_feed(struct json_skel *s, int li, uint8_t c);

/* Level 0's expanded string ended: level 1's skeleton, escaped, is the value. */
static void expand_end(struct json_skel *s)
{
    struct skel_level *l = &s->lv[0];
    struct skel_level *in = &s->lv[1];
    if (in->state != S_DONE) {
        put(l, "null", 4);
        return;
    }
    put_c(l, '"');
    for (size_t i = 0; i < in->out_len && !l->drop; i++) {
        uint8_t c = in->out[i];
        if (c == '"' || c == '\\')
            put_c(l, '\\');
        put_c(l, c);
    }
    put_c(l, '"');
}

static void put_utf8(struct json_skel *s, uint32_t cp)
{
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD; /* surrogates: never part of a key the dialects read */
    if (cp < 0x80) {
        level_feed(s, 1, (uint8_t)cp);
    } else if (cp < 0x800) {
        level_feed(s, 1, (uint8_t)(0xC0 | (cp >> 6)));
        level_feed(s, 1, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        level_feed(s, 1, (uint8_t)(0xE0 | (cp >> 12)));
        level_feed(s, 1, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        level_feed(s, 1, (uint8_t)(0x80 | (cp & 0x3F)));
    }
}

/* One byte of an expanded string's escaped text: unescaped into level 1. */
static void expand_byte(struct json_skel *s, uint8_t c)
{
    struct skel_level *l = &s->lv[0];
    if (l->esc >= 2) {
        int h = hex_digit(c);
        if (h < 0) {
            s->lv[1].state = S_FAILED;
            l->esc = 0;
            return;
        }
        l->uacc = l->uacc << 4 | (uint32_t)h;
        if (++l->esc == 6) {
            l->esc = 0;
            put_utf8(s, l->uacc);
        }
        return;
    }
    if (l->esc == 1) {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = c ? strchr(from, c) : NULL;
        l->esc = 0;
        if (c == 'u') {
            l->esc = 2;
            l->uacc = 0;
        } else if (k) {
            level_feed(s, 1, (uint8_t)to[k - from]);
        } else {
            s->lv[1].state = S_FAILED;
        }
        return;
    }
    if (c == '\\') {
        l->esc = 1;
    } else if (c == '"') {
        expand_end(s);
        member_end(l);
    } else {
        level_feed(s, 1, c);
    }
}

/* One byte of a copied string value (after its opening quote). */
static void str_byte(struct json_skel *s, int li, uint8_t c)
{
    struct skel_level *l = &s->lv[li];
    bool closing = l->esc == 0 && c == '"';
    if (!l->str_started) {
        l->str_started = true;
        if (li == 0 && c == '{') {
            /* An object inside a string: skeletonise it too. */
            l->state = S_EXPAND;
            level_reset(&s->lv[1]);
            level_feed(s, 1, c);
            return;
        }
        put_c(l, '"');
    }
    if (closing) {
        put_c(l, '"');
        member_end(l);
        return;
    }
    bool clean = l->esc == 0 && (c & 0xC0) != 0x80;
    if (!l->str_cut && l->str_len >= JSON_SKEL_STR_MAX && clean)
        l->str_cut = true;
    if (!l->str_cut) {
        put_c(l, c);
        l->str_len++;
    }
    if (l->esc == 1)
        l->esc = c == 'u' ? 2 : 0;
    else if (l->esc >= 2)
        l->esc = l->esc == 5 ? 0 : (uint8_t)(l->esc + 1);
    else if (c == '\\')
        l->esc = 1;
}

static void nested_byte(struct skel_level *l, uint8_t c)
{
    if (l->in_str) {
        if (l->esc)
            l->esc = 0;
        else if (c == '\\')
            l->esc = 1;
        else if (c == '"')
            l->in_str = false;
        return;
    }
    if (c == '"')
        l->in_str = true;
    else if (c == '{' || c == '[')
        l->depth++;
    else if ((c == '}' || c == ']') && --l->depth == 0)
        member_end(l);
}

static void value_start(struct json_skel *s, int li, uint8_t c)
{
    struct skel_level *l = &s->lv[li];
    member_begin(l);
    if (c == '"') {
        l->state = S_STR; /* the opening quote is written with the first byte */
        l->esc = 0;
        l->str_len = 0;
        l->str_cut = l->str_started = false;
    } else if (c == '{' || c == '[') {
        put(l, c == '{' ? "{}" : "[]", 2);
        l->state = S_NESTED;
        l->depth = 1;
        l->in_str = false;
        l->esc = 0;
    } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
        put_c(l, c);
        l->str_len = 1;
        l->state = S_SCALAR;
    } else {
        l->state = S_FAILED;
    }
}

static void level_feed(struct json_skel *s, int li, uint8_t c)
{
    struct skel_level *l = &s->lv[li];
    switch (l->state) {
    case S_START:
        if (c == '{') {
            put_c(l, '{');
            l->state = S_FIRST;
        } else if (!is_ws(c)) {
            l->state = S_FAILED;
        }
        break;
    case S_FIRST:
    case S_KEY_OPEN:
        if (c == '"') {
            l->key_len = 0;
            l->key_long = false;
            l->drop = false;
            l->esc = 0;
            l->state = S_KEY;
        } else if (c == '}' && l->state == S_FIRST) {
            put_c(l, '}');
            l->state = S_DONE;
        } else if (!is_ws(c)) {
            l->state = S_FAILED;
        }
        break;
    case S_KEY:
        if (l->esc == 0 && c == '"') {
            l->state = S_COLON;
            break;
        }
        if (l->key_len < KEY_MAX)
            l->key[l->key_len++] = c;
        else
            l->key_long = true; /* no key the dialects read is that long */
        l->esc = l->esc ? 0 : c == '\\';
        break;
    case S_COLON:
        if (c == ':')
            l->state = S_VALUE;
        else if (!is_ws(c))
            l->state = S_FAILED;
        break;
    case S_VALUE:
        if (!is_ws(c))
            value_start(s, li, c);
        break;
    case S_STR:
        str_byte(s, li, c);
        break;
    case S_EXPAND:
        expand_byte(s, c);
        break;
    case S_SCALAR:
        if (c == ',' || c == '}' || is_ws(c)) {
            member_end(l);
            level_feed(s, li, c);
        } else if (++l->str_len > SCALAR_MAX) {
            l->state = S_FAILED;
        } else {
            put_c(l, c);
        }
        break;
    case S_NESTED:
        nested_byte(l, c);
        break;
    case S_AFTER:
        if (c == ',') {
            l->state = S_KEY_OPEN;
        } else if (c == '}') {
            l->drop = false;
            put_lim(l, "}", 1, JSON_SKEL_OUT_MAX);
            l->state = S_DONE;
        } else if (!is_ws(c)) {
            l->state = S_FAILED;
        }
        break;
    case S_DONE:
        if (!is_ws(c))
            l->state = S_FAILED;
        break;
    case S_FAILED:
        break;
    }
}

void json_skel_feed(struct json_skel *s, const uint8_t *p, size_t n)
{
    struct skel_level *l = &s->lv[0];
    for (size_t i = 0; i < n && l->state != S_FAILED; i++) {
        if (l->state == S_NESTED && !l->in_str) {
            /* Skip runs that cannot change the depth. */
            while (i < n && p[i] != '"' && p[i] != '{' && p[i] != '[' && p[i] != '}' && p[i] != ']')
                i++;
            if (i == n)
                break;
        }
        level_feed(s, 0, p[i]);
    }
}

const uint8_t *json_skel_result(const struct json_skel *s, size_t *len)
{
    const struct skel_level *l = &s->lv[0];
    if (l->state != S_DONE || l->drop)
        return NULL;
    *len = l->out_len;
    return l->out;
}

/*
 * corr_id.c: parsing, comparing, hashing and printing compact ids (corr_id.h).
 *
 * Hex is recognised with a 256-entry table, not a chain of compares: it runs
 * for every id of every message. Only lower-case hex is packed, because that
 * is the canonical form and printing must give back the same text.
 */
#include "dissect/corr_id.h"

#include <string.h>

/* 32 lower-case hex digits, optionally with uuid dashes at 8-4-4-4-12. */
static bool parse_hex(const char *s, size_t len, bool dashed, uint8_t out[16])
{
    static const int8_t nib[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
        ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
        ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16};
    if (len != (dashed ? 36u : 32u))
        return false;
    if (dashed && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-'))
        return false;
    const uint8_t *u = (const uint8_t *)s;
    int bad = 0;
    for (size_t i = 0, j = 0; j < 16; j++) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23))
            i++;
        int hi = nib[u[i]] - 1, lo = nib[u[i + 1]] - 1;
        bad |= hi | lo; /* -1 for a byte that is not a lower-case hex digit */
        out[j] = (uint8_t)((hi & 0xF) << 4 | (lo & 0xF));
        i += 2;
    }
    return bad >= 0;
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
    memset(id, 0, sizeof(*id));
    if (parse_hex(s, len, false, id->b))
        id->form = CORR_ID_HEX;
    else if (parse_hex(s, len, true, id->b))
        id->form = CORR_ID_UUID;
    else if (len > 4 && memcmp(s, "req-", 4) == 0 && parse_hex(s + 4, len - 4, true, id->b))
        id->form = CORR_ID_REQ_UUID;
    else {
        struct strpool_str *p = strpool_cstr(sp, s);
        if (!p)
            return false;
        id->form = CORR_ID_STR;
        memcpy(id->b, &p, sizeof(p));
    }
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
    return strpool_hash(id->b, 16, strpool_hash(&id->form, 1, STRPOOL_HASH_SEED));
}

const char *corr_id_format(const struct corr_id *id, char *buf, size_t len)
{
    static const char hx[] = "0123456789abcdef";
    size_t j = 0;
    if (id->form == CORR_ID_NONE)
        return NULL;
    if (id->form == CORR_ID_STR)
        return id_str(id)->s;
    if (id->form == CORR_ID_REQ_UUID) {
        memcpy(buf, "req-", 4);
        j = 4;
    }
    for (size_t i = 0; i < 16 && j + 3 < len; i++) {
        if (id->form != CORR_ID_HEX && (i == 4 || i == 6 || i == 8 || i == 10))
            buf[j++] = '-';
        buf[j++] = hx[id->b[i] >> 4];
        buf[j++] = hx[id->b[i] & 15];
    }
    buf[j] = '\0';
    return buf;
}

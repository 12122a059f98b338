/*
 * amqp_table.c: reading AMQP field tables and arrays in place (see amqp_table.h).
 *
 * One function knows the value encodings (amqp_table_read_value); the
 * iterator, the validator and the lookup are all built on it, so a type
 * letter added there is understood everywhere. Nothing here allocates.
 */
#include "dissect/amqp_table.h"

#include <string.h>

static bool read_longstr(struct rd *r, struct amqp_bytes *out)
{
    uint32_t n = rd_be32(r);
    const uint8_t *p = rd_bytes(r, n);
    if (!r->ok)
        return false;
    out->p = p;
    out->len = n;
    return true;
}

bool amqp_table_read_value(struct rd *r, char letter, struct amqp_table_value *val)
{
    memset(val, 0, sizeof *val);
    val->letter = letter;
    switch (letter) {
    case 't':
        val->kind = AMQP_VAL_BOOL;
        val->v.b = rd_u8(r) != 0;
        break;
    case 'b':
        val->kind = AMQP_VAL_INT;
        val->v.i = (int8_t)rd_u8(r);
        break;
    case 'B':
        val->kind = AMQP_VAL_UINT;
        val->v.u = rd_u8(r);
        break;
    case 's': /* RabbitMQ: signed 16 (py-amqp would read a short string; it never writes one) */
    case 'U':
        val->kind = AMQP_VAL_INT;
        val->v.i = (int16_t)rd_be16(r);
        break;
    case 'u':
        val->kind = AMQP_VAL_UINT;
        val->v.u = rd_be16(r);
        break;
    case 'I':
        val->kind = AMQP_VAL_INT;
        val->v.i = (int32_t)rd_be32(r);
        break;
    case 'i':
        val->kind = AMQP_VAL_UINT;
        val->v.u = rd_be32(r);
        break;
    case 'l':
    case 'L':
        val->kind = AMQP_VAL_INT;
        val->v.i = (int64_t)rd_be64(r);
        break;
    case 'f': {
        uint32_t bits = rd_be32(r);
        val->kind = AMQP_VAL_FLOAT;
        memcpy(&val->v.f, &bits, sizeof bits);
        break;
    }
    case 'd': {
        uint64_t bits = rd_be64(r);
        val->kind = AMQP_VAL_DOUBLE;
        memcpy(&val->v.d, &bits, sizeof bits);
        break;
    }
    case 'D':
        val->kind = AMQP_VAL_DECIMAL;
        val->v.dec.scale = rd_u8(r);
        val->v.dec.value = (int32_t)rd_be32(r);
        break;
    case 'S':
        val->kind = AMQP_VAL_STRING;
        return read_longstr(r, &val->bytes);
    case 'x':
        val->kind = AMQP_VAL_BYTES;
        return read_longstr(r, &val->bytes);
    case 'F':
        val->kind = AMQP_VAL_TABLE;
        return read_longstr(r, &val->bytes);
    case 'A':
        val->kind = AMQP_VAL_ARRAY;
        return read_longstr(r, &val->bytes);
    case 'T':
        val->kind = AMQP_VAL_TIMESTAMP;
        val->v.u = rd_be64(r);
        break;
    case 'V':
        val->kind = AMQP_VAL_VOID;
        break;
    default:
        r->ok = false;
        return false;
    }
    return r->ok;
}

void amqp_table_iter_init(struct amqp_table_iter *it, const uint8_t *p, size_t len, bool array)
{
    it->r = rd_make(p, len);
    it->array = array;
}

int amqp_table_next(struct amqp_table_iter *it, struct amqp_bytes *key,
                    struct amqp_table_value *val)
{
    if (!it->r.ok)
        return -1;
    if (rd_left(&it->r) == 0)
        return 0;
    key->p = NULL;
    key->len = 0;
    if (!it->array) {
        uint8_t klen = rd_u8(&it->r);
        key->p = rd_bytes(&it->r, klen);
        key->len = klen;
    }
    char letter = (char)rd_u8(&it->r);
    if (!it->r.ok || !amqp_table_read_value(&it->r, letter, val)) {
        it->r.ok = false;
        return -1;
    }
    return 1;
}

static enum amqp_err validate(const uint8_t *p, size_t len, bool array, unsigned depth_left)
{
    if (depth_left == 0)
        return AMQP_ERR_TABLE_TOO_DEEP;
    struct amqp_table_iter it;
    struct amqp_bytes key;
    struct amqp_table_value val;
    int rc;
    amqp_table_iter_init(&it, p, len, array);
    while ((rc = amqp_table_next(&it, &key, &val)) == 1) {
        if (val.kind == AMQP_VAL_TABLE || val.kind == AMQP_VAL_ARRAY) {
            enum amqp_err e =
                validate(val.bytes.p, val.bytes.len, val.kind == AMQP_VAL_ARRAY, depth_left - 1);
            if (e != AMQP_OK)
                return e;
        }
    }
    return rc == 0 ? AMQP_OK : AMQP_ERR_BAD_TABLE;
}

enum amqp_err amqp_table_validate(const uint8_t *p, size_t len, bool array, unsigned max_depth)
{
    return validate(p, len, array, max_depth);
}

bool amqp_table_find(const uint8_t *tbl, size_t len, const char *key, struct amqp_table_value *out)
{
    struct amqp_table_iter it;
    struct amqp_bytes k;
    size_t klen = strlen(key);
    amqp_table_iter_init(&it, tbl, len, false);
    while (amqp_table_next(&it, &k, out) == 1) {
        if (k.len == klen && (klen == 0 || memcmp(k.p, key, klen) == 0))
            return true;
    }
    return false;
}

bool amqp_table_find_str(const uint8_t *tbl, size_t len, const char *key, char *buf, size_t buflen)
{
    struct amqp_table_value v;
    if (buflen == 0 || !amqp_table_find(tbl, len, key, &v))
        return false;
    if (v.kind != AMQP_VAL_STRING && v.kind != AMQP_VAL_BYTES)
        return false;
    size_t n = v.bytes.len < buflen - 1 ? v.bytes.len : buflen - 1;
    if (n)
        memcpy(buf, v.bytes.p, n);
    buf[n] = '\0';
    return true;
}

/*
 * amqp_props.c: content header parsing (see amqp_props.h).
 *
 * The property flags come first as 16-bit words (bit 0 set = another word
 * follows); values follow in flag order for the flags that are set. The
 * flag words are read in full first so a header with continuation words is
 * understood even though basic defines no property there.
 */
#include "dissect/amqp_props.h"

#include <stddef.h>
#include <string.h>

#include "common/rd.h"
#include "dissect/amqp_table.h"

#define P(name, type, bit, field)                                                                  \
    {                                                                                              \
        name, type, bit, offsetof(struct amqp_basic_props, field)                                  \
    }

static const struct amqp_prop_def props[AMQP_BASIC_NPROPS] = {
    P("content_type", AMQP_ARG_SHORTSTR, AMQP_PROP_CONTENT_TYPE, content_type),
    P("content_encoding", AMQP_ARG_SHORTSTR, AMQP_PROP_CONTENT_ENCODING, content_encoding),
    P("headers", AMQP_ARG_TABLE, AMQP_PROP_HEADERS, headers),
    P("delivery_mode", AMQP_ARG_OCTET, AMQP_PROP_DELIVERY_MODE, delivery_mode),
    P("priority", AMQP_ARG_OCTET, AMQP_PROP_PRIORITY, priority),
    P("correlation_id", AMQP_ARG_SHORTSTR, AMQP_PROP_CORRELATION_ID, correlation_id),
    P("reply_to", AMQP_ARG_SHORTSTR, AMQP_PROP_REPLY_TO, reply_to),
    P("expiration", AMQP_ARG_SHORTSTR, AMQP_PROP_EXPIRATION, expiration),
    P("message_id", AMQP_ARG_SHORTSTR, AMQP_PROP_MESSAGE_ID, message_id),
    P("timestamp", AMQP_ARG_TIMESTAMP, AMQP_PROP_TIMESTAMP, timestamp),
    P("type", AMQP_ARG_SHORTSTR, AMQP_PROP_TYPE, type),
    P("user_id", AMQP_ARG_SHORTSTR, AMQP_PROP_USER_ID, user_id),
    P("app_id", AMQP_ARG_SHORTSTR, AMQP_PROP_APP_ID, app_id),
    P("cluster_id", AMQP_ARG_SHORTSTR, AMQP_PROP_CLUSTER_ID, cluster_id),
};

/* More than this many flag words is not a header anyone wrote. */
#define MAX_FLAG_WORDS 8

const struct amqp_prop_def *amqp_props_table(size_t *count)
{
    *count = AMQP_BASIC_NPROPS;
    return props;
}

static bool read_prop(struct rd *r, const struct amqp_prop_def *d, struct amqp_basic_props *bp,
                      enum amqp_err *err)
{
    char *field = (char *)bp + d->offset;
    switch (d->type) {
    case AMQP_ARG_SHORTSTR: {
        struct amqp_bytes b;
        uint8_t n = rd_u8(r);
        b.p = rd_bytes(r, n);
        b.len = n;
        memcpy(field, &b, sizeof b);
        break;
    }
    case AMQP_ARG_TABLE: {
        struct amqp_bytes b;
        uint32_t n = rd_be32(r);
        b.p = rd_bytes(r, n);
        b.len = n;
        if (r->ok) {
            *err = amqp_table_validate(b.p, b.len, false, AMQP_TABLE_MAX_DEPTH);
            if (*err != AMQP_OK)
                return false;
        }
        memcpy(field, &b, sizeof b);
        break;
    }
    case AMQP_ARG_OCTET: {
        uint8_t v = rd_u8(r);
        memcpy(field, &v, sizeof v);
        break;
    }
    case AMQP_ARG_TIMESTAMP: {
        uint64_t v = rd_be64(r);
        memcpy(field, &v, sizeof v);
        break;
    }
    default:
        break;
    }
    if (!r->ok)
        *err = AMQP_ERR_BAD_CONTENT_HEADER;
    return r->ok;
}

enum amqp_err amqp_content_header_parse(const uint8_t *p, size_t len,
                                        struct amqp_content_header *out)
{
    struct rd r = rd_make(p, len);
    memset(out, 0, sizeof *out);
    out->class_id = rd_be16(&r);
    out->weight = rd_be16(&r);
    out->body_size = rd_be64(&r);
    uint16_t first = 0, word;
    do {
        word = rd_be16(&r);
        if (out->flag_words == 0)
            first = word;
        out->flag_words++;
    } while (r.ok && (word & 1u) && out->flag_words < MAX_FLAG_WORDS);
    if (!r.ok || (word & 1u))
        return AMQP_ERR_BAD_CONTENT_HEADER;
    if (out->class_id != 60) /* only basic carries content in 0-9-1 */
        return out->class_id == 0 ? AMQP_ERR_BAD_CONTENT_HEADER : AMQP_OK;
    enum amqp_err err = AMQP_OK;
    for (unsigned i = 0; i < AMQP_BASIC_NPROPS; i++) {
        if (!(first & (1u << (15 - i))))
            continue;
        if (!read_prop(&r, &props[i], &out->props, &err))
            return err;
        out->props.present |= props[i].present_bit;
    }
    return AMQP_OK;
}

bool amqp_props_cstr(const struct amqp_basic_props *p, enum amqp_prop_bit bit, char *buf,
                     size_t cap)
{
    if (cap == 0)
        return false;
    buf[0] = '\0';
    const struct amqp_bytes *b = NULL;
    for (size_t i = 0; i < AMQP_BASIC_NPROPS; i++)
        if (props[i].present_bit == (uint32_t)bit && props[i].type == AMQP_ARG_SHORTSTR)
            b = (const struct amqp_bytes *)(const void *)((const char *)p + props[i].offset);
    if (!b || !(p->present & (uint32_t)bit) || !b->p || b->len == 0)
        return false;
    size_t n = strnlen((const char *)b->p, b->len < cap - 1 ? b->len : cap - 1);
    memcpy(buf, b->p, n);
    buf[n] = '\0';
    return n > 0;
}

bool amqp_props_expiration_ms(const struct amqp_basic_props *p, uint64_t *ms)
{
    const struct amqp_bytes *e = &p->expiration;
    if (!(p->present & AMQP_PROP_EXPIRATION) || !e->p || e->len == 0 || e->len > 15)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < e->len; i++) {
        if (e->p[i] < '0' || e->p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(e->p[i] - '0');
    }
    *ms = v;
    return true;
}

/*
 * amqp_test_util.h: helpers shared by the tests/test_amqp_*.c unit tests: a
 * growable byte buffer with big-endian writers, an AMQP frame/method/header
 * encoder (the method encoder walks the same method table the decoder
 * reads, so every row is exercised), and a recorder for dissector output.
 * Header-only with static functions because each test is its own program.
 */
#ifndef OSLOTRACE_TESTS_AMQP_TEST_UTIL_H
#define OSLOTRACE_TESTS_AMQP_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/amqp_method.h"
#include "dissect/amqp_props.h"

struct wbuf {
    uint8_t *p;
    size_t len, cap;
};

static inline void w_raw(struct wbuf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}
static inline void w_u8(struct wbuf *b, uint8_t v)
{
    w_raw(b, &v, 1);
}
static inline void w_be16(struct wbuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    w_raw(b, x, 2);
}
static inline void w_be32(struct wbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    w_raw(b, x, 4);
}
static inline void w_be64(struct wbuf *b, uint64_t v)
{
    w_be32(b, (uint32_t)(v >> 32));
    w_be32(b, (uint32_t)v);
}
static inline void w_sstr(struct wbuf *b, const char *s)
{
    w_u8(b, (uint8_t)strlen(s));
    w_raw(b, s, strlen(s));
}
static inline void w_lstr(struct wbuf *b, const void *s, size_t n)
{
    w_be32(b, (uint32_t)n);
    w_raw(b, s, n);
}
static inline void w_free(struct wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static inline void w_frame(struct wbuf *out, uint8_t type, uint16_t ch, const void *payload,
                           size_t n)
{
    w_u8(out, type);
    w_be16(out, ch);
    w_be32(out, (uint32_t)n);
    w_raw(out, payload, n);
    w_u8(out, 0xCE);
}

/* Encodes arguments per the table row: the inverse of amqp_method_decode_args. */
static inline void w_args(struct wbuf *b, const struct amqp_method_def *m,
                          const struct amqp_arg_value *v)
{
    uint8_t bits = 0;
    int nbits = -1; /* -1 = no octet of bits open */
    for (unsigned i = 0; i < m->nargs; i++) {
        enum amqp_arg_type t = m->args[i].type;
        if (t == AMQP_ARG_BIT) {
            if (nbits < 0 || nbits == 8) {
                if (nbits > 0)
                    w_u8(b, bits);
                bits = 0;
                nbits = 0;
            }
            bits |= (uint8_t)((v[i].u & 1u) << nbits++);
            continue;
        }
        if (nbits > 0)
            w_u8(b, bits);
        nbits = -1;
        switch (t) {
        case AMQP_ARG_OCTET:
            w_u8(b, (uint8_t)v[i].u);
            break;
        case AMQP_ARG_SHORT:
            w_be16(b, (uint16_t)v[i].u);
            break;
        case AMQP_ARG_LONG:
            w_be32(b, (uint32_t)v[i].u);
            break;
        case AMQP_ARG_LONGLONG:
        case AMQP_ARG_TIMESTAMP:
            w_be64(b, v[i].u);
            break;
        case AMQP_ARG_SHORTSTR:
            w_u8(b, (uint8_t)v[i].bytes.len);
            w_raw(b, v[i].bytes.p, v[i].bytes.len);
            break;
        case AMQP_ARG_LONGSTR:
        case AMQP_ARG_TABLE:
            w_lstr(b, v[i].bytes.p, v[i].bytes.len);
            break;
        default:
            break;
        }
    }
    if (nbits > 0)
        w_u8(b, bits);
}

/* A method frame: ids + arguments. */
static inline void w_method(struct wbuf *out, uint16_t ch, const struct amqp_method_def *m,
                            const struct amqp_arg_value *v)
{
    struct wbuf pl = {0};
    w_be16(&pl, m->class_id);
    w_be16(&pl, m->method_id);
    w_args(&pl, m, v);
    w_frame(out, 1, ch, pl.p, pl.len);
    w_free(&pl);
}

/* Sets a named argument in v (string args from a C string). */
static inline void arg_str(const struct amqp_method_def *m, struct amqp_arg_value *v,
                           const char *name, const char *s)
{
    int i = amqp_method_arg_index(m, name);
    if (i >= 0) {
        v[i].bytes.p = (const uint8_t *)s;
        v[i].bytes.len = strlen(s);
    }
}
static inline void arg_u(const struct amqp_method_def *m, struct amqp_arg_value *v,
                         const char *name, uint64_t u)
{
    int i = amqp_method_arg_index(m, name);
    if (i >= 0)
        v[i].u = u;
}

/* Method frame by name with string/number args set by the caller through a callback-free
 * style: zeroed args, then the common ones. */
static inline void w_basic_publish(struct wbuf *out, uint16_t ch, const char *exchange,
                                   const char *rk)
{
    const struct amqp_method_def *m = amqp_method_find(60, 40);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    arg_str(m, v, "exchange", exchange);
    arg_str(m, v, "routing_key", rk);
    w_method(out, ch, m, v);
}
static inline void w_basic_deliver(struct wbuf *out, uint16_t ch, const char *ctag, uint64_t dtag,
                                   const char *exchange, const char *rk)
{
    const struct amqp_method_def *m = amqp_method_find(60, 60);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    arg_str(m, v, "consumer_tag", ctag);
    arg_u(m, v, "delivery_tag", dtag);
    arg_str(m, v, "exchange", exchange);
    arg_str(m, v, "routing_key", rk);
    w_method(out, ch, m, v);
}

/* Content header with only content_type (may be NULL for no properties). */
static inline void w_header(struct wbuf *out, uint16_t ch, uint64_t body_size, const char *ctype)
{
    struct wbuf pl = {0};
    w_be16(&pl, 60);
    w_be16(&pl, 0);
    w_be64(&pl, body_size);
    w_be16(&pl, ctype ? 0x8000 : 0);
    if (ctype)
        w_sstr(&pl, ctype);
    w_frame(out, 2, ch, pl.p, pl.len);
    w_free(&pl);
}

static inline void w_body(struct wbuf *out, uint16_t ch, const void *p, size_t n)
{
    w_frame(out, 3, ch, p, n);
}

#endif

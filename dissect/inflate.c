/*
 * inflate.c: zlib/gzip inflation for kombu-compressed bodies, bounded.
 *
 * The output buffer grows geometrically from a guess (4 × input) and never
 * past the caller's limit; inflate() is asked for at most the room left, so
 * a decompression bomb stops at the limit with INFLATE_ERR_TOO_BIG after
 * producing no more than the limit. windowBits 15+32 lets zlib detect zlib
 * or gzip framing from the first bytes.
 */
#include "dissect/inflate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "dissect/amqp_table.h"

const char *inflate_err_name(enum inflate_err e)
{
    static const char *const names[INFLATE_ERR_COUNT] = {"ok",
                                                         "unsupported codec",
                                                         "corrupt data",
                                                         "truncated stream",
                                                         "over the size limit",
                                                         "out of memory"};
    return (unsigned)e < INFLATE_ERR_COUNT ? names[e] : "?";
}

enum inflate_codec inflate_codec_from_name(const uint8_t *name, size_t len)
{
    /* kombu registers zlib as "application/x-gzip" with aliases gzip and zlib. */
    static const char *const zlib_names[] = {
        "application/x-gzip", "gzip", "zlib", "application/gzip", "application/zlib",
        "application/x-zlib"};
    if (len == 0)
        return INFLATE_CODEC_NONE;
    for (size_t i = 0; i < sizeof(zlib_names) / sizeof(zlib_names[0]); i++) {
        size_t n = strlen(zlib_names[i]);
        if (n == len && strncasecmp((const char *)name, zlib_names[i], n) == 0)
            return INFLATE_CODEC_ZLIB;
    }
    return INFLATE_CODEC_OTHER;
}

enum inflate_codec inflate_codec_from_headers(const uint8_t *tbl, size_t len)
{
    struct amqp_table_value v;
    if (!tbl || len == 0 || !amqp_table_find(tbl, len, "compression", &v))
        return INFLATE_CODEC_NONE;
    if (v.kind == AMQP_VAL_VOID)
        return INFLATE_CODEC_NONE;
    if (v.kind != AMQP_VAL_STRING && v.kind != AMQP_VAL_BYTES)
        return INFLATE_CODEC_OTHER;
    return inflate_codec_from_name(v.bytes.p, v.bytes.len);
}

enum inflate_err inflate_body(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
                              size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    *out_len = 0;
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return INFLATE_ERR_NOMEM;
    size_t cap = len < max_out / 4 ? len * 4 + 64 : max_out;
    if (cap > max_out)
        cap = max_out;
    uint8_t *buf = malloc(cap + 1);
    enum inflate_err err = INFLATE_OK;
    size_t n = 0;
    if (!buf) {
        inflateEnd(&zs);
        return INFLATE_ERR_NOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    size_t in_left = len;
    for (;;) {
        if (n == cap) {
            if (cap >= max_out) {
                /* Full at the limit: only OK if the stream ends right here. */
                uint8_t probe;
                zs.next_out = &probe;
                zs.avail_out = 1;
                int rc = inflate(&zs, Z_NO_FLUSH);
                if (rc == Z_STREAM_END && zs.avail_out == 1)
                    break;
                err = INFLATE_ERR_TOO_BIG;
                break;
            }
            size_t ncap = cap * 2 > max_out ? max_out : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                err = INFLATE_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - n;
        zs.next_out = buf + n;
        zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        size_t chunk_in = in_left > UINT32_MAX ? UINT32_MAX : in_left;
        zs.avail_in = (uInt)chunk_in;
        int rc = inflate(&zs, Z_NO_FLUSH);
        size_t produced = (size_t)(zs.next_out - (buf + n));
        in_left -= chunk_in - zs.avail_in;
        n += produced;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR) {
            err = INFLATE_ERR_DATA;
            break;
        }
        if (rc == Z_MEM_ERROR) {
            err = INFLATE_ERR_NOMEM;
            break;
        }
        if (rc == Z_BUF_ERROR && produced == 0 && in_left == 0 && n < cap) {
            err = INFLATE_ERR_TRUNCATED;
            break;
        }
        if (in_left == 0 && produced == 0 && n < cap) {
            err = INFLATE_ERR_TRUNCATED;
            break;
        }
    }
    inflateEnd(&zs);
    if (err != INFLATE_OK) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return INFLATE_OK;
}

struct inflate_stream {
    z_stream zs;
    size_t max_out, produced;
    inflate_out_fn fn;
    void *user;
    bool failed, ended;
};

struct inflate_stream *inflate_stream_new(size_t max_out, inflate_out_fn fn, void *user)
{
    struct inflate_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    if (inflateInit2(&st->zs, 15 + 32) != Z_OK) {
        free(st);
        return NULL;
    }
    st->max_out = max_out;
    st->fn = fn;
    st->user = user;
    return st;
}

bool inflate_stream_feed(struct inflate_stream *st, const uint8_t *in, size_t n)
{
    uint8_t buf[16384];
    while (n && !st->failed && !st->ended) {
        size_t chunk = n > UINT32_MAX ? UINT32_MAX : n;
        st->zs.next_in = (Bytef *)(uintptr_t)in;
        st->zs.avail_in = (uInt)chunk;
        do {
            st->zs.next_out = buf;
            st->zs.avail_out = sizeof(buf);
            int rc = inflate(&st->zs, Z_NO_FLUSH);
            size_t got = sizeof(buf) - st->zs.avail_out;
            st->produced += got;
            if (st->produced > st->max_out ||
                (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)) {
                st->failed = true;
                break;
            }
            if (got)
                st->fn(st->user, buf, got);
            if (rc == Z_STREAM_END) {
                st->ended = true;
                break;
            }
            if (rc == Z_BUF_ERROR && got == 0)
                break;
        } while (st->zs.avail_in || st->zs.avail_out == 0);
        size_t used = chunk - st->zs.avail_in;
        in += used;
        n -= used;
        if (!used && !st->ended)
            break;
    }
    return !st->failed;
}

void inflate_stream_free(struct inflate_stream *st)
{
    if (!st)
        return;
    inflateEnd(&st->zs);
    free(st);
}

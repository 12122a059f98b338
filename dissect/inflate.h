/*
 * inflate.h: decompression of oslo bodies that kombu compressed, with a hard
 * output limit.
 *
 * kombu_compression makes the publisher compress the body and name the codec
 * in the AMQP `compression` header (zlib is announced as
 * "application/x-gzip"). A small body can inflate to gigabytes, so output is
 * capped (--max-inflate, default 64 MiB) and going over it is an error, not a
 * truncated result. zlib and gzip framing are both accepted (auto-detected).
 */
#ifndef OSLOTRACE_DISSECT_INFLATE_H
#define OSLOTRACE_DISSECT_INFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum inflate_err {
    INFLATE_OK,
    INFLATE_ERR_UNSUPPORTED, /* a codec other than zlib/gzip (bz2, lzma, brotli, zstd…) */
    INFLATE_ERR_DATA,        /* corrupt compressed data */
    INFLATE_ERR_TRUNCATED,   /* the compressed stream ended early */
    INFLATE_ERR_TOO_BIG,     /* output would exceed the limit */
    INFLATE_ERR_NOMEM,
    INFLATE_ERR_COUNT
};

const char *inflate_err_name(enum inflate_err e);

enum inflate_codec { INFLATE_CODEC_NONE, INFLATE_CODEC_ZLIB, INFLATE_CODEC_OTHER };

/* The codec named by an AMQP `compression` header value (not NUL-terminated). */
enum inflate_codec inflate_codec_from_name(const uint8_t *name, size_t len);

/* The codec announced by the `compression` key of an AMQP headers table
 * (props.headers bytes); INFLATE_CODEC_NONE when there is no such key. */
enum inflate_codec inflate_codec_from_headers(const uint8_t *tbl, size_t len);

/* Inflates in[0..len) (zlib or gzip) into a new malloc'd buffer of at most
 * max_out bytes (one extra NUL byte is appended, not counted in *out_len).
 * On error *out is NULL. */
enum inflate_err inflate_body(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
                              size_t *out_len);

/* The same as a stream, for bodies too long to keep (--max-body): the output
 * goes to fn in chunks as the input arrives and is not kept. */
struct inflate_stream;
typedef void (*inflate_out_fn)(void *user, const uint8_t *p, size_t n);
struct inflate_stream *inflate_stream_new(size_t max_out, inflate_out_fn fn, void *user);
/* False once the data is corrupt or over max_out (later calls do nothing). */
bool inflate_stream_feed(struct inflate_stream *st, const uint8_t *in, size_t n);
void inflate_stream_free(struct inflate_stream *st);

#endif

/*
 * test_amqp_frame.c: the frame splitter. The same bytes fed in chunks of 1, 7,
 * 4096 (and whole, and odd sizes) give identical frames; hunting finds the
 * frames after a mid-frame start, after garbage and after a gap; frames that
 * claim 4 GB are refused without allocating; the end-of-data rule (accept a
 * method/header/heartbeat, wait on a body) holds; in-place frames are zero-copy.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>

#include "amqp_test_util.h"
#include "dissect/amqp_frame.h"

#define MAX_REC 512

struct rec {
    char log[MAX_REC][64];
    size_t n;
    uint64_t skipped, resyncs, errors[AMQP_ERR_COUNT], headers;
    size_t in_place, copied;
};

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void r_frame(void *u, const struct amqp_frame *f)
{
    struct rec *r = u;
    if (f->wipe)
        r->copied++;
    else
        r->in_place++;
    if (r->n < MAX_REC)
        snprintf(r->log[r->n++], 64, "F%u c%u s%u h%08x", f->type, f->channel, f->size,
                 fnv(f->payload, f->size));
}
static void r_hdr(void *u, const uint8_t h[8], uint64_t ts, uint64_t pkt)
{
    struct rec *r = u;
    r->headers++;
    if (r->n < MAX_REC)
        snprintf(r->log[r->n++], 64, "P%u.%u.%u.%u", h[4], h[5], h[6], h[7]);
}
static void r_err(void *u, enum amqp_err e)
{
    ((struct rec *)u)->errors[e]++;
}
static void r_skip(void *u, uint64_t n)
{
    ((struct rec *)u)->skipped += n;
}
static void r_resync(void *u)
{
    ((struct rec *)u)->resyncs++;
}
static const struct amqp_frame_sink sink = {r_frame, r_hdr, r_err, r_skip, r_resync};

/* Feeds data in chunks of `chunk` bytes, each chunk copied into an exact-size
 * allocation so ASan catches a splitter keeping a pointer into it. */
static void feed_chunks(struct rec *r, const uint8_t *d, size_t n, size_t chunk, uint32_t bound)
{
    struct amqp_frame_splitter s;
    memset(r, 0, sizeof *r);
    amqp_frame_init(&s, bound, &sink, r);
    uint64_t pkt = 1;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        uint8_t *c = malloc(k);
        memcpy(c, d + off, k);
        amqp_frame_feed(&s, c, k, 1000 + pkt, pkt);
        pkt++;
        free(c);
    }
    amqp_frame_release(&s);
}

static void assert_same(const struct rec *a, const struct rec *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_string_equal(a->log[i], b->log[i]);
    assert_int_equal(a->skipped, b->skipped);
    assert_int_equal(a->resyncs, b->resyncs);
}

/* A realistic stream: methods, content split over bodies, heartbeats, two channels. */
static void build_stream(struct wbuf *b, bool with_protocol_header)
{
    if (with_protocol_header)
        w_raw(b, "AMQP\x00\x00\x09\x01", 8);
    char body[5000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    for (int i = 0; i < 20; i++) {
        w_basic_publish(b, 1, "openstack", "compute");
        w_header(b, 1, 3000, "application/json");
        w_body(b, 1, body, 1000);
        w_frame(b, 8, 0, NULL, 0);
        w_basic_deliver(b, 2, "ctag", (uint64_t)i, "openstack", "conductor");
        w_header(b, 2, 10, NULL);
        w_body(b, 2, body + 7, 10);
        w_body(b, 1, body + 1000, 2000);
        w_basic_publish(b, 3, "", "reply_x");
        w_header(b, 3, 0, NULL);
    }
}

static void test_chunking_identical(void **state)
{
    (void)state;
    struct wbuf b = {0};
    build_stream(&b, true);
    static struct rec whole, r;
    feed_chunks(&whole, b.p, b.len, b.len, 1 << 20);
    assert_int_equal(whole.headers, 1);
    assert_int_equal(whole.n, 1 + 20 * 10);
    assert_int_equal(whole.skipped, 0);
    assert_int_equal(whole.resyncs, 0);
    assert_int_equal(whole.copied, 0); /* one delivery: everything in place */
    size_t sizes[] = {1, 7, 4096, 2, 13, 1448, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        feed_chunks(&r, b.p, b.len, sizes[i], 1 << 20);
        assert_same(&whole, &r);
        for (int e = 0; e < AMQP_ERR_COUNT; e++)
            assert_int_equal(r.errors[e], 0);
    }
    w_free(&b);
}

static void test_no_protocol_header_starts_synced(void **state)
{
    (void)state;
    struct wbuf b = {0};
    build_stream(&b, false);
    static struct rec whole, r;
    feed_chunks(&whole, b.p, b.len, b.len, 1 << 20);
    assert_int_equal(whole.n, 20 * 10);
    assert_int_equal(whole.skipped, 0);
    assert_int_equal(whole.resyncs, 0);
    size_t sizes[] = {1, 7, 4096};
    for (size_t i = 0; i < 3; i++) {
        feed_chunks(&r, b.p, b.len, sizes[i], 1 << 20);
        assert_same(&whole, &r);
    }
    w_free(&b);
}

static void test_mid_frame_start(void **state)
{
    (void)state;
    struct wbuf full = {0};
    build_stream(&full, false);
    /* start 20 bytes into the first body frame's payload (tail of a JSON-ish body) */
    size_t first_body = 0;
    {
        struct wbuf t = {0};
        w_basic_publish(&t, 1, "openstack", "compute");
        w_header(&t, 1, 3000, "application/json");
        first_body = t.len;
        w_free(&t);
    }
    size_t start = first_body + 7 + 20;
    const uint8_t *d = full.p + start;
    size_t n = full.len - start;
    static struct rec whole, r;
    feed_chunks(&whole, d, n, n, 1 << 20);
    assert_int_equal(whole.skipped, 1000 - 20 + 1); /* rest of the body and its frame-end */
    assert_int_equal(whole.resyncs, 1);
    assert_int_equal(whole.n, 20 * 10 - 3); /* all but the publish, header and the cut body */
    size_t sizes[] = {1, 7, 4096};
    for (size_t i = 0; i < 3; i++) {
        feed_chunks(&r, d, n, sizes[i], 1 << 20);
        assert_same(&whole, &r);
    }
    w_free(&full);
}

static void test_garbage_in_the_middle(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "x", "y");
    w_header(&b, 1, 0, NULL);
    w_raw(&b, "\x09garbage-not-a-frame", 20);
    w_basic_publish(&b, 1, "x", "z");
    w_header(&b, 1, 0, NULL);
    static struct rec r;
    feed_chunks(&r, b.p, b.len, b.len, 1 << 20);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.errors[AMQP_ERR_BAD_FRAME_TYPE], 1);
    assert_int_equal(r.skipped, 20);
    assert_int_equal(r.resyncs, 1);
    static struct rec r1;
    feed_chunks(&r1, b.p, b.len, 1, 1 << 20);
    assert_same(&r, &r1);
    w_free(&b);
}

static void test_bad_frame_end(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "x", "y");
    size_t bad_at = b.len - 1;
    w_basic_publish(&b, 1, "x", "y");
    b.p[bad_at] = 0xCD; /* first frame's end octet broken */
    static struct rec r;
    feed_chunks(&r, b.p, b.len, b.len, 1 << 20);
    /* hunting starts fresh: the first frame cannot be confirmed, the second is found */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.errors[AMQP_ERR_BAD_FRAME_END], 0); /* never synced on it */
    assert_int_equal(r.skipped, bad_at + 1);
    /* once synced, a broken end is an error */
    struct wbuf c = {0};
    w_raw(&c, "AMQP\x00\x00\x09\x01", 8);
    w_basic_publish(&c, 1, "x", "y");
    bad_at = c.len - 1;
    w_basic_publish(&c, 1, "x", "y");
    c.p[bad_at] = 0x00;
    feed_chunks(&r, c.p, c.len, c.len, 1 << 20);
    assert_int_equal(r.errors[AMQP_ERR_BAD_FRAME_END], 1);
    assert_int_equal(r.n, 2); /* protocol header + the second publish */
    assert_int_equal(r.resyncs, 1);
    w_free(&b);
    w_free(&c);
}

static void test_gap_then_resync(void **state)
{
    (void)state;
    struct wbuf b = {0};
    build_stream(&b, true);
    static struct rec r;
    struct amqp_frame_splitter s;
    memset(&r, 0, sizeof r);
    amqp_frame_init(&s, 1 << 20, &sink, &r);
    size_t half = b.len / 2;
    amqp_frame_feed(&s, b.p, half - 3, 1, 1); /* ends inside a frame */
    size_t before = r.n;
    amqp_frame_gap(&s); /* 1000 bytes lost */
    amqp_frame_feed(&s, b.p + half + 1000, b.len - half - 1000, 2, 2);
    amqp_frame_release(&s);
    assert_true(r.n > before + 50);
    assert_int_equal(r.resyncs, 1);
    assert_true(r.skipped > 0);
    for (int e = 0; e < AMQP_ERR_COUNT; e++)
        assert_int_equal(r.errors[e], 0);
    w_free(&b);
}

static void test_claims_4gb(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_raw(&b, "AMQP\x00\x00\x09\x01", 8);
    w_u8(&b, 1);
    w_be16(&b, 1);
    w_be32(&b, 0xFFFFFFF0u);
    w_raw(&b, "\x00\x3c\x00\x28", 4);
    w_basic_publish(&b, 1, "x", "y");
    struct amqp_frame_splitter s;
    static struct rec r;
    memset(&r, 0, sizeof r);
    amqp_frame_init(&s, 1 << 20, &sink, &r);
    amqp_frame_feed(&s, b.p, b.len, 1, 1);
    assert_int_equal(r.errors[AMQP_ERR_OVERSIZE_FRAME], 1);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.resyncs, 1);
    assert_true(s.cap < 4096); /* nothing sized from the claim */
    amqp_frame_release(&s);
    /* byte by byte: the header alone is refused before any payload is awaited */
    feed_chunks(&r, b.p, b.len, 1, 1 << 20);
    assert_int_equal(r.errors[AMQP_ERR_OVERSIZE_FRAME], 1);
    assert_int_equal(r.n, 2);
    w_free(&b);
}

static void test_end_of_data_rule(void **state)
{
    (void)state;
    struct amqp_frame_splitter s;
    static struct rec r;
    memset(&r, 0, sizeof r);
    amqp_frame_init(&s, 1 << 20, &sink, &r);
    /* hunting: garbage, then a method frame that ends exactly at the delivery's end */
    struct wbuf b = {0};
    w_raw(&b, "tail of something", 17);
    w_basic_publish(&b, 1, "x", "y");
    amqp_frame_feed(&s, b.p, b.len, 1, 1);
    assert_int_equal(r.n, 1); /* accepted at once: a known method, nothing to wait for */
    amqp_frame_gap(&s);
    /* a body frame ending at the delivery's end waits for the next bytes */
    struct wbuf c = {0};
    w_raw(&c, "more tail", 9);
    w_body(&c, 1, "abcdef", 6);
    amqp_frame_feed(&s, c.p, c.len, 2, 2);
    assert_int_equal(r.n, 1);
    struct wbuf d = {0};
    w_frame(&d, 8, 0, NULL, 0);
    amqp_frame_feed(&s, d.p, d.len, 3, 3);
    assert_int_equal(r.n, 3); /* body confirmed by the heartbeat after it, then the heartbeat */
    assert_int_equal(r.skipped, 17 + 9);
    amqp_frame_release(&s);
    w_free(&b);
    w_free(&c);
    w_free(&d);
}

static void test_zero_copy_and_pkts(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_raw(&b, "AMQP\x00\x00\x09\x01", 8);
    w_basic_publish(&b, 1, "openstack", "compute");
    size_t split = b.len + 3; /* inside the next frame */
    w_header(&b, 1, 1, NULL);
    w_body(&b, 1, "z", 1);
    struct amqp_frame_splitter s;
    static struct rec r;
    memset(&r, 0, sizeof r);
    amqp_frame_init(&s, 1 << 20, &sink, &r);
    amqp_frame_feed(&s, b.p, split, 1, 10);
    amqp_frame_feed(&s, b.p + split, b.len - split, 2, 11);
    assert_int_equal(r.in_place, 2); /* publish, body */
    assert_int_equal(r.copied, 1);   /* the header spanned deliveries */
    assert_null(s.buf);              /* nothing kept once complete */
    amqp_frame_release(&s);
    w_free(&b);
}

static void test_protocol_header_while_hunting(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_raw(&b, "xxAMQP\x00\x00\x09\x01", 10);
    w_basic_publish(&b, 0, "a", "b");
    static struct rec r;
    feed_chunks(&r, b.p, b.len, 3, 1 << 20);
    assert_int_equal(r.headers, 1);
    assert_int_equal(r.skipped, 2);
    assert_int_equal(r.n, 1 + 1);
    w_free(&b);
}

static void test_false_candidate_does_not_hide_frames(void **state)
{
    (void)state;
    /* Mid-frame start inside binary data that happens to look like a body frame header
     * claiming 500 KB; real frames follow at once. They must come out now, not after
     * 500 KB have arrived. */
    struct wbuf b = {0};
    w_raw(&b, "\x9c\x03\x00\x05\x00\x07\xa1\x20\x11", 9);
    for (int i = 0; i < 3; i++) {
        w_basic_publish(&b, 1, "openstack", "compute");
        w_header(&b, 1, 0, NULL);
    }
    size_t sizes[] = {b.len, 1, 7};
    for (size_t k = 0; k < 3; k++) {
        static struct rec r;
        struct amqp_frame_splitter s;
        memset(&r, 0, sizeof r);
        amqp_frame_init(&s, 1 << 20, &sink, &r);
        for (size_t off = 0; off < b.len; off += sizes[k]) {
            size_t n = b.len - off < sizes[k] ? b.len - off : sizes[k];
            amqp_frame_feed(&s, b.p + off, n, 1, 1);
        }
        assert_int_equal(r.n, 6);
        assert_int_equal(r.skipped, 9);
        assert_int_equal(r.resyncs, 1);
        amqp_frame_release(&s);
    }
    w_free(&b);
}

/* Start the stream at every offset of its first 4000 bytes: the frames that come out are
 * exactly the frames that start at or after the offset, whatever the chunking. Each run
 * stops 12 frames later, at a frame boundary. */
static void test_start_at_every_offset(void **state)
{
    (void)state;
    struct wbuf b = {0};
    build_stream(&b, false);
    static struct rec clean, r;
    size_t starts[MAX_REC + 1];
    size_t nstarts = 0;
    for (size_t off = 0; off < b.len && nstarts < MAX_REC;) {
        starts[nstarts++] = off;
        uint32_t size = (uint32_t)b.p[off + 3] << 24 | (uint32_t)b.p[off + 4] << 16 |
                        (uint32_t)b.p[off + 5] << 8 | b.p[off + 6];
        off += size + 8;
    }
    starts[nstarts] = b.len;
    feed_chunks(&clean, b.p, b.len, b.len, 1 << 20);
    assert_int_equal(clean.n, nstarts);
    for (size_t start = 0; start < 4000; start++) {
        size_t first = 0;
        while (first < nstarts && starts[first] < start)
            first++;
        assert_true(first + 12 <= nstarts);
        size_t end = starts[first + 12];
        size_t chunk = start % 5 == 0 ? 1 : (start % 5 == 1 ? 7 : (start % 5 == 2 ? 1448 : end));
        feed_chunks(&r, b.p + start, end - start, chunk, 1 << 20);
        assert_int_equal(r.n, 12);
        for (size_t i = 0; i < r.n; i++)
            assert_string_equal(r.log[i], clean.log[first + i]);
        assert_int_equal(r.skipped, starts[first] - start);
        assert_int_equal(r.resyncs, starts[first] > start);
    }
    w_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunking_identical),
        cmocka_unit_test(test_no_protocol_header_starts_synced),
        cmocka_unit_test(test_mid_frame_start),
        cmocka_unit_test(test_garbage_in_the_middle),
        cmocka_unit_test(test_bad_frame_end),
        cmocka_unit_test(test_gap_then_resync),
        cmocka_unit_test(test_claims_4gb),
        cmocka_unit_test(test_end_of_data_rule),
        cmocka_unit_test(test_zero_copy_and_pkts),
        cmocka_unit_test(test_protocol_header_while_hunting),
        cmocka_unit_test(test_false_candidate_does_not_hide_frames),
        cmocka_unit_test(test_start_at_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

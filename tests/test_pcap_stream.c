/*
 * test_pcap_stream.c: classic pcap from a pipe, non-blocking (capture/pcap_stream.h).
 *
 * A real pipe(2): records written a byte at a time come out whole and only
 * once complete ("again" before), µs and ns stamps, both byte orders, the
 * end when the writer closes, a record cut by the close and an absurd record
 * length are errors, and pcapng is not taken.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>
#include <unistd.h>

#include "capture/pcap_stream.h"

static void put32(uint8_t *p, uint32_t v, bool swap)
{
    if (swap)
        v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

static void header(uint8_t *h, uint32_t magic, bool swap)
{
    memset(h, 0, PCAP_STREAM_HEADER);
    put32(h, magic, swap);
    put32(h + 16, 262144, swap);
    put32(h + 20, 1, swap); /* Ethernet */
}

/* A 16-byte record header plus n bytes of payload (value i). */
static size_t record(uint8_t *r, uint32_t sec, uint32_t frac, uint32_t n, bool swap)
{
    put32(r, sec, swap);
    put32(r + 4, frac, swap);
    put32(r + 8, n, swap);
    put32(r + 12, n + 10, swap);
    for (uint32_t i = 0; i < n; i++)
        r[16 + i] = (uint8_t)i;
    return 16 + n;
}

static void byte_by_byte(bool swap, uint32_t magic, uint64_t want_ns)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    uint8_t h[PCAP_STREAM_HEADER];
    header(h, magic, swap);
    assert_true(pcap_stream_is_classic(h));
    char err[256] = "";
    struct pcap_stream *s = pcap_stream_open(fds[0], h, "test", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(pcap_stream_linktype(s), 1);
    uint8_t rec[256];
    size_t n = record(rec, 1700000000, 5, 40, swap);
    struct pcap_stream_record out;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_AGAIN);
        assert_int_equal(write(fds[1], rec + i, 1), 1);
    }
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_PACKET);
    assert_int_equal(out.ts_ns, want_ns);
    assert_int_equal(out.caplen, 40);
    assert_int_equal(out.wirelen, 50);
    assert_int_equal(out.data[39], 39);
    /* Two records in one write: both, then again. */
    size_t m = record(rec, 1700000001, 0, 3, swap);
    m += record(rec + m, 1700000002, 0, 0, swap);
    assert_int_equal(write(fds[1], rec, m), (ssize_t)m);
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_PACKET);
    assert_int_equal(out.caplen, 3);
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_PACKET);
    assert_int_equal(out.caplen, 0);
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_AGAIN);
    close(fds[1]);
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_END);
    assert_int_equal(pcap_stream_bytes(s), PCAP_STREAM_HEADER + n + m);
    pcap_stream_close(s);
}

static void test_usec(void **state)
{
    (void)state;
    byte_by_byte(false, 0xa1b2c3d4u, 1700000000ull * 1000000000ull + 5000);
}

static void test_nsec_swapped(void **state)
{
    (void)state;
    byte_by_byte(true, 0xa1b23c4du, 1700000000ull * 1000000000ull + 5);
}

static void test_cut_and_damaged(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    uint8_t h[PCAP_STREAM_HEADER];
    header(h, 0xa1b2c3d4u, false);
    char err[256];
    struct pcap_stream *s = pcap_stream_open(fds[0], h, "cut", err, sizeof err);
    uint8_t rec[64];
    size_t n = record(rec, 1, 0, 20, false);
    assert_int_equal(write(fds[1], rec, n - 5), (ssize_t)(n - 5));
    close(fds[1]);
    struct pcap_stream_record out;
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_ERROR);
    assert_non_null(strstr(pcap_stream_error(s), "truncated"));
    pcap_stream_close(s);

    assert_int_equal(pipe(fds), 0);
    s = pcap_stream_open(fds[0], h, "big", err, sizeof err);
    put32(rec, 1, false);
    put32(rec + 4, 0, false);
    put32(rec + 8, 0x7fffffff, false);
    put32(rec + 12, 0x7fffffff, false);
    assert_int_equal(write(fds[1], rec, 16), 16);
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_ERROR);
    assert_non_null(strstr(pcap_stream_error(s), "damaged"));
    assert_int_equal(pcap_stream_next(s, &out), PCAP_STREAM_ERROR);
    close(fds[1]);
    pcap_stream_close(s);
}

static void test_not_classic(void **state)
{
    (void)state;
    uint8_t h[PCAP_STREAM_HEADER] = {0x0a, 0x0d, 0x0d, 0x0a}; /* pcapng SHB */
    assert_false(pcap_stream_is_classic(h));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char err[256] = "";
    assert_null(pcap_stream_open(fds[0], h, "ng", err, sizeof err));
    assert_non_null(strstr(err, "not a classic pcap"));
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usec),
        cmocka_unit_test(test_nsec_swapped),
        cmocka_unit_test(test_cut_and_damaged),
        cmocka_unit_test(test_not_classic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

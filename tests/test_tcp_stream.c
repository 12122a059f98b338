/*
 * test_tcp_stream.c: TCP reassembly fed hand-made segments.
 *
 * A recorder collects what tcp_stream reports (bytes per flow and direction,
 * and a log line per open/gap/close) so each test states the exact stream
 * and events a sequence of segments must produce: order, overlap, loss,
 * wraparound, FIN/RST, limits and timeouts. Two randomised tests shuffle,
 * duplicate and drop segments of a known stream and check the output
 * against it, position by position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/tcp_stream.h"

#define MAXF 8
#define OUTCAP (1u << 18)

struct rec {
    uint8_t *out[MAXF + 1][2];
    size_t n[MAXF + 1][2];    /* bytes delivered */
    size_t pos[MAXF + 1][2];  /* delivered + skipped as gaps: position in the stream */
    uint64_t gaps[MAXF + 1][2];
    char log[8192];
    size_t loglen;
    int opens, closes;
    uint64_t last_pkt_index;
};

static void logf_(struct rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->log + r->loglen, sizeof r->log - r->loglen, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof r->log - r->loglen)
        r->loglen += (size_t)n;
}

static size_t fid(const struct tcp_flow *f)
{
    assert_true(f->id >= 1 && f->id <= MAXF);
    return (size_t)f->id;
}

static void on_open(void *user, struct tcp_flow *f)
{
    struct rec *r = user;
    r->opens++;
    assert_null(f->user);
    f->user = r; /* any non-NULL marker: must still be there at close */
    logf_(r, "open %zu;", fid(f));
}

static void on_data(void *user, struct tcp_flow *f, int dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns, uint64_t pkt_index)
{
    struct rec *r = user;
    size_t id = fid(f);
    assert_true(len > 0);
    assert_true(r->n[id][dir] + len <= OUTCAP);
    memcpy(r->out[id][dir] + r->n[id][dir], data, len);
    r->n[id][dir] += len;
    r->pos[id][dir] += len;
    r->last_pkt_index = pkt_index;
}

static void on_gap(void *user, struct tcp_flow *f, int dir, uint64_t missing, uint64_t ts_ns)
{
    struct rec *r = user;
    size_t id = fid(f);
    logf_(r, "gap %zu/%d %llu@%zu;", id, dir, (unsigned long long)missing, r->pos[id][dir]);
    r->pos[id][dir] += missing;
    r->gaps[id][dir] += missing;
}

static const char *reason(enum tcp_close_reason c)
{
    return tcp_close_reason_name(c);
}

static void on_close(void *user, struct tcp_flow *f, enum tcp_close_reason why)
{
    struct rec *r = user;
    assert_ptr_equal(f->user, r);
    f->user = NULL;
    r->closes++;
    logf_(r, "close %zu %s;", fid(f), reason(why));
}

static struct rec *rec_new(void)
{
    struct rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i <= MAXF; i++)
        for (int d = 0; d < 2; d++)
            r->out[i][d] = calloc(1, OUTCAP);
    return r;
}

static void rec_free(struct rec *r)
{
    for (size_t i = 0; i <= MAXF; i++)
        for (int d = 0; d < 2; d++)
            free(r->out[i][d]);
    free(r);
}

static struct tcp_stream *new_stream(struct rec *r, const struct tcp_stream_config *cfg)
{
    struct tcp_stream_callbacks cb = {on_open, on_data, on_gap, on_close, r};
    struct tcp_stream *ts = tcp_stream_new(cfg, &cb);
    assert_non_null(ts);
    return ts;
}

static struct netaddr ep(uint8_t host, uint16_t port)
{
    struct netaddr a = {.family = 4, .ip = {10, 0, 0, host}, .port = port};
    return a;
}

#define CLIENT ep(1, 40000)
#define SERVER ep(2, 5672)

static uint64_t pkt_counter;

static void feed_ack(struct tcp_stream *ts, struct netaddr src, struct netaddr dst, uint32_t seq,
                     uint8_t flags, uint32_t ack, const char *data, uint64_t t)
{
    struct tcp_segment s = {.src = src, .dst = dst, .seq = seq, .ack = ack, .flags = flags,
                            .payload = (const uint8_t *)data,
                            .len = data ? (uint32_t)strlen(data) : 0,
                            .ts_ns = t, .pkt_index = ++pkt_counter};
    s.wire_len = s.len;
    tcp_stream_feed(ts, &s);
}

/* Without the ACK flag: the acknowledgment number says nothing. */
static void feed(struct tcp_stream *ts, struct netaddr src, struct netaddr dst, uint32_t seq,
                 uint8_t flags, const char *data, uint64_t t)
{
    feed_ack(ts, src, dst, seq, flags, 0, data, t);
}

/* Client data / server data (no ACK flag: tests of ACK evidence say so). */
static void c2s(struct tcp_stream *ts, uint32_t seq, const char *data, uint64_t t)
{
    feed(ts, CLIENT, SERVER, seq, TCP_FLAG_PSH, data, t);
}

static void s2c(struct tcp_stream *ts, uint32_t seq, const char *data, uint64_t t)
{
    feed(ts, SERVER, CLIENT, seq, TCP_FLAG_PSH, data, t);
}

static void handshake(struct tcp_stream *ts, uint32_t cisn, uint32_t sisn)
{
    feed(ts, CLIENT, SERVER, cisn, TCP_FLAG_SYN, NULL, 1);
    feed_ack(ts, SERVER, CLIENT, sisn, TCP_FLAG_SYN | TCP_FLAG_ACK, cisn + 1, NULL, 2);
    feed_ack(ts, CLIENT, SERVER, cisn + 1, TCP_FLAG_ACK, sisn + 1, NULL, 3);
}

static void assert_stream(struct rec *r, size_t id, int dir, const char *want)
{
    size_t n = strlen(want);
    if (r->n[id][dir] != n || memcmp(r->out[id][dir], want, n) != 0)
        fail_msg("flow %zu dir %d: got \"%.*s\" want \"%s\"", id, dir, (int)r->n[id][dir],
                 (const char *)r->out[id][dir], want);
}

static void assert_log(struct rec *r, const char *want)
{
    assert_string_equal(r->log, want);
}

static struct tcp_stream_stats stats(struct tcp_stream *ts)
{
    struct tcp_stream_stats st;
    tcp_stream_get_stats(ts, &st);
    return st;
}

static void test_in_order_with_handshake(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 1000, 5000);
    c2s(ts, 1001, "AMQP", 4);
    s2c(ts, 5001, "tune", 5);
    c2s(ts, 1005, "-ok", 6);
    feed(ts, CLIENT, SERVER, 1008, TCP_FLAG_FIN, NULL, 7);
    assert_int_equal(r->closes, 0);
    feed(ts, SERVER, CLIENT, 5005, TCP_FLAG_FIN, NULL, 8);
    assert_log(r, "open 1;close 1 fin;");
    assert_stream(r, 1, 0, "AMQP-ok");
    assert_stream(r, 1, 1, "tune");
    /* The last ACK must not open a new flow. */
    feed_ack(ts, CLIENT, SERVER, 1009, TCP_FLAG_ACK, 5006, NULL, 9);
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.flows_opened, 1);
    assert_int_equal(st.flows_closed, 1);
    assert_int_equal(st.flows_active, 0);
    assert_int_equal(st.no_flow_segments, 1);
    assert_int_equal(st.segments, 9);
    assert_int_equal(st.payload_bytes, 11);
    tcp_stream_free(ts);
    rec_free(r);
}

/* `a` is the SYN sender, also when the SYN-ACK is the first packet seen. */
static void test_direction_from_syn(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    feed(ts, SERVER, CLIENT, 777, TCP_FLAG_SYN | TCP_FLAG_ACK, NULL, 1);
    c2s(ts, 50, "hello", 2);
    s2c(ts, 778, "world", 3);
    assert_stream(r, 1, 0, "hello");
    assert_stream(r, 1, 1, "world");
    tcp_stream_finish(ts);
    assert_log(r, "open 1;close 1 end;");
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_out_of_order(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    c2s(ts, 1, "aaa", 4);
    c2s(ts, 7, "ccc", 5);
    c2s(ts, 10, "ddd", 6);
    assert_stream(r, 1, 0, "aaa");
    assert_int_equal(stats(ts).ooo_bytes_buffered > 0, 1);
    c2s(ts, 4, "bbb", 7);
    assert_stream(r, 1, 0, "aaabbbcccddd");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.out_of_order, 2);
    assert_int_equal(st.ooo_bytes_buffered, 0);
    assert_int_equal(st.gaps, 0);
    /* Delivered bytes carry the packet that brought them: ddd was packet 6. */
    assert_int_equal(r->last_pkt_index, pkt_counter - 1);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_overlap_first_copy_wins(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 100, 0);
    c2s(ts, 101, "0123456789", 4);
    c2s(ts, 106, "XXXXXabcde", 5);  /* 5 bytes already delivered */
    assert_stream(r, 1, 0, "0123456789abcde");
    /* Buffered data wins over a later copy covering it. */
    c2s(ts, 121, "klmno", 6);       /* ahead: 116..120 missing */
    c2s(ts, 131, "uvw", 7);         /* ahead again: 126..130 missing */
    c2s(ts, 116, "fghijKLMNOpqrstUVWxyz", 8);
    assert_stream(r, 1, 0, "0123456789abcdefghijklmnopqrstuvwxyz");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.retransmitted_bytes, 5 + 5 + 3);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.ooo_bytes_buffered, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_overlapping_buffered_segments(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    c2s(ts, 11, "KLMNO", 4);       /* 11..15 */
    c2s(ts, 8, "hijklmnopq", 5);   /* 8..17: only 8..10 and 16..17 are new */
    c2s(ts, 5, "efghijklmnopqrst", 6);
    c2s(ts, 1, "abcd", 7);
    assert_stream(r, 1, 0, "abcdefghijKLMNOpqrst");
    assert_int_equal(stats(ts).ooo_bytes_buffered, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_retransmission(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    c2s(ts, 1, "abc", 4);
    c2s(ts, 1, "abc", 5);
    c2s(ts, 4, "def", 6);
    c2s(ts, 1, "abcdef", 7);
    assert_stream(r, 1, 0, "abcdef");
    assert_int_equal(stats(ts).retransmitted_bytes, 9);
    /* A retransmitted SYN changes nothing. */
    feed(ts, CLIENT, SERVER, 0, TCP_FLAG_SYN, NULL, 8);
    c2s(ts, 7, "g", 9);
    assert_stream(r, 1, 0, "abcdefg");
    assert_int_equal(stats(ts).flows_opened, 1);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_sequence_wraparound(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    uint32_t isn = 0xfffffff0u;
    handshake(ts, isn, 0xfffffffeu);
    c2s(ts, isn + 1, "0123456789", 4);    /* ...f1 .. ...fa */
    c2s(ts, isn + 21, "KLMNOPQRST", 5);   /* after the wrap, ahead of a hole */
    c2s(ts, isn + 11, "abcdefghij", 6);   /* fills the hole across 2^32 */
    c2s(ts, isn + 5, "45678", 7);         /* old, behind the wrap */
    assert_stream(r, 1, 0, "0123456789abcdefghijKLMNOPQRST");
    s2c(ts, 0xffffffffu, "xy", 8);        /* server ISN+1 = 0xffffffff, wraps at once */
    s2c(ts, 1, "z", 9);
    assert_stream(r, 1, 1, "xyz");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.retransmitted_bytes, 5);
    tcp_stream_free(ts);
    rec_free(r);
}

/* A hole is given up once the bytes buffered behind it pass the per-flow limit. */
static void test_gap_by_bytes(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.max_ooo_bytes_per_flow = 400};
    struct tcp_stream *ts = new_stream(r, &cfg);
    handshake(ts, 0, 0);
    char seg[101];
    memset(seg, 'a', 100);
    seg[100] = 0;
    c2s(ts, 1, seg, 4);
    /* 101..200 lost; each next segment is 100 bytes plus the node overhead. */
    uint32_t seq = 201;
    int fed = 0;
    while (stats(ts).gaps == 0 && fed < 10) {
        memset(seg, 'c' + fed, 100);
        c2s(ts, seq, seg, 5 + (uint64_t)fed);
        seq += 100;
        fed++;
    }
    assert_true(fed >= 3 && fed <= 4); /* 400 bytes fit 3 segments with overhead, not 4 */
    assert_log(r, "open 1;gap 1/0 100@100;");
    assert_int_equal(r->n[1][0], 100 + 100 * (size_t)fed);
    assert_int_equal(r->out[1][0][100], 'c');
    assert_int_equal(r->out[1][0][100 + 100 * (size_t)fed - 1], 'c' + fed - 1);
    assert_int_equal(stats(ts).ooo_bytes_buffered, 0);
    assert_int_equal(stats(ts).gap_bytes, 100);
    /* The lost segment arriving late is old news now. */
    memset(seg, 'b', 100);
    c2s(ts, 101, seg, 20);
    assert_int_equal(r->n[1][0], 100 + 100 * (size_t)fed);
    tcp_stream_free(ts);
    rec_free(r);
}

/* A hole older than gap_timeout in packet time is given up, on feed or on tick. */
static void test_gap_by_time(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.gap_timeout_ns = 1000};
    struct tcp_stream *ts = new_stream(r, &cfg);
    handshake(ts, 0, 0);
    c2s(ts, 1, "aa", 10);
    c2s(ts, 5, "cc", 20);            /* 3..4 lost */
    c2s(ts, 7, "dd", 500);
    assert_stream(r, 1, 0, "aa");
    c2s(ts, 9, "ee", 1020);          /* the hole is 1000 ns old now */
    assert_stream(r, 1, 0, "aaccddee");
    assert_log(r, "open 1;gap 1/0 2@2;");

    /* On tick: the server side waits behind a hole, no packet comes. */
    s2c(ts, 1, "x", 2000);
    s2c(ts, 3, "z", 2100);
    tcp_stream_tick(ts, 2500);
    assert_stream(r, 1, 1, "x");
    tcp_stream_tick(ts, 3100);
    assert_stream(r, 1, 1, "xz");
    assert_log(r, "open 1;gap 1/0 2@2;gap 1/1 1@1;");
    assert_int_equal(stats(ts).gaps, 2);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_rst_mid_flow(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    c2s(ts, 1, "abc", 4);
    c2s(ts, 7, "ghi", 5);            /* buffered behind a hole */
    feed(ts, SERVER, CLIENT, 1, TCP_FLAG_RST, NULL, 6);
    assert_stream(r, 1, 0, "abcghi");
    assert_log(r, "open 1;gap 1/0 3@3;close 1 rst;");
    /* More RSTs after the close open nothing. */
    feed(ts, SERVER, CLIENT, 1, TCP_FLAG_RST, NULL, 7);
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.flows_active, 0);
    assert_int_equal(st.flows_opened, 1);
    assert_int_equal(st.ooo_bytes_buffered, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

/* Mid-stream start: no SYN; pure ACKs must not fix where a direction starts. */
static void test_flow_without_syn(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    c2s(ts, 5000, NULL, 1);           /* pure ACK: no flow yet */
    assert_int_equal(r->opens, 0);
    s2c(ts, 90000, "frame", 2);       /* server data first: the server is `a` */
    c2s(ts, 7000, NULL, 3);           /* pure ACK from the client, other seq */
    c2s(ts, 8000, "hb", 4);           /* the client's first data fixes its start */
    c2s(ts, 7998, "xxhb", 5);         /* before that start: old */
    c2s(ts, 8002, "!", 6);
    s2c(ts, 90005, "s", 7);
    assert_stream(r, 1, 0, "frames");
    assert_stream(r, 1, 1, "hb!");
    assert_int_equal(stats(ts).gaps, 0);
    assert_int_equal(stats(ts).no_flow_segments, 1);
    /* FINs with nothing outstanding finish both directions. */
    feed(ts, CLIENT, SERVER, 8003, TCP_FLAG_FIN, NULL, 8);
    feed(ts, SERVER, CLIENT, 90006, TCP_FLAG_FIN, NULL, 9);
    assert_log(r, "open 1;close 1 fin;");
    tcp_stream_free(ts);
    rec_free(r);
}

/* A FIN behind a hole finishes its direction only once the hole is dealt with. */
static void test_fin_after_hole(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    feed(ts, SERVER, CLIENT, 1, TCP_FLAG_FIN, NULL, 4);
    c2s(ts, 1, "ab", 5);
    feed(ts, CLIENT, SERVER, 5, TCP_FLAG_FIN, "ef", 6);
    assert_int_equal(r->closes, 0);
    c2s(ts, 3, "cd", 7);
    assert_stream(r, 1, 0, "abcdef");
    assert_log(r, "open 1;close 1 fin;");
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_finish_delivers_buffered(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    c2s(ts, 1, "ab", 4);
    c2s(ts, 5, "ef", 5);
    c2s(ts, 9, "ij", 6);
    tcp_stream_finish(ts);
    assert_stream(r, 1, 0, "abefij");
    assert_log(r, "open 1;gap 1/0 2@2;gap 1/0 2@6;close 1 end;");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.flows_active, 0);
    assert_int_equal(st.ooo_bytes_buffered, 0);
    assert_int_equal(st.gap_bytes, 4);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_flow_table_eviction(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.max_flows = 2};
    struct tcp_stream *ts = new_stream(r, &cfg);
    feed(ts, ep(1, 1001), SERVER, 10, TCP_FLAG_ACK, "one", 1);
    feed(ts, ep(1, 1002), SERVER, 10, TCP_FLAG_ACK, "two", 2);
    feed(ts, SERVER, ep(1, 1001), 99, TCP_FLAG_ACK, NULL, 3); /* flow 1 active again */
    feed(ts, ep(1, 1003), SERVER, 10, TCP_FLAG_ACK, "three", 4);
    assert_log(r, "open 1;open 2;close 2 evicted;open 3;");
    feed(ts, ep(1, 1001), SERVER, 13, TCP_FLAG_ACK, "+", 5);
    assert_stream(r, 1, 0, "one+");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.flows_evicted, 1);
    assert_int_equal(st.flows_active, 2);
    tcp_stream_finish(ts);
    assert_log(r, "open 1;open 2;close 2 evicted;open 3;close 3 end;close 1 end;");
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_idle_eviction(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.idle_timeout_ns = 100};
    struct tcp_stream *ts = new_stream(r, &cfg);
    feed(ts, ep(1, 1001), SERVER, 10, TCP_FLAG_ACK, "one", 1000);
    feed(ts, ep(1, 1002), SERVER, 10, TCP_FLAG_ACK, "two", 1050);
    feed(ts, ep(1, 1002), SERVER, 13, TCP_FLAG_ACK, NULL, 1080); /* ACKs keep it alive */
    tcp_stream_tick(ts, 1099);
    assert_int_equal(r->closes, 0);
    tcp_stream_tick(ts, 1100);
    assert_log(r, "open 1;open 2;close 1 idle;");
    tcp_stream_tick(ts, 1179);
    assert_int_equal(r->closes, 1);
    tcp_stream_tick(ts, 1180);
    assert_log(r, "open 1;open 2;close 1 idle;close 2 idle;");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.flows_idle_closed, 2);
    assert_int_equal(st.flows_active, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_port_reuse(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 100, 200);
    c2s(ts, 101, "old", 4);
    feed(ts, CLIENT, SERVER, 9000, TCP_FLAG_SYN, NULL, 5);
    c2s(ts, 9001, "new", 6);
    assert_log(r, "open 1;close 1 evicted;open 2;");
    assert_stream(r, 1, 0, "old");
    assert_stream(r, 2, 0, "new");
    assert_int_equal(stats(ts).flows_reused, 1);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_total_limit_drops(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.max_ooo_bytes_total = 200, .max_ooo_bytes_per_flow = 10000};
    struct tcp_stream *ts = new_stream(r, &cfg);
    handshake(ts, 0, 0);
    char big[151];
    memset(big, 'q', 150);
    big[150] = 0;
    c2s(ts, 11, "k", 4);            /* buffered */
    c2s(ts, 100, big, 5);           /* would pass the total: dropped */
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.ooo_dropped_bytes, 150);
    assert_true(st.ooo_bytes_buffered > 0 && st.ooo_bytes_buffered <= 200);
    c2s(ts, 1, "abcdefghij", 6);
    assert_stream(r, 1, 0, "abcdefghijk");
    assert_int_equal(stats(ts).ooo_bytes_buffered, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_out_of_window(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    c2s(ts, 1, "a", 4);
    c2s(ts, 0x50000000u, "garbage", 5);
    c2s(ts, 2, "b", 6);
    assert_stream(r, 1, 0, "ab");
    struct tcp_stream_stats st = stats(ts);
    assert_int_equal(st.out_of_window, 1);
    assert_int_equal(st.ooo_bytes_buffered, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

/* Bytes the snaplen cut off are reported as a gap right away. */
static void test_snaplen_cut_is_gap(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    handshake(ts, 0, 0);
    struct tcp_segment s = {.src = CLIENT, .dst = SERVER, .seq = 1, .flags = TCP_FLAG_ACK,
                            .payload = (const uint8_t *)"abcd", .len = 4, .wire_len = 10,
                            .ts_ns = 4, .pkt_index = 4};
    tcp_stream_feed(ts, &s);
    c2s(ts, 11, "k", 5);
    assert_stream(r, 1, 0, "abcdk");
    assert_log(r, "open 1;gap 1/0 6@4;");
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_ipv6_and_two_flows(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream *ts = new_stream(r, NULL);
    struct netaddr c6 = {.family = 6, .ip = {0xfe, 0x80, [15] = 1}, .port = 40000};
    struct netaddr s6 = {.family = 6, .ip = {0xfe, 0x80, [15] = 2}, .port = 5672};
    feed(ts, c6, s6, 1, TCP_FLAG_ACK, "six", 1);
    c2s(ts, 1, "four", 2);
    feed(ts, s6, c6, 7, TCP_FLAG_ACK, "back", 3);
    assert_stream(r, 1, 0, "six");
    assert_stream(r, 1, 1, "back");
    assert_stream(r, 2, 0, "four");
    tcp_stream_free(ts);
    /* Closed least recently active first. */
    assert_log(r, "open 1;open 2;close 2 end;close 1 end;");
    rec_free(r);
}

/* The lost packet was the last before the FIN: the FIN says how much is missing. */
static void test_tail_hole_known_from_fin(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.gap_timeout_ns = 1000};
    struct tcp_stream *ts = new_stream(r, &cfg);
    handshake(ts, 0, 0);
    c2s(ts, 1, "abc", 10);
    /* 4..8 lost */
    feed(ts, CLIENT, SERVER, 9, TCP_FLAG_FIN, NULL, 20);
    feed(ts, SERVER, CLIENT, 1, TCP_FLAG_FIN, NULL, 30);
    assert_int_equal(r->closes, 0);
    tcp_stream_tick(ts, 1019);
    assert_int_equal(r->closes, 0);
    tcp_stream_tick(ts, 1020);
    assert_log(r, "open 1;gap 1/0 5@3;close 1 fin;");
    assert_int_equal(stats(ts).flows_active, 0);
    tcp_stream_free(ts);
    rec_free(r);
}

/* The peer ACKed bytes the capture never saw: a tail hole, aged like any other. */
static void test_tail_hole_known_from_ack(void **state)
{
    struct rec *r = rec_new();
    struct tcp_stream_config cfg = {.gap_timeout_ns = 1000};
    struct tcp_stream *ts = new_stream(r, &cfg);
    handshake(ts, 100, 0);
    c2s(ts, 101, "frame", 10);                                      /* 101..105 */
    feed_ack(ts, SERVER, CLIENT, 1, TCP_FLAG_ACK, 106, NULL, 11);   /* acks what we saw */
    feed_ack(ts, SERVER, CLIENT, 1, TCP_FLAG_ACK, 116, NULL, 12);   /* 106..115 unseen */
    feed_ack(ts, SERVER, CLIENT, 1, TCP_FLAG_ACK, 120, NULL, 500);  /* the hole grows */
    tcp_stream_tick(ts, 1011);
    assert_log(r, "open 1;");
    tcp_stream_tick(ts, 1012);                                      /* aged from t=12 */
    assert_log(r, "open 1;gap 1/0 14@5;");
    c2s(ts, 120, "next", 1100);
    assert_stream(r, 1, 0, "framenext");

    /* A hole filled in time is no gap; one still open at the end is reported. */
    feed_ack(ts, SERVER, CLIENT, 1, TCP_FLAG_ACK, 130, NULL, 1200);
    c2s(ts, 124, "+-+-+-", 1300);
    feed_ack(ts, SERVER, CLIENT, 1, TCP_FLAG_ACK, 140, NULL, 1400);
    tcp_stream_finish(ts);
    assert_stream(r, 1, 0, "framenext+-+-+-");
    assert_log(r, "open 1;gap 1/0 14@5;gap 1/0 10@29;close 1 end;");
    tcp_stream_free(ts);
    rec_free(r);
}

static void test_close_reason_names(void **state)
{
    assert_string_equal(tcp_close_reason_name(TCP_CLOSE_FIN), "fin");
    assert_string_equal(tcp_close_reason_name(TCP_CLOSE_RST), "rst");
    assert_string_equal(tcp_close_reason_name(TCP_CLOSE_IDLE), "idle");
    assert_string_equal(tcp_close_reason_name(TCP_CLOSE_EVICTED), "evicted");
    assert_string_equal(tcp_close_reason_name(TCP_CLOSE_END), "end");
    assert_string_equal(tcp_close_reason_name((enum tcp_close_reason)42), "unknown");
}

/* ---- randomised ---------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

struct piece {
    uint32_t off, len;
};

/* Cuts a stream into random segments, duplicates some (with other cut points),
 * shuffles within a window, drops `drop` of them; feeds everything. */
static void run_shuffled(const uint8_t *stream, uint32_t total, uint32_t isn, size_t drop,
                         struct rec *r, struct tcp_stream *ts)
{
    struct piece p[4096];
    size_t n = 0;
    for (uint32_t off = 0; off < total;) {
        uint32_t len = 1 + rnd(300);
        if (off + len > total)
            len = total - off;
        p[n++] = (struct piece){off, len};
        if (rnd(5) == 0 && n < 4000) { /* a retransmission spanning differently */
            uint32_t back = rnd(off + 1);
            p[n++] = (struct piece){off - back, back + len};
        }
        off += len;
    }
    for (size_t i = 0; i < n; i++) { /* local shuffle: reorder within 8 */
        size_t j = i + rnd(8);
        if (j < n) {
            struct piece t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
    }
    for (size_t k = 0; k < drop; k++) {
        size_t i = rnd((uint32_t)n);
        p[i].len = 0; /* dropped */
    }
    feed(ts, CLIENT, SERVER, isn, TCP_FLAG_SYN, NULL, 1);
    for (size_t i = 0; i < n; i++) {
        if (!p[i].len)
            continue;
        struct tcp_segment s = {.src = CLIENT, .dst = SERVER, .seq = isn + 1 + p[i].off,
                                .flags = TCP_FLAG_ACK, .payload = stream + p[i].off,
                                .len = p[i].len, .wire_len = p[i].len,
                                .ts_ns = 10 + i, .pkt_index = i + 2};
        tcp_stream_feed(ts, &s);
    }
    tcp_stream_finish(ts);
    (void)r;
}

static void test_random_reorder_no_loss(void **state)
{
    uint8_t *stream = malloc(60000);
    for (int round = 0; round < 20; round++) {
        rng_state = 0x1234 + (uint64_t)round;
        uint32_t total = 20000 + rnd(40000);
        for (uint32_t i = 0; i < total; i++)
            stream[i] = (uint8_t)rnd(256);
        struct rec *r = rec_new();
        struct tcp_stream *ts = new_stream(r, NULL);
        uint32_t isn = round % 2 ? 0xffff0000u + rnd(60000) : rnd(1u << 31);
        run_shuffled(stream, total, isn, 0, r, ts);
        assert_int_equal(r->n[1][0], total);
        assert_memory_equal(r->out[1][0], stream, total);
        struct tcp_stream_stats st = stats(ts);
        assert_int_equal(st.gaps, 0);
        assert_int_equal(st.ooo_bytes_buffered, 0);
        assert_true(st.out_of_order > 0);
        tcp_stream_free(ts);
        rec_free(r);
    }
    free(stream);
}

/* With losses: every delivered byte sits at its true place once the gaps are counted in. */
static struct {
    const uint8_t *stream;
    uint8_t *placed;
    uint8_t *seen;
    size_t pos;
} lossy;

static void lossy_data(void *user, struct tcp_flow *f, int dir, const uint8_t *data, size_t len,
                       uint64_t ts_ns, uint64_t pkt_index)
{
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(data[i], lossy.stream[lossy.pos + i]);
        assert_int_equal(lossy.seen[lossy.pos + i], 0);
        lossy.seen[lossy.pos + i] = 1;
    }
    lossy.pos += len;
}

static void lossy_gap(void *user, struct tcp_flow *f, int dir, uint64_t missing, uint64_t ts)
{
    assert_true(missing > 0);
    lossy.pos += missing;
}

static void test_random_loss(void **state)
{
    uint8_t *stream = malloc(60000);
    uint8_t *seen = malloc(60000);
    for (int round = 0; round < 20; round++) {
        rng_state = 0x9876 + (uint64_t)round;
        uint32_t total = 20000 + rnd(40000);
        for (uint32_t i = 0; i < total; i++)
            stream[i] = (uint8_t)rnd(256);
        memset(seen, 0, 60000);
        lossy.stream = stream;
        lossy.seen = seen;
        lossy.pos = 0;
        struct tcp_stream_callbacks cb = {NULL, lossy_data, lossy_gap, NULL, NULL};
        struct tcp_stream_config cfg = {.max_ooo_bytes_per_flow = 2000 + rnd(20000),
                                        .gap_timeout_ns = 5 + rnd(100)};
        struct tcp_stream *ts = tcp_stream_new(&cfg, &cb);
        run_shuffled(stream, total, rnd(1u << 31), 1 + rnd(5), NULL, ts);
        struct tcp_stream_stats st = stats(ts);
        /* Only a loss at the very end can leave the position short of the total. */
        assert_true(lossy.pos <= total);
        assert_true(lossy.pos + 300 * 5 >= total);
        size_t delivered = 0;
        for (uint32_t i = 0; i < total; i++)
            delivered += seen[i];
        assert_int_equal(delivered + st.gap_bytes, lossy.pos);
        assert_int_equal(st.ooo_bytes_buffered, 0);
        tcp_stream_free(ts);
    }
    free(stream);
    free(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_with_handshake),
        cmocka_unit_test(test_direction_from_syn),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_overlap_first_copy_wins),
        cmocka_unit_test(test_overlapping_buffered_segments),
        cmocka_unit_test(test_retransmission),
        cmocka_unit_test(test_sequence_wraparound),
        cmocka_unit_test(test_gap_by_bytes),
        cmocka_unit_test(test_gap_by_time),
        cmocka_unit_test(test_rst_mid_flow),
        cmocka_unit_test(test_flow_without_syn),
        cmocka_unit_test(test_fin_after_hole),
        cmocka_unit_test(test_finish_delivers_buffered),
        cmocka_unit_test(test_flow_table_eviction),
        cmocka_unit_test(test_idle_eviction),
        cmocka_unit_test(test_port_reuse),
        cmocka_unit_test(test_total_limit_drops),
        cmocka_unit_test(test_out_of_window),
        cmocka_unit_test(test_snaplen_cut_is_gap),
        cmocka_unit_test(test_ipv6_and_two_flows),
        cmocka_unit_test(test_tail_hole_known_from_fin),
        cmocka_unit_test(test_tail_hole_known_from_ack),
        cmocka_unit_test(test_close_reason_names),
        cmocka_unit_test(test_random_reorder_no_loss),
        cmocka_unit_test(test_random_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

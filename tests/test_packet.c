/*
 * test_packet.c: packet_decode on hand-built frames.
 *
 * Each test assembles a TCP segment inside IPv4/IPv6 inside one of the link
 * layers byte by byte, so every field the decoder reads is one we chose, and
 * then checks the segment it hands back or the reason it refused. Cutting a
 * frame at every length checks that no header read escapes the cursor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "capture/packet.h"

struct buf {
    uint8_t b[2048];
    size_t n;
};

static void put8(struct buf *b, uint8_t v)
{
    assert_true(b->n < sizeof b->b);
    b->b[b->n++] = v;
}

static void put16(struct buf *b, uint16_t v)
{
    put8(b, (uint8_t)(v >> 8));
    put8(b, (uint8_t)v);
}

static void put32(struct buf *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b, (uint16_t)v);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put_zero(struct buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(b, 0);
}

#define PAYLOAD "hello amqp"
#define SPORT 40000
#define DPORT 5672
#define SEQ 0x11223344u
#define ACK 0x55667788u

/* TCP header (with opt_words 32-bit option words) and payload. */
static void put_tcp(struct buf *b, uint8_t flags, size_t opt_words, const char *payload)
{
    put16(b, SPORT);
    put16(b, DPORT);
    put32(b, SEQ);
    put32(b, ACK);
    put8(b, (uint8_t)((5 + opt_words) << 4));
    put8(b, flags);
    put16(b, 65535);
    put16(b, 0);
    put16(b, 0);
    for (size_t i = 0; i < opt_words; i++)
        put32(b, 0x01010101); /* NOPs */
    put_bytes(b, payload, strlen(payload));
}

static const uint8_t v4src[4] = {10, 0, 0, 1}, v4dst[4] = {10, 0, 0, 2};
static const uint8_t v6src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* IPv4 header (opt_words of options) + TCP segment; total length computed. */
static void put_ipv4_tcp(struct buf *b, size_t opt_words, uint16_t frag, uint8_t proto,
                         const char *payload)
{
    struct buf t = {.n = 0};
    put_tcp(&t, TCP_FLAG_ACK | TCP_FLAG_PSH, 0, payload);
    size_t ihl = 20 + opt_words * 4;
    put8(b, (uint8_t)(0x40 | (ihl / 4)));
    put8(b, 0);
    put16(b, (uint16_t)(ihl + t.n));
    put16(b, 0x1234);
    put16(b, frag);
    put8(b, 64);
    put8(b, proto);
    put16(b, 0);
    put_bytes(b, v4src, 4);
    put_bytes(b, v4dst, 4);
    for (size_t i = 0; i < opt_words; i++)
        put32(b, 0x01010101);
    put_bytes(b, t.b, t.n);
}

struct ext {
    uint8_t type;
    size_t len; /* total bytes of this header */
    uint16_t frag_off_m;
};

/* IPv6 header + extension headers + TCP segment. */
static void put_ipv6_tcp(struct buf *b, const struct ext *exts, size_t next_count,
                         uint8_t final_next, const char *payload)
{
    struct buf x = {.n = 0};
    for (size_t i = 0; i < next_count; i++) {
        uint8_t nh = i + 1 < next_count ? exts[i + 1].type : final_next;
        put8(&x, nh);
        if (exts[i].type == 44) {
            put8(&x, 0);
            put16(&x, exts[i].frag_off_m);
            put32(&x, 0xabcd);
        } else if (exts[i].type == 51) {
            put8(&x, (uint8_t)(exts[i].len / 4 - 2));
            put_zero(&x, exts[i].len - 2);
        } else {
            put8(&x, (uint8_t)(exts[i].len / 8 - 1));
            put_zero(&x, exts[i].len - 2);
        }
    }
    put_tcp(&x, TCP_FLAG_ACK, 0, payload);
    put32(b, 0x60000000);
    put16(b, (uint16_t)x.n);
    put8(b, next_count ? exts[0].type : final_next);
    put8(b, 64);
    put_bytes(b, v6src, 16);
    put_bytes(b, v6dst, 16);
    put_bytes(b, x.b, x.n);
}

static void put_eth(struct buf *b, uint16_t type)
{
    put_zero(b, 12);
    put16(b, type);
}

static enum packet_result decode(const struct buf *b, int linktype, struct tcp_segment *seg)
{
    struct packet pkt = {.ts_ns = 1234, .index = 7, .caplen = (uint32_t)b->n,
                         .wirelen = (uint32_t)b->n, .linktype = linktype, .data = b->b};
    return packet_decode(&pkt, seg);
}

static void check_v4_segment(const struct tcp_segment *s)
{
    assert_int_equal(s->src.family, 4);
    assert_memory_equal(s->src.ip, v4src, 4);
    assert_memory_equal(s->dst.ip, v4dst, 4);
    assert_int_equal(s->src.port, SPORT);
    assert_int_equal(s->dst.port, DPORT);
    assert_int_equal(s->seq, SEQ);
    assert_int_equal(s->ack, ACK);
    assert_int_equal(s->len, strlen(PAYLOAD));
    assert_int_equal(s->wire_len, strlen(PAYLOAD));
    assert_memory_equal(s->payload, PAYLOAD, strlen(PAYLOAD));
    assert_int_equal(s->ts_ns, 1234);
    assert_int_equal(s->pkt_index, 7);
}

static void check_v6_segment(const struct tcp_segment *s)
{
    assert_int_equal(s->src.family, 6);
    assert_memory_equal(s->src.ip, v6src, 16);
    assert_memory_equal(s->dst.ip, v6dst, 16);
    assert_int_equal(s->src.port, SPORT);
    assert_int_equal(s->len, strlen(PAYLOAD));
    assert_memory_equal(s->payload, PAYLOAD, strlen(PAYLOAD));
}

static void test_ethernet_ipv4(void **state)
{
    struct buf b = {.n = 0};
    put_eth(&b, 0x0800);
    put_ipv4_tcp(&b, 0, 0x4000 /* DF */, 6, PAYLOAD);
    struct tcp_segment s;
    assert_int_equal(decode(&b, DLT_EN10MB, &s), PACKET_TCP);
    check_v4_segment(&s);
    assert_int_equal(s.flags, TCP_FLAG_ACK | TCP_FLAG_PSH);
}

/* Ethernet pads short frames to 60 bytes: the IP total length says where data ends. */
static void test_ethernet_padding_not_payload(void **state)
{
    struct buf b = {.n = 0};
    put_eth(&b, 0x0800);
    put_ipv4_tcp(&b, 0, 0, 6, "");
    put_zero(&b, 6);
    struct tcp_segment s;
    assert_int_equal(decode(&b, DLT_EN10MB, &s), PACKET_TCP);
    assert_int_equal(s.len, 0);
    assert_int_equal(s.wire_len, 0);
}

static void test_vlan_and_qinq(void **state)
{
    static const uint16_t stacks[][3] = {
        {0x8100, 0, 0}, {0x88a8, 0x8100, 0}, {0x9100, 0x8100, 0}, {0x88a8, 0x8100, 0x8100}};
    for (size_t i = 0; i < sizeof stacks / sizeof stacks[0]; i++) {
        struct buf b = {.n = 0};
        put_zero(&b, 12);
        for (size_t t = 0; t < 3 && stacks[i][t]; t++) {
            put16(&b, stacks[i][t]);
            put16(&b, (uint16_t)(100 + t)); /* TCI */
        }
        put16(&b, 0x0800);
        put_ipv4_tcp(&b, 0, 0, 6, PAYLOAD);
        struct tcp_segment s;
        assert_int_equal(decode(&b, DLT_EN10MB, &s), PACKET_TCP);
        check_v4_segment(&s);
    }
}

static void test_vlan_depth_bounded(void **state)
{
    struct buf b = {.n = 0};
    put_zero(&b, 12);
    for (int t = 0; t < 20; t++) {
        put16(&b, 0x8100);
        put16(&b, 1);
    }
    put16(&b, 0x0800);
    put_ipv4_tcp(&b, 0, 0, 6, PAYLOAD);
    struct tcp_segment s;
    assert_int_equal(decode(&b, DLT_EN10MB, &s), PACKET_MALFORMED);
}

static void test_linux_sll(void **state)
{
    struct buf b = {.n = 0};
    put16(&b, 0);  /* packet type: to us */
    put16(&b, 1);  /* ARPHRD_ETHER */
    put16(&b, 6);  /* address length */
    put_zero(&b, 8);
    put16(&b, 0x0800);
    put_ipv4_tcp(&b, 0, 0, 6, PAYLOAD);
    struct tcp_segment s;
    assert_int_equal(decode(&b, DLT_LINUX_SLL, &s), PACKET_TCP);
    check_v4_segment(&s);

    /* A VLAN tag libpcap put back after the cooked header. */
    struct buf v = {.n = 0};
    put16(&v, 0);
    put16(&v, 1);
    put16(&v, 6);
    put_zero(&v, 8);
    put16(&v, 0x8100);
    put16(&v, 42);
    put16(&v, 0x86dd);
    put_ipv6_tcp(&v, NULL, 0, 6, PAYLOAD);
    assert_int_equal(decode(&v, DLT_LINUX_SLL, &s), PACKET_TCP);
    check_v6_segment(&s);
}

static void test_linux_sll2(void **state)
{
    struct buf b = {.n = 0};
    put16(&b, 0x86dd); /* protocol */
    put16(&b, 0);      /* reserved */
    put32(&b, 3);      /* ifindex */
    put16(&b, 772);    /* ARPHRD_LOOPBACK */
    put8(&b, 0);       /* packet type */
    put8(&b, 6);       /* address length */
    put_zero(&b, 8);
    put_ipv6_tcp(&b, NULL, 0, 6, PAYLOAD);
    struct tcp_segment s;
    assert_int_equal(decode(&b, DLT_LINUX_SLL2, &s), PACKET_TCP);
    check_v6_segment(&s);

    struct buf v = {.n = 0};
    put16(&v, 0x8100);
    put16(&v, 0);
    put32(&v, 3);
    put16(&v, 1);
    put8(&v, 0);
    put8(&v, 6);
    put_zero(&v, 8);
    put16(&v, 7);      /* TCI */
    put16(&v, 0x0800);
    put_ipv4_tcp(&v, 0, 0, 6, PAYLOAD);
    assert_int_equal(decode(&v, DLT_LINUX_SLL2, &s), PACKET_TCP);
    check_v4_segment(&s);
}

static void put_family(struct buf *b, uint32_t fam, bool big_endian)
{
    if (big_endian) {
        put32(b, fam);
    } else {
        put8(b, (uint8_t)fam);
        put8(b, (uint8_t)(fam >> 8));
        put8(b, (uint8_t)(fam >> 16));
        put8(b, (uint8_t)(fam >> 24));
    }
}

static void test_null_and_loop(void **state)
{
    static const int dlts[] = {DLT_NULL, DLT_LOOP};
    static const uint32_t v6fams[] = {24, 28, 30};
    struct tcp_segment s;
    for (size_t d = 0; d < 2; d++) {
        for (int be = 0; be < 2; be++) {
            struct buf b = {.n = 0};
            put_family(&b, 2, be);
            put_ipv4_tcp(&b, 0, 0, 6, PAYLOAD);
            assert_int_equal(decode(&b, dlts[d], &s), PACKET_TCP);
            check_v4_segment(&s);
            for (size_t f = 0; f < 3; f++) {
                struct buf c = {.n = 0};
                put_family(&c, v6fams[f], be);
                put_ipv6_tcp(&c, NULL, 0, 6, PAYLOAD);
                assert_int_equal(decode(&c, dlts[d], &s), PACKET_TCP);
                check_v6_segment(&s);
            }
        }
        struct buf o = {.n = 0};
        put_family(&o, 7 /* AF_UNIX-ish: not IP */, true);
        put_ipv4_tcp(&o, 0, 0, 6, PAYLOAD);
        assert_int_equal(decode(&o, dlts[d], &s), PACKET_NOT_TCP);
    }
}

static void test_raw_ip(void **state)
{
    struct tcp_segment s;
    struct buf b4 = {.n = 0}, b6 = {.n = 0};
    put_ipv4_tcp(&b4, 0, 0, 6, PAYLOAD);
    put_ipv6_tcp(&b6, NULL, 0, 6, PAYLOAD);
    static const int raws[] = {DLT_RAW, 101};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(decode(&b4, raws[i], &s), PACKET_TCP);
        check_v4_segment(&s);
        assert_int_equal(decode(&b6, raws[i], &s), PACKET_TCP);
        check_v6_segment(&s);
    }
    assert_int_equal(decode(&b4, DLT_IPV4, &s), PACKET_TCP);
    check_v4_segment(&s);
    assert_int_equal(decode(&b6, DLT_IPV6, &s), PACKET_TCP);
    check_v6_segment(&s);
    /* The link type says IPv6 but the header is IPv4. */
    assert_int_equal(decode(&b4, DLT_IPV6, &s), PACKET_MALFORMED);
    b4.b[0] = 0x55; /* version 5 */
    assert_int_equal(decode(&b4, DLT_RAW, &s), PACKET_NOT_TCP);
}

static void test_ipv4_options(void **state)
{
    struct buf b = {.n = 0};
    put_eth(&b, 0x0800);
    put_ipv4_tcp(&b, 3, 0, 6, PAYLOAD);
    struct tcp_segment s;
    assert_int_equal(decode(&b, DLT_EN10MB, &s), PACKET_TCP);
    check_v4_segment(&s);

    /* TCP options too. */
    struct buf t = {.n = 0};
    put_tcp(&t, TCP_FLAG_ACK, 3, PAYLOAD);
    struct buf r = {.n = 0};
    put8(&r, 0x45);
    put8(&r, 0);
    put16(&r, (uint16_t)(20 + t.n));
    put32(&r, 0);
    put8(&r, 64);
    put8(&r, 6);
    put16(&r, 0);
    put_bytes(&r, v4src, 4);
    put_bytes(&r, v4dst, 4);
    put_bytes(&r, t.b, t.n);
    assert_int_equal(decode(&r, DLT_RAW, &s), PACKET_TCP);
    check_v4_segment(&s);
}

static void test_ipv4_fragments(void **state)
{
    struct tcp_segment s;
    static const uint16_t frags[] = {0x2000 /* MF */, 0x0010 /* offset */, 0x2010};
    for (size_t i = 0; i < 3; i++) {
        struct buf b = {.n = 0};
        put_ipv4_tcp(&b, 0, frags[i], 6, PAYLOAD);
        assert_int_equal(decode(&b, DLT_RAW, &s), PACKET_FRAGMENT);
    }
    struct buf u = {.n = 0};
    put_ipv4_tcp(&u, 0, 0x2000, 17, PAYLOAD); /* a UDP fragment is just not TCP */
    assert_int_equal(decode(&u, DLT_RAW, &s), PACKET_NOT_TCP);
}

static void test_ipv6_extension_headers(void **state)
{
    struct tcp_segment s;
    const struct ext chain[] = {{0, 8, 0}, {43, 24, 0}, {60, 16, 0}, {51, 16, 0}};
    struct buf b = {.n = 0};
    put_eth(&b, 0x86dd);
    put_ipv6_tcp(&b, chain, 4, 6, PAYLOAD);
    assert_int_equal(decode(&b, DLT_EN10MB, &s), PACKET_TCP);
    check_v6_segment(&s);
    assert_int_equal(s.wire_len, strlen(PAYLOAD));

    const struct ext frag[] = {{0, 8, 0}, {44, 8, 0x0001 /* M */}};
    struct buf f = {.n = 0};
    put_ipv6_tcp(&f, frag, 2, 6, PAYLOAD);
    assert_int_equal(decode(&f, DLT_RAW, &s), PACKET_FRAGMENT);

    const struct ext later[] = {{44, 8, 0x0100 /* offset 32 */}};
    struct buf l = {.n = 0};
    put_ipv6_tcp(&l, later, 1, 6, PAYLOAD);
    assert_int_equal(decode(&l, DLT_RAW, &s), PACKET_FRAGMENT);

    const struct ext atomic[] = {{44, 8, 0}}; /* RFC 6946: a whole packet */
    struct buf a = {.n = 0};
    put_ipv6_tcp(&a, atomic, 1, 6, PAYLOAD);
    assert_int_equal(decode(&a, DLT_RAW, &s), PACKET_TCP);
    check_v6_segment(&s);

    struct buf udp = {.n = 0};
    put_ipv6_tcp(&udp, chain, 1, 17, PAYLOAD);
    assert_int_equal(decode(&udp, DLT_RAW, &s), PACKET_NOT_TCP);

    struct ext many[12];
    for (size_t i = 0; i < 12; i++)
        many[i] = (struct ext){60, 8, 0};
    struct buf m = {.n = 0};
    put_ipv6_tcp(&m, many, 12, 6, PAYLOAD);
    assert_int_equal(decode(&m, DLT_RAW, &s), PACKET_MALFORMED);
}

/* Every cut inside the headers is MALFORMED; every cut in the payload is a
 * shorter segment whose wire_len still says how long it was. */
static void check_every_cut(const struct buf *full, int linktype, size_t headers)
{
    struct tcp_segment s;
    for (size_t cut = 0; cut < full->n; cut++) {
        struct packet pkt = {.caplen = (uint32_t)cut, .wirelen = (uint32_t)full->n,
                             .linktype = linktype, .data = full->b};
        enum packet_result r = packet_decode(&pkt, &s);
        if (cut < headers) {
            assert_int_equal(r, PACKET_MALFORMED);
        } else {
            assert_int_equal(r, PACKET_TCP);
            assert_int_equal(s.len, cut - headers);
            assert_int_equal(s.wire_len, strlen(PAYLOAD));
            assert_memory_equal(s.payload, PAYLOAD, s.len);
        }
    }
}

static void test_truncated_headers(void **state)
{
    struct buf b = {.n = 0};
    put_eth(&b, 0x0800);
    put_ipv4_tcp(&b, 1, 0, 6, PAYLOAD);
    check_every_cut(&b, DLT_EN10MB, 14 + 24 + 20);

    const struct ext chain[] = {{0, 8, 0}, {60, 16, 0}};
    struct buf v = {.n = 0};
    put16(&v, 0x86dd);
    put16(&v, 0);
    put32(&v, 1);
    put16(&v, 1);
    put8(&v, 0);
    put8(&v, 6);
    put_zero(&v, 8);
    put_ipv6_tcp(&v, chain, 2, 6, PAYLOAD);
    check_every_cut(&v, DLT_LINUX_SLL2, 20 + 40 + 24 + 20);

    struct buf n = {.n = 0};
    put_family(&n, 2, false);
    put_ipv4_tcp(&n, 0, 0, 6, PAYLOAD);
    check_every_cut(&n, DLT_NULL, 4 + 20 + 20);
}

static void test_inconsistent_headers(void **state)
{
    struct tcp_segment s;
    struct buf b = {.n = 0};
    put_ipv4_tcp(&b, 0, 0, 6, PAYLOAD);

    struct buf bad = b;
    bad.b[0] = 0x44; /* IHL 16 bytes */
    assert_int_equal(decode(&bad, DLT_RAW, &s), PACKET_MALFORMED);

    bad = b;
    bad.b[2] = 0;
    bad.b[3] = 12; /* total length shorter than the IP header */
    assert_int_equal(decode(&bad, DLT_RAW, &s), PACKET_MALFORMED);

    bad = b;
    bad.b[3] = 30; /* total length cuts the TCP header */
    assert_int_equal(decode(&bad, DLT_RAW, &s), PACKET_MALFORMED);

    bad = b;
    bad.b[20 + 12] = 0x40; /* TCP data offset 16 bytes */
    assert_int_equal(decode(&bad, DLT_RAW, &s), PACKET_MALFORMED);

    bad = b;
    bad.b[20 + 12] = 0xf0; /* TCP data offset 60 bytes, past the packet */
    assert_int_equal(decode(&bad, DLT_RAW, &s), PACKET_MALFORMED);

    /* Total length 0: TSO on the capturing host; take what was captured. */
    bad = b;
    bad.b[2] = bad.b[3] = 0;
    assert_int_equal(decode(&bad, DLT_RAW, &s), PACKET_TCP);
    check_v4_segment(&s);

    /* IPv6 payload length shorter than its extension header. */
    const struct ext chain[] = {{0, 16, 0}};
    struct buf v = {.n = 0};
    put_ipv6_tcp(&v, chain, 1, 6, PAYLOAD);
    v.b[4] = 0;
    v.b[5] = 8;
    assert_int_equal(decode(&v, DLT_RAW, &s), PACKET_MALFORMED);
}

static void test_snaplen_cut_payload(void **state)
{
    struct buf b = {.n = 0};
    put_eth(&b, 0x0800);
    put_ipv4_tcp(&b, 0, 0, 6, PAYLOAD);
    struct packet pkt = {.caplen = (uint32_t)b.n - 4, .wirelen = (uint32_t)b.n,
                         .linktype = DLT_EN10MB, .data = b.b};
    struct tcp_segment s;
    assert_int_equal(packet_decode(&pkt, &s), PACKET_TCP);
    assert_int_equal(s.len, strlen(PAYLOAD) - 4);
    assert_int_equal(s.wire_len, strlen(PAYLOAD));
}

static void test_not_tcp_and_unsupported(void **state)
{
    struct tcp_segment s;
    struct buf arp = {.n = 0};
    put_eth(&arp, 0x0806);
    put_zero(&arp, 28);
    assert_int_equal(decode(&arp, DLT_EN10MB, &s), PACKET_NOT_TCP);

    struct buf udp = {.n = 0};
    put_eth(&udp, 0x0800);
    put_ipv4_tcp(&udp, 0, 0, 17, PAYLOAD);
    assert_int_equal(decode(&udp, DLT_EN10MB, &s), PACKET_NOT_TCP);

    assert_int_equal(decode(&udp, DLT_IEEE802_11, &s), PACKET_UNSUPPORTED_LINK);
    assert_false(packet_linktype_supported(DLT_IEEE802_11));
    assert_false(packet_linktype_supported(DLT_PPP));
    static const int ok[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                             DLT_RAW, 101, DLT_IPV4, DLT_IPV6};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(packet_linktype_supported(ok[i]));

    struct packet empty = {.caplen = 0, .linktype = DLT_EN10MB, .data = NULL};
    assert_int_equal(packet_decode(&empty, &s), PACKET_MALFORMED);
}

static void test_result_names(void **state)
{
    assert_string_equal(packet_result_name(PACKET_TCP), "tcp");
    assert_string_equal(packet_result_name(PACKET_NOT_TCP), "not_tcp");
    assert_string_equal(packet_result_name(PACKET_FRAGMENT), "fragment");
    assert_string_equal(packet_result_name(PACKET_MALFORMED), "malformed");
    assert_string_equal(packet_result_name(PACKET_UNSUPPORTED_LINK), "unsupported_link");
    assert_string_equal(packet_result_name((enum packet_result)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4),
        cmocka_unit_test(test_ethernet_padding_not_payload),
        cmocka_unit_test(test_vlan_and_qinq),
        cmocka_unit_test(test_vlan_depth_bounded),
        cmocka_unit_test(test_linux_sll),
        cmocka_unit_test(test_linux_sll2),
        cmocka_unit_test(test_null_and_loop),
        cmocka_unit_test(test_raw_ip),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_truncated_headers),
        cmocka_unit_test(test_inconsistent_headers),
        cmocka_unit_test(test_snaplen_cut_payload),
        cmocka_unit_test(test_not_tcp_and_unsupported),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

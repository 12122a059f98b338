/*
 * packet.c: decodes one captured packet down to its TCP segment.
 *
 * Link layer → IPv4/IPv6 → TCP, every read through the rd cursor so a cut or
 * lying header ends in PACKET_MALFORMED instead of a read past the buffer.
 * The IP length fields bound the segment (Ethernet padding is not payload);
 * the captured length bounds what we may read (snaplen). Fragments are
 * reported, not reassembled: AMQP over TCP is not fragmented in practice and
 * a fragment reassembler would be one more unbounded table. Nothing is
 * copied: the segment's payload points into the packet buffer.
 */
#include "capture/packet.h"

#include <pcap/pcap.h>
#include <string.h>

#include "common/rd.h"

/* LINKTYPE_RAW as pcap files store it; libpcap maps it to DLT_RAW but a
 * caller may hand us the file's value directly. */
#define LINKTYPE_RAW_FILE 101

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

/* More VLAN tags than this is not a real network, it is a crafted packet. */
#define MAX_VLAN_TAGS 8
/* Bound on IPv6 extension headers walked before giving up. */
#define MAX_IPV6_EXT_HEADERS 8

#define IPPROTO_NUM_TCP 6
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60

/* BSD loopback address families: AF_INET is 2 everywhere, AF_INET6 differs
 * between the BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_A 24
#define BSD_AF_INET6_B 28
#define BSD_AF_INET6_C 30

enum net_proto { NET_NONE, NET_IPV4, NET_IPV6 };

const char *packet_result_name(enum packet_result r)
{
    switch (r) {
    case PACKET_TCP:
        return "tcp";
    case PACKET_NOT_TCP:
        return "not_tcp";
    case PACKET_FRAGMENT:
        return "fragment";
    case PACKET_MALFORMED:
        return "malformed";
    case PACKET_UNSUPPORTED_LINK:
        return "unsupported_link";
    }
    return "unknown";
}

static enum net_proto proto_of_ethertype(uint16_t type)
{
    if (type == ETHERTYPE_IPV4)
        return NET_IPV4;
    if (type == ETHERTYPE_IPV6)
        return NET_IPV6;
    return NET_NONE;
}

static bool is_vlan_tag(uint16_t type)
{
    return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
}

/* Reads the ethertype at the cursor, stepping over any stack of VLAN tags. */
static enum packet_result read_ethertype(struct rd *r, enum net_proto *np)
{
    uint16_t type = rd_be16(r);
    for (int tags = 0; r->ok && is_vlan_tag(type); tags++) {
        if (tags == MAX_VLAN_TAGS)
            return PACKET_MALFORMED;
        rd_skip(r, 2); /* TCI: priority, DEI, VLAN id */
        type = rd_be16(r);
    }
    if (!r->ok)
        return PACKET_MALFORMED;
    *np = proto_of_ethertype(type);
    return *np == NET_NONE ? PACKET_NOT_TCP : PACKET_TCP;
}

/* Raw IP: the version nibble says which. */
static enum packet_result raw_version(struct rd *r, enum net_proto *np)
{
    if (rd_left(r) < 1)
        return PACKET_MALFORMED;
    struct rd peek = *r;
    uint8_t v = rd_u8(&peek) >> 4;
    *np = v == 4 ? NET_IPV4 : v == 6 ? NET_IPV6 : NET_NONE;
    return *np == NET_NONE ? PACKET_NOT_TCP : PACKET_TCP;
}

static enum net_proto bsd_family(uint32_t fam)
{
    if (fam == BSD_AF_INET)
        return NET_IPV4;
    if (fam == BSD_AF_INET6_A || fam == BSD_AF_INET6_B || fam == BSD_AF_INET6_C)
        return NET_IPV6;
    return NET_NONE;
}

/* Each link decoder skips its header; PACKET_TCP means "an IP packet follows"
 * and *np says which. */

static enum packet_result link_ethernet(struct rd *r, enum net_proto *np)
{
    rd_skip(r, 12); /* destination and source MAC */
    return read_ethertype(r, np);
}

static enum packet_result link_sll(struct rd *r, enum net_proto *np)
{
    rd_skip(r, 14); /* packet type, ARPHRD, address length, 8 address bytes */
    return read_ethertype(r, np);
}

static enum packet_result link_sll2(struct rd *r, enum net_proto *np)
{
    uint16_t type = rd_be16(r);
    rd_skip(r, 18); /* reserved, ifindex, ARPHRD, packet type, address length, address */
    if (!r->ok)
        return PACKET_MALFORMED;
    if (is_vlan_tag(type)) {
        /* SLL2 names the tag as protocol; the tag follows the header like on Ethernet. */
        struct rd tag = *r;
        rd_skip(&tag, 2);
        enum packet_result res = read_ethertype(&tag, np);
        *r = tag;
        return res;
    }
    *np = proto_of_ethertype(type);
    return *np == NET_NONE ? PACKET_NOT_TCP : PACKET_TCP;
}

static enum packet_result link_bsd_loopback(struct rd *r, enum net_proto *np)
{
    /* DLT_NULL is in the writer's byte order, DLT_LOOP in network order;
     * the family values are small, so whichever order yields one wins. */
    const uint8_t *b = rd_bytes(r, 4);
    if (!b)
        return PACKET_MALFORMED;
    uint32_t be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    uint32_t le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    *np = bsd_family(be);
    if (*np == NET_NONE)
        *np = bsd_family(le);
    return *np == NET_NONE ? PACKET_NOT_TCP : PACKET_TCP;
}

static enum packet_result link_ipv4(struct rd *r, enum net_proto *np)
{
    (void)r;
    *np = NET_IPV4;
    return PACKET_TCP;
}

static enum packet_result link_ipv6(struct rd *r, enum net_proto *np)
{
    (void)r;
    *np = NET_IPV6;
    return PACKET_TCP;
}

/* Every link type oslotrace reads, and who decodes it: the one place that
 * answers both "is it supported?" and "how is it read?". */
static const struct {
    int linktype;
    enum packet_result (*decode)(struct rd *r, enum net_proto *np);
} link_types[] = {
    {DLT_EN10MB, link_ethernet},      {DLT_LINUX_SLL, link_sll},     {DLT_LINUX_SLL2, link_sll2},
    {DLT_NULL, link_bsd_loopback},    {DLT_LOOP, link_bsd_loopback}, {DLT_RAW, raw_version},
    {LINKTYPE_RAW_FILE, raw_version}, {DLT_IPV4, link_ipv4},         {DLT_IPV6, link_ipv6},
};

static enum packet_result (*link_decoder(int linktype))(struct rd *, enum net_proto *)
{
    for (size_t i = 0; i < sizeof link_types / sizeof link_types[0]; i++)
        if (link_types[i].linktype == linktype)
            return link_types[i].decode;
    return NULL;
}

bool packet_linktype_supported(int linktype)
{
    return link_decoder(linktype) != NULL;
}

static enum packet_result decode_link(int linktype, struct rd *r, enum net_proto *np)
{
    enum packet_result (*decode)(struct rd *, enum net_proto *) = link_decoder(linktype);
    return decode ? decode(r, np) : PACKET_UNSUPPORTED_LINK;
}

/*
 * The IP payload: a cursor over the captured part of it, and its length on
 * the wire. A header length of 0 (TSO/GRO on the capturing host, or an IPv6
 * jumbogram) means "as much as was captured".
 */
struct ip_payload {
    struct rd r;
    uint32_t wire_len;
};

static void bound_payload(struct rd *r, uint32_t claimed, struct ip_payload *out)
{
    size_t avail = rd_left(r);
    if (claimed == 0)
        claimed = (uint32_t)(avail > UINT32_MAX ? UINT32_MAX : avail);
    size_t take = claimed < avail ? claimed : avail;
    out->r = rd_sub(r, take);
    out->wire_len = claimed;
}

static enum packet_result decode_ipv4(struct rd *r, struct tcp_segment *seg, struct ip_payload *pl)
{
    uint8_t vihl = rd_u8(r);
    rd_skip(r, 1); /* DSCP/ECN */
    uint16_t total_len = rd_be16(r);
    rd_skip(r, 2); /* identification */
    uint16_t frag = rd_be16(r);
    rd_skip(r, 1); /* TTL */
    uint8_t proto = rd_u8(r);
    rd_skip(r, 2); /* header checksum: not verified, offload makes it wrong on the sender */
    const uint8_t *src = rd_bytes(r, 4);
    const uint8_t *dst = rd_bytes(r, 4);
    if (!r->ok)
        return PACKET_MALFORMED;
    unsigned ihl = (unsigned)(vihl & 0x0f) * 4;
    if (vihl >> 4 != 4 || ihl < 20)
        return PACKET_MALFORMED;
    if (total_len != 0 && total_len < ihl)
        return PACKET_MALFORMED;
    if (!rd_skip(r, ihl - 20)) /* options */
        return PACKET_MALFORMED;
    /* Fragments of other protocols are just "not TCP": only lost TCP counts. */
    if (proto != IPPROTO_NUM_TCP)
        return PACKET_NOT_TCP;
    if ((frag & 0x2000) || (frag & 0x1fff))
        return PACKET_FRAGMENT;
    seg->src.family = seg->dst.family = 4;
    memcpy(seg->src.ip, src, 4);
    memcpy(seg->dst.ip, dst, 4);
    bound_payload(r, total_len == 0 ? 0 : (uint32_t)(total_len - ihl), pl);
    return PACKET_TCP;
}

static enum packet_result decode_ipv6(struct rd *r, struct tcp_segment *seg, struct ip_payload *pl)
{
    uint32_t vtcfl = rd_be32(r);
    uint16_t payload_len = rd_be16(r);
    uint8_t next = rd_u8(r);
    rd_skip(r, 1); /* hop limit */
    const uint8_t *src = rd_bytes(r, 16);
    const uint8_t *dst = rd_bytes(r, 16);
    if (!r->ok || vtcfl >> 28 != 6)
        return PACKET_MALFORMED;
    bound_payload(r, payload_len, pl);
    /* Extension headers are inside the payload length. */
    struct rd *x = &pl->r;
    size_t before = rd_left(x);
    for (int n = 0;; n++) {
        if (next == IPPROTO_NUM_TCP)
            break;
        if (n == MAX_IPV6_EXT_HEADERS)
            return PACKET_MALFORMED;
        uint8_t nh = rd_u8(x);
        uint8_t hlen = rd_u8(x);
        if (!x->ok)
            return PACKET_MALFORMED;
        size_t skip;
        if (next == IP6_HOPOPTS || next == IP6_ROUTING || next == IP6_DSTOPTS) {
            skip = ((size_t)hlen + 1) * 8 - 2;
        } else if (next == IP6_AH) {
            skip = ((size_t)hlen + 2) * 4 - 2;
        } else if (next == IP6_FRAGMENT) {
            uint16_t off_m = rd_be16(x);
            rd_skip(x, 4); /* identification */
            if (!x->ok)
                return PACKET_MALFORMED;
            /* An "atomic fragment" (offset 0, no more) is a whole packet (RFC 6946). */
            if ((off_m & 0xfff8) || (off_m & 1))
                return nh == IPPROTO_NUM_TCP ? PACKET_FRAGMENT : PACKET_NOT_TCP;
            skip = 0;
        } else {
            return PACKET_NOT_TCP; /* UDP, ICMPv6, ESP, no next header ... */
        }
        if (!rd_skip(x, skip))
            return PACKET_MALFORMED;
        next = nh;
    }
    size_t ext = before - rd_left(x);
    if (pl->wire_len < ext)
        return PACKET_MALFORMED;
    pl->wire_len -= (uint32_t)ext;
    seg->src.family = seg->dst.family = 6;
    memcpy(seg->src.ip, src, 16);
    memcpy(seg->dst.ip, dst, 16);
    return PACKET_TCP;
}

static enum packet_result decode_tcp(struct ip_payload *pl, struct tcp_segment *seg)
{
    struct rd *r = &pl->r;
    seg->src.port = rd_be16(r);
    seg->dst.port = rd_be16(r);
    seg->seq = rd_be32(r);
    seg->ack = rd_be32(r);
    uint8_t doff = rd_u8(r);
    uint8_t flags = rd_u8(r);
    rd_skip(r, 6); /* window, checksum, urgent pointer */
    if (!r->ok)
        return PACKET_MALFORMED;
    uint32_t hlen = (uint32_t)(doff >> 4) * 4;
    if (hlen < 20 || hlen > pl->wire_len)
        return PACKET_MALFORMED;
    if (!rd_skip(r, hlen - 20)) /* options */
        return PACKET_MALFORMED;
    seg->flags = flags & (TCP_FLAG_FIN | TCP_FLAG_SYN | TCP_FLAG_RST | TCP_FLAG_PSH | TCP_FLAG_ACK);
    size_t len = rd_left(r);
    seg->payload = rd_bytes(r, len);
    seg->len = (uint32_t)len;
    seg->wire_len = pl->wire_len - hlen;
    if (seg->wire_len < seg->len) /* an IP length of 0 was taken as "what was captured" */
        seg->wire_len = seg->len;
    return PACKET_TCP;
}

enum packet_result packet_decode(const struct packet *pkt, struct tcp_segment *out)
{
    memset(out, 0, sizeof *out);
    out->ts_ns = pkt->ts_ns;
    out->pkt_index = pkt->index;
    out->source = pkt->source;
    if (!packet_linktype_supported(pkt->linktype))
        return PACKET_UNSUPPORTED_LINK;
    if (!pkt->data || pkt->caplen == 0)
        return PACKET_MALFORMED;
    struct rd r = rd_make(pkt->data, pkt->caplen);
    enum net_proto np = NET_NONE;
    enum packet_result res = decode_link(pkt->linktype, &r, &np);
    if (res != PACKET_TCP)
        return res;
    struct ip_payload pl;
    res = np == NET_IPV4 ? decode_ipv4(&r, out, &pl) : decode_ipv6(&r, out, &pl);
    if (res != PACKET_TCP)
        return res;
    return decode_tcp(&pl, out);
}

/*
 * packet.h: one captured packet, and its decoding down to a TCP segment.
 *
 * pcap_source produces `struct packet`; packet_decode() walks the link layer
 * (Ethernet with 802.1Q/QinQ, Linux SLL/SLL2, BSD NULL/LOOP, raw IP), IPv4 or
 * IPv6 and TCP, and fills a `struct tcp_segment` whose payload points into
 * the packet's own buffer (no copy). The segment is what tcp_stream consumes.
 */
#ifndef OSLOTRACE_CAPTURE_PACKET_H
#define OSLOTRACE_CAPTURE_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "common/netaddr.h"

struct packet {
    uint64_t ts_ns;      /* packet timestamp, ns since the epoch (never the wall clock) */
    uint64_t index;      /* 1-based packet number in the capture (merged order) */
    uint32_t caplen;     /* bytes captured */
    uint32_t wirelen;    /* bytes on the wire */
    int linktype;        /* DLT_* of the file or interface it came from */
    uint16_t source;     /* which input (-r file, 0-based) it came from; 0 live */
    const uint8_t *data; /* caplen bytes, valid until the next packet is read */
};

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10

struct tcp_segment {
    struct netaddr src, dst;
    uint32_t seq, ack;
    uint8_t flags;          /* TCP_FLAG_* */
    const uint8_t *payload; /* points into the packet */
    uint32_t len;           /* payload bytes captured */
    uint32_t wire_len;      /* payload bytes on the wire (> len when cut by snaplen) */
    uint64_t ts_ns;
    uint64_t pkt_index;
    uint16_t source; /* the packet's input (struct packet.source) */
};

enum packet_result {
    PACKET_TCP,              /* *out holds a TCP segment */
    PACKET_NOT_TCP,          /* another protocol: counted and skipped */
    PACKET_FRAGMENT,         /* an IP fragment: counted and skipped */
    PACKET_MALFORMED,        /* headers cut short or inconsistent */
    PACKET_UNSUPPORTED_LINK, /* a link type we do not decode */
};

const char *packet_result_name(enum packet_result r);
bool packet_linktype_supported(int linktype);
enum packet_result packet_decode(const struct packet *pkt, struct tcp_segment *out);

#endif

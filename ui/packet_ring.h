/*
 * packet_ring.h: the most recent packets of a live capture, in bounded memory.
 *
 * A live capture cannot be read twice, so what must be written to a pcap
 * after the fact (the packets of an operation that just ended, for -w; the
 * packets of the operation selected in the TUI) is taken from here while it
 * is still held. Packets are numbered in capture order (struct packet.index),
 * so a packet is found from its number in O(1); the oldest leave first, each
 * handed to a callback on its way out, with a mark its owner may have set.
 */
#ifndef OSLOTRACE_UI_PACKET_RING_H
#define OSLOTRACE_UI_PACKET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "capture/packet.h"

struct packet_ring;

/* One held packet; data is valid until the ring is pushed to again. */
struct packet_ring_item {
    uint64_t index;
    uint64_t ts_ns;
    uint32_t caplen, wirelen;
    const uint8_t *data;
    bool marked;
};

typedef void (*packet_ring_fn)(void *user, const struct packet_ring_item *p);

/* ring_bytes bounds the memory held (packet data + bookkeeping); NULL when
 * out of memory. */
struct packet_ring *packet_ring_new(size_t ring_bytes);
void packet_ring_free(struct packet_ring *r);

/* Holds a copy of pkt; the oldest packets leave first, each through on_leave
 * (may be NULL). A packet bigger than a quarter of the ring is not held. */
void packet_ring_push(struct packet_ring *r, const struct packet *pkt, packet_ring_fn on_leave,
                      void *user);

enum packet_ring_where {
    PACKET_RING_HELD,    /* the packet is here */
    PACKET_RING_GONE,    /* it has left the ring (or was never held) */
    PACKET_RING_NOT_YET, /* numbered after the newest packet held */
};

/* Marks the packet with this number; says where it is. */
enum packet_ring_where packet_ring_mark(struct packet_ring *r, uint64_t index);
/* The packet with this number, if held. */
bool packet_ring_get(const struct packet_ring *r, uint64_t index, struct packet_ring_item *out);
/* Empties the ring, oldest first, through on_leave. */
void packet_ring_drain(struct packet_ring *r, packet_ring_fn on_leave, void *user);
size_t packet_ring_count(const struct packet_ring *r);

/* Appends one packet to a pcap dumper opened with ns precision. */
void packet_ring_dump_item(pcap_dumper_t *d, const struct packet_ring_item *p);

/* Writes the held packets among idx[0..n) (sorted, no repeats) to a new pcap
 * file with ns timestamps, in order; *missing gets how many had already left
 * the ring. False (err says why) when the file cannot be written. */
bool packet_ring_write_file(const struct packet_ring *r, int linktype, const char *path,
                            const uint64_t *idx, size_t n, uint64_t *written, uint64_t *missing,
                            char *err, size_t errlen);

#endif

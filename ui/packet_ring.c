/*
 * packet_ring.c: slots in a circular array, bytes in a circular data buffer.
 *
 * Packets are numbered in order, so the slot of packet n is (first + n -
 * first_index) mod nslots. A packet's bytes are contiguous: when they do not
 * fit before the end of the data buffer, they go to its start once the
 * oldest packets there have left. A quarter of the budget goes to slots
 * (about one per 200 bytes of traffic), the rest to data.
 */
#include "ui/packet_ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t ts_ns;
    size_t off; /* into data */
    uint32_t caplen, wirelen;
    bool marked;
};

struct packet_ring {
    struct slot *slots;
    size_t nslots;        /* capacity */
    size_t first;         /* slot of the oldest packet held */
    size_t count;         /* packets held */
    uint64_t first_index; /* packet number of the oldest held */
    uint8_t *data;
    size_t data_len;
    size_t data_head; /* offset of the oldest packet's bytes */
    size_t data_tail; /* where the next packet's bytes go */
};

struct packet_ring *packet_ring_new(size_t ring_bytes)
{
    struct packet_ring *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->nslots = ring_bytes / 4 / sizeof(struct slot);
    r->data_len = ring_bytes - r->nslots * sizeof(struct slot);
    r->slots = r->nslots ? calloc(r->nslots, sizeof *r->slots) : NULL;
    r->data = r->data_len ? malloc(r->data_len) : NULL;
    if (!r->slots || !r->data) {
        packet_ring_free(r);
        return NULL;
    }
    return r;
}

void packet_ring_free(struct packet_ring *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r->data);
    free(r);
}

static struct slot *slot_of(const struct packet_ring *r, uint64_t index)
{
    return &r->slots[(r->first + (size_t)(index - r->first_index)) % r->nslots];
}

static void pop_oldest(struct packet_ring *r, packet_ring_fn on_leave, void *user)
{
    struct slot *s = &r->slots[r->first];
    if (on_leave) {
        struct packet_ring_item p = {r->first_index, s->ts_ns,         s->caplen,
                                     s->wirelen,     r->data + s->off, s->marked};
        on_leave(user, &p);
    }
    r->first = (r->first + 1) % r->nslots;
    r->count--;
    r->first_index++;
    r->data_head = r->count ? r->slots[r->first].off : r->data_tail;
}

/* True when the newest packet's bytes lie before the oldest's: the free space
 * is then the one gap between them. (Comparing data_tail with data_head alone
 * cannot tell a full ring from an empty one when they meet.) */
static bool wrapped(const struct packet_ring *r)
{
    return r->count && r->slots[(r->first + r->count - 1) % r->nslots].off < r->data_head;
}

void packet_ring_push(struct packet_ring *r, const struct packet *pkt, packet_ring_fn on_leave,
                      void *user)
{
    size_t len = pkt->caplen;
    if (len > r->data_len / 4)
        return; /* cannot be held; never happens with snaplen 262144 and a sane ring */
    if (r->count && pkt->index != r->first_index + r->count)
        packet_ring_drain(r, on_leave, user); /* numbering broke (never with one source) */
    for (;;) {
        if (!r->count) {
            r->data_head = r->data_tail = 0;
            break;
        }
        if (r->count < r->nslots) {
            if (wrapped(r)) {
                if (r->data_tail + len <= r->data_head)
                    break;
            } else {
                if (r->data_tail + len <= r->data_len)
                    break;
                if (len <= r->data_head) { /* wrap to the start */
                    r->data_tail = 0;
                    break;
                }
            }
        }
        pop_oldest(r, on_leave, user);
    }
    if (!r->count)
        r->first_index = pkt->index;
    struct slot *s = &r->slots[(r->first + r->count) % r->nslots];
    s->ts_ns = pkt->ts_ns;
    s->caplen = pkt->caplen;
    s->wirelen = pkt->wirelen;
    s->off = r->data_tail;
    s->marked = false;
    memcpy(r->data + r->data_tail, pkt->data, len);
    r->data_tail += len;
    r->count++;
}

static enum packet_ring_where where(const struct packet_ring *r, uint64_t index)
{
    if (!r->count || index < r->first_index)
        return PACKET_RING_GONE;
    if (index - r->first_index >= r->count)
        return PACKET_RING_NOT_YET;
    return PACKET_RING_HELD;
}

enum packet_ring_where packet_ring_mark(struct packet_ring *r, uint64_t index)
{
    enum packet_ring_where w = where(r, index);
    if (w == PACKET_RING_HELD)
        slot_of(r, index)->marked = true;
    return w;
}

bool packet_ring_get(const struct packet_ring *r, uint64_t index, struct packet_ring_item *out)
{
    if (where(r, index) != PACKET_RING_HELD)
        return false;
    const struct slot *s = slot_of(r, index);
    *out = (struct packet_ring_item){index,      s->ts_ns,         s->caplen,
                                     s->wirelen, r->data + s->off, s->marked};
    return true;
}

void packet_ring_drain(struct packet_ring *r, packet_ring_fn on_leave, void *user)
{
    while (r->count)
        pop_oldest(r, on_leave, user);
}

size_t packet_ring_count(const struct packet_ring *r)
{
    return r->count;
}

void packet_ring_dump_item(pcap_dumper_t *d, const struct packet_ring_item *p)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(p->ts_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(p->ts_ns % 1000000000u); /* ns: the dumper is nano */
    h.caplen = p->caplen;
    h.len = p->wirelen;
    pcap_dump((u_char *)d, &h, p->data);
}

bool packet_ring_write_file(const struct packet_ring *r, int linktype, const char *path,
                            const uint64_t *idx, size_t n, uint64_t *written, uint64_t *missing,
                            char *err, size_t errlen)
{
    *written = *missing = 0;
    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = dead ? pcap_dump_open(dead, path) : NULL;
    if (!d) {
        if (dead)
            snprintf(err, errlen, "%s", pcap_geterr(dead)); /* "PATH: reason" */
        else
            snprintf(err, errlen, "%s: out of memory", path);
        if (dead)
            pcap_close(dead);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        struct packet_ring_item p;
        if (!packet_ring_get(r, idx[i], &p)) {
            (*missing)++;
            continue;
        }
        packet_ring_dump_item(d, &p);
        (*written)++;
    }
    bool ok = pcap_dump_flush(d) == 0;
    if (!ok)
        snprintf(err, errlen, "%s: write failed", path);
    pcap_dump_close(d);
    pcap_close(dead);
    return ok;
}

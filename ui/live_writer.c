/*
 * live_writer.c: a ring of recent packets (slots in a circular array, bytes
 * in a circular data buffer) in front of a pcap dumper. Packets are numbered
 * in order, so the slot of packet n is found in O(1) from the oldest number
 * held. Handshake packets are remembered per connection (as numbers, like
 * ui/writer.c) and marked with the connection's first selected operation,
 * which usually finds them still in the ring only for young connections.
 */
#include "ui/live_writer.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDSHAKE_MAX 16
#define CONNS_MAX 4096 /* remembered handshakes; the oldest is forgotten first */

struct slot {
    uint64_t ts_ns;
    size_t off;        /* into data */
    uint32_t caplen, wirelen;
    bool marked;
};

struct conn_handshake {
    uint64_t id;
    uint8_t n;
    bool marked;
    uint64_t pkts[HANDSHAKE_MAX];
};

struct live_writer {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    struct slot *slots;
    size_t nslots;          /* capacity */
    size_t first;           /* slot of the oldest packet held */
    size_t count;           /* packets held */
    uint64_t first_index;   /* packet number of the oldest held */
    uint8_t *data;
    size_t data_len;
    size_t data_head;       /* offset of the oldest packet's bytes */
    size_t data_tail;       /* where the next packet's bytes go */
    struct conn_handshake conns[CONNS_MAX];
    size_t nconns;          /* ring of remembered handshakes */
    struct live_writer_stats st;
};

struct live_writer *live_writer_open(const char *path, int linktype, size_t ring_bytes, char *err,
                                     size_t errlen)
{
    struct live_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* A quarter of the budget for slots (about one per 200 bytes of traffic), the rest for data. */
    w->nslots = ring_bytes / 4 / sizeof(struct slot);
    w->data_len = ring_bytes - w->nslots * sizeof(struct slot);
    w->slots = calloc(w->nslots, sizeof *w->slots);
    w->data = malloc(w->data_len);
    w->dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
    w->dumper = w->dead ? pcap_dump_open(w->dead, path) : NULL;
    if (!w->slots || !w->data || !w->dumper) {
        snprintf(err, errlen, "%s: %s", path,
                 w->dead && !w->dumper ? pcap_geterr(w->dead) : "out of memory");
        free(w->slots);
        free(w->data);
        if (w->dead)
            pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

static void write_slot(struct live_writer *w, const struct slot *s)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(s->ts_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(s->ts_ns % 1000000000u); /* ns: the dumper is nano */
    h.caplen = s->caplen;
    h.len = s->wirelen;
    pcap_dump((u_char *)w->dumper, &h, w->data + s->off);
    w->st.written++;
}

static void pop_oldest(struct live_writer *w)
{
    struct slot *s = &w->slots[w->first];
    if (s->marked)
        write_slot(w, s);
    w->first = (w->first + 1) % w->nslots;
    w->count--;
    w->first_index++;
    w->data_head = w->count ? w->slots[w->first].off : w->data_tail;
}

/* Free bytes from data_tail, contiguous, given where the oldest packet starts. */
static bool room_at(const struct live_writer *w, size_t at, size_t len)
{
    if (!w->count)
        return at + len <= w->data_len;
    if (at >= w->data_head)
        return at + len <= w->data_len;
    return at + len <= w->data_head;
}

void live_writer_packet(struct live_writer *w, const struct packet *pkt)
{
    size_t len = pkt->caplen;
    if (len > w->data_len / 4)
        return; /* cannot be held; never happens with snaplen 262144 and a sane ring */
    if (w->count && pkt->index != w->first_index + w->count)
        while (w->count)
            pop_oldest(w); /* numbering broke (never with one source): start afresh */
    for (;;) {
        if (w->count < w->nslots) {
            if (room_at(w, w->data_tail, len))
                break;
            /* Wrap to the start when the oldest bytes are not in the way there. */
            if (w->data_tail >= w->data_head && (!w->count || len <= w->data_head)) {
                w->data_tail = 0;
                if (room_at(w, 0, len))
                    break;
            }
        }
        pop_oldest(w);
    }
    if (!w->count) {
        w->first_index = pkt->index;
        w->data_head = w->data_tail;
    }
    struct slot *s = &w->slots[(w->first + w->count) % w->nslots];
    s->ts_ns = pkt->ts_ns;
    s->caplen = pkt->caplen;
    s->wirelen = pkt->wirelen;
    s->off = w->data_tail;
    s->marked = false;
    memcpy(w->data + w->data_tail, pkt->data, len);
    w->data_tail += len;
    w->count++;
}

static void mark(struct live_writer *w, uint64_t index)
{
    if (!w->count || index < w->first_index) {
        w->st.missed++;
        return;
    }
    uint64_t k = index - w->first_index;
    if (k >= w->count)
        return; /* not read yet: cannot happen, ops end after their packets */
    w->slots[(w->first + k) % w->nslots].marked = true;
}

void live_writer_note_conn(struct live_writer *w, const struct amqp_conn_info *info)
{
    if (!info->nhandshake_pkts)
        return;
    struct conn_handshake *c = NULL;
    size_t held = w->nconns < CONNS_MAX ? w->nconns : CONNS_MAX;
    for (size_t i = 0; i < held && !c; i++)
        if (w->conns[i].id == info->id)
            c = &w->conns[i];
    if (!c) {
        c = &w->conns[w->nconns++ % CONNS_MAX];
        memset(c, 0, sizeof *c);
        c->id = info->id;
    }
    size_t n = info->nhandshake_pkts < HANDSHAKE_MAX ? info->nhandshake_pkts : HANDSHAKE_MAX;
    memcpy(c->pkts, info->handshake_pkts, n * sizeof c->pkts[0]);
    c->n = (uint8_t)n;
}

void live_writer_mark_op(struct live_writer *w, const struct op *op)
{
    for (size_t i = 0; i < op->npkts; i++)
        mark(w, op->pkts[i]);
    size_t held = w->nconns < CONNS_MAX ? w->nconns : CONNS_MAX;
    for (int leg = 0; leg < LEG_COUNT; leg++) {
        for (size_t i = 0; i < held && op->leg_conn[leg]; i++) {
            struct conn_handshake *c = &w->conns[i];
            if (c->id != op->leg_conn[leg] || c->marked)
                continue;
            c->marked = true;
            for (size_t j = 0; j < c->n; j++)
                mark(w, c->pkts[j]);
        }
    }
}

void live_writer_get_stats(const struct live_writer *w, struct live_writer_stats *out)
{
    *out = w->st;
    out->ring_packets = w->count;
}

void live_writer_close(struct live_writer *w, struct live_writer_stats *final)
{
    if (!w)
        return;
    while (w->count)
        pop_oldest(w);
    live_writer_get_stats(w, final);
    pcap_dump_close(w->dumper);
    pcap_close(w->dead);
    free(w->slots);
    free(w->data);
    free(w);
}

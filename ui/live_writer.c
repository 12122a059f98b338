/*
 * live_writer.c: a ring of recent packets (ui/packet_ring.c) in front of a
 * -w's file(s) (ui/dump_file.c): a packet leaving the ring is written if an operation marked
 * it. Handshake packets are remembered per connection (as numbers, like
 * ui/writer.c) and marked with the connection's first selected operation,
 * which usually finds them still in the ring only for young connections.
 */
#include "ui/live_writer.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/dump_file.h"
#include "ui/packet_ring.h"

#define HANDSHAKE_MAX AMQP_CONN_SETUP_PKTS_MAX
#define CONNS_MAX 4096 /* remembered handshakes; the oldest is forgotten first */

struct conn_handshake {
    uint64_t id;
    uint8_t n;
    bool marked;
    uint64_t pkts[HANDSHAKE_MAX];
};

struct live_writer {
    struct dump_file *out;
    struct packet_ring *ring;
    struct conn_handshake conns[CONNS_MAX];
    size_t nconns; /* ring of remembered handshakes */
    struct live_writer_stats st;
};

struct live_writer *live_writer_open(const struct dump_file_config *out, size_t ring_bytes,
                                     char *err, size_t errlen)
{
    struct live_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->ring = packet_ring_new(ring_bytes);
    if (!w->ring) {
        snprintf(err, errlen, "%s: out of memory", out->path);
        free(w);
        return NULL;
    }
    if (!(w->out = dump_file_open(out, err, errlen))) { /* "PATH: reason" */
        packet_ring_free(w->ring);
        free(w);
        return NULL;
    }
    return w;
}

/* A packet leaving the ring: written if an operation marked it. */
static void on_leave(void *user, const struct packet_ring_item *p)
{
    struct live_writer *w = user;
    if (!p->marked)
        return;
    char err[256];
    if (dump_file_write(w->out, p->ts_ns, p->caplen, p->wirelen, p->data, err, sizeof err)) {
        w->st.written++;
    } else if (!w->st.write_errors++) {
        snprintf(w->st.first_error, sizeof w->st.first_error, "%s", err);
    }
}

void live_writer_packet(struct live_writer *w, const struct packet *pkt)
{
    packet_ring_push(w->ring, pkt, on_leave, w);
}

static void mark(struct live_writer *w, uint64_t index)
{
    /* PACKET_RING_NOT_YET cannot happen: operations end after their packets. */
    if (packet_ring_mark(w->ring, index) == PACKET_RING_GONE)
        w->st.missed++;
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
    out->ring_packets = packet_ring_count(w->ring);
    dump_file_describe(w->out, out->files, sizeof out->files);
}

void live_writer_close(struct live_writer *w, struct live_writer_stats *final)
{
    if (!w)
        return;
    packet_ring_drain(w->ring, on_leave, w);
    live_writer_get_stats(w, final);
    char err[256];
    if (!dump_file_close(w->out, err, sizeof err) && !final->write_errors++)
        snprintf(final->first_error, sizeof final->first_error, "%s", err);
    packet_ring_free(w->ring);
    free(w);
}

/* ---- the sink: -w during a live capture ---- */

/* Recent packets a live -w keeps until their operations end (memory bound). */
#define LIVE_WRITE_RING_BYTES (64u << 20)

struct live_writer_sink_state {
    struct sink_env env;
    struct live_writer *w; /* NULL once finished */
};

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    if (!env->o->write_file || !env->live)
        return NULL;
    struct live_writer_sink_state *st = sink_state_new(sizeof *st, env, err, errlen);
    if (!st)
        return NULL;
    struct dump_file_config dc;
    char comment[1536];
    dump_file_config_from(env->o, pcap_source_linktype(pipeline_source(env->p)),
                          pipeline_filter(env->p), &dc, comment, sizeof comment);
    st->w = live_writer_open(&dc, LIVE_WRITE_RING_BYTES, err, errlen);
    if (!st->w) {
        free(st);
        return NULL;
    }
    return st;
}

static void sink_on_packet(void *s, const struct packet *pkt)
{
    struct live_writer_sink_state *st = s;
    live_writer_packet(st->w, pkt);
}

static void sink_on_op(void *s, const struct op *op)
{
    struct live_writer_sink_state *st = s;
    live_writer_mark_op(st->w, op);
}

static void sink_on_conn(void *s, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct live_writer_sink_state *st = s;
    (void)ev;
    live_writer_note_conn(st->w, info);
}

static bool sink_finish(void *s)
{
    struct live_writer_sink_state *st = s;
    struct live_writer_stats ws;
    live_writer_close(st->w, &ws); /* writes what is still held */
    st->w = NULL;
    if (!st->env.o->quiet || ws.missed)
        fprintf(stderr,
                "oslotrace: wrote %llu packets to %s (%llu left the buffer before "
                "their operation ended)\n",
                (unsigned long long)ws.written, ws.files, (unsigned long long)ws.missed);
    if (ws.write_errors) {
        fprintf(stderr, "oslotrace: %s (%llu packets not written)\n", ws.first_error,
                (unsigned long long)ws.write_errors);
        return false;
    }
    return true;
}

static void sink_close(void *s)
{
    struct live_writer_sink_state *st = s;
    if (st->w) {
        struct live_writer_stats ws;
        live_writer_close(st->w, &ws);
    }
    free(st);
}

const struct sink live_writer_sink = {
    .name = "write-live",
    .open = sink_open,
    .on_op = sink_on_op,
    .on_conn = sink_on_conn,
    .on_packet = sink_on_packet,
    .finish = sink_finish,
    .close = sink_close,
};

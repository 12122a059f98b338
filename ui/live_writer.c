/*
 * live_writer.c: a ring of recent packets (ui/packet_ring.c) in front of a
 * -w's file(s) (ui/dump_file.c): a packet leaving the ring is written if an operation marked
 * it. Handshake packets are remembered per connection (as numbers, like
 * ui/writer.c) and marked with the connection's first selected operation,
 * which usually finds them still in the ring only for young connections.
 */
#include "ui/live_writer.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/dump_file.h"
#include "ui/packet_ring.h"
#include "ui/write_warn.h"

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
    struct dump_file_config cfg; /* for SIGHUP's reopen; cfg.comment points into comment */
    char comment[1536];
    struct packet_ring *ring;
    struct conn_handshake conns[CONNS_MAX];
    size_t nconns; /* ring of remembered handshakes */
    struct live_writer_stats st;
    struct write_warn warn;
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
    w->cfg = *out;
    if (out->comment) {
        snprintf(w->comment, sizeof w->comment, "%s", out->comment);
        w->cfg.comment = w->comment;
    }
    if (!(w->out = dump_file_open(out, err, errlen))) { /* "PATH: reason" */
        packet_ring_free(w->ring);
        free(w);
        return NULL;
    }
    return w;
}

/* A write or close that failed: counted, the first reason kept for the end. */
static void note_error(struct live_writer_stats *st, const char *err)
{
    if (!st->write_errors++)
        snprintf(st->first_error, sizeof st->first_error, "%s", err);
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
        return;
    }
    /* The disk is full: counted, told once a minute, the capture goes on. */
    write_warn_failed(&w->warn, errno ? errno : EIO);
    note_error(&w->st, err);
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

bool live_writer_reopen(struct live_writer *w, char *err, size_t errlen)
{
    /* -C/-G files rotate by themselves; starting the series again would
     * overwrite its first files. */
    if (w->cfg.rotate_bytes || w->cfg.rotate_s > 0)
        return true;
    struct dump_file *d = dump_file_open(&w->cfg, err, errlen);
    if (!d)
        return false;
    char cerr[256];
    if (!dump_file_close(w->out, cerr, sizeof cerr))
        note_error(&w->st, cerr);
    w->out = d;
    /* The new file starts without the connections' set-up: mark it again for
     * the connections' next operations (it is written while still held). */
    size_t held = w->nconns < CONNS_MAX ? w->nconns : CONNS_MAX;
    for (size_t i = 0; i < held; i++)
        w->conns[i].marked = false;
    w->st.reopens++;
    return true;
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
    if (!dump_file_close(w->out, err, sizeof err))
        note_error(final, err);
    packet_ring_free(w->ring);
    free(w);
}

/* ---- the sink: -w during a live capture ---- */

/* Recent packets a live -w keeps until their operations end (memory bound). */
#define LIVE_WRITE_RING_BYTES (64u << 20)

struct live_writer_sink_state {
    struct sink_env env;
    struct live_writer *w; /* NULL once finished */
    char what[64];         /* "-w FILE", for the write warnings */
    struct live_writer_stats final; /* once finished */
};

static const struct counter_def live_writer_rows[] = {
    COUNTER_ROW(struct live_writer_stats, written, "pcap_written", TOTAL, 0,
                "Packets written to the -w file."),
    COUNTER_ROW(struct live_writer_stats, missed, "pcap_missed", TOTAL, COUNTER_REPORT,
                "Packets of selected operations that left the -w ring before their operation "
                "ended."),
    COUNTER_ROW(struct live_writer_stats, write_errors, "pcap_write_failures", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "Packets that could not be written to the -w file (e.g. the disk is full)."),
    COUNTER_ROW(struct live_writer_stats, reopens, "pcap_reopens", TOTAL, 0,
                "Times SIGHUP reopened the -w file (log rotation)."),
};

static void read_live_writer_stats(const void *state, void *out)
{
    const struct live_writer_sink_state *st = state;
    if (st->w)
        live_writer_get_stats(st->w, out);
    else
        memcpy(out, &st->final, sizeof st->final);
}

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
    snprintf(st->what, sizeof st->what, "-w %.56s", env->o->write_file);
    st->w->warn.what = st->what;
    st->w->warn.unit = "packet";
    if (!counters_add(pipeline_counters(env->p), live_writer_rows,
                      sizeof live_writer_rows / sizeof live_writer_rows[0], read_live_writer_stats,
                      st, sizeof(struct live_writer_stats))) {
        struct live_writer_stats ws;
        live_writer_close(st->w, &ws);
        free(st);
        snprintf(err, errlen, "out of memory");
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

static void sink_tick(void *s, double now)
{
    struct live_writer_sink_state *st = s;
    if (st->w)
        write_warn_tick(&st->w->warn, now, stderr);
}

static void sink_reopen(void *s)
{
    struct live_writer_sink_state *st = s;
    char err[512];
    if (st->w && !live_writer_reopen(st->w, err, sizeof err))
        fprintf(stderr, "oslotrace: SIGHUP: cannot reopen %s; still writing the old file\n", err);
}

static bool sink_finish(void *s)
{
    struct live_writer_sink_state *st = s;
    struct live_writer_stats ws;
    struct live_writer *w = st->w;
    packet_ring_drain(w->ring, on_leave, w); /* writes what is still held */
    write_warn_final(&w->warn, stderr);
    live_writer_close(w, &ws);
    st->w = NULL;
    st->final = ws;
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
    .tick = sink_tick,
    .reopen = sink_reopen,
    .finish = sink_finish,
    .close = sink_close,
};

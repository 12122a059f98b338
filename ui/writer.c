/*
 * writer.c: marks packet numbers in a bitmap (one bit per packet of the
 * capture, so memory follows the file, 1 MiB per 8 million packets) and
 * copies the marked packets in a second pass into -w's file(s) (ui/dump_file.c:
 * pcap or pcapng, rotated by -C/-G/-W).
 */
#include "ui/writer.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pcap_source.h"
#include "ui/dump_file.h"

#define HANDSHAKE_MAX AMQP_CONN_SETUP_PKTS_MAX

struct conn_handshake {
    uint64_t id;
    bool marked;
    uint8_t n;
    uint64_t pkts[HANDSHAKE_MAX];
};

struct writer {
    uint8_t *bits;
    uint64_t nbits;               /* capacity in packets */
    struct conn_handshake *conns; /* sorted by id: flow ids grow as flows appear */
    size_t nconns, capconns;
};

struct writer *writer_new(void)
{
    return calloc(1, sizeof(struct writer));
}

static void mark(struct writer *w, uint64_t pkt)
{
    if (pkt >= w->nbits) {
        uint64_t n = w->nbits ? w->nbits : 1u << 16;
        while (n <= pkt)
            n *= 2;
        uint8_t *b = realloc(w->bits, n / 8);
        if (!b)
            return; /* out of memory: the packet is simply not written */
        memset(b + w->nbits / 8, 0, (n - w->nbits) / 8);
        w->bits = b;
        w->nbits = n;
    }
    w->bits[pkt / 8] |= (uint8_t)(1u << (pkt % 8));
}

static bool marked(const struct writer *w, uint64_t pkt)
{
    return pkt < w->nbits && (w->bits[pkt / 8] & (1u << (pkt % 8)));
}

static struct conn_handshake *find_conn(struct writer *w, uint64_t id)
{
    size_t lo = 0, hi = w->nconns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->conns[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->nconns && w->conns[lo].id == id ? &w->conns[lo] : NULL;
}

void writer_note_conn(struct writer *w, const struct amqp_conn_info *info)
{
    if (!info->nhandshake_pkts)
        return;
    struct conn_handshake *c = find_conn(w, info->id);
    if (!c) {
        if (w->nconns && w->conns[w->nconns - 1].id > info->id)
            return; /* out of order ids never happen; refuse rather than unsort */
        if (w->nconns == w->capconns) {
            size_t cap = w->capconns ? w->capconns * 2 : 64;
            struct conn_handshake *nc = realloc(w->conns, cap * sizeof *nc);
            if (!nc)
                return;
            w->conns = nc;
            w->capconns = cap;
        }
        c = &w->conns[w->nconns++];
        memset(c, 0, sizeof *c);
        c->id = info->id;
    }
    size_t n = info->nhandshake_pkts < HANDSHAKE_MAX ? info->nhandshake_pkts : HANDSHAKE_MAX;
    memcpy(c->pkts, info->handshake_pkts, n * sizeof c->pkts[0]);
    c->n = (uint8_t)n;
    if (c->marked)
        for (size_t i = 0; i < n; i++)
            mark(w, c->pkts[i]);
}

void writer_mark_op(struct writer *w, const struct op *op)
{
    for (size_t i = 0; i < op->npkts; i++)
        mark(w, op->pkts[i]);
    for (int leg = 0; leg < LEG_COUNT; leg++) {
        struct conn_handshake *c = op->leg_conn[leg] ? find_conn(w, op->leg_conn[leg]) : NULL;
        if (!c || c->marked)
            continue;
        c->marked = true;
        for (size_t i = 0; i < c->n; i++)
            mark(w, c->pkts[i]);
    }
}

/* The second pass into an open dump file. */
static bool copy_marked(struct writer *w, const struct engine_config *o, const int64_t *offsets_ns,
                        struct dump_file *df, uint64_t *written, char *err, size_t errlen)
{
    *written = 0;
    for (size_t i = 0; i < o->nfiles; i++) {
        if (strcmp(o->files[i], "-") == 0) {
            snprintf(err, errlen, "-w needs to read its input twice; stdin (-r -) cannot be");
            return false;
        }
    }
    struct pcap_source_config sc = {.files = o->files,
                                    .nfiles = o->nfiles,
                                    .bpf = o->bpf,
                                    .snaplen = 262144,
                                    .offsets_ns = offsets_ns};
    struct pcap_source *src = pcap_source_open(&sc, err, errlen);
    if (!src)
        return false;
    struct packet pkt;
    enum pcap_source_status st;
    bool ok = true;
    while (ok && (st = pcap_source_next(src, &pkt)) == PCAP_SOURCE_PACKET) {
        if (!marked(w, pkt.index))
            continue;
        ok = dump_file_write(df, pkt.ts_ns, pkt.caplen, pkt.wirelen, pkt.data, err, errlen);
        *written += ok;
    }
    pcap_source_close(src);
    return ok;
}

bool writer_write(struct writer *w, const struct engine_config *o, const int64_t *offsets_ns,
                  const char *path, uint64_t *written, char *err, size_t errlen)
{
    *written = 0;
    struct pcap_source_config sc = {
        .files = o->files, .nfiles = o->nfiles, .bpf = o->bpf, .snaplen = 262144};
    struct pcap_source *src = pcap_source_open(&sc, err, errlen);
    if (!src)
        return false;
    int linktype = pcap_source_linktype(src);
    pcap_source_close(src);
    struct dump_file_config dc = {.path = path, .linktype = linktype};
    struct dump_file *df = dump_file_open(&dc, err, errlen);
    if (!df)
        return false;
    bool ok = copy_marked(w, o, offsets_ns, df, written, err, errlen);
    char cerr[256];
    if (!dump_file_close(df, cerr, sizeof cerr) && ok) {
        snprintf(err, errlen, "%s", cerr);
        ok = false;
    }
    return ok;
}

void writer_free(struct writer *w)
{
    if (!w)
        return;
    free(w->bits);
    free(w->conns);
    free(w);
}

/* ---- the sink: -w when reading files ---- */

struct writer_sink_state {
    struct sink_env env;
    struct writer *w;
    struct dump_file *df; /* created when the sink opens, before any packet is read */
};

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    if (!env->o->write_file || env->live)
        return NULL;
    struct writer_sink_state *st = sink_state_new(sizeof *st, env, err, errlen);
    if (!st)
        return NULL;
    if (!(st->w = writer_new())) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Created now, so an unwritable path fails before the first pass. */
    struct dump_file_config dc;
    char comment[1536];
    dump_file_config_from(env->o, pcap_source_linktype(pipeline_source(env->p)),
                          pipeline_filter(env->p), &dc, comment, sizeof comment);
    if (!(st->df = dump_file_open(&dc, err, errlen))) {
        writer_free(st->w);
        free(st);
        return NULL;
    }
    return st;
}

static void sink_on_op(void *s, const struct op *op)
{
    struct writer_sink_state *st = s;
    writer_mark_op(st->w, op);
}

static void sink_on_conn(void *s, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct writer_sink_state *st = s;
    (void)ev;
    writer_note_conn(st->w, info);
}

static bool sink_finish(void *s)
{
    struct writer_sink_state *st = s;
    const struct cli_options *o = st->env.o;
    uint64_t written;
    char err[512];
    bool ok = copy_marked(st->w, &o->engine, pipeline_offsets_ns(st->env.p), st->df, &written,
                          err, sizeof err);
    char files[1024];
    dump_file_describe(st->df, files, sizeof files);
    char cerr[256];
    if (!dump_file_close(st->df, cerr, sizeof cerr) && ok) {
        snprintf(err, sizeof err, "%s", cerr);
        ok = false;
    }
    st->df = NULL;
    if (!ok) {
        fprintf(stderr, "oslotrace: %s\n", err);
        return false;
    }
    if (!o->quiet)
        fprintf(stderr, "oslotrace: wrote %llu packets to %s\n", (unsigned long long)written,
                files);
    return true;
}

static void sink_close(void *s)
{
    struct writer_sink_state *st = s;
    char err[256];
    dump_file_close(st->df, err, sizeof err);
    writer_free(st->w);
    free(st);
}

const struct sink writer_sink = {
    .name = "write",
    .open = sink_open,
    .on_op = sink_on_op,
    .on_conn = sink_on_conn,
    .finish = sink_finish,
    .close = sink_close,
};

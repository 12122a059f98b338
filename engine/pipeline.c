/*
 * pipeline.c: owns one instance of every stage and passes each stage's
 * output to the next through the callbacks of their headers. It also keeps
 * packet time (the newest timestamp seen) and ticks the time-driven stages:
 * TCP holes and idle flows, call timeouts and held casts all run on packet
 * time, so an offline read and a live capture of the same traffic agree.
 * Its own counters (packets, link-layer outcomes, operations handed out) sit
 * in the registry beside every stage's, in the order the report lists them.
 * Flows on an AMQPS port, or whose first bytes are a TLS record on any port,
 * go through the TLS stage (capture/tls_conn.h, set up by
 * engine/tls_setup.c) before the AMQP stage; flow->user is a struct
 * flow_ctx naming both.
 */
#include "engine/pipeline.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/packet.h"
#include "common/clock.h"
#include "engine/clock_pass.h"
#include "engine/tls_setup.h"

/* Packet time between two ticks of the time-driven stages. */
#define TICK_NS 100000000ull

/* The engine's own counters (see engine_counter_rows below). */
struct engine_stats {
    uint64_t packets, non_tcp, fragments, malformed_packets, ts_backwards;
    uint64_t ops_emitted, ops_filtered_out;
    uint64_t blind_seconds; /* seconds of packet time in which the capture lost packets */
};

/* How far around a loss noticed at time t the capture may have been blind:
 * the kernel drops packets that queued behind ones still to be read, and a
 * TCP hole is declared a while after the bytes went missing. Generous on
 * purpose: a call inside it is said to be unknown rather than timed out. */
#define LOSS_MARGIN_NS (2 * 1000000000ull)

struct pipeline {
    struct pcap_source *src;
    const char *bpf;       /* the capture filter in use (-f, argv), or default_bpf, or NULL */
    char default_bpf[512]; /* a live capture's, built from the AMQP ports */
    struct tcp_stream *tcp;
    struct amqp_dissector *amqp;
    struct tls_decoder *tls;
    struct engine_config cfg; /* ports and key logs, for the TLS stage */
    bool tls_advised;
    uint16_t broker_ports[2 * ENGINE_MAX_PORTS]; /* AMQP and AMQPS */
    struct corr *corr;
    struct stats *stats;
    struct flow_table *flows; /* only with want_flows */
    struct pipeline_sinks sinks;
    struct op_filter filter;
    uint64_t max_packets; /* -c */
    struct engine_stats n;
    struct counters *counters;
    uint64_t first_ts;             /* packet time of the oldest packet, ns */
    uint64_t now_ns, last_tick_ns; /* packet time, driving every timeout */
    uint64_t newest_pkt_ns;
    double wall_at_packet; /* live: monotonic seconds when now_ns was last set by a packet */
    double wall_start;     /* monotonic seconds at pipeline_new, for a live --duration */
    bool duration_over;    /* a packet past --duration was met */
    uint64_t drops_seen;      /* live: kernel drops (and interface losses) already noted */
    uint64_t drops_check_ns;  /* live: packet time of the previous look at them */
    uint64_t last_blind_sec;  /* the newest second counted in blind_seconds, + 1 */
    volatile sig_atomic_t stop;
    bool finished;
    char err[512];
    /* Several files: nodes and clock offsets (clock_pass), else clock.n = 0. */
    struct pipeline_clock clock;
    int64_t offsets_ns[ENGINE_MAX_FILES];
};

/* What a TCP flow feeds: its AMQP connection, through TLS when tls is set. */
struct flow_ctx {
    struct amqp_conn *amqp;
    struct tls_conn *tls;
    bool seen_data; /* TLS on another port is recognised by the first bytes */
};

static void on_flow_open(void *user, struct tcp_flow *flow)
{
    struct pipeline *p = user;
    struct flow_ctx *fc = calloc(1, sizeof *fc);
    flow->user = fc;
    if (!fc)
        return;
    fc->amqp = amqp_conn_open(p->amqp, flow->id, &flow->a, &flow->b, flow->first_ts);
    if (fc->amqp)
        amqp_conn_set_source(fc->amqp, flow->source);
    if (fc->amqp && engine_tls_flow(&p->cfg, flow))
        fc->tls = tls_conn_open(p->tls, fc->amqp);
}

static void on_flow_data(void *user, struct tcp_flow *flow, int dir, const uint8_t *data,
                         size_t len, uint64_t ts_ns, uint64_t pkt_index)
{
    struct pipeline *p = user;
    struct flow_ctx *fc = flow->user;
    if (!fc || !fc->amqp)
        return;
    if (!fc->seen_data && !fc->tls && engine_tls_start(data, len))
        fc->tls = tls_conn_open(p->tls, fc->amqp);
    fc->seen_data = true;
    if (fc->tls)
        tls_conn_data(fc->tls, dir, data, len, ts_ns, pkt_index);
    else
        amqp_conn_data(fc->amqp, dir, data, len, ts_ns, pkt_index);
}

/* The capture lost packets between from and to (packet time): the seconds
 * count as blind and, live, the calls pending then cannot be said to have
 * timed out. A file's TCP holes may be a filter's doing (a -w file holds only
 * the selected operations' packets): blind time, but no change of status. */
static void note_loss(struct pipeline *p, uint64_t from, uint64_t to)
{
    if (pcap_source_is_live(p->src))
        corr_note_loss(p->corr, from > LOSS_MARGIN_NS ? from - LOSS_MARGIN_NS : 0,
                       to + LOSS_MARGIN_NS);
    uint64_t first = from / 1000000000ull, last = to / 1000000000ull;
    if (first < p->last_blind_sec)
        first = p->last_blind_sec;
    if (last + 1 > first) {
        p->n.blind_seconds += last + 1 - first;
        p->last_blind_sec = last + 1;
    }
}

static void on_flow_gap(void *user, struct tcp_flow *flow, int dir, uint64_t missing,
                        uint64_t ts_ns)
{
    struct pipeline *p = user;
    note_loss(p, ts_ns, ts_ns);
    struct flow_ctx *fc = flow->user;
    if (fc && fc->tls)
        tls_conn_gap(fc->tls, dir, missing, ts_ns);
    else if (fc && fc->amqp)
        amqp_conn_gap(fc->amqp, dir, missing, ts_ns);
}

static void on_flow_close(void *user, struct tcp_flow *flow, enum tcp_close_reason reason)
{
    struct pipeline *p = user;
    struct flow_ctx *fc = flow->user;
    if (fc) {
        tls_conn_close(fc->tls);
        if (fc->amqp && (reason == TCP_CLOSE_FIN || reason == TCP_CLOSE_RST))
            amqp_conn_mark_ended(fc->amqp); /* churn: the client really went */
        if (fc->amqp)
            amqp_conn_close(fc->amqp, p->now_ns);
        free(fc);
    }
    flow->user = NULL;
}

/* The TLS stage's output: decrypted bytes for the flow's amqp_conn. */
static void on_tls_data(void *down, int dir, const uint8_t *data, size_t len, uint64_t ts_ns,
                        uint64_t pkt_index)
{
    amqp_conn_data(down, dir, data, len, ts_ns, pkt_index);
}

static void on_tls_gap(void *down, int dir, uint64_t missing, uint64_t ts_ns)
{
    amqp_conn_gap(down, dir, missing, ts_ns);
}

static void on_amqp_method(void *user, const struct amqp_method_event *ev)
{
    struct pipeline *p = user;
    if (p->sinks.on_method)
        p->sinks.on_method(p->sinks.user, ev);
}

static void on_amqp_broker_event(void *user, const struct amqp_broker_event *ev)
{
    struct pipeline *p = user;
    if (p->sinks.on_broker_event)
        p->sinks.on_broker_event(p->sinks.user, ev);
}

static void on_amqp_message(void *user, const struct amqp_message *msg)
{
    struct pipeline *p = user;
    corr_message(p->corr, msg);
}

static void on_amqp_conn(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct pipeline *p = user;
    if (p->sinks.on_conn)
        p->sinks.on_conn(p->sinks.user, info, ev);
}

static void on_op(void *user, const struct op *op)
{
    struct pipeline *p = user;
    if (!op_filter_match(&p->filter, op)) {
        p->n.ops_filtered_out++;
        return;
    }
    /* --count-ops: the first N to end; the engine stops reading at N, and what
     * ends after (calls still open when it stops) is not shown. */
    if (p->cfg.count_ops && p->n.ops_emitted >= p->cfg.count_ops)
        return;
    p->n.ops_emitted++;
    stats_add(p->stats, op);
    if (p->flows)
        flow_table_add(p->flows, op, p->now_ns);
    if (p->sinks.on_op)
        p->sinks.on_op(p->sinks.user, op);
}

/* Several files: each one's node name, and its clock offset, by hand or
 * estimated from the traffic by a first pass over the files. */
static bool set_clocks(struct pipeline *p, const struct engine_config *o)
{
    struct clock_pass_result *r = malloc(sizeof *r);
    if (!r) {
        snprintf(p->err, sizeof p->err, "out of memory");
        return false;
    }
    bool ok = clock_pass_run(o, r, p->err, sizeof p->err);
    if (ok) {
        p->clock.n = o->nfiles;
        p->clock.estimated = r->estimated;
        p->clock.stats = r->stats;
        for (size_t i = 0; i < o->nfiles; i++) {
            const char *slash = strrchr(o->files[i], '/');
            p->clock.node[i].name = o->node_names[i] ? o->node_names[i]
                                    : slash          ? slash + 1
                                                     : o->files[i];
            p->clock.node[i].clock = r->est[i];
            p->offsets_ns[i] = r->est[i].offset_ns;
        }
    }
    free(r);
    return ok;
}

static void on_flow_end(void *user, const struct flow *f)
{
    struct pipeline *p = user;
    if (p->sinks.on_flow)
        p->sinks.on_flow(p->sinks.user, f);
}

static bool open_source(struct pipeline *p, const struct engine_config *o)
{
    struct pcap_source_config sc = {
        .files = o->files,
        .nfiles = o->nfiles,
        .iface = o->iface,
        .bpf = o->bpf,
        .buffer_kib = o->buffer_kib,
        .immediate = o->immediate,
        .wait_iface = o->wait_iface,
        .snaplen = 262144,
        .timeout_ms = 100,
    };
    /* Live captures default to the broker ports; files are read whole unless -f says otherwise. */
    if (o->iface && !o->bpf) {
        engine_default_bpf(o, p->default_bpf, sizeof p->default_bpf);
        sc.bpf = p->default_bpf;
    }
    p->bpf = sc.bpf;
    if (p->clock.n)
        sc.offsets_ns = p->offsets_ns;
    p->src = pcap_source_open(&sc, p->err, sizeof p->err);
    return p->src != NULL;
}

/* Rows of the engine's own counters, in three groups so that the registry
 * lists them where they belong in the flow: packets read, then the capture
 * source's; the link layer's after it; the operations handed out last. */
static const struct counter_def engine_read_rows[] = {
    COUNTER_ROW(struct engine_stats, packets, "packets", TOTAL, COUNTER_REPORT,
                "Packets read from the capture."),
};
static const struct counter_def engine_link_rows[] = {
    COUNTER_ROW(struct engine_stats, non_tcp, "non_tcp_packets", TOTAL, COUNTER_REPORT,
                "Packets that were not TCP (ignored)."),
    COUNTER_ROW(struct engine_stats, fragments, "ip_fragments", TOTAL, COUNTER_REPORT,
                "IP fragments (not reassembled; skipped)."),
    COUNTER_ROW(struct engine_stats, malformed_packets, "malformed_packets", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR, "Packets whose link, IP or TCP header was bad."),
    COUNTER_ROW(struct engine_stats, ts_backwards, "timestamps_backwards", TOTAL, COUNTER_REPORT,
                "Packets older than one already read."),
    COUNTER_ROW(struct engine_stats, blind_seconds, "blind_seconds", TOTAL, COUNTER_REPORT,
                "Seconds of packet time in which the capture lost packets (kernel drops, TCP "
                "gaps, the interface away); live, calls pending then without a reply are "
                "'unknown'."),
};
static const struct counter_def engine_output_rows[] = {
    COUNTER_ROW(struct engine_stats, ops_emitted, "ops_reported", TOTAL, COUNTER_REPORT,
                "Operations that passed the filter and reached the outputs."),
    COUNTER_ROW(struct engine_stats, ops_filtered_out, "ops_filtered_out", TOTAL, COUNTER_REPORT,
                "Operations the filter turned away."),
};

/* Several files only: the first pass's samples (engine/clock_sync.h). */
static const struct counter_def clock_rows[] = {
    COUNTER_ROW(struct clock_sync_stats, samples, "clock_samples", TOTAL, COUNTER_REPORT,
                "Legs of the first pass over several files kept to estimate clock offsets."),
    COUNTER_ROW(struct clock_sync_stats, dropped, "clock_samples_dropped", TOTAL, COUNTER_REPORT,
                "Legs not kept for the clock offsets: the sample table was full."),
    COUNTER_ROW(struct clock_sync_stats, pairs, "clock_bounding_pairs", TOTAL, COUNTER_REPORT,
                "Pairs of legs on two files that bounded their clock offset."),
    COUNTER_ROW(struct clock_sync_stats, big_groups, "clock_keys_capped", TOTAL, COUNTER_REPORT,
                "Messages seen more often than the clock estimate looks at (the rest ignored)."),
};

static void read_clock_stats(const void *owner, void *out)
{
    const struct pipeline *p = owner;
    memcpy(out, &p->clock.stats, sizeof p->clock.stats);
}

static void read_engine_stats(const void *owner, void *out)
{
    const struct pipeline *p = owner;
    memcpy(out, &p->n, sizeof p->n);
}

#define ROWS(a) (a), sizeof(a) / sizeof((a)[0])

static bool register_counters(struct pipeline *p)
{
    struct counters *c = p->counters;
    bool ok = counters_add(c, ROWS(engine_read_rows), read_engine_stats, p, sizeof p->n);
    ok = ok && pcap_source_register_counters(p->src, c);
    if (p->clock.n)
        ok = ok && counters_add(c, ROWS(clock_rows), read_clock_stats, p, sizeof p->clock.stats);
    ok = ok && counters_add(c, ROWS(engine_link_rows), read_engine_stats, p, sizeof p->n);
    ok = ok && tcp_stream_register_counters(p->tcp, c);
    ok = ok && tls_decoder_register_counters(p->tls, c);
    ok = ok && amqp_dissector_register_counters(p->amqp, c);
    ok = ok && corr_register_counters(p->corr, c);
    ok = ok && stats_register_counters(p->stats, c);
    ok = ok && (!p->flows || flow_register_counters(p->flows, c));
    ok = ok && counters_add(c, ROWS(engine_output_rows), read_engine_stats, p, sizeof p->n);
    return ok;
}

struct pipeline *pipeline_new(const struct engine_config *o, const struct pipeline_sinks *sinks,
                              char *err, size_t errlen)
{
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->sinks = *sinks;
    p->cfg = *o;
    p->filter = o->filter;
    p->max_packets = o->count;
    p->wall_start = clock_mono_s();
    if (!o->iface && (o->nfiles >= 2 || o->clock_fixed[0]) && !set_clocks(p, o)) {
        snprintf(err, errlen, "%s", p->err);
        free(p);
        return NULL;
    }
    if (!open_source(p, o)) {
        snprintf(err, errlen, "%s", p->err);
        free(p);
        return NULL;
    }

    struct tls_callbacks tlcb = {on_tls_data, on_tls_gap};
    p->tls = engine_tls_new(o, pcap_source_is_live(p->src), &tlcb, err, errlen);
    if (!p->tls) {
        pipeline_free(p);
        return NULL;
    }

    struct tcp_stream_config tc;
    tcp_stream_config_default(&tc);
    struct tcp_stream_callbacks tcb = {on_flow_open, on_flow_data, on_flow_gap, on_flow_close, p};
    p->tcp = tcp_stream_new(&tc, &tcb);

    struct amqp_config ac;
    amqp_config_default(&ac);
    ac.max_body = o->max_body;
    /* Both kinds of broker port tell the broker from the client. */
    memcpy(p->broker_ports, o->amqp_ports, o->namqp_ports * sizeof o->amqp_ports[0]);
    memcpy(p->broker_ports + o->namqp_ports, o->amqps_ports,
           o->namqps_ports * sizeof o->amqps_ports[0]);
    ac.broker_ports = p->broker_ports;
    ac.nbroker_ports = o->namqp_ports + o->namqps_ports;
    ac.want_methods = o->want_methods;
    struct amqp_callbacks acb = {on_amqp_method, on_amqp_message, on_amqp_conn, p,
                                 on_amqp_broker_event};
    p->amqp = amqp_dissector_new(&ac, &acb);

    struct corr_config cc;
    corr_config_default(&cc);
    cc.call_timeout_s = o->call_timeout_s;
    cc.max_pending = o->max_pending;
    cc.want_bodies = o->want_bodies;
    cc.want_pkts = o->want_pkts;
    cc.show_secrets = o->show_secrets;
    p->corr = corr_new(&cc, on_op, p);
    p->stats = stats_new(10000);
    p->counters = counters_new();
    if (o->want_flows) {
        struct flow_config fc;
        flow_config_default(&fc);
        p->flows = flow_table_new(&fc, on_flow_end, p);
        if (!p->flows) {
            snprintf(err, errlen, "out of memory");
            pipeline_free(p);
            return NULL;
        }
    }

    if (!p->tcp || !p->amqp || !p->corr || !p->stats || !p->counters || !register_counters(p)) {
        snprintf(err, errlen, "out of memory");
        pipeline_free(p);
        return NULL;
    }
    return p;
}

static void tick(struct pipeline *p)
{
    if (p->now_ns - p->last_tick_ns < TICK_NS)
        return;
    p->last_tick_ns = p->now_ns;
    tcp_stream_tick(p->tcp, p->now_ns);
    if (pcap_source_is_live(p->src)) {
        tls_decoder_poll_keys(p->tls); /* key logs written as the services connect */
        /* Kernel drops since the last look, or the interface away: blind. */
        struct pcap_source_stats ss;
        pcap_source_get_stats(p->src, &ss);
        uint64_t lost = ss.ps_drop + ss.ps_ifdrop + ss.iface_lost + ss.iface_down;
        if (lost != p->drops_seen)
            note_loss(p, p->drops_check_ns ? p->drops_check_ns : p->now_ns, p->now_ns);
        p->drops_seen = lost;
        p->drops_check_ns = p->now_ns;
    }
    corr_tick(p->corr, p->now_ns);
    if (p->flows)
        flow_table_tick(p->flows, p->now_ns);
    amqp_dissector_tick(p->amqp, p->now_ns);
}

/* A quiet live interface still has time passing: without packets, packet
 * time would stand still and timeouts and held casts would wait for the next
 * packet. While idle, packet time moves on by the wall time elapsed since the
 * last packet (never backwards, never for files). */
static void idle_advance(struct pipeline *p)
{
    if (!p->now_ns || !pcap_source_is_live(p->src))
        return;
    double idle = clock_mono_s() - p->wall_at_packet;
    if (idle <= 0)
        return;
    uint64_t t = p->now_ns + (uint64_t)(idle * 1e9);
    p->wall_at_packet += idle;
    p->now_ns = t;
    tick(p);
}

static void handle_packet(struct pipeline *p, const struct packet *pkt)
{
    p->n.packets++;
    if (!p->first_ts || pkt->ts_ns < p->first_ts)
        p->first_ts = pkt->ts_ns;
    /* Backwards is judged against packets only: idle_advance() may have moved
     * now_ns a little past the next live packet's timestamp. */
    if (pkt->ts_ns < p->newest_pkt_ns)
        p->n.ts_backwards++;
    else
        p->newest_pkt_ns = pkt->ts_ns;
    if (pkt->ts_ns > p->now_ns)
        p->now_ns = pkt->ts_ns;
    if (pcap_source_is_live(p->src))
        p->wall_at_packet = clock_mono_s();
    if (!p->last_tick_ns)
        p->last_tick_ns = p->now_ns;

    if (p->sinks.on_packet)
        p->sinks.on_packet(p->sinks.user, pkt);
    struct tcp_segment seg;
    switch (packet_decode(pkt, &seg)) {
    case PACKET_TCP:
        tcp_stream_feed(p->tcp, &seg);
        break;
    case PACKET_NOT_TCP:
        p->n.non_tcp++;
        break;
    case PACKET_FRAGMENT:
        p->n.fragments++;
        break;
    default:
        p->n.malformed_packets++;
        break;
    }
    tick(p);
}

/* --count-ops and --duration (packet time since the first packet; a live
 * capture also stops on wall time, for a quiet network). */
static bool limit_reached(const struct pipeline *p)
{
    if (p->cfg.count_ops && p->n.ops_emitted >= p->cfg.count_ops)
        return true;
    if (p->cfg.duration_s <= 0)
        return false;
    if (p->duration_over)
        return true;
    return pcap_source_is_live(p->src) && clock_mono_s() - p->wall_start >= p->cfg.duration_s;
}

/* The first packet past --duration ends the input, unread. */
static bool past_duration(const struct pipeline *p, const struct packet *pkt)
{
    return p->cfg.duration_s > 0 && p->first_ts && pkt->ts_ns > p->first_ts &&
           (double)(pkt->ts_ns - p->first_ts) > p->cfg.duration_s * 1e9;
}

enum pipeline_status pipeline_step(struct pipeline *p, unsigned max_packets)
{
    for (unsigned i = 0; i < max_packets; i++) {
        if (p->stop || (p->max_packets && p->n.packets >= p->max_packets) || limit_reached(p))
            return PIPELINE_DONE;
        struct packet pkt;
        switch (pcap_source_next(p->src, &pkt)) {
        case PCAP_SOURCE_PACKET:
            if (past_duration(p, &pkt)) {
                p->duration_over = true;
                return PIPELINE_DONE;
            }
            handle_packet(p, &pkt);
            break;
        case PCAP_SOURCE_AGAIN:
            idle_advance(p);
            return PIPELINE_IDLE;
        case PCAP_SOURCE_END:
            return PIPELINE_DONE;
        case PCAP_SOURCE_ERROR:
            snprintf(p->err, sizeof p->err, "%s", pcap_source_error(p->src));
            return PIPELINE_ERROR;
        }
    }
    return PIPELINE_MORE;
}

void pipeline_finish(struct pipeline *p)
{
    if (p->finished)
        return;
    p->finished = true;
    tls_decoder_poll_keys(p->tls);
    tcp_stream_finish(p->tcp);
    amqp_dissector_finish(p->amqp);
    corr_finish(p->corr, p->now_ns);
    if (p->flows)
        flow_table_finish(p->flows);
}

const char *pipeline_tls_advice(struct pipeline *p)
{
    if (p->tls_advised)
        return NULL;
    const char *a = engine_tls_advice(&p->cfg, p->tls);
    if (a)
        p->tls_advised = true;
    return a;
}

const char *pipeline_error(const struct pipeline *p)
{
    return p->err;
}

struct counters *pipeline_counters(struct pipeline *p)
{
    return p->counters;
}

void pipeline_time_span(const struct pipeline *p, uint64_t *first_ns, uint64_t *last_ns)
{
    *first_ns = p->first_ts;
    *last_ns = p->now_ns;
}

struct stats *pipeline_stats(struct pipeline *p)
{
    return p->stats;
}

size_t pipeline_foreach_pending(struct pipeline *p, size_t max,
                                void (*fn)(void *user, const struct op *op), void *user)
{
    return corr_foreach_pending(p->corr, max, fn, user);
}

const char *pipeline_filter(const struct pipeline *p)
{
    return p->bpf ? p->bpf : "";
}

const struct pipeline_clock *pipeline_clock(const struct pipeline *p)
{
    return p->clock.n ? &p->clock : NULL;
}

const int64_t *pipeline_offsets_ns(const struct pipeline *p)
{
    return p->clock.n ? p->offsets_ns : NULL;
}

size_t pipeline_foreach_flow(struct pipeline *p, size_t max,
                             void (*fn)(void *user, const struct flow *f), void *user)
{
    return p->flows ? flow_table_foreach(p->flows, max, fn, user) : 0;
}

struct pcap_source *pipeline_source(struct pipeline *p)
{
    return p->src;
}

void pipeline_stop(struct pipeline *p)
{
    p->stop = 1;
    pcap_source_break(p->src);
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    if (p->tcp)
        tcp_stream_free(p->tcp); /* closes every flow: TLS and AMQP connections */
    tls_decoder_free(p->tls);
    if (p->amqp)
        amqp_dissector_free(p->amqp);
    if (p->corr)
        corr_free(p->corr);
    if (p->stats)
        stats_free(p->stats);
    if (p->src)
        pcap_source_close(p->src);
    counters_free(p->counters);
    flow_table_free(p->flows); /* last: closing the stages above may still end ops */
    free(p);
}

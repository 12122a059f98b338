/*
 * pipeline.h: the engine: the stages wired together, packets in, operations out.
 *
 *   pcap_source → packet_decode → tcp_stream → amqp_conn → corr → sinks
 *
 * main and the TUI drive it the same way: pipeline_step() reads a bounded
 * number of packets and returns, so a caller can poll a keyboard or a timer
 * between steps and the capture never waits for the screen. Sinks are
 * callbacks; the pipeline itself prints nothing. It is configured by
 * engine/config.h alone, and every stage's counters are in one registry
 * (common/counters.h) that any view reads.
 */
#ifndef OSLOTRACE_ENGINE_PIPELINE_H
#define OSLOTRACE_ENGINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/pcap_source.h"
#include "capture/tcp_stream.h"
#include "common/counters.h"
#include "dissect/amqp_conn.h"
#include "dissect/correlate.h"
#include "dissect/flow.h"
#include "dissect/op.h"
#include "dissect/stats.h"
#include "engine/clock_sync.h"
#include "engine/config.h"

enum pipeline_status {
    PIPELINE_MORE,  /* packets were read; call again */
    PIPELINE_IDLE,  /* live: nothing arrived within the read timeout */
    PIPELINE_DONE,  /* input exhausted, -c reached or stopped */
    PIPELINE_ERROR, /* pipeline_error() says what */
};

struct pipeline_sinks {
    /* Every operation that passed the filter. */
    void (*on_op)(void *user, const struct op *op);
    /* Every AMQP method frame (only when the pipeline was built with want_methods). */
    void (*on_method)(void *user, const struct amqp_method_event *ev);
    void (*on_conn)(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev);
    void *user;
    /* Every packet read, before decoding (live -w keeps recent ones). */
    void (*on_packet)(void *user, const struct packet *pkt);
    /* What the broker did to a client (dissect/amqp_conn.h), always. */
    void (*on_broker_event)(void *user, const struct amqp_broker_event *ev);
    /* Every flow that ended (only with want_flows): idle, evicted or at the end. */
    void (*on_flow)(void *user, const struct flow *f);
};

struct pipeline;

/* Several capture files are several nodes (docs/cluster.md): each one's name
 * and the clock offset applied to its timestamps before the merge. */
struct pipeline_node {
    const char *name;                 /* --node-name, else the file's base name */
    struct clock_sync_estimate clock; /* how its offset was had, and how sure it is */
};
struct pipeline_clock {
    size_t n;
    struct pipeline_node node[ENGINE_MAX_FILES];
    bool estimated; /* false: inputs that cannot be read twice (pipes), only offsets by hand */
    struct clock_sync_stats stats;
};

struct pipeline *pipeline_new(const struct engine_config *cfg, const struct pipeline_sinks *sinks,
                              char *err, size_t errlen);
enum pipeline_status pipeline_step(struct pipeline *p, unsigned max_packets);
/* End of input: close every flow, end every pending call, so every op is out. */
void pipeline_finish(struct pipeline *p);
const char *pipeline_error(const struct pipeline *p);
/* Once: the advice to print when TLS was seen and nothing decrypted (else NULL). */
const char *pipeline_tls_advice(struct pipeline *p);
/* Every stage's counters (the engine's own among them); front-ends may add theirs. */
struct counters *pipeline_counters(struct pipeline *p);
/* Packet time: the first packet's timestamp and the newest time reached, ns (0 = none). */
void pipeline_time_span(const struct pipeline *p, uint64_t *first_ns, uint64_t *last_ns);
struct stats *pipeline_stats(struct pipeline *p);
/* The newest `max` calls still waiting for a reply, as open ops (see corr_foreach_pending). */
size_t pipeline_foreach_pending(struct pipeline *p, size_t max,
                                void (*fn)(void *user, const struct op *op), void *user);
/* The open flows (want_flows), most recently active first, at most max. */
size_t pipeline_foreach_flow(struct pipeline *p, size_t max,
                             void (*fn)(void *user, const struct flow *f), void *user);
struct pcap_source *pipeline_source(struct pipeline *p);
/* The nodes and their clocks when there are several capture files, else NULL. */
const struct pipeline_clock *pipeline_clock(const struct pipeline *p);
/* Each file's offset in ns as applied (for a second read in the same order), else NULL. */
const int64_t *pipeline_offsets_ns(const struct pipeline *p);
/* The capture filter in use ("" when none): -f, or the default of a live capture. */
const char *pipeline_filter(const struct pipeline *p);
/* Async-signal-safe: makes the next step return DONE. */
void pipeline_stop(struct pipeline *p);
void pipeline_free(struct pipeline *p);

#endif

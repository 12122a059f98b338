/*
 * tcp_stream.h: TCP reassembly. Segments in, per-direction ordered bytes out.
 *
 * One flow per 4-tuple holds both directions. Each direction delivers its
 * bytes in sequence order through on_data; a hole that is not filled in time
 * (bytes buffered past it, or packet time) becomes an explicit on_gap and
 * delivery goes on, so downstream resynchronises instead of stalling. Flows
 * seen without their SYN start at the first byte seen; a segment with neither
 * payload nor SYN opens no flow (the last ACK after a close, a stray RST).
 * Every table is bounded and every eviction counted (struct tcp_stream_stats).
 *
 * Direction: dir 0 is flow->a → flow->b, dir 1 is b → a. `a` is the SYN sender
 * when the SYN was seen, otherwise the sender of the first segment seen.
 */
#ifndef OSLOTRACE_CAPTURE_TCP_STREAM_H
#define OSLOTRACE_CAPTURE_TCP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "capture/packet.h"

struct tcp_flow {
    struct netaddr a, b;
    uint64_t id;       /* 1, 2, ... in order of creation */
    uint64_t first_ts; /* ns */
    uint64_t last_ts;  /* ns */
    uint64_t bytes[2]; /* delivered bytes per direction */
    uint16_t source;   /* the input its first segment came from (struct packet.source) */
    void *user;        /* downstream state (the AMQP connection); tcp_stream never touches it */
};

enum tcp_close_reason {
    TCP_CLOSE_FIN,     /* both directions finished */
    TCP_CLOSE_RST,
    TCP_CLOSE_IDLE,    /* no packet for idle_timeout */
    TCP_CLOSE_EVICTED, /* the flow table was full */
    TCP_CLOSE_END,     /* end of capture */
};

const char *tcp_close_reason_name(enum tcp_close_reason r);

struct tcp_stream_callbacks {
    void (*on_open)(void *user, struct tcp_flow *flow);
    void (*on_data)(void *user, struct tcp_flow *flow, int dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns, uint64_t pkt_index);
    void (*on_gap)(void *user, struct tcp_flow *flow, int dir, uint64_t missing_bytes,
                   uint64_t ts_ns);
    /* Called once per flow; flow->user must be released here. */
    void (*on_close)(void *user, struct tcp_flow *flow, enum tcp_close_reason reason);
    void *user;
};

/* Fields left 0 take their default. Out-of-order bytes are charged with a
 * per-segment overhead so that many tiny segments cannot dodge the limits. */
struct tcp_stream_config {
    size_t max_flows;              /* default 65536 */
    size_t max_ooo_bytes_per_flow; /* out-of-order bytes buffered per direction, default 4 MiB */
    size_t max_ooo_bytes_total;    /* across all flows, default 64 MiB */
    uint64_t gap_timeout_ns;       /* a hole older than this becomes a gap, default 2 s */
    uint64_t idle_timeout_ns;      /* flows idle this long are closed, default 15 min */
};

struct tcp_stream_stats {
    uint64_t segments;
    uint64_t payload_bytes;
    uint64_t flows_opened, flows_closed, flows_evicted, flows_idle_closed;
    uint64_t flows_active;
    uint64_t out_of_order;        /* segments that arrived ahead of a hole */
    uint64_t retransmitted_bytes; /* bytes trimmed as already delivered or buffered */
    uint64_t gaps, gap_bytes;
    uint64_t ooo_bytes_buffered;  /* current */
    uint64_t ooo_dropped_bytes;   /* dropped for the buffer limits */
    uint64_t no_flow_segments;    /* no payload, no SYN, no flow (trailing ACK/FIN/RST): ignored */
    uint64_t out_of_window;       /* segments more than 1 GiB ahead of the next byte: dropped */
    uint64_t flows_reused;        /* a new SYN replaced a live flow (closed as EVICTED) */
};

/* Callbacks must not call back into the same tcp_stream. on_data's ts_ns and
 * pkt_index are those of the packet that carried the bytes (also when they
 * were buffered out of order). */
void tcp_stream_config_default(struct tcp_stream_config *cfg);
struct tcp_stream *tcp_stream_new(const struct tcp_stream_config *cfg,
                                  const struct tcp_stream_callbacks *cb);
void tcp_stream_feed(struct tcp_stream *ts, const struct tcp_segment *seg);
/* Packet time moved on: flush holes past gap_timeout and close idle flows. */
void tcp_stream_tick(struct tcp_stream *ts, uint64_t now_ns);
/* End of capture: deliver what can be, report remaining holes as gaps, close every flow. */
void tcp_stream_finish(struct tcp_stream *ts);
void tcp_stream_get_stats(const struct tcp_stream *ts, struct tcp_stream_stats *out);
/* Adds the reassembly counters to a registry (false when it cannot). */
bool tcp_stream_register_counters(const struct tcp_stream *ts, struct counters *reg);
/* Closes flows still open (on_close TCP_CLOSE_END, buffered data not delivered) and frees. */
void tcp_stream_free(struct tcp_stream *ts);

#endif

/*
 * amqp_conn.h: the public entry point of the AMQP stage.
 *
 * The capture stage hands each TCP flow's ordered bytes (and its gaps) to an
 * amqp_conn; per direction a frame splitter (amqp_frame.h) cuts frames, and
 * the connection keeps what AMQP state the later stages need: who is the
 * broker, the handshake (properties, user, vhost, tune), per channel the
 * content being assembled and consumer tag -> queue. Out come, through
 * callbacks, assembled messages (amqp_message.h) for the oslo stage, method
 * events for the --amqp view, and connection open/update/close. Every table
 * is bounded (struct amqp_config) and every drop counted (struct amqp_stats).
 */
#ifndef OSLOTRACE_DISSECT_AMQP_CONN_H
#define OSLOTRACE_DISSECT_AMQP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "common/netaddr.h"
#include "dissect/amqp_confirm.h"
#include "dissect/amqp_err.h"
#include "dissect/amqp_message.h"
#include "dissect/amqp_method.h"

struct amqp_config {
    uint32_t default_frame_max; /* frame bound before/without tune, default 1 MiB */
    uint64_t max_body; /* --max-body, default 16 MiB: longer bodies keep their first bytes */
    const uint16_t *broker_ports; /* default {5672, 5671} when nbroker_ports == 0 */
    size_t nbroker_ports;
    uint32_t max_channels;      /* channels tracked per connection, default 2048 */
    uint32_t max_consumers;     /* consumer tag -> queue entries per connection, default 4096 */
    uint64_t max_partial_bytes; /* all partial bodies together, default 256 MiB */
    bool want_methods;          /* call on_method for every method frame (--amqp) */
};

void amqp_config_default(struct amqp_config *cfg);

enum amqp_conn_event {
    AMQP_CONN_OPEN,
    AMQP_CONN_UPDATE /* handshake info learned */,
    AMQP_CONN_CLOSE
};

/* One method frame, for the --amqp view. Content methods (publish, deliver,
 * get-ok, return) come when their content is complete, carrying its
 * properties and size; other methods at once. Valid during the callback. */
struct amqp_method_event {
    const struct amqp_conn_info *conn;
    int dir; /* 0 = to the broker, 1 = to the client */
    uint16_t channel;
    uint64_t ts_ns; /* the method frame's time */
    uint16_t class_id, method_id;
    const struct amqp_method_def *method; /* NULL: not in the table (no args) */
    size_t nargs;
    struct amqp_arg_value args[AMQP_METHOD_MAX_ARGS];
    /* Content methods only: */
    bool has_content;
    bool content_complete;                /* false: cut by a gap, eviction or the end */
    const struct amqp_basic_props *props; /* NULL when the header was not seen */
    uint64_t body_size;                   /* declared by the header */
    size_t body_len;                      /* bytes kept */
    bool body_truncated;
    const uint64_t *pkts;
    size_t npkts;
};

/* What the broker did to a client, always reported (rare, cheap): flow
 * control, a consumer it cancelled, a channel or connection it closed. The
 * name is the queue or exchange concerned: for basic.cancel the consumer's
 * queue, for a close the queue/exchange the failed method named on that
 * channel (or the connection's last one). Valid during the callback. */
struct amqp_broker_event {
    const struct amqp_conn_info *conn;
    uint64_t ts_ns;
    uint16_t channel;
    const char *event;            /* "connection.blocked", "basic.cancel", "channel.close", ... */
    uint16_t reply_code;          /* closes: 404, 406, 541...; 0 otherwise */
    struct amqp_bytes reply_text; /* closes; blocked: its reason */
    const char *failed_method;    /* closes: the method that failed ("queue.declare"), or NULL */
    const char *name_kind;        /* "queue" or "exchange", NULL when unknown */
    const char *name;             /* NUL-terminated, NULL when unknown */
    const uint64_t *pkts;
    size_t npkts;
    /* "basic.nack": the broker refused publishes (publisher confirms):
     * the tag it named, how many publishes it refused, the oldest one's wait. */
    uint64_t delivery_tag;
    uint64_t messages;
    uint64_t latency_ns;
    /* "publisher_confirms": not a method but a connection's confirm summary
     * (amqp_confirm.h), when it closes; NULL for every other event. */
    const struct amqp_confirm_stats *confirms;
    uint64_t unconfirmed; /* publishes still waiting at the close */
    /* "connection_churn": one client process's AMQP connections in one
     * minute of packet time (amqp_churn.h); conn is NULL, process names it. */
    const char *process;
    uint64_t minute_ns;
    uint32_t opened, closed;
    /* "redelivery": the broker delivered a message again (the redelivered
     * flag; quorum queues also count in the x-delivery-count header: 0 =
     * absent). name/name_kind: the consumer's queue; delivery_tag as sent. */
    uint64_t delivery_count;
};

struct amqp_callbacks {
    void (*on_method)(void *user, const struct amqp_method_event *ev);
    void (*on_message)(void *user, const struct amqp_message *msg);
    void (*on_conn)(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev);
    void *user;
    void (*on_broker_event)(void *user, const struct amqp_broker_event *ev); /* may be NULL */
};

struct amqp_stats {
    uint64_t bytes, frames, methods, messages, heartbeats, protocol_headers;
    uint64_t resyncs, skipped_bytes;
    uint64_t malformed_frames; /* framing, argument, table or header errors */
    uint64_t oversize_frames;
    uint64_t bodies_truncated; /* kept only the first max_body bytes (or what memory allowed) */
    uint64_t partial_evicted;  /* partial contents dropped for max_partial_bytes */
    uint64_t partial_bytes;    /* body bytes held by partial contents now */
    uint64_t channels_evicted, consumers_evicted;
    uint64_t unknown_methods;
    uint64_t contents_dropped; /* contents never emitted as messages (errors[] says why) */
    uint64_t gaps;
    uint64_t connections_open, connections_total;
    uint64_t confirms_forgotten;     /* unconfirmed publishes pushed out of a channel's ring */
    uint64_t churn_evicted;          /* processes pushed out of the churn table */
    uint64_t errors[AMQP_ERR_COUNT]; /* by reason */
};

struct amqp_dissector *amqp_dissector_new(const struct amqp_config *cfg,
                                          const struct amqp_callbacks *cb);
/* a = the TCP flow's dir-0 sender, b = dir-1 sender (see capture/tcp_stream.h) */
struct amqp_conn *amqp_conn_open(struct amqp_dissector *d, uint64_t flow_id,
                                 const struct netaddr *a, const struct netaddr *b, uint64_t ts_ns);
void amqp_conn_data(struct amqp_conn *c, int tcp_dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns, uint64_t pkt_index);
void amqp_conn_gap(struct amqp_conn *c, int tcp_dir, uint64_t missing_bytes, uint64_t ts_ns);
/* Flushes nothing half-done as a message (counted content_unfinished); frees c. */
void amqp_conn_close(struct amqp_conn *c, uint64_t ts_ns);
/* The TCP connection really ended (FIN or RST), not the capture: a close
 * without connection.close counts as one in the churn. Call before close. */
void amqp_conn_mark_ended(struct amqp_conn *c);
/* Packet time moved on (hands out churn minutes that ended). */
void amqp_dissector_tick(struct amqp_dissector *d, uint64_t now_ns);
/* End of the input, after every connection was closed: the last churn minutes. */
void amqp_dissector_finish(struct amqp_dissector *d);
const struct amqp_conn_info *amqp_conn_get_info(const struct amqp_conn *c);
/* Which input (capture file, node) the connection was seen in. */
void amqp_conn_set_source(struct amqp_conn *c, uint16_t source);
void amqp_dissector_get_stats(const struct amqp_dissector *d, struct amqp_stats *out);
/* Adds the AMQP counters to a registry (false when it cannot). */
bool amqp_dissector_register_counters(const struct amqp_dissector *d, struct counters *reg);
/* Closes (without callbacks) any connection still open, then frees. */
void amqp_dissector_free(struct amqp_dissector *d);

/* Bytes one connection takes without partial contents (for the memory benchmark). */
size_t amqp_conn_footprint(const struct amqp_conn *c);

#endif

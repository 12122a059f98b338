/*
 * amqp_message.h: what the AMQP stage hands to the oslo stage.
 *
 * One `struct amqp_message` per assembled content: a basic.publish,
 * basic.deliver, basic.get-ok or basic.return method frame plus its content
 * header and body frames, put together per channel. Every pointer in it is
 * valid only for the duration of the callback that receives it; a consumer
 * that needs a value later copies it.
 */
#ifndef OSLOTRACE_DISSECT_AMQP_MESSAGE_H
#define OSLOTRACE_DISSECT_AMQP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"

/* A run of bytes on the wire (not NUL-terminated). len 0 with p NULL = absent. */
struct amqp_bytes {
    const uint8_t *p;
    size_t len;
};

/* Identity of one AMQP connection (one TCP flow), kept by the AMQP stage. */
struct amqp_conn_info {
    uint64_t id;                 /* the TCP flow id */
    uint16_t source;             /* the input (-r file) the flow came from: its node */
    struct netaddr client, broker;
    bool broker_known;           /* false while the roles are only guessed */
    char connection_name[128];   /* client property connection_name, "" if unseen */
    char product[64];            /* client property product */
    char client_version[32];
    char server_product[64];     /* server property product ("RabbitMQ") */
    char server_version[32];
    char user[64];               /* from connection.start-ok; the password is never kept */
    char vhost[64];
    uint16_t channel_max;
    uint32_t frame_max;          /* 0 until connection.tune-ok was seen */
    uint16_t heartbeat;
    bool handshake_seen;
    uint64_t first_ts, last_ts;
    uint64_t frames, bytes[2];   /* per direction: [0] to broker, [1] to client */
    uint64_t methods, messages;
    uint64_t resyncs, skipped_bytes, gaps, malformed;
    uint32_t channels_open, consumers;
    /* Added by the AMQP stage (amqp_conn.c). */
    char platform[64];           /* client property platform */
    char server_platform[64];    /* server property platform ("Erlang/OTP ...") */
    char mechanism[32];          /* SASL mechanism from connection.start-ok */
    /* The connection's set-up, for -w: packets from the protocol header
     * through connection.open-ok and every method before the first message
     * (channel.open, declares, binds, qos, consume, confirm.select), at most
     * AMQP_CONN_SETUP_PKTS_MAX. A file written without them would start each
     * connection's first message after a hole, which a reader holds back for
     * its gap timeout, out of order with the legs on other connections. */
    const uint64_t *handshake_pkts;
    size_t nhandshake_pkts;
};

#define AMQP_CONN_SETUP_PKTS_MAX 32

enum amqp_content_kind {
    AMQP_CONTENT_PUBLISH, /* client → broker */
    AMQP_CONTENT_DELIVER, /* broker → consumer */
    AMQP_CONTENT_GET_OK,  /* broker → client, answer to basic.get */
    AMQP_CONTENT_RETURN,  /* broker → publisher: unroutable mandatory message */
};

/* Bit per property in amqp_basic_props.present, in the spec's flag order. */
enum amqp_prop_bit {
    AMQP_PROP_CONTENT_TYPE = 1u << 0,
    AMQP_PROP_CONTENT_ENCODING = 1u << 1,
    AMQP_PROP_HEADERS = 1u << 2,
    AMQP_PROP_DELIVERY_MODE = 1u << 3,
    AMQP_PROP_PRIORITY = 1u << 4,
    AMQP_PROP_CORRELATION_ID = 1u << 5,
    AMQP_PROP_REPLY_TO = 1u << 6,
    AMQP_PROP_EXPIRATION = 1u << 7,
    AMQP_PROP_MESSAGE_ID = 1u << 8,
    AMQP_PROP_TIMESTAMP = 1u << 9,
    AMQP_PROP_TYPE = 1u << 10,
    AMQP_PROP_USER_ID = 1u << 11,
    AMQP_PROP_APP_ID = 1u << 12,
    AMQP_PROP_CLUSTER_ID = 1u << 13,
};

struct amqp_basic_props {
    uint32_t present; /* amqp_prop_bit */
    struct amqp_bytes content_type, content_encoding;
    struct amqp_bytes headers; /* the raw field table (without its 4-byte length) */
    uint8_t delivery_mode, priority;
    struct amqp_bytes correlation_id, reply_to, expiration, message_id;
    uint64_t timestamp;
    struct amqp_bytes type, user_id, app_id, cluster_id;
};

struct amqp_message {
    enum amqp_content_kind kind;
    const struct amqp_conn_info *conn;
    int dir;                  /* 0 = to the broker, 1 = to the client */
    uint16_t channel;
    uint64_t ts_ns;           /* timestamp of the method frame's last byte */
    uint64_t ts_end_ns;       /* timestamp of the last body byte */
    struct amqp_bytes exchange, routing_key;
    struct amqp_bytes consumer_tag; /* deliver */
    struct amqp_bytes queue;        /* deliver: the queue behind the consumer tag, if known */
    uint64_t delivery_tag;
    bool redelivered, mandatory;
    uint16_t reply_code;            /* return */
    struct amqp_bytes reply_text;   /* return */
    struct amqp_basic_props props;
    const uint8_t *body;      /* body_len bytes (the first ones when truncated) */
    size_t body_len;
    uint64_t body_size;       /* size the content header declared */
    bool body_truncated;      /* over --max-body, or cut by a gap */
    const uint8_t *skel;      /* body_truncated but complete: its top-level keys (json_skel.h) */
    size_t skel_len;
    const uint64_t *pkts;     /* packet numbers that carried this message's frames */
    size_t npkts;
};

#endif

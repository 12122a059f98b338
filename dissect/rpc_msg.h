/*
 * rpc_msg.h: one RPC message in no particular dialect — what a dialect
 * decoder (dissect/dialect.h) makes of an AMQP message and what correlation
 * (dissect/correlate.h) reads.
 *
 * oslo.messaging and plain AMQP RPC (reply_to + correlation_id) say the same
 * things in different places: which call a message belongs to, where the
 * answer goes, whether it is the answer and how it ended. A dialect fills
 * these fields; correlation never looks at a body. Strings are NUL-terminated,
 * NULL when absent, and valid only until the dialect's next decode.
 */
#ifndef OSLOTRACE_DISSECT_RPC_MSG_H
#define OSLOTRACE_DISSECT_RPC_MSG_H

#include <stdbool.h>

#include "dissect/amqp_message.h"
#include "dissect/op.h"

enum rpc_kind {
    RPC_CALL_REQUEST, /* expects a reply, keyed by call_id */
    RPC_REPLY,        /* an answer (or heartbeat) to the call call_id */
    RPC_CAST,         /* one-way, to one consumer */
    RPC_FANOUT,       /* one-way, to every consumer of a topic */
    RPC_NOTIFICATION, /* an event, keyed by message_id */
    RPC_OTHER,        /* the dialect's, but nothing to correlate: counted only */
};

/* Why a dialect did not claim a message, for the counters when no dialect does. */
enum rpc_reject {
    RPC_REJECT_NONE,      /* simply not this dialect's */
    RPC_REJECT_EMPTY,     /* no body */
    RPC_REJECT_INFLATE,   /* compressed, and could not be inflated */
    RPC_REJECT_TRUNCATED, /* the body was cut by the capture */
    RPC_REJECT_MALFORMED, /* the body is not what the dialect expects (e.g. not JSON) */
    RPC_REJECT_FOREIGN,   /* well formed, but not this dialect's message */
};

struct rpc_msg {
    enum rpc_kind kind;
    enum op_dialect dialect;
    const struct amqp_message *leg; /* the AMQP message it came from (kind, conn, time, pkts) */

    const char *call_id;    /* pairs a call with its replies: oslo _msg_id, AMQP correlation_id */
    const char *reply_to;   /* where the reply goes: oslo _reply_q, AMQP reply_to */
    const char *unique_id;  /* one message across its legs (de-dup): oslo _unique_id */
    const char *message_id; /* notifications: their id */
    struct amqp_bytes exchange, routing_key;
    const char *topic, *server, *method, *namespace_, *version;
    const char *request_id, *global_request_id;

    bool has_timeout; /* the client's own timeout (oslo/AMQP expiration) */
    double timeout_s;
    bool has_monitor; /* oslo call monitor: heartbeats expected */
    double monitor_timeout_s;

    /* replies */
    bool reply_needs_call; /* a reply only if its call is known (plain AMQP), else not RPC */
    bool ending;           /* the final reply */
    bool heartbeat;        /* a keep-alive: not final, no result */
    bool has_result;       /* answered with a result */
    bool has_failure;      /* answered with an error */
    const char *error_class, *error_module, *error_message; /* set when the error was decoded */

    /* notifications */
    const char *event_type, *priority, *publisher_id;

    /* Only when bodies were asked for: malloc'd, redacted JSON. Correlation may
     * take them (setting the field NULL); rpc_msg_release() frees the rest. */
    char *args_json, *result_json, *context_json;

    /* Decoder notes, counted whether or not the message was claimed. */
    enum rpc_reject reject;
    bool cut;           /* some field was longer than its buffer */
    bool bodies_failed; /* bodies wanted, but the message could not be decoded as a tree */
};

void rpc_msg_release(struct rpc_msg *m);

#endif

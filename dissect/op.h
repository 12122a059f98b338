/*
 * op.h: one RPC operation (oslo or plain AMQP), the record every sink reads.
 *
 * Correlation emits a `struct op` when an operation ends: a call at its
 * final reply, its timeout, its eviction or the end of the capture; a cast,
 * fanout cast or notification once it has been seen. Text, NDJSON, the
 * report, -w and the TUI all read this and nothing below it. Strings are
 * NUL-terminated, NULL when absent, and valid only during the callback.
 */
#ifndef OSLOTRACE_DISSECT_OP_H
#define OSLOTRACE_DISSECT_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"

/* Which RPC convention the operation was recognised in (dissect/dialect.h). */
enum op_dialect {
    OP_DIALECT_OSLO, /* oslo.messaging */
    OP_DIALECT_AMQP, /* plain AMQP 0-9-1 RPC: reply_to + correlation_id */
    OP_DIALECT_COUNT
};

enum op_type { OP_CALL, OP_CAST, OP_FANOUT, OP_NOTIFICATION, OP_TYPE_COUNT };

enum op_status {
    OP_OK,         /* call answered with a result; casts and notifications: seen */
    OP_ERROR,      /* call answered with a remote exception */
    OP_TIMEOUT,    /* no final reply within the call's timeout */
    OP_OPEN,       /* capture ended while still within its timeout */
    OP_UNROUTABLE, /* returned by the broker (basic.return) */
    OP_EVICTED,    /* dropped from the full pending-call table */
    OP_UNKNOWN,    /* no reply seen, but the capture lost packets while it was pending */
    OP_STATUS_COUNT
};

/* The four legs of a call, in the order they happen. */
enum op_leg {
    LEG_REQUEST_PUBLISH, /* client → broker */
    LEG_REQUEST_DELIVER, /* broker → server */
    LEG_REPLY_PUBLISH,   /* server → broker */
    LEG_REPLY_DELIVER,   /* broker → client */
    LEG_COUNT
};

/* Why a call ended as it did, from the legs the capture holds (docs/json.md). */
enum op_verdict {
    OP_VERDICT_NONE,                /* not a call (null in -j), or still pending */
    OP_VERDICT_OK,                  /* the reply reached the caller in time */
    OP_VERDICT_REMOTE_ERROR,        /* ... and it carried a failure */
    OP_VERDICT_NOT_ROUTED,          /* the broker returned the request (basic.return) */
    OP_VERDICT_NOT_DELIVERED,       /* published, no consumer received it before the call ended */
    OP_VERDICT_NO_REPLY,            /* a server received it, published no reply before the end */
    OP_VERDICT_REPLY_RETURNED,      /* the reply was returned by the broker (reply queue gone) */
    OP_VERDICT_REPLY_NOT_DELIVERED, /* the reply was published, not returned, never delivered */
    OP_VERDICT_LATE_REPLY,          /* the reply reached the caller after its timeout */
    OP_VERDICT_UNKNOWN,             /* the capture lacks the legs needed to tell */
    OP_VERDICT_COUNT
};

/* Which part of a call's latency was the largest. */
enum op_slow {
    OP_SLOW_NONE,   /* no latency, or not enough legs to split it */
    OP_SLOW_QUEUE,  /* request publish → request deliver */
    OP_SLOW_SERVER, /* request deliver → reply publish */
    OP_SLOW_REPLY,  /* reply publish → reply deliver */
    OP_SLOW_COUNT
};

struct op_peer {
    bool known;
    struct netaddr addr;
    const char *connection_name; /* NULL when the handshake was not seen */
};

struct op {
    enum op_dialect dialect;
    enum op_type type;
    enum op_status status;
    uint64_t ts_ns;               /* request publish time, else the first leg seen */
    uint64_t timeline[LEG_COUNT]; /* ns, 0 = leg not seen */

    const char *msg_id, *unique_id, *reply_q;
    const char *exchange, *routing_key, *topic, *server;
    const char *method, *namespace_, *version;
    const char *request_id, *global_request_id;

    bool has_latency;
    double latency_ms;
    enum op_leg latency_from, latency_to;
    double queue_wait_ms; /* < 0 when not seen */
    double server_ms;     /* < 0 when not seen */
    double timeout_s;     /* the call's timeout (expiration or --call-timeout); 0 for non-calls */
    bool late_reply;
    unsigned replies;    /* reply messages seen, heartbeats included */
    unsigned heartbeats; /* call-monitor replies (ending: false) */
    enum op_verdict verdict;
    enum op_slow slow_in;
    double reply_ms; /* reply publish → reply deliver; < 0 when not seen */

    const char *error_class, *error_module, *error_message; /* status error */

    struct op_peer client, server_peer;
    unsigned fanout_receivers;

    /* notifications */
    const char *event_type, *priority, *publisher_id, *message_id;

    /* Only when the pipeline was asked for them (--args, the TUI): JSON text, redacted. */
    const char *args_json, *result_json, *context_json;
    bool body_truncated; /* a message's body was cut by --max-body: no args/result */

    const uint64_t *pkts; /* packet numbers of every frame of the operation, for -w */
    size_t npkts;
    uint64_t leg_conn[LEG_COUNT]; /* amqp_conn_info.id of each leg's connection, 0 = unseen */
    uint16_t leg_source[LEG_COUNT]; /* the input (-r file, node) each leg was seen in, when
                                       leg_conn is set (amqp_conn_info.source) */
};

const char *op_dialect_name(enum op_dialect d); /* "oslo", "amqp" */
const char *op_type_name(enum op_type t);       /* "call", "cast", "fanout", "notification" */
const char *op_status_name(enum op_status s);   /* "ok", "error", ... */
const char *op_leg_name(enum op_leg l);         /* "request_publish", ... */
const char *op_verdict_name(enum op_verdict v); /* "ok", ...; NULL for OP_VERDICT_NONE */
const char *op_slow_name(enum op_slow s);       /* "queue", ...; NULL for OP_SLOW_NONE */

/* The process at one end of an op: "<argv0>:<pid>" from an oslo connection
 * name ("<argv0>:<pid>:<uuid>"), another connection name as it is, else the
 * peer address; for the client with no connection seen, the process an oslo
 * queue-manager reply queue ("reply_<host>:<process>:<n>") names, as
 * "<process>@<host>". NULL when nothing names it. buf holds the text. */
const char *op_client_process(const struct op *op, char *buf, size_t len);
const char *op_server_process(const struct op *op, char *buf, size_t len);
#define OP_PROCESS_MAX 192

#endif

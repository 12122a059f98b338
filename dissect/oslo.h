/*
 * oslo.h: the oslo.messaging layer — envelope, classification and the fields
 * correlation needs, decoded from one AMQP message.
 *
 * Input is a struct amqp_message; output a struct oslo_msg with fixed-size
 * string fields (cut, never overflowing) so decoding allocates nothing per
 * message except the reused envelope buffer and, only when asked for
 * (--args, the TUI), the redacted JSON text of args/result/context. Keys are
 * found with json_scan (dissect/json_scan.h) without building a tree; jansson
 * is used for the failure string and for the optional bodies only.
 */
#ifndef OSLOTRACE_DISSECT_OSLO_H
#define OSLOTRACE_DISSECT_OSLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/amqp_message.h"

enum oslo_kind {
    OSLO_KIND_CALL,         /* request with _msg_id and _reply_q */
    OSLO_KIND_CAST,         /* request without _msg_id */
    OSLO_KIND_FANOUT,       /* cast published to a `<topic>_fanout` exchange */
    OSLO_KIND_REPLY,        /* _msg_id with ending/result/failure, no method */
    OSLO_KIND_NOTIFICATION, /* event_type + priority (+ message_id) */
    OSLO_KIND_OTHER,        /* valid JSON, not something oslo sends: counted, no op */
    OSLO_KIND_COUNT
};

const char *oslo_kind_name(enum oslo_kind k);

enum oslo_err {
    OSLO_OK,
    OSLO_ERR_EMPTY,      /* no body */
    OSLO_ERR_TRUNCATED,  /* the body (or the envelope string) ends inside the JSON */
    OSLO_ERR_JSON,       /* not JSON */
    OSLO_ERR_UTF8,       /* invalid UTF-8 in a string */
    OSLO_ERR_DEPTH,      /* nested deeper than the scanner's bound */
    OSLO_ERR_NOT_OBJECT, /* JSON, but the message is not an object */
    OSLO_ERR_ENVELOPE,   /* `oslo.message` is not a string */
    OSLO_ERR_CODEC,      /* compressed with a codec we do not inflate */
    OSLO_ERR_INFLATE,    /* zlib/gzip data corrupt, truncated or over the limit */
    OSLO_ERR_NOMEM,
    OSLO_ERR_COUNT
};

const char *oslo_err_name(enum oslo_err e);

/* Field sizes: longer values are cut (flagged in oslo_msg.cut). */
#define OSLO_ID_LEN 128
#define OSLO_NAME_LEN 256
#define OSLO_MSG_LEN 512

/* Bits of oslo_msg.have: which top-level keys were present (even if null). */
enum oslo_have {
    OSLO_HAVE_MSG_ID = 1u << 0,
    OSLO_HAVE_REPLY_Q = 1u << 1,
    OSLO_HAVE_UNIQUE_ID = 1u << 2,
    OSLO_HAVE_METHOD = 1u << 3,
    OSLO_HAVE_NAMESPACE = 1u << 4,
    OSLO_HAVE_VERSION = 1u << 5,
    OSLO_HAVE_REQUEST_ID = 1u << 6,
    OSLO_HAVE_GLOBAL_REQUEST_ID = 1u << 7,
    OSLO_HAVE_ENDING = 1u << 8,
    OSLO_HAVE_RESULT = 1u << 9,
    OSLO_HAVE_FAILURE = 1u << 10,
    OSLO_HAVE_EVENT_TYPE = 1u << 11,
    OSLO_HAVE_PRIORITY = 1u << 12,
    OSLO_HAVE_PUBLISHER_ID = 1u << 13,
    OSLO_HAVE_MESSAGE_ID = 1u << 14,
    OSLO_HAVE_TOPIC = 1u << 15,
    OSLO_HAVE_SERVER = 1u << 16,
    OSLO_HAVE_ERROR = 1u << 17,   /* error_class/module/message decoded from failure */
    OSLO_HAVE_TIMEOUT = 1u << 18, /* _timeout was a number */
    OSLO_HAVE_EXPIRATION = 1u << 19,
};

struct oslo_msg {
    enum oslo_kind kind;
    uint32_t have;   /* enum oslo_have */
    bool envelope;   /* the body had `oslo.message` */
    bool compressed; /* the body was inflated */
    bool cut;        /* some string field was longer than its buffer */
    char oslo_version[16];

    char msg_id[OSLO_ID_LEN], unique_id[OSLO_ID_LEN], reply_q[OSLO_NAME_LEN];
    char method[OSLO_NAME_LEN], namespace_[OSLO_NAME_LEN], version[64];
    char request_id[OSLO_ID_LEN], global_request_id[OSLO_ID_LEN];
    double monitor_timeout_s; /* `_timeout` (call monitor), when OSLO_HAVE_TIMEOUT */
    double expiration_s;      /* AMQP expiration / 1000, when OSLO_HAVE_EXPIRATION */

    /* reply */
    bool ending;          /* `ending` was true */
    bool ending_false;    /* `ending` was present and false (a heartbeat marker) */
    bool result_nonnull;  /* `result` present and not null */
    bool failure_nonnull; /* `failure` present and not null */
    char error_class[OSLO_NAME_LEN], error_module[OSLO_NAME_LEN], error_message[OSLO_MSG_LEN];

    /* notification */
    char event_type[OSLO_NAME_LEN], priority[32], publisher_id[OSLO_NAME_LEN];
    char message_id[OSLO_ID_LEN];

    /* From the exchange and routing key (see oslo_route()). */
    char topic[OSLO_NAME_LEN], server[OSLO_NAME_LEN];

    /* Only with want_bodies: malloc'd, redacted JSON text (NULL when absent). */
    char *args_json, *result_json, *context_json;
    bool bodies_failed; /* want_bodies, but jansson could not decode the message */
};

struct oslo_config {
    bool want_bodies;
    bool show_secrets;
    size_t max_inflate; /* decompressed body limit */
};

struct oslo_decoder {
    struct oslo_config cfg;
    uint8_t *buf; /* the unescaped envelope string / inflated body, reused */
    size_t buf_cap;
    struct oslo_seen *seen; /* bodies decoded recently (dissect/oslo_seen.h); NULL: none */
    uint64_t errors[OSLO_ERR_COUNT];
    uint64_t kinds[OSLO_KIND_COUNT];
    uint64_t decoded, inflated, bodies_failed, failure_unparsed, cut_fields;
    uint64_t read_in_place; /* envelopes decoded without unescaping the message first */
};

void oslo_decoder_init(struct oslo_decoder *d, const struct oslo_config *cfg);
void oslo_decoder_free(struct oslo_decoder *d);

/* Decodes one AMQP message. On OSLO_OK *out is filled (kind may be OTHER);
 * call oslo_msg_release() afterwards either way. A body decoded recently
 * (the deliver leg of a publish) is recognised and not decoded again: the
 * result and the counters are the same either way. */
enum oslo_err oslo_decode(struct oslo_decoder *d, const struct amqp_message *m,
                          struct oslo_msg *out);

/* The same from parts: body bytes, exchange, routing key, the AMQP headers
 * table (may be NULL) and expiration (may be NULL). */
enum oslo_err oslo_decode_body(struct oslo_decoder *d, const uint8_t *body, size_t len,
                               const struct amqp_bytes *exchange,
                               const struct amqp_bytes *routing_key,
                               const struct amqp_bytes *headers,
                               const struct amqp_bytes *expiration, struct oslo_msg *out);

void oslo_msg_release(struct oslo_msg *m);

/* Topic and server from exchange + routing key for this kind of message:
 * `<topic>` → topic; `<topic>.<server>` → split at the FIRST dot (oslo topics
 * carry no dots; server names may, e.g. FQDNs); `<topic>_fanout` exchange →
 * topic, no server; notifications: routing key without its `.priority`
 * suffix. Sets OSLO_HAVE_TOPIC / OSLO_HAVE_SERVER. */
void oslo_route(struct oslo_msg *m, const struct amqp_bytes *exchange,
                const struct amqp_bytes *routing_key);

#endif

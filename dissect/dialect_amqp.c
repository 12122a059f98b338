/*
 * dialect_amqp.c: plain AMQP 0-9-1 RPC as a dialect — the convention of
 * pika, node amqplib, Celery's and nameko's clients and the RabbitMQ
 * tutorials, recognised by properties alone (the body is never read).
 *
 * A request is published with reply_to and correlation_id; its reply is
 * published (default exchange, routing key = the reply_to queue) with the
 * same correlation_id and no reply_to. With RabbitMQ direct reply-to the
 * request is published with reply_to "amq.rabbitmq.reply-to", delivered to
 * the server with "amq.rabbitmq.reply-to.<token>", and the reply goes to that
 * full name: so calls are keyed by correlation_id only, never by reply_to.
 * A message with a correlation_id and no reply_to is a reply only if a call
 * with that id is known (rpc_msg.kind RPC_REPLY; correlation checks), else it
 * is counted as not RPC. oslo is tried first (dialect.c), so an oslo message
 * is never seen here.
 */
#include <stdlib.h>
#include <string.h>

#include "dissect/amqp_props.h"
#include "dissect/dialect.h"

#define AMQP_RPC_STR 256 /* shortstr values are at most 255 bytes */

struct amqp_rpc {
    char correlation_id[AMQP_RPC_STR], reply_to[AMQP_RPC_STR], routing_key[AMQP_RPC_STR];
};

static void *amqp_rpc_open(const struct dialect_config *cfg)
{
    (void)cfg;
    return calloc(1, sizeof(struct amqp_rpc));
}

static void amqp_rpc_close(void *state)
{
    free(state);
}

static bool amqp_rpc_decode(void *state, const struct amqp_message *m, struct rpc_msg *out)
{
    struct amqp_rpc *s = state;
    if (!amqp_props_cstr(&m->props, AMQP_PROP_CORRELATION_ID, s->correlation_id,
                         sizeof(s->correlation_id)))
        return false;
    out->call_id = s->correlation_id;
    out->exchange = m->exchange;
    out->routing_key = m->routing_key;
    if (amqp_props_cstr(&m->props, AMQP_PROP_REPLY_TO, s->reply_to, sizeof(s->reply_to))) {
        out->kind = RPC_CALL_REQUEST;
        out->reply_to = s->reply_to;
        size_t n = m->routing_key.len < AMQP_RPC_STR - 1 ? m->routing_key.len : AMQP_RPC_STR - 1;
        if (m->routing_key.p) {
            memcpy(s->routing_key, m->routing_key.p, n);
            s->routing_key[n] = '\0';
            out->topic = s->routing_key;
        }
        uint64_t ms;
        if (amqp_props_expiration_ms(&m->props, &ms)) {
            out->has_timeout = true;
            out->timeout_s = (double)ms / 1000.0;
        }
        return true;
    }
    /* No reply_to: the answer to a call, if correlation knows one with this id. */
    out->kind = RPC_REPLY;
    out->reply_needs_call = true;
    out->ending = true;
    out->has_result = true;
    return true;
}

const struct dialect_def dialect_amqp = {
    .name = "amqp",
    .id = OP_DIALECT_AMQP,
    .open = amqp_rpc_open,
    .close = amqp_rpc_close,
    .decode = amqp_rpc_decode,
    .add_stats = NULL,
};

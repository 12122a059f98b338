/*
 * amqp_method.c: the AMQP 0-9-1 method table and its one interpreter.
 *
 * Rows come from the 0-9-1 spec (amqp0-9-1.extended.xml as RabbitMQ ships
 * it, the same facts py-amqp's spec.py and rabbitmq-c's codegen use),
 * including RabbitMQ's extensions: exchange.bind/unbind, basic.nack,
 * confirm.*, connection.blocked/unblocked and connection.update-secret.
 * The table is const data sorted by (class, method) so lookup is a binary
 * search; a unit test checks the order.
 */
#include "dissect/amqp_method.h"

#include <string.h>

#include "common/rd.h"
#include "dissect/amqp_table.h"

#define BIT AMQP_ARG_BIT
#define OCTET AMQP_ARG_OCTET
#define SHORT AMQP_ARG_SHORT
#define LONG AMQP_ARG_LONG
#define LLONG AMQP_ARG_LONGLONG
#define SSTR AMQP_ARG_SHORTSTR
#define LSTR AMQP_ARG_LONGSTR
#define TABLE AMQP_ARG_TABLE
#define TO_B AMQP_FLOW_TO_BROKER
#define TO_C AMQP_FLOW_TO_CLIENT
#define BOTH AMQP_FLOW_BOTH

/* {class, method, name, content, flow, nargs, {args}} */
/* clang-format off */
#define M(c, m, name, content, flow, n, ...) {c, m, name, content, flow, n, {__VA_ARGS__}}
#define CLOSE_ARGS {"reply_code", SHORT}, {"reply_text", SSTR}, {"class_id", SHORT}, {"method_id", SHORT}

static const struct amqp_method_def methods[] = {
    M(10, 10, "connection.start", false, TO_C, 5, {"version_major", OCTET},
      {"version_minor", OCTET}, {"server_properties", TABLE}, {"mechanisms", LSTR},
      {"locales", LSTR}),
    M(10, 11, "connection.start-ok", false, TO_B, 4, {"client_properties", TABLE},
      {"mechanism", SSTR}, {"response", LSTR}, {"locale", SSTR}),
    M(10, 20, "connection.secure", false, TO_C, 1, {"challenge", LSTR}),
    M(10, 21, "connection.secure-ok", false, TO_B, 1, {"response", LSTR}),
    M(10, 30, "connection.tune", false, TO_C, 3, {"channel_max", SHORT}, {"frame_max", LONG},
      {"heartbeat", SHORT}),
    M(10, 31, "connection.tune-ok", false, TO_B, 3, {"channel_max", SHORT}, {"frame_max", LONG},
      {"heartbeat", SHORT}),
    M(10, 40, "connection.open", false, TO_B, 3, {"virtual_host", SSTR}, {"capabilities", SSTR},
      {"insist", BIT}),
    M(10, 41, "connection.open-ok", false, TO_C, 1, {"known_hosts", SSTR}),
    M(10, 50, "connection.close", false, BOTH, 4, CLOSE_ARGS),
    M(10, 51, "connection.close-ok", false, BOTH, 0, {NULL, BIT}),
    M(10, 60, "connection.blocked", false, TO_C, 1, {"reason", SSTR}),
    M(10, 61, "connection.unblocked", false, TO_C, 0, {NULL, BIT}),
    M(10, 70, "connection.update-secret", false, TO_B, 2, {"new_secret", LSTR}, {"reason", SSTR}),
    M(10, 71, "connection.update-secret-ok", false, TO_C, 0, {NULL, BIT}),

    M(20, 10, "channel.open", false, TO_B, 1, {"out_of_band", SSTR}),
    M(20, 11, "channel.open-ok", false, TO_C, 1, {"channel_id", LSTR}),
    M(20, 20, "channel.flow", false, BOTH, 1, {"active", BIT}),
    M(20, 21, "channel.flow-ok", false, BOTH, 1, {"active", BIT}),
    M(20, 40, "channel.close", false, BOTH, 4, CLOSE_ARGS),
    M(20, 41, "channel.close-ok", false, BOTH, 0, {NULL, BIT}),

    M(30, 10, "access.request", false, TO_B, 6, {"realm", SSTR}, {"exclusive", BIT},
      {"passive", BIT}, {"active", BIT}, {"write", BIT}, {"read", BIT}),
    M(30, 11, "access.request-ok", false, TO_C, 1, {"ticket", SHORT}),

    M(40, 10, "exchange.declare", false, TO_B, 9, {"ticket", SHORT}, {"exchange", SSTR},
      {"type", SSTR}, {"passive", BIT}, {"durable", BIT}, {"auto_delete", BIT},
      {"internal", BIT}, {"nowait", BIT}, {"arguments", TABLE}),
    M(40, 11, "exchange.declare-ok", false, TO_C, 0, {NULL, BIT}),
    M(40, 20, "exchange.delete", false, TO_B, 4, {"ticket", SHORT}, {"exchange", SSTR},
      {"if_unused", BIT}, {"nowait", BIT}),
    M(40, 21, "exchange.delete-ok", false, TO_C, 0, {NULL, BIT}),
    M(40, 30, "exchange.bind", false, TO_B, 6, {"ticket", SHORT}, {"destination", SSTR},
      {"source", SSTR}, {"routing_key", SSTR}, {"nowait", BIT}, {"arguments", TABLE}),
    M(40, 31, "exchange.bind-ok", false, TO_C, 0, {NULL, BIT}),
    M(40, 40, "exchange.unbind", false, TO_B, 6, {"ticket", SHORT}, {"destination", SSTR},
      {"source", SSTR}, {"routing_key", SSTR}, {"nowait", BIT}, {"arguments", TABLE}),
    M(40, 51, "exchange.unbind-ok", false, TO_C, 0, {NULL, BIT}),

    M(50, 10, "queue.declare", false, TO_B, 8, {"ticket", SHORT}, {"queue", SSTR},
      {"passive", BIT}, {"durable", BIT}, {"exclusive", BIT}, {"auto_delete", BIT},
      {"nowait", BIT}, {"arguments", TABLE}),
    M(50, 11, "queue.declare-ok", false, TO_C, 3, {"queue", SSTR}, {"message_count", LONG},
      {"consumer_count", LONG}),
    M(50, 20, "queue.bind", false, TO_B, 6, {"ticket", SHORT}, {"queue", SSTR},
      {"exchange", SSTR}, {"routing_key", SSTR}, {"nowait", BIT}, {"arguments", TABLE}),
    M(50, 21, "queue.bind-ok", false, TO_C, 0, {NULL, BIT}),
    M(50, 30, "queue.purge", false, TO_B, 3, {"ticket", SHORT}, {"queue", SSTR},
      {"nowait", BIT}),
    M(50, 31, "queue.purge-ok", false, TO_C, 1, {"message_count", LONG}),
    M(50, 40, "queue.delete", false, TO_B, 5, {"ticket", SHORT}, {"queue", SSTR},
      {"if_unused", BIT}, {"if_empty", BIT}, {"nowait", BIT}),
    M(50, 41, "queue.delete-ok", false, TO_C, 1, {"message_count", LONG}),
    M(50, 50, "queue.unbind", false, TO_B, 5, {"ticket", SHORT}, {"queue", SSTR},
      {"exchange", SSTR}, {"routing_key", SSTR}, {"arguments", TABLE}),
    M(50, 51, "queue.unbind-ok", false, TO_C, 0, {NULL, BIT}),

    M(60, 10, "basic.qos", false, TO_B, 3, {"prefetch_size", LONG}, {"prefetch_count", SHORT},
      {"global", BIT}),
    M(60, 11, "basic.qos-ok", false, TO_C, 0, {NULL, BIT}),
    M(60, 20, "basic.consume", false, TO_B, 8, {"ticket", SHORT}, {"queue", SSTR},
      {"consumer_tag", SSTR}, {"no_local", BIT}, {"no_ack", BIT}, {"exclusive", BIT},
      {"nowait", BIT}, {"arguments", TABLE}),
    M(60, 21, "basic.consume-ok", false, TO_C, 1, {"consumer_tag", SSTR}),
    /* The broker sends basic.cancel too (consumer cancel notification). */
    M(60, 30, "basic.cancel", false, BOTH, 2, {"consumer_tag", SSTR}, {"nowait", BIT}),
    M(60, 31, "basic.cancel-ok", false, BOTH, 1, {"consumer_tag", SSTR}),
    M(60, 40, "basic.publish", true, TO_B, 5, {"ticket", SHORT}, {"exchange", SSTR},
      {"routing_key", SSTR}, {"mandatory", BIT}, {"immediate", BIT}),
    M(60, 50, "basic.return", true, TO_C, 4, {"reply_code", SHORT}, {"reply_text", SSTR},
      {"exchange", SSTR}, {"routing_key", SSTR}),
    M(60, 60, "basic.deliver", true, TO_C, 5, {"consumer_tag", SSTR}, {"delivery_tag", LLONG},
      {"redelivered", BIT}, {"exchange", SSTR}, {"routing_key", SSTR}),
    M(60, 70, "basic.get", false, TO_B, 3, {"ticket", SHORT}, {"queue", SSTR}, {"no_ack", BIT}),
    M(60, 71, "basic.get-ok", true, TO_C, 5, {"delivery_tag", LLONG}, {"redelivered", BIT},
      {"exchange", SSTR}, {"routing_key", SSTR}, {"message_count", LONG}),
    M(60, 72, "basic.get-empty", false, TO_C, 1, {"cluster_id", SSTR}),
    /* With publisher confirms the broker acks and nacks publishes. */
    M(60, 80, "basic.ack", false, BOTH, 2, {"delivery_tag", LLONG}, {"multiple", BIT}),
    M(60, 90, "basic.reject", false, TO_B, 2, {"delivery_tag", LLONG}, {"requeue", BIT}),
    M(60, 100, "basic.recover-async", false, TO_B, 1, {"requeue", BIT}),
    M(60, 110, "basic.recover", false, TO_B, 1, {"requeue", BIT}),
    M(60, 111, "basic.recover-ok", false, TO_C, 0, {NULL, BIT}),
    M(60, 120, "basic.nack", false, BOTH, 3, {"delivery_tag", LLONG}, {"multiple", BIT},
      {"requeue", BIT}),

    M(85, 10, "confirm.select", false, TO_B, 1, {"nowait", BIT}),
    M(85, 11, "confirm.select-ok", false, TO_C, 0, {NULL, BIT}),

    M(90, 10, "tx.select", false, TO_B, 0, {NULL, BIT}),
    M(90, 11, "tx.select-ok", false, TO_C, 0, {NULL, BIT}),
    M(90, 20, "tx.commit", false, TO_B, 0, {NULL, BIT}),
    M(90, 21, "tx.commit-ok", false, TO_C, 0, {NULL, BIT}),
    M(90, 30, "tx.rollback", false, TO_B, 0, {NULL, BIT}),
    M(90, 31, "tx.rollback-ok", false, TO_C, 0, {NULL, BIT}),
};
/* clang-format on */

const struct amqp_method_def *amqp_method_table(size_t *count)
{
    *count = sizeof methods / sizeof methods[0];
    return methods;
}

static uint32_t key_of(uint16_t c, uint16_t m)
{
    return (uint32_t)c << 16 | m;
}

const struct amqp_method_def *amqp_method_find(uint16_t class_id, uint16_t method_id)
{
    size_t lo = 0, hi = sizeof methods / sizeof methods[0];
    uint32_t key = key_of(class_id, method_id);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t k = key_of(methods[mid].class_id, methods[mid].method_id);
        if (k == key)
            return &methods[mid];
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *amqp_class_name(uint16_t class_id)
{
    switch (class_id) {
    case 10:
        return "connection";
    case 20:
        return "channel";
    case 30:
        return "access";
    case 40:
        return "exchange";
    case 50:
        return "queue";
    case 60:
        return "basic";
    case 85:
        return "confirm";
    case 90:
        return "tx";
    default:
        return NULL;
    }
}

int amqp_method_arg_index(const struct amqp_method_def *m, const char *name)
{
    /* The first letter settles most candidates without a strcmp call: this runs
     * about ten times per message. */
    for (int i = 0; i < m->nargs; i++)
        if (m->args[i].name[0] == name[0] && strcmp(m->args[i].name, name) == 0)
            return i;
    return -1;
}

const char *amqp_arg_type_name(enum amqp_arg_type t)
{
    switch (t) {
    case AMQP_ARG_BIT:
        return "bit";
    case AMQP_ARG_OCTET:
        return "octet";
    case AMQP_ARG_SHORT:
        return "short";
    case AMQP_ARG_LONG:
        return "long";
    case AMQP_ARG_LONGLONG:
        return "longlong";
    case AMQP_ARG_SHORTSTR:
        return "shortstr";
    case AMQP_ARG_LONGSTR:
        return "longstr";
    case AMQP_ARG_TABLE:
        return "table";
    case AMQP_ARG_TIMESTAMP:
        return "timestamp";
    }
    return "?";
}

enum amqp_err amqp_method_ids(const uint8_t *payload, size_t len, uint16_t *class_id,
                              uint16_t *method_id)
{
    struct rd r = rd_make(payload, len);
    *class_id = rd_be16(&r);
    *method_id = rd_be16(&r);
    return r.ok ? AMQP_OK : AMQP_ERR_SHORT_METHOD;
}

enum amqp_err amqp_method_decode_args(const struct amqp_method_def *m, const uint8_t *p, size_t len,
                                      struct amqp_arg_value *out)
{
    struct rd r = rd_make(p, len);
    uint8_t bits = 0;
    unsigned bitpos = 8; /* 8 = no octet of bits open */
    for (unsigned i = 0; i < m->nargs; i++) {
        struct amqp_arg_value *v = &out[i];
        memset(v, 0, sizeof *v);
        v->type = m->args[i].type;
        if (v->type == AMQP_ARG_BIT) {
            if (bitpos == 8) {
                bits = rd_u8(&r);
                bitpos = 0;
            }
            v->u = (bits >> bitpos++) & 1u;
            continue;
        }
        bitpos = 8; /* any other argument closes the octet of bits */
        switch (v->type) {
        case AMQP_ARG_OCTET:
            v->u = rd_u8(&r);
            break;
        case AMQP_ARG_SHORT:
            v->u = rd_be16(&r);
            break;
        case AMQP_ARG_LONG:
            v->u = rd_be32(&r);
            break;
        case AMQP_ARG_LONGLONG:
        case AMQP_ARG_TIMESTAMP:
            v->u = rd_be64(&r);
            break;
        case AMQP_ARG_SHORTSTR: {
            uint8_t n = rd_u8(&r);
            v->bytes.p = rd_bytes(&r, n);
            v->bytes.len = n;
            break;
        }
        case AMQP_ARG_LONGSTR:
        case AMQP_ARG_TABLE: {
            uint32_t n = rd_be32(&r);
            v->bytes.p = rd_bytes(&r, n);
            v->bytes.len = n;
            break;
        }
        case AMQP_ARG_BIT:
            break;
        }
        if (!r.ok)
            return AMQP_ERR_BAD_ARGS;
        if (v->type == AMQP_ARG_TABLE) {
            enum amqp_err e =
                amqp_table_validate(v->bytes.p, v->bytes.len, false, AMQP_TABLE_MAX_DEPTH);
            if (e != AMQP_OK)
                return e;
        }
    }
    return r.ok ? AMQP_OK : AMQP_ERR_BAD_ARGS;
}

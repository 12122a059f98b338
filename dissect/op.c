/*
 * op.c: the names of op.h's enums, as they appear in every output.
 */
#include "dissect/op.h"

const char *op_dialect_name(enum op_dialect d)
{
    static const char *const names[OP_DIALECT_COUNT] = {"oslo", "amqp"};
    return (unsigned)d < OP_DIALECT_COUNT ? names[d] : "?";
}

const char *op_type_name(enum op_type t)
{
    static const char *const names[OP_TYPE_COUNT] = {"call", "cast", "fanout", "notification"};
    return (unsigned)t < OP_TYPE_COUNT ? names[t] : "?";
}

const char *op_status_name(enum op_status s)
{
    static const char *const names[OP_STATUS_COUNT] = {"ok",   "error",      "timeout",
                                                       "open", "unroutable", "evicted"};
    return (unsigned)s < OP_STATUS_COUNT ? names[s] : "?";
}

const char *op_leg_name(enum op_leg l)
{
    static const char *const names[LEG_COUNT] = {"request_publish", "request_deliver",
                                                 "reply_publish", "reply_deliver"};
    return (unsigned)l < LEG_COUNT ? names[l] : "?";
}

/*
 * op.c: the names of op.h's enums, as they appear in every output.
 */
#include "dissect/op.h"

#include <stdio.h>
#include <string.h>

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
    static const char *const names[OP_STATUS_COUNT] = {
        "ok", "error", "timeout", "open", "unroutable", "evicted", "unknown"};
    return (unsigned)s < OP_STATUS_COUNT ? names[s] : "?";
}

const char *op_leg_name(enum op_leg l)
{
    static const char *const names[LEG_COUNT] = {"request_publish", "request_deliver",
                                                 "reply_publish", "reply_deliver"};
    return (unsigned)l < LEG_COUNT ? names[l] : "?";
}

const char *op_verdict_name(enum op_verdict v)
{
    static const char *const names[OP_VERDICT_COUNT] = {NULL,
                                                        "ok",
                                                        "remote_error",
                                                        "not_routed",
                                                        "not_delivered",
                                                        "no_reply",
                                                        "reply_returned",
                                                        "reply_not_delivered",
                                                        "late_reply",
                                                        "unknown"};
    return (unsigned)v < OP_VERDICT_COUNT ? names[v] : NULL;
}

const char *op_slow_name(enum op_slow s)
{
    static const char *const names[OP_SLOW_COUNT] = {NULL, "queue", "server", "reply"};
    return (unsigned)s < OP_SLOW_COUNT ? names[s] : NULL;
}

static bool all_digits(const char *p, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* "<argv0>:<pid>:<uuid>" → "<argv0>:<pid>"; any other name as it is. */
static const char *from_connection_name(const char *name, char *buf, size_t len)
{
    const char *last = strrchr(name, ':');
    if (last && last > name) {
        const char *pid = last;
        while (pid > name && pid[-1] != ':')
            pid--;
        if (pid > name + 1 && all_digits(pid, (size_t)(last - pid))) {
            snprintf(buf, len, "%.*s", (int)(last - name), name);
            return buf;
        }
    }
    snprintf(buf, len, "%s", name);
    return buf;
}

static const char *peer_process(const struct op_peer *p, char *buf, size_t len)
{
    if (!p->known)
        return NULL;
    if (p->connection_name && p->connection_name[0])
        return from_connection_name(p->connection_name, buf, len);
    netaddr_format(&p->addr, buf, len);
    return buf;
}

/* oslo's queue manager (14.7+): "reply_<host>:<process>:<n>" → "<process>@<host>". */
static const char *from_reply_queue(const char *q, char *buf, size_t len)
{
    if (!q || strncmp(q, "reply_", 6) != 0)
        return NULL;
    const char *host = q + 6, *c1 = strchr(host, ':');
    const char *c2 = c1 ? strrchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == host || c2 == c1 + 1 || !all_digits(c2 + 1, strlen(c2 + 1)))
        return NULL;
    snprintf(buf, len, "%.*s@%.*s", (int)(c2 - c1 - 1), c1 + 1, (int)(c1 - host), host);
    return buf;
}

const char *op_client_process(const struct op *op, char *buf, size_t len)
{
    if (op->client.known && op->client.connection_name && op->client.connection_name[0])
        return peer_process(&op->client, buf, len);
    const char *q = op->type == OP_CALL ? from_reply_queue(op->reply_q, buf, len) : NULL;
    return q ? q : peer_process(&op->client, buf, len);
}

const char *op_server_process(const struct op *op, char *buf, size_t len)
{
    return peer_process(&op->server_peer, buf, len);
}

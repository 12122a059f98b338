/*
 * ndjson.c: struct op → one JSON line.
 *
 * Times are seconds since the epoch as reals with the nanosecond fraction
 * (what tcpdump -tt and Python's time.time() read), durations milliseconds.
 * args/result/context are the redacted JSON text correlation kept; they are
 * parsed back so they nest as JSON, not as strings. Invalid UTF-8 cannot
 * reach here (the oslo stage rejects it), but jansson would refuse it anyway
 * and the field would become null rather than the line being lost.
 */
#include "ui/ndjson.h"

#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *ts_or_null(uint64_t ns)
{
    return ns ? json_real((double)(ns / 1000000000ull) + (double)(ns % 1000000000ull) / 1e9)
              : json_null();
}

static json_t *ms_or_null(double ms)
{
    return ms >= 0 ? json_real(ms) : json_null();
}

static json_t *peer(const struct op_peer *p)
{
    if (!p->known)
        return json_null();
    char addr[NETADDR_STRLEN];
    netaddr_format(&p->addr, addr, sizeof(addr));
    return json_pack(
        "{s:s, s:o}", "addr", addr, "connection_name",
        str_or_null(p->connection_name && p->connection_name[0] ? p->connection_name : NULL));
}

static json_t *parsed(const char *text)
{
    if (!text)
        return json_null();
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    return v ? v : json_null();
}

json_t *ndjson_op(const struct op *op)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "schema", json_integer(NDJSON_SCHEMA));
    json_object_set_new(o, "type", json_string(op_type_name(op->type)));
    json_object_set_new(o, "ts", ts_or_null(op->ts_ns));
    json_object_set_new(o, "msg_id", str_or_null(op->msg_id));
    json_object_set_new(o, "unique_id", str_or_null(op->unique_id));
    json_object_set_new(o, "reply_q", str_or_null(op->reply_q));
    json_object_set_new(o, "exchange", str_or_null(op->exchange));
    json_object_set_new(o, "routing_key", str_or_null(op->routing_key));
    json_object_set_new(o, "topic", str_or_null(op->topic));
    json_object_set_new(o, "server", str_or_null(op->server));
    json_object_set_new(o, "method", str_or_null(op->method));
    json_object_set_new(o, "namespace", str_or_null(op->namespace_));
    json_object_set_new(o, "version", str_or_null(op->version));
    json_object_set_new(o, "status", json_string(op_status_name(op->status)));
    json_object_set_new(o, "latency_ms", op->has_latency ? json_real(op->latency_ms) : json_null());
    json_object_set_new(o, "latency_from",
                        op->has_latency ? json_string(op_leg_name(op->latency_from)) : json_null());
    json_object_set_new(o, "latency_to",
                        op->has_latency ? json_string(op_leg_name(op->latency_to)) : json_null());
    json_object_set_new(o, "queue_wait_ms", ms_or_null(op->queue_wait_ms));
    json_object_set_new(o, "server_ms", ms_or_null(op->server_ms));
    json_object_set_new(o, "timeout_s",
                        op->type == OP_CALL ? json_real(op->timeout_s) : json_null());
    json_object_set_new(o, "late_reply", json_boolean(op->late_reply));
    json_object_set_new(o, "replies", json_integer(op->replies));
    json_object_set_new(o, "heartbeats", json_integer(op->heartbeats));
    json_t *tl = json_object();
    for (int l = 0; l < LEG_COUNT; l++)
        json_object_set_new(tl, op_leg_name((enum op_leg)l), ts_or_null(op->timeline[l]));
    json_object_set_new(o, "timeline", tl);
    if (op->status == OP_ERROR || op->error_class || op->error_message)
        json_object_set_new(o, "error",
                            json_pack("{s:o, s:o, s:o}", "class", str_or_null(op->error_class),
                                      "module", str_or_null(op->error_module), "message",
                                      str_or_null(op->error_message)));
    else
        json_object_set_new(o, "error", json_null());
    json_object_set_new(o, "request_id", str_or_null(op->request_id));
    json_object_set_new(o, "global_request_id", str_or_null(op->global_request_id));
    json_object_set_new(o, "client", peer(&op->client));
    json_object_set_new(o, "server_peer", peer(&op->server_peer));
    json_object_set_new(o, "fanout_receivers",
                        op->type == OP_CALL ? json_null() : json_integer(op->fanout_receivers));
    if (op->type == OP_NOTIFICATION) {
        json_object_set_new(o, "event_type", str_or_null(op->event_type));
        json_object_set_new(o, "priority", str_or_null(op->priority));
        json_object_set_new(o, "publisher_id", str_or_null(op->publisher_id));
        json_object_set_new(o, "message_id", str_or_null(op->message_id));
    }
    if (op->args_json || op->result_json || op->context_json) {
        json_object_set_new(o, "args", parsed(op->args_json));
        json_object_set_new(o, "result", parsed(op->result_json));
        json_object_set_new(o, "context", parsed(op->context_json));
    }
    return o;
}

bool ndjson_write_op(FILE *out, const struct op *op, bool flush)
{
    json_t *o = ndjson_op(op);
    if (!o)
        return false;
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
    json_decref(o);
    if (!line)
        return false;
    bool ok = fputs(line, out) >= 0 && fputc('\n', out) != EOF;
    free(line);
    if (flush && fflush(out) != 0)
        ok = false;
    return ok;
}

/*
 * test_ndjson.c: the NDJSON record (docs/json.md), read back as a consumer
 * reads it.
 *
 * Every record is formatted by ndjson_format_op and parsed back with
 * jansson: every documented field is present, in the documented order, null
 * when unknown, with the right value; notifications add their four fields;
 * args/result/context appear only when the op carries a body, nested as JSON,
 * null when one does not parse; strings that need escaping come back intact
 * and strings that are not UTF-8 become null; a line is one line.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ndjson.h"

/* Every record's keys, in order. */
static const char *const always[] = {
    "schema",       "type",        "dialect",          "ts",
    "msg_id",       "unique_id",   "reply_q",          "exchange",
    "routing_key",  "topic",       "server",           "method",
    "namespace",    "version",     "status",           "latency_ms",
    "latency_from", "latency_to",  "queue_wait_ms",    "server_ms",
    "timeout_s",    "late_reply",  "replies",          "heartbeats",
    "timeline",     "error",       "request_id",       "global_request_id",
    "client",       "server_peer", "fanout_receivers",
    /* diagnosis */
    "verdict", "slow_in", "client_process", "server_process",
};
static const char *const notification_keys[] = {"event_type", "priority", "publisher_id",
                                                "message_id"};
static const char *const body_keys[] = {"args", "result", "context"};

/* The record as text (*line, caller frees; may be NULL) and parsed back. */
static json_t *record(const struct op *op, char **line)
{
    char *text;
    size_t len;
    assert_true(ndjson_format_op(op, &text, &len));
    assert_int_equal(len, strlen(text));
    assert_null(memchr(text, '\n', len));
    json_error_t err;
    json_t *o = json_loadb(text, len, 0, &err);
    if (!o)
        fail_msg("does not parse (%s): %s", err.text, text);
    assert_true(json_is_object(o));
    if (line)
        *line = text;
    else
        free(text);
    return o;
}

/* The keys of o are exactly `always`, then the notification keys when asked,
 * then the body keys when asked, in that order. */
static void check_keys(json_t *o, bool notification, bool bodies)
{
    const char *want[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        want[n++] = always[i];
    for (size_t i = 0; notification && i < 4; i++)
        want[n++] = notification_keys[i];
    for (size_t i = 0; bodies && i < 3; i++)
        want[n++] = body_keys[i];
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        (void)v;
        if (k >= n)
            fail_msg("unexpected key %s", key);
        if (strcmp(key, want[k]) != 0)
            fail_msg("key %zu is %s, want %s", k, key, want[k]);
        k++;
    }
    if (k != n)
        fail_msg("%zu keys, want %zu (first missing: %s)", k, n, want[k]);
}

static struct op call_op(void)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_CALL;
    op.status = OP_ERROR;
    op.ts_ns = 1795576490123456789ull;
    op.timeline[LEG_REQUEST_PUBLISH] = op.ts_ns;
    op.timeline[LEG_REPLY_DELIVER] = op.ts_ns + 5000000;
    op.msg_id = "0123456789abcdef0123456789abcdef";
    op.unique_id = "u";
    op.reply_q = "reply_x";
    op.exchange = "openstack";
    op.routing_key = "compute.host-a";
    op.topic = "compute";
    op.server = "host-a";
    op.method = "echo";
    op.version = "2.4";
    op.has_latency = true;
    op.latency_ms = 5.0;
    op.latency_from = LEG_REQUEST_PUBLISH;
    op.latency_to = LEG_REPLY_DELIVER;
    op.queue_wait_ms = -1;
    op.server_ms = -1;
    op.timeout_s = 30;
    op.replies = 1;
    op.error_class = "ValueError";
    op.error_module = "builtins";
    op.error_message = "bad\nvalue \"quoted\"";
    op.request_id = "req-1";
    op.client.known = true;
    op.client.addr.family = 4;
    op.client.addr.ip[0] = 127, op.client.addr.ip[3] = 1;
    op.client.addr.port = 40000;
    op.client.connection_name = "nova-api:1:x";
    op.verdict = OP_VERDICT_REMOTE_ERROR;
    op.slow_in = OP_SLOW_SERVER;
    return op;
}

/* Who made and who served a call, from what the capture holds. */
static void test_process_names(void **state)
{
    (void)state;
    struct op op = call_op();
    char buf[OP_PROCESS_MAX];
    /* oslo's "<argv0>:<pid>:<uuid>" */
    op.client.connection_name = "nova-conductor:4242:2f1c7a9e-0b1d-4b8e-9d55-4f4f0c1f1a2b";
    assert_string_equal(op_client_process(&op, buf, sizeof buf), "nova-conductor:4242");
    /* another client's free-form name, as it is */
    op.client.connection_name = "amqp_rpc client queue-0";
    assert_string_equal(op_client_process(&op, buf, sizeof buf), "amqp_rpc client queue-0");
    /* no name: the queue manager's reply queue, else the address */
    op.client.connection_name = NULL;
    op.reply_q = "reply_compute-1:nova-compute:3";
    assert_string_equal(op_client_process(&op, buf, sizeof buf), "nova-compute@compute-1");
    op.reply_q = "reply_0123456789abcdef";
    assert_string_equal(op_client_process(&op, buf, sizeof buf), "127.0.0.1:40000");
    op.client.known = false;
    assert_null(op_client_process(&op, buf, sizeof buf));
    assert_null(op_server_process(&op, buf, sizeof buf));
    assert_null(op_verdict_name(OP_VERDICT_NONE));
    assert_string_equal(op_verdict_name(OP_VERDICT_REPLY_NOT_DELIVERED), "reply_not_delivered");
    assert_null(op_slow_name(OP_SLOW_NONE));
    assert_string_equal(op_slow_name(OP_SLOW_REPLY), "reply");
}

static void test_call_record(void **state)
{
    (void)state;
    struct op op = call_op();
    char *line;
    json_t *o = record(&op, &line);
    check_keys(o, false, false);
    assert_int_equal(json_integer_value(json_object_get(o, "schema")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "call");
    assert_string_equal(json_string_value(json_object_get(o, "dialect")), "oslo");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "error");
    double ts = json_real_value(json_object_get(o, "ts"));
    assert_true(ts > 1795576490.1234 && ts < 1795576490.1236);
    assert_string_equal(json_string_value(json_object_get(o, "msg_id")),
                        "0123456789abcdef0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(o, "reply_q")), "reply_x");
    assert_string_equal(json_string_value(json_object_get(o, "routing_key")), "compute.host-a");
    assert_string_equal(json_string_value(json_object_get(o, "method")), "echo");
    assert_string_equal(json_string_value(json_object_get(o, "version")), "2.4");
    assert_true(json_is_null(json_object_get(o, "namespace")));
    assert_true(json_is_null(json_object_get(o, "queue_wait_ms")));
    assert_true(json_is_null(json_object_get(o, "server_ms")));
    assert_true(json_is_null(json_object_get(o, "fanout_receivers")));
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "remote_error");
    assert_string_equal(json_string_value(json_object_get(o, "slow_in")), "server");
    /* "<argv0>:<pid>:<uuid>" names the process "<argv0>:<pid>"; no server seen: null */
    assert_string_equal(json_string_value(json_object_get(o, "client_process")), "nova-api:1");
    assert_true(json_is_null(json_object_get(o, "server_process")));
    assert_true(json_is_null(json_object_get(o, "global_request_id")));
    assert_string_equal(json_string_value(json_object_get(o, "request_id")), "req-1");
    assert_true(json_is_real(json_object_get(o, "latency_ms")));
    assert_true(json_real_value(json_object_get(o, "latency_ms")) == 5.0);
    assert_string_equal(json_string_value(json_object_get(o, "latency_from")), "request_publish");
    assert_string_equal(json_string_value(json_object_get(o, "latency_to")), "reply_deliver");
    assert_true(json_real_value(json_object_get(o, "timeout_s")) == 30.0);
    assert_true(json_is_false(json_object_get(o, "late_reply")));
    assert_int_equal(json_integer_value(json_object_get(o, "replies")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "heartbeats")), 0);
    json_t *tl = json_object_get(o, "timeline");
    assert_int_equal(json_object_size(tl), LEG_COUNT);
    assert_true(json_is_real(json_object_get(tl, "request_publish")));
    assert_true(json_is_null(json_object_get(tl, "request_deliver")));
    assert_true(json_is_null(json_object_get(tl, "reply_publish")));
    double rd = json_real_value(json_object_get(tl, "reply_deliver"));
    assert_true(rd > 1795576490.1284 && rd < 1795576490.1286);
    json_t *err = json_object_get(o, "error");
    assert_int_equal(json_object_size(err), 3);
    assert_string_equal(json_string_value(json_object_get(err, "class")), "ValueError");
    assert_string_equal(json_string_value(json_object_get(err, "module")), "builtins");
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "bad\nvalue \"quoted\"");
    json_t *cl = json_object_get(o, "client");
    assert_string_equal(json_string_value(json_object_get(cl, "addr")), "127.0.0.1:40000");
    assert_string_equal(json_string_value(json_object_get(cl, "connection_name")), "nova-api:1:x");
    assert_true(json_is_null(json_object_get(o, "server_peer")));
    json_decref(o);
    /* Reals keep jansson's spelling: an integral value still reads as a real. */
    assert_non_null(strstr(line, ",\"timeout_s\":30.0,"));
    assert_non_null(strstr(line, ",\"latency_ms\":5.0,"));
    assert_non_null(strstr(
        line, "{\"schema\":1,\"type\":\"call\",\"dialect\":\"oslo\",\"ts\":1795576490.123457,"));
    free(line);

    /* One line, parseable, newline-terminated. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_true(ndjson_write_op(f, &op, true));
    fclose(f);
    assert_true(len > 10);
    assert_int_equal(buf[len - 1], '\n');
    assert_null(memchr(buf, '\n', len - 1));
    json_t *back = json_loads(buf, 0, NULL);
    assert_non_null(back);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(back, "error"), "message")),
        "bad\nvalue \"quoted\"");
    json_decref(back);
    free(buf);
}

static struct op notification_op(void)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_NOTIFICATION;
    op.status = OP_OK;
    op.queue_wait_ms = 0.5;
    op.server_ms = -1;
    op.event_type = "compute.instance.create.end";
    op.priority = "INFO";
    op.publisher_id = "compute.host-a";
    op.message_id = "75654316-939e-4cff-9da5-b35e03a7c84d";
    op.fanout_receivers = 1;
    return op;
}

static void test_notification(void **state)
{
    (void)state;
    struct op op = notification_op();
    json_t *o = record(&op, NULL);
    check_keys(o, true, false);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "notification");
    assert_true(json_is_null(json_object_get(o, "ts")));
    assert_true(json_is_null(json_object_get(o, "timeout_s")));
    assert_true(json_is_null(json_object_get(o, "latency_ms")));
    assert_true(json_is_null(json_object_get(o, "latency_from")));
    assert_true(json_is_null(json_object_get(o, "error")));
    assert_true(json_is_null(json_object_get(o, "client")));
    assert_true(json_real_value(json_object_get(o, "queue_wait_ms")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(o, "fanout_receivers")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "event_type")),
                        "compute.instance.create.end");
    assert_string_equal(json_string_value(json_object_get(o, "priority")), "INFO");
    assert_string_equal(json_string_value(json_object_get(o, "publisher_id")), "compute.host-a");
    assert_string_equal(json_string_value(json_object_get(o, "message_id")),
                        "75654316-939e-4cff-9da5-b35e03a7c84d");
    json_decref(o);
}

/* Bodies nest as JSON (not as strings), a missing one is null, one that does
 * not parse is null, and any JSON value is a body. */
static void test_bodies(void **state)
{
    (void)state;
    struct op op = notification_op();
    op.args_json = "{\"size\": 1, \"list\": [1, 2], \"name\": \"caf\\u00e9\\n\", \"r\": 2.50}";
    op.context_json = "{\"auth_token\":\"***\"}";
    char *line;
    json_t *o = record(&op, &line);
    check_keys(o, true, true);
    json_t *args = json_object_get(o, "args");
    assert_true(json_is_object(args));
    assert_int_equal(json_integer_value(json_object_get(args, "size")), 1);
    assert_int_equal(json_array_size(json_object_get(args, "list")), 2);
    assert_string_equal(json_string_value(json_object_get(args, "name")), "caf\xc3\xa9\n");
    assert_true(json_is_null(json_object_get(o, "result")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "context"), "auth_token")), "***");
    json_decref(o);
    /* Re-printed compactly, in the body's own key order, as jansson prints it. */
    assert_non_null(strstr(line,
                           ",\"args\":{\"size\":1,\"list\":[1,2],\"name\":\"caf\xc3\xa9\\n\","
                           "\"r\":2.5},\"result\":null,\"context\":{\"auth_token\":\"***\"}}"));
    free(line);

    struct op call = call_op();
    call.args_json = "{\"cut\": [1, 2"; /* does not parse */
    call.result_json = "42";
    call.context_json = "\"just a string\"";
    o = record(&call, &line);
    check_keys(o, false, true);
    assert_true(json_is_null(json_object_get(o, "args")));
    assert_int_equal(json_integer_value(json_object_get(o, "result")), 42);
    assert_string_equal(json_string_value(json_object_get(o, "context")), "just a string");
    json_decref(o);
    assert_non_null(strstr(line, ",\"args\":null,\"result\":42,\"context\":\"just a string\"}"));
    free(line);

    call = call_op();
    call.result_json = "not json at all";
    o = record(&call, NULL);
    check_keys(o, false, true);
    assert_true(json_is_null(json_object_get(o, "args")));
    assert_true(json_is_null(json_object_get(o, "result")));
    assert_true(json_is_null(json_object_get(o, "context")));
    json_decref(o);
}

/* Strings that need escaping come back as they were; strings that are not
 * valid UTF-8 become null; the line never holds a raw control character. */
static void test_escaping(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool valid;
    } odd[] = {
        {"plain", true},
        {"quote\" back\\slash", true},
        {"ctl\x01\x1f\b\f\n\r\t\x7f", true},
        {"unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", true},
        {"slash / <b>", true},
        {"", true},
        {"bad \xff utf8", false},
        {"surrogate \xed\xa0\x80", false},
        {"overlong \xc0\xaf", false},
        {"cut \xe2\x82", false},
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (int type = 0; type < OP_TYPE_COUNT; type++) {
            struct op op = call_op();
            op.type = (enum op_type)type;
            op.msg_id = odd[i].s;
            op.error_message = odd[i].s;
            op.client.connection_name = odd[i].s;
            op.event_type = odd[i].s;
            char *line;
            json_t *o = record(&op, &line);
            check_keys(o, type == OP_NOTIFICATION, false);
            for (const char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20)
                    fail_msg("raw control character 0x%02x in %s", *p, line);
            json_t *got[] = {
                json_object_get(o, "msg_id"),
                json_object_get(json_object_get(o, "error"), "message"),
                json_object_get(json_object_get(o, "client"), "connection_name"),
                type == OP_NOTIFICATION ? json_object_get(o, "event_type") : NULL,
            };
            for (size_t k = 0; k < 4; k++) {
                if (k == 3 && type != OP_NOTIFICATION)
                    continue;
                /* connection_name "" is shown as null: no name was given. */
                if (!odd[i].valid || (k == 2 && !odd[i].s[0])) {
                    if (!json_is_null(got[k]))
                        fail_msg("#%zu field %zu: want null in %s", i, k, line);
                } else if (!json_is_string(got[k]) ||
                           strcmp(json_string_value(got[k]), odd[i].s) != 0) {
                    fail_msg("#%zu field %zu: not the same string in %s", i, k, line);
                }
            }
            /* The fields around an invalid string are untouched. */
            assert_string_equal(json_string_value(json_object_get(o, "unique_id")), "u");
            assert_string_equal(json_string_value(json_object_get(o, "reply_q")), "reply_x");
            json_decref(o);
            free(line);
        }
    }
    /* The exact escapes, as jansson writes them. */
    struct op op = call_op();
    op.msg_id = "a\x01\x1f\"\\\b\f\n\r\t/";
    char *line;
    json_t *o = record(&op, &line);
    assert_non_null(strstr(line, "\"msg_id\":\"a\\u0001\\u001F\\\"\\\\\\b\\f\\n\\r\\t/\","));
    json_decref(o);
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_record),
        cmocka_unit_test(test_process_names),
        cmocka_unit_test(test_notification), cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

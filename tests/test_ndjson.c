/*
 * test_ndjson.c: the shape of the NDJSON record (docs/json.md).
 *
 * Every documented field is present on every record, null when unknown,
 * with the documented JSON type; notifications add their four fields;
 * args/result/context appear as nested JSON only when the op carries them;
 * a line is one line.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ndjson.h"

static const char *const always[] = {
    "schema",       "type",        "ts",
    "msg_id",       "unique_id",   "reply_q",
    "exchange",     "routing_key", "topic",
    "server",       "method",      "namespace",
    "version",      "status",      "latency_ms",
    "latency_from", "latency_to",  "queue_wait_ms",
    "server_ms",    "timeout_s",   "late_reply",
    "replies",      "heartbeats",  "timeline",
    "error",        "request_id",  "global_request_id",
    "client",       "server_peer", "fanout_receivers",
};

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
    return op;
}

static void test_call_record(void **state)
{
    (void)state;
    struct op op = call_op();
    json_t *o = ndjson_op(&op);
    assert_non_null(o);
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (!json_object_get(o, always[i]))
            fail_msg("missing %s", always[i]);
    assert_int_equal(json_integer_value(json_object_get(o, "schema")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "call");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "error");
    double ts = json_real_value(json_object_get(o, "ts"));
    assert_true(ts > 1795576490.1234 && ts < 1795576490.1236);
    assert_true(json_is_null(json_object_get(o, "namespace")));
    assert_true(json_is_null(json_object_get(o, "queue_wait_ms")));
    assert_true(json_is_null(json_object_get(o, "fanout_receivers")));
    assert_string_equal(json_string_value(json_object_get(o, "latency_from")), "request_publish");
    json_t *tl = json_object_get(o, "timeline");
    assert_true(json_is_real(json_object_get(tl, "request_publish")));
    assert_true(json_is_null(json_object_get(tl, "request_deliver")));
    assert_true(json_is_real(json_object_get(tl, "reply_deliver")));
    json_t *err = json_object_get(o, "error");
    assert_string_equal(json_string_value(json_object_get(err, "class")), "ValueError");
    json_t *cl = json_object_get(o, "client");
    assert_string_equal(json_string_value(json_object_get(cl, "addr")), "127.0.0.1:40000");
    assert_string_equal(json_string_value(json_object_get(cl, "connection_name")), "nova-api:1:x");
    assert_true(json_is_null(json_object_get(o, "server_peer")));
    assert_null(json_object_get(o, "event_type"));
    assert_null(json_object_get(o, "args"));
    json_decref(o);

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

static void test_notification_and_bodies(void **state)
{
    (void)state;
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
    op.args_json = "{\"size\":1,\"list\":[1,2]}";
    op.context_json = "{\"auth_token\":\"***\"}";
    json_t *o = ndjson_op(&op);
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (!json_object_get(o, always[i]))
            fail_msg("missing %s", always[i]);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "notification");
    assert_true(json_is_null(json_object_get(o, "ts")));
    assert_true(json_is_null(json_object_get(o, "timeout_s")));
    assert_true(json_is_null(json_object_get(o, "latency_ms")));
    assert_true(json_is_null(json_object_get(o, "error")));
    assert_int_equal(json_integer_value(json_object_get(o, "fanout_receivers")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "priority")), "INFO");
    assert_string_equal(json_string_value(json_object_get(o, "message_id")),
                        "75654316-939e-4cff-9da5-b35e03a7c84d");
    json_t *args = json_object_get(o, "args");
    assert_true(json_is_object(args));
    assert_int_equal(json_array_size(json_object_get(args, "list")), 2);
    assert_true(json_is_null(json_object_get(o, "result")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "context"), "auth_token")), "***");
    json_decref(o);
}

/* The direct writer against jansson on strings that need escaping or are not UTF-8. */
static void test_format_matches_jansson(void **state)
{
    (void)state;
    static const char *const odd[] = {"plain", "quote\" back\\slash", "ctl\x01\x1f\b\f\n\r\t",
                                      "unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "bad \xff utf8",
                                      "surrogate \xed\xa0\x80", "overlong \xc0\xaf", "slash /", ""};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (int type = 0; type < OP_TYPE_COUNT; type++) {
            struct op op;
            memset(&op, 0, sizeof op);
            op.type = (enum op_type)type;
            op.status = (enum op_status)(i % OP_STATUS_COUNT);
            op.ts_ns = 1795576471440817123ull + i;
            op.timeline[LEG_REQUEST_PUBLISH] = op.ts_ns;
            op.timeline[LEG_REPLY_DELIVER] = i % 2 ? op.ts_ns + 1234567 : 0;
            op.msg_id = odd[i];
            op.topic = odd[(i + 1) % 9];
            op.method = odd[i];
            op.server = i % 3 ? NULL : odd[i];
            op.has_latency = i % 2;
            op.latency_ms = 1.0 + (double)i / 3.0;
            op.latency_to = LEG_REPLY_DELIVER;
            op.queue_wait_ms = i % 2 ? 0.125 : -1;
            op.server_ms = 1e6 * (double)i;
            op.timeout_s = 30;
            op.late_reply = i % 2;
            op.replies = (unsigned)i;
            op.error_class = i % 2 ? odd[i] : NULL;
            op.error_message = odd[(i + 2) % 9];
            op.client.known = true;
            op.client.addr.family = 4;
            op.client.addr.ip[0] = 127;
            op.client.addr.ip[3] = 1;
            op.client.connection_name = odd[i];
            op.event_type = odd[i];
            op.fanout_receivers = 3;
            json_t *o = ndjson_op(&op);
            char *slow = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
            char *fast;
            size_t len;
            assert_true(ndjson_format_op(&op, &fast, &len));
            assert_string_equal(fast, slow);
            assert_int_equal(len, strlen(slow));
            free(fast);
            free(slow);
            json_decref(o);
        }
    }
    struct op with_body;
    memset(&with_body, 0, sizeof with_body);
    with_body.args_json = "{}";
    char *line;
    size_t len;
    assert_false(ndjson_format_op(&with_body, &line, &len)); /* bodies go through jansson */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_matches_jansson),
        cmocka_unit_test(test_call_record),
        cmocka_unit_test(test_notification_and_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

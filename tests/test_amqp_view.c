/*
 * test_amqp_view.c: the --amqp text line and JSON object, produced from
 * events the real AMQP stage emits for hand-made frames: field layout,
 * direction arrows, every argument in JSON (bits as booleans, tables as
 * objects), properties, body size, and the SASL response always masked;
 * the object the sink writes without jansson equals jansson's dump of the
 * tree for every event, and for tables with repeated keys, keys holding NUL,
 * bytes that are not UTF-8, nested arrays, reals and malformed ends.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "amqp_test_util.h"
#include "common/json_buf.h"
#include "dissect/amqp_conn.h"
#include "ui/amqp_view.h"

struct out {
    char text[16][512];
    json_t *json[16];
    int n;
};

static void on_method(void *u, const struct amqp_method_event *ev)
{
    struct out *o = u;
    assert_true(o->n < 16);
    FILE *f = fmemopen(o->text[o->n], sizeof o->text[o->n], "w");
    amqp_view_text(f, ev);
    fclose(f);
    o->json[o->n] = amqp_view_json(ev, false);
    char *want = json_dumps(o->json[o->n], JSON_COMPACT | JSON_REAL_PRECISION(17));
    struct jbuf b = {0};
    amqp_view_json_write(&b, ev, false);
    jb_put(&b, "", 1);
    assert_string_equal(b.p, want);
    free(b.p);
    free(want);
    o->n++;
}

/* A table written without jansson, compared with jansson's dump of the tree. */
static void same_table(const uint8_t *p, size_t len, bool array)
{
    json_t *j = amqp_view_table_json(p, len, array);
    char *want = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    struct jbuf b = {0};
    amqp_view_table_json_write(&b, p, len, array);
    jb_put(&b, "", 1);
    if (getenv("SHOW_TABLES"))
        print_message("%s\n", want);
    assert_string_equal(b.p, want);
    free(b.p);
    free(want);
    json_decref(j);
}

static void test_tables_as_jansson_prints_them(void **state)
{
    (void)state;
    /* key "a" = S"x", key "a" again = t 1 (first place, last value), key "b\0c" = d 0.1,
     * key "\xff" = I -5, key "" = A[ f 1.5, D 2/100, l 2^63+1, V ], key "z" = S "\xc3\x28\0" */
    /* clang-format off */
    static const uint8_t t[] = {
        1, 'a', 'S', 0, 0, 0, 1, 'x',
        1, 'a', 't', 1,
        3, 'b', 0, 'c', 'd', 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a,
        1, 0xff, 'I', 0xff, 0xff, 0xff, 0xfb,
        0, 'A', 0, 0, 0, 21,
            'f', 0x3f, 0xc0, 0, 0,
            'D', 2, 0, 0, 0, 2,
            'l', 0x80, 0, 0, 0, 0, 0, 0, 1,
            'V',
        1, 'z', 'S', 0, 0, 0, 3, 0xc3, 0x28, 0,
    };
    /* clang-format on */
    same_table(t, sizeof t, false);
    /* Without the repeated key (the writer's direct path). */
    same_table(t + 12, sizeof t - 12, false);
    /* Cut short: what was read, then "_malformed". */
    for (size_t cut = 0; cut < sizeof t; cut++)
        same_table(t, cut, false);
    /* A key "_malformed" of its own, then a bad end. */
    static const uint8_t m[] = {10,  '_', 'm', 'a', 'l', 'f', 'o', 'r', 'm',
                                'e', 'd', 't', 0,   1,   'q', 'S', 0,   0};
    same_table(m, sizeof m, false);
    same_table(t + 38, 21, true);
}

static struct netaddr addr(uint8_t last, uint16_t port)
{
    struct netaddr a = {0};
    a.family = 4;
    a.ip[0] = 10;
    a.ip[3] = last;
    a.port = port;
    return a;
}

static void run(struct out *o, const struct wbuf *to_broker, const struct wbuf *to_client)
{
    struct amqp_config cfg;
    amqp_config_default(&cfg);
    cfg.want_methods = true;
    struct amqp_callbacks cb = {on_method, NULL, NULL, o, NULL};
    struct amqp_dissector *d = amqp_dissector_new(&cfg, &cb);
    struct netaddr a = addr(1, 40522), b = addr(2, 5672);
    struct amqp_conn *c = amqp_conn_open(d, 1, &a, &b, 0);
    if (to_broker)
        amqp_conn_data(c, 0, to_broker->p, to_broker->len, 1700000000123456789ull, 1);
    if (to_client)
        amqp_conn_data(c, 1, to_client->p, to_client->len, 1700000001000000000ull, 2);
    amqp_conn_close(c, 0);
    amqp_dissector_free(d);
}

static void free_out(struct out *o)
{
    for (int i = 0; i < o->n; i++)
        json_decref(o->json[i]);
}

static void test_publish_line_and_json(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "openstack", "compute");
    struct wbuf pl = {0};
    w_be16(&pl, 60);
    w_be16(&pl, 0);
    w_be64(&pl, 742);
    w_be16(&pl,
           0x8000 | 0x2000 | 0x1000 | 0x0100); /* content_type headers delivery_mode expiration */
    w_sstr(&pl, "application/json");
    struct wbuf t = {0};
    w_sstr(&t, "x-n");
    w_u8(&t, 'I');
    w_be32(&t, 5);
    w_lstr(&pl, t.p, t.len);
    w_u8(&pl, 2);
    w_sstr(&pl, "60000");
    w_frame(&b, 2, 1, pl.p, pl.len);
    char body[742];
    memset(body, '{', sizeof body);
    w_body(&b, 1, body, sizeof body);
    struct out o = {0};
    run(&o, &b, NULL);
    assert_int_equal(o.n, 1);
    /* time is local; check everything after it */
    const char *line = o.text[0];
    assert_int_equal(strlen(line) > 16, 1);
    assert_int_equal(line[2], ':');
    assert_int_equal(line[8], '.');
    assert_string_equal(line + 16, "10.0.0.1:40522 > 10.0.0.2:5672 ch 1 basic.publish "
                                   "exchange=openstack routing_key=compute body=742\n");
    json_t *j = o.json[0];
    assert_string_equal(json_string_value(json_object_get(j, "type")), "amqp");
    assert_int_equal(json_integer_value(json_object_get(j, "schema")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "basic.publish");
    assert_string_equal(json_string_value(json_object_get(j, "dir")), "to_broker");
    assert_string_equal(json_string_value(json_object_get(j, "client")), "10.0.0.1:40522");
    assert_string_equal(json_string_value(json_object_get(j, "broker")), "10.0.0.2:5672");
    assert_true(json_is_real(json_object_get(j, "ts")));
    double ts = json_real_value(json_object_get(j, "ts"));
    assert_true(ts > 1700000000.12 && ts < 1700000000.13);
    json_t *args = json_object_get(j, "args");
    assert_int_equal(json_object_size(args), 5);
    assert_true(json_is_false(json_object_get(args, "mandatory")));
    assert_int_equal(json_integer_value(json_object_get(args, "ticket")), 0);
    json_t *props = json_object_get(j, "properties");
    assert_int_equal(json_object_size(props), 4);
    assert_string_equal(json_string_value(json_object_get(props, "expiration")), "60000");
    assert_int_equal(json_integer_value(json_object_get(props, "delivery_mode")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(props, "headers"), "x-n")),
                     5);
    assert_int_equal(json_integer_value(json_object_get(j, "body_size")), 742);
    assert_true(json_is_false(json_object_get(j, "body_truncated")));
    assert_null(json_object_get(j, "incomplete"));
    free_out(&o);
    w_free(&b);
    w_free(&pl);
    w_free(&t);
}

static void test_secret_and_scalar_args(void **state)
{
    (void)state;
    struct wbuf b = {0};
    const struct amqp_method_def *sok = amqp_method_find(10, 11);
    struct amqp_arg_value v[AMQP_METHOD_MAX_ARGS] = {0};
    static const uint8_t cp[] = {7, 'p', 'r', 'o', 'd', 'u', 'c', 't', 'S', 0, 0, 0, 2, 'p', 'y'};
    v[0].bytes.p = cp;
    v[0].bytes.len = sizeof cp;
    arg_str(sok, v, "mechanism", "PLAIN");
    static const char resp[] = "\0guest\0HUNTER2";
    v[2].bytes.p = (const uint8_t *)resp;
    v[2].bytes.len = sizeof resp - 1;
    arg_str(sok, v, "locale", "en_US");
    w_method(&b, 0, sok, v);
    struct wbuf c = {0};
    memset(v, 0, sizeof v);
    v[0].u = 2047;
    v[1].u = 131072;
    v[2].u = 60;
    w_method(&c, 0, amqp_method_find(10, 30), v);
    struct out o = {0};
    run(&o, &b, &c);
    assert_int_equal(o.n, 2);
    assert_null(strstr(o.text[0], "HUNTER2"));
    assert_non_null(strstr(o.text[0], "response=***"));
    char *dump = json_dumps(o.json[0], 0);
    assert_null(strstr(dump, "HUNTER2"));
    assert_non_null(strstr(dump, "\"response\": \"***\""));
    assert_non_null(strstr(dump, "\"client_properties\": {\"product\": \"py\"}"));
    free(dump);
    /* tune has none of the main arguments: its scalars are shown */
    assert_string_equal(o.text[1] + 16, "10.0.0.2:5672 > 10.0.0.1:40522 ch 0 connection.tune "
                                        "channel_max=2047 frame_max=131072 heartbeat=60\n");
    assert_string_equal(json_string_value(json_object_get(o.json[1], "dir")), "to_client");
    free_out(&o);
    w_free(&b);
    w_free(&c);
}

static void test_odd_strings(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_basic_publish(&b, 1, "", "a b\xff\"");
    w_header(&b, 1, 0, NULL);
    struct out o = {0};
    run(&o, &b, NULL);
    assert_int_equal(o.n, 1);
    assert_non_null(strstr(o.text[0], "exchange=\"\" routing_key=\"a b\\xff\\\"\" body=0"));
    json_t *rk = json_object_get(json_object_get(o.json[0], "args"), "routing_key");
    assert_string_equal(json_string_value(rk), "a b\\xff\"");
    free_out(&o);
    w_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_as_jansson_prints_them),
        cmocka_unit_test(test_publish_line_and_json),
        cmocka_unit_test(test_secret_and_scalar_args),
        cmocka_unit_test(test_odd_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

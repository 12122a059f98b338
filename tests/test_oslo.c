/*
 * test_oslo.c: the oslo decoder on real bodies (tests/data/oslo/, copied
 * from the lab's captures with tshark) and on hand-made hostile ones.
 *
 * Covers: classification of every kind, envelope v2 and bare v1, field
 * extraction, topic/server routing, the failure string (class, module,
 * message, `_Remote` stripped), reply shapes (final, old-style answer,
 * heartbeat), zlib and gzip bodies announced by the `compression` header,
 * unsupported codecs, decompression bombs, every decode error with its
 * counter, cut fields, the optional redacted bodies, and the table of bodies
 * seen (the deliver leg recognised, not decoded again: the same message and
 * counters as a full decode).
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
#include <zlib.h>

#include "dissect/inflate.h"
#include "dissect/oslo.h"
#include "dissect/oslo_seen.h"

#define TOKEN "HARNESSFAKETOKEN"

static char *load(const char *name, size_t *len)
{
    char path[4096];
    const char *pc = getenv("OSLOTRACE_PCAPS");
    if (pc)
        snprintf(path, sizeof path, "%s/../tests/data/oslo/%s", pc, name);
    else
        snprintf(path, sizeof path, "%.*s/data/oslo/%s", (int)(strrchr(__FILE__, '/') - __FILE__),
                 __FILE__, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static struct amqp_bytes B(const char *s) {
    struct amqp_bytes b = {(const uint8_t *)s, s ? strlen(s) : 0};
    return b;
}

struct fx {
    struct oslo_decoder d;
    struct oslo_msg m;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct oslo_config cfg = {false, false, 1u << 20};
    oslo_decoder_init(&f->d, &cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    oslo_msg_release(&f->m);
    oslo_decoder_free(&f->d);
    free(f);
    return 0;
}

static enum oslo_err decode_text(struct fx *f, const char *body, size_t len, const char *exchange,
                                 const char *rk)
{
    struct amqp_bytes ex = B(exchange), r = B(rk);
    oslo_msg_release(&f->m);
    return oslo_decode_body(&f->d, (const uint8_t *)body, len, &ex, &r, NULL, NULL, &f->m);
}

static enum oslo_err decode_file(struct fx *f, const char *file, const char *exchange,
                                 const char *rk)
{
    size_t len;
    char *body = load(file, &len);
    enum oslo_err e = decode_text(f, body, len, exchange, rk);
    free(body);
    return e;
}

static void test_call(void **state)
{
    struct fx *f = *state;
    size_t len;
    char *body = load("call.json", &len);
    struct amqp_bytes ex = B("openstack"), rk = B("compute.host-a"), exp = B("30000");
    assert_int_equal(oslo_decode_body(&f->d, (uint8_t *)body, len, &ex, &rk, NULL, &exp, &f->m),
                     OSLO_OK);
    free(body);
    struct oslo_msg *m = &f->m;
    assert_int_equal(m->kind, OSLO_KIND_CALL);
    assert_true(m->envelope);
    assert_string_equal(m->oslo_version, "2.0");
    assert_string_equal(m->method, "echo");
    assert_string_equal(m->version, "2.0");
    assert_false(m->have & OSLO_HAVE_NAMESPACE);
    assert_string_equal(m->msg_id, "74f5ab1da4214e3994ef8dc642b49eae");
    assert_string_equal(m->reply_q, "reply_46ec48d8be9e49f68f858da0b8510086");
    assert_string_equal(m->unique_id, "b7c13e72cd944ffd8b78a9c3a30c17ae");
    assert_string_equal(m->request_id, "req-51317ce1-25ad-4176-b952-433c629a1840");
    assert_false(m->have & OSLO_HAVE_GLOBAL_REQUEST_ID); /* null */
    assert_false(m->have & OSLO_HAVE_TIMEOUT);           /* _timeout: null */
    assert_string_equal(m->topic, "compute");
    assert_string_equal(m->server, "host-a");
    assert_true(m->have & OSLO_HAVE_EXPIRATION);
    assert_true(m->expiration_s > 29.99 && m->expiration_s < 30.01);
    assert_null(m->args_json); /* bodies not asked for */

    assert_int_equal(decode_file(f, "call_ns.json", "openstack", "conductor"), OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_CALL);
    assert_string_equal(m->namespace_, "baseapi");
    assert_string_equal(m->version, "1.3");
    assert_string_equal(m->method, "no_such_method");
    assert_string_equal(m->topic, "conductor");
    assert_false(m->have & OSLO_HAVE_SERVER);
    assert_false(m->have & OSLO_HAVE_EXPIRATION);
}

static void test_cast_and_fanout(void **state)
{
    struct fx *f = *state;
    struct oslo_msg *m = &f->m;
    assert_int_equal(decode_file(f, "cast.json", "openstack", "compute"), OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_CAST);
    assert_false(m->have & OSLO_HAVE_MSG_ID);
    assert_true(m->have & OSLO_HAVE_UNIQUE_ID);
    assert_string_equal(m->topic, "compute");
    assert_int_equal(decode_file(f, "cast.json", "compute_fanout", "compute"), OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_FANOUT);
    assert_string_equal(m->topic, "compute");
    assert_false(m->have & OSLO_HAVE_SERVER);
    /* Server names with dots (FQDNs): split at the first dot only. */
    assert_int_equal(decode_file(f, "cast.json", "openstack", "compute.node1.example.org"),
                     OSLO_OK);
    assert_string_equal(m->topic, "compute");
    assert_string_equal(m->server, "node1.example.org");
}

static void test_replies(void **state)
{
    struct fx *f = *state;
    struct oslo_msg *m = &f->m;
    assert_int_equal(decode_file(f, "reply_ok.json", "", "reply_46ec48d8be9e49f68f858da0b8510086"),
                     OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_REPLY);
    assert_true(m->ending);
    assert_false(m->failure_nonnull);
    assert_false(m->have & OSLO_HAVE_TOPIC);

    static const struct {
        const char *file, *cls, *module;
    } fails[] = {
        {"reply_failure_ValueError.json", "ValueError", "builtins"},
        {"reply_failure_KeyError.json", "KeyError", "builtins"},
        {"reply_failure_HarnessError.json", "HarnessError", "harness_endpoints"},
        {"reply_failure_QuotaExceeded.json", "QuotaExceeded", "harness_endpoints"},
        {"reply_failure_NoSuchMethod.json", "NoSuchMethod", "oslo_messaging.rpc.dispatcher"},
        {"reply_failure_UnsupportedVersion.json", "UnsupportedVersion",
         "oslo_messaging.rpc.dispatcher"},
    };
    for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++) {
        assert_int_equal(decode_file(f, fails[i].file, "", "reply_x"), OSLO_OK);
        assert_int_equal(m->kind, OSLO_KIND_REPLY);
        assert_true(m->failure_nonnull);
        assert_true(m->have & OSLO_HAVE_ERROR);
        assert_string_equal(m->error_class, fails[i].cls);
        assert_string_equal(m->error_module, fails[i].module);
        assert_true(strlen(m->error_message) > 0);
    }
    assert_string_equal(m->error_message,
                        "Endpoint does not support RPC version 3.0. Attempted method: echo");

    /* `_Remote` suffixes are the sender's doing: stripped. */
    const char *remote =
        "{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"result\\\":null,\\\"failure\\\":"
        "\\\"{\\\\\\\"class\\\\\\\":\\\\\\\"Boom_Remote\\\\\\\",\\\\\\\"module\\\\\\\":"
        "\\\\\\\"my.mod_Remote\\\\\\\",\\\\\\\"message\\\\\\\":\\\\\\\"m\\\\\\\"}\\\","
        "\\\"ending\\\":true,\\\"_msg_id\\\":\\\"abc\\\"}\"}";
    assert_int_equal(decode_text(f, remote, strlen(remote), "", "reply_x"), OSLO_OK);
    assert_string_equal(m->error_class, "Boom");
    assert_string_equal(m->error_module, "my.mod");
    assert_string_equal(m->error_message, "m");

    /* A failure that is not the JSON dict: kept as the message. */
    const char *plain =
        "{\"result\":null,\"failure\":\"just text\",\"ending\":true,\"_msg_id\":\"a\"}";
    assert_int_equal(decode_text(f, plain, strlen(plain), "", "reply_x"), OSLO_OK);
    assert_false(m->envelope);
    assert_string_equal(m->error_message, "just text");
    assert_string_equal(m->error_class, "");

    /* Heartbeat: ending false, nothing in it. */
    const char *hb = "{\"result\":null,\"failure\":null,\"ending\":false,\"_msg_id\":\"a\"}";
    assert_int_equal(decode_text(f, hb, strlen(hb), "", "reply_x"), OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_REPLY);
    assert_true(m->ending_false);
    assert_false(m->ending);
    assert_false(m->result_nonnull);

    /* Old style first message: no `ending`, a result. */
    const char *old = "{\"result\":{\"x\":1},\"failure\":null,\"_msg_id\":\"a\"}";
    assert_int_equal(decode_text(f, old, strlen(old), "", "reply_x"), OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_REPLY);
    assert_false(m->have & OSLO_HAVE_ENDING);
    assert_true(m->result_nonnull);
}

static void test_notifications(void **state)
{
    struct fx *f = *state;
    struct oslo_msg *m = &f->m;
    assert_int_equal(decode_file(f, "notification_v2.json", "openstack", "notifications.error"),
                     OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_NOTIFICATION);
    assert_true(m->envelope);
    assert_string_equal(m->event_type, "compute.instance.create.end");
    assert_string_equal(m->priority, "ERROR");
    assert_string_equal(m->publisher_id, "compute.host-a");
    assert_string_equal(m->message_id, "75654316-939e-4cff-9da5-b35e03a7c84d");
    assert_string_equal(m->topic, "notifications");
    assert_false(m->have & OSLO_HAVE_SERVER);

    assert_int_equal(decode_file(f, "notification_v1.json", "openstack", "notifications.warn"),
                     OSLO_OK);
    assert_int_equal(m->kind, OSLO_KIND_NOTIFICATION);
    assert_false(m->envelope);
    assert_string_equal(m->priority, "WARN");
    assert_string_equal(m->event_type, "volume.usage");
    assert_string_equal(m->topic, "notifications");
    /* A dotted topic keeps its dots; only the priority goes. */
    assert_int_equal(decode_file(f, "notification_v1.json", "nova", "versioned.notifications.info"),
                     OSLO_OK);
    assert_string_equal(m->topic, "versioned.notifications");
}

/* A headers table holding compression = value. */
static size_t headers_with(const char *value, uint8_t *buf)
{
    size_t n = 0, vl = strlen(value);
    buf[n++] = 11;
    memcpy(buf + n, "compression", 11);
    n += 11;
    buf[n++] = 'S';
    buf[n++] = 0, buf[n++] = 0, buf[n++] = (uint8_t)(vl >> 8), buf[n++] = (uint8_t)vl;
    memcpy(buf + n, value, vl);
    return n + vl;
}

static size_t deflate_all(const void *in, size_t len, uint8_t *out, size_t cap, int window)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

static void test_compression(void **state)
{
    struct fx *f = *state;
    struct oslo_msg *m = &f->m;
    size_t len;
    char *body = load("call.json", &len);
    uint8_t z[4096], hdr[64];
    struct amqp_bytes ex = B("openstack"), rk = B("compute");
    for (int window = 15; window <= 31; window += 16) { /* zlib, then gzip framing */
        size_t zl = deflate_all(body, len, z, sizeof z, window);
        struct amqp_bytes h = {hdr, headers_with("application/x-gzip", hdr)};
        oslo_msg_release(m);
        assert_int_equal(oslo_decode_body(&f->d, z, zl, &ex, &rk, &h, NULL, m), OSLO_OK);
        assert_true(m->compressed);
        assert_int_equal(m->kind, OSLO_KIND_CALL);
        assert_string_equal(m->msg_id, "74f5ab1da4214e3994ef8dc642b49eae");
    }
    assert_int_equal(f->d.inflated, 2);
    size_t zl = deflate_all(body, len, z, sizeof z, 15);
    /* Codecs we do not inflate: counted, no guessing. */
    struct amqp_bytes h = {hdr, headers_with("application/x-bz2", hdr)};
    assert_int_equal(oslo_decode_body(&f->d, z, zl, &ex, &rk, &h, NULL, m), OSLO_ERR_CODEC);
    assert_int_equal(f->d.errors[OSLO_ERR_CODEC], 1);
    /* Corrupt and truncated streams. */
    h.len = headers_with("gzip", hdr);
    z[5] ^= 0xFF;
    assert_int_equal(oslo_decode_body(&f->d, z, zl, &ex, &rk, &h, NULL, m), OSLO_ERR_INFLATE);
    z[5] ^= 0xFF;
    assert_int_equal(oslo_decode_body(&f->d, z, zl / 2, &ex, &rk, &h, NULL, m), OSLO_ERR_INFLATE);
    assert_int_equal(f->d.errors[OSLO_ERR_INFLATE], 2);
    free(body);

    /* A bomb: 64 MiB of spaces in a few KB stops at the 1 MiB limit. */
    size_t big = 64u << 20;
    char *spaces = malloc(big);
    memset(spaces, ' ', big);
    size_t cap = big / 100;
    uint8_t *bomb = malloc(cap);
    size_t bl = deflate_all(spaces, big, bomb, cap, 15);
    free(spaces);
    h.len = headers_with("application/x-gzip", hdr);
    assert_int_equal(oslo_decode_body(&f->d, bomb, bl, &ex, &rk, &h, NULL, m), OSLO_ERR_INFLATE);
    uint8_t *out;
    size_t olen;
    assert_int_equal(inflate_body(bomb, bl, 1u << 20, &out, &olen), INFLATE_ERR_TOO_BIG);
    assert_null(out);
    assert_int_equal(inflate_body(bomb, bl, 64u << 20, &out, &olen), INFLATE_OK);
    assert_int_equal(olen, 64u << 20);
    free(out);
    free(bomb);
    /* Exactly at the limit is fine. */
    uint8_t tiny[64];
    size_t tl = deflate_all("hello", 5, tiny, sizeof tiny, 15);
    assert_int_equal(inflate_body(tiny, tl, 5, &out, &olen), INFLATE_OK);
    assert_int_equal(olen, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    assert_int_equal(inflate_body(tiny, tl, 4, &out, &olen), INFLATE_ERR_TOO_BIG);
    assert_int_equal(inflate_codec_from_name((const uint8_t *)"zlib", 4), INFLATE_CODEC_ZLIB);
    assert_int_equal(inflate_codec_from_headers(NULL, 0), INFLATE_CODEC_NONE);
}

static void test_errors(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *body;
        enum oslo_err want;
    } cases[] = {
        {"", OSLO_ERR_EMPTY},
        {"{\"method\":\"x\"", OSLO_ERR_TRUNCATED},
        {"{\"method\":\"x\",}", OSLO_ERR_JSON},
        {"not json", OSLO_ERR_JSON},
        {"[1,2,3]", OSLO_ERR_NOT_OBJECT},
        {"{\"method\":\"\xc3\x28\"}", OSLO_ERR_UTF8},
        {"{\"oslo.version\":\"2.0\",\"oslo.message\":{\"method\":\"x\"}}", OSLO_ERR_ENVELOPE},
        {"{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"method\\\":\"}", OSLO_ERR_TRUNCATED},
        {"{\"oslo.version\":\"2.0\",\"oslo.message\":\"[]\"}", OSLO_ERR_NOT_OBJECT},
        {"{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"a\\\":\\\"\\\\ud800\\\"}\"}", OSLO_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum oslo_err e = decode_text(f, cases[i].body, strlen(cases[i].body), "x", "y");
        if (e != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, oslo_err_name(e), oslo_err_name(cases[i].want));
        if (e != OSLO_OK)
            assert_int_equal(f->m.kind, OSLO_KIND_OTHER);
    }
    assert_int_equal(f->d.errors[OSLO_ERR_JSON], 2);
    assert_int_equal(f->d.errors[OSLO_ERR_TRUNCATED], 2);
    /* Valid JSON that oslo never sends: OK but OTHER, counted. */
    assert_int_equal(decode_text(f, "{\"hello\":1}", 11, "x", "y"), OSLO_OK);
    assert_int_equal(f->m.kind, OSLO_KIND_OTHER);
    assert_true(f->d.kinds[OSLO_KIND_OTHER] >= 1);
    /* A reply-looking message without _msg_id is not a reply. */
    const char *t = "{\"result\":1,\"ending\":true}";
    assert_int_equal(decode_text(f, t, strlen(t), "", "reply_x"), OSLO_OK);
    assert_int_equal(f->m.kind, OSLO_KIND_OTHER);
}

static void test_cut_fields(void **state)
{
    struct fx *f = *state;
    char body[2048];
    char name[1000];
    memset(name, 'm', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(body, sizeof body, "{\"method\":\"%s\",\"_unique_id\":\"u\"}", name);
    assert_int_equal(decode_text(f, body, strlen(body), "openstack", "t"), OSLO_OK);
    assert_true(f->m.cut);
    assert_int_equal(strlen(f->m.method), OSLO_NAME_LEN - 1);
    assert_int_equal(f->d.cut_fields, 1);
}

static void test_bodies_redacted(void **state)
{
    (void)state;
    for (int show = 0; show <= 1; show++) {
        struct oslo_decoder d;
        struct oslo_config cfg = {true, show == 1, 1u << 20};
        oslo_decoder_init(&d, &cfg);
        struct oslo_msg m;
        size_t len;
        char *body = load("call.json", &len);
        /* Add secrets inside args too, at depth. */
        const char *extra =
            "{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"method\\\":\\\"m\\\","
            "\\\"args\\\":{\\\"user\\\":{\\\"Password\\\":\\\"" TOKEN "1\\\","
            "\\\"list\\\":[{\\\"db_secret\\\":\\\"" TOKEN "2\\\"}]}},"
            "\\\"_unique_id\\\":\\\"u\\\","
            "\\\"_context_auth_token\\\":\\\"" TOKEN "3\\\","
            "\\\"_context_user\\\":\\\"bob\\\"}\"}";
        struct amqp_bytes ex = B("openstack"), rk = B("compute");
        const char *bodies[] = {body, extra};
        size_t lens[] = {len, strlen(extra)};
        for (int b = 0; b < 2; b++) {
            assert_int_equal(
                oslo_decode_body(&d, (const uint8_t *)bodies[b], lens[b], &ex, &rk, NULL, NULL, &m),
                OSLO_OK);
            assert_non_null(m.args_json);
            assert_non_null(m.context_json);
            bool leak = strstr(m.args_json, TOKEN) || strstr(m.context_json, TOKEN);
            assert_int_equal(leak, show == 1);
            json_t *ctx = json_loads(m.context_json, 0, NULL);
            assert_non_null(ctx);
            assert_null(json_object_get(ctx, "_context_auth_token"));
            json_t *tok = json_object_get(ctx, "auth_token");
            assert_non_null(tok);
            if (!show)
                assert_string_equal(json_string_value(tok), "***");
            json_decref(ctx);
            oslo_msg_release(&m);
        }
        /* Replies: the result body. */
        const char *rep = "{\"result\":{\"token\":\"" TOKEN "\",\"v\":1},\"failure\":null,"
                          "\"ending\":true,\"_msg_id\":\"a\"}";
        assert_int_equal(
            oslo_decode_body(&d, (const uint8_t *)rep, strlen(rep), &ex, &rk, NULL, NULL, &m),
            OSLO_OK);
        assert_non_null(m.result_json);
        assert_int_equal(strstr(m.result_json, TOKEN) != NULL, show == 1);
        oslo_msg_release(&m);
        /* Too deep for jansson: the keys still decode, the bodies are flagged. */
        size_t depth = 5000;
        char *deep = malloc(depth * 2 + 128);
        size_t n = (size_t)sprintf(deep, "{\"method\":\"m\",\"args\":");
        for (size_t i = 0; i < depth; i++)
            deep[n++] = '[';
        for (size_t i = 0; i < depth; i++)
            deep[n++] = ']';
        n += (size_t)sprintf(deep + n, ",\"_unique_id\":\"u\"}");
        assert_int_equal(oslo_decode_body(&d, (uint8_t *)deep, n, &ex, &rk, NULL, NULL, &m),
                         OSLO_OK);
        assert_int_equal(m.kind, OSLO_KIND_CAST);
        assert_true(m.bodies_failed);
        assert_null(m.args_json);
        oslo_msg_release(&m);
        free(deep);
        free(body);
        oslo_decoder_free(&d);
    }
}

/* Through struct amqp_message: properties are read from the right places. */
static void test_from_amqp_message(void **state)
{
    struct fx *f = *state;
    size_t len;
    char *body = load("call.json", &len);
    uint8_t hdr[64];
    struct amqp_message am;
    memset(&am, 0, sizeof am);
    am.kind = AMQP_CONTENT_PUBLISH;
    am.exchange = B("openstack");
    am.routing_key = B("compute.host-b");
    am.body = (const uint8_t *)body;
    am.body_len = len;
    am.body_size = len;
    am.props.present = AMQP_PROP_EXPIRATION | AMQP_PROP_HEADERS;
    am.props.expiration = B("1000");
    am.props.headers.p = hdr;
    am.props.headers.len = 0; /* empty table */
    oslo_msg_release(&f->m);
    assert_int_equal(oslo_decode(&f->d, &am, &f->m), OSLO_OK);
    assert_string_equal(f->m.server, "host-b");
    assert_true(f->m.expiration_s > 0.99 && f->m.expiration_s < 1.01);
    /* Expiration present but not a number: ignored. */
    am.props.expiration = B("1e3");
    oslo_msg_release(&f->m);
    assert_int_equal(oslo_decode(&f->d, &am, &f->m), OSLO_OK);
    assert_false(f->m.have & OSLO_HAVE_EXPIRATION);
    free(body);
}

/* Random mutations of real bodies: any outcome but a crash, a leak or an overread. */
static void test_mutations(void **state)
{
    (void)state;
    static const char *const files[] = {"call.json", "reply_failure_HarnessError.json",
                                        "notification_v1.json", "reply_ok.json"};
    struct oslo_decoder d;
    struct oslo_config cfg = {true, false, 1u << 20};
    oslo_decoder_init(&d, &cfg);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    struct amqp_bytes ex = B("openstack"), rk = B("compute.host-a");
    int ok = 0, bad = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        size_t len;
        char *orig = load(files[fi], &len);
        for (int round = 0; round < 1500; round++) {
            uint8_t *buf = malloc(len);
            memcpy(buf, orig, len);
            int flips = 1 + (int)(x % 4);
            for (int k = 0; k < flips; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                size_t at = (size_t)(x % len);
                static const uint8_t interesting[] = {'"', '\\', '{',  '}',  '[', ']', ',',
                                                      ':', 0,    0xff, 0xc3, 'u', '0', 'n'};
                buf[at] = (x >> 32) % 3 ? interesting[(x >> 40) % sizeof interesting]
                                        : (uint8_t)(x >> 48);
            }
            size_t cut = (x >> 20) % 5 == 0 ? (size_t)((x >> 24) % len) : len;
            struct oslo_msg m;
            enum oslo_err e = oslo_decode_body(&d, buf, cut, &ex, &rk, NULL, NULL, &m);
            if (e == OSLO_OK)
                ok++;
            else
                bad++;
            oslo_msg_release(&m);
            free(buf);
        }
        free(orig);
    }
    assert_true(ok > 0 && bad > 0);
    uint64_t errs = 0;
    for (int i = 1; i < OSLO_ERR_COUNT; i++)
        errs += d.errors[i];
    assert_int_equal(errs, (uint64_t)bad);
    oslo_decoder_free(&d);
}

/* Every field that reaches the record, compared between two decodes. */
static void assert_same_msg(const struct oslo_msg *a, const struct oslo_msg *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->have, b->have);
    assert_int_equal(a->envelope, b->envelope);
    assert_int_equal(a->compressed, b->compressed);
    assert_int_equal(a->cut, b->cut);
    assert_string_equal(a->oslo_version, b->oslo_version);
    const char *sa[] = {a->msg_id,      a->unique_id,    a->reply_q,       a->method,
                        a->namespace_,  a->version,      a->request_id,    a->global_request_id,
                        a->error_class, a->error_module, a->error_message, a->event_type,
                        a->priority,    a->publisher_id, a->message_id,    a->topic,
                        a->server};
    const char *sb[] = {b->msg_id,      b->unique_id,    b->reply_q,       b->method,
                        b->namespace_,  b->version,      b->request_id,    b->global_request_id,
                        b->error_class, b->error_module, b->error_message, b->event_type,
                        b->priority,    b->publisher_id, b->message_id,    b->topic,
                        b->server};
    for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++)
        assert_string_equal(sa[i], sb[i]);
    assert_true(a->expiration_s == b->expiration_s);
    assert_true(a->monitor_timeout_s == b->monitor_timeout_s);
    assert_int_equal(a->ending, b->ending);
    assert_int_equal(a->ending_false, b->ending_false);
    assert_int_equal(a->result_nonnull, b->result_nonnull);
    assert_int_equal(a->failure_nonnull, b->failure_nonnull);
    assert_int_equal(a->bodies_failed, b->bodies_failed);
    const char *ja[] = {a->args_json, a->result_json, a->context_json};
    const char *jb[] = {b->args_json, b->result_json, b->context_json};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ja[i] == NULL, jb[i] == NULL);
        if (ja[i])
            assert_string_equal(ja[i], jb[i]);
    }
}

/* A body decoded once is recognised the second time (a deliver leg): the same
 * message, re-routed for its own exchange and routing key, the same counters;
 * a decoder without the table (seen NULL) is the reference. */
static void test_seen_again(void **state)
{
    (void)state;
    static const char *const files[] = {"call.json", "reply_failure_HarnessError.json",
                                        "notification_v1.json", "reply_ok.json", "cast.json"};
    for (int bodies = 0; bodies <= 1; bodies++) {
        struct oslo_config cfg = {bodies == 1, false, 1u << 20};
        struct oslo_decoder d, ref;
        oslo_decoder_init(&d, &cfg);
        oslo_decoder_init(&ref, &cfg);
        oslo_seen_free(ref.seen);
        ref.seen = NULL;
        for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
            size_t len;
            char *body = load(files[fi], &len);
            struct amqp_bytes ex = B("openstack"), rk = B("compute.host-a"), rk2 = B("compute"),
                              fan = B("compute_fanout"), exp = B("5000");
            struct {
                const struct amqp_bytes *ex, *rk;
            } legs[] = {{&ex, &rk}, {&ex, &rk}, {&ex, &rk2}, {&fan, &rk2}};
            for (size_t l = 0; l < sizeof legs / sizeof legs[0]; l++) {
                struct oslo_msg a, b;
                assert_int_equal(oslo_decode_body(&d, (uint8_t *)body, len, legs[l].ex, legs[l].rk,
                                                  NULL, &exp, &a),
                                 OSLO_OK);
                assert_int_equal(oslo_decode_body(&ref, (uint8_t *)body, len, legs[l].ex,
                                                  legs[l].rk, NULL, &exp, &b),
                                 OSLO_OK);
                assert_same_msg(&a, &b);
                oslo_msg_release(&a);
                oslo_msg_release(&b);
            }
            free(body);
        }
        /* Counters are those of the full decodes. */
        assert_int_equal(d.decoded, ref.decoded);
        assert_int_equal(d.failure_unparsed, ref.failure_unparsed);
        assert_int_equal(d.bodies_failed, ref.bodies_failed);
        assert_int_equal(d.cut_fields, ref.cut_fields);
        assert_memory_equal(d.kinds, ref.kinds, sizeof d.kinds);
        assert_memory_equal(d.errors, ref.errors, sizeof d.errors);
        const struct oslo_seen_stats *st = oslo_seen_stats(d.seen);
        assert_int_equal(st->stored, 5);
        assert_int_equal(st->hits, 15);
        oslo_decoder_free(&d);
        oslo_decoder_free(&ref);
    }
}

/* The envelope's message read in place (no bodies asked) and unescaped first
 * (bodies asked, which needs the text) give the same message and the same
 * error, on real bodies and on thousands of mutations of them. */
static void test_quoted_path(void **state)
{
    (void)state;
    static const char *const files[] = {"call.json", "reply_failure_HarnessError.json",
                                        "notification_v1.json", "reply_ok.json", "cast.json"};
    struct oslo_config in_place = {false, false, 1u << 20}, unescaped = {true, false, 1u << 20};
    struct oslo_decoder d, ref;
    oslo_decoder_init(&d, &in_place);
    oslo_decoder_init(&ref, &unescaped);
    oslo_seen_free(d.seen);
    oslo_seen_free(ref.seen);
    d.seen = ref.seen = NULL;
    struct amqp_bytes ex = B("openstack"), rk = B("compute.host-a"), exp = B("5000");
    uint64_t x = 0x2545F4914F6CDD1Dull;
    int same_ok = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        size_t len;
        char *orig = load(files[fi], &len);
        for (int round = 0; round < 3000; round++) {
            uint8_t *buf = malloc(len);
            memcpy(buf, orig, len);
            int flips = round == 0 ? 0 : 1 + (int)(x % 3);
            for (int k = 0; k < flips; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                static const uint8_t interesting[] = {'"', '\\', '{', '}', '[', ']', ',', ':',
                                                      ' ', 'n',  'u', '0', 0xc3, 0x7f, '\n'};
                buf[(size_t)(x % len)] = interesting[(x >> 40) % sizeof interesting];
            }
            struct oslo_msg a, b;
            enum oslo_err ea = oslo_decode_body(&d, buf, len, &ex, &rk, NULL, &exp, &a);
            enum oslo_err eb = oslo_decode_body(&ref, buf, len, &ex, &rk, NULL, &exp, &b);
            assert_int_equal(ea, eb);
            /* Bodies exist on one side only: compare the rest. */
            oslo_msg_release(&b);
            b.bodies_failed = a.bodies_failed;
            if (ea == OSLO_OK) {
                assert_same_msg(&a, &b);
                same_ok++;
            }
            oslo_msg_release(&a);
            free(buf);
        }
        free(orig);
    }
    assert_true(same_ok > 1000);
    assert_true(d.read_in_place > 1000); /* the in-place path did run */
    assert_int_equal(ref.read_in_place, 0);
    assert_memory_equal(d.errors, ref.errors, sizeof d.errors);
    assert_memory_equal(d.kinds, ref.kinds, sizeof d.kinds);
    assert_int_equal(d.cut_fields, ref.cut_fields);
    assert_int_equal(d.failure_unparsed, ref.failure_unparsed);
    oslo_decoder_free(&d);
    oslo_decoder_free(&ref);
}

/* The table alone: exact match only, direct-mapped replacement, bounds. */
static void test_seen_table(void **state)
{
    (void)state;
    struct oslo_seen *s = oslo_seen_new(3, sizeof(int), 64, 100, NULL);
    assert_non_null(s);
    const uint8_t a[] = "the same bytes", b[] = "the same bytez";
    uint64_t ha = oslo_seen_hash(a, sizeof a), hb = oslo_seen_hash(b, sizeof b);
    assert_true(ha != hb);
    assert_null(oslo_seen_find(s, a, sizeof a, ha, 0));
    int *v = oslo_seen_put(s, a, sizeof a, ha, 0);
    assert_non_null(v);
    *v = 7;
    assert_int_equal(*(int *)oslo_seen_find(s, a, sizeof a, ha, 0), 7);
    assert_null(oslo_seen_find(s, a, sizeof a, ha, 1)); /* another tag */
    assert_null(oslo_seen_find(s, b, sizeof b, ha, 0)); /* same hash, other bytes */
    assert_null(oslo_seen_find(s, a, sizeof a - 1, ha, 0));
    /* Same slot: the new body replaces the old one. */
    v = oslo_seen_put(s, b, sizeof b, ha, 0);
    assert_non_null(v);
    assert_null(oslo_seen_find(s, a, sizeof a, ha, 0));
    assert_non_null(oslo_seen_find(s, b, sizeof b, ha, 0));
    /* Too large for a slot, then over the byte budget. */
    uint8_t big[80] = {0};
    assert_null(oslo_seen_put(s, big, sizeof big, 1, 0));
    assert_non_null(oslo_seen_put(s, big, 60, 1, 0));
    assert_null(oslo_seen_put(s, big, 60, 2, 0));
    assert_true(oslo_seen_stats(s)->not_kept == 2);
    oslo_seen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cast_and_fanout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_fields, setup, teardown),
        cmocka_unit_test(test_bodies_redacted),
        cmocka_unit_test_setup_teardown(test_from_amqp_message, setup, teardown),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_seen_again),
        cmocka_unit_test(test_seen_table),
        cmocka_unit_test(test_quoted_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

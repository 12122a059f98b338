/*
 * test_oslo_pcaps.c: the oslo stage and correlation on the real captures in
 * pcaps/, checked against the truth files the lab's clients and servers
 * wrote (not against our own earlier output).
 *
 * Pipeline: libpcap -> packet_decode -> tcp_stream -> amqp_conn -> corr ->
 * ndjson_format_op, parsed back as a consumer would; then every in-capture
 * operation of X.truth.jsonl must appear exactly once with the right type,
 * topic, server, method, namespace, version, status, error class, late-reply
 * flag and a latency inside the client's own window; no record may name an
 * operation that did not happen; no output may contain the fake token. Same
 * rules as tests/e2e/test_truth.py, but without main, so the stage can be
 * checked on its own. Generic AMQP RPC calls ("dialect": "amqp" in truth and
 * records, amqp-rpc.pcap) are left to tests/e2e/test_generic_rpc.py; the oslo
 * operations beside them are checked.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/packet.h"
#include "capture/tcp_stream.h"
#include "dissect/amqp_conn.h"
#include "dissect/correlate.h"
#include "dissect/stats.h"
#include "tests/pcap_test_util.h"
#include "ui/ndjson.h"

struct run {
    struct amqp_dissector *amqp;
    struct corr *corr;
    struct stats *stats;
    json_t *records;
    uint64_t last_ts;
    bool token_leak;
};

static void on_op(void *u, const struct op *op)
{
    struct run *r = u;
    char *line;
    size_t len;
    assert_true(ndjson_format_op(op, &line, &len));
    if (strstr(line, "HARNESSFAKETOKEN"))
        r->token_leak = true;
    /* The checks below read the record as -j writes it, parsed back. */
    json_error_t err;
    json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, &err);
    if (!o)
        fail_msg("record does not parse (%s): %s", err.text, line);
    free(line);
    json_array_append_new(r->records, o);
    stats_add(r->stats, op);
}

static void on_message(void *u, const struct amqp_message *m)
{
    struct run *r = u;
    corr_message(r->corr, m);
}

static void t_open(void *u, struct tcp_flow *f)
{
    struct run *r = u;
    f->user = amqp_conn_open(r->amqp, f->id, &f->a, &f->b, f->first_ts);
}

static void t_data(void *u, struct tcp_flow *f, int dir, const uint8_t *d, size_t n, uint64_t ts,
                   uint64_t pkt)
{
    (void)u;
    amqp_conn_data(f->user, dir, d, n, ts, pkt);
}

static void t_gap(void *u, struct tcp_flow *f, int dir, uint64_t missing, uint64_t ts)
{
    (void)u;
    amqp_conn_gap(f->user, dir, missing, ts);
}

static void t_close(void *u, struct tcp_flow *f, enum tcp_close_reason why)
{
    (void)u;
    (void)why;
    amqp_conn_close(f->user, f->last_ts);
    f->user = NULL;
}

static void after_packet(void *user, const struct packet *pkt)
{
    struct run *r = user;
    r->last_ts = pkt->ts_ns;
    corr_tick(r->corr, pkt->ts_ns);
}

static void run_capture(const char *path, struct run *r, bool bodies)
{
    memset(r, 0, sizeof *r);
    r->records = json_array();
    r->stats = stats_new(0);
    struct corr_config cc;
    corr_config_default(&cc);
    cc.want_bodies = bodies;
    r->corr = corr_new(&cc, on_op, r);
    struct amqp_config cfg;
    amqp_config_default(&cfg);
    struct amqp_callbacks acb = {NULL, on_message, NULL, r, NULL};
    r->amqp = amqp_dissector_new(&cfg, &acb);
    struct tcp_stream_callbacks tcb = {t_open, t_data, t_gap, t_close, r};
    assert_true(pcap_test_stream(path, &tcb, after_packet, r));
    corr_finish(r->corr, r->last_ts);
    amqp_dissector_free(r->amqp);
}

static const char *sget(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool same_str(json_t *a, const char *ka, json_t *b, const char *kb)
{
    const char *x = sget(a, ka), *y = sget(b, kb);
    if (!x || !y)
        return !x && !y;
    return strcmp(x, y) == 0;
}

static void key_of(json_t *o, bool truth, char *buf, size_t len)
{
    const char *kind = sget(o, truth ? "kind" : "type");
    const char *id;
    if (!strcmp(kind, "call"))
        id = sget(o, "msg_id");
    else if (!strcmp(kind, "notification"))
        id = sget(o, "message_id");
    else
        id = sget(o, "unique_id"), kind = "cast";
    snprintf(buf, len, "%s/%s", kind, id ? id : "(null)");
}

/* Generic AMQP RPC truth lines and records: not this test's (see the header). */
static bool is_generic(json_t *o)
{
    const char *d = sget(o, "dialect");
    return d && !strcmp(d, "amqp");
}

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (failures++ < 40) {                                                                 \
                printf("  FAIL: ");                                                                \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* The lab's TLS captures say so in their meta file ("tls"). */
static bool is_tls_capture(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.meta.json", pcap_test_dir(), name);
    json_t *meta = json_load_file(path, 0, NULL);
    bool tls = meta && json_object_get(meta, "tls") != NULL;
    json_decref(meta);
    return tls;
}

static void check_capture(const char *name, const char *pcap, const char *truth_path, bool bodies)
{
    struct run r;
    run_capture(pcap, &r, bodies);
    json_t *by_key = json_object();
    size_t i;
    json_t *rec;
    json_array_foreach(r.records, i, rec)
    {
        if (is_generic(rec))
            continue;
        char k[256];
        key_of(rec, false, k, sizeof k);
        json_t *list = json_object_get(by_key, k);
        if (!list)
            json_object_set_new(by_key, k, list = json_array());
        json_array_append(list, rec);
    }
    /* lossy captures list the operations that lost packets */
    char meta_path[4096];
    snprintf(meta_path, sizeof meta_path, "%s/%s.meta.json", pcap_test_dir(), name);
    json_error_t jerr;
    json_t *meta = json_load_file(meta_path, 0, &jerr);
    json_t *affected = meta ? json_object_get(meta, "affected_ids") : NULL;

    FILE *f = fopen(truth_path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    json_t *truth_keys = json_object();
    int checked = 0, before = failures;
    while (getline(&line, &cap, f) > 0) {
        json_t *t = json_loads(line, JSON_ALLOW_NUL, &jerr);
        if (!t)
            continue;
        if (is_generic(t)) {
            json_decref(t);
            continue;
        }
        char k[256];
        key_of(t, true, k, sizeof k);
        json_object_set_new(truth_keys, k, json_true());
        json_t *inc = json_object_get(t, "in_capture");
        if (inc && !json_is_true(inc)) {
            json_decref(t);
            continue;
        }
        const char *kind = sget(t, "kind");
        const char *id = strchr(k, '/') + 1;
        json_t *got = json_object_get(by_key, k);
        size_t n = got ? json_array_size(got) : 0;
        bool lossy = false;
        size_t ai;
        json_t *av;
        json_array_foreach(affected, ai, av) if (json_string_value(av) &&
                                                 !strcmp(json_string_value(av), id)) lossy = true;
        checked++;
        if (lossy) {
            CHECK(n <= 1, "%s %s: lossy op reported %zu times", name, k, n);
            json_decref(t);
            continue;
        }
        CHECK(n == 1, "%s %s: expected once, got %zu", name, k, n);
        if (n != 1) {
            json_decref(t);
            continue;
        }
        json_t *o = json_array_get(got, 0);
        CHECK(same_str(o, "topic", t, "topic"), "%s %s: topic %s != %s", name, k, sget(o, "topic"),
              sget(t, "topic"));
        if (strcmp(kind, "notification")) {
            CHECK(same_str(o, "server", t, "server"), "%s %s: server %s != %s", name, k,
                  sget(o, "server"), sget(t, "server"));
            CHECK(same_str(o, "method", t, "method"), "%s %s: method", name, k);
            CHECK(same_str(o, "namespace", t, "namespace"), "%s %s: namespace %s != %s", name, k,
                  sget(o, "namespace"), sget(t, "namespace"));
            CHECK(same_str(o, "version", t, "version"), "%s %s: version", name, k);
        } else {
            CHECK(same_str(o, "event_type", t, "event_type"), "%s %s: event_type", name, k);
        }
        const char *outcome = sget(t, "outcome");
        const char *want = !strcmp(outcome, "remote_error")    ? "error"
                           : !strcmp(outcome, "timeout")       ? "timeout"
                           : !strcmp(outcome, "undeliverable") ? "unroutable"
                                                               : "ok";
        CHECK(!strcmp(sget(o, "status"), want), "%s %s: status %s != %s", name, k,
              sget(o, "status"), want);
        if (!strcmp(outcome, "remote_error")) {
            json_t *e = json_object_get(o, "error");
            CHECK(e && same_str(e, "class", t, "remote_exc_type"), "%s %s: error class %s != %s",
                  name, k, e ? sget(e, "class") : "(none)", sget(t, "remote_exc_type"));
        }
        if (!strcmp(kind, "call")) {
            bool late = json_object_get(t, "t_late_reply") != NULL;
            CHECK(json_is_true(json_object_get(o, "late_reply")) == late, "%s %s: late_reply", name,
                  k);
        }
        if (!strcmp(outcome, "result") || !strcmp(outcome, "remote_error")) {
            double window = (json_real_value(json_object_get(t, "t_end")) -
                             json_real_value(json_object_get(t, "t_start"))) *
                            1000.0;
            json_t *lat = json_object_get(o, "latency_ms");
            CHECK(json_is_number(lat) && json_number_value(lat) >= 0 &&
                      json_number_value(lat) <= window + 0.001,
                  "%s %s: latency %f outside [0, %.3f] (%s→%s)", name, k,
                  json_is_number(lat) ? json_number_value(lat) : -1.0, window,
                  sget(o, "latency_from"), sget(o, "latency_to"));
        }
        json_decref(t);
    }
    free(line);
    fclose(f);
    const char *key;
    json_t *v;
    json_object_foreach(by_key, key, v)
    {
        CHECK(json_object_get(truth_keys, key) != NULL,
              "%s: record for an op that did not happen: %s", name, key);
    }
    CHECK(!r.token_leak, "%s: the fake token leaked into a record", name);
    struct corr_stats st;
    corr_get_stats(r.corr, &st);
    printf("  %-14s %3d ops checked, %4zu records, %3d failures; calls %llu casts %llu fanouts "
           "%llu notif %llu replies %llu orphans %llu late %llu timeouts %llu malformed %llu "
           "not_oslo %llu trunc %llu dup %llu late_legs %llu\n",
           name, checked, json_array_size(r.records), failures - before,
           (unsigned long long)st.calls, (unsigned long long)st.casts,
           (unsigned long long)st.fanouts, (unsigned long long)st.notifications,
           (unsigned long long)st.replies, (unsigned long long)st.orphan_replies,
           (unsigned long long)st.late_replies, (unsigned long long)st.timeouts,
           (unsigned long long)st.malformed_json, (unsigned long long)st.not_oslo,
           (unsigned long long)st.truncated_bodies, (unsigned long long)st.duplicates,
           (unsigned long long)st.late_legs);
    assert_int_equal(st.pending, 0);
    json_decref(truth_keys);
    json_decref(by_key);
    json_decref(meta);
    json_decref(r.records);
    stats_free(r.stats);
    corr_free(r.corr);
}

static void run_all(bool bodies)
{
    DIR *dir = opendir(pcap_test_dir());
    if (!dir)
        skip();
    struct dirent *de;
    int n = 0;
    failures = 0;
    while ((de = readdir(dir))) {
        const char *dot = strchr(de->d_name, '.');
        if (!dot || (strcmp(dot, ".pcap") && strcmp(dot, ".pcapng")))
            continue;
        char name[256], pcap[4096], truth[4096];
        snprintf(name, sizeof name, "%.*s", (int)(dot - de->d_name), de->d_name);
        snprintf(pcap, sizeof pcap, "%s/%s", pcap_test_dir(), de->d_name);
        snprintf(truth, sizeof truth, "%s/%s.truth.jsonl", pcap_test_dir(), name);
        FILE *f = fopen(truth, "r");
        if (!f)
            continue;
        fclose(f);
        if (is_tls_capture(name))
            continue; /* encrypted: test_tls.c and e2e/test_tls.py check those */
        check_capture(name, pcap, truth, bodies);
        n++;
    }
    closedir(dir);
    if (!n)
        skip();
    assert_int_equal(failures, 0);
}

static void test_truth(void **state)
{
    (void)state;
    run_all(false);
}

/* With --args: bodies decoded, redacted, and the records still right. */
static void test_truth_with_bodies(void **state)
{
    (void)state;
    run_all(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truth),
        cmocka_unit_test(test_truth_with_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

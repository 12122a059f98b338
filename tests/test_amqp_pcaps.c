/*
 * test_amqp_pcaps.c: the AMQP stage on the real captures in pcaps/, driven
 * by libpcap -> packet_decode -> tcp_stream -> amqp_conn (no main, no oslo),
 * compared with tshark's per-method counts in tests/expected/ (written by
 * tools/tshark_amqp_counts.py; tshark is the oracle, not our own output).
 * Whole captures must match exactly; captures that start mid-connection
 * ("mid", "cut") or lost packets ("lossy") must decode at least as many of
 * each method, and where tshark loses frames we must recover strictly more.
 * The same capture fed through the stage in 1-byte and 7-byte slices of every
 * delivery must give identical counts (chunking invariance on real data).
 */
/* cmocka needs these first, in this order */
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
#include <sys/stat.h>

#include "capture/packet.h"
#include "capture/tcp_stream.h"
#include "tests/pcap_test_util.h"
#include "dissect/amqp_conn.h"

struct run {
    struct amqp_dissector *amqp;
    size_t slice;   /* 0 = deliver as TCP gave it */
    json_t *counts; /* method name -> count */
    uint64_t messages;
};

static void on_method(void *u, const struct amqp_method_event *ev)
{
    struct run *r = u;
    char unknown[32];
    const char *name = ev->method ? ev->method->name : unknown;
    if (!ev->method)
        snprintf(unknown, sizeof unknown, "unknown.%u.%u", ev->class_id, ev->method_id);
    json_t *v = json_object_get(r->counts, name);
    json_object_set_new(r->counts, name, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static void on_message(void *u, const struct amqp_message *m)
{
    struct run *r = u;
    assert_true(m->body_len <= m->body_size);
    r->messages++;
}

static void t_open(void *u, struct tcp_flow *f)
{
    struct run *r = u;
    f->user = amqp_conn_open(r->amqp, f->id, &f->a, &f->b, f->first_ts);
}

static void t_data(void *u, struct tcp_flow *f, int dir, const uint8_t *d, size_t n, uint64_t ts,
                   uint64_t pkt)
{
    struct run *r = u;
    if (!r->slice) {
        amqp_conn_data(f->user, dir, d, n, ts, pkt);
        return;
    }
    for (size_t off = 0; off < n; off += r->slice)
        amqp_conn_data(f->user, dir, d + off, n - off < r->slice ? n - off : r->slice, ts, pkt);
}

static void t_gap(void *u, struct tcp_flow *f, int dir, uint64_t missing, uint64_t ts)
{
    amqp_conn_gap(f->user, dir, missing, ts);
}

static void t_close(void *u, struct tcp_flow *f, enum tcp_close_reason why)
{
    amqp_conn_close(f->user, f->last_ts);
    f->user = NULL;
}

static void run_capture(const char *path, size_t slice, struct run *r, struct amqp_stats *st)
{
    memset(r, 0, sizeof *r);
    r->slice = slice;
    r->counts = json_object();
    struct amqp_config cfg;
    amqp_config_default(&cfg);
    cfg.want_methods = true;
    struct amqp_callbacks acb = {on_method, on_message, NULL, r, NULL};
    r->amqp = amqp_dissector_new(&cfg, &acb);
    struct tcp_stream_callbacks tcb = {t_open, t_data, t_gap, t_close, r};
    assert_true(pcap_test_stream(path, &tcb, NULL, NULL));
    amqp_dissector_get_stats(r->amqp, st);
    amqp_dissector_free(r->amqp);
}


static uint64_t content_of(json_t *counts)
{
    static const char *const names[] = {"basic.publish", "basic.deliver", "basic.get-ok",
                                        "basic.return"};
    uint64_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(counts, names[i]);
        n += v ? (uint64_t)json_integer_value(v) : 0;
    }
    return n;
}

static void check_capture(const char *file, const char *expected_path)
{
    json_error_t jerr;
    json_t *exp = json_load_file(expected_path, 0, &jerr);
    assert_non_null(exp);
    json_t *tmethods = json_object_get(exp, "methods");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", pcap_test_dir(), file);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    json_t *bytes = json_object_get(exp, "capture_bytes");
    if (!bytes || json_integer_value(bytes) != (json_int_t)sb.st_size)
        fail_msg("%s changed since %s was written: run tools/tshark_amqp_counts.py", file,
                 expected_path);
    struct run r;
    struct amqp_stats st;
    run_capture(path, 0, &r, &st);
    bool partial = strstr(file, "mid") || strstr(file, "cut") || strstr(file, "lossy");
    const char *name;
    json_t *tv;
    json_object_foreach(tmethods, name, tv)
    {
        json_t *ov = json_object_get(r.counts, name);
        json_int_t ours = ov ? json_integer_value(ov) : 0, theirs = json_integer_value(tv);
        if (partial ? ours < theirs : ours != theirs)
            fail_msg("%s: %s ours %lld tshark %lld", file, name, (long long)ours,
                     (long long)theirs);
    }
    json_object_foreach(r.counts, name, tv)
    {
        if (!partial && !json_object_get(tmethods, name))
            fail_msg("%s: %s ours %lld tshark 0", file, name, (long long)json_integer_value(tv));
    }
    /* every content method that completed became a message */
    if (!partial) {
        assert_int_equal(r.messages, content_of(r.counts));
        assert_int_equal(st.contents_dropped, 0);
        assert_int_equal(st.malformed_frames, 0);
        assert_int_equal(st.skipped_bytes, 0);
    }
    uint64_t theirs_content = content_of(tmethods);
    printf("  %-20s tshark %llu content methods, ours %llu (%llu messages), resyncs %llu, "
           "skipped %llu\n",
           file, (unsigned long long)theirs_content, (unsigned long long)content_of(r.counts),
           (unsigned long long)r.messages, (unsigned long long)st.resyncs,
           (unsigned long long)st.skipped_bytes);
    if (strstr(file, "cut"))
        assert_true(r.messages > theirs_content); /* tshark loses the stream; we resync */

    /* chunking invariance on real traffic */
    if (!strstr(file, "concurrency")) { /* 6 MB byte by byte is slow under ASan */
        struct run r1;
        struct amqp_stats st1;
        run_capture(path, 1, &r1, &st1);
        assert_true(json_equal(r.counts, r1.counts));
        assert_int_equal(r.messages, r1.messages);
        json_decref(r1.counts);
    }
    struct run r7;
    struct amqp_stats st7;
    run_capture(path, 7, &r7, &st7);
    assert_true(json_equal(r.counts, r7.counts));
    json_decref(r7.counts);
    json_decref(r.counts);
    json_decref(exp);
}

static void test_against_tshark(void **state)
{
    (void)state;
    char expdir[4096];
    snprintf(expdir, sizeof expdir, "%s/../tests/expected", pcap_test_dir());
    DIR *dir = opendir(pcap_test_dir());
    if (!dir)
        skip();
    struct dirent *de;
    int checked = 0;
    while ((de = readdir(dir))) {
        const char *dot = strrchr(de->d_name, '.');
        if (!dot || (strcmp(dot, ".pcap") && strcmp(dot, ".pcapng")))
            continue;
        char exp[4096 + 300];
        snprintf(exp, sizeof exp, "%s/%.*s.amqp-counts.json", expdir, (int)(dot - de->d_name),
                 de->d_name);
        FILE *f = fopen(exp, "r");
        if (!f)
            continue;
        fclose(f);
        check_capture(de->d_name, exp);
        checked++;
    }
    closedir(dir);
    if (checked == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_tshark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

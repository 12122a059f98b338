/*
 * test_pcap_source.c: pcap_source on capture files written by the test.
 *
 * Files are made in a temporary directory with libpcap's own writer (or
 * byte by byte where libpcap would refuse to write them: pcapng, a record
 * claiming 4 GB), then read back: merge order across files, ns timestamps,
 * truncated and damaged files, files that are not captures, unsupported
 * link types, BPF, stdin, progress counters, break, and a short live
 * capture on the loopback interface when the process may capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include "capture/pcap_source.h"

static char tmpdir[64];

static int setup(void **state)
{
    strcpy(tmpdir, "/tmp/oslotrace-capture-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

struct rec {
    uint64_t ts_ns;
    const char *data;
};

static void write_pcap(const char *path, int dlt, int precision, const struct rec *recs, size_t n)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, (u_int)precision);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    uint64_t div = precision == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(recs[i].ts_ns / 1000000000ull);
        h.ts.tv_usec = (suseconds_t)(recs[i].ts_ns % 1000000000ull / div);
        h.caplen = h.len = (bpf_u_int32)strlen(recs[i].data);
        pcap_dump((u_char *)d, &h, (const u_char *)recs[i].data);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (uint64_t)sb.st_size;
}

static struct pcap_source *open_files(const char *const *files, size_t n, const char *bpf,
                                      char *err, size_t errlen)
{
    struct pcap_source_config cfg = {.files = files, .nfiles = n, .bpf = bpf};
    return pcap_source_open(&cfg, err, errlen);
}

static void expect_packet(struct pcap_source *src, uint64_t index, uint64_t ts, const char *data)
{
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_PACKET);
    assert_int_equal(p.index, index);
    assert_int_equal(p.ts_ns, ts);
    assert_int_equal(p.caplen, strlen(data));
    assert_int_equal(p.wirelen, strlen(data));
    assert_memory_equal(p.data, data, strlen(data));
}

#define T0 1700000000000000000ull

static void test_merge_two_files(void **state)
{
    const struct rec a[] = {{T0 + 10, "A-first"}, {T0 + 30, "A-tie"}, {T0 + 50, "A-last"}};
    const struct rec b[] = {{T0 + 20, "B-first"}, {T0 + 30, "B-tie"}, {T0 + 60, "B-last"}};
    const char *fa = tmp("a.pcap"), *fb = tmp("b.pcap");
    write_pcap(fa, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, a, 3);
    write_pcap(fb, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, b, 3);
    const char *files[] = {fa, fb};
    char err[256];
    struct pcap_source *src = open_files(files, 2, NULL, err, sizeof err);
    assert_non_null(src);
    assert_false(pcap_source_is_live(src));
    assert_int_equal(pcap_source_fd(src), -1);
    assert_int_equal(pcap_source_linktype(src), DLT_EN10MB);
    assert_int_equal(pcap_source_snaplen(src), 65535);
    struct pcap_source_stats st;
    pcap_source_get_stats(src, &st);
    assert_int_equal(st.bytes_total, file_size(fa) + file_size(fb));

    expect_packet(src, 1, T0 + 10, "A-first");
    /* Each packet's data stays valid while the merge reads the other file. */
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_PACKET);
    assert_memory_equal(p.data, "B-first", 7);
    assert_int_equal(p.linktype, DLT_EN10MB);
    expect_packet(src, 3, T0 + 30, "A-tie"); /* equal times: the order the files were given */
    expect_packet(src, 4, T0 + 30, "B-tie");
    pcap_source_get_stats(src, &st);
    assert_true(st.bytes_read > 0 && st.bytes_read <= st.bytes_total);
    expect_packet(src, 5, T0 + 50, "A-last");
    expect_packet(src, 6, T0 + 60, "B-last");
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_END);
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_END);
    pcap_source_get_stats(src, &st);
    assert_int_equal(st.packets, 6);
    assert_int_equal(st.bytes_read, st.bytes_total);
    assert_int_equal(st.bad_records, 0);
    pcap_source_close(src);
}

static void test_microsecond_file(void **state)
{
    const struct rec r[] = {{T0 + 2000, "micro"}};
    const char *f = tmp("micro.pcap");
    write_pcap(f, DLT_RAW, PCAP_TSTAMP_PRECISION_MICRO, r, 1);
    char err[256];
    struct pcap_source *src = open_files(&f, 1, NULL, err, sizeof err);
    assert_non_null(src);
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_PACKET);
    assert_int_equal(p.ts_ns, T0 + 2000);
    assert_int_equal(p.linktype, DLT_RAW);
    pcap_source_close(src);
}

static void truncate_by(const char *path, off_t cut)
{
    assert_int_equal(truncate(path, (off_t)file_size(path) - cut), 0);
}

static void test_truncated_file(void **state)
{
    const struct rec r[] = {{T0 + 1, "one......."}, {T0 + 2, "two......."}, {T0 + 3, "three....."}};
    const char *f = tmp("trunc.pcap");
    write_pcap(f, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, r, 3);
    truncate_by(f, 4); /* inside the last record's data */
    char err[256], want[300];
    struct pcap_source *src = open_files(&f, 1, NULL, err, sizeof err);
    assert_non_null(src);
    expect_packet(src, 1, T0 + 1, "one.......");
    expect_packet(src, 2, T0 + 2, "two.......");
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_ERROR);
    snprintf(want, sizeof want, "%s: truncated capture after packet 2", f);
    assert_string_equal(pcap_source_error(src), want);
    pcap_source_close(src);

    /* Cut inside a record header; merged with an intact file that is read to its end. */
    const char *g = tmp("trunc2.pcap"), *ok = tmp("ok.pcap");
    write_pcap(g, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, r, 3);
    truncate_by(g, 10 + 16 - 5);
    const struct rec later[] = {{T0 + 100, "later"}};
    write_pcap(ok, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, later, 1);
    const char *files[] = {g, ok};
    src = open_files(files, 2, NULL, err, sizeof err);
    assert_non_null(src);
    expect_packet(src, 1, T0 + 1, "one.......");
    expect_packet(src, 2, T0 + 2, "two.......");
    expect_packet(src, 3, T0 + 100, "later");
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_ERROR);
    snprintf(want, sizeof want, "%s: truncated capture after packet 2", g);
    assert_string_equal(pcap_source_error(src), want);
    struct pcap_source_stats st;
    pcap_source_get_stats(src, &st);
    assert_int_equal(st.bad_records, 1);
    assert_int_equal(st.packets, 3);
    pcap_source_close(src);
}

static void put_le32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    assert_int_equal(fwrite(b, 1, 4, f), 4);
}

static void put_le16(FILE *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    assert_int_equal(fwrite(b, 1, 2, f), 2);
}

/* One good record, then one whose header claims 4 GB. */
static void test_record_claiming_4gb(void **state)
{
    const char *f = tmp("huge.pcap");
    FILE *o = fopen(f, "wb");
    assert_non_null(o);
    put_le32(o, 0xa1b2c3d4);
    put_le16(o, 2);
    put_le16(o, 4);
    put_le32(o, 0);
    put_le32(o, 0);
    put_le32(o, 65535);
    put_le32(o, 1);
    put_le32(o, 1700000000);
    put_le32(o, 5);
    put_le32(o, 4);
    put_le32(o, 4);
    fwrite("good", 1, 4, o);
    put_le32(o, 1700000001);
    put_le32(o, 0);
    put_le32(o, 0xffffffffu);
    put_le32(o, 0xffffffffu);
    fwrite("evil", 1, 4, o);
    fclose(o);
    char err[256];
    struct pcap_source *src = open_files(&f, 1, NULL, err, sizeof err);
    assert_non_null(src);
    expect_packet(src, 1, 1700000000000005000ull, "good");
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_ERROR);
    const char *msg = pcap_source_error(src);
    assert_non_null(strstr(msg, f));
    assert_non_null(strstr(msg, "after packet 1"));
    assert_null(strchr(msg, '\n'));
    struct pcap_source_stats st;
    pcap_source_get_stats(src, &st);
    assert_int_equal(st.bad_records, 1);
    pcap_source_close(src);
}

static void test_not_a_capture(void **state)
{
    const char *f = tmp("notes.txt");
    FILE *o = fopen(f, "w");
    assert_non_null(o);
    fputs("this is not a capture file, just some text that is long enough\n", o);
    fclose(o);
    char err[256];
    assert_null(open_files(&f, 1, NULL, err, sizeof err));
    assert_int_equal(strncmp(err, f, strlen(f)), 0);
    assert_non_null(strstr(err, "not a pcap or pcapng capture"));

    const char *missing = tmp("does-not-exist.pcap");
    assert_null(open_files(&missing, 1, NULL, err, sizeof err));
    assert_int_equal(strncmp(err, missing, strlen(missing)), 0);

    /* A good file first does not hide the bad second one. */
    const struct rec r[] = {{T0, "x"}};
    const char *good = tmp("good.pcap");
    write_pcap(good, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, r, 1);
    const char *files[] = {good, f};
    assert_null(open_files(files, 2, NULL, err, sizeof err));
    assert_int_equal(strncmp(err, f, strlen(f)), 0);
}

static void test_unsupported_link_type(void **state)
{
    const struct rec r[] = {{T0, "wifi"}};
    const char *f = tmp("wifi.pcap");
    write_pcap(f, DLT_IEEE802_11, PCAP_TSTAMP_PRECISION_MICRO, r, 1);
    char err[256], want[300];
    assert_null(open_files(&f, 1, NULL, err, sizeof err));
    snprintf(want, sizeof want, "%s: unsupported link type IEEE802_11 (%d)", f, DLT_IEEE802_11);
    assert_string_equal(err, want);
}

/* pcapng with if_tsresol = 9: libpcap's writer cannot make one, so bytes. */
static void test_pcapng_nanoseconds(void **state)
{
    const char *f = tmp("ns.pcapng");
    FILE *o = fopen(f, "wb");
    assert_non_null(o);
    put_le32(o, 0x0a0d0d0a); /* section header block */
    put_le32(o, 28);
    put_le32(o, 0x1a2b3c4d);
    put_le16(o, 1);
    put_le16(o, 0);
    put_le32(o, 0xffffffffu);
    put_le32(o, 0xffffffffu);
    put_le32(o, 28);
    put_le32(o, 1); /* interface description block */
    put_le32(o, 32);
    put_le16(o, 101); /* LINKTYPE_RAW */
    put_le16(o, 0);
    put_le32(o, 65535);
    put_le16(o, 9); /* if_tsresol */
    put_le16(o, 1);
    fwrite("\x09\0\0\0", 1, 4, o);
    put_le32(o, 0); /* opt_endofopt */
    put_le32(o, 32);
    const uint64_t ts = T0 + 123456789;
    put_le32(o, 6); /* enhanced packet block */
    put_le32(o, 32 + 8);
    put_le32(o, 0);
    put_le32(o, (uint32_t)(ts >> 32));
    put_le32(o, (uint32_t)ts);
    put_le32(o, 6);
    put_le32(o, 6);
    fwrite("pcapng\0\0", 1, 8, o);
    put_le32(o, 32 + 8);
    fclose(o);
    char err[256];
    struct pcap_source *src = open_files(&f, 1, NULL, err, sizeof err);
    assert_non_null(src);
    expect_packet(src, 1, ts, "pcapng");
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_END);
    pcap_source_close(src);
}

/* Ethernet + IPv4 + TCP header to the given port, 54 bytes. */
static void tcp_frame(char *b, uint16_t dport)
{
    static const uint8_t tmpl[54] = {
        0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00,                     /* Ethernet */
        0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, /* IPv4 */
        0x9c, 0x40, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0}; /* TCP */
    memcpy(b, tmpl, sizeof tmpl);
    b[36] = (char)(dport >> 8);
    b[37] = (char)dport;
}

static void write_frames(const char *path)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                        PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    static const uint16_t ports[] = {80, 5672, 443};
    for (int i = 0; i < 3; i++) {
        char frame[54];
        tcp_frame(frame, ports[i]);
        struct pcap_pkthdr h = {.ts = {.tv_sec = 1700000000, .tv_usec = i}, .caplen = 54,
                                .len = 54};
        pcap_dump((u_char *)d, &h, (const u_char *)frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void test_offline_bpf(void **state)
{
    const char *f = tmp("frames.pcap");
    write_frames(f);
    char err[256];
    struct pcap_source *src = open_files(&f, 1, "tcp port 5672", err, sizeof err);
    assert_non_null(src);
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_PACKET);
    assert_int_equal(p.index, 1);
    assert_int_equal(p.ts_ns, 1700000000000000001ull);
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_END);
    pcap_source_close(src);

    assert_null(open_files(&f, 1, "tcp port banana", err, sizeof err));
    assert_non_null(strstr(err, "bad filter"));
}

static void test_break(void **state)
{
    const char *f = tmp("frames2.pcap");
    write_frames(f);
    char err[256];
    struct pcap_source *src = open_files(&f, 1, NULL, err, sizeof err);
    assert_non_null(src);
    struct packet p;
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_PACKET);
    pcap_source_break(src);
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_END);
    pcap_source_close(src);
}

static void test_stdin(void **state)
{
    const char *f = tmp("stdin.pcap");
    write_frames(f);
    assert_non_null(freopen(f, "rb", stdin));
    const char *dash = "-";
    char err[256];
    struct pcap_source *src = open_files(&dash, 1, NULL, err, sizeof err);
    assert_non_null(src);
    struct packet p;
    int n = 0;
    while (pcap_source_next(src, &p) == PCAP_SOURCE_PACKET)
        n++;
    assert_int_equal(n, 3);
    struct pcap_source_stats st;
    pcap_source_get_stats(src, &st);
    assert_int_equal(st.bytes_total, 0); /* unknown for a stream */
    pcap_source_close(src);

    const char *twice[] = {"-", "-"};
    assert_null(open_files(twice, 2, NULL, err, sizeof err));
    assert_non_null(strstr(err, "standard input"));
    struct pcap_source_config none = {.nfiles = 0};
    assert_null(pcap_source_open(&none, err, sizeof err));
    assert_true(err[0] != '\0');
}

/* A live capture on lo: needs CAP_NET_RAW, skipped without it. */
static void test_live_loopback(void **state)
{
    char err[256];
    struct pcap_source_config bad = {.iface = "nosuchif0", .timeout_ms = 20};
    assert_null(pcap_source_open(&bad, err, sizeof err));
    assert_int_equal(strncmp(err, "nosuchif0: ", 11), 0);

    struct pcap_source_config cfg = {.iface = "lo", .bpf = "udp port 45999", .timeout_ms = 20,
                                     .buffer_kib = 1024};
    struct pcap_source *src = pcap_source_open(&cfg, err, sizeof err);
    if (!src) {
        print_message("live capture unavailable (%s): skipped\n", err);
        skip();
    }
    assert_true(pcap_source_is_live(src));
    assert_true(pcap_source_fd(src) >= 0);
    /* Packets that reached the socket before the filter was set may still come
     * first (Linux): drain them, then nothing matches until we send. */
    struct packet p;
    enum pcap_source_status st = PCAP_SOURCE_PACKET;
    uint64_t seen = 0;
    for (int i = 0; i < 10000 && st == PCAP_SOURCE_PACKET; i++, seen++)
        st = pcap_source_next(src, &p);
    assert_int_equal(st, PCAP_SOURCE_AGAIN);
    seen--;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(45999)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(s, "ping", 4, 0, (struct sockaddr *)&to, sizeof to), 4);
    close(s);
    st = PCAP_SOURCE_AGAIN;
    for (int i = 0; i < 200 && st == PCAP_SOURCE_AGAIN; i++)
        st = pcap_source_next(src, &p);
    assert_int_equal(st, PCAP_SOURCE_PACKET);
    assert_int_equal(p.index, seen + 1);
    assert_int_equal(p.linktype, DLT_EN10MB);
    assert_memory_equal(p.data + p.caplen - 4, "ping", 4);
    assert_true(p.ts_ns > T0);
    struct pcap_source_stats ps;
    pcap_source_get_stats(src, &ps);
    assert_int_equal(ps.packets, seen + 1);
    assert_true(ps.ps_recv >= 1);
    pcap_source_break(src);
    assert_int_equal(pcap_source_next(src, &p), PCAP_SOURCE_END);
    pcap_source_close(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_two_files),
        cmocka_unit_test(test_microsecond_file),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_record_claiming_4gb),
        cmocka_unit_test(test_not_a_capture),
        cmocka_unit_test(test_unsupported_link_type),
        cmocka_unit_test(test_pcapng_nanoseconds),
        cmocka_unit_test(test_offline_bpf),
        cmocka_unit_test(test_break),
        cmocka_unit_test(test_live_loopback),
        cmocka_unit_test(test_stdin), /* last: it replaces stdin */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

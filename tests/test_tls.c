/*
 * test_tls.c: the TLS stage's parts alone and together: the TLS 1.3 key
 * schedule against RFC 8448's vectors, the key log parser (every split of a
 * line, comments, bad lines, eviction, a file that grows and shrinks), the
 * record splitter and the handshake reassembler fed in every chunking, the
 * hello parsers on hand-made and truncated input, and the lab's TLS captures
 * through tcp_stream and tls_conn in chunks of 1, 7 and 4096 bytes (the same
 * plaintext each time), with right, wrong and no keys, and garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture/pcapng_dsb.h"
#include "capture/tls_conn.h"
#include "capture/tls_crypto.h"
#include "capture/tls_handshake.h"
#include "capture/tls_keylog.h"
#include "capture/tls_record.h"
#include "pcap_test_util.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* RFC 8448 section 3 (simple 1-RTT handshake), TLS_AES_128_GCM_SHA256. */
static void test_rfc8448_key_schedule(void **state)
{
    (void)state;
    const struct tls_suite *s = tls_suite_find(0x1301);
    assert_non_null(s);
    static const struct {
        const char *secret, *key, *iv;
    } v[] = {
        {"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
         "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
        {"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
         "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
    };
    for (size_t i = 0; i < 2; i++) {
        uint8_t secret[32], key[16], iv[12], want_key[16], want_iv[12];
        unhex(v[i].secret, secret, 32);
        unhex(v[i].key, want_key, 16);
        unhex(v[i].iv, want_iv, 12);
        assert_true(tls13_expand_label(s, secret, 32, "key", NULL, 0, key, 16));
        assert_true(tls13_expand_label(s, secret, 32, "iv", NULL, 0, iv, 12));
        assert_memory_equal(key, want_key, 16);
        assert_memory_equal(iv, want_iv, 12);
        struct tls_cipher_state cs = {0};
        assert_true(tls13_cipher_init(&cs, s, secret, 32));
        assert_memory_equal(cs.iv, want_iv, 12);
        tls_cipher_free(&cs);
    }
    /* KeyUpdate moves the secret on and changes it. */
    uint8_t a[32], b[32];
    unhex(v[1].secret, a, 32);
    memcpy(b, a, 32);
    assert_true(tls13_next_secret(s, b, 32));
    assert_memory_not_equal(a, b, 32);
    assert_null(tls_suite_find(0x0000));
    assert_null(tls_suite_find(0x1304)); /* TLS_AES_128_CCM_SHA256: not decrypted */
}

#define CR "0102030405060708091011121314151617181920212223242526272829303132"
#define SEC48                                                                                      \
    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677" \
    "8899"

static void test_keylog_lines(void **state)
{
    (void)state;
    const char *text = "# comment\r\n"
                       "\n"
                       "CLIENT_RANDOM " CR " " SEC48 "\r\n"
                       "SERVER_TRAFFIC_SECRET_0 " CR " " SEC48 "\n"
                       "EXPORTER_SECRET " CR " " SEC48 "\n"
                       "NOT_A_LABEL " CR " " SEC48 "\n"
                       "CLIENT_RANDOM 0102 " SEC48 "\n"
                       "CLIENT_RANDOM " CR " zz\n"
                       "CLIENT_RANDOM " CR "\n";
    size_t n = strlen(text);
    uint8_t cr[32], sec[48];
    unhex(CR, cr, 32);
    unhex(SEC48, sec, 48);
    /* Split at every position: the same result. */
    for (size_t cut = 0; cut <= n; cut++) {
        struct tls_keylog *kl = tls_keylog_new(8);
        tls_keylog_feed(kl, TLS_KEYLOG_MAX_FILES, text, cut);
        tls_keylog_feed(kl, TLS_KEYLOG_MAX_FILES, text + cut, n - cut);
        tls_keylog_feed_end(kl, TLS_KEYLOG_MAX_FILES);
        size_t len = 0;
        const uint8_t *m = tls_keylog_find(kl, cr, TLS_SECRET_MASTER, &len);
        assert_non_null(m);
        assert_int_equal(len, 48);
        assert_memory_equal(m, sec, 48);
        assert_non_null(tls_keylog_find(kl, cr, TLS_SECRET_SERVER_AP, &len));
        assert_null(tls_keylog_find(kl, cr, TLS_SECRET_CLIENT_AP, &len));
        struct tls_keylog_stats st;
        tls_keylog_get_stats(kl, &st);
        assert_int_equal(st.entries, 1);
        assert_int_equal(st.secrets, 2);
        assert_int_equal(st.ignored_lines, 1);
        assert_int_equal(st.bad_lines, 4);
        tls_keylog_free(kl);
    }
}

static void test_keylog_eviction(void **state)
{
    (void)state;
    struct tls_keylog *kl = tls_keylog_new(2);
    char line[256];
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "CLIENT_RANDOM %02x%s %s\n", i, CR + 2, SEC48);
        tls_keylog_feed(kl, 0, line, strlen(line));
    }
    struct tls_keylog_stats st;
    tls_keylog_get_stats(kl, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evicted, 3);
    uint8_t cr[32];
    unhex(CR, cr, 32);
    size_t len;
    for (int i = 0; i < 5; i++) {
        cr[0] = (uint8_t)i;
        if (i < 3)
            assert_null(tls_keylog_find(kl, cr, TLS_SECRET_MASTER, &len));
        else
            assert_non_null(tls_keylog_find(kl, cr, TLS_SECRET_MASTER, &len));
    }
    /* An overlong line is one bad line, not a crash. */
    char big[2000];
    memset(big, 'A', sizeof big);
    tls_keylog_feed(kl, 0, big, sizeof big);
    tls_keylog_feed(kl, 0, "\n", 1);
    tls_keylog_get_stats(kl, &st);
    assert_int_equal(st.bad_lines, 1);
    tls_keylog_free(kl);
}

static void test_keylog_file_grows(void **state)
{
    (void)state;
    char dir[] = "/tmp/oslotrace-test-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/keys.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("CLIENT_RANDOM " CR " ", f); /* half a line: not yet */
    fflush(f);
    struct tls_keylog *kl = tls_keylog_new(0);
    char err[256];
    assert_true(tls_keylog_add_file(kl, path, err, sizeof err));
    uint8_t cr[32];
    unhex(CR, cr, 32);
    size_t len;
    assert_null(tls_keylog_find(kl, cr, TLS_SECRET_MASTER, &len));
    assert_false(tls_keylog_poll(kl));
    fputs(SEC48 "\n", f);
    fflush(f);
    assert_true(tls_keylog_poll(kl));
    assert_non_null(tls_keylog_find(kl, cr, TLS_SECRET_MASTER, &len));
    fclose(f);
    /* Replaced by a shorter file: read again from its start. */
    f = fopen(path, "w");
    fputs("CLIENT_HANDSHAKE_TRAFFIC_SECRET " CR " 00112233\n", f);
    fclose(f);
    assert_true(tls_keylog_poll(kl));
    assert_non_null(tls_keylog_find(kl, cr, TLS_SECRET_CLIENT_HS, &len));
    assert_false(tls_keylog_add_file(kl, "/nonexistent/keys", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/keys"));
    tls_keylog_free(kl);
    unlink(path);
    rmdir(dir);
}

/* ---- record splitter ---- */

struct rec_log {
    size_t n;
    uint8_t type[64];
    size_t len[64];
    uint32_t sum[64];
};

static void on_rec(void *user, const struct tls_record *r)
{
    struct rec_log *l = user;
    if (l->n == 64)
        return;
    uint32_t s = 0;
    for (size_t i = 0; i < r->len; i++)
        s = s * 31 + r->payload[i];
    l->type[l->n] = r->type;
    l->len[l->n] = r->len;
    l->sum[l->n++] = s;
}

static size_t make_records(uint8_t *buf)
{
    static const size_t lens[] = {0, 1, 5, 300, TLS_RECORD_MAX_PAYLOAD, 17, 4};
    size_t n = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        buf[n++] = (uint8_t)(i % 2 ? TLS_CT_APPLICATION_DATA : TLS_CT_HANDSHAKE);
        buf[n++] = 3;
        buf[n++] = 3;
        buf[n++] = (uint8_t)(lens[i] >> 8);
        buf[n++] = (uint8_t)lens[i];
        for (size_t j = 0; j < lens[i]; j++)
            buf[n++] = (uint8_t)(j * 7 + i);
    }
    return n;
}

static void test_record_every_chunking(void **state)
{
    (void)state;
    static uint8_t buf[7 * 5 + 16384 + 2048 + 400];
    size_t n = make_records(buf);
    struct rec_log whole = {0};
    struct tls_record_splitter s = {0};
    assert_true(tls_record_feed(&s, buf, n, 1, 1, on_rec, &whole));
    tls_record_free(&s);
    assert_int_equal(whole.n, 7);
    static const size_t chunks[] = {1, 2, 3, 4, 5, 6, 7, 13, 64, 1000, 4096, 16389};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        struct rec_log got = {0};
        struct tls_record_splitter t = {0};
        uint64_t pkt = 0;
        for (size_t off = 0; off < n; off += chunks[c]) {
            size_t k = n - off < chunks[c] ? n - off : chunks[c];
            assert_true(tls_record_feed(&t, buf + off, k, 1, ++pkt, on_rec, &got));
        }
        tls_record_free(&t);
        assert_int_equal(got.n, whole.n);
        assert_memory_equal(got.len, whole.len, sizeof got.len);
        assert_memory_equal(got.sum, whole.sum, sizeof got.sum);
        assert_memory_equal(got.type, whole.type, sizeof got.type);
    }
    /* Not TLS: refused, and stays refused. */
    struct tls_record_splitter bad = {0};
    struct rec_log l = {0};
    assert_false(tls_record_feed(&bad, (const uint8_t *)"AMQP\0\0\x09\x01", 8, 1, 1, on_rec, &l));
    assert_false(tls_record_feed(&bad, buf, n, 1, 1, on_rec, &l));
    assert_int_equal(l.n, 0);
    uint8_t toolong[5] = {23, 3, 3, 0xff, 0xff};
    assert_false(tls_record_header_ok(toolong));
    tls_record_free(&bad);
}

/* ---- handshake ---- */

static size_t client_hello(uint8_t *b, bool tls13)
{
    size_t n = 0;
    b[n++] = TLS_HS_CLIENT_HELLO;
    size_t lenpos = n;
    n += 3;
    b[n++] = 3, b[n++] = 3;
    for (int i = 0; i < 32; i++)
        b[n++] = (uint8_t)(0xa0 + i);
    b[n++] = 0;             /* session id */
    b[n++] = 0, b[n++] = 4; /* 2 suites */
    b[n++] = 0x13, b[n++] = 1, b[n++] = 0xc0, b[n++] = 0x2f;
    b[n++] = 1, b[n++] = 0;                               /* compression */
    b[n++] = 0, b[n++] = tls13 ? 11 : 4;                  /* extensions */
    b[n++] = 0xff, b[n++] = 0x01, b[n++] = 0, b[n++] = 0; /* renegotiation_info, empty */
    if (tls13) {
        b[n++] = 0, b[n++] = 43, b[n++] = 0, b[n++] = 3, b[n++] = 2, b[n++] = 3, b[n++] = 4;
    }
    size_t body = n - 4;
    b[lenpos] = 0, b[lenpos + 1] = (uint8_t)(body >> 8), b[lenpos + 2] = (uint8_t)body;
    return n;
}

static size_t server_hello(uint8_t *b, bool hrr)
{
    static const uint8_t hrr_random[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
                                           0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
                                           0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
                                           0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
    size_t n = 0;
    b[n++] = TLS_HS_SERVER_HELLO;
    n += 3;
    b[n++] = 3, b[n++] = 3;
    for (int i = 0; i < 32; i++)
        b[n++] = hrr ? hrr_random[i] : (uint8_t)(0xb0 + i);
    b[n++] = 0;
    b[n++] = 0x13, b[n++] = 0x02;
    b[n++] = 0;
    b[n++] = 0, b[n++] = 6;
    b[n++] = 0, b[n++] = 43, b[n++] = 0, b[n++] = 2, b[n++] = 3, b[n++] = 4;
    b[1] = 0, b[2] = 0, b[3] = (uint8_t)(n - 4);
    return n;
}

struct hs_log {
    int n;
    uint8_t types[8];
    struct tls_client_hello ch;
    struct tls_server_hello sh;
    bool ok;
};

static void on_hs(void *user, uint8_t type, const uint8_t *body, size_t len)
{
    struct hs_log *l = user;
    if (l->n < 8)
        l->types[l->n++] = type;
    if (type == TLS_HS_CLIENT_HELLO)
        l->ok = body && tls_parse_client_hello(body, len, &l->ch);
    if (type == TLS_HS_SERVER_HELLO)
        l->ok = body && tls_parse_server_hello(body, len, &l->sh);
}

static void test_hellos(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t n = client_hello(b, true);
    /* Every chunking of two messages: same messages. */
    uint8_t two[1024];
    memcpy(two, b, n);
    size_t m = server_hello(two + n, false);
    for (size_t chunk = 1; chunk <= n + m; chunk++) {
        struct tls_hs_reasm h = {0};
        struct hs_log l = {0};
        for (size_t off = 0; off < n + m; off += chunk)
            assert_true(
                tls_hs_feed(&h, two + off, n + m - off < chunk ? n + m - off : chunk, on_hs, &l));
        tls_hs_free(&h);
        assert_int_equal(l.n, 2);
        assert_true(l.ok);
        assert_true(l.ch.offers_tls13);
        assert_int_equal(l.ch.random[0], 0xa0);
        assert_int_equal(l.ch.ncipher_suites, 2);
        assert_int_equal(l.sh.version, TLS_VERSION_13);
        assert_int_equal(l.sh.cipher_suite, 0x1302);
        assert_false(l.sh.hello_retry);
    }
    struct tls_server_hello sh;
    m = server_hello(b, true);
    assert_true(tls_parse_server_hello(b + 4, m - 4, &sh));
    assert_true(sh.hello_retry);
    /* Truncated at every length: refused, never read past the end. */
    n = client_hello(b, true);
    struct tls_client_hello ch;
    size_t no_ext = 2 + 32 + 1 + 2 + 4 + 2; /* a hello may end before its extensions */
    for (size_t k = 0; k < n - 4; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        memcpy(copy, b + 4, k);
        assert_int_equal(tls_parse_client_hello(copy, k, &ch), k == no_ext);
        assert_false(tls_parse_server_hello(copy, k < 38 ? k : 37, &sh));
        free(copy);
    }
    n = client_hello(b, false);
    assert_true(tls_parse_client_hello(b + 4, n - 4, &ch));
    assert_false(ch.offers_tls13);
}

/* ---- whole captures through tcp_stream and tls_conn ---- */

struct run {
    struct tls_decoder *d;
    size_t chunk;
    uint64_t hash[2];
    uint64_t bytes;
};

/* Each flow's plaintext is hashed on its own and summed into the run's at
 * close, so the order in which flows are delivered does not matter. */
struct flow_hash {
    struct run *r;
    uint64_t hash[2];
};

static void t_data(void *down, int dir, const uint8_t *data, size_t len, uint64_t ts, uint64_t pkt)
{
    struct flow_hash *f = down;
    (void)ts, (void)pkt;
    for (size_t i = 0; i < len; i++)
        f->hash[dir & 1] = (f->hash[dir & 1] ^ data[i]) * 1099511628211ull;
    f->r->bytes += len;
}

static void t_gap(void *down, int dir, uint64_t missing, uint64_t ts)
{
    (void)down, (void)dir, (void)missing, (void)ts;
}

static void f_open(void *user, struct tcp_flow *flow)
{
    struct run *r = user;
    struct flow_hash *f = calloc(1, sizeof *f);
    f->r = r;
    flow->user = tls_conn_open(r->d, f);
}

static void f_data(void *user, struct tcp_flow *flow, int dir, const uint8_t *data, size_t len,
                   uint64_t ts, uint64_t pkt)
{
    struct run *r = user;
    for (size_t off = 0; off < len; off += r->chunk)
        tls_conn_data(flow->user, dir, data + off, len - off < r->chunk ? len - off : r->chunk, ts,
                      pkt);
}

static void f_gap(void *user, struct tcp_flow *flow, int dir, uint64_t missing, uint64_t ts)
{
    (void)user;
    tls_conn_gap(flow->user, dir, missing, ts);
}

static void f_close(void *user, struct tcp_flow *flow, enum tcp_close_reason reason)
{
    (void)user, (void)reason;
    struct flow_hash *f = tls_conn_close(flow->user);
    f->r->hash[0] += f->hash[0];
    f->r->hash[1] += f->hash[1];
    free(f);
    flow->user = NULL;
}

static void on_dsb(void *user, uint32_t type, const uint8_t *data, size_t len)
{
    if (type == PCAPNG_DSB_TLS_KEYLOG) {
        tls_keylog_feed(user, TLS_KEYLOG_MAX_FILES, (const char *)data, len);
        tls_keylog_feed_end(user, TLS_KEYLOG_MAX_FILES);
    }
}

static struct tls_stats run_capture(const char *name, const char *keys, size_t chunk,
                                    struct run *out)
{
    char path[512], kpath[512];
    snprintf(path, sizeof path, "%s/%s", pcap_test_dir(), name);
    struct tls_config cfg;
    tls_config_default(&cfg);
    struct tls_callbacks cb = {t_data, t_gap};
    memset(out, 0, sizeof *out);
    out->d = tls_decoder_new(&cfg, &cb);
    out->chunk = chunk;
    char err[256];
    if (keys) {
        snprintf(kpath, sizeof kpath, "%s/%s", pcap_test_dir(), keys);
        assert_true(tls_keylog_add_file(tls_decoder_keylog(out->d), kpath, err, sizeof err));
    }
    pcapng_dsb_scan(path, on_dsb, tls_decoder_keylog(out->d), err, sizeof err);
    struct tcp_stream_callbacks tcb = {f_open, f_data, f_gap, f_close, out};
    assert_true(pcap_test_stream(path, &tcb, NULL, NULL));
    struct tls_stats st;
    tls_decoder_get_stats(out->d, &st);
    tls_decoder_free(out->d);
    return st;
}

static void test_captures_every_chunking(void **state)
{
    (void)state;
    static const struct {
        const char *pcap, *keys;
    } caps[] = {{"tls.pcap", "tls.keys"}, {"tls-dsb.pcapng", NULL}};
    for (size_t c = 0; c < 2; c++) {
        struct run first;
        struct tls_stats st0 = run_capture(caps[c].pcap, caps[c].keys, 1u << 20, &first);
        assert_true(st0.records_decrypted > 100);
        assert_int_equal(st0.records_undecrypted, 0);
        assert_int_equal(st0.tls12 + st0.tls13, st0.connections);
        assert_true(st0.tls12 > 0 && st0.tls13 > 0);
        assert_true(first.bytes > 10000);
        static const size_t chunks[] = {1, 7, 4096};
        for (size_t k = 0; k < 3; k++) {
            struct run r;
            struct tls_stats st = run_capture(caps[c].pcap, caps[c].keys, chunks[k], &r);
            assert_int_equal(st.records_decrypted, st0.records_decrypted);
            assert_int_equal(r.bytes, first.bytes);
            assert_memory_equal(r.hash, first.hash, sizeof r.hash);
        }
    }
}

static void test_capture_wrong_and_no_keys(void **state)
{
    (void)state;
    struct run r;
    struct tls_stats st = run_capture("tls.pcap", "tls.wrong.keys", 4096, &r);
    assert_int_equal(st.records_decrypted, 0);
    assert_int_equal(r.bytes, 0);
    assert_int_equal(st.decrypt_failures, 2 * st.connections);
    st = run_capture("tls.pcap", NULL, 4096, &r);
    assert_int_equal(st.records_decrypted, 0);
    assert_int_equal(st.conns_no_keys, st.connections);
    st = run_capture("tls-late.pcap", "tls-late.keys", 4096, &r);
    assert_true(st.mid_stream > 0);
}

/* Live: records wait for keys that reach the key log after the traffic. The
 * key log appears after the first 300 packets (handshakes and traffic held). */
static void test_capture_keys_arrive_later(void **state)
{
    (void)state;
    struct run first;
    struct tls_stats st0 = run_capture("tls.pcap", "tls.keys", 4096, &first);
    char path[512], kpath[512];
    snprintf(path, sizeof path, "%s/tls.pcap", pcap_test_dir());
    snprintf(kpath, sizeof kpath, "%s/tls.keys", pcap_test_dir());
    for (int small = 0; small < 2; small++) {
        struct tls_config cfg;
        tls_config_default(&cfg);
        cfg.hold_for_keys = true;
        if (small)
            cfg.max_held_bytes_total = 20000; /* too small: drops, counted */
        struct tls_callbacks cb = {t_data, t_gap};
        struct run r = {0};
        r.d = tls_decoder_new(&cfg, &cb);
        r.chunk = 4096;
        /* Feed every flow by hand, keeping the connections open. */
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(path, err);
        assert_non_null(p);
        struct tcp_stream_config tc;
        tcp_stream_config_default(&tc);
        struct tcp_stream_callbacks tcb = {f_open, f_data, f_gap, f_close, &r};
        struct tcp_stream *ts = tcp_stream_new(&tc, &tcb);
        struct pcap_pkthdr *h;
        const u_char *data;
        uint64_t index = 0;
        while (pcap_next_ex(p, &h, &data) == 1) {
            struct packet pkt = {0};
            pkt.ts_ns = 1;
            pkt.index = ++index;
            pkt.caplen = h->caplen;
            pkt.wirelen = h->len;
            pkt.linktype = pcap_datalink(p);
            pkt.data = data;
            struct tcp_segment seg;
            if (packet_decode(&pkt, &seg) == PACKET_TCP)
                tcp_stream_feed(ts, &seg);
            if (index == 300) { /* the key log appears now, mid-capture */
                struct tls_stats st;
                tls_decoder_get_stats(r.d, &st);
                assert_true(st.records_held > 0);
                assert_int_equal(r.bytes, 0);
                assert_true(tls_keylog_add_file(tls_decoder_keylog(r.d), kpath, err, sizeof err));
                tls_decoder_poll_keys(r.d);
            }
        }
        pcap_close(p);
        struct tls_stats st;
        tcp_stream_finish(ts);
        tcp_stream_free(ts);
        tls_decoder_get_stats(r.d, &st);
        if (!small) {
            assert_int_equal(st.records_decrypted, st0.records_decrypted);
            assert_int_equal(st.held_dropped, 0);
            assert_int_equal(r.bytes, first.bytes);
            assert_memory_equal(r.hash, first.hash, sizeof r.hash);
        } else {
            assert_true(st.held_dropped > 0);
            assert_true(st.records_decrypted < st0.records_decrypted);
        }
        assert_int_equal(st.held_bytes, 0);
        tls_decoder_free(r.d);
    }
}

static void test_garbage(void **state)
{
    (void)state;
    struct tls_config cfg;
    tls_config_default(&cfg);
    cfg.hold_for_keys = true;
    struct run r = {0};
    struct tls_callbacks cb = {t_data, t_gap};
    struct tls_decoder *d = tls_decoder_new(&cfg, &cb);
    uint64_t x = 88172645463325252ull;
    uint8_t buf[4096];
    for (int round = 0; round < 200; round++) {
        struct flow_hash fh = {&r, {0, 0}};
        struct tls_conn *c = tls_conn_open(d, &fh);
        /* A plausible start (a ClientHello record header), then noise. */
        uint8_t start[] = {22, 3, 1, 0, 200, 1};
        tls_conn_data(c, 0, start, sizeof start, 1, 1);
        for (int i = 0; i < 8; i++) {
            for (size_t j = 0; j < sizeof buf; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[j] = (uint8_t)x;
                if (x % 5 == 0)
                    buf[j] = (uint8_t)(20 + x % 5); /* record types now and then */
            }
            tls_conn_data(c, (int)(x & 1), buf, (size_t)(x % sizeof buf), 2, 2);
        }
        tls_conn_close(c);
    }
    tls_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8448_key_schedule),
        cmocka_unit_test(test_keylog_lines),
        cmocka_unit_test(test_keylog_eviction),
        cmocka_unit_test(test_keylog_file_grows),
        cmocka_unit_test(test_record_every_chunking),
        cmocka_unit_test(test_hellos),
        cmocka_unit_test(test_captures_every_chunking),
        cmocka_unit_test(test_capture_wrong_and_no_keys),
        cmocka_unit_test(test_capture_keys_arrive_later),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

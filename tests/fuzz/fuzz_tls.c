/*
 * fuzz_tls.c: libFuzzer target for the TLS stage: record splitter, handshake
 * reassembly and hello parsing, key log parsing, key installation and record
 * decryption, held records, fed the two directions of one TCP connection.
 *
 * Input: [flags u8][key log length be16][key log text], then records
 * [ctl u8][len be16][len bytes]: ctl bit 0 is the direction, bit 1 asks for a
 * gap on it before the bytes, bit 2 re-reads keys (as a live capture's poll).
 * Flags bit 0 holds records for keys (live mode) with small limits, so the
 * hold, drain and drop paths are reached. make_seeds.py writes the lab's
 * TLS captures with their key logs in this format (real handshakes, real
 * records, so the decryption paths are reached from the first run).
 */
#include <stdint.h>
#include <string.h>

#include "capture/tls_conn.h"
#include "capture/tls_keylog.h"
#include "common/rd.h"

struct harness {
    uint64_t sink;
};

static void on_data(void *down, int dir, const uint8_t *data, size_t len, uint64_t ts, uint64_t pkt)
{
    struct harness *h = down;
    (void)dir, (void)ts, (void)pkt;
    for (size_t i = 0; i < len; i++)
        h->sink += data[i];
}

static void on_gap(void *down, int dir, uint64_t missing, uint64_t ts)
{
    struct harness *h = down;
    (void)dir, (void)ts;
    h->sink += missing;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd r = rd_make(data, size);
    uint8_t flags = rd_u8(&r);
    uint16_t kl_len = rd_be16(&r);
    const uint8_t *kl = rd_bytes(&r, kl_len);
    if (!r.ok)
        return 0;
    struct tls_config cfg;
    tls_config_default(&cfg);
    cfg.max_keylog_entries = 8;
    if (flags & 1) {
        cfg.hold_for_keys = true;
        cfg.max_held_bytes_per_conn = 8192;
        cfg.max_held_bytes_total = 16384;
    }
    struct harness h = {0};
    struct tls_callbacks cb = {on_data, on_gap};
    struct tls_decoder *d = tls_decoder_new(&cfg, &cb);
    if (!d)
        return 0;
    struct tls_keylog *keys = tls_decoder_keylog(d);
    /* Live mode: the key log arrives after the traffic it unlocks. */
    if (!(flags & 1)) {
        tls_keylog_feed(keys, TLS_KEYLOG_MAX_FILES, (const char *)kl, kl_len);
        tls_keylog_feed_end(keys, TLS_KEYLOG_MAX_FILES);
    }
    struct tls_conn *c = tls_conn_open(d, &h);
    uint64_t pkt = 0;
    while (c && rd_left(&r) >= 3) {
        uint8_t ctl = rd_u8(&r);
        uint16_t len = rd_be16(&r);
        const uint8_t *p = rd_bytes(&r, len);
        if (!p)
            break;
        int dir = ctl & 1;
        if (ctl & 2)
            tls_conn_gap(c, dir, ctl >> 3, pkt);
        tls_conn_data(c, dir, p, len, pkt, pkt);
        pkt++;
        if (ctl & 4)
            tls_decoder_poll_keys(d);
    }
    if (flags & 1) {
        tls_keylog_feed(keys, TLS_KEYLOG_MAX_FILES, (const char *)kl, kl_len);
        tls_keylog_feed_end(keys, TLS_KEYLOG_MAX_FILES);
        tls_decoder_poll_keys(d);
    }
    tls_conn_close(c);
    tls_decoder_free(d);
    return 0;
}

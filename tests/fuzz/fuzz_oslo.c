/*
 * fuzz_oslo.c: libFuzzer target for the oslo stage — JSON scanning, the
 * envelope and body decoder, classification, inflate, redaction — and for
 * correlation, fed a short sequence of synthetic AMQP messages.
 *
 * Input: one config byte, then up to 64 records
 *   [kind u8][ts delta u8][exchange u8-len][routing key u8-len]
 *   [headers be16-len][expiration u8-len][body be16-len]
 * (lengths are cut to what is left). The kind byte picks publish/deliver/
 * get-ok/return and the direction; its bit 4 makes the harness zlib-compress
 * the body and announce it in the headers, so the inflate path sees valid
 * streams and not only noise. Operations that come out are rendered as
 * NDJSON and text and added to the statistics, as the sinks would.
 * Config bits: 0 bodies (--args), 1 --show-secrets, 2 a tiny pending table,
 * 3 a tiny inflate limit, 4 a 1-key statistics table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "dissect/correlate.h"
#include "dissect/inflate.h"
#include "dissect/json_scan.h"
#include "dissect/redact.h"
#include "dissect/stats.h"
#include "ui/ndjson.h"
#include "ui/text.h"

#define MAX_RECORDS 64

struct harness {
    FILE *devnull;
    struct stats *stats;
    uint64_t sink;
};

static void on_op(void *user, const struct op *op)
{
    struct harness *h = user;
    char *line;
    size_t len;
    if (ndjson_format_op(op, &line, &len)) {
        h->sink += len;
        free(line);
    }
    text_write_op(h->devnull, op, (op->npkts & 1) != 0);
    stats_add(h->stats, op);
}

/* Takes n bytes (cut to what is left) off the front of *p. */
static struct amqp_bytes take(const uint8_t **p, size_t *left, size_t n)
{
    if (n > *left)
        n = *left;
    struct amqp_bytes b = {n ? *p : NULL, n};
    *p += n, *left -= n;
    return b;
}

static size_t take_len(const uint8_t **p, size_t *left, int width)
{
    size_t n = 0;
    for (int i = 0; i < width && *left; i++) {
        n = n << 8 | **p;
        (*p)++, (*left)--;
    }
    return n;
}

/* Exercises the leaf functions on one body directly, apart from correlation. */
static void leaf_checks(struct harness *h, const uint8_t *body, size_t len)
{
    size_t off;
    (void)json_scan_value(body, len, &off);
    char buf[64];
    size_t out_len;
    bool cut;
    if (len >= 2 && body[0] == '"')
        (void)json_unescape(body, len, buf, sizeof buf, &out_len, &cut);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (root) {
        h->sink += redact_json(root);
        json_decref(root);
    }
    uint8_t *out = NULL;
    if (inflate_body(body, len, 1 << 16, &out, &out_len) == INFLATE_OK)
        h->sink += out_len;
    free(out);
    double d;
    if (json_number(body, len, &d))
        h->sink += d > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull; /* the harness's, opened once */
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (size < 1 || !devnull)
        return 0;
    uint8_t conf = data[0];
    const uint8_t *p = data + 1;
    size_t left = size - 1;

    struct harness h = {devnull, stats_new((conf & 16) ? 1 : 0), 0};
    if (!h.stats)
        return 0;
    struct corr_config cc;
    corr_config_default(&cc);
    cc.want_bodies = (conf & 1) != 0;
    cc.show_secrets = (conf & 2) != 0;
    if (conf & 4)
        cc.max_pending = 2;
    if (conf & 8)
        cc.max_inflate = 256;
    struct corr *c = corr_new(&cc, on_op, &h);
    if (!c) {
        stats_free(h.stats);
        return 0;
    }

    struct amqp_conn_info conns[2];
    memset(conns, 0, sizeof conns);
    for (int i = 0; i < 2; i++) {
        conns[i].id = (uint64_t)i + 1;
        conns[i].client = (struct netaddr){4, {10, 0, 0, (uint8_t)(1 + i)}, 40000};
        conns[i].broker = (struct netaddr){4, {10, 0, 0, 9}, 5672};
        conns[i].broker_known = true;
        snprintf(conns[i].connection_name, sizeof conns[i].connection_name, "conn%d", i);
    }
    static const uint8_t zlib_hdr[] = {
        '\x0b', 'c', 'o', 'm', 'p', 'r', 'e', 's', 's', 'i', 'o', 'n', 'S', 0,   0,   0,   18, 'a',
        'p',    'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/', 'x', '-', 'g', 'z', 'i', 'p'};
    uint64_t ts = 1000000000ull;
    uint64_t pkts[4];
    for (int n = 0; n < MAX_RECORDS && left >= 2; n++) {
        uint8_t kind = *p++;
        left--;
        ts += (uint64_t)*p++ * 50000000ull; /* up to 12.75 s per step: timeouts and holds */
        left--;
        struct amqp_message m;
        memset(&m, 0, sizeof m);
        m.kind = (enum amqp_content_kind)(kind & 3);
        m.dir = (kind >> 2) & 1;
        m.conn = &conns[(kind >> 3) & 1];
        m.channel = 1;
        m.ts_ns = m.ts_end_ns = ts;
        m.exchange = take(&p, &left, take_len(&p, &left, 1));
        m.routing_key = take(&p, &left, take_len(&p, &left, 1));
        m.props.headers = take(&p, &left, take_len(&p, &left, 2));
        if (m.props.headers.p)
            m.props.present |= AMQP_PROP_HEADERS;
        m.props.expiration = take(&p, &left, take_len(&p, &left, 1));
        if (m.props.expiration.p)
            m.props.present |= AMQP_PROP_EXPIRATION;
        struct amqp_bytes body = take(&p, &left, take_len(&p, &left, 2));
        m.body_truncated = (kind & 0x80) != 0;
        m.redelivered = (kind & 0x40) != 0;
        m.reply_code = 312;
        for (size_t i = 0; i < 4; i++)
            pkts[i] = (uint64_t)n * 4 + i + 1;
        m.pkts = pkts;
        m.npkts = (size_t)(kind >> 5) & 3;

        uint8_t *zbuf = NULL;
        if ((kind & 0x10) && body.len) {
            uLongf zlen = compressBound(body.len);
            zbuf = malloc(zlen);
            if (zbuf && compress2(zbuf, &zlen, body.p, body.len, 6) == Z_OK) {
                m.body = zbuf;
                m.body_len = zlen;
                m.props.headers = (struct amqp_bytes){zlib_hdr, sizeof zlib_hdr};
                m.props.present |= AMQP_PROP_HEADERS;
            }
        }
        if (!m.body) {
            m.body = body.p;
            m.body_len = body.len;
        }
        m.body_size = m.body_truncated ? m.body_len + 10 : m.body_len;
        leaf_checks(&h, body.p ? body.p : (const uint8_t *)"", body.len);
        corr_message(c, &m);
        corr_tick(c, ts);
        free(zbuf);
    }
    corr_finish(c, ts + 1);
    struct corr_stats st;
    corr_get_stats(c, &st);
    corr_free(c);
    for (size_t i = 0; i < stats_count(h.stats); i++)
        h.sink += stats_row(h.stats, i)->ops;
    (void)stats_row_latency_ms(stats_total(h.stats), 99);
    stats_free(h.stats);
    return 0;
}

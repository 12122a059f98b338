/*
 * fuzz_amqp_stream.c: libFuzzer target for the AMQP stage as the pipeline
 * drives it — frame splitter, method/header decoding, connection and channel
 * state — fed the two directions of one TCP connection.
 *
 * Input: one flags byte, then records [ctl u8][len be16][len bytes]. ctl bit 0
 * is the TCP direction, bit 1 asks for a gap on that direction before the
 * bytes (its size from bits 2..7), so the resync paths are reached. make_seeds.py
 * writes real captures in this format. Flags bit 0 turns on the --amqp view
 * (every method event rendered as text and JSON), bit 1 shrinks every limit so
 * evictions happen with small inputs, bit 2 makes the client the "a" side.
 * The JSON the --amqp sink writes without jansson must equal jansson's dump.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <stdlib.h>

#include "common/json_buf.h"
#include "dissect/amqp_conn.h"
#include "ui/amqp_view.h"

struct harness {
    FILE *devnull;
    uint64_t sink; /* bytes folded in so reads of message fields are not optimised away */
};

static void touch(struct harness *h, struct amqp_bytes b)
{
    for (size_t i = 0; i < b.len; i++)
        h->sink += b.p[i];
}

static void on_method(void *user, const struct amqp_method_event *ev)
{
    struct harness *h = user;
    amqp_view_text(h->devnull, ev);
    for (int secrets = 0; secrets < 2; secrets++) {
        json_t *j = amqp_view_json(ev, secrets != 0);
        if (j) {
            char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
            struct jbuf b = {0};
            amqp_view_json_write(&b, ev, secrets != 0);
            jb_put(&b, "", 1);
            if (s && !b.failed && strcmp(s, b.p) != 0)
                abort(); /* the writer and jansson disagree */
            if (s)
                h->sink += strlen(s);
            free(b.p);
            free(s);
            json_decref(j);
        }
    }
}

static void on_message(void *user, const struct amqp_message *m)
{
    struct harness *h = user;
    touch(h, m->exchange);
    touch(h, m->routing_key);
    touch(h, m->consumer_tag);
    touch(h, m->queue);
    touch(h, m->reply_text);
    touch(h, m->props.headers);
    touch(h, m->props.reply_to);
    touch(h, m->props.correlation_id);
    touch(h, m->props.content_encoding);
    struct amqp_bytes body = {m->body, m->body_len};
    touch(h, body);
    for (size_t i = 0; i < m->npkts; i++)
        h->sink += m->pkts[i];
}

static void on_conn(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct harness *h = user;
    h->sink += strlen(info->connection_name) + strlen(info->user) + strlen(info->vhost) +
               strlen(info->product) + (unsigned)ev;
    for (size_t i = 0; i < info->nhandshake_pkts; i++)
        h->sink += info->handshake_pkts[i];
}

static void on_broker_event(void *user, const struct amqp_broker_event *ev)
{
    struct harness *h = user;
    h->sink += strlen(ev->event) + ev->reply_code + ev->reply_text.len + ev->channel;
    if (ev->reply_text.len)
        h->sink += ev->reply_text.p[ev->reply_text.len - 1];
    if (ev->name)
        h->sink += strlen(ev->name) + strlen(ev->name_kind);
    if (ev->failed_method)
        h->sink += strlen(ev->failed_method);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull; /* opened once: the harness, not the code under test, owns it */
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (size < 1 || !devnull)
        return 0;
    uint8_t flags = data[0];
    data++, size--;

    struct harness h = {devnull, 0};
    struct amqp_config cfg;
    amqp_config_default(&cfg);
    cfg.want_methods = (flags & 1) != 0;
    if (flags & 2) {
        cfg.default_frame_max = 4096;
        cfg.max_body = 64;
        cfg.max_channels = 2;
        cfg.max_consumers = 2;
        cfg.max_partial_bytes = 128;
    }
    struct amqp_callbacks cb = {on_method, on_message, on_conn, &h, on_broker_event};
    struct amqp_dissector *d = amqp_dissector_new(&cfg, &cb);
    if (!d)
        return 0;
    struct netaddr client = {4, {10, 0, 0, 1}, 40000}, broker = {4, {10, 0, 0, 2}, 5672};
    struct amqp_conn *c = (flags & 4) ? amqp_conn_open(d, 1, &client, &broker, 1)
                                      : amqp_conn_open(d, 1, &broker, &client, 1);
    uint64_t ts = 1000, pkt = 1;
    while (c && size >= 3) {
        uint8_t ctl = data[0];
        size_t len = (size_t)data[1] << 8 | data[2];
        data += 3, size -= 3;
        if (len > size)
            len = size;
        int dir = ctl & 1;
        if (ctl & 2)
            amqp_conn_gap(c, dir, (uint64_t)(ctl >> 2) + 1, ts);
        amqp_conn_data(c, dir, data, len, ts, pkt++);
        ts += 1000;
        data += len, size -= len;
    }
    if (c) {
        h.sink += amqp_conn_footprint(c);
        h.sink += amqp_conn_get_info(c)->frames;
        amqp_conn_close(c, ts);
    }
    struct amqp_stats st;
    amqp_dissector_get_stats(d, &st);
    amqp_dissector_free(d);
    return h.sink == 42 ? 0 : 0;
}

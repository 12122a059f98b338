/*
 * tls_record.c: the record splitter, a small stop-and-resume state machine:
 * gather a 5-byte header, check it, gather its payload, hand the record out.
 * Headers are read through the bounds-checked cursor; a record that arrives
 * whole in one delivery is handed out without a copy.
 */
#include "capture/tls_record.h"

#include <stdlib.h>
#include <string.h>

#include "common/rd.h"

bool tls_record_header_ok(const uint8_t *hdr)
{
    struct rd r = rd_make(hdr, TLS_RECORD_HDR);
    uint8_t type = rd_u8(&r);
    uint16_t version = rd_be16(&r);
    uint16_t len = rd_be16(&r);
    return r.ok && type >= TLS_CT_CHANGE_CIPHER_SPEC && type <= TLS_CT_HEARTBEAT &&
           (version >> 8) == 3 && (version & 0xff) <= 4 && len <= TLS_RECORD_MAX_PAYLOAD;
}

static void note_pkt(struct tls_record_splitter *s, uint64_t pkt, size_t n)
{
    if (s->npkts && s->pkts[s->npkts - 1] == pkt) {
        s->pkt_bytes[s->npkts - 1] += (uint32_t)n;
    } else if (s->npkts < TLS_RECORD_MAX_PKTS) {
        s->pkts[s->npkts] = pkt;
        s->pkt_bytes[s->npkts++] = (uint32_t)n;
    } else {
        s->pkt_bytes[s->npkts - 1] += (uint32_t)n; /* charged to the last one kept */
    }
}

static void emit(struct tls_record_splitter *s, const uint8_t *payload, uint64_t ts_ns,
                 tls_record_fn fn, void *user)
{
    struct rd r = rd_make(s->hdr, TLS_RECORD_HDR);
    struct tls_record rec = {.hdr = s->hdr};
    rec.type = rd_u8(&r);
    rec.version = rd_be16(&r);
    rec.len = rd_be16(&r);
    rec.payload = payload;
    rec.ts_ns = ts_ns;
    rec.pkts = s->pkts;
    rec.pkt_bytes = s->pkt_bytes;
    rec.npkts = s->npkts;
    fn(user, &rec);
    s->hdr_have = 0;
    s->have = 0;
    s->npkts = 0;
}

bool tls_record_feed(struct tls_record_splitter *s, const uint8_t *data, size_t len, uint64_t ts_ns,
                     uint64_t pkt, tls_record_fn fn, void *user)
{
    struct rd in = rd_make(data, len);
    while (!s->failed && rd_left(&in) > 0) {
        if (s->hdr_have < TLS_RECORD_HDR) {
            size_t n = TLS_RECORD_HDR - s->hdr_have;
            if (n > rd_left(&in))
                n = rd_left(&in);
            memcpy(s->hdr + s->hdr_have, rd_bytes(&in, n), n);
            s->hdr_have += n;
            note_pkt(s, pkt, n);
            if (s->hdr_have < TLS_RECORD_HDR)
                break;
            if (!tls_record_header_ok(s->hdr)) {
                s->failed = true;
                break;
            }
            s->need = (size_t)s->hdr[3] << 8 | s->hdr[4];
            s->have = 0;
            /* The whole payload is here: hand it out in place. */
            if (rd_left(&in) >= s->need) {
                const uint8_t *p = rd_bytes(&in, s->need);
                note_pkt(s, pkt, s->need);
                emit(s, p, ts_ns, fn, user);
                continue;
            }
        }
        if (!s->buf) {
            s->buf = malloc(TLS_RECORD_MAX_PAYLOAD);
            if (!s->buf) {
                s->failed = true;
                break;
            }
        }
        size_t n = s->need - s->have;
        if (n > rd_left(&in))
            n = rd_left(&in);
        memcpy(s->buf + s->have, rd_bytes(&in, n), n);
        s->have += n;
        note_pkt(s, pkt, n);
        if (s->have == s->need)
            emit(s, s->buf, ts_ns, fn, user);
    }
    return !s->failed;
}

void tls_record_reset(struct tls_record_splitter *s)
{
    s->hdr_have = 0;
    s->have = 0;
    s->npkts = 0;
}

void tls_record_free(struct tls_record_splitter *s)
{
    free(s->buf);
    s->buf = NULL;
}

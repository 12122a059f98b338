/*
 * tls_record.h: cuts one direction of a TLS connection into records.
 *
 * Fed whatever TCP delivered (a byte, a segment, many records), it hands out
 * whole records: header fields, the payload, and the packets that carried
 * its bytes (so that -w and packet numbers keep pointing at the captured,
 * encrypted packets). A record wholly inside one delivery is handed out in
 * place; one split across deliveries is gathered in a buffer of the largest
 * legal record (2^14 + 2048 bytes of payload). A header that cannot be TLS
 * (type, version or length) stops the splitter: it answers false then on.
 */
#ifndef OSLOTRACE_CAPTURE_TLS_RECORD_H
#define OSLOTRACE_CAPTURE_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_RECORD_HDR 5
#define TLS_RECORD_MAX_PAYLOAD (16384 + 2048)
#define TLS_RECORD_MAX_PKTS 16

enum tls_content_type {
    TLS_CT_CHANGE_CIPHER_SPEC = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPLICATION_DATA = 23,
    TLS_CT_HEARTBEAT = 24,
};

struct tls_record {
    const uint8_t *hdr; /* the 5 header bytes (the AEAD's associated data in 1.3) */
    uint8_t type;
    uint16_t version;
    const uint8_t *payload;
    size_t len;
    uint64_t ts_ns; /* of the packet that completed the record */
    /* packets behind the record's bytes and how many bytes each gave (oldest first) */
    const uint64_t *pkts;
    const uint32_t *pkt_bytes;
    size_t npkts;
};

struct tls_record_splitter {
    uint8_t hdr[TLS_RECORD_HDR];
    size_t hdr_have;
    uint8_t *buf; /* TLS_RECORD_MAX_PAYLOAD bytes, allocated at the first split record */
    size_t have, need;
    uint64_t pkts[TLS_RECORD_MAX_PKTS];
    uint32_t pkt_bytes[TLS_RECORD_MAX_PKTS];
    size_t npkts;
    bool failed; /* a header that is not TLS, or no memory */
};

typedef void (*tls_record_fn)(void *user, const struct tls_record *rec);

/* True when a 5-byte header can start a TLS record. */
bool tls_record_header_ok(const uint8_t *hdr);
/* Feeds bytes; calls fn for each complete record. False once the stream is
 * not TLS (then nothing more is parsed). */
bool tls_record_feed(struct tls_record_splitter *s, const uint8_t *data, size_t len, uint64_t ts_ns,
                     uint64_t pkt, tls_record_fn fn, void *user);
/* Forgets a partial record (after a gap). */
void tls_record_reset(struct tls_record_splitter *s);
void tls_record_free(struct tls_record_splitter *s);

#endif

/*
 * tls_handshake.c: handshake message reassembly (stop and resume, any
 * chunking) and the ClientHello / ServerHello parsers. Everything is read
 * through the bounds-checked cursor; a hello that runs short is "malformed",
 * never a read past its end.
 */
#include "capture/tls_handshake.h"

#include <stdlib.h>
#include <string.h>

#include "common/rd.h"

#define EXT_SUPPORTED_VERSIONS 43
#define EXT_ENCRYPT_THEN_MAC 22

static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

static bool kept_type(uint8_t t)
{
    return t == TLS_HS_CLIENT_HELLO || t == TLS_HS_SERVER_HELLO || t == TLS_HS_FINISHED ||
           t == TLS_HS_KEY_UPDATE;
}

bool tls_hs_feed(struct tls_hs_reasm *h, const uint8_t *data, size_t len, tls_hs_fn fn, void *user)
{
    struct rd in = rd_make(data, len);
    while (!h->failed && rd_left(&in) > 0) {
        if (h->hdr_have < 4) {
            size_t n = 4 - h->hdr_have;
            if (n > rd_left(&in))
                n = rd_left(&in);
            memcpy(h->hdr + h->hdr_have, rd_bytes(&in, n), n);
            h->hdr_have += n;
            if (h->hdr_have < 4)
                break;
            h->msg_len = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 | h->hdr[3];
            h->have = 0;
            h->keep = kept_type(h->hdr[0]) && h->msg_len <= TLS_HS_MAX_KEPT;
            if (h->keep && rd_left(&in) >= h->msg_len) { /* whole: no copy */
                h->hdr_have = 0;
                fn(user, h->hdr[0], rd_bytes(&in, h->msg_len), h->msg_len);
                continue;
            }
            if (h->keep && !h->buf && !(h->buf = malloc(TLS_HS_MAX_KEPT))) {
                h->failed = true;
                break;
            }
        }
        size_t n = h->msg_len - h->have;
        if (n > rd_left(&in))
            n = rd_left(&in);
        const uint8_t *p = rd_bytes(&in, n);
        if (h->keep)
            memcpy(h->buf + h->have, p, n);
        h->have += n;
        if (h->have == h->msg_len) {
            h->hdr_have = 0;
            fn(user, h->hdr[0], h->keep ? h->buf : NULL, h->msg_len);
        }
    }
    return !h->failed;
}

void tls_hs_free(struct tls_hs_reasm *h)
{
    free(h->buf);
    h->buf = NULL;
}

bool tls_parse_client_hello(const uint8_t *body, size_t len, struct tls_client_hello *out)
{
    memset(out, 0, sizeof *out);
    struct rd r = rd_make(body, len);
    out->legacy_version = rd_be16(&r);
    const uint8_t *random = rd_bytes(&r, 32);
    if (random)
        memcpy(out->random, random, 32);
    rd_skip(&r, rd_u8(&r)); /* legacy_session_id */
    out->ncipher_suites = rd_be16(&r) / 2;
    rd_skip(&r, out->ncipher_suites * 2);
    rd_skip(&r, rd_u8(&r)); /* compression methods */
    if (!r.ok)
        return false;
    if (rd_left(&r) == 0)
        return true; /* no extensions */
    struct rd ext = rd_sub(&r, rd_be16(&r));
    while (ext.ok && rd_left(&ext) >= 4) {
        uint16_t type = rd_be16(&ext);
        struct rd e = rd_sub(&ext, rd_be16(&ext));
        if (type == EXT_SUPPORTED_VERSIONS) {
            struct rd v = rd_sub(&e, rd_u8(&e));
            while (rd_left(&v) >= 2)
                if (rd_be16(&v) == 0x0304)
                    out->offers_tls13 = true;
        }
    }
    return ext.ok && r.ok;
}

bool tls_parse_server_hello(const uint8_t *body, size_t len, struct tls_server_hello *out)
{
    memset(out, 0, sizeof *out);
    struct rd r = rd_make(body, len);
    out->legacy_version = rd_be16(&r);
    out->version = out->legacy_version;
    const uint8_t *random = rd_bytes(&r, 32);
    if (random) {
        memcpy(out->random, random, 32);
        out->hello_retry = memcmp(random, hrr_random, 32) == 0;
    }
    rd_skip(&r, rd_u8(&r)); /* legacy_session_id_echo */
    out->cipher_suite = rd_be16(&r);
    rd_u8(&r); /* compression */
    if (!r.ok)
        return false;
    if (rd_left(&r) == 0)
        return true;
    struct rd ext = rd_sub(&r, rd_be16(&r));
    while (ext.ok && rd_left(&ext) >= 4) {
        uint16_t type = rd_be16(&ext);
        struct rd e = rd_sub(&ext, rd_be16(&ext));
        if (type == EXT_SUPPORTED_VERSIONS) {
            uint16_t v = rd_be16(&e);
            if (e.ok)
                out->version = v;
        } else if (type == EXT_ENCRYPT_THEN_MAC) {
            out->encrypt_then_mac = true;
        }
    }
    return ext.ok && r.ok;
}

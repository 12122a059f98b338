/*
 * tls_handshake.h: TLS handshake messages, gathered across records, and the
 * two hellos parsed.
 *
 * One reassembler per direction takes the bytes of handshake records
 * (plaintext, or decrypted by the TLS stage) in any chunking and hands out
 * whole messages. Only the messages the TLS stage acts on are kept (the
 * hellos, Finished, KeyUpdate; at most TLS_HS_MAX_KEPT bytes each); the
 * others (certificates, tickets) are skipped by their length, so memory stays
 * small whatever the peer sends. The hello parsers read through the
 * bounds-checked cursor: client random, server random, cipher suite, the
 * version from supported_versions, HelloRetryRequest, encrypt_then_mac.
 */
#ifndef OSLOTRACE_CAPTURE_TLS_HANDSHAKE_H
#define OSLOTRACE_CAPTURE_TLS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HS_MAX_KEPT 16384

enum tls_hs_type {
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_NEW_SESSION_TICKET = 4,
    TLS_HS_FINISHED = 20,
    TLS_HS_KEY_UPDATE = 24,
};

struct tls_hs_reasm {
    uint8_t hdr[4];
    size_t hdr_have;
    uint32_t msg_len;
    uint8_t *buf; /* TLS_HS_MAX_KEPT bytes, allocated for the first kept message */
    size_t have;
    bool keep; /* this message is gathered, else skipped */
    bool failed;
};

/* body is NULL for a skipped message (len is still its length). */
typedef void (*tls_hs_fn)(void *user, uint8_t type, const uint8_t *body, size_t len);

bool tls_hs_feed(struct tls_hs_reasm *h, const uint8_t *data, size_t len, tls_hs_fn fn, void *user);
void tls_hs_free(struct tls_hs_reasm *h);

struct tls_client_hello {
    uint8_t random[32];
    uint16_t legacy_version;
    bool offers_tls13; /* supported_versions lists 0x0304 */
    size_t ncipher_suites;
};

struct tls_server_hello {
    uint8_t random[32];
    uint16_t legacy_version;
    uint16_t version; /* supported_versions' choice, else legacy_version */
    uint16_t cipher_suite;
    bool hello_retry; /* the HelloRetryRequest random (RFC 8446 4.1.3) */
    bool encrypt_then_mac;
};

bool tls_parse_client_hello(const uint8_t *body, size_t len, struct tls_client_hello *out);
bool tls_parse_server_hello(const uint8_t *body, size_t len, struct tls_server_hello *out);

#endif

/*
 * tls_crypto.h: the TLS cipher suites oslotrace can decrypt, and everything
 * that touches key material: the TLS 1.3 key schedule (HKDF-Expand-Label on
 * OpenSSL's HKDF), the TLS 1.2 key expansion (OpenSSL's TLS1-PRF), and the
 * decryption of one record (EVP AEAD, or CBC with its HMAC). No cryptography
 * is written here: every primitive is libcrypto's (OpenSSL 3).
 *
 * Secrets live only in these structs and are wiped when they are released;
 * nothing here prints or returns them to anything but the next derivation.
 */
#ifndef OSLOTRACE_CAPTURE_TLS_CRYPTO_H
#define OSLOTRACE_CAPTURE_TLS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_VERSION_12 0x0303
#define TLS_VERSION_13 0x0304
#define TLS_MAX_SECRET 64 /* bytes of a master or traffic secret (48 in practice) */
#define TLS_RANDOM_LEN 32

enum tls_cipher {
    TLS_C_AES_128_GCM,
    TLS_C_AES_256_GCM,
    TLS_C_CHACHA20,
    TLS_C_AES_128_CBC,
    TLS_C_AES_256_CBC
};
enum tls_hash { TLS_H_SHA1, TLS_H_SHA256, TLS_H_SHA384 };

/* One row per suite we know: what it needs, and whether we decrypt it. */
struct tls_suite {
    uint16_t id;
    const char *name; /* IANA name */
    uint16_t version; /* TLS_VERSION_13: a 1.3 suite; TLS_VERSION_12: 1.2 (and earlier) */
    uint8_t cipher;   /* enum tls_cipher */
    uint8_t prf;      /* enum tls_hash: HKDF (1.3) or PRF (1.2) hash */
    uint8_t mac;      /* enum tls_hash: CBC suites' HMAC */
    uint8_t key_len, iv_len, mac_len;
};

/* NULL when the suite is not in the table (then it is "unsupported"). */
const struct tls_suite *tls_suite_find(uint16_t id);

/* One direction's record protection. */
struct tls_cipher_state {
    const struct tls_suite *suite;
    uint16_t version;
    void *ctx; /* EVP_CIPHER_CTX, key set */
    void *mac; /* EVP_MAC_CTX (CBC suites), key set */
    uint8_t iv[16];
    uint64_t seq;
    bool etm; /* 1.2 CBC with encrypt_then_mac (RFC 7366) */
};

/* HKDF-Expand-Label (RFC 8446 7.1) with the suite's hash. */
bool tls13_expand_label(const struct tls_suite *s, const uint8_t *secret, size_t secret_len,
                        const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                        size_t out_len);
/* Record protection from a 1.3 traffic secret (key and iv by expand-label). */
bool tls13_cipher_init(struct tls_cipher_state *cs, const struct tls_suite *s,
                       const uint8_t *secret, size_t secret_len);
/* KeyUpdate: secret_{n+1} = HKDF-Expand-Label(secret_n, "traffic upd", "", Hash.length). */
bool tls13_next_secret(const struct tls_suite *s, uint8_t *secret, size_t secret_len);
/* The hash length of a suite's PRF (the size of its 1.3 secrets). */
size_t tls_suite_hash_len(const struct tls_suite *s);

/* 1.2: key block from the master secret, then each direction's state.
 * client = true for the client's writes. */
bool tls12_cipher_init(struct tls_cipher_state *cs, const struct tls_suite *s,
                       const uint8_t master[48], const uint8_t client_random[32],
                       const uint8_t server_random[32], bool client, bool etm);

enum tls_decrypt_result {
    TLS_DECRYPT_OK,
    TLS_DECRYPT_BAD_AUTH, /* tag or MAC wrong: wrong key or wrong sequence number */
    TLS_DECRYPT_MALFORMED /* too short, bad padding, no inner type */
};

/* Decrypts the record with header hdr[5] and payload in[len] into out (at
 * least len bytes), sets *out_len and *inner_type (1.3: the inner content
 * type; 1.2: hdr's type). The sequence number advances on success only. */
enum tls_decrypt_result tls_decrypt(struct tls_cipher_state *cs, const uint8_t hdr[5],
                                    const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
                                    uint8_t *inner_type);
void tls_cipher_free(struct tls_cipher_state *cs);
/* Wipes memory that held a secret. */
void tls_wipe(void *p, size_t n);

#endif

/*
 * tls_crypto.c: key derivation and record decryption on OpenSSL 3's
 * libcrypto. TLS 1.3 keys come from HKDF-Expand-Label, built on the "HKDF"
 * EVP_KDF in expand-only mode; TLS 1.2 keys from the "TLS1-PRF" EVP_KDF.
 * Records are opened with EVP AEAD ciphers (AES-GCM, ChaCha20-Poly1305) or,
 * for the CBC suites, EVP AES-CBC and an "HMAC" EVP_MAC (both MAC-then-encrypt
 * and encrypt-then-MAC). Every buffer here is sized from the suite table, and
 * every secret copied onto the stack is wiped before returning.
 */
#include "capture/tls_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define TAG_LEN 16

/* clang-format off */
static const struct tls_suite suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", TLS_VERSION_13, TLS_C_AES_128_GCM, TLS_H_SHA256, 0, 16, 12, 0},
    {0x1302, "TLS_AES_256_GCM_SHA384", TLS_VERSION_13, TLS_C_AES_256_GCM, TLS_H_SHA384, 0, 32, 12, 0},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", TLS_VERSION_13, TLS_C_CHACHA20, TLS_H_SHA256, 0, 32, 12, 0},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TLS_VERSION_12, TLS_C_AES_128_GCM, TLS_H_SHA256, 0, 16, 4, 0},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TLS_VERSION_12, TLS_C_AES_128_GCM, TLS_H_SHA256, 0, 16, 4, 0},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TLS_VERSION_12, TLS_C_AES_256_GCM, TLS_H_SHA384, 0, 32, 4, 0},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", TLS_VERSION_12, TLS_C_AES_256_GCM, TLS_H_SHA384, 0, 32, 4, 0},
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", TLS_VERSION_12, TLS_C_AES_128_GCM, TLS_H_SHA256, 0, 16, 4, 0},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", TLS_VERSION_12, TLS_C_AES_256_GCM, TLS_H_SHA384, 0, 32, 4, 0},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", TLS_VERSION_12, TLS_C_AES_128_GCM, TLS_H_SHA256, 0, 16, 4, 0},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TLS_VERSION_12, TLS_C_AES_256_GCM, TLS_H_SHA384, 0, 32, 4, 0},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TLS_VERSION_12, TLS_C_CHACHA20, TLS_H_SHA256, 0, 32, 12, 0},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", TLS_VERSION_12, TLS_C_CHACHA20, TLS_H_SHA256, 0, 32, 12, 0},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TLS_VERSION_12, TLS_C_CHACHA20, TLS_H_SHA256, 0, 32, 12, 0},
    {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", TLS_VERSION_12, TLS_C_AES_128_CBC, TLS_H_SHA256, TLS_H_SHA1, 16, 16, 20},
    {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", TLS_VERSION_12, TLS_C_AES_256_CBC, TLS_H_SHA256, TLS_H_SHA1, 32, 16, 20},
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", TLS_VERSION_12, TLS_C_AES_128_CBC, TLS_H_SHA256, TLS_H_SHA1, 16, 16, 20},
    {0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", TLS_VERSION_12, TLS_C_AES_256_CBC, TLS_H_SHA256, TLS_H_SHA1, 32, 16, 20},
    {0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", TLS_VERSION_12, TLS_C_AES_128_CBC, TLS_H_SHA256, TLS_H_SHA256, 16, 16, 32},
    {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", TLS_VERSION_12, TLS_C_AES_256_CBC, TLS_H_SHA384, TLS_H_SHA384, 32, 16, 48},
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", TLS_VERSION_12, TLS_C_AES_128_CBC, TLS_H_SHA256, TLS_H_SHA256, 16, 16, 32},
    {0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", TLS_VERSION_12, TLS_C_AES_256_CBC, TLS_H_SHA384, TLS_H_SHA384, 32, 16, 48},
    {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", TLS_VERSION_12, TLS_C_AES_128_CBC, TLS_H_SHA256, TLS_H_SHA1, 16, 16, 20},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", TLS_VERSION_12, TLS_C_AES_256_CBC, TLS_H_SHA256, TLS_H_SHA1, 32, 16, 20},
    {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", TLS_VERSION_12, TLS_C_AES_128_CBC, TLS_H_SHA256, TLS_H_SHA256, 16, 16, 32},
    {0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", TLS_VERSION_12, TLS_C_AES_256_CBC, TLS_H_SHA256, TLS_H_SHA256, 32, 16, 32},
};
/* clang-format on */

const struct tls_suite *tls_suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

static const char *hash_name(uint8_t h)
{
    switch (h) {
    case TLS_H_SHA1:
        return "SHA1";
    case TLS_H_SHA384:
        return "SHA384";
    default:
        return "SHA256";
    }
}

size_t tls_suite_hash_len(const struct tls_suite *s)
{
    return s->prf == TLS_H_SHA384 ? 48 : 32;
}

static const EVP_CIPHER *evp_cipher(uint8_t c)
{
    switch (c) {
    case TLS_C_AES_128_GCM:
        return EVP_aes_128_gcm();
    case TLS_C_AES_256_GCM:
        return EVP_aes_256_gcm();
    case TLS_C_CHACHA20:
        return EVP_chacha20_poly1305();
    case TLS_C_AES_128_CBC:
        return EVP_aes_128_cbc();
    default:
        return EVP_aes_256_cbc();
    }
}

static bool is_cbc(const struct tls_suite *s)
{
    return s->cipher == TLS_C_AES_128_CBC || s->cipher == TLS_C_AES_256_CBC;
}

void tls_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

static bool kdf_derive(const char *name, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
    if (!kdf)
        return false;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!kctx)
        return false;
    bool ok = EVP_KDF_derive(kctx, out, out_len, params) > 0;
    EVP_KDF_CTX_free(kctx);
    return ok;
}

bool tls13_expand_label(const struct tls_suite *s, const uint8_t *secret, size_t secret_len,
                        const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                        size_t out_len)
{
    /* struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255>; } */
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t ll = strlen(label);
    if (ll > 249 || ctx_len > 255 || out_len > 0xffff)
        return false;
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = (uint8_t)ctx_len;
    if (ctx_len)
        memcpy(info + n, ctx, ctx_len);
    n += ctx_len;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(s->prf), 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    return kdf_derive("HKDF", params, out, out_len);
}

void tls_cipher_free(struct tls_cipher_state *cs)
{
    EVP_CIPHER_CTX_free(cs->ctx);
    EVP_MAC_CTX_free(cs->mac);
    tls_wipe(cs, sizeof *cs);
}

static bool cipher_setup(struct tls_cipher_state *cs, const struct tls_suite *s, uint16_t version,
                         const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
    tls_cipher_free(cs);
    cs->suite = s;
    cs->version = version;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    cs->ctx = ctx;
    if (!ctx || EVP_DecryptInit_ex(ctx, evp_cipher(s->cipher), NULL, key, NULL) <= 0)
        return false;
    memcpy(cs->iv, iv, s->iv_len);
    if (is_cbc(s)) {
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
            return false;
        cs->mac = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)hash_name(s->mac), 0),
            OSSL_PARAM_construct_end(),
        };
        if (!cs->mac || EVP_MAC_init(cs->mac, mac_key, s->mac_len, params) <= 0)
            return false;
    }
    return true;
}

bool tls13_cipher_init(struct tls_cipher_state *cs, const struct tls_suite *s,
                       const uint8_t *secret, size_t secret_len)
{
    uint8_t key[32], iv[12];
    bool ok = s->version == TLS_VERSION_13 &&
              tls13_expand_label(s, secret, secret_len, "key", NULL, 0, key, s->key_len) &&
              tls13_expand_label(s, secret, secret_len, "iv", NULL, 0, iv, 12) &&
              cipher_setup(cs, s, TLS_VERSION_13, key, iv, NULL);
    tls_wipe(key, sizeof key);
    tls_wipe(iv, sizeof iv);
    return ok;
}

bool tls13_next_secret(const struct tls_suite *s, uint8_t *secret, size_t secret_len)
{
    uint8_t next[TLS_MAX_SECRET];
    if (secret_len > sizeof next)
        return false;
    bool ok = tls13_expand_label(s, secret, secret_len, "traffic upd", NULL, 0, next, secret_len);
    if (ok)
        memcpy(secret, next, secret_len);
    tls_wipe(next, sizeof next);
    return ok;
}

bool tls12_cipher_init(struct tls_cipher_state *cs, const struct tls_suite *s,
                       const uint8_t master[48], const uint8_t client_random[32],
                       const uint8_t server_random[32], bool client, bool etm)
{
    /* key_block = PRF(master, "key expansion", server_random + client_random):
     * client MAC, server MAC, client key, server key, client IV, server IV. */
    uint8_t seed[13 + 64], block[2 * (48 + 32 + 16)];
    memcpy(seed, "key expansion", 13);
    memcpy(seed + 13, server_random, 32);
    memcpy(seed + 45, client_random, 32);
    size_t need = 2u * ((size_t)s->mac_len + s->key_len + s->iv_len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(s->prf), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, 48),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
        OSSL_PARAM_construct_end(),
    };
    bool ok = s->version == TLS_VERSION_12 && need <= sizeof block &&
              kdf_derive("TLS1-PRF", params, block, need);
    if (ok) {
        size_t mac = client ? 0 : s->mac_len;
        size_t key = 2u * s->mac_len + (client ? 0 : s->key_len);
        size_t iv = 2u * ((size_t)s->mac_len + s->key_len) + (client ? 0 : s->iv_len);
        ok = cipher_setup(cs, s, TLS_VERSION_12, block + key, block + iv, block + mac);
        cs->etm = etm;
    }
    tls_wipe(block, sizeof block);
    return ok;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* AEAD open: ct[ct_len] then a 16-byte tag. */
static bool aead_open(EVP_CIPHER_CTX *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                      const uint8_t *ct, size_t ct_len, const uint8_t *tag, uint8_t *out)
{
    int n = 0, fin = 0;
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) <= 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) <= 0 ||
        EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) <= 0)
        return false;
    if (ct_len && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) <= 0)
        return false;
    return EVP_DecryptFinal_ex(ctx, out + n, &fin) > 0;
}

static void xor_nonce(const struct tls_cipher_state *cs, uint8_t nonce[12])
{
    memcpy(nonce, cs->iv, 12);
    uint8_t s[8];
    put_be64(s, cs->seq);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= s[i];
}

static void aad12(uint8_t aad[13], uint64_t seq, const uint8_t hdr[5], size_t plain_len)
{
    put_be64(aad, seq);
    aad[8] = hdr[0];
    aad[9] = hdr[1];
    aad[10] = hdr[2];
    aad[11] = (uint8_t)(plain_len >> 8);
    aad[12] = (uint8_t)plain_len;
}

static enum tls_decrypt_result open13(struct tls_cipher_state *cs, const uint8_t hdr[5],
                                      const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
                                      uint8_t *inner_type)
{
    if (len < TAG_LEN + 1)
        return TLS_DECRYPT_MALFORMED;
    uint8_t nonce[12];
    xor_nonce(cs, nonce);
    size_t ct = len - TAG_LEN;
    if (!aead_open(cs->ctx, nonce, hdr, 5, in, ct, in + ct, out))
        return TLS_DECRYPT_BAD_AUTH;
    while (ct > 0 && out[ct - 1] == 0)
        ct--;
    if (ct == 0)
        return TLS_DECRYPT_MALFORMED;
    *inner_type = out[ct - 1];
    *out_len = ct - 1;
    return TLS_DECRYPT_OK;
}

static enum tls_decrypt_result open12_aead(struct tls_cipher_state *cs, const uint8_t hdr[5],
                                           const uint8_t *in, size_t len, uint8_t *out,
                                           size_t *out_len)
{
    uint8_t nonce[12], aad[13];
    const uint8_t *ct = in;
    size_t ct_len;
    if (cs->suite->cipher == TLS_C_CHACHA20) {
        if (len < TAG_LEN)
            return TLS_DECRYPT_MALFORMED;
        xor_nonce(cs, nonce);
        ct_len = len - TAG_LEN;
    } else {
        if (len < 8 + TAG_LEN)
            return TLS_DECRYPT_MALFORMED;
        memcpy(nonce, cs->iv, 4);
        memcpy(nonce + 4, in, 8);
        ct = in + 8;
        ct_len = len - 8 - TAG_LEN;
    }
    aad12(aad, cs->seq, hdr, ct_len);
    if (!aead_open(cs->ctx, nonce, aad, sizeof aad, ct, ct_len, ct + ct_len, out))
        return TLS_DECRYPT_BAD_AUTH;
    *out_len = ct_len;
    return TLS_DECRYPT_OK;
}

static bool hmac_check(struct tls_cipher_state *cs, const uint8_t aad[13], const uint8_t *data,
                       size_t len, const uint8_t *expect)
{
    uint8_t md[64];
    size_t md_len = 0;
    if (EVP_MAC_init(cs->mac, NULL, 0, NULL) <= 0 || EVP_MAC_update(cs->mac, aad, 13) <= 0 ||
        EVP_MAC_update(cs->mac, data, len) <= 0 ||
        EVP_MAC_final(cs->mac, md, &md_len, sizeof md) <= 0 || md_len != cs->suite->mac_len)
        return false;
    return CRYPTO_memcmp(md, expect, md_len) == 0;
}

static bool cbc_decrypt(struct tls_cipher_state *cs, const uint8_t *iv, const uint8_t *ct,
                        size_t len, uint8_t *out)
{
    int n = 0;
    return EVP_DecryptInit_ex(cs->ctx, NULL, NULL, NULL, iv) > 0 &&
           EVP_DecryptUpdate(cs->ctx, out, &n, ct, (int)len) > 0 && (size_t)n == len;
}

static enum tls_decrypt_result open12_cbc(struct tls_cipher_state *cs, const uint8_t hdr[5],
                                          const uint8_t *in, size_t len, uint8_t *out,
                                          size_t *out_len)
{
    size_t mac_len = cs->suite->mac_len;
    uint8_t aad[13];
    if (cs->etm) {
        /* IV || ciphertext || MAC(seq, header with the length of IV || ciphertext) */
        if (len < 16 + 16 + mac_len || (len - mac_len) % 16)
            return TLS_DECRYPT_MALFORMED;
        size_t enc = len - mac_len;
        aad12(aad, cs->seq, hdr, enc);
        if (!hmac_check(cs, aad, in, enc, in + enc))
            return TLS_DECRYPT_BAD_AUTH;
        if (!cbc_decrypt(cs, in, in + 16, enc - 16, out))
            return TLS_DECRYPT_MALFORMED;
        size_t pad = out[enc - 17];
        if (pad + 1 > enc - 16)
            return TLS_DECRYPT_MALFORMED;
        *out_len = enc - 16 - pad - 1;
        return TLS_DECRYPT_OK;
    }
    /* IV || E(content || MAC || padding || padding_length) */
    if (len < 16 + 16 || len % 16)
        return TLS_DECRYPT_MALFORMED;
    size_t enc = len - 16;
    if (!cbc_decrypt(cs, in, in + 16, enc, out))
        return TLS_DECRYPT_MALFORMED;
    size_t pad = out[enc - 1];
    if (pad + 1 + mac_len > enc)
        return TLS_DECRYPT_BAD_AUTH;
    for (size_t i = 0; i < pad; i++)
        if (out[enc - 2 - i] != pad)
            return TLS_DECRYPT_BAD_AUTH;
    size_t content = enc - pad - 1 - mac_len;
    aad12(aad, cs->seq, hdr, content);
    if (!hmac_check(cs, aad, out, content, out + content))
        return TLS_DECRYPT_BAD_AUTH;
    *out_len = content;
    return TLS_DECRYPT_OK;
}

enum tls_decrypt_result tls_decrypt(struct tls_cipher_state *cs, const uint8_t hdr[5],
                                    const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
                                    uint8_t *inner_type)
{
    enum tls_decrypt_result r;
    if (!cs->ctx || len > (1u << 15))
        return TLS_DECRYPT_MALFORMED;
    if (cs->version == TLS_VERSION_13) {
        r = open13(cs, hdr, in, len, out, out_len, inner_type);
    } else {
        *inner_type = hdr[0];
        r = is_cbc(cs->suite) ? open12_cbc(cs, hdr, in, len, out, out_len)
                              : open12_aead(cs, hdr, in, len, out, out_len);
    }
    if (r == TLS_DECRYPT_OK)
        cs->seq++;
    return r;
}

/*
 * tls_conn.h: the TLS stage, between TCP reassembly and the AMQP decoder.
 *
 * For connections on an AMQPS port (5671 and --amqps-port) the engine hands
 * each direction's ordered bytes here instead of to the AMQP stage; out come
 * the decrypted application bytes, per direction, through on_data (and gaps
 * through on_gap), which the engine hands to the AMQP stage as if they had
 * been plaintext. It lives in capture/ because it is transport, like TCP:
 * it knows nothing of AMQP.
 *
 * Per connection: a record splitter and a handshake reassembler per
 * direction (tls_record.h, tls_handshake.h), the hellos (client random,
 * version and suite, HelloRetryRequest), and each direction's record
 * protection (tls_crypto.h) from the secrets in the key log (tls_keylog.h):
 * TLS 1.3 handshake then application traffic keys (Finished switches,
 * KeyUpdate moves on), TLS 1.2 keys from the master secret after
 * ChangeCipherSpec. Records whose keys are not known yet can be held
 * (live captures: the service writes its key log while we read the packets)
 * within per-connection and total byte limits; every drop is counted. A
 * connection seen without its handshake, with an unsupported suite or with
 * wrong keys is counted and decodes nothing; bytes that are not TLS at all
 * are passed through as they are.
 */
#ifndef OSLOTRACE_CAPTURE_TLS_CONN_H
#define OSLOTRACE_CAPTURE_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/tls_keylog.h"
#include "common/counters.h"

struct tls_config {
    size_t max_keylog_entries;      /* client randoms kept, default 16384 */
    bool hold_for_keys;             /* hold records until their keys arrive (live) */
    size_t max_held_bytes_per_conn; /* default 1 MiB */
    size_t max_held_bytes_total;    /* default 16 MiB */
};

void tls_config_default(struct tls_config *cfg);

struct tls_callbacks {
    /* Decrypted application data of direction dir (the TCP flow's). */
    void (*on_data)(void *down, int dir, const uint8_t *data, size_t len, uint64_t ts_ns,
                    uint64_t pkt_index);
    void (*on_gap)(void *down, int dir, uint64_t missing_bytes, uint64_t ts_ns);
};

struct tls_stats {
    uint64_t connections;   /* TCP connections on an AMQPS port */
    uint64_t tls13, tls12;  /* handshakes seen, by version */
    uint64_t hello_retries; /* HelloRetryRequests */
    uint64_t records, records_decrypted, bytes_decrypted;
    uint64_t conns_no_keys;       /* handshake seen, the key log had no secrets for it */
    uint64_t decrypt_failures;    /* directions whose records failed authentication (wrong keys) */
    uint64_t unsupported;         /* connections with a suite or version we cannot decrypt */
    uint64_t mid_stream;          /* connections seen without their handshake */
    uint64_t records_undecrypted; /* records not decrypted for any of the reasons above */
    uint64_t records_held, held_bytes, held_dropped;
    uint64_t gaps;      /* TCP holes inside TLS (that direction stops) */
    uint64_t malformed; /* record or handshake that is not valid TLS */
    uint64_t not_tls;   /* connections on the port that did not start with TLS (passed through) */
    uint64_t key_updates;
};

struct tls_decoder;
struct tls_conn;

struct tls_decoder *tls_decoder_new(const struct tls_config *cfg, const struct tls_callbacks *cb);
/* The key log the decoder reads (add files, feed DSBs before traffic). */
struct tls_keylog *tls_decoder_keylog(struct tls_decoder *d);
/* Re-reads growing key log files; held records whose keys arrived (from a
 * file or fed to the key log) are decrypted. */
void tls_decoder_poll_keys(struct tls_decoder *d);
/* down is handed back to every callback of this connection. */
struct tls_conn *tls_conn_open(struct tls_decoder *d, void *down);
void tls_conn_data(struct tls_conn *c, int dir, const uint8_t *data, size_t len, uint64_t ts_ns,
                   uint64_t pkt_index);
void tls_conn_gap(struct tls_conn *c, int dir, uint64_t missing_bytes, uint64_t ts_ns);
/* Frees c (held records that never got keys are counted dropped); returns its down. */
void *tls_conn_close(struct tls_conn *c);
void tls_decoder_get_stats(const struct tls_decoder *d, struct tls_stats *out);
bool tls_decoder_register_counters(const struct tls_decoder *d, struct counters *reg);
/* TLS connections were seen and not one record could be decrypted. */
bool tls_decoder_nothing_decrypted(const struct tls_decoder *d);
void tls_decoder_free(struct tls_decoder *d);

#endif

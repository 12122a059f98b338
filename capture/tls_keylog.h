/*
 * tls_keylog.h: TLS secrets from NSS key log files ("SSLKEYLOGFILE"), held
 * by client random for the TLS stage (capture/tls_conn.h) to look up.
 *
 * Text comes from files (--tls-keylog, followed as they grow during a live
 * capture: tls_keylog_poll re-reads what was appended) or from pcapng
 * Decryption Secrets Blocks (capture/pcapng_dsb.h), fed in any chunking: a
 * partial line waits for its end. Labels kept: CLIENT_RANDOM (1.2 master
 * secret), CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET and
 * CLIENT/SERVER_TRAFFIC_SECRET_0 (1.3); others (EXPORTER_SECRET, early
 * traffic) are counted and ignored. The table has max_entries client randoms;
 * the oldest is evicted and counted. Secrets never leave this module except
 * by tls_keylog_find, and are wiped when evicted or freed; errors name the
 * file and line, never the line's content.
 */
#ifndef OSLOTRACE_CAPTURE_TLS_KEYLOG_H
#define OSLOTRACE_CAPTURE_TLS_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/tls_crypto.h"

enum tls_secret_kind {
    TLS_SECRET_MASTER,    /* CLIENT_RANDOM */
    TLS_SECRET_CLIENT_HS, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    TLS_SECRET_SERVER_HS, /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    TLS_SECRET_CLIENT_AP, /* CLIENT_TRAFFIC_SECRET_0 */
    TLS_SECRET_SERVER_AP, /* SERVER_TRAFFIC_SECRET_0 */
    TLS_SECRET_COUNT
};

#define TLS_KEYLOG_MAX_FILES 8

struct tls_keylog_stats {
    uint64_t lines;         /* lines read (comments and blanks included) */
    uint64_t secrets;       /* secrets stored */
    uint64_t entries;       /* client randoms held now */
    uint64_t evicted;       /* client randoms pushed out of a full table */
    uint64_t bad_lines;     /* lines that are not "LABEL <64 hex> <hex secret>" */
    uint64_t ignored_lines; /* labels we do not use */
};

struct tls_keylog;

struct tls_keylog *tls_keylog_new(size_t max_entries);
/* Feeds key log text from source `src` (0..TLS_KEYLOG_MAX_FILES: files;
 * TLS_KEYLOG_MAX_FILES: blobs such as DSBs). A line split across calls waits. */
void tls_keylog_feed(struct tls_keylog *kl, unsigned src, const char *text, size_t len);
/* Ends a blob: its last line counts even without a newline. */
void tls_keylog_feed_end(struct tls_keylog *kl, unsigned src);
/* Adds a file to follow and reads what it holds now. False with a message in
 * err (file name and reason only) when it cannot be opened. */
bool tls_keylog_add_file(struct tls_keylog *kl, const char *path, char *err, size_t errlen);
/* Re-reads the files for appended lines (a file that shrank is read again
 * from its start). True when new secrets arrived. */
bool tls_keylog_poll(struct tls_keylog *kl);
/* The secret of one kind for a client random, or NULL; *len its length. */
const uint8_t *tls_keylog_find(const struct tls_keylog *kl, const uint8_t client_random[32],
                               enum tls_secret_kind kind, size_t *len);
/* Grows each time secrets are added: a cheap "anything new?" for waiters. */
uint64_t tls_keylog_generation(const struct tls_keylog *kl);
size_t tls_keylog_nfiles(const struct tls_keylog *kl);
void tls_keylog_get_stats(const struct tls_keylog *kl, struct tls_keylog_stats *out);
void tls_keylog_free(struct tls_keylog *kl);

#endif

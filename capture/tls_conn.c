/*
 * tls_conn.c: the TLS stage's state machine (see tls_conn.h).
 *
 * Records come from the per-direction splitter. Before a direction is
 * protected, handshake records feed the hello parsers; ChangeCipherSpec
 * (1.2) or the ServerHello (1.3) turns protection on. Protected records are
 * opened with the direction's keys, found in the key log by client random;
 * without them the record is held (bounded) or counted. Decrypted handshake
 * messages drive 1.3's key changes (Finished, KeyUpdate); decrypted
 * application data goes to on_data, split among the packets that carried the
 * record in proportion to the bytes each carried. A direction that fails
 * (bad authentication, a gap, a malformed record) stops for good and says so
 * once in the counters: the AMQP stage then sees a gap, as with lost packets.
 */
#include "capture/tls_conn.h"

#include <stdlib.h>
#include <string.h>

#include "capture/tls_crypto.h"
#include "capture/tls_handshake.h"
#include "capture/tls_record.h"

struct held_rec {
    struct held_rec *next;
    int dir;
    uint8_t hdr[TLS_RECORD_HDR];
    uint64_t ts_ns;
    uint64_t pkts[TLS_RECORD_MAX_PKTS];
    uint32_t pkt_bytes[TLS_RECORD_MAX_PKTS];
    size_t npkts, len;
    uint8_t data[];
};

struct tls_dir {
    struct tls_record_splitter rs;
    struct tls_hs_reasm hs;
    struct tls_cipher_state cs;
    uint8_t ap_secret[TLS_MAX_SECRET]; /* 1.3: the current application secret */
    size_t ap_len;
    bool protected; /* records from here on are encrypted */
    bool keyed;     /* cs is ready */
    bool app;       /* 1.3: cs holds application keys */
    bool dead;      /* given up: nothing more is decoded */
    bool started;
    /* 1.3 with no handshake secret: the handshake records cannot be opened
     * and are skipped (at most this many) until the application key opens one. */
    uint32_t hs_skip;
};

struct tls_conn {
    struct tls_decoder *d;
    void *down;
    int client_dir; /* -1 until a ClientHello */
    uint8_t client_random[32], server_random[32];
    bool have_ch, have_sh, passthrough, no_keys_counted, failed_counted;
    uint16_t version;
    const struct tls_suite *suite;
    bool etm;
    uint64_t keys_gen; /* key log generation when keys were last looked for */
    bool keys_looked;
    struct held_rec *held, *held_tail;
    size_t held_bytes;
    struct tls_conn *hprev, *hnext; /* decoder's list of conns holding records */
    bool in_held_list;
    struct tls_dir dir[2];
    int cur_dir; /* the direction being decoded (for the handshake callback) */
    uint64_t cur_ts;
};

struct tls_decoder {
    struct tls_config cfg;
    struct tls_callbacks cb;
    struct tls_keylog *kl;
    struct tls_conn *held_head;
    size_t held_total;
    uint64_t drained_gen; /* key log generation the held records were last tried with */
    struct tls_stats st;
    uint8_t plain[TLS_RECORD_MAX_PAYLOAD + 256];
};

void tls_config_default(struct tls_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_keylog_entries = 16384;
    cfg->max_held_bytes_per_conn = 1u << 20;
    cfg->max_held_bytes_total = 16u << 20;
}

struct tls_decoder *tls_decoder_new(const struct tls_config *cfg, const struct tls_callbacks *cb)
{
    struct tls_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = *cfg;
    d->cb = *cb;
    d->kl = tls_keylog_new(cfg->max_keylog_entries);
    if (!d->kl) {
        free(d);
        return NULL;
    }
    return d;
}

struct tls_keylog *tls_decoder_keylog(struct tls_decoder *d)
{
    return d->kl;
}

struct tls_conn *tls_conn_open(struct tls_decoder *d, void *down)
{
    struct tls_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->d = d;
    c->down = down;
    c->client_dir = -1;
    d->st.connections++;
    return c;
}

static void kill_dir(struct tls_conn *c, int dir)
{
    c->dir[dir].dead = true;
}

/* Hands decrypted bytes on, split among the record's packets. */
static void deliver(struct tls_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts,
                    const uint64_t *pkts, const uint32_t *pkt_bytes, size_t npkts)
{
    struct tls_decoder *d = c->d;
    d->st.bytes_decrypted += n;
    if (npkts <= 1) {
        d->cb.on_data(c->down, dir, p, n, ts, npkts ? pkts[0] : 0);
        return;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < npkts; i++)
        total += pkt_bytes[i];
    size_t done = 0;
    uint64_t cum = 0;
    for (size_t i = 0; i < npkts && done < n; i++) {
        cum += pkt_bytes[i];
        size_t upto = i + 1 == npkts || !total ? n : (size_t)((uint64_t)n * cum / total);
        if (upto > done) {
            d->cb.on_data(c->down, dir, p + done, upto - done, ts, pkts[i]);
            done = upto;
        }
    }
}

static const uint8_t *find_secret(struct tls_conn *c, enum tls_secret_kind k, size_t *len)
{
    return tls_keylog_find(c->d->kl, c->client_random, k, len);
}

/* Installs direction dir's keys (1.3: handshake, else application); false
 * when the key log does not have them (yet). */
static bool key_dir13(struct tls_conn *c, int dir)
{
    struct tls_dir *t = &c->dir[dir];
    bool client = dir == c->client_dir;
    size_t hs_len = 0, ap_len = 0;
    const uint8_t *hs =
        find_secret(c, client ? TLS_SECRET_CLIENT_HS : TLS_SECRET_SERVER_HS, &hs_len);
    const uint8_t *ap =
        find_secret(c, client ? TLS_SECRET_CLIENT_AP : TLS_SECRET_SERVER_AP, &ap_len);
    if (!ap || ap_len != tls_suite_hash_len(c->suite))
        return false;
    memcpy(t->ap_secret, ap, ap_len);
    t->ap_len = ap_len;
    if (hs && hs_len == ap_len && !t->app) {
        if (!tls13_cipher_init(&t->cs, c->suite, hs, hs_len))
            return false;
    } else {
        if (!tls13_cipher_init(&t->cs, c->suite, ap, ap_len))
            return false;
        t->app = true;
        if (!hs)
            t->hs_skip = 64;
    }
    t->keyed = true;
    return true;
}

static bool key_dir12(struct tls_conn *c, int dir)
{
    size_t len = 0;
    const uint8_t *master = find_secret(c, TLS_SECRET_MASTER, &len);
    if (!master || len != 48)
        return false;
    struct tls_dir *t = &c->dir[dir];
    if (!tls12_cipher_init(&t->cs, c->suite, master, c->client_random, c->server_random,
                           dir == c->client_dir, c->etm))
        return false;
    t->keyed = true;
    return true;
}

static bool key_dir(struct tls_conn *c, int dir)
{
    if (c->dir[dir].keyed)
        return true;
    uint64_t gen = tls_keylog_generation(c->d->kl);
    if (c->keys_looked && gen == c->keys_gen)
        return false; /* nothing new since the last look */
    bool ok = c->version == TLS_VERSION_13 ? key_dir13(c, dir) : key_dir12(c, dir);
    if (!ok) {
        c->keys_looked = true;
        c->keys_gen = gen;
    }
    return ok;
}

static void count_failure(struct tls_conn *c, int dir)
{
    c->d->st.decrypt_failures++;
    kill_dir(c, dir);
}

static void on_hs_msg(void *user, uint8_t type, const uint8_t *body, size_t len);

static void open_record(struct tls_conn *c, int dir, const uint8_t *hdr, const uint8_t *payload,
                        size_t len, uint64_t ts, const uint64_t *pkts, const uint32_t *pkt_bytes,
                        size_t npkts)
{
    struct tls_decoder *d = c->d;
    struct tls_dir *t = &c->dir[dir];
    size_t n = 0;
    uint8_t inner = 0;
    enum tls_decrypt_result r = tls_decrypt(&t->cs, hdr, payload, len, d->plain, &n, &inner);
    if (r == TLS_DECRYPT_BAD_AUTH && c->version == TLS_VERSION_13 && !t->app) {
        /* The handshake keys did not open it: the Finished went unseen, or the
         * key log has only the application secret. Try that, from seq 0. */
        struct tls_cipher_state ap = {0};
        if (tls13_cipher_init(&ap, c->suite, t->ap_secret, t->ap_len) &&
            tls_decrypt(&ap, hdr, payload, len, d->plain, &n, &inner) == TLS_DECRYPT_OK) {
            tls_cipher_free(&t->cs);
            t->cs = ap;
            t->app = true;
            r = TLS_DECRYPT_OK;
        } else {
            tls_cipher_free(&ap);
        }
    }
    d->st.records++;
    if (r == TLS_DECRYPT_BAD_AUTH && t->hs_skip) {
        t->hs_skip--; /* a handshake record we have no key for */
        d->st.records_undecrypted++;
        return;
    }
    if (r == TLS_DECRYPT_OK)
        t->hs_skip = 0;
    if (r != TLS_DECRYPT_OK) {
        d->st.records_undecrypted++;
        if (r == TLS_DECRYPT_MALFORMED) {
            d->st.malformed++;
            kill_dir(c, dir);
        } else {
            count_failure(c, dir);
        }
        return;
    }
    d->st.records_decrypted++;
    if (inner == TLS_CT_APPLICATION_DATA) {
        deliver(c, dir, d->plain, n, ts, pkts, pkt_bytes, npkts);
    } else if (inner == TLS_CT_HANDSHAKE) {
        c->cur_dir = dir;
        if (!tls_hs_feed(&t->hs, d->plain, n, on_hs_msg, c)) {
            d->st.malformed++;
            kill_dir(c, dir);
        }
    }
}

static void drop_held(struct tls_conn *c)
{
    struct tls_decoder *d = c->d;
    while (c->held) {
        struct held_rec *h = c->held;
        c->held = h->next;
        d->st.held_dropped++;
        d->st.records_undecrypted++;
        free(h);
    }
    c->held_tail = NULL;
    d->held_total -= c->held_bytes;
    d->st.held_bytes = d->held_total;
    c->held_bytes = 0;
    if (c->in_held_list) {
        if (c->hprev)
            c->hprev->hnext = c->hnext;
        else
            d->held_head = c->hnext;
        if (c->hnext)
            c->hnext->hprev = c->hprev;
        c->in_held_list = false;
        c->hprev = c->hnext = NULL;
    }
}

/* Keeps a record until its keys arrive; false when the limits say no. */
static bool hold(struct tls_conn *c, int dir, const struct tls_record *rec)
{
    struct tls_decoder *d = c->d;
    size_t cost = sizeof(struct held_rec) + rec->len;
    if (c->held_bytes + cost > d->cfg.max_held_bytes_per_conn ||
        d->held_total + cost > d->cfg.max_held_bytes_total)
        return false;
    struct held_rec *h = malloc(cost);
    if (!h)
        return false;
    h->next = NULL;
    h->dir = dir;
    memcpy(h->hdr, rec->hdr, TLS_RECORD_HDR);
    h->ts_ns = rec->ts_ns;
    h->npkts = rec->npkts;
    memcpy(h->pkts, rec->pkts, rec->npkts * sizeof h->pkts[0]);
    memcpy(h->pkt_bytes, rec->pkt_bytes, rec->npkts * sizeof h->pkt_bytes[0]);
    h->len = rec->len;
    memcpy(h->data, rec->payload, rec->len);
    if (c->held_tail)
        c->held_tail->next = h;
    else
        c->held = h;
    c->held_tail = h;
    c->held_bytes += cost;
    d->held_total += cost;
    d->st.held_bytes = d->held_total;
    d->st.records_held++;
    if (!c->in_held_list) {
        c->hnext = d->held_head;
        if (d->held_head)
            d->held_head->hprev = c;
        d->held_head = c;
        c->hprev = NULL;
        c->in_held_list = true;
    }
    return true;
}

/* Decrypts held records whose keys are now known, in arrival order. */
static void drain_held(struct tls_conn *c)
{
    while (c->held) {
        struct held_rec *h = c->held;
        struct tls_dir *t = &c->dir[h->dir];
        if (!t->dead && !key_dir(c, h->dir))
            return;
        c->held = h->next;
        if (!c->held)
            c->held_tail = NULL;
        size_t cost = sizeof(struct held_rec) + h->len;
        c->held_bytes -= cost;
        c->d->held_total -= cost;
        c->d->st.held_bytes = c->d->held_total;
        if (!t->dead)
            open_record(c, h->dir, h->hdr, h->data, h->len, h->ts_ns, h->pkts, h->pkt_bytes,
                        h->npkts);
        else
            c->d->st.records_undecrypted++;
        free(h);
    }
    drop_held(c); /* unlinks from the decoder's list */
}

static void no_keys(struct tls_conn *c)
{
    if (!c->no_keys_counted) {
        c->no_keys_counted = true;
        c->d->st.conns_no_keys++;
    }
}

static void protected_record(struct tls_conn *c, int dir, const struct tls_record *rec)
{
    struct tls_decoder *d = c->d;
    if (rec->type == TLS_CT_CHANGE_CIPHER_SPEC)
        return; /* 1.3 middlebox compatibility; never protected */
    if (c->held || !key_dir(c, dir)) {
        if (d->cfg.hold_for_keys && hold(c, dir, rec))
            return;
        if (d->cfg.hold_for_keys) {
            /* Over the limits: this record is lost, and the direction with it. */
            d->st.held_dropped++;
            kill_dir(c, dir);
        }
        no_keys(c);
        d->st.records++;
        d->st.records_undecrypted++;
        return;
    }
    open_record(c, dir, rec->hdr, rec->payload, rec->len, rec->ts_ns, rec->pkts, rec->pkt_bytes,
                rec->npkts);
}

static void server_hello(struct tls_conn *c, int dir, const uint8_t *body, size_t len)
{
    struct tls_decoder *d = c->d;
    struct tls_server_hello sh;
    if (!body || !tls_parse_server_hello(body, len, &sh)) {
        d->st.malformed++;
        kill_dir(c, 0);
        kill_dir(c, 1);
        return;
    }
    if (sh.hello_retry) {
        d->st.hello_retries++; /* a second ClientHello and ServerHello follow */
        return;
    }
    if (c->have_sh)
        return; /* renegotiation: not followed */
    c->have_sh = true;
    if (c->client_dir < 0)
        c->client_dir = !dir;
    memcpy(c->server_random, sh.random, 32);
    c->version = sh.version;
    c->etm = sh.encrypt_then_mac;
    c->suite = tls_suite_find(sh.cipher_suite);
    if (c->version == TLS_VERSION_13)
        d->st.tls13++;
    else if (c->version == TLS_VERSION_12)
        d->st.tls12++;
    if ((c->version != TLS_VERSION_13 && c->version != TLS_VERSION_12) || !c->suite ||
        c->suite->version != (c->version == TLS_VERSION_13 ? TLS_VERSION_13 : TLS_VERSION_12)) {
        d->st.unsupported++;
        kill_dir(c, 0);
        kill_dir(c, 1);
        return;
    }
    if (c->version == TLS_VERSION_13)
        c->dir[0].protected = c->dir[1].protected = true;
}

static void on_hs_msg(void *user, uint8_t type, const uint8_t *body, size_t len)
{
    struct tls_conn *c = user;
    int dir = c->cur_dir;
    struct tls_dir *t = &c->dir[dir];
    switch (type) {
    case TLS_HS_CLIENT_HELLO: {
        struct tls_client_hello ch;
        if (c->have_sh)
            break;
        if (!body || !tls_parse_client_hello(body, len, &ch)) {
            c->d->st.malformed++;
            kill_dir(c, 0);
            kill_dir(c, 1);
            break;
        }
        c->client_dir = dir;
        memcpy(c->client_random, ch.random, 32);
        c->have_ch = true;
        break;
    }
    case TLS_HS_SERVER_HELLO:
        if (!t->protected)
            server_hello(c, dir, body, len);
        break;
    case TLS_HS_FINISHED:
        /* 1.3: the sender's next record uses its application secret. */
        if (c->version == TLS_VERSION_13 && t->protected && !t->app && t->ap_len) {
            if (tls13_cipher_init(&t->cs, c->suite, t->ap_secret, t->ap_len))
                t->app = true;
            else
                kill_dir(c, dir);
        }
        break;
    case TLS_HS_KEY_UPDATE:
        if (c->version == TLS_VERSION_13 && t->app) {
            c->d->st.key_updates++;
            if (!tls13_next_secret(c->suite, t->ap_secret, t->ap_len) ||
                !tls13_cipher_init(&t->cs, c->suite, t->ap_secret, t->ap_len))
                kill_dir(c, dir);
        }
        break;
    default:
        break;
    }
}

static void plaintext_record(struct tls_conn *c, int dir, const struct tls_record *rec)
{
    struct tls_decoder *d = c->d;
    struct tls_dir *t = &c->dir[dir];
    d->st.records++;
    switch (rec->type) {
    case TLS_CT_HANDSHAKE:
        c->cur_dir = dir;
        if (!tls_hs_feed(&t->hs, rec->payload, rec->len, on_hs_msg, c)) {
            d->st.malformed++;
            kill_dir(c, dir);
        }
        break;
    case TLS_CT_CHANGE_CIPHER_SPEC:
        if (c->have_sh && c->version == TLS_VERSION_12)
            t->protected = true; /* seq starts at 0 with the next record */
        break;
    case TLS_CT_APPLICATION_DATA:
        d->st.records_undecrypted++;
        if (!c->have_ch && !c->have_sh) {
            /* The capture began after the handshake: no client random. */
            d->st.mid_stream++;
            kill_dir(c, 0);
            kill_dir(c, 1);
        }
        break;
    default:
        break;
    }
}

struct record_ctx {
    struct tls_conn *c;
    int dir;
};

static void on_record(void *user, const struct tls_record *rec)
{
    struct record_ctx *x = user;
    struct tls_conn *c = x->c;
    if (c->dir[x->dir].dead) {
        c->d->st.records++;
        c->d->st.records_undecrypted++;
        return;
    }
    if (c->dir[x->dir].protected)
        protected_record(c, x->dir, rec);
    else
        plaintext_record(c, x->dir, rec);
}

void tls_conn_data(struct tls_conn *c, int dir, const uint8_t *data, size_t len, uint64_t ts_ns,
                   uint64_t pkt_index)
{
    if (!c || dir < 0 || dir > 1 || !len)
        return;
    struct tls_dir *t = &c->dir[dir];
    if (c->passthrough) {
        c->d->cb.on_data(c->down, dir, data, len, ts_ns, pkt_index);
        return;
    }
    if (!t->started) {
        t->started = true;
        /* A connection on the port that does not open with a TLS record (plain
         * AMQP on 5671) is passed through untouched. */
        if (!c->dir[!dir].started && len >= TLS_RECORD_HDR && !tls_record_header_ok(data)) {
            c->passthrough = true;
            c->d->st.not_tls++;
            c->d->cb.on_data(c->down, dir, data, len, ts_ns, pkt_index);
            return;
        }
    }
    if (t->rs.failed)
        return;
    struct record_ctx x = {c, dir};
    c->cur_ts = ts_ns;
    if (!tls_record_feed(&t->rs, data, len, ts_ns, pkt_index, on_record, &x)) {
        c->d->st.malformed++;
        kill_dir(c, dir);
    }
}

void tls_conn_gap(struct tls_conn *c, int dir, uint64_t missing_bytes, uint64_t ts_ns)
{
    if (!c || dir < 0 || dir > 1)
        return;
    if (c->passthrough) {
        c->d->cb.on_gap(c->down, dir, missing_bytes, ts_ns);
        return;
    }
    /* Record boundaries and sequence numbers are lost: this direction stops. */
    if (!c->dir[dir].dead)
        c->d->st.gaps++;
    kill_dir(c, dir);
    tls_record_reset(&c->dir[dir].rs);
    c->d->cb.on_gap(c->down, dir, missing_bytes, ts_ns);
}

void *tls_conn_close(struct tls_conn *c)
{
    if (!c)
        return NULL;
    void *down = c->down;
    if (c->held) {
        no_keys(c);
        drop_held(c);
    }
    for (int i = 0; i < 2; i++) {
        tls_record_free(&c->dir[i].rs);
        tls_hs_free(&c->dir[i].hs);
        tls_cipher_free(&c->dir[i].cs);
        tls_wipe(c->dir[i].ap_secret, sizeof c->dir[i].ap_secret);
    }
    free(c);
    return down;
}

void tls_decoder_poll_keys(struct tls_decoder *d)
{
    tls_keylog_poll(d->kl);
    uint64_t gen = tls_keylog_generation(d->kl);
    if (gen == d->drained_gen)
        return;
    d->drained_gen = gen;
    struct tls_conn *c = d->held_head;
    while (c) {
        struct tls_conn *next = c->hnext;
        drain_held(c);
        c = next;
    }
}

void tls_decoder_get_stats(const struct tls_decoder *d, struct tls_stats *out)
{
    *out = d->st;
}

bool tls_decoder_nothing_decrypted(const struct tls_decoder *d)
{
    return d->st.connections > d->st.not_tls && d->st.records_decrypted == 0;
}

void tls_decoder_free(struct tls_decoder *d)
{
    if (!d)
        return;
    tls_keylog_free(d->kl);
    tls_wipe(d->plain, sizeof d->plain);
    free(d);
}

/* ---- counters ---- */

static const struct counter_def tls_rows[] = {
    COUNTER_ROW(struct tls_stats, connections, "tls_connections", TOTAL, COUNTER_REPORT,
                "TCP connections on an AMQPS port (TLS)."),
    COUNTER_ROW(struct tls_stats, tls13, "tls13_handshakes", TOTAL, COUNTER_REPORT,
                "TLS 1.3 handshakes seen."),
    COUNTER_ROW(struct tls_stats, tls12, "tls12_handshakes", TOTAL, COUNTER_REPORT,
                "TLS 1.2 handshakes seen."),
    COUNTER_ROW(struct tls_stats, records_decrypted, "tls_records_decrypted", TOTAL, COUNTER_REPORT,
                "TLS records decrypted."),
    COUNTER_ROW(struct tls_stats, records_undecrypted, "tls_records_undecrypted", TOTAL,
                COUNTER_REPORT, "TLS records that could not be decrypted (reasons below)."),
    COUNTER_ROW(struct tls_stats, conns_no_keys, "tls_connections_without_keys", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "TLS connections whose secrets were not in the key log (--tls-keylog)."),
    COUNTER_ROW(struct tls_stats, decrypt_failures, "tls_decryption_failures", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "TLS directions whose records failed authentication (wrong keys)."),
    COUNTER_ROW(struct tls_stats, unsupported, "tls_unsupported", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "TLS connections with a version or cipher suite that is not decrypted."),
    COUNTER_ROW(struct tls_stats, mid_stream, "tls_without_handshake", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "TLS connections seen without their handshake (capture began later)."),
    COUNTER_ROW(struct tls_stats, records_held, "tls_records_held", TOTAL, COUNTER_REPORT,
                "TLS records held until their keys reached the key log."),
    COUNTER_ROW(struct tls_stats, held_dropped, "tls_held_dropped", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "TLS records dropped while waiting for keys (limits, or no keys by the end)."),
    COUNTER_ROW(struct tls_stats, gaps, "tls_gaps", TOTAL, COUNTER_REPORT | COUNTER_ERROR,
                "TCP holes inside TLS (that direction is not decrypted further)."),
    COUNTER_ROW(struct tls_stats, malformed, "tls_malformed", TOTAL, COUNTER_REPORT | COUNTER_ERROR,
                "TLS records or handshakes that were not valid."),
    COUNTER_ROW(struct tls_stats, not_tls, "tls_port_plaintext", TOTAL, COUNTER_REPORT,
                "Connections on an AMQPS port that did not speak TLS (decoded as they are)."),
    COUNTER_ROW(struct tls_stats, hello_retries, "tls_hello_retries", TOTAL, 0,
                "TLS 1.3 HelloRetryRequests."),
    COUNTER_ROW(struct tls_stats, key_updates, "tls_key_updates", TOTAL, 0,
                "TLS 1.3 KeyUpdates followed."),
    COUNTER_ROW(struct tls_stats, records, "tls_records", TOTAL, 0, "TLS records seen."),
    COUNTER_ROW(struct tls_stats, bytes_decrypted, "tls_bytes_decrypted", TOTAL, 0,
                "Application bytes decrypted."),
    COUNTER_ROW(struct tls_stats, held_bytes, "tls_held_bytes", GAUGE, 0,
                "Bytes of records held for keys now."),
};

static const struct counter_def tls_keylog_rows[] = {
    COUNTER_ROW(struct tls_keylog_stats, entries, "tls_keylog_entries", GAUGE, 0,
                "Client randoms with secrets held from key logs."),
    COUNTER_ROW(struct tls_keylog_stats, evicted, "tls_keylog_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Client randoms pushed out of the full key log table."),
    COUNTER_ROW(struct tls_keylog_stats, bad_lines, "tls_keylog_bad_lines", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR, "Key log lines that could not be read."),
};

static void read_tls_stats(const void *owner, void *out)
{
    tls_decoder_get_stats(owner, out);
}

static void read_keylog_stats(const void *owner, void *out)
{
    const struct tls_decoder *d = owner;
    tls_keylog_get_stats(d->kl, out);
}

bool tls_decoder_register_counters(const struct tls_decoder *d, struct counters *reg)
{
    return counters_add(reg, tls_rows, sizeof tls_rows / sizeof tls_rows[0], read_tls_stats, d,
                        sizeof(struct tls_stats)) &&
           counters_add(reg, tls_keylog_rows, sizeof tls_keylog_rows / sizeof tls_keylog_rows[0],
                        read_keylog_stats, d, sizeof(struct tls_keylog_stats));
}

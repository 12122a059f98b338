/*
 * tls_keylog.c: the NSS key log parser and the secrets table.
 *
 * Parsing is line by line; each source (a file being followed, or blobs such
 * as pcapng DSBs) keeps its own partial line, so text can arrive in any
 * chunking and a line still being written by the service is read when its
 * newline arrives. The table is an array of entries used as a ring (the
 * oldest client random is evicted when full) with a chained hash index on
 * the client random. Lines are parsed through the bounds-checked cursor.
 */
#include "capture/tls_keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/rd.h"

#define LINE_MAX_LEN 400 /* longest valid line: label + 64 + 128 hex and spaces */
#define NO_ENTRY UINT32_MAX

struct kl_entry {
    uint8_t client_random[32];
    uint8_t len[TLS_SECRET_COUNT]; /* 0 = absent */
    uint8_t secret[TLS_SECRET_COUNT][TLS_MAX_SECRET];
    uint32_t next; /* hash chain */
    bool used;
};

struct kl_source {
    char line[LINE_MAX_LEN];
    size_t n;
    bool overlong; /* the line being read is longer than any valid one */
    uint64_t lineno;
    char *path; /* files only */
    off_t offset;
};

struct tls_keylog {
    struct kl_entry *e;
    size_t max, count, oldest; /* ring: entries [oldest, oldest + count) */
    uint32_t *buckets;
    size_t nbuckets; /* power of two */
    struct kl_source src[TLS_KEYLOG_MAX_FILES + 1];
    size_t nfiles;
    uint64_t generation;
    struct tls_keylog_stats st;
};

static const struct {
    const char *label;
    int kind; /* enum tls_secret_kind, -1 = known but unused */
} labels[] = {
    {"CLIENT_RANDOM", TLS_SECRET_MASTER},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_SECRET_CLIENT_HS},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_SECRET_SERVER_HS},
    {"CLIENT_TRAFFIC_SECRET_0", TLS_SECRET_CLIENT_AP},
    {"SERVER_TRAFFIC_SECRET_0", TLS_SECRET_SERVER_AP},
    {"EXPORTER_SECRET", -1},
    {"CLIENT_EARLY_TRAFFIC_SECRET", -1},
    {"EARLY_EXPORTER_SECRET", -1},
};

struct tls_keylog *tls_keylog_new(size_t max_entries)
{
    struct tls_keylog *kl = calloc(1, sizeof *kl);
    if (!kl)
        return NULL;
    kl->max = max_entries ? max_entries : 16384;
    kl->nbuckets = 64;
    while (kl->nbuckets < kl->max && kl->nbuckets < ((size_t)1 << 20))
        kl->nbuckets <<= 1;
    kl->e = calloc(kl->max, sizeof *kl->e);
    kl->buckets = malloc(kl->nbuckets * sizeof *kl->buckets);
    if (!kl->e || !kl->buckets) {
        tls_keylog_free(kl);
        return NULL;
    }
    for (size_t i = 0; i < kl->nbuckets; i++)
        kl->buckets[i] = NO_ENTRY;
    return kl;
}

static size_t bucket_of(const struct tls_keylog *kl, const uint8_t cr[32])
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 32; i++)
        h = (h ^ cr[i]) * 1099511628211ull;
    return (size_t)(h & (kl->nbuckets - 1));
}

static struct kl_entry *lookup(const struct tls_keylog *kl, const uint8_t cr[32])
{
    for (uint32_t i = kl->buckets[bucket_of(kl, cr)]; i != NO_ENTRY; i = kl->e[i].next)
        if (memcmp(kl->e[i].client_random, cr, 32) == 0)
            return &kl->e[i];
    return NULL;
}

static void evict_oldest(struct tls_keylog *kl)
{
    uint32_t idx = (uint32_t)kl->oldest;
    struct kl_entry *old = &kl->e[idx];
    uint32_t *pp = &kl->buckets[bucket_of(kl, old->client_random)];
    while (*pp != NO_ENTRY && *pp != idx)
        pp = &kl->e[*pp].next;
    if (*pp == idx)
        *pp = old->next;
    tls_wipe(old, sizeof *old);
    kl->oldest = (kl->oldest + 1) % kl->max;
    kl->count--;
    kl->st.evicted++;
}

static struct kl_entry *get_entry(struct tls_keylog *kl, const uint8_t cr[32])
{
    struct kl_entry *e = lookup(kl, cr);
    if (e)
        return e;
    if (kl->count == kl->max)
        evict_oldest(kl);
    uint32_t idx = (uint32_t)((kl->oldest + kl->count) % kl->max);
    e = &kl->e[idx];
    memset(e, 0, sizeof *e);
    memcpy(e->client_random, cr, 32);
    e->used = true;
    size_t b = bucket_of(kl, cr);
    e->next = kl->buckets[b];
    kl->buckets[b] = idx;
    kl->count++;
    return e;
}

/* Reads a run of hex digits up to a space or the end into out (at most max
 * bytes); returns the byte count, 0 on anything else. */
static size_t read_hex(struct rd *r, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (rd_left(r) > 0 && *r->p != ' ' && *r->p != '\t') {
        int hi = hex_digit(rd_u8(r));
        int lo = hex_digit(rd_u8(r));
        if (hi < 0 || lo < 0 || !r->ok || n == max)
            return 0;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return n;
}

static void skip_spaces(struct rd *r)
{
    while (rd_left(r) > 0 && (*r->p == ' ' || *r->p == '\t'))
        rd_skip(r, 1);
}

static void parse_line(struct tls_keylog *kl, const char *line, size_t len)
{
    kl->st.lines++;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0 || line[0] == '#')
        return;
    struct rd r = rd_make(line, len);
    const uint8_t *label = r.p;
    while (rd_left(&r) > 0 && *r.p != ' ' && *r.p != '\t')
        rd_skip(&r, 1);
    size_t label_len = (size_t)(r.p - label);
    int kind = -2;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strlen(labels[i].label) == label_len && !memcmp(labels[i].label, label, label_len))
            kind = labels[i].kind;
    uint8_t cr[32], secret[TLS_MAX_SECRET];
    skip_spaces(&r);
    size_t ncr = read_hex(&r, cr, sizeof cr);
    skip_spaces(&r);
    size_t ns = read_hex(&r, secret, sizeof secret);
    bool ok = r.ok && rd_left(&r) == 0 && ncr == 32 && ns > 0 && kind != -2;
    if (ok && kind == TLS_SECRET_MASTER && ns != 48)
        ok = false;
    if (!ok) {
        kl->st.bad_lines++;
    } else if (kind < 0) {
        kl->st.ignored_lines++;
    } else {
        struct kl_entry *e = get_entry(kl, cr);
        if (e->len[kind] != ns || memcmp(e->secret[kind], secret, ns)) {
            memcpy(e->secret[kind], secret, ns);
            e->len[kind] = (uint8_t)ns;
            kl->st.secrets++;
            kl->generation++;
        }
    }
    tls_wipe(secret, sizeof secret);
}

void tls_keylog_feed(struct tls_keylog *kl, unsigned src, const char *text, size_t len)
{
    if (src > TLS_KEYLOG_MAX_FILES)
        return;
    struct kl_source *s = &kl->src[src];
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            if (s->overlong)
                kl->st.bad_lines++, kl->st.lines++;
            else
                parse_line(kl, s->line, s->n);
            s->lineno++;
            s->n = 0;
            s->overlong = false;
        } else if (s->n < sizeof s->line) {
            s->line[s->n++] = c;
        } else {
            s->overlong = true;
        }
    }
    tls_wipe(s->line + s->n, sizeof s->line - s->n);
}

void tls_keylog_feed_end(struct tls_keylog *kl, unsigned src)
{
    if (src > TLS_KEYLOG_MAX_FILES)
        return;
    struct kl_source *s = &kl->src[src];
    if (s->n || s->overlong)
        tls_keylog_feed(kl, src, "\n", 1);
    tls_wipe(s->line, sizeof s->line);
}

/* Reads what was appended to file i since the last read. */
static bool read_file(struct tls_keylog *kl, size_t i, char *err, size_t errlen)
{
    struct kl_source *s = &kl->src[i];
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err)
            snprintf(err, errlen, "cannot open TLS key log %s: %s", s->path, strerror(errno));
        return false;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && sb.st_size < s->offset) {
        s->offset = 0; /* truncated or replaced: read it again */
        s->n = 0;
        s->overlong = false;
    }
    char buf[8192];
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, s->offset);
        if (n <= 0)
            break;
        tls_keylog_feed(kl, (unsigned)i, buf, (size_t)n);
        s->offset += n;
    }
    tls_wipe(buf, sizeof buf);
    close(fd);
    return true;
}

bool tls_keylog_add_file(struct tls_keylog *kl, const char *path, char *err, size_t errlen)
{
    if (kl->nfiles == TLS_KEYLOG_MAX_FILES) {
        snprintf(err, errlen, "too many --tls-keylog files (at most %d)", TLS_KEYLOG_MAX_FILES);
        return false;
    }
    struct kl_source *s = &kl->src[kl->nfiles];
    s->path = strdup(path);
    if (!s->path) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (!read_file(kl, kl->nfiles, err, errlen)) {
        free(s->path);
        s->path = NULL;
        return false;
    }
    kl->nfiles++;
    return true;
}

bool tls_keylog_poll(struct tls_keylog *kl)
{
    uint64_t before = kl->generation;
    for (size_t i = 0; i < kl->nfiles; i++)
        read_file(kl, i, NULL, 0);
    return kl->generation != before;
}

const uint8_t *tls_keylog_find(const struct tls_keylog *kl, const uint8_t client_random[32],
                               enum tls_secret_kind kind, size_t *len)
{
    const struct kl_entry *e = lookup(kl, client_random);
    if (!e || kind >= TLS_SECRET_COUNT || !e->len[kind])
        return NULL;
    *len = e->len[kind];
    return e->secret[kind];
}

uint64_t tls_keylog_generation(const struct tls_keylog *kl)
{
    return kl->generation;
}

size_t tls_keylog_nfiles(const struct tls_keylog *kl)
{
    return kl->nfiles;
}

void tls_keylog_get_stats(const struct tls_keylog *kl, struct tls_keylog_stats *out)
{
    *out = kl->st;
    out->entries = kl->count;
}

void tls_keylog_free(struct tls_keylog *kl)
{
    if (!kl)
        return;
    if (kl->e) {
        /* Only the ring's live entries hold secrets (evicted ones were wiped
         * then); wiping all max entries touched megabytes of never-used pages
         * on every run, TLS or not. */
        for (size_t i = 0; i < kl->count; i++)
            tls_wipe(&kl->e[(kl->oldest + i) % kl->max], sizeof *kl->e);
        free(kl->e);
    }
    for (size_t i = 0; i <= TLS_KEYLOG_MAX_FILES; i++) {
        free(kl->src[i].path);
        tls_wipe(kl->src[i].line, sizeof kl->src[i].line);
    }
    free(kl->buckets);
    free(kl);
}

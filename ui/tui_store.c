/*
 * tui_store.c: the TUI's memory. A ring of entries (one malloc each: the
 * entry, its strings and its packet numbers together, so eviction is one
 * free), a ring of the seqs that pass the current filter (seqs grow by one
 * per stored entry, so finding an entry by seq is arithmetic), bodies
 * malloc'd apart so the byte budget can free them oldest first while the
 * entry stays listed, and a sorted, bounded table of connections.
 * Strings are sanitized once on the way in: wire data never reaches the
 * terminal as escape sequences.
 */
#include "ui/tui_store.h"

#include <stdlib.h>
#include <string.h>

/* Every string of struct op the store keeps, with its cap. Data, not code:
 * a new field in op.h is a new row here. */
static const struct {
    size_t off;
    size_t cap;
} str_fields[] = {
    {offsetof(struct op, msg_id), TUI_STORE_STR_MAX},
    {offsetof(struct op, unique_id), TUI_STORE_STR_MAX},
    {offsetof(struct op, reply_q), TUI_STORE_STR_MAX},
    {offsetof(struct op, exchange), TUI_STORE_STR_MAX},
    {offsetof(struct op, routing_key), TUI_STORE_STR_MAX},
    {offsetof(struct op, topic), TUI_STORE_STR_MAX},
    {offsetof(struct op, server), TUI_STORE_STR_MAX},
    {offsetof(struct op, method), TUI_STORE_STR_MAX},
    {offsetof(struct op, namespace_), TUI_STORE_STR_MAX},
    {offsetof(struct op, version), TUI_STORE_STR_MAX},
    {offsetof(struct op, request_id), TUI_STORE_STR_MAX},
    {offsetof(struct op, global_request_id), TUI_STORE_STR_MAX},
    {offsetof(struct op, error_class), TUI_STORE_STR_MAX},
    {offsetof(struct op, error_module), TUI_STORE_STR_MAX},
    {offsetof(struct op, error_message), TUI_STORE_ERRMSG_MAX},
    {offsetof(struct op, client.connection_name), TUI_STORE_STR_MAX},
    {offsetof(struct op, server_peer.connection_name), TUI_STORE_STR_MAX},
    {offsetof(struct op, event_type), TUI_STORE_STR_MAX},
    {offsetof(struct op, priority), TUI_STORE_STR_MAX},
    {offsetof(struct op, publisher_id), TUI_STORE_STR_MAX},
    {offsetof(struct op, message_id), TUI_STORE_STR_MAX},
};
#define NSTR (sizeof str_fields / sizeof str_fields[0])

static const size_t body_off[TUI_BODY_COUNT] = {
    offsetof(struct op, args_json),
    offsetof(struct op, result_json),
    offsetof(struct op, context_json),
};

struct tui_store {
    struct tui_store_config cfg;
    struct tui_entry **ring; /* cfg.history slots */
    size_t head, n;          /* oldest slot, entries held */
    uint64_t next_seq;
    uint64_t body_scan_seq;  /* no entry older than this still holds bodies */
    uint64_t *vis;           /* seqs passing the filter, cfg.history slots */
    size_t vhead, vn;
    struct op_filter filter;
    uint64_t version;        /* moves whenever the visible list changes (a sorted view rebuilds) */
    struct tui_conn *conns;  /* sorted by info.id */
    size_t nconns;
    struct tui_store_stats st;
};

static const char **str_slot(struct op *op, size_t off)
{
    return (const char **)(void *)((char *)op + off);
}

static const char *const *str_slot_c(const struct op *op, size_t off)
{
    return (const char *const *)(const void *)((const char *)op + off);
}

void tui_store_config_default(struct tui_store_config *cfg)
{
    cfg->history = 100000;
    cfg->body_cap = 64 * 1024;
    cfg->body_budget = 64ull << 20;
    cfg->max_pkts = 1024;
    cfg->max_conns = 4096;
}

struct tui_store *tui_store_new(const struct tui_store_config *cfg)
{
    struct tui_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (s->cfg.history == 0)
        s->cfg.history = 1;
    if (s->cfg.max_conns == 0)
        s->cfg.max_conns = 1;
    s->ring = calloc(s->cfg.history, sizeof *s->ring);
    s->vis = calloc(s->cfg.history, sizeof *s->vis);
    s->conns = calloc(s->cfg.max_conns, sizeof *s->conns);
    if (!s->ring || !s->vis || !s->conns) {
        tui_store_free(s);
        return NULL;
    }
    s->next_seq = 1;
    s->body_scan_seq = 1;
    op_filter_init(&s->filter);
    return s;
}

static void free_bodies(struct tui_store *s, struct tui_entry *e)
{
    for (int b = 0; b < TUI_BODY_COUNT; b++) {
        const char **slot = str_slot(&e->op, body_off[b]);
        if (*slot) {
            free((void *)*slot);
            *slot = NULL;
            s->st.body_bytes -= e->body_len[b];
            e->body_len[b] = 0;
        }
    }
}

void tui_store_free(struct tui_store *s)
{
    if (!s)
        return;
    if (s->ring) {
        for (size_t i = 0; i < s->n; i++) {
            struct tui_entry *e = s->ring[(s->head + i) % s->cfg.history];
            free_bodies(s, e);
            free(e);
        }
    }
    free(s->ring);
    free(s->vis);
    free(s->conns);
    free(s);
}

/* Length of the valid UTF-8 character at p (up to end), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

bool tui_sanitize(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return false;
    const unsigned char *p = (const unsigned char *)src;
    const unsigned char *end = p + strlen(src);
    size_t o = 0;
    while (p < end) {
        uint32_t cp;
        size_t n = utf8_len(p, end, &cp);
        bool bad = n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
        size_t out = bad ? 1 : n;
        if (o + out > cap - 1) {
            dst[o] = '\0';
            return false;
        }
        if (bad)
            dst[o++] = '?';
        else
            memcpy(dst + o, p, n), o += n;
        p += n ? n : 1;
    }
    dst[o] = '\0';
    return true;
}

/* Longest prefix of s (at most max bytes) that ends on a character boundary. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static void drop_oldest(struct tui_store *s)
{
    struct tui_entry *e = s->ring[s->head];
    if (s->vn && s->vis[s->vhead] == e->seq) {
        s->vhead = (s->vhead + 1) % s->cfg.history;
        s->vn--;
    }
    free_bodies(s, e);
    free(e);
    s->ring[s->head] = NULL;
    s->head = (s->head + 1) % s->cfg.history;
    s->n--;
    s->st.evicted++;
    s->version++;
}

static struct tui_entry *entry_by_seq(const struct tui_store *s, uint64_t seq)
{
    if (!s->n)
        return NULL;
    uint64_t first = s->ring[s->head]->seq;
    if (seq < first || seq - first >= s->n)
        return NULL;
    return s->ring[(s->head + (size_t)(seq - first)) % s->cfg.history];
}

/* Frees bodies from the oldest entries until the budget holds again. */
static void enforce_budget(struct tui_store *s)
{
    while (s->st.body_bytes > s->cfg.body_budget && s->body_scan_seq < s->next_seq) {
        struct tui_entry *e = entry_by_seq(s, s->body_scan_seq);
        s->body_scan_seq++;
        if (!e)
            continue; /* already evicted: its bodies went with it */
        if (e->body_len[0] || e->body_len[1] || e->body_len[2]) {
            free_bodies(s, e);
            e->bodies_dropped = true;
            s->st.bodies_dropped++;
        }
    }
}

static void copy_bodies(struct tui_store *s, struct tui_entry *e, const struct op *op)
{
    for (int b = 0; b < TUI_BODY_COUNT; b++) {
        const char *src = *str_slot_c(op, body_off[b]);
        const char **dst = str_slot(&e->op, body_off[b]);
        *dst = NULL;
        if (!src)
            continue;
        size_t len = strlen(src);
        size_t keep = utf8_prefix(src, len, s->cfg.body_cap);
        char *copy = malloc(keep + 1);
        if (!copy) {
            s->st.alloc_failures++;
            continue;
        }
        memcpy(copy, src, keep);
        copy[keep] = '\0';
        if (keep < len) {
            e->body_cut[b] = true;
            s->st.bodies_cut++;
        }
        *dst = copy;
        e->body_len[b] = keep + 1;
        s->st.body_bytes += keep + 1;
    }
}

const struct tui_entry *tui_store_add_op(struct tui_store *s, const struct op *op)
{
    s->st.added++;
    size_t strbytes = 0;
    for (size_t i = 0; i < NSTR; i++) {
        const char *v = *str_slot_c(op, str_fields[i].off);
        if (v) {
            size_t l = strlen(v) + 1;
            strbytes += l < str_fields[i].cap ? l : str_fields[i].cap;
        }
    }
    size_t npkts = op->npkts < s->cfg.max_pkts ? op->npkts : s->cfg.max_pkts;
    size_t pkt_off = (sizeof(struct tui_entry) + 7) & ~(size_t)7;
    size_t str_off = pkt_off + npkts * sizeof(uint64_t);
    struct tui_entry *e = malloc(str_off + strbytes);
    if (!e) {
        s->st.alloc_failures++;
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->op = *op;
    char *w = (char *)e + str_off;
    for (size_t i = 0; i < NSTR; i++) {
        const char *v = *str_slot_c(op, str_fields[i].off);
        const char **dst = str_slot(&e->op, str_fields[i].off);
        if (!v) {
            *dst = NULL;
            continue;
        }
        size_t l = strlen(v) + 1;
        size_t room = l < str_fields[i].cap ? l : str_fields[i].cap;
        if (!tui_sanitize(w, room, v))
            s->st.strings_cut++;
        *dst = w;
        w += strlen(w) + 1;
    }
    uint64_t *pk = (uint64_t *)(void *)((char *)e + pkt_off);
    if (npkts)
        memcpy(pk, op->pkts, npkts * sizeof *pk);
    e->op.pkts = npkts ? pk : NULL;
    e->op.npkts = npkts;
    if (npkts < op->npkts) {
        e->pkts_cut = true;
        s->st.pkts_cut++;
    }
    copy_bodies(s, e, op);

    if (s->n == s->cfg.history)
        drop_oldest(s);
    e->seq = s->next_seq++;
    s->ring[(s->head + s->n) % s->cfg.history] = e;
    s->n++;
    if (op_filter_match(&s->filter, &e->op)) {
        /* vis never outgrows the ring: every seq in it is a stored entry */
        s->vis[(s->vhead + s->vn) % s->cfg.history] = e->seq;
        s->vn++;
        s->version++;
    }
    enforce_budget(s);
    return e;
}

void tui_store_set_filter(struct tui_store *s, const struct op_filter *f)
{
    s->filter = *f;
    s->vhead = 0;
    s->vn = 0;
    s->version++;
    for (size_t i = 0; i < s->n; i++) {
        const struct tui_entry *e = s->ring[(s->head + i) % s->cfg.history];
        if (op_filter_match(&s->filter, &e->op))
            s->vis[s->vn++] = e->seq;
    }
}

uint64_t tui_store_version(const struct tui_store *s)
{
    return s->version;
}

const struct op_filter *tui_store_filter(const struct tui_store *s)
{
    return &s->filter;
}

size_t tui_store_visible(const struct tui_store *s)
{
    return s->vn;
}

const struct tui_entry *tui_store_visible_at(const struct tui_store *s, size_t i)
{
    if (i >= s->vn)
        return NULL;
    return entry_by_seq(s, s->vis[(s->vhead + i) % s->cfg.history]);
}

size_t tui_store_visible_upto(const struct tui_store *s, uint64_t max_seq)
{
    size_t lo = 0, hi = s->vn;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->vis[(s->vhead + mid) % s->cfg.history] <= max_seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct tui_entry *tui_store_find(const struct tui_store *s, uint64_t seq)
{
    return entry_by_seq(s, seq);
}

uint64_t tui_store_last_seq(const struct tui_store *s)
{
    return s->next_seq - 1;
}

/* Index of the first connection with id >= id. */
static size_t conn_lower_bound(const struct tui_store *s, uint64_t id)
{
    size_t lo = 0, hi = s->nconns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->conns[mid].info.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A full table gives up a closed connection first (the least recently active
 * one), else the least recently active open one. */
static void evict_conn(struct tui_store *s)
{
    size_t victim = 0;
    bool victim_closed = s->conns[0].closed;
    for (size_t i = 1; i < s->nconns; i++) {
        const struct tui_conn *c = &s->conns[i];
        if (c->closed != victim_closed) {
            if (c->closed)
                victim = i, victim_closed = true;
            continue;
        }
        if (c->info.last_ts < s->conns[victim].info.last_ts)
            victim = i;
    }
    memmove(&s->conns[victim], &s->conns[victim + 1],
            (s->nconns - victim - 1) * sizeof *s->conns);
    s->nconns--;
    s->st.conns_evicted++;
}

static void sanitize_field(char *field, size_t size)
{
    char tmp[256];
    if (size > sizeof tmp)
        size = sizeof tmp;
    field[size - 1] = '\0';
    tui_sanitize(tmp, size, field);
    memcpy(field, tmp, strlen(tmp) + 1);
}

void tui_store_conn_event(struct tui_store *s, const struct amqp_conn_info *info,
                          enum amqp_conn_event ev)
{
    size_t i = conn_lower_bound(s, info->id);
    if (i == s->nconns || s->conns[i].info.id != info->id) {
        s->st.conns_seen++;
        if (s->nconns == s->cfg.max_conns) {
            evict_conn(s);
            i = conn_lower_bound(s, info->id);
        }
        memmove(&s->conns[i + 1], &s->conns[i], (s->nconns - i) * sizeof *s->conns);
        s->nconns++;
        memset(&s->conns[i], 0, sizeof s->conns[i]);
    }
    struct tui_conn *c = &s->conns[i];
    c->info = *info;
    c->info.handshake_pkts = NULL;
    sanitize_field(c->info.connection_name, sizeof c->info.connection_name);
    sanitize_field(c->info.product, sizeof c->info.product);
    sanitize_field(c->info.client_version, sizeof c->info.client_version);
    sanitize_field(c->info.server_product, sizeof c->info.server_product);
    sanitize_field(c->info.server_version, sizeof c->info.server_version);
    sanitize_field(c->info.user, sizeof c->info.user);
    sanitize_field(c->info.vhost, sizeof c->info.vhost);
    sanitize_field(c->info.platform, sizeof c->info.platform);
    sanitize_field(c->info.server_platform, sizeof c->info.server_platform);
    sanitize_field(c->info.mechanism, sizeof c->info.mechanism);
    if (info->handshake_pkts && info->nhandshake_pkts) {
        size_t n = info->nhandshake_pkts < TUI_STORE_HANDSHAKE_MAX ? info->nhandshake_pkts
                                                                   : TUI_STORE_HANDSHAKE_MAX;
        memcpy(c->handshake, info->handshake_pkts, n * sizeof c->handshake[0]);
        c->nhandshake = n;
    }
    if (ev == AMQP_CONN_CLOSE)
        c->closed = true;
}

size_t tui_store_conn_count(const struct tui_store *s)
{
    return s->nconns;
}

const struct tui_conn *tui_store_conn_at(const struct tui_store *s, size_t i)
{
    return i < s->nconns ? &s->conns[i] : NULL;
}

const struct tui_conn *tui_store_conn_find(const struct tui_store *s, uint64_t id)
{
    size_t i = conn_lower_bound(s, id);
    return i < s->nconns && s->conns[i].info.id == id ? &s->conns[i] : NULL;
}

void tui_store_get_stats(const struct tui_store *s, struct tui_store_stats *out)
{
    *out = s->st;
    out->entries = s->n;
    out->visible = s->vn;
    out->conns = s->nconns;
}

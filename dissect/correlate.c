/*
 * correlate.c: matching the legs of oslo operations and deciding when each
 * operation has ended.
 *
 * One table of entries, keyed by (kind, id): calls by _msg_id, casts and
 * fanouts by _unique_id, notifications by message_id. Ids that are uuid hex
 * (the normal case) are stored as 16 binary bytes; other strings, and the
 * names that repeat across operations (exchange, topic, method, reply queue,
 * connection identity), live once in a reference-counted string pool, so an
 * entry is a few hundred bytes. Lookup is an open-addressing hash with
 * backward-shift deletion; each entry has one deadline in an indexed binary
 * heap (timeout, hold, late window or linger), so corr_tick() touches only
 * the entries whose time has come. Creation order is kept in a list: when
 * the table is full the oldest entry is evicted.
 *
 * Entry life: PENDING (collecting legs) → TIMED_OUT (calls only: waiting
 * for a late reply) → DONE (emitted; the key lingers a little so stray
 * legs are recognised as duplicates, not new operations) → freed.
 */
#include "dissect/correlate.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define OSLOTRACE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OSLOTRACE_ASAN 1
#endif
#endif
#ifdef OSLOTRACE_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#define CORR_MAX_PKTS 256  /* packet numbers kept per operation */
#define CORR_REPLY_IDS 4   /* distinct reply _unique_ids remembered per call */
#define CORR_FANOUT_RX 32  /* distinct fanout receivers remembered */
#define CORR_STR_MAX 4096  /* longer pooled strings are cut */
#define CORR_FIELD_MAX 255 /* one field of a request shape */
#define NS_PER_S 1000000000ull

/* ---------- string pool ---------- */

struct istr {
    struct istr *next;
    uint32_t refs, hash, len;
    char s[];
};

struct strpool {
    struct istr **b;
    size_t nb, n, max;
    uint64_t full;
};

static uint32_t fnv32(const void *p, size_t len, uint32_t h)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

static bool sp_init(struct strpool *sp, size_t max)
{
    sp->nb = 1024;
    sp->b = calloc(sp->nb, sizeof(*sp->b));
    sp->n = 0;
    sp->max = max;
    sp->full = 0;
    return sp->b != NULL;
}

static void sp_grow(struct strpool *sp)
{
    size_t nb = sp->nb * 2;
    struct istr **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* keep the longer chains */
    for (size_t i = 0; i < sp->nb; i++) {
        struct istr *e = sp->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(sp->b);
    sp->b = b;
    sp->nb = nb;
}

/* A reference to the pooled copy of s[0..len); NULL when the pool is full. */
static struct istr *sp_get(struct strpool *sp, const void *s, size_t len)
{
    if (len > CORR_STR_MAX)
        len = CORR_STR_MAX;
    uint32_t h = fnv32(s, len, 2166136261u);
    for (struct istr *e = sp->b[h & (sp->nb - 1)]; e; e = e->next) {
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
            e->refs++;
            return e;
        }
    }
    if (sp->n >= sp->max) {
        sp->full++;
        return NULL;
    }
    struct istr *e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        sp->full++;
        return NULL;
    }
    e->refs = 1;
    e->hash = h;
    e->len = (uint32_t)len;
    memcpy(e->s, s, len);
    e->s[len] = '\0';
    e->next = sp->b[h & (sp->nb - 1)];
    sp->b[h & (sp->nb - 1)] = e;
    if (++sp->n > sp->nb)
        sp_grow(sp);
    return e;
}

static struct istr *sp_cstr(struct strpool *sp, const char *s)
{
    return sp_get(sp, s, strlen(s));
}

static void sp_put(struct strpool *sp, struct istr *e)
{
    if (!e || --e->refs)
        return;
    struct istr **pp = &sp->b[e->hash & (sp->nb - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    sp->n--;
    free(e);
}

static void sp_free(struct strpool *sp)
{
    for (size_t i = 0; i < sp->nb; i++) {
        struct istr *e = sp->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(sp->b);
}

/* ---------- compact ids ---------- */

enum cid_form { CID_NONE, CID_HEX, CID_UUID, CID_REQ_UUID, CID_STR };

struct cid {
    uint8_t form;
    uint8_t b[16]; /* 16 bytes, or (CID_STR) a struct istr pointer */
};

/* 32 lower-case hex digits, optionally with uuid dashes at 8-4-4-4-12. Upper
 * case is not the canonical form: such ids go to CID_STR. Every message has
 * two or three ids, so this is a table walk, not a chain of compares. */
static bool parse_hex(const char *s, size_t len, bool dashed, uint8_t out[16])
{
    static const int8_t nib[256] = {
        ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
        ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
        ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16};
    if (len != (dashed ? 36u : 32u))
        return false;
    if (dashed && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-'))
        return false;
    const uint8_t *u = (const uint8_t *)s;
    int bad = 0;
    for (size_t i = 0, j = 0; j < 16; j++) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23))
            i++;
        int hi = nib[u[i]] - 1, lo = nib[u[i + 1]] - 1;
        bad |= hi | lo; /* -1 for a byte that is not a lower-case hex digit */
        out[j] = (uint8_t)((hi & 0xF) << 4 | (lo & 0xF));
        i += 2;
    }
    return bad >= 0;
}

static struct istr *cid_istr(const struct cid *id)
{
    struct istr *p;
    memcpy(&p, id->b, sizeof(p));
    return p;
}

/* false only when the string had to be pooled and the pool was full. */
static bool cid_make(struct strpool *sp, const char *s, struct cid *id)
{
    size_t len = strlen(s);
    memset(id, 0, sizeof(*id));
    if (parse_hex(s, len, false, id->b))
        id->form = CID_HEX;
    else if (parse_hex(s, len, true, id->b))
        id->form = CID_UUID;
    else if (len > 4 && memcmp(s, "req-", 4) == 0 && parse_hex(s + 4, len - 4, true, id->b))
        id->form = CID_REQ_UUID;
    else {
        struct istr *p = sp_cstr(sp, s);
        if (!p)
            return false;
        id->form = CID_STR;
        memcpy(id->b, &p, sizeof(p));
    }
    return true;
}

static void cid_release(struct strpool *sp, struct cid *id)
{
    if (id->form == CID_STR)
        sp_put(sp, cid_istr(id));
    id->form = CID_NONE;
}

static bool cid_equal(const struct cid *a, const struct cid *b)
{
    if (a->form != b->form)
        return false;
    if (a->form == CID_STR)
        return cid_istr(a) == cid_istr(b); /* pooled: equal strings share a copy */
    return memcmp(a->b, b->b, 16) == 0;
}

static uint32_t cid_hash(const struct cid *id)
{
    if (id->form == CID_STR)
        return cid_istr(id)->hash ^ 0x9e3779b9u;
    return fnv32(id->b, 16, fnv32(&id->form, 1, 2166136261u));
}

/* Writes the printed form into buf (>= 64 bytes); NULL when absent. */
static const char *cid_format(const struct cid *id, char *buf, size_t len)
{
    static const char hx[] = "0123456789abcdef";
    size_t j = 0;
    if (id->form == CID_NONE)
        return NULL;
    if (id->form == CID_STR)
        return cid_istr(id)->s;
    if (id->form == CID_REQ_UUID) {
        memcpy(buf, "req-", 4);
        j = 4;
    }
    for (size_t i = 0; i < 16 && j + 3 < len; i++) {
        if (id->form != CID_HEX && (i == 4 || i == 6 || i == 8 || i == 10))
            buf[j++] = '-';
        buf[j++] = hx[id->b[i] >> 4];
        buf[j++] = hx[id->b[i] & 15];
    }
    buf[j] = '\0';
    return buf;
}

/* ---------- entries ---------- */

enum ent_kind { ENT_CALL, ENT_CAST };
enum ent_state { ST_PENDING, ST_TIMED_OUT, ST_DONE };

enum ent_flag {
    F_REQUEST = 1u << 0,    /* a request leg was seen (else: an orphan reply so far) */
    F_UNROUTABLE = 1u << 1, /* basic.return of the request / cast */
    F_FINAL_PUB = 1u << 2,  /* the final reply's publish leg was seen */
    F_FINAL_DEL = 1u << 3,  /* the final reply's deliver leg was seen */
    F_ANSWERED = 1u << 4,   /* a reply with result or failure was seen */
    F_ERROR = 1u << 5,      /* ... and it was a failure */
    F_REPLY_PUB = 1u << 6,  /* some reply was seen on its publish leg */
};

/* What only some entries need, allocated on demand. */
struct extra {
    struct cid reply_ids[CORR_REPLY_IDS];
    uint32_t nreply_ids;
    struct cid final_reply_id;
    uint64_t last_beat_ns;
    uint64_t *rx; /* fanout receivers: hashes of (connection, queue), CORR_FANOUT_RX */
    uint32_t nrx;
    char *error_class, *error_module, *error_message;
    char *args_json, *result_json, *context_json;
    struct istr *event_type, *priority, *publisher_id;
};

/* Ordered widest first so there are no holes: 224 bytes, which with the hash
 * slot and heap slot keeps a pending call under 256 bytes (bench/run). */
struct entry {
    struct entry *prev, *next; /* creation order; next also links the free list */
    uint64_t deadline;         /* the heap key */
    uint64_t first_ns;         /* first leg of any kind */
    uint64_t timeline[LEG_COUNT];
    struct istr *shape; /* exchange, routing key, topic, … as one pooled string (see shape_make) */
    struct istr *conn[LEG_COUNT]; /* connection identity per leg (see conn_ref) */
    uint64_t *pkts;               /* packet numbers (want_pkts), at most CORR_MAX_PKTS */
    struct extra *x;
    uint32_t hash;
    uint32_t heap_idx;
    uint32_t timeout_ms, monitor_ms;
    uint16_t flags;
    uint16_t replies, heartbeats, fanout_receivers;
    uint16_t npkts, cap_pkts;
    uint8_t kind, type, state;
    struct cid key, unique_id, request_id, global_request_id;
};

/* Entries come from slabs of this many: no per-entry malloc header, and a
 * freed entry is reused by the next operation. Slabs are returned at corr_free;
 * their number is bounded by max_pending. */
#define ENTRY_SLAB 1024

struct entry_slab {
    struct entry_slab *next;
    struct entry e[ENTRY_SLAB];
};

struct corr {
    struct corr_config cfg;
    void (*on_op)(void *user, const struct op *op);
    void *user;
    struct oslo_decoder dec;
    struct oslo_msg om; /* reused: it is large */
    struct strpool sp;
    struct entry **slots;
    size_t nslots, nentries;
    struct entry **heap;
    size_t nheap, cap_heap;
    struct entry *oldest, *newest;
    struct entry_slab *slabs;
    struct entry *free_entries;
    uint64_t now;
    struct corr_stats st;
};

void corr_config_default(struct corr_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->call_timeout_s = 60.0;
    cfg->max_pending = 1000000;
    cfg->max_inflate = 64u << 20;
    cfg->hold_s = 2.0;
    cfg->want_pkts = true;
}

static uint64_t secs_to_ns(double s)
{
    return s <= 0 ? 0 : (uint64_t)(s * 1e9 + 0.5);
}

/* ---------- heap of deadlines ---------- */

static void heap_swap(struct corr *c, size_t i, size_t j)
{
    struct entry *t = c->heap[i];
    c->heap[i] = c->heap[j];
    c->heap[j] = t;
    c->heap[i]->heap_idx = (uint32_t)i;
    c->heap[j]->heap_idx = (uint32_t)j;
}

static void heap_fix(struct corr *c, size_t i)
{
    while (i > 0 && c->heap[(i - 1) / 2]->deadline > c->heap[i]->deadline) {
        heap_swap(c, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->nheap && c->heap[l]->deadline < c->heap[m]->deadline)
            m = l;
        if (r < c->nheap && c->heap[r]->deadline < c->heap[m]->deadline)
            m = r;
        if (m == i)
            return;
        heap_swap(c, i, m);
        i = m;
    }
}

static bool heap_push(struct corr *c, struct entry *e)
{
    if (c->nheap == c->cap_heap) {
        size_t ncap = c->cap_heap ? c->cap_heap * 2 : 1024;
        struct entry **nh = realloc(c->heap, ncap * sizeof(*nh));
        if (!nh)
            return false;
        c->heap = nh;
        c->cap_heap = ncap;
    }
    e->heap_idx = (uint32_t)c->nheap;
    c->heap[c->nheap++] = e;
    heap_fix(c, e->heap_idx);
    return true;
}

static void heap_remove(struct corr *c, struct entry *e)
{
    size_t i = e->heap_idx;
    if (i >= c->nheap || c->heap[i] != e)
        return;
    c->nheap--;
    if (i != c->nheap) {
        c->heap[i] = c->heap[c->nheap];
        c->heap[i]->heap_idx = (uint32_t)i;
        heap_fix(c, i);
    }
    e->heap_idx = UINT32_MAX;
}

static void set_deadline(struct corr *c, struct entry *e, uint64_t t)
{
    e->deadline = t;
    if (e->heap_idx < c->nheap && c->heap[e->heap_idx] == e)
        heap_fix(c, e->heap_idx);
}

/* ---------- hash table ---------- */

static bool key_equal(const struct entry *e, uint8_t kind, const struct cid *k)
{
    return e->kind == kind && cid_equal(&e->key, k);
}

static uint32_t key_hash(uint8_t kind, const struct cid *k)
{
    return cid_hash(k) * 2654435761u + kind;
}

static struct entry *lookup(struct corr *c, uint8_t kind, const struct cid *k)
{
    uint32_t h = key_hash(kind, k);
    size_t mask = c->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct entry *e = c->slots[i];
        if (!e)
            return NULL;
        if (e->hash == h && key_equal(e, kind, k))
            return e;
    }
}

static void slot_insert(struct entry **slots, size_t nslots, struct entry *e)
{
    size_t mask = nslots - 1;
    size_t i = e->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = e;
}

static bool table_grow(struct corr *c)
{
    size_t n = c->nslots * 2;
    struct entry **ns = calloc(n, sizeof(*ns));
    if (!ns)
        return false;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i])
            slot_insert(ns, n, c->slots[i]);
    free(c->slots);
    c->slots = ns;
    c->nslots = n;
    return true;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void slot_delete(struct corr *c, struct entry *e)
{
    size_t mask = c->nslots - 1;
    size_t i = e->hash & mask;
    while (c->slots[i] != e) {
        if (!c->slots[i])
            return;
        i = (i + 1) & mask;
    }
    c->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; c->slots[j]; j = (j + 1) & mask) {
        size_t home = c->slots[j]->hash & mask;
        /* Move slots[j] into the hole when its home is not in (i, j]. */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            c->slots[i] = c->slots[j];
            c->slots[j] = NULL;
            i = j;
        }
    }
}

/* ---------- entry lifetime ---------- */

/* A zeroed entry from the free list, a new slab when it is empty. Under
 * AddressSanitizer free entries are poisoned, so a use after release is
 * still reported as with malloc. */
static struct entry *entry_alloc(struct corr *c)
{
    if (!c->free_entries) {
        struct entry_slab *sl = malloc(sizeof(*sl));
        if (!sl)
            return NULL;
        sl->next = c->slabs;
        c->slabs = sl;
        for (size_t i = ENTRY_SLAB; i-- > 0;) {
            sl->e[i].next = c->free_entries;
            c->free_entries = &sl->e[i];
            ASAN_POISON_MEMORY_REGION(&sl->e[i], sizeof(sl->e[i]));
        }
    }
    struct entry *e = c->free_entries;
    ASAN_UNPOISON_MEMORY_REGION(e, sizeof(*e));
    c->free_entries = e->next;
    memset(e, 0, sizeof(*e));
    return e;
}

static void entry_release(struct corr *c, struct entry *e)
{
    e->next = c->free_entries;
    c->free_entries = e;
    ASAN_POISON_MEMORY_REGION(e, sizeof(*e));
}

static void release_strings(struct corr *c, struct entry *e)
{
    struct istr **s[] = {&e->shape, &e->conn[0], &e->conn[1], &e->conn[2], &e->conn[3]};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        sp_put(&c->sp, *s[i]);
        *s[i] = NULL;
    }
    cid_release(&c->sp, &e->unique_id);
    cid_release(&c->sp, &e->request_id);
    cid_release(&c->sp, &e->global_request_id);
    free(e->pkts);
    e->pkts = NULL;
    e->npkts = e->cap_pkts = 0;
    struct extra *x = e->x;
    if (x) {
        free(x->rx);
        for (uint32_t i = 0; i < x->nreply_ids && i < CORR_REPLY_IDS; i++)
            cid_release(&c->sp, &x->reply_ids[i]);
        cid_release(&c->sp, &x->final_reply_id);
        free(x->error_class);
        free(x->error_module);
        free(x->error_message);
        free(x->args_json);
        free(x->result_json);
        free(x->context_json);
        sp_put(&c->sp, x->event_type);
        sp_put(&c->sp, x->priority);
        sp_put(&c->sp, x->publisher_id);
        free(x);
        e->x = NULL;
    }
}

static bool is_pending_call(const struct entry *e)
{
    return e->kind == ENT_CALL && e->state != ST_DONE && (e->flags & F_REQUEST);
}

static void entry_free(struct corr *c, struct entry *e)
{
    if (is_pending_call(e) && c->st.pending)
        c->st.pending--;
    heap_remove(c, e);
    slot_delete(c, e);
    if (e->prev)
        e->prev->next = e->next;
    else
        c->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->newest = e->prev;
    release_strings(c, e);
    cid_release(&c->sp, &e->key);
    c->nentries--;
    entry_release(c, e);
}

static struct extra *extra(struct entry *e)
{
    if (!e->x)
        e->x = calloc(1, sizeof(*e->x));
    return e->x;
}

static void emit(struct corr *c, struct entry *e, enum op_status status);
static void finalize(struct corr *c, struct entry *e, bool at_finish, bool evicted);

/* Makes room for one more entry: the oldest goes. */
static void make_room(struct corr *c)
{
    while (c->nentries >= c->cfg.max_pending && c->oldest) {
        struct entry *e = c->oldest;
        if (e->state != ST_DONE)
            c->st.evicted++;
        finalize(c, e, false, true);
        entry_free(c, e);
    }
}

static struct entry *entry_new(struct corr *c, uint8_t kind, const struct cid *key)
{
    make_room(c);
    if ((c->nentries + 1) * 2 > c->nslots && !table_grow(c))
        return NULL;
    struct entry *e = entry_alloc(c);
    if (!e)
        return NULL;
    e->kind = kind;
    e->key = *key;
    e->hash = key_hash(kind, key);
    e->heap_idx = UINT32_MAX;
    e->deadline = UINT64_MAX;
    if (!heap_push(c, e)) {
        entry_release(c, e);
        return NULL;
    }
    slot_insert(c->slots, c->nslots, e);
    e->prev = c->newest;
    if (c->newest)
        c->newest->next = e;
    else
        c->oldest = e;
    c->newest = e;
    c->nentries++;
    return e;
}

static struct istr *pool(struct corr *c, const char *s, bool present)
{
    if (!present)
        return NULL;
    struct istr *p = sp_cstr(&c->sp, s);
    if (!p)
        c->st.intern_full++;
    return p;
}

static void set_str(struct corr *c, struct istr **dst, const char *s, bool present)
{
    if (*dst || !present)
        return;
    *dst = pool(c, s, true);
}

static void set_cid(struct corr *c, struct cid *dst, const char *s, bool present)
{
    if (dst->form != CID_NONE || !present)
        return;
    if (!cid_make(&c->sp, s, dst))
        c->st.intern_full++;
}

/* The names a request carries that repeat across thousands of operations —
 * exchange, routing key, topic, server, method, namespace, version, reply
 * queue — pooled as ONE string: each field is a presence byte, the bytes and
 * a NUL, so the pooled copy is read back as plain C strings. One pointer per
 * entry instead of eight. */
enum shape_field {
    SH_EXCHANGE,
    SH_ROUTING_KEY,
    SH_TOPIC,
    SH_SERVER,
    SH_METHOD,
    SH_NAMESPACE,
    SH_VERSION,
    SH_REPLY_Q,
    SH_COUNT
};

static size_t shape_put(uint8_t *buf, size_t n, const void *p, size_t len, bool present)
{
    buf[n++] = present;
    if (present) {
        if (len > CORR_FIELD_MAX)
            len = CORR_FIELD_MAX;
        memcpy(buf + n, p, len);
        n += len;
    }
    buf[n++] = '\0';
    return n;
}

static struct istr *shape_make(struct corr *c, const struct oslo_msg *om,
                               const struct amqp_message *m)
{
    uint8_t buf[SH_COUNT * (CORR_FIELD_MAX + 2)];
    size_t n = 0;
    n = shape_put(buf, n, m->exchange.p, m->exchange.len, m->exchange.p != NULL);
    n = shape_put(buf, n, m->routing_key.p, m->routing_key.len, m->routing_key.p != NULL);
    n = shape_put(buf, n, om->topic, strlen(om->topic), om->have & OSLO_HAVE_TOPIC);
    n = shape_put(buf, n, om->server, strlen(om->server), om->have & OSLO_HAVE_SERVER);
    n = shape_put(buf, n, om->method, strlen(om->method), om->have & OSLO_HAVE_METHOD);
    n = shape_put(buf, n, om->namespace_, strlen(om->namespace_), om->have & OSLO_HAVE_NAMESPACE);
    n = shape_put(buf, n, om->version, strlen(om->version), om->have & OSLO_HAVE_VERSION);
    n = shape_put(buf, n, om->reply_q, strlen(om->reply_q), om->have & OSLO_HAVE_REPLY_Q);
    struct istr *p = sp_get(&c->sp, buf, n);
    if (!p)
        c->st.intern_full++;
    return p;
}

static void shape_fields(const struct istr *sh, const char *out[SH_COUNT])
{
    memset(out, 0, SH_COUNT * sizeof(out[0]));
    if (!sh)
        return;
    const char *p = sh->s, *end = sh->s + sh->len;
    for (int i = 0; i < SH_COUNT && p < end; i++) {
        bool present = *p++;
        out[i] = present ? p : NULL;
        p += strlen(p) + 1;
    }
}

/* Connection identity as pooled bytes: id(8) family(1) ip(16) port(2) name. */
#define CONN_HDR 27
static struct istr *conn_ref(struct corr *c, const struct amqp_conn_info *ci)
{
    uint8_t buf[CONN_HDR + sizeof(ci->connection_name)];
    if (!ci)
        return NULL;
    size_t nl = strnlen(ci->connection_name, sizeof(ci->connection_name) - 1);
    memcpy(buf, &ci->id, 8);
    buf[8] = ci->client.family;
    memcpy(buf + 9, ci->client.ip, 16);
    memcpy(buf + 25, &ci->client.port, 2);
    memcpy(buf + CONN_HDR, ci->connection_name, nl);
    struct istr *p = sp_get(&c->sp, buf, CONN_HDR + nl);
    if (!p)
        c->st.intern_full++;
    return p;
}

static void conn_peer(const struct istr *p, struct op_peer *peer, uint64_t *id)
{
    memset(peer, 0, sizeof(*peer));
    if (!p || p->len < CONN_HDR)
        return;
    peer->known = true;
    memcpy(id, p->s, 8);
    peer->addr.family = (uint8_t)p->s[8];
    memcpy(peer->addr.ip, p->s + 9, 16);
    memcpy(&peer->addr.port, p->s + 25, 2);
    peer->connection_name = p->len > CONN_HDR ? p->s + CONN_HDR : NULL;
}

static void add_pkts(struct corr *c, struct entry *e, const struct amqp_message *m)
{
    if (!c->cfg.want_pkts || !m->npkts || !m->pkts)
        return;
    for (size_t i = 0; i < m->npkts && e->npkts < CORR_MAX_PKTS; i++) {
        uint64_t p = m->pkts[i];
        bool dup = false;
        /* Frames of neighbouring messages share segments: check the recent tail. */
        for (uint32_t k = e->npkts > 16 ? e->npkts - 16u : 0; k < e->npkts; k++)
            if (e->pkts[k] == p)
                dup = true;
        if (dup)
            continue;
        if (e->npkts == e->cap_pkts) {
            uint16_t ncap = (uint16_t)(e->cap_pkts ? e->cap_pkts * 2 : 4);
            if (ncap > CORR_MAX_PKTS)
                ncap = CORR_MAX_PKTS;
            uint64_t *np = realloc(e->pkts, ncap * sizeof(*np));
            if (!np)
                return;
            e->pkts = np;
            e->cap_pkts = ncap;
        }
        e->pkts[e->npkts++] = p;
    }
}

static void set_leg(struct corr *c, struct entry *e, enum op_leg leg, const struct amqp_message *m)
{
    if (!e->timeline[leg])
        e->timeline[leg] = m->ts_ns ? m->ts_ns : 1;
    if (!e->conn[leg])
        e->conn[leg] = conn_ref(c, m->conn);
    if (!e->first_ns || m->ts_ns < e->first_ns)
        e->first_ns = m->ts_ns;
}

static char *take_body(char **src)
{
    char *s = *src;
    *src = NULL;
    return s;
}

/* ---------- calls ---------- */

static uint64_t call_start(const struct entry *e)
{
    if (e->timeline[LEG_REQUEST_PUBLISH])
        return e->timeline[LEG_REQUEST_PUBLISH];
    if (e->timeline[LEG_REQUEST_DELIVER])
        return e->timeline[LEG_REQUEST_DELIVER];
    return e->first_ns;
}

/* When the client gives up: start + timeout, earlier with a call monitor
 * that saw no heartbeat for monitor_ms. */
static uint64_t call_tmo_deadline(const struct entry *e)
{
    uint64_t start = call_start(e);
    uint64_t d = start + (uint64_t)e->timeout_ms * 1000000ull;
    if (e->monitor_ms) {
        uint64_t beat = e->x && e->x->last_beat_ns > start ? e->x->last_beat_ns : start;
        uint64_t md = beat + (uint64_t)e->monitor_ms * 1000000ull;
        if (md < d)
            d = md;
    }
    return d;
}

static uint64_t late_window_ns(const struct corr *c, const struct entry *e)
{
    if (c->cfg.late_window_s > 0)
        return secs_to_ns(c->cfg.late_window_s);
    /* The timeout the client really applied (a call monitor can shorten it). */
    double t = (double)(call_tmo_deadline(e) - call_start(e)) / 1e9;
    if (t < 5)
        t = 5;
    if (t > 300)
        t = 300;
    return secs_to_ns(t);
}

static uint64_t linger_ns(const struct corr *c)
{
    double h = c->cfg.hold_s > 1.0 ? c->cfg.hold_s : 1.0;
    return secs_to_ns(h);
}

/* Re-evaluates what a call waits for next and sets its deadline; emits it when done. */
static void call_schedule(struct corr *c, struct entry *e)
{
    if (e->state == ST_DONE)
        return;
    if (!(e->flags & F_REQUEST)) {
        /* Replies only so far: wait hold_s for the request, then count an orphan. */
        set_deadline(c, e, e->first_ns + secs_to_ns(c->cfg.hold_s));
        return;
    }
    if (e->flags & F_UNROUTABLE) {
        emit(c, e, OP_UNROUTABLE);
        return;
    }
    if (e->flags & F_FINAL_DEL) {
        /* With all four legs in view there is nothing left to wait for. With
         * fewer, a missing leg may still come (the capture stage can hand
         * legs over out of order, e.g. data held behind a TCP hole): give it
         * hold_s of packet time. */
        bool all = true;
        for (int l = 0; l < LEG_COUNT; l++)
            all = all && e->timeline[l];
        if (all)
            finalize(c, e, false, false);
        else
            set_deadline(c, e, e->timeline[LEG_REPLY_DELIVER] + secs_to_ns(c->cfg.hold_s));
        return;
    }
    uint64_t tmo = call_tmo_deadline(e);
    if (e->flags & F_FINAL_PUB) {
        set_deadline(c, e, e->timeline[LEG_REPLY_PUBLISH] + secs_to_ns(c->cfg.hold_s));
        return;
    }
    if (e->state == ST_TIMED_OUT)
        set_deadline(c, e, tmo + late_window_ns(c, e));
    else
        set_deadline(c, e, tmo);
}

static void fill_request(struct corr *c, struct entry *e, struct oslo_msg *om,
                         const struct amqp_message *m)
{
    bool first = !(e->flags & F_REQUEST);
    e->flags |= F_REQUEST;
    e->type = om->kind == OSLO_KIND_FANOUT         ? OP_FANOUT
              : om->kind == OSLO_KIND_NOTIFICATION ? OP_NOTIFICATION
              : om->kind == OSLO_KIND_CAST         ? OP_CAST
                                                   : OP_CALL;
    if (!e->shape)
        e->shape = shape_make(c, om, m);
    set_cid(c, &e->unique_id, om->unique_id, om->have & OSLO_HAVE_UNIQUE_ID);
    set_cid(c, &e->request_id, om->request_id, om->have & OSLO_HAVE_REQUEST_ID);
    set_cid(c, &e->global_request_id, om->global_request_id,
            om->have & OSLO_HAVE_GLOBAL_REQUEST_ID);
    if (om->kind == OSLO_KIND_CALL && first) {
        double t = (om->have & OSLO_HAVE_EXPIRATION) ? om->expiration_s : c->cfg.call_timeout_s;
        double ms = t * 1000.0;
        e->timeout_ms = ms > 4e9 ? 4000000000u : ms < 1 ? 1u : (uint32_t)(ms + 0.5);
        if (om->have & OSLO_HAVE_TIMEOUT) {
            double mm = om->monitor_timeout_s * 1000.0;
            e->monitor_ms = mm > 4e9 ? 4000000000u : mm < 1 ? 1u : (uint32_t)(mm + 0.5);
        }
    }
    if (om->kind == OSLO_KIND_NOTIFICATION) {
        struct extra *x = extra(e);
        if (x) {
            set_str(c, &x->event_type, om->event_type, om->have & OSLO_HAVE_EVENT_TYPE);
            set_str(c, &x->priority, om->priority, om->have & OSLO_HAVE_PRIORITY);
            set_str(c, &x->publisher_id, om->publisher_id, om->have & OSLO_HAVE_PUBLISHER_ID);
        }
    }
    if (c->cfg.want_bodies && (om->args_json || om->context_json)) {
        struct extra *x = extra(e);
        if (x && !x->args_json && !x->context_json) {
            x->args_json = take_body(&om->args_json);
            x->context_json = take_body(&om->context_json);
        }
    }
}

/* The first step of every leg: pools the operation's id into *key and finds
 * its entry (*e, NULL when new). False, counted, when the id cannot be pooled
 * or the operation was reported already (a late leg: a redelivery, or a leg
 * the capture stage handed over late, held behind a TCP hole); the key is then
 * released. Otherwise the caller owns *key until take_entry(). */
static bool find_live(struct corr *c, uint8_t kind, const char *id, struct cid *key,
                      struct entry **e)
{
    if (!cid_make(&c->sp, id, key)) {
        c->st.intern_full++;
        return false;
    }
    *e = lookup(c, kind, key);
    if (*e && (*e)->state == ST_DONE) {
        c->st.late_legs++;
        cid_release(&c->sp, key);
        return false;
    }
    return true;
}

/* e, or a new entry for key when e is NULL; the key's pool reference goes to
 * the new entry or is released. NULL when no entry could be made. */
static struct entry *take_entry(struct corr *c, uint8_t kind, struct cid *key, struct entry *e)
{
    if (e) {
        cid_release(&c->sp, key);
        return e;
    }
    e = entry_new(c, kind, key);
    if (!e)
        cid_release(&c->sp, key);
    return e;
}

static void on_request(struct corr *c, struct oslo_msg *om, const struct amqp_message *m)
{
    struct cid key;
    struct entry *e;
    if (!find_live(c, ENT_CALL, om->msg_id, &key, &e))
        return;
    if (e && (e->flags & F_REQUEST) && m->kind != AMQP_CONTENT_RETURN) {
        enum op_leg leg =
            m->kind == AMQP_CONTENT_PUBLISH ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER;
        struct cid uid = {0};
        bool same = true;
        if ((om->have & OSLO_HAVE_UNIQUE_ID) && e->unique_id.form != CID_NONE &&
            cid_make(&c->sp, om->unique_id, &uid)) {
            same = cid_equal(&uid, &e->unique_id);
            cid_release(&c->sp, &uid);
        }
        if (!same) {
            /* Two different requests with one _msg_id: report the first as it
             * stands and start over with the second, never mixing them. */
            c->st.duplicate_msg_ids++;
            finalize(c, e, true, false);
            entry_free(c, e);
            e = NULL;
        } else if (e->timeline[leg]) {
            c->st.duplicates++; /* re-published or redelivered */
            add_pkts(c, e, m);
            cid_release(&c->sp, &key);
            return;
        }
    }
    if (!(e = take_entry(c, ENT_CALL, &key, e)))
        return;
    if (!(e->flags & F_REQUEST)) {
        c->st.calls++;
        if (++c->st.pending > c->st.pending_peak)
            c->st.pending_peak = c->st.pending;
    }
    fill_request(c, e, om, m);
    add_pkts(c, e, m);
    if (m->kind == AMQP_CONTENT_RETURN) {
        c->st.unroutable++;
        e->flags |= F_UNROUTABLE;
        if (!e->first_ns)
            e->first_ns = m->ts_ns;
    } else {
        set_leg(c, e, m->kind == AMQP_CONTENT_PUBLISH ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER,
                m);
    }
    call_schedule(c, e);
}

/* Remembers a reply's _unique_id; true when it had not been seen for this call. */
static bool reply_is_new(struct corr *c, struct entry *e, struct oslo_msg *om, enum op_leg leg,
                         struct cid *uid_out)
{
    struct extra *x = extra(e);
    memset(uid_out, 0, sizeof(*uid_out));
    if (!(om->have & OSLO_HAVE_UNIQUE_ID) || !x || !cid_make(&c->sp, om->unique_id, uid_out)) {
        /* No id: count the publish leg, or the deliver leg when no publish is in view. */
        return leg == LEG_REPLY_PUBLISH || !(e->flags & F_REPLY_PUB);
    }
    uint32_t n = x->nreply_ids < CORR_REPLY_IDS ? x->nreply_ids : CORR_REPLY_IDS;
    for (uint32_t i = 0; i < n; i++)
        if (cid_equal(&x->reply_ids[i], uid_out))
            return false;
    struct cid *slot = &x->reply_ids[x->nreply_ids % CORR_REPLY_IDS];
    cid_release(&c->sp, slot);
    *slot = *uid_out;
    if (uid_out->form == CID_STR)
        cid_istr(uid_out)->refs++; /* the slot holds its own reference */
    x->nreply_ids++;
    return true;
}

static void on_reply(struct corr *c, struct oslo_msg *om, const struct amqp_message *m)
{
    if (m->kind == AMQP_CONTENT_RETURN) {
        c->st.returned_replies++;
        return;
    }
    enum op_leg leg = m->kind == AMQP_CONTENT_PUBLISH ? LEG_REPLY_PUBLISH : LEG_REPLY_DELIVER;
    struct cid key;
    struct entry *e;
    /* For a call reported already, this is its reply's other leg after the hold, or a repeat. */
    if (!find_live(c, ENT_CALL, om->msg_id, &key, &e))
        return;
    bool created = !e;
    if (!(e = take_entry(c, ENT_CALL, &key, e)))
        return;
    if (created) {
        e->type = OP_CALL;
        e->first_ns = m->ts_ns;
    }
    struct extra *x = extra(e);
    struct cid uid;
    bool fresh = reply_is_new(c, e, om, leg, &uid);
    if (leg == LEG_REPLY_PUBLISH)
        e->flags |= F_REPLY_PUB;
    add_pkts(c, e, m);
    bool heartbeat = om->ending_false && !om->result_nonnull && !om->failure_nonnull;
    bool answer = om->result_nonnull || om->failure_nonnull;
    if (fresh) {
        c->st.replies++;
        if (e->replies < UINT16_MAX)
            e->replies++;
        if (heartbeat) {
            c->st.heartbeats++;
            if (e->heartbeats < UINT16_MAX)
                e->heartbeats++;
        }
    }
    if (heartbeat && x) {
        if (m->ts_ns > x->last_beat_ns)
            x->last_beat_ns = m->ts_ns;
    }
    if (answer && x && !(e->flags & F_ANSWERED)) {
        e->flags |= F_ANSWERED;
        if (om->failure_nonnull) {
            e->flags |= F_ERROR;
            if (om->have & OSLO_HAVE_ERROR) {
                x->error_class = om->error_class[0] ? strdup(om->error_class) : NULL;
                x->error_module = om->error_module[0] ? strdup(om->error_module) : NULL;
                x->error_message = strdup(om->error_message);
            }
        }
        if (om->result_json && !x->result_json)
            x->result_json = take_body(&om->result_json);
    }
    if (om->ending && x) {
        /* The final reply. Its two legs share one _unique_id; another id is a second answer. */
        if (x->final_reply_id.form == CID_NONE && uid.form != CID_NONE) {
            x->final_reply_id = uid;
            if (uid.form == CID_STR)
                cid_istr(&uid)->refs++;
        } else if (fresh && (e->flags & (F_FINAL_PUB | F_FINAL_DEL))) {
            c->st.duplicate_replies++;
        }
        if (!e->timeline[leg]) {
            e->timeline[leg] = m->ts_ns ? m->ts_ns : 1;
            e->conn[leg] = conn_ref(c, m->conn);
        }
        e->flags |= leg == LEG_REPLY_PUBLISH ? F_FINAL_PUB : F_FINAL_DEL;
    }
    cid_release(&c->sp, &uid);
    call_schedule(c, e);
}

/* ---------- casts, fanouts, notifications ---------- */

static void on_cast(struct corr *c, struct oslo_msg *om, const struct amqp_message *m)
{
    const char *id = NULL;
    if (om->kind == OSLO_KIND_NOTIFICATION && (om->have & OSLO_HAVE_MESSAGE_ID))
        id = om->message_id;
    else if (om->have & OSLO_HAVE_UNIQUE_ID)
        id = om->unique_id;
    uint64_t *count = om->kind == OSLO_KIND_FANOUT         ? &c->st.fanouts
                      : om->kind == OSLO_KIND_NOTIFICATION ? &c->st.notifications
                                                           : &c->st.casts;
    struct cid key;
    if (!id) {
        /* Nothing to de-duplicate on: report this leg by itself, at once. */
        c->st.unkeyed++;
        (*count)++;
        struct cid none = {0};
        struct entry tmp;
        memset(&tmp, 0, sizeof(tmp));
        tmp.key = none;
        tmp.kind = ENT_CAST;
        tmp.heap_idx = UINT32_MAX;
        fill_request(c, &tmp, om, m);
        add_pkts(c, &tmp, m);
        if (m->kind == AMQP_CONTENT_RETURN)
            tmp.flags |= F_UNROUTABLE;
        else
            set_leg(c, &tmp,
                    m->kind == AMQP_CONTENT_PUBLISH ? LEG_REQUEST_PUBLISH : LEG_REQUEST_DELIVER, m);
        if (m->kind == AMQP_CONTENT_DELIVER || m->kind == AMQP_CONTENT_GET_OK)
            tmp.fanout_receivers = 1;
        emit(c, &tmp, (tmp.flags & F_UNROUTABLE) ? OP_UNROUTABLE : OP_OK);
        release_strings(c, &tmp);
        return;
    }
    struct entry *e;
    if (!find_live(c, ENT_CAST, id, &key, &e))
        return;
    bool created = !e;
    if (!(e = take_entry(c, ENT_CAST, &key, e)))
        return;
    fill_request(c, e, om, m); /* on a later leg: fills what the first lacked (e.g. a server) */
    if (created) {
        (*count)++;
        e->first_ns = m->ts_ns;
        set_deadline(c, e, m->ts_ns + secs_to_ns(c->cfg.hold_s));
    }
    add_pkts(c, e, m);
    if (m->kind == AMQP_CONTENT_RETURN) {
        if (!(e->flags & F_UNROUTABLE))
            c->st.unroutable++;
        e->flags |= F_UNROUTABLE;
        return;
    }
    if (m->kind == AMQP_CONTENT_PUBLISH) {
        if (e->timeline[LEG_REQUEST_PUBLISH])
            c->st.duplicates++;
        set_leg(c, e, LEG_REQUEST_PUBLISH, m);
        return;
    }
    /* A deliver leg: a new receiver unless this (connection, queue) already had it. */
    uint64_t rx = 1469598103934665603ull;
    uint64_t cid_ = m->conn ? m->conn->id : 0;
    for (int i = 0; i < 8; i++)
        rx = (rx ^ ((cid_ >> (8 * i)) & 0xFF)) * 1099511628211ull;
    const struct amqp_bytes *q = m->queue.p ? &m->queue : &m->consumer_tag;
    for (size_t i = 0; q->p && i < q->len; i++)
        rx = (rx ^ q->p[i]) * 1099511628211ull;
    struct extra *x = extra(e);
    bool seen = false;
    if (x && !x->rx)
        x->rx = calloc(CORR_FANOUT_RX, sizeof(*x->rx));
    if (x && x->rx) {
        uint32_t n = x->nrx < CORR_FANOUT_RX ? x->nrx : CORR_FANOUT_RX;
        for (uint32_t i = 0; i < n; i++)
            if (x->rx[i] == rx)
                seen = true;
        if (!seen)
            x->rx[x->nrx++ % CORR_FANOUT_RX] = rx;
    }
    if (seen || (m->redelivered && e->timeline[LEG_REQUEST_DELIVER])) {
        c->st.duplicates++;
    } else if (e->type != OP_FANOUT && e->fanout_receivers) {
        /* A cast is consumed once: a second delivery is a duplicate. */
        c->st.duplicates++;
    } else if (e->fanout_receivers < UINT16_MAX) {
        e->fanout_receivers++;
    }
    set_leg(c, e, LEG_REQUEST_DELIVER, m);
}

/* ---------- emission ---------- */

static double leg_ms(const struct entry *e, enum op_leg a, enum op_leg b)
{
    if (!e->timeline[a] || !e->timeline[b] || e->timeline[b] < e->timeline[a])
        return -1.0;
    return (double)(e->timeline[b] - e->timeline[a]) / 1e6;
}

static const char *istr_s(const struct istr *p)
{
    return p ? p->s : NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Room for the ids an op shows as text while it is handed out. */
struct op_text {
    char msg[64], uid[64], req[64], greq[64], mid[64];
};

/* Fills *out from an entry as it stands (no change to the entry but the order of its packets). */
static void build_op(struct entry *e, enum op_status status, struct op *out, struct op_text *t)
{
    struct op op;
    char *b_msg = t->msg, *b_uid = t->uid, *b_req = t->req, *b_greq = t->greq, *b_mid = t->mid;
    memset(&op, 0, sizeof(op));
    op.type = (enum op_type)e->type;
    op.status = status;
    memcpy(op.timeline, e->timeline, sizeof(op.timeline));
    op.ts_ns = e->timeline[LEG_REQUEST_PUBLISH] ? e->timeline[LEG_REQUEST_PUBLISH] : e->first_ns;
    if (e->kind == ENT_CALL)
        op.msg_id = cid_format(&e->key, b_msg, sizeof(t->msg));
    op.unique_id = cid_format(&e->unique_id, b_uid, sizeof(t->uid));
    const char *sh[SH_COUNT];
    shape_fields(e->shape, sh);
    op.exchange = sh[SH_EXCHANGE];
    op.routing_key = sh[SH_ROUTING_KEY];
    op.topic = sh[SH_TOPIC];
    op.server = sh[SH_SERVER];
    op.method = sh[SH_METHOD];
    op.namespace_ = sh[SH_NAMESPACE];
    op.version = sh[SH_VERSION];
    op.reply_q = sh[SH_REPLY_Q];
    op.request_id = cid_format(&e->request_id, b_req, sizeof(t->req));
    op.global_request_id = cid_format(&e->global_request_id, b_greq, sizeof(t->greq));
    op.queue_wait_ms = leg_ms(e, LEG_REQUEST_PUBLISH, LEG_REQUEST_DELIVER);
    op.server_ms = leg_ms(e, LEG_REQUEST_DELIVER, LEG_REPLY_PUBLISH);
    op.replies = e->replies;
    op.heartbeats = e->heartbeats;
    op.fanout_receivers = e->fanout_receivers;
    if (e->kind == ENT_CALL) {
        op.timeout_s = (double)e->timeout_ms / 1000.0;
        uint64_t arrival = e->timeline[LEG_REPLY_DELIVER] ? e->timeline[LEG_REPLY_DELIVER]
                                                          : e->timeline[LEG_REPLY_PUBLISH];
        op.late_reply = status == OP_TIMEOUT && arrival != 0;
        if (status == OP_OK || status == OP_ERROR) {
            static const enum op_leg pairs[][2] = {
                {LEG_REQUEST_PUBLISH, LEG_REPLY_DELIVER},
                {LEG_REQUEST_PUBLISH, LEG_REPLY_PUBLISH},
                {LEG_REQUEST_DELIVER, LEG_REPLY_DELIVER},
                {LEG_REQUEST_DELIVER, LEG_REPLY_PUBLISH},
            };
            for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
                double ms = leg_ms(e, pairs[i][0], pairs[i][1]);
                if (ms >= 0) {
                    op.has_latency = true;
                    op.latency_ms = ms;
                    op.latency_from = pairs[i][0];
                    op.latency_to = pairs[i][1];
                    break;
                }
            }
        }
    }
    /* client: who published the request (else who received the reply);
     * server_peer: who received the request (else who published the reply). */
    const struct istr *cl =
        e->conn[LEG_REQUEST_PUBLISH] ? e->conn[LEG_REQUEST_PUBLISH] : e->conn[LEG_REPLY_DELIVER];
    const struct istr *sv =
        e->conn[LEG_REQUEST_DELIVER] ? e->conn[LEG_REQUEST_DELIVER] : e->conn[LEG_REPLY_PUBLISH];
    uint64_t dummy;
    conn_peer(cl, &op.client, &dummy);
    conn_peer(sv, &op.server_peer, &dummy);
    for (int l = 0; l < LEG_COUNT; l++) {
        struct op_peer p;
        conn_peer(e->conn[l], &p, &op.leg_conn[l]);
    }
    struct extra *x = e->x;
    if (x) {
        if (status == OP_ERROR || (e->flags & F_ERROR)) {
            op.error_class = x->error_class;
            op.error_module = x->error_module;
            op.error_message = x->error_message;
        }
        op.event_type = istr_s(x->event_type);
        op.priority = istr_s(x->priority);
        op.publisher_id = istr_s(x->publisher_id);
        op.args_json = x->args_json;
        op.result_json = x->result_json;
        op.context_json = x->context_json;
    }
    if (e->npkts) {
        qsort(e->pkts, e->npkts, sizeof(e->pkts[0]), cmp_u64);
        op.pkts = e->pkts;
        op.npkts = e->npkts;
    }
    /* Notifications are keyed by message_id (by _unique_id only when it was missing). */
    if (e->type == OP_NOTIFICATION && !cid_equal(&e->key, &e->unique_id))
        op.message_id = cid_format(&e->key, b_mid, sizeof(t->mid));
    *out = op;
}

static void emit(struct corr *c, struct entry *e, enum op_status status)
{
    struct op op;
    struct op_text text;
    build_op(e, status, &op, &text);
    if (op.late_reply)
        c->st.late_replies++;
    if (status == OP_TIMEOUT)
        c->st.timeouts++;
    if (status == OP_OPEN)
        c->st.open++;
    c->st.emitted++;
    if (c->on_op)
        c->on_op(c->user, &op);
    /* Keep only the key, for a short while, to recognise stray legs. */
    if (is_pending_call(e) && c->st.pending)
        c->st.pending--;
    e->state = ST_DONE;
    release_strings(c, e);
    if (e->heap_idx != UINT32_MAX)
        set_deadline(c, e, c->now + linger_ns(c));
}

/* Emits an entry whose time has come (or that must go now) with the status it has earned. */
static void finalize(struct corr *c, struct entry *e, bool at_finish, bool evicted)
{
    if (e->state == ST_DONE)
        return;
    if (e->kind == ENT_CAST) {
        emit(c, e, (e->flags & F_UNROUTABLE) ? OP_UNROUTABLE : OP_OK);
        return;
    }
    if (!(e->flags & F_REQUEST)) {
        /* Replies whose call never showed up. */
        c->st.orphan_replies++;
        e->state = ST_DONE;
        release_strings(c, e);
        if (e->heap_idx != UINT32_MAX)
            set_deadline(c, e, c->now + linger_ns(c));
        return;
    }
    if (e->flags & F_UNROUTABLE) {
        emit(c, e, OP_UNROUTABLE);
        return;
    }
    uint64_t tmo = call_tmo_deadline(e);
    if (e->flags & (F_FINAL_PUB | F_FINAL_DEL)) {
        uint64_t arrival = e->timeline[LEG_REPLY_DELIVER] ? e->timeline[LEG_REPLY_DELIVER]
                                                          : e->timeline[LEG_REPLY_PUBLISH];
        if (arrival > tmo)
            emit(c, e, OP_TIMEOUT); /* answered, but after the client gave up */
        else
            emit(c, e, (e->flags & F_ERROR) ? OP_ERROR : OP_OK);
        return;
    }
    if (e->state == ST_TIMED_OUT || c->now >= tmo) {
        emit(c, e, OP_TIMEOUT);
        return;
    }
    (void)at_finish; /* a call still inside its timeout: open at the end, evicted when pushed out */
    emit(c, e, evicted ? OP_EVICTED : OP_OPEN);
}

/* An entry's deadline passed. */
static void expire(struct corr *c, struct entry *e)
{
    if (e->state == ST_DONE) {
        entry_free(c, e);
        return;
    }
    if (e->kind == ENT_CALL && (e->flags & F_REQUEST) && e->state == ST_PENDING &&
        !(e->flags & (F_FINAL_PUB | F_FINAL_DEL))) {
        /* The client gave up: wait a while for a late reply before reporting. */
        e->state = ST_TIMED_OUT;
        call_schedule(c, e);
        return;
    }
    finalize(c, e, false, false);
}

void corr_tick(struct corr *c, uint64_t now_ns)
{
    if (now_ns > c->now)
        c->now = now_ns;
    while (c->nheap && c->heap[0]->deadline <= c->now)
        expire(c, c->heap[0]);
}

void corr_finish(struct corr *c, uint64_t end_ns)
{
    corr_tick(c, end_ns);
    while (c->oldest) {
        struct entry *e = c->oldest;
        finalize(c, e, true, false);
        entry_free(c, e);
    }
}

/* ---------- the stage ---------- */

struct corr *corr_new(const struct corr_config *cfg, void (*on_op)(void *user, const struct op *op),
                      void *user)
{
    struct corr *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (cfg)
        c->cfg = *cfg;
    else
        corr_config_default(&c->cfg);
    if (c->cfg.max_pending == 0)
        c->cfg.max_pending = 1;
    if (c->cfg.call_timeout_s <= 0)
        c->cfg.call_timeout_s = 60.0;
    if (c->cfg.hold_s < 0)
        c->cfg.hold_s = 0;
    c->on_op = on_op;
    c->user = user;
    struct oslo_config oc = {c->cfg.want_bodies, c->cfg.show_secrets, c->cfg.max_inflate};
    oslo_decoder_init(&c->dec, &oc);
    /* Each entry holds at most ~20 pooled strings; the pool cannot outgrow that. */
    size_t max_strings = c->cfg.max_pending > SIZE_MAX / 32 ? SIZE_MAX : c->cfg.max_pending * 24;
    c->nslots = 1024;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    if (!c->slots || !sp_init(&c->sp, max_strings + 4096)) {
        free(c->slots);
        free(c);
        return NULL;
    }
    return c;
}

void corr_free(struct corr *c)
{
    if (!c)
        return;
    while (c->oldest)
        entry_free(c, c->oldest);
    while (c->slabs) {
        struct entry_slab *next = c->slabs->next;
        free(c->slabs);
        c->slabs = next;
    }
    free(c->slots);
    free(c->heap);
    sp_free(&c->sp);
    oslo_msg_release(&c->om);
    oslo_decoder_free(&c->dec);
    free(c);
}

void corr_message(struct corr *c, const struct amqp_message *m)
{
    c->st.messages++;
    corr_tick(c, m->ts_ns);
    struct oslo_msg *om = &c->om;
    enum oslo_err err = oslo_decode(&c->dec, m, om);
    if (err != OSLO_OK) {
        if (err == OSLO_ERR_EMPTY)
            c->st.empty_bodies++;
        else if (err == OSLO_ERR_CODEC || err == OSLO_ERR_INFLATE)
            c->st.inflate_errors++;
        else if (m->body_truncated || m->body_len < m->body_size)
            c->st.truncated_bodies++;
        else
            c->st.malformed_json++;
        return;
    }
    if (om->bodies_failed)
        c->st.bodies_failed++;
    if (om->cut)
        c->st.cut_fields++;
    switch (om->kind) {
    case OSLO_KIND_CALL:
        on_request(c, om, m);
        break;
    case OSLO_KIND_REPLY:
        on_reply(c, om, m);
        break;
    case OSLO_KIND_CAST:
    case OSLO_KIND_FANOUT:
    case OSLO_KIND_NOTIFICATION:
        on_cast(c, om, m);
        break;
    default:
        c->st.not_oslo++;
        break;
    }
    oslo_msg_release(om);
}

/* Still waiting for a reply: not timed out, no reply on the wire yet. */
static bool is_waiting(const struct entry *e)
{
    return is_pending_call(e) && e->state == ST_PENDING && !e->timeline[LEG_REPLY_PUBLISH] &&
           !e->timeline[LEG_REPLY_DELIVER];
}

size_t corr_foreach_pending(struct corr *c, size_t max, void (*fn)(void *user, const struct op *op),
                            void *user)
{
    /* Walk back from the newest entry to find the newest `max` pending calls,
     * then hand them out oldest first, as a list is read. */
    struct entry *e = c->newest, *first = NULL;
    size_t n = 0;
    for (; e && n < max; e = e->prev) {
        if (is_waiting(e)) {
            first = e;
            n++;
        }
    }
    for (e = first; e; e = e->next) {
        if (!is_waiting(e))
            continue;
        struct op op;
        struct op_text text;
        build_op(e, OP_OPEN, &op, &text);
        fn(user, &op);
    }
    return n;
}

void corr_get_stats(const struct corr *c, struct corr_stats *out)
{
    *out = c->st;
    out->entries = c->nentries;
    memcpy(out->oslo_errors, c->dec.errors, sizeof(out->oslo_errors));
}

/*
 * tcp_stream.c: TCP reassembly, segments in, ordered bytes per direction out.
 *
 * Flows live in a chained hash table keyed by the canonical 4-tuple, and on
 * an LRU list (least recently active first) that gives both the eviction
 * victim when max_flows is reached and the idle flows to close on tick.
 * In-order data goes straight from the packet buffer to on_data: nothing is
 * allocated in the steady state. Only segments ahead of a hole are copied,
 * into a seq-sorted list per direction, charged against per-direction and
 * global byte limits. A hole that outlives gap_timeout (packet time) or the
 * per-direction limit becomes an on_gap and delivery goes on after it, so
 * the AMQP stage resynchronises instead of waiting forever. A hole with no
 * data after it (the lost packet was the last one) is known from the FIN or
 * the peer's ACK and ages the same way. Sequence numbers are compared
 * modulo 2^32.
 */
#include "capture/tcp_stream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/list.h"

/* TCP windows cannot exceed 2^30 (RFC 7323); data further ahead is garbage. */
#define MAX_AHEAD (1u << 30)
/* Bucket array bound: chains get longer beyond it, memory does not. */
#define MAX_BUCKETS ((size_t)1 << 20)

struct ooo_seg {
    struct ooo_seg *next;
    uint32_t seq, len;
    uint64_t ts_ns, pkt_index;
    uint8_t data[];
};

/* What one buffered segment costs against the limits. */
#define SEG_COST(len) (sizeof(struct ooo_seg) + (size_t)(len))

struct dir_state {
    uint32_t next_seq; /* next byte to deliver (valid when have_seq) */
    uint32_t fin_seq;  /* sequence number of the FIN (valid when fin_seen) */
    uint32_t isn;      /* valid when syn_seen */
    bool have_seq, syn_seen, fin_seen, finished;
    struct ooo_seg *ooo, *ooo_tail; /* sorted by seq, never overlapping */
    size_t ooo_bytes;               /* charged bytes in ooo */
    uint64_t ooo_oldest_ts;         /* earliest arrival among ooo segments */
    /* Evidence that bytes up to known_end were sent (our FIN, the peer's ACK)
     * even when nothing after them was captured: a hole at the tail. */
    uint32_t known_end;
    bool has_known_end;
    uint64_t known_ts; /* when that hole was first evident */
};

struct flow {
    struct tcp_flow pub;
    struct flow *hnext;    /* hash chain */
    struct list_node lru;  /* on tcp_stream.lru: least recently active first */
    struct list_node pend; /* on tcp_stream.pend: flows holding out-of-order data */
    bool pending;
    struct dir_state d[2];
};

struct tcp_stream {
    struct tcp_stream_config cfg;
    struct tcp_stream_callbacks cb;
    struct flow **buckets;
    size_t nbuckets;       /* power of two */
    struct list_node lru;  /* struct flow.lru, least recently active first */
    struct list_node pend; /* struct flow.pend, newest first */
    uint64_t next_id;
    size_t ooo_total;
    struct tcp_stream_stats st;
};

static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

const char *tcp_close_reason_name(enum tcp_close_reason r)
{
    switch (r) {
    case TCP_CLOSE_FIN:
        return "fin";
    case TCP_CLOSE_RST:
        return "rst";
    case TCP_CLOSE_IDLE:
        return "idle";
    case TCP_CLOSE_EVICTED:
        return "evicted";
    case TCP_CLOSE_END:
        return "end";
    }
    return "unknown";
}

void tcp_stream_config_default(struct tcp_stream_config *cfg)
{
    cfg->max_flows = 65536;
    cfg->max_ooo_bytes_per_flow = (size_t)4 << 20;
    cfg->max_ooo_bytes_total = (size_t)64 << 20;
    cfg->gap_timeout_ns = 2000000000ull;
    cfg->idle_timeout_ns = 15ull * 60 * 1000000000ull;
}

struct tcp_stream *tcp_stream_new(const struct tcp_stream_config *cfg,
                                  const struct tcp_stream_callbacks *cb)
{
    struct tcp_stream *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    struct tcp_stream_config def;
    tcp_stream_config_default(&def);
    ts->cfg = def;
    if (cfg) {
        if (cfg->max_flows)
            ts->cfg.max_flows = cfg->max_flows;
        if (cfg->max_ooo_bytes_per_flow)
            ts->cfg.max_ooo_bytes_per_flow = cfg->max_ooo_bytes_per_flow;
        if (cfg->max_ooo_bytes_total)
            ts->cfg.max_ooo_bytes_total = cfg->max_ooo_bytes_total;
        if (cfg->gap_timeout_ns)
            ts->cfg.gap_timeout_ns = cfg->gap_timeout_ns;
        if (cfg->idle_timeout_ns)
            ts->cfg.idle_timeout_ns = cfg->idle_timeout_ns;
    }
    if (cb)
        ts->cb = *cb;
    ts->nbuckets = 16;
    while (ts->nbuckets < ts->cfg.max_flows && ts->nbuckets < MAX_BUCKETS)
        ts->nbuckets <<= 1;
    ts->buckets = calloc(ts->nbuckets, sizeof *ts->buckets);
    if (!ts->buckets) {
        free(ts);
        return NULL;
    }
    ts->next_id = 1;
    list_init(&ts->lru);
    list_init(&ts->pend);
    return ts;
}

/* ---- flow table ---------------------------------------------------------- */

static uint64_t fnv_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t fnv_addr(uint64_t h, const struct netaddr *a)
{
    uint8_t port[2] = {(uint8_t)(a->port >> 8), (uint8_t)a->port};
    h = fnv_bytes(h, &a->family, 1);
    h = fnv_bytes(h, a->ip, a->family == 6 ? 16 : 4);
    return fnv_bytes(h, port, 2);
}

/* Same value for both directions: the ends are hashed in canonical order. */
static size_t flow_bucket(const struct tcp_stream *ts, const struct netaddr *x,
                          const struct netaddr *y)
{
    if (netaddr_compare(x, y) > 0) {
        const struct netaddr *t = x;
        x = y;
        y = t;
    }
    uint64_t h = fnv_addr(fnv_addr(0xcbf29ce484222325ull, x), y);
    h ^= h >> 29;
    return (size_t)h & (ts->nbuckets - 1);
}

static struct flow *flow_find(struct tcp_stream *ts, const struct tcp_segment *seg, int *dir)
{
    size_t b = flow_bucket(ts, &seg->src, &seg->dst);
    for (struct flow *f = ts->buckets[b]; f; f = f->hnext) {
        if (netaddr_equal(&f->pub.a, &seg->src) && netaddr_equal(&f->pub.b, &seg->dst)) {
            *dir = 0;
            return f;
        }
        if (netaddr_equal(&f->pub.b, &seg->src) && netaddr_equal(&f->pub.a, &seg->dst)) {
            *dir = 1;
            return f;
        }
    }
    return NULL;
}

/* The least recently active flow, NULL when there is none. */
static struct flow *lru_oldest(const struct tcp_stream *ts)
{
    struct list_node *n = list_first(&ts->lru);
    return n ? list_item(n, struct flow, lru) : NULL;
}

/* Keeps the "flows with buffered data" list in step with the two ooo lists. */
/* Bytes known to be sent that are neither delivered nor buffered, at the tail. */
static bool tail_missing(const struct dir_state *d)
{
    return !d->ooo && d->has_known_end && !d->finished && seq_lt(d->next_seq, d->known_end);
}

static void pend_update(struct tcp_stream *ts, struct flow *f)
{
    bool want = f->d[0].ooo || f->d[1].ooo || tail_missing(&f->d[0]) || tail_missing(&f->d[1]);
    if (want == f->pending)
        return;
    if (want)
        list_prepend(&ts->pend, &f->pend);
    else
        list_unlink(&f->pend);
    f->pending = want;
}

/* ---- delivery ------------------------------------------------------------ */

static void deliver(struct tcp_stream *ts, struct flow *f, int dir, const uint8_t *data,
                    uint32_t len, uint64_t ts_ns, uint64_t pkt_index)
{
    if (len == 0)
        return;
    f->d[dir].next_seq += len;
    f->pub.bytes[dir] += len;
    if (ts->cb.on_data)
        ts->cb.on_data(ts->cb.user, &f->pub, dir, data, len, ts_ns, pkt_index);
}

static void report_gap(struct tcp_stream *ts, struct flow *f, int dir, uint32_t missing,
                       uint64_t ts_ns)
{
    if (missing == 0)
        return;
    f->d[dir].next_seq += missing;
    ts->st.gaps++;
    ts->st.gap_bytes += missing;
    if (ts->cb.on_gap)
        ts->cb.on_gap(ts->cb.user, &f->pub, dir, missing, ts_ns);
}

static void seg_release(struct tcp_stream *ts, struct dir_state *d, struct ooo_seg *s)
{
    size_t cost = SEG_COST(s->len);
    d->ooo_bytes -= cost;
    ts->ooo_total -= cost;
    free(s);
}

static void drop_buffered(struct tcp_stream *ts, struct dir_state *d)
{
    while (d->ooo) {
        struct ooo_seg *s = d->ooo;
        d->ooo = s->next;
        ts->st.ooo_dropped_bytes += s->len;
        seg_release(ts, d, s);
    }
    d->ooo_tail = NULL;
}

static void update_oldest(struct dir_state *d)
{
    d->ooo_oldest_ts = 0;
    for (struct ooo_seg *s = d->ooo; s; s = s->next)
        if (s == d->ooo || s->ts_ns < d->ooo_oldest_ts)
            d->ooo_oldest_ts = s->ts_ns;
}

/* A direction is finished once every byte up to its FIN was delivered;
 * anything still buffered lies beyond the FIN and is dropped. */
static void check_finished(struct tcp_stream *ts, struct dir_state *d)
{
    if (d->fin_seen && !d->finished && seq_le(d->fin_seq, d->next_seq)) {
        d->finished = true;
        drop_buffered(ts, d);
    }
}

/* Delivers buffered segments that are now contiguous with next_seq. */
static void drain(struct tcp_stream *ts, struct flow *f, int dir)
{
    struct dir_state *d = &f->d[dir];
    bool removed = false;
    while (d->ooo && seq_le(d->ooo->seq, d->next_seq)) {
        struct ooo_seg *s = d->ooo;
        d->ooo = s->next;
        if (!d->ooo)
            d->ooo_tail = NULL;
        /* Insertion keeps segments at or after next_seq; trim defensively anyway. */
        uint32_t skip = d->next_seq - s->seq;
        if (skip < s->len)
            deliver(ts, f, dir, s->data + skip, s->len - skip, s->ts_ns, s->pkt_index);
        seg_release(ts, d, s);
        removed = true;
    }
    if (removed)
        update_oldest(d);
    check_finished(ts, d);
    pend_update(ts, f);
}

/* Gives up on the hole before the first buffered segment. */
static void skip_hole(struct tcp_stream *ts, struct flow *f, int dir, uint64_t ts_ns)
{
    struct dir_state *d = &f->d[dir];
    report_gap(ts, f, dir, d->ooo->seq - d->next_seq, ts_ns);
    drain(ts, f, dir);
}

static void skip_tail(struct tcp_stream *ts, struct flow *f, int dir, uint64_t ts_ns)
{
    struct dir_state *d = &f->d[dir];
    report_gap(ts, f, dir, d->known_end - d->next_seq, ts_ns);
    check_finished(ts, d);
    pend_update(ts, f);
}

static void flush_dir(struct tcp_stream *ts, struct flow *f, int dir, uint64_t ts_ns)
{
    while (f->d[dir].ooo)
        skip_hole(ts, f, dir, ts_ns);
    if (tail_missing(&f->d[dir]))
        skip_tail(ts, f, dir, ts_ns);
}

static bool aged(const struct tcp_stream *ts, uint64_t since, uint64_t now)
{
    return now >= since && now - since >= ts->cfg.gap_timeout_ns;
}

static void check_gap_timeout(struct tcp_stream *ts, struct flow *f, int dir, uint64_t now)
{
    struct dir_state *d = &f->d[dir];
    while (d->ooo && aged(ts, d->ooo_oldest_ts, now))
        skip_hole(ts, f, dir, now);
    if (tail_missing(d) && aged(ts, d->known_ts, now))
        skip_tail(ts, f, dir, now);
}

/* Bytes up to `end` were sent in this direction (a FIN, or the peer ACKed them). */
static void note_known_end(struct tcp_stream *ts, struct flow *f, int dir, uint32_t end,
                           uint64_t now)
{
    struct dir_state *d = &f->d[dir];
    if (!d->have_seq || d->finished)
        return;
    if (d->fin_seen && seq_lt(d->fin_seq, end))
        end = d->fin_seq; /* the ACK of a FIN covers the FIN's own sequence number */
    if (!seq_lt(d->next_seq, end) || end - d->next_seq >= MAX_AHEAD)
        return;
    if (!(d->has_known_end && seq_lt(d->next_seq, d->known_end))) {
        d->known_ts = now; /* a new hole: its age starts now */
        d->known_end = end;
        d->has_known_end = true;
    } else if (seq_lt(d->known_end, end)) {
        d->known_end = end;
    }
    pend_update(ts, f);
}

/* ---- out-of-order buffer ------------------------------------------------- */

/* Copies one piece into the list at *pp; false when a limit refused it. */
static bool buffer_piece(struct tcp_stream *ts, struct dir_state *d, struct ooo_seg **pp,
                         uint32_t seq, const uint8_t *data, uint32_t len, uint64_t ts_ns,
                         uint64_t pkt_index)
{
    size_t cost = SEG_COST(len);
    struct ooo_seg *s = NULL;
    if (ts->ooo_total + cost <= ts->cfg.max_ooo_bytes_total)
        s = malloc(cost);
    if (!s) {
        ts->st.ooo_dropped_bytes += len;
        return false;
    }
    s->seq = seq;
    s->len = len;
    s->ts_ns = ts_ns;
    s->pkt_index = pkt_index;
    memcpy(s->data, data, len);
    if (!d->ooo || ts_ns < d->ooo_oldest_ts)
        d->ooo_oldest_ts = ts_ns;
    s->next = *pp;
    *pp = s;
    if (!s->next)
        d->ooo_tail = s;
    d->ooo_bytes += cost;
    ts->ooo_total += cost;
    return true;
}

/*
 * Merges [seq, seq+len) into the sorted list: parts already buffered are
 * trimmed (the first copy wins), the rest is copied in as pieces. A piece
 * that starts exactly at next_seq before everything buffered is delivered
 * directly instead. Returns whether anything was buffered.
 */
static bool merge_segment(struct tcp_stream *ts, struct flow *f, int dir, uint32_t seq,
                          const uint8_t *data, uint32_t len, uint64_t ts_ns, uint64_t pkt_index)
{
    struct dir_state *d = &f->d[dir];
    struct ooo_seg **pp = &d->ooo;
    bool buffered = false;
    /* The common lossy case: the segment follows everything buffered. */
    if (d->ooo_tail && seq_le(d->ooo_tail->seq + d->ooo_tail->len, seq))
        pp = &d->ooo_tail->next;
    while (len > 0) {
        struct ooo_seg *n = *pp;
        uint32_t piece = len;
        if (n && seq_lt(n->seq, seq + len))
            piece = seq_lt(seq, n->seq) ? n->seq - seq : 0;
        if (piece > 0) {
            if (pp == &d->ooo && seq == d->next_seq)
                deliver(ts, f, dir, data, piece, ts_ns, pkt_index);
            else if (buffer_piece(ts, d, pp, seq, data, piece, ts_ns, pkt_index)) {
                buffered = true;
                pp = &(*pp)->next;
            }
            seq += piece;
            data += piece;
            len -= piece;
        }
        if (!n || len == 0)
            break;
        /* Now seq is at or inside n: drop what n already holds. */
        uint32_t n_end = n->seq + n->len;
        if (seq_lt(seq, n_end)) {
            uint32_t overlap = n_end - seq < len ? n_end - seq : len;
            ts->st.retransmitted_bytes += overlap;
            seq += overlap;
            data += overlap;
            len -= overlap;
        }
        pp = &n->next;
    }
    return buffered;
}

static void enforce_flow_limit(struct tcp_stream *ts, struct flow *f, int dir, uint64_t ts_ns)
{
    while (f->d[dir].ooo && f->d[dir].ooo_bytes > ts->cfg.max_ooo_bytes_per_flow)
        skip_hole(ts, f, dir, ts_ns);
}

/* Payload of one segment for one direction whose start sequence is known. */
static void add_data(struct tcp_stream *ts, struct flow *f, int dir, uint32_t seq,
                     const uint8_t *data, uint32_t len, uint32_t wire_len, uint64_t ts_ns,
                     uint64_t pkt_index)
{
    struct dir_state *d = &f->d[dir];
    if (seq_lt(seq, d->next_seq)) {
        uint32_t behind = d->next_seq - seq;
        if (behind >= wire_len) {
            ts->st.retransmitted_bytes += len;
            return;
        }
        uint32_t cut = behind < len ? behind : len;
        ts->st.retransmitted_bytes += cut;
        seq += behind;
        data += cut;
        len -= cut;
        wire_len -= behind;
    }
    if (seq - d->next_seq >= MAX_AHEAD) {
        ts->st.out_of_window++;
        return;
    }
    if (!d->ooo && seq == d->next_seq) {
        deliver(ts, f, dir, data, len, ts_ns, pkt_index);
        /* Bytes cut by the snaplen are gone for good: say so now, not after a timeout. */
        report_gap(ts, f, dir, wire_len - len, ts_ns);
        check_finished(ts, d);
        return;
    }
    if (merge_segment(ts, f, dir, seq, data, len, ts_ns, pkt_index))
        ts->st.out_of_order++;
    drain(ts, f, dir);
    enforce_flow_limit(ts, f, dir, ts_ns);
}

/* ---- flow life ----------------------------------------------------------- */

static void flow_close(struct tcp_stream *ts, struct flow *f, enum tcp_close_reason reason,
                       bool flush, uint64_t ts_ns)
{
    if (flush) {
        flush_dir(ts, f, 0, ts_ns);
        flush_dir(ts, f, 1, ts_ns);
    }
    if (ts->cb.on_close)
        ts->cb.on_close(ts->cb.user, &f->pub, reason);
    drop_buffered(ts, &f->d[0]);
    drop_buffered(ts, &f->d[1]);
    pend_update(ts, f);
    list_unlink(&f->lru);
    struct flow **pp = &ts->buckets[flow_bucket(ts, &f->pub.a, &f->pub.b)];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    ts->st.flows_closed++;
    ts->st.flows_active--;
    free(f);
}

static struct flow *flow_create(struct tcp_stream *ts, const struct netaddr *a,
                                const struct netaddr *b, uint64_t ts_ns, uint16_t source)
{
    if (ts->st.flows_active >= ts->cfg.max_flows && lru_oldest(ts)) {
        ts->st.flows_evicted++;
        flow_close(ts, lru_oldest(ts), TCP_CLOSE_EVICTED, true, ts_ns);
    }
    struct flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->pub.a = *a;
    f->pub.b = *b;
    f->pub.id = ts->next_id++;
    f->pub.source = source;
    f->pub.first_ts = f->pub.last_ts = ts_ns;
    size_t bkt = flow_bucket(ts, a, b);
    f->hnext = ts->buckets[bkt];
    ts->buckets[bkt] = f;
    list_append(&ts->lru, &f->lru);
    ts->st.flows_opened++;
    ts->st.flows_active++;
    if (ts->cb.on_open)
        ts->cb.on_open(ts->cb.user, &f->pub);
    return f;
}

/* A SYN (without ACK) on a live flow with another ISN is a new connection on the same ports. */
static bool is_new_connection(const struct flow *f, int dir, const struct tcp_segment *seg)
{
    if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
        return false;
    const struct dir_state *d = &f->d[dir];
    if (d->syn_seen)
        return d->isn != seg->seq;
    /* A SYN cannot follow data in the same direction of one connection. */
    return d->have_seq;
}

static struct flow *flow_for_segment(struct tcp_stream *ts, const struct tcp_segment *seg, int *dir)
{
    struct flow *f = flow_find(ts, seg, dir);
    if (f && is_new_connection(f, *dir, seg)) {
        ts->st.flows_reused++;
        flow_close(ts, f, TCP_CLOSE_EVICTED, true, seg->ts_ns);
        f = NULL;
    }
    if (f)
        return f;
    /* Without payload or SYN there is nothing to follow: do not let the
     * last ACK after a FIN, or a stray RST, open a flow. */
    if (!(seg->flags & TCP_FLAG_SYN) && seg->wire_len == 0) {
        ts->st.no_flow_segments++;
        return NULL;
    }
    if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == (TCP_FLAG_SYN | TCP_FLAG_ACK)) {
        *dir = 1; /* a SYN-ACK comes from the server; a is the SYN sender */
        return flow_create(ts, &seg->dst, &seg->src, seg->ts_ns, seg->source);
    }
    *dir = 0;
    return flow_create(ts, &seg->src, &seg->dst, seg->ts_ns, seg->source);
}

void tcp_stream_feed(struct tcp_stream *ts, const struct tcp_segment *seg)
{
    ts->st.segments++;
    ts->st.payload_bytes += seg->len;
    int dir = 0;
    struct flow *f = flow_for_segment(ts, seg, &dir);
    if (!f)
        return;
    if (seg->ts_ns > f->pub.last_ts)
        f->pub.last_ts = seg->ts_ns;
    list_unlink(&f->lru);
    list_append(&ts->lru, &f->lru);

    struct dir_state *d = &f->d[dir];
    uint32_t data_seq = seg->seq;
    if (seg->flags & TCP_FLAG_SYN) {
        data_seq++; /* the SYN takes one sequence number */
        if (!d->syn_seen) {
            d->syn_seen = true;
            d->isn = seg->seq;
            if (!d->have_seq) {
                d->have_seq = true;
                d->next_seq = data_seq;
            }
        }
    }
    uint32_t wire_len = seg->wire_len > seg->len ? seg->wire_len : seg->len;
    if (wire_len > 0 && !d->have_seq) {
        /* No SYN seen: the first segment with data fixes the start (pure ACKs do not). */
        d->have_seq = true;
        d->next_seq = data_seq;
    }
    if (wire_len > 0) {
        if (d->finished)
            ts->st.retransmitted_bytes += seg->len;
        else
            add_data(ts, f, dir, data_seq, seg->payload, seg->len, wire_len, seg->ts_ns,
                     seg->pkt_index);
    }
    if ((seg->flags & TCP_FLAG_FIN) && !d->fin_seen) {
        d->fin_seen = true;
        d->fin_seq = data_seq + wire_len;
        if (!d->have_seq) {
            d->have_seq = true;
            d->next_seq = d->fin_seq;
        }
        check_finished(ts, d);
        note_known_end(ts, f, dir, d->fin_seq, seg->ts_ns);
    }
    if (seg->flags & TCP_FLAG_ACK)
        note_known_end(ts, f, !dir, seg->ack, seg->ts_ns);
    check_gap_timeout(ts, f, 0, seg->ts_ns);
    check_gap_timeout(ts, f, 1, seg->ts_ns);
    if (seg->flags & TCP_FLAG_RST)
        flow_close(ts, f, TCP_CLOSE_RST, true, seg->ts_ns);
    else if (f->d[0].finished && f->d[1].finished)
        flow_close(ts, f, TCP_CLOSE_FIN, false, seg->ts_ns);
}

void tcp_stream_tick(struct tcp_stream *ts, uint64_t now_ns)
{
    struct list_node *it, *tmp;
    list_foreach_safe(&ts->pend, it, tmp)
    {
        struct flow *f = list_item(it, struct flow, pend);
        check_gap_timeout(ts, f, 0, now_ns);
        check_gap_timeout(ts, f, 1, now_ns);
        pend_update(ts, f); /* in-order delivery may have closed a tail hole meanwhile */
        /* A FIN that waited behind the hole may have completed the flow. */
        if (f->d[0].finished && f->d[1].finished)
            flow_close(ts, f, TCP_CLOSE_FIN, false, now_ns);
    }
    for (struct flow *f; (f = lru_oldest(ts)) && now_ns >= f->pub.last_ts &&
                         now_ns - f->pub.last_ts >= ts->cfg.idle_timeout_ns;) {
        ts->st.flows_idle_closed++;
        flow_close(ts, f, TCP_CLOSE_IDLE, true, now_ns);
    }
}

void tcp_stream_finish(struct tcp_stream *ts)
{
    for (struct flow *f; (f = lru_oldest(ts));)
        flow_close(ts, f, TCP_CLOSE_END, true, f->pub.last_ts);
}

void tcp_stream_get_stats(const struct tcp_stream *ts, struct tcp_stream_stats *out)
{
    *out = ts->st;
    out->ooo_bytes_buffered = ts->ooo_total;
}

void tcp_stream_free(struct tcp_stream *ts)
{
    if (!ts)
        return;
    for (struct flow *f; (f = lru_oldest(ts));)
        flow_close(ts, f, TCP_CLOSE_END, false, f->pub.last_ts);
    free(ts->buckets);
    free(ts);
}

/* ---- counters ---- */

static const struct counter_def tcp_rows[] = {
    COUNTER_ROW(struct tcp_stream_stats, flows_opened, "tcp_flows_opened", TOTAL, COUNTER_REPORT,
                "TCP connections followed."),
    COUNTER_ROW(struct tcp_stream_stats, flows_closed, "tcp_flows_closed", TOTAL, COUNTER_REPORT,
                "TCP connections closed by FIN or RST."),
    COUNTER_ROW(struct tcp_stream_stats, flows_evicted, "tcp_flows_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "TCP connections dropped because the flow table was full."),
    COUNTER_ROW(struct tcp_stream_stats, flows_idle_closed, "tcp_flows_idle_closed", TOTAL,
                COUNTER_REPORT, "TCP connections closed after a long silence."),
    COUNTER_ROW(struct tcp_stream_stats, out_of_order, "tcp_out_of_order", TOTAL, COUNTER_REPORT,
                "Segments that arrived ahead of a hole."),
    COUNTER_ROW(struct tcp_stream_stats, retransmitted_bytes, "tcp_retransmitted_bytes", TOTAL,
                COUNTER_REPORT, "Bytes trimmed as already delivered or buffered."),
    COUNTER_ROW(struct tcp_stream_stats, gaps, "tcp_gaps", TOTAL, COUNTER_REPORT | COUNTER_ERROR,
                "Holes in a TCP stream given up on (bytes never captured)."),
    COUNTER_ROW(struct tcp_stream_stats, gap_bytes, "tcp_gap_bytes", TOTAL, COUNTER_REPORT,
                "Bytes missing in those holes."),
    COUNTER_ROW(struct tcp_stream_stats, ooo_dropped_bytes, "tcp_ooo_dropped_bytes", TOTAL,
                COUNTER_REPORT, "Out-of-order bytes dropped for the buffer limits."),
    COUNTER_ROW(struct tcp_stream_stats, segments, "tcp_segments", TOTAL, 0,
                "TCP segments handed to reassembly."),
    COUNTER_ROW(struct tcp_stream_stats, payload_bytes, "tcp_payload_bytes", TOTAL, 0,
                "TCP payload bytes handed to reassembly."),
    COUNTER_ROW(struct tcp_stream_stats, flows_active, "tcp_flows_active", GAUGE, 0,
                "TCP connections followed now."),
    COUNTER_ROW(struct tcp_stream_stats, ooo_bytes_buffered, "tcp_ooo_bytes_buffered", GAUGE, 0,
                "Out-of-order bytes held now."),
    COUNTER_ROW(struct tcp_stream_stats, no_flow_segments, "tcp_no_flow_segments", TOTAL, 0,
                "Segments of no followed connection without payload (ignored)."),
    COUNTER_ROW(struct tcp_stream_stats, out_of_window, "tcp_out_of_window", TOTAL, 0,
                "Segments more than 1 GiB ahead of the next byte (dropped)."),
    COUNTER_ROW(struct tcp_stream_stats, flows_reused, "tcp_flows_reused", TOTAL, 0,
                "A new SYN replaced a connection still followed."),
};

static void read_tcp_stats(const void *owner, void *out)
{
    tcp_stream_get_stats(owner, out);
}

bool tcp_stream_register_counters(const struct tcp_stream *ts, struct counters *reg)
{
    return counters_add(reg, tcp_rows, sizeof tcp_rows / sizeof tcp_rows[0], read_tcp_stats, ts,
                        sizeof(struct tcp_stream_stats));
}

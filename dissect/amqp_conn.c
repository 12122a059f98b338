/*
 * amqp_conn.c: AMQP connection and channel state, content assembly, roles.
 *
 * Each connection has two frame splitters (one per TCP direction) whose
 * frames land in on_frame() below. Method frames update the connection
 * (handshake, tune limits, roles) and channel state (consumer tags, confirm
 * mode); content methods open an assembly on their (channel, direction),
 * which the header and body frames complete into one amqp_message. State is
 * allocated lazily (a connection without channels is a few hundred bytes) and
 * every store is bounded: channels and consumer tags per connection, the body
 * bytes of all partial contents together (oldest evicted first, counted).
 */
#include "dissect/amqp_conn.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/list.h"
#include "common/rd.h"
#include "dissect/amqp_churn.h"
#include "dissect/amqp_frame.h"
#include "dissect/amqp_props.h"
#include "dissect/amqp_table.h"
#include "dissect/inflate.h"
#include "dissect/json_skel.h"
#include "dissect/op.h"

/* Inflated bytes a cut, compressed body may stream through its skeleton. */
#define SKEL_MAX_INFLATE ((size_t)64 << 20)

#define MAX_BROKER_PORTS 32
#define MAX_MESSAGE_PKTS 64

/* How sure we are who the broker is; a stronger source overrides a weaker one. */
enum role_source { ROLE_GUESS, ROLE_METHOD, ROLE_PORT, ROLE_PROTOCOL_HEADER };

enum asm_phase { ASM_WAIT_HEADER, ASM_WAIT_BODY };

/* Finished assemblies kept for the next content, with their method and
 * header buffers (when no bigger than ASM_KEEP_BUF): one calloc, two
 * mallocs and three frees per message were a tenth of the AMQP stage. The
 * list is bounded; an assembly beyond it is freed (it holds no data). */
#define ASM_SPARE_MAX 16
#define ASM_KEEP_BUF 4096

/* A content being put together on one (channel, TCP direction). */
struct assembly {
    struct amqp_conn *conn;
    struct amqp_channel *ch;
    int tcp_dir;
    enum asm_phase phase;
    struct list_node lru; /* on amqp_dissector.partials while it holds body bytes */
    const struct amqp_method_def *def;
    size_t method_len;
    bool has_header; /* hdr and the header copy are set */
    uint64_t body_size, received;
    uint8_t *body;
    size_t body_len, body_cap;
    bool truncated;
    struct json_skel *skel;    /* once truncated: the body's top-level keys (json_skel.h) */
    struct inflate_stream *zs; /* ... inflated first when the body is compressed */
    uint64_t ts_method, ts_end;
    size_t npkts;
    struct assembly *next_spare; /* on amqp_dissector.spare */

    /* From here on a reused assembly is not cleared (assembly_new): the
     * buffers are kept, the rest is written before it is read. */
    uint8_t *method; /* method frame payload copy (ids included) */
    uint8_t *header; /* content header payload copy */
    size_t method_cap, header_cap;
    /* The method's arguments and (has_header) the content header, decoded
     * once and pointing into the copies: the frames that complete or drop
     * the content reuse them instead of decoding again. */
    struct amqp_arg_value args[AMQP_METHOD_MAX_ARGS];
    struct amqp_content_header hdr;
    uint64_t pkts[MAX_MESSAGE_PKTS]; /* [0, npkts) */
};

struct amqp_channel {
    uint16_t id;
    bool confirm;
    bool skip[2]; /* swallowing body frames of a content already given up, per TCP dir */
    uint64_t last_ts;
    uint64_t acks, nacks, rejects;
    struct assembly *as[2];
    char *pending_queue; /* basic.consume with a server-generated tag, until consume-ok */
    /* The last queue or exchange a client method on this channel named, so a
     * broker's channel.close can say which one failed (bounded: one name). */
    char last_name[64];           /* cut beyond: per channel, so it is kept small */
    uint8_t last_kind;            /* 0 none, 1 queue, 2 exchange */
    struct amqp_confirm_chan *cf; /* after the client's confirm.select (amqp_confirm.h) */
};

struct consumer {
    uint16_t channel;
    uint8_t taglen, qlen;
    char s[]; /* tag then queue, not NUL-terminated */
};

struct amqp_conn {
    struct amqp_dissector *d;
    struct list_node link; /* on amqp_dissector.conns */
    struct amqp_conn_info info;
    struct netaddr a, b;
    bool broker_is_a;
    uint8_t role_src; /* enum role_source */
    int cur_dir;      /* TCP direction being fed */
    struct amqp_frame_splitter sp[2];
    struct amqp_channel **chans; /* sorted by id */
    uint32_t nchans, chans_cap;
    struct consumer **cons; /* oldest first */
    uint32_t ncons, cons_cap;
    uint64_t hs_pkts[AMQP_CONN_SETUP_PKTS_MAX];
    bool setup_done;               /* the first message began: no more set-up packets kept */
    struct amqp_confirm_stats *cf; /* once a channel is in confirm mode */
    /* churn: opened at start-ok, closed once (connection.close or TCP end) */
    bool churn_opened, churn_closed, tcp_ended;
};

/* The arguments this file reads by name. Their positions are looked up once
 * per method when the dissector is made (argix below): by name, with a
 * strcmp loop, they were looked up about ten times per message. */
enum arg_name {
    ARG_EXCHANGE,
    ARG_ROUTING_KEY,
    ARG_CONSUMER_TAG,
    ARG_REPLY_TEXT,
    ARG_REPLY_CODE,
    ARG_DELIVERY_TAG,
    ARG_REDELIVERED,
    ARG_MANDATORY,
    ARG_MULTIPLE,
    ARG_QUEUE,
    ARG_DESTINATION,
    ARG_REASON,
    ARG_CLASS_ID,
    ARG_METHOD_ID,
    ARG_NAMES
};

static const char *const arg_names[ARG_NAMES] = {
    [ARG_EXCHANGE] = "exchange",         [ARG_ROUTING_KEY] = "routing_key",
    [ARG_CONSUMER_TAG] = "consumer_tag", [ARG_REPLY_TEXT] = "reply_text",
    [ARG_REPLY_CODE] = "reply_code",     [ARG_DELIVERY_TAG] = "delivery_tag",
    [ARG_REDELIVERED] = "redelivered",   [ARG_MANDATORY] = "mandatory",
    [ARG_MULTIPLE] = "multiple",         [ARG_QUEUE] = "queue",
    [ARG_DESTINATION] = "destination",   [ARG_REASON] = "reason",
    [ARG_CLASS_ID] = "class_id",         [ARG_METHOD_ID] = "method_id",
};

struct amqp_dissector {
    struct amqp_config cfg;
    /* argix[m - methods][name]: the index of that argument of method m
     * (amqp_method_arg_index), -1 when it has none. Every method this file
     * sees comes from method_find, so it is a row of methods. */
    const struct amqp_method_def *methods;
    int8_t (*argix)[ARG_NAMES];
    /* method_at[class_id / 10][method_id]: the row of that method in
     * methods, -1 for none; a row found is checked against both ids, so a
     * class that shares a slot only falls back to amqp_method_find. The
     * binary search for every method frame was as dear as decoding it. */
    int8_t method_at[10][128];
    uint16_t ports[MAX_BROKER_PORTS];
    size_t nports;
    struct amqp_callbacks cb;
    struct amqp_stats st;
    struct list_node conns;    /* struct amqp_conn.link, newest first */
    struct list_node partials; /* struct assembly.lru holding body bytes, oldest first */
    struct assembly *spare;    /* idle assemblies for reuse, at most ASM_SPARE_MAX */
    size_t nspare;
    struct amqp_churn churn;
};

void amqp_config_default(struct amqp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->default_frame_max = 1u << 20;
    cfg->max_body = 16u << 20;
    cfg->max_channels = 2048;
    cfg->max_consumers = 4096;
    cfg->max_partial_bytes = 256u << 20;
    cfg->want_methods = false;
}

/* A process's minute of connection churn, as a broker event. */
static void churn_minute(void *user, const char *process, uint64_t minute_ns, uint32_t opened,
                         uint32_t closed, uint64_t at_ns)
{
    struct amqp_dissector *d = user;
    if (!d->cb.on_broker_event)
        return;
    struct amqp_broker_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event = "connection_churn";
    ev.ts_ns = at_ns;
    ev.process = process;
    ev.minute_ns = minute_ns;
    ev.opened = opened;
    ev.closed = closed;
    d->cb.on_broker_event(d->cb.user, &ev);
}

struct amqp_dissector *amqp_dissector_new(const struct amqp_config *cfg,
                                          const struct amqp_callbacks *cb)
{
    struct amqp_dissector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    size_t nmethods;
    d->methods = amqp_method_table(&nmethods);
    d->argix = malloc(nmethods * sizeof *d->argix);
    if (!d->argix) {
        free(d);
        return NULL;
    }
    memset(d->method_at, -1, sizeof d->method_at);
    for (size_t i = 0; i < nmethods; i++) {
        for (int a = 0; a < ARG_NAMES; a++)
            d->argix[i][a] = (int8_t)amqp_method_arg_index(&d->methods[i], arg_names[a]);
        const struct amqp_method_def *m = &d->methods[i];
        if (m->class_id < 100 && m->method_id < 128 && i <= INT8_MAX)
            d->method_at[m->class_id / 10][m->method_id] = (int8_t)i;
    }
    list_init(&d->conns);
    list_init(&d->partials);
    if (cfg)
        d->cfg = *cfg;
    else
        amqp_config_default(&d->cfg);
    struct amqp_config def;
    amqp_config_default(&def);
    if (d->cfg.default_frame_max < 4096)
        d->cfg.default_frame_max = def.default_frame_max;
    if (d->cfg.max_channels == 0)
        d->cfg.max_channels = def.max_channels;
    if (d->cfg.max_consumers == 0)
        d->cfg.max_consumers = def.max_consumers;
    if (d->cfg.max_partial_bytes == 0)
        d->cfg.max_partial_bytes = def.max_partial_bytes;
    if (d->cfg.nbroker_ports == 0 || !d->cfg.broker_ports) {
        d->ports[0] = 5672;
        d->ports[1] = 5671;
        d->nports = 2;
    } else {
        d->nports =
            d->cfg.nbroker_ports < MAX_BROKER_PORTS ? d->cfg.nbroker_ports : MAX_BROKER_PORTS;
        memcpy(d->ports, d->cfg.broker_ports, d->nports * sizeof d->ports[0]);
    }
    d->cfg.broker_ports = NULL; /* the caller's array need not outlive this call */
    if (cb)
        d->cb = *cb;
    amqp_churn_init(&d->churn, churn_minute, d);
    return d;
}

/* ---- errors and counters ---- */

static void count_error(struct amqp_conn *c, enum amqp_err e)
{
    c->d->st.errors[e]++;
    switch (e) {
    case AMQP_ERR_OVERSIZE_FRAME:
        c->d->st.oversize_frames++;
        c->info.malformed++;
        break;
    case AMQP_ERR_BAD_FRAME_TYPE:
    case AMQP_ERR_BAD_FRAME_END:
    case AMQP_ERR_BAD_PROTOCOL_HEADER:
    case AMQP_ERR_SHORT_METHOD:
    case AMQP_ERR_BAD_ARGS:
    case AMQP_ERR_BAD_TABLE:
    case AMQP_ERR_TABLE_TOO_DEEP:
    case AMQP_ERR_BAD_CONTENT_HEADER:
        c->d->st.malformed_frames++;
        c->info.malformed++;
        break;
    default:
        break;
    }
}

/* ---- roles ---- */

static bool is_broker_port(const struct amqp_dissector *d, uint16_t port)
{
    for (size_t i = 0; i < d->nports; i++)
        if (d->ports[i] == port)
            return true;
    return false;
}

/* AMQP direction (0 = to the broker) of bytes sent in TCP direction tcp_dir. */
static int amqp_dir(const struct amqp_conn *c, int tcp_dir)
{
    return c->broker_is_a ? 1 - tcp_dir : tcp_dir;
}

static void notify_conn(struct amqp_conn *c, enum amqp_conn_event ev)
{
    if (c->d->cb.on_conn)
        c->d->cb.on_conn(c->d->cb.user, &c->info, ev);
}

static void set_role(struct amqp_conn *c, bool broker_is_a, enum role_source src)
{
    if (src <= c->role_src)
        return;
    bool changed = c->broker_is_a != broker_is_a || !c->info.broker_known;
    c->role_src = (uint8_t)src;
    c->broker_is_a = broker_is_a;
    c->info.broker = broker_is_a ? c->a : c->b;
    c->info.client = broker_is_a ? c->b : c->a;
    c->info.broker_known = true;
    if (changed)
        notify_conn(c, AMQP_CONN_UPDATE);
}

/* ---- frame sink ---- */

static void on_frame(void *user, const struct amqp_frame *f);

static void on_protocol_header(void *user, const uint8_t hdr[8], uint64_t ts_ns, uint64_t pkt)
{
    struct amqp_conn *c = user;
    c->d->st.protocol_headers++;
    /* The client speaks first; a broker only echoes one when refusing the version. */
    set_role(c, c->cur_dir == 1, ROLE_PROTOCOL_HEADER);
    if (c->info.nhandshake_pkts < AMQP_CONN_SETUP_PKTS_MAX)
        c->hs_pkts[c->info.nhandshake_pkts++] = pkt;
}

static void drop_direction(struct amqp_conn *c, int tcp_dir, enum amqp_err why);

static void on_error(void *user, enum amqp_err err)
{
    struct amqp_conn *c = user;
    count_error(c, err);
    /* Frames of this direction may have been lost with the bad bytes. */
    drop_direction(c, c->cur_dir, AMQP_ERR_CONTENT_GAP);
}

static void on_skip(void *user, uint64_t n)
{
    struct amqp_conn *c = user;
    c->d->st.skipped_bytes += n;
    c->info.skipped_bytes += n;
}

static void on_resync(void *user)
{
    struct amqp_conn *c = user;
    c->d->st.resyncs++;
    c->info.resyncs++;
}

static const struct amqp_frame_sink frame_sink = {
    .on_frame = on_frame,
    .on_protocol_header = on_protocol_header,
    .on_error = on_error,
    .on_skip = on_skip,
    .on_resync = on_resync,
};

/* ---- connections ---- */

struct amqp_conn *amqp_conn_open(struct amqp_dissector *d, uint64_t flow_id,
                                 const struct netaddr *a, const struct netaddr *b, uint64_t ts_ns)
{
    struct amqp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->d = d;
    c->a = *a;
    c->b = *b;
    c->info.id = flow_id;
    c->info.first_ts = c->info.last_ts = ts_ns;
    c->info.handshake_pkts = c->hs_pkts;
    /* Until something says otherwise, a (the SYN sender or first talker) is the client. */
    c->broker_is_a = false;
    c->info.client = *a;
    c->info.broker = *b;
    bool pa = is_broker_port(d, a->port), pb = is_broker_port(d, b->port);
    if (pa != pb) {
        /* Known from the start: no UPDATE event before OPEN. */
        c->role_src = ROLE_PORT;
        c->broker_is_a = pa;
        c->info.broker = pa ? *a : *b;
        c->info.client = pa ? *b : *a;
        c->info.broker_known = true;
    }
    for (int i = 0; i < 2; i++)
        amqp_frame_init(&c->sp[i], d->cfg.default_frame_max, &frame_sink, c);
    list_prepend(&d->conns, &c->link);
    d->st.connections_open++;
    d->st.connections_total++;
    notify_conn(c, AMQP_CONN_OPEN);
    return c;
}

void amqp_conn_set_source(struct amqp_conn *c, uint16_t source)
{
    c->info.source = source;
}

const struct amqp_conn_info *amqp_conn_get_info(const struct amqp_conn *c)
{
    return &c->info;
}

size_t amqp_conn_footprint(const struct amqp_conn *c)
{
    size_t n = sizeof *c + c->chans_cap * sizeof *c->chans + c->cons_cap * sizeof *c->cons;
    for (uint32_t i = 0; i < c->nchans; i++)
        n += sizeof(struct amqp_channel) + (c->chans[i]->cf ? sizeof *c->chans[i]->cf : 0);
    if (c->cf) /* and the latency histogram's blocks, a few KiB */
        n += sizeof *c->cf;
    for (uint32_t i = 0; i < c->ncons; i++)
        n += sizeof(struct consumer) + c->cons[i]->taglen + c->cons[i]->qlen;
    for (int i = 0; i < 2; i++)
        n += c->sp[i].cap + (c->sp[i].pkts ? AMQP_FRAME_MAX_PKTS * sizeof(uint64_t) : 0);
    return n;
}

void amqp_conn_data(struct amqp_conn *c, int tcp_dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns, uint64_t pkt_index)
{
    if (!c || tcp_dir < 0 || tcp_dir > 1)
        return;
    c->cur_dir = tcp_dir;
    c->info.last_ts = ts_ns;
    c->info.bytes[amqp_dir(c, tcp_dir)] += len;
    c->d->st.bytes += len;
    amqp_frame_feed(&c->sp[tcp_dir], data, len, ts_ns, pkt_index);
}

void amqp_conn_gap(struct amqp_conn *c, int tcp_dir, uint64_t missing_bytes, uint64_t ts_ns)
{
    if (!c || tcp_dir < 0 || tcp_dir > 1)
        return;
    c->cur_dir = tcp_dir;
    c->info.gaps++;
    c->d->st.gaps++;
    amqp_frame_gap(&c->sp[tcp_dir]);
    drop_direction(c, tcp_dir, AMQP_ERR_CONTENT_GAP);
}

/* ---- channels ---- */

static size_t chan_search(const struct amqp_conn *c, uint16_t id, bool *found)
{
    size_t lo = 0, hi = c->nchans;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->chans[mid]->id == id) {
            *found = true;
            return mid;
        }
        if (c->chans[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void assembly_free(struct amqp_dissector *d, struct assembly *as);

static void channel_free(struct amqp_conn *c, struct amqp_channel *ch)
{
    for (int i = 0; i < 2; i++)
        if (ch->as[i])
            assembly_free(c->d, ch->as[i]);
    free(ch->pending_queue);
    free(ch->cf);
    free(ch);
}

static void channel_remove_at(struct amqp_conn *c, size_t i)
{
    channel_free(c, c->chans[i]);
    memmove(&c->chans[i], &c->chans[i + 1], (c->nchans - i - 1) * sizeof *c->chans);
    c->nchans--;
    c->info.channels_open = c->nchans;
}

static void emit_incomplete(struct amqp_conn *c, struct assembly *as);

/* Full table: the channel quiet the longest goes (its half content is dropped). */
static void channel_evict_one(struct amqp_conn *c)
{
    size_t victim = 0;
    for (size_t i = 1; i < c->nchans; i++)
        if (c->chans[i]->last_ts < c->chans[victim]->last_ts)
            victim = i;
    struct amqp_channel *ch = c->chans[victim];
    for (int i = 0; i < 2; i++)
        if (ch->as[i]) {
            c->d->st.contents_dropped++;
            emit_incomplete(c, ch->as[i]);
        }
    c->d->st.channels_evicted++;
    channel_remove_at(c, victim);
}

static struct amqp_channel *channel_get(struct amqp_conn *c, uint16_t id, uint64_t ts, bool create)
{
    bool found;
    size_t i = chan_search(c, id, &found);
    if (found) {
        c->chans[i]->last_ts = ts;
        return c->chans[i];
    }
    if (!create)
        return NULL;
    if (c->nchans >= c->d->cfg.max_channels) {
        channel_evict_one(c);
        i = chan_search(c, id, &found);
    }
    if (c->nchans == c->chans_cap) {
        uint32_t cap = c->chans_cap ? c->chans_cap * 2 : 4;
        if (cap > c->d->cfg.max_channels)
            cap = c->d->cfg.max_channels;
        struct amqp_channel **n = realloc(c->chans, cap * sizeof *n);
        if (!n)
            return NULL;
        c->chans = n;
        c->chans_cap = cap;
    }
    struct amqp_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->id = id;
    ch->last_ts = ts;
    memmove(&c->chans[i + 1], &c->chans[i], (c->nchans - i) * sizeof *c->chans);
    c->chans[i] = ch;
    c->nchans++;
    c->info.channels_open = c->nchans;
    return ch;
}

/* ---- consumers ---- */

static struct consumer *consumer_find(struct amqp_conn *c, uint16_t channel, struct amqp_bytes tag,
                                      size_t *idx)
{
    for (uint32_t i = 0; i < c->ncons; i++) {
        struct consumer *k = c->cons[i];
        if (k->channel == channel && k->taglen == tag.len && memcmp(k->s, tag.p, tag.len) == 0) {
            if (idx)
                *idx = i;
            return k;
        }
    }
    return NULL;
}

static void consumer_remove_at(struct amqp_conn *c, size_t i)
{
    free(c->cons[i]);
    memmove(&c->cons[i], &c->cons[i + 1], (c->ncons - i - 1) * sizeof *c->cons);
    c->ncons--;
    c->info.consumers = c->ncons;
}

static void consumer_add(struct amqp_conn *c, uint16_t channel, struct amqp_bytes tag,
                         const char *queue, size_t qlen)
{
    size_t idx;
    if (tag.len == 0 || tag.len > 255 || qlen > 255)
        return;
    if (consumer_find(c, channel, tag, &idx))
        consumer_remove_at(c, idx);
    if (c->ncons >= c->d->cfg.max_consumers) {
        consumer_remove_at(c, 0);
        c->d->st.consumers_evicted++;
    }
    if (c->ncons == c->cons_cap) {
        uint32_t cap = c->cons_cap ? c->cons_cap * 2 : 4;
        if (cap > c->d->cfg.max_consumers)
            cap = c->d->cfg.max_consumers;
        struct consumer **n = realloc(c->cons, cap * sizeof *n);
        if (!n)
            return;
        c->cons = n;
        c->cons_cap = cap;
    }
    struct consumer *k = malloc(sizeof *k + tag.len + qlen);
    if (!k)
        return;
    k->channel = channel;
    k->taglen = (uint8_t)tag.len;
    k->qlen = (uint8_t)qlen;
    memcpy(k->s, tag.p, tag.len);
    if (qlen)
        memcpy(k->s + tag.len, queue, qlen);
    c->cons[c->ncons++] = k;
    c->info.consumers = c->ncons;
}

static void consumers_drop_channel(struct amqp_conn *c, uint16_t channel)
{
    for (uint32_t i = c->ncons; i-- > 0;)
        if (c->cons[i]->channel == channel)
            consumer_remove_at(c, i);
}

/* ---- content assembly ---- */

/* The partial content that has held body bytes longest, NULL when none does. */
static struct assembly *oldest_partial(const struct amqp_dissector *d)
{
    struct list_node *n = list_first(&d->partials);
    return n ? list_item(n, struct assembly, lru) : NULL;
}

/* A cleared assembly, a spare one when there is one; NULL when out of memory. */
static struct assembly *assembly_new(struct amqp_dissector *d)
{
    struct assembly *as = d->spare;
    if (!as)
        return calloc(1, sizeof *as);
    d->spare = as->next_spare;
    d->nspare--;
    memset(as, 0, offsetof(struct assembly, method));
    return as;
}

/* Room for n bytes in a kept buffer; its old bytes are not kept. */
static bool buf_fit(uint8_t **buf, size_t *cap, size_t n)
{
    if (n <= *cap && *buf)
        return true;
    free(*buf);
    *cap = 0;
    *buf = malloc(n ? n : 1);
    if (!*buf)
        return false;
    *cap = n ? n : 1;
    return true;
}

/* An assembly and the buffers it keeps, gone for good. */
static void assembly_destroy(struct assembly *as)
{
    free(as->method);
    free(as->header);
    free(as);
}

/* Back to the spare list (buffers over ASM_KEEP_BUF freed), or freed when it is full. */
static void assembly_recycle(struct amqp_dissector *d, struct assembly *as)
{
    if (d->nspare >= ASM_SPARE_MAX) {
        assembly_destroy(as);
        return;
    }
    if (as->method_cap > ASM_KEEP_BUF) {
        free(as->method);
        as->method = NULL;
        as->method_cap = 0;
    }
    if (as->header_cap > ASM_KEEP_BUF) {
        free(as->header);
        as->header = NULL;
        as->header_cap = 0;
    }
    as->next_spare = d->spare;
    d->spare = as;
    d->nspare++;
}

static void assembly_free(struct amqp_dissector *d, struct assembly *as)
{
    list_unlink(&as->lru);
    d->st.partial_bytes -= as->body_cap;
    as->ch->as[as->tcp_dir] = NULL;
    free(as->body);
    json_skel_free(as->skel);
    inflate_stream_free(as->zs);
    assembly_recycle(d, as);
}

static void add_pkts(uint64_t *list, size_t *n, size_t max, const uint64_t *pkts, size_t np)
{
    for (size_t i = 0; i < np; i++) {
        bool dup = false;
        for (size_t j = *n; j-- > 0 && !dup;)
            dup = list[j] == pkts[i];
        if (!dup && *n < max)
            list[(*n)++] = pkts[i];
    }
}

static void fill_event_base(struct amqp_conn *c, struct amqp_method_event *ev, int tcp_dir,
                            uint16_t channel, uint64_t ts)
{
    /* Everything but args, which whoever sets nargs writes for [0, nargs)
     * and no one reads beyond: zeroing those 320 bytes on every frame was
     * the largest cost here. */
    memset(ev, 0, offsetof(struct amqp_method_event, args));
    memset(&ev->has_content, 0, sizeof *ev - offsetof(struct amqp_method_event, has_content));
    ev->conn = &c->info;
    ev->dir = amqp_dir(c, tcp_dir);
    ev->channel = channel;
    ev->ts_ns = ts;
}

/* Emits the method event of a content method whose content was given up. */
static void emit_incomplete(struct amqp_conn *c, struct assembly *as)
{
    if (!c->d->cfg.want_methods || !c->d->cb.on_method)
        return;
    struct amqp_method_event ev;
    fill_event_base(c, &ev, as->tcp_dir, as->ch->id, as->ts_method);
    ev.class_id = as->def->class_id;
    ev.method_id = as->def->method_id;
    ev.method = as->def;
    ev.nargs = as->def->nargs;
    memcpy(ev.args, as->args, as->def->nargs * sizeof as->args[0]);
    ev.has_content = true;
    ev.content_complete = false;
    if (as->has_header) {
        ev.props = &as->hdr.props;
        ev.body_size = as->hdr.body_size;
    }
    ev.body_len = as->body_len;
    ev.body_truncated = true;
    ev.pkts = as->pkts;
    ev.npkts = as->npkts;
    c->d->cb.on_method(c->d->cb.user, &ev);
}

/* Gives up the content on (channel, dir): counted, its remaining body frames swallowed. */
static void assembly_drop(struct amqp_conn *c, struct assembly *as, enum amqp_err why)
{
    struct amqp_channel *ch = as->ch;
    int dir = as->tcp_dir;
    c->d->st.errors[why]++;
    c->d->st.contents_dropped++;
    emit_incomplete(c, as);
    assembly_free(c->d, as);
    ch->skip[dir] = true;
}

static void drop_direction(struct amqp_conn *c, int tcp_dir, enum amqp_err why)
{
    for (uint32_t i = 0; i < c->nchans; i++) {
        struct amqp_channel *ch = c->chans[i];
        if (ch->as[tcp_dir])
            assembly_drop(c, ch->as[tcp_dir], why);
    }
}

static bool bytes_eq(struct amqp_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
}

/* amqp_method_find through method_at. */
static const struct amqp_method_def *method_find(const struct amqp_dissector *d, uint16_t class_id,
                                                 uint16_t method_id)
{
    if (class_id < 100 && method_id < 128) {
        int i = d->method_at[class_id / 10][method_id];
        if (i >= 0 && d->methods[i].class_id == class_id && d->methods[i].method_id == method_id)
            return &d->methods[i];
    }
    return amqp_method_find(class_id, method_id);
}

/* Index of argument name of method m (a row of the method table), -1 for none. */
static int arg_index(const struct amqp_dissector *d, const struct amqp_method_def *m,
                     enum arg_name name)
{
    return d->argix[m - d->methods][name];
}

static void arg_bytes(const struct amqp_dissector *d, const struct amqp_method_def *m,
                      const struct amqp_arg_value *args, enum arg_name name, struct amqp_bytes *out)
{
    int i = arg_index(d, m, name);
    if (i >= 0)
        *out = args[i].bytes;
}

static uint64_t arg_u(const struct amqp_dissector *d, const struct amqp_method_def *m,
                      const struct amqp_arg_value *args, enum arg_name name)
{
    int i = arg_index(d, m, name);
    return i >= 0 ? args[i].u : 0;
}

/* A delivery the broker makes again (a consumer died or rejected it with
 * requeue): the redelivered flag, and on quorum queues x-delivery-count, the
 * attempts before this one. A poison message shows as a run of these. */
static void redelivery_event(struct amqp_conn *c, const struct amqp_message *msg)
{
    struct amqp_dissector *d = c->d;
    struct amqp_table_value v;
    uint64_t count = 0;
    if ((msg->props.present & AMQP_PROP_HEADERS) &&
        amqp_table_find(msg->props.headers.p, msg->props.headers.len, "x-delivery-count", &v)) {
        if (v.kind == AMQP_VAL_INT && v.v.i > 0)
            count = (uint64_t)v.v.i;
        else if (v.kind == AMQP_VAL_UINT)
            count = v.v.u;
    }
    if ((!msg->redelivered && !count) || !d->cb.on_broker_event)
        return;
    struct amqp_broker_event ev;
    char qname[256];
    memset(&ev, 0, sizeof ev);
    ev.conn = &c->info;
    ev.ts_ns = msg->ts_ns;
    ev.channel = msg->channel;
    ev.event = "redelivery";
    ev.delivery_tag = msg->delivery_tag;
    ev.delivery_count = count;
    ev.pkts = msg->pkts;
    ev.npkts = msg->npkts;
    if (msg->queue.len) {
        snprintf(qname, sizeof qname, "%.*s", (int)msg->queue.len, (const char *)msg->queue.p);
        ev.name = qname;
        ev.name_kind = "queue";
    }
    d->cb.on_broker_event(d->cb.user, &ev);
}

static void assembly_complete(struct amqp_conn *c, struct assembly *as, const uint8_t *body,
                              size_t body_len)
{
    struct amqp_dissector *d = c->d;
    struct amqp_message msg;
    struct amqp_method_event ev;
    const struct amqp_method_def *m = as->def;
    fill_event_base(c, &ev, as->tcp_dir, as->ch->id, as->ts_method);
    ev.class_id = m->class_id;
    ev.method_id = m->method_id;
    ev.method = m;
    ev.nargs = m->nargs;
    /* Both were decoded when their frames arrived. */
    memcpy(ev.args, as->args, m->nargs * sizeof as->args[0]);

    memset(&msg, 0, sizeof msg);
    switch (m->method_id) {
    case 40:
        msg.kind = AMQP_CONTENT_PUBLISH;
        break;
    case 50:
        msg.kind = AMQP_CONTENT_RETURN;
        break;
    case 60:
        msg.kind = AMQP_CONTENT_DELIVER;
        break;
    default:
        msg.kind = AMQP_CONTENT_GET_OK;
        break;
    }
    msg.conn = &c->info;
    msg.dir = ev.dir;
    msg.channel = as->ch->id;
    msg.ts_ns = as->ts_method;
    msg.ts_end_ns = as->ts_end;
    arg_bytes(d, m, ev.args, ARG_EXCHANGE, &msg.exchange);
    arg_bytes(d, m, ev.args, ARG_ROUTING_KEY, &msg.routing_key);
    arg_bytes(d, m, ev.args, ARG_CONSUMER_TAG, &msg.consumer_tag);
    arg_bytes(d, m, ev.args, ARG_REPLY_TEXT, &msg.reply_text);
    msg.delivery_tag = arg_u(d, m, ev.args, ARG_DELIVERY_TAG);
    msg.redelivered = arg_u(d, m, ev.args, ARG_REDELIVERED) != 0;
    msg.mandatory = arg_u(d, m, ev.args, ARG_MANDATORY) != 0;
    msg.reply_code = (uint16_t)arg_u(d, m, ev.args, ARG_REPLY_CODE);
    if (msg.consumer_tag.len) {
        struct consumer *k = consumer_find(c, as->ch->id, msg.consumer_tag, NULL);
        if (k && k->qlen) {
            msg.queue.p = (const uint8_t *)k->s + k->taglen;
            msg.queue.len = k->qlen;
        }
    }
    msg.props = as->hdr.props;
    msg.body = body;
    msg.body_len = body_len;
    msg.body_size = as->body_size;
    msg.body_truncated = as->truncated;
    if (as->skel)
        msg.skel = json_skel_result(as->skel, &msg.skel_len);
    msg.pkts = as->pkts;
    msg.npkts = as->npkts;

    ev.has_content = true;
    ev.content_complete = true;
    ev.props = &as->hdr.props;
    ev.body_size = as->body_size;
    ev.body_len = body_len;
    ev.body_truncated = as->truncated;
    ev.pkts = as->pkts;
    ev.npkts = as->npkts;

    if (as->truncated)
        d->st.bodies_truncated++;
    d->st.messages++;
    c->info.messages++;
    if (d->cfg.want_methods && d->cb.on_method)
        d->cb.on_method(d->cb.user, &ev);
    if (msg.kind == AMQP_CONTENT_DELIVER)
        redelivery_event(c, &msg);
    if (d->cb.on_message)
        d->cb.on_message(d->cb.user, &msg);
    assembly_free(d, as);
}

static void evict_oldest_partial(struct amqp_dissector *d)
{
    struct assembly *as = oldest_partial(d);
    d->st.partial_evicted++;
    /* Dropped through its own connection so the event names the right one. */
    struct amqp_conn *c = as->conn;
    struct amqp_channel *ch = as->ch;
    int dir = as->tcp_dir;
    d->st.contents_dropped++;
    emit_incomplete(c, as);
    assembly_free(d, as);
    ch->skip[dir] = true;
}

/* Makes room for the body to hold `want` bytes; returns how many it can hold. */
static size_t body_reserve(struct amqp_dissector *d, struct assembly *as, size_t want)
{
    if (want <= as->body_cap)
        return want;
    uint64_t limit64 = as->body_size < d->cfg.max_body ? as->body_size : d->cfg.max_body;
    size_t limit = limit64 > SIZE_MAX ? SIZE_MAX : (size_t)limit64;
    size_t cap = as->body_cap ? as->body_cap * 2 : 4096;
    if (cap < want)
        cap = want;
    if (cap > limit)
        cap = limit;
    size_t grow = cap - as->body_cap;
    while (d->st.partial_bytes + grow > d->cfg.max_partial_bytes && oldest_partial(d) &&
           oldest_partial(d) != as)
        evict_oldest_partial(d);
    if (d->st.partial_bytes + grow > d->cfg.max_partial_bytes) {
        /* Alone over the limit: keep what fits. */
        uint64_t room = d->cfg.max_partial_bytes > d->st.partial_bytes
                            ? d->cfg.max_partial_bytes - d->st.partial_bytes
                            : 0;
        grow = room < grow ? (size_t)room : grow;
        cap = as->body_cap + grow;
    }
    if (cap > as->body_cap) {
        uint8_t *nb = realloc(as->body, cap);
        if (nb) {
            as->body = nb;
            d->st.partial_bytes += cap - as->body_cap;
            as->body_cap = cap;
        }
    }
    if (!list_linked(&as->lru))
        list_append(&d->partials, &as->lru);
    return want < as->body_cap ? want : as->body_cap;
}

/* The body is cut from here on: what was kept and every later byte go
 * through a skeleton so correlation still finds the keys past the cut. */
static void skel_out(void *user, const uint8_t *p, size_t n)
{
    json_skel_feed(user, p, n);
}

static void skel_feed(struct assembly *as, const uint8_t *p, size_t n)
{
    if (as->zs)
        inflate_stream_feed(as->zs, p, n);
    else if (as->skel)
        json_skel_feed(as->skel, p, n);
}

static void body_cut(struct assembly *as, const uint8_t *kept, size_t nkept)
{
    as->truncated = true;
    as->skel = json_skel_new();
    if (!as->skel)
        return;
    const struct amqp_basic_props *props = &as->hdr.props;
    if (as->has_header && (props->present & AMQP_PROP_HEADERS) &&
        inflate_codec_from_headers(props->headers.p, props->headers.len) == INFLATE_CODEC_ZLIB)
        as->zs = inflate_stream_new(SKEL_MAX_INFLATE, skel_out, as->skel);
    skel_feed(as, kept, nkept);
}

static void body_append(struct amqp_dissector *d, struct assembly *as, const uint8_t *p, size_t n)
{
    uint64_t keep_limit = d->cfg.max_body;
    if (as->truncated) {
        skel_feed(as, p, n); /* the kept prefix is final once cut */
        return;
    }
    if (as->body_len >= keep_limit) {
        body_cut(as, as->body, as->body_len);
        skel_feed(as, p, n);
        return;
    }
    size_t room = (size_t)(keep_limit - as->body_len);
    size_t take = n < room ? n : room;
    size_t can = body_reserve(d, as, as->body_len + take);
    if (can < as->body_len + take)
        take = can > as->body_len ? can - as->body_len : 0;
    if (take)
        memcpy(as->body + as->body_len, p, take);
    as->body_len += take;
    if (take < n) {
        body_cut(as, as->body, as->body_len);
        skel_feed(as, p + take, n - take);
    }
}

/* args: m's arguments as decoded from f, kept (moved onto the copy) for the
 * frames that complete the content. */
static void on_content_method(struct amqp_conn *c, struct amqp_channel *ch,
                              const struct amqp_method_def *m, const struct amqp_frame *f,
                              const struct amqp_arg_value *args)
{
    int dir = c->cur_dir;
    struct assembly *as = assembly_new(c->d);
    if (!as || !buf_fit(&as->method, &as->method_cap, f->size)) {
        if (as)
            assembly_recycle(c->d, as);
        c->d->st.contents_dropped++;
        ch->skip[dir] = true;
        return;
    }
    memcpy(as->method, f->payload, f->size);
    as->method_len = f->size;
    for (unsigned i = 0; i < m->nargs; i++) {
        as->args[i] = args[i];
        if (args[i].bytes.p) /* the same offset in the copy */
            as->args[i].bytes.p = as->method + (args[i].bytes.p - f->payload);
    }
    as->conn = c;
    as->ch = ch;
    as->tcp_dir = dir;
    as->def = m;
    as->phase = ASM_WAIT_HEADER;
    as->ts_method = as->ts_end = f->ts_ns;
    add_pkts(as->pkts, &as->npkts, MAX_MESSAGE_PKTS, f->pkts, f->npkts);
    ch->as[dir] = as;
}

static void on_header_frame(struct amqp_conn *c, const struct amqp_frame *f)
{
    int dir = c->cur_dir;
    struct amqp_channel *ch = channel_get(c, f->channel, f->ts_ns, false);
    struct assembly *as = ch ? ch->as[dir] : NULL;
    if (!as || as->phase != ASM_WAIT_HEADER) {
        if (as)
            assembly_drop(c, as, AMQP_ERR_CONTENT_INTERRUPTED);
        else {
            /* Capture began between the method and its header: count once, skip the body. */
            c->d->st.errors[AMQP_ERR_HEADER_WITHOUT_METHOD]++;
            c->d->st.contents_dropped++;
        }
        ch = channel_get(c, f->channel, f->ts_ns, true);
        if (ch)
            ch->skip[dir] = true;
        return;
    }
    /* Parsed in its copy, so that as->hdr points at bytes the assembly owns
     * (in the frame itself only when the copy could not be made). */
    bool copied = buf_fit(&as->header, &as->header_cap, f->size);
    if (copied)
        memcpy(as->header, f->payload, f->size);
    enum amqp_err e =
        amqp_content_header_parse(copied ? as->header : f->payload, f->size, &as->hdr);
    if (e == AMQP_OK && as->hdr.class_id != as->def->class_id)
        e = AMQP_ERR_BAD_CONTENT_HEADER;
    if (e != AMQP_OK) {
        c->d->st.malformed_frames++;
        c->info.malformed++;
        assembly_drop(c, as, e);
        return;
    }
    if (!copied) {
        assembly_drop(c, as, AMQP_ERR_CONTENT_UNFINISHED);
        return;
    }
    as->has_header = true;
    as->body_size = as->hdr.body_size;
    as->ts_end = f->ts_ns;
    add_pkts(as->pkts, &as->npkts, MAX_MESSAGE_PKTS, f->pkts, f->npkts);
    as->phase = ASM_WAIT_BODY;
    if (as->body_size == 0)
        assembly_complete(c, as, NULL, 0);
}

static void on_body_frame(struct amqp_conn *c, const struct amqp_frame *f)
{
    int dir = c->cur_dir;
    struct amqp_channel *ch = channel_get(c, f->channel, f->ts_ns, false);
    struct assembly *as = ch ? ch->as[dir] : NULL;
    if (!as) {
        if (ch && ch->skip[dir])
            return; /* rest of a content already counted as dropped */
        c->d->st.errors[AMQP_ERR_BODY_WITHOUT_HEADER]++;
        c->d->st.contents_dropped++;
        ch = channel_get(c, f->channel, f->ts_ns, true);
        if (ch)
            ch->skip[dir] = true;
        return;
    }
    if (as->phase != ASM_WAIT_BODY) {
        assembly_drop(c, as, AMQP_ERR_BODY_WITHOUT_HEADER);
        return;
    }
    if (f->size > as->body_size - as->received) {
        assembly_drop(c, as, AMQP_ERR_BODY_OVERRUN);
        return;
    }
    add_pkts(as->pkts, &as->npkts, MAX_MESSAGE_PKTS, f->pkts, f->npkts);
    as->ts_end = f->ts_ns;
    if (as->received == 0 && f->size == as->body_size) {
        /* The whole body in one frame: hand it out in place. */
        size_t keep = f->size;
        if (keep > c->d->cfg.max_body) {
            keep = (size_t)c->d->cfg.max_body;
            body_cut(as, f->payload, f->size);
        }
        as->received = f->size;
        assembly_complete(c, as, f->payload, keep);
        return;
    }
    body_append(c->d, as, f->payload, f->size);
    as->received += f->size;
    if (as->received == as->body_size)
        assembly_complete(c, as, as->body, as->body_len);
}

/* ---- handshake and per-method state ---- */

static void copy_str(char *dst, size_t cap, struct amqp_bytes b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    if (n)
        memcpy(dst, b.p, n);
    dst[n] = '\0';
}

static void note_handshake_pkts(struct amqp_conn *c, const struct amqp_frame *f)
{
    if (c->setup_done)
        return;
    size_t n = c->info.nhandshake_pkts;
    add_pkts(c->hs_pkts, &n, AMQP_CONN_SETUP_PKTS_MAX, f->pkts, f->npkts);
    c->info.nhandshake_pkts = n;
}

/* PLAIN: "authzid\0user\0password"; AMQPLAIN: a table with LOGIN and PASSWORD.
 * Only the user is kept. */
static void parse_login(struct amqp_conn *c, struct amqp_bytes mech, struct amqp_bytes resp)
{
    if (bytes_eq(mech, "PLAIN")) {
        const uint8_t *z1 = resp.len ? memchr(resp.p, 0, resp.len) : NULL;
        if (!z1)
            return;
        const uint8_t *user = z1 + 1;
        size_t left = resp.len - (size_t)(user - resp.p);
        const uint8_t *z2 = memchr(user, 0, left);
        struct amqp_bytes u = {user, z2 ? (size_t)(z2 - user) : left};
        copy_str(c->info.user, sizeof c->info.user, u);
    } else if (bytes_eq(mech, "AMQPLAIN")) {
        amqp_table_find_str(resp.p, resp.len, "LOGIN", c->info.user, sizeof c->info.user);
    }
}

static void wipe_arg(const struct amqp_frame *f, const struct amqp_arg_value *v)
{
    if (f->wipe && v->bytes.p && v->bytes.len)
        memset(f->wipe + (v->bytes.p - f->payload), 0, v->bytes.len);
}

static void on_connection_method(struct amqp_conn *c, const struct amqp_method_def *m,
                                 const struct amqp_arg_value *a, const struct amqp_frame *f)
{
    struct amqp_conn_info *in = &c->info;
    switch (m->method_id) {
    case 10: /* start */
        amqp_table_find_str(a[2].bytes.p, a[2].bytes.len, "product", in->server_product,
                            sizeof in->server_product);
        amqp_table_find_str(a[2].bytes.p, a[2].bytes.len, "version", in->server_version,
                            sizeof in->server_version);
        amqp_table_find_str(a[2].bytes.p, a[2].bytes.len, "platform", in->server_platform,
                            sizeof in->server_platform);
        break;
    case 11: /* start-ok */
        amqp_table_find_str(a[0].bytes.p, a[0].bytes.len, "product", in->product,
                            sizeof in->product);
        /* py-amqp says product_version, most other clients version */
        if (!amqp_table_find_str(a[0].bytes.p, a[0].bytes.len, "version", in->client_version,
                                 sizeof in->client_version))
            amqp_table_find_str(a[0].bytes.p, a[0].bytes.len, "product_version", in->client_version,
                                sizeof in->client_version);
        amqp_table_find_str(a[0].bytes.p, a[0].bytes.len, "platform", in->platform,
                            sizeof in->platform);
        amqp_table_find_str(a[0].bytes.p, a[0].bytes.len, "connection_name", in->connection_name,
                            sizeof in->connection_name);
        copy_str(in->mechanism, sizeof in->mechanism, a[1].bytes);
        parse_login(c, a[1].bytes, a[2].bytes);
        notify_conn(c, AMQP_CONN_UPDATE);
        break;
    case 31: /* tune-ok: what both sides now use */
        in->channel_max = (uint16_t)a[0].u;
        in->frame_max = (uint32_t)a[1].u;
        in->heartbeat = (uint16_t)a[2].u;
        for (int i = 0; i < 2; i++)
            amqp_frame_set_limits(&c->sp[i], in->frame_max, in->channel_max);
        notify_conn(c, AMQP_CONN_UPDATE);
        break;
    case 40: /* open */
        copy_str(in->vhost, sizeof in->vhost, a[0].bytes);
        break;
    case 41: /* open-ok */
        in->handshake_seen = true;
        notify_conn(c, AMQP_CONN_UPDATE);
        break;
    default:
        break;
    }
}

static void wipe_secrets(const struct amqp_method_def *m, const struct amqp_arg_value *a,
                         const struct amqp_frame *f)
{
    if (m->class_id != 10)
        return;
    if (m->method_id == 11)
        wipe_arg(f, &a[2]);
    else if (m->method_id == 21 || m->method_id == 70)
        wipe_arg(f, &a[0]);
}

static void on_channel_state(struct amqp_conn *c, struct amqp_channel *ch,
                             const struct amqp_method_def *m, const struct amqp_arg_value *a)
{
    uint32_t key = (uint32_t)m->class_id << 16 | m->method_id;
    switch (key) {
    case 60u << 16 | 20: { /* basic.consume */
        struct amqp_bytes q = a[1].bytes, tag = a[2].bytes;
        if (tag.len) {
            consumer_add(c, ch->id, tag, (const char *)q.p, q.len);
        } else {
            free(ch->pending_queue);
            ch->pending_queue = malloc(q.len + 1);
            if (ch->pending_queue) {
                if (q.len)
                    memcpy(ch->pending_queue, q.p, q.len);
                ch->pending_queue[q.len] = '\0';
            }
        }
        break;
    }
    case 60u << 16 | 21: /* basic.consume-ok: the tag the broker chose */
        if (ch->pending_queue) {
            consumer_add(c, ch->id, a[0].bytes, ch->pending_queue, strlen(ch->pending_queue));
            free(ch->pending_queue);
            ch->pending_queue = NULL;
        } else if (!consumer_find(c, ch->id, a[0].bytes, NULL)) {
            consumer_add(c, ch->id, a[0].bytes, NULL, 0);
        }
        break;
    case 60u << 16 | 31: { /* basic.cancel-ok */
        size_t idx;
        if (consumer_find(c, ch->id, a[0].bytes, &idx))
            consumer_remove_at(c, idx);
        break;
    }
    case 60u << 16 | 80:
        ch->acks++;
        break;
    case 60u << 16 | 120:
        ch->nacks++;
        break;
    case 60u << 16 | 90:
        ch->rejects++;
        break;
    case 85u << 16 | 10:
        ch->confirm = true;
        break;
    default:
        break;
    }
}

/* Remembers the queue or exchange a client method names (queue.*, exchange.*, basic.consume/get).
 */
static void note_name(const struct amqp_dissector *d, struct amqp_channel *ch,
                      const struct amqp_method_def *m, const struct amqp_arg_value *a)
{
    if (!ch || m->flow != AMQP_FLOW_TO_BROKER)
        return;
    static const enum arg_name keys[] = {ARG_QUEUE, ARG_EXCHANGE, ARG_DESTINATION};
    for (size_t k = 0; k < 3; k++) {
        int i = arg_index(d, m, keys[k]);
        if (i < 0)
            continue;
        int rk = arg_index(d, m, ARG_ROUTING_KEY);
        if (k == 1 && a[i].bytes.len == 0 && rk >= 0 && m->content) {
            /* basic.publish to the default exchange: the routing key is the queue */
            k = 0;
            i = rk;
        }
        size_t n =
            a[i].bytes.len < sizeof ch->last_name - 1 ? a[i].bytes.len : sizeof ch->last_name - 1;
        if (n)
            memcpy(ch->last_name, a[i].bytes.p, n);
        ch->last_name[n] = '\0';
        ch->last_kind = k == 0 ? 1 : 2;
        return;
    }
}

/* A method from the broker that tells what it did to this client, if any. */
static void broker_event(struct amqp_conn *c, struct amqp_channel *ch,
                         const struct amqp_method_def *m, const struct amqp_arg_value *a,
                         const struct amqp_method_event *mev)
{
    struct amqp_dissector *d = c->d;
    if (!d->cb.on_broker_event || mev->dir != 1)
        return;
    uint32_t key = (uint32_t)m->class_id << 16 | m->method_id;
    if (key != (10u << 16 | 60) && key != (10u << 16 | 61) && key != (10u << 16 | 50) &&
        key != (20u << 16 | 40) && key != (60u << 16 | 30))
        return;
    struct amqp_broker_event ev;
    memset(&ev, 0, sizeof ev);
    ev.conn = &c->info;
    ev.ts_ns = mev->ts_ns;
    ev.channel = mev->channel;
    ev.event = m->name;
    ev.pkts = mev->pkts;
    ev.npkts = mev->npkts;
    char qname[256];
    if (key == (10u << 16 | 60)) {
        arg_bytes(d, m, a, ARG_REASON, &ev.reply_text);
    } else if (key == (60u << 16 | 30)) {
        struct amqp_bytes tag = {0};
        arg_bytes(d, m, a, ARG_CONSUMER_TAG, &tag);
        struct consumer *k = consumer_find(c, mev->channel, tag, NULL);
        if (k && k->qlen) {
            snprintf(qname, sizeof qname, "%.*s", (int)k->qlen, k->s + k->taglen);
            ev.name = qname;
            ev.name_kind = "queue";
        }
    } else if (key == (10u << 16 | 50) || key == (20u << 16 | 40)) {
        ev.reply_code = (uint16_t)arg_u(d, m, a, ARG_REPLY_CODE);
        arg_bytes(d, m, a, ARG_REPLY_TEXT, &ev.reply_text);
        const struct amqp_method_def *fm = amqp_method_find(
            (uint16_t)arg_u(d, m, a, ARG_CLASS_ID), (uint16_t)arg_u(d, m, a, ARG_METHOD_ID));
        ev.failed_method = fm ? fm->name : NULL;
        if (ch && ch->last_kind) {
            ev.name = ch->last_name;
            ev.name_kind = ch->last_kind == 1 ? "queue" : "exchange";
        }
    }
    d->cb.on_broker_event(d->cb.user, &ev);
}

/* ---- publisher confirms and churn ---- */

struct nack_acc {
    uint64_t n, oldest_ns;
};

static void on_confirmed(void *user, uint64_t tag, uint64_t latency_ns, bool nack)
{
    struct nack_acc *acc = user;
    (void)tag;
    if (!nack)
        return;
    if (!acc->n || latency_ns > acc->oldest_ns)
        acc->oldest_ns = latency_ns;
    acc->n++;
}

/* confirm.select (client), basic.publish (client), basic.ack / basic.nack (broker). */
static void confirm_method(struct amqp_conn *c, struct amqp_channel *ch,
                           const struct amqp_method_def *m, const struct amqp_arg_value *a,
                           const struct amqp_method_event *mev)
{
    struct amqp_dissector *d = c->d;
    uint32_t key = (uint32_t)m->class_id << 16 | m->method_id;
    if (key == (85u << 16 | 10) && mev->dir == 0 && !ch->cf) {
        if (!c->cf && (c->cf = malloc(sizeof *c->cf)))
            amqp_confirm_stats_init(c->cf);
        if (c->cf && (ch->cf = malloc(sizeof *ch->cf)))
            amqp_confirm_chan_init(ch->cf);
        return;
    }
    if (!ch->cf || !c->cf)
        return;
    if (key == (60u << 16 | 40) && mev->dir == 0) {
        uint64_t forgot = c->cf->forgotten;
        amqp_confirm_publish(ch->cf, c->cf, mev->ts_ns);
        d->st.confirms_forgotten += c->cf->forgotten - forgot;
        return;
    }
    bool nack = key == (60u << 16 | 120);
    if ((key != (60u << 16 | 80) && !nack) || mev->dir != 1)
        return;
    struct nack_acc acc = {0};
    amqp_confirm_resolve(ch->cf, c->cf, arg_u(d, m, a, ARG_DELIVERY_TAG),
                         arg_u(d, m, a, ARG_MULTIPLE) != 0, nack, mev->ts_ns, on_confirmed, &acc);
    if (!acc.n || !d->cb.on_broker_event)
        return;
    struct amqp_broker_event ev;
    memset(&ev, 0, sizeof ev);
    ev.conn = &c->info;
    ev.ts_ns = mev->ts_ns;
    ev.channel = mev->channel;
    ev.event = m->name;
    ev.pkts = mev->pkts;
    ev.npkts = mev->npkts;
    ev.delivery_tag = arg_u(d, m, a, ARG_DELIVERY_TAG);
    ev.messages = acc.n;
    ev.latency_ns = acc.oldest_ns;
    if (ch->last_kind) {
        ev.name = ch->last_name;
        ev.name_kind = ch->last_kind == 1 ? "queue" : "exchange";
    }
    d->cb.on_broker_event(d->cb.user, &ev);
}

/* The process a connection belongs to, for the churn: as an operation's
 * client_process ("<argv0>:<pid>" from an oslo connection_name), else the
 * client's address without its port (every connection has its own port). */
static const char *churn_process(const struct amqp_conn *c, char *buf, size_t len)
{
    if (c->info.connection_name[0]) {
        struct op o;
        memset(&o, 0, sizeof o);
        o.client.known = true;
        o.client.addr = c->info.client;
        o.client.connection_name = c->info.connection_name;
        return op_client_process(&o, buf, len);
    }
    struct netaddr a = c->info.client;
    a.port = 0;
    netaddr_format(&a, buf, len);
    char *colon = a.family == 6 ? strrchr(buf, ']') : strrchr(buf, ':');
    if (a.family == 6 && colon && buf[0] == '[') {
        memmove(buf, buf + 1, (size_t)(colon - buf - 1));
        buf[colon - buf - 1] = '\0';
    } else if (colon) {
        *colon = '\0';
    }
    return buf;
}

static void churn_note(struct amqp_conn *c, uint64_t ts, bool open)
{
    char proc[AMQP_CHURN_PROCESS_MAX];
    if (open) {
        if (c->churn_opened)
            return;
        c->churn_opened = true;
    } else {
        if (!c->churn_opened || c->churn_closed)
            return;
        c->churn_closed = true;
    }
    uint64_t ev = c->d->churn.evicted;
    amqp_churn_note(&c->d->churn, churn_process(c, proc, sizeof proc), ts, open);
    c->d->st.churn_evicted += c->d->churn.evicted - ev;
}

static void on_method_frame(struct amqp_conn *c, const struct amqp_frame *f)
{
    struct amqp_dissector *d = c->d;
    int dir = c->cur_dir;
    uint16_t cid, mid;
    if (amqp_method_ids(f->payload, f->size, &cid, &mid) != AMQP_OK) {
        count_error(c, AMQP_ERR_SHORT_METHOD);
        return;
    }
    d->st.methods++;
    c->info.methods++;
    struct amqp_channel *ch = NULL;
    if (f->channel != 0 || cid != 10) {
        ch = channel_get(c, f->channel, f->ts_ns, true);
        if (ch) {
            ch->skip[dir] = false;
            if (ch->as[dir])
                assembly_drop(c, ch->as[dir], AMQP_ERR_CONTENT_INTERRUPTED);
        }
    }
    const struct amqp_method_def *m = method_find(d, cid, mid);
    struct amqp_method_event ev;
    fill_event_base(c, &ev, dir, f->channel, f->ts_ns);
    ev.class_id = cid;
    ev.method_id = mid;
    ev.pkts = f->pkts;
    ev.npkts = f->npkts;
    if (!m) {
        d->st.unknown_methods++;
        count_error(c, AMQP_ERR_UNKNOWN_METHOD);
        if (d->cfg.want_methods && d->cb.on_method)
            d->cb.on_method(d->cb.user, &ev);
        return;
    }
    enum amqp_err e = amqp_method_decode_args(m, f->payload + 4, f->size - 4, ev.args);
    if (e != AMQP_OK) {
        count_error(c, e);
        if (m->content && ch)
            ch->skip[dir] = true;
        return;
    }
    if (m->flow == AMQP_FLOW_TO_BROKER || m->flow == AMQP_FLOW_TO_CLIENT) {
        /* sender is the client for TO_BROKER; a sends in TCP dir 0 */
        bool sender_is_broker = m->flow == AMQP_FLOW_TO_CLIENT;
        bool sender_is_a = dir == 0;
        set_role(c, sender_is_a == sender_is_broker, ROLE_METHOD);
        ev.dir = amqp_dir(c, dir);
    }
    if (!m->content) {
        note_handshake_pkts(c, f);
    } else if (!c->setup_done) {
        /* The set-up is complete: sinks that keep it (-w) take the final list. */
        c->setup_done = true;
        if (c->info.nhandshake_pkts)
            notify_conn(c, AMQP_CONN_UPDATE);
    }
    note_name(d, ch, m, ev.args);
    broker_event(c, ch, m, ev.args, &ev);
    if (cid == 10)
        on_connection_method(c, m, ev.args, f);
    if (cid == 10 && (mid == 11 || mid == 50))
        churn_note(c, f->ts_ns, mid == 11); /* start-ok: opened; close: closed */
    if (ch)
        on_channel_state(c, ch, m, ev.args);
    if (ch)
        confirm_method(c, ch, m, ev.args, &ev);
    if (m->content && ch) {
        on_content_method(c, ch, m, f, ev.args);
    } else if (d->cfg.want_methods && d->cb.on_method) {
        ev.method = m;
        ev.nargs = m->nargs;
        d->cb.on_method(d->cb.user, &ev);
    }
    /* Channel state ends with its close handshake. */
    if (ch && cid == 20 && mid == 41) {
        bool found;
        size_t i = chan_search(c, f->channel, &found);
        if (found) {
            consumers_drop_channel(c, f->channel);
            channel_remove_at(c, i);
        }
    }
    wipe_secrets(m, ev.args, f);
}

static void on_frame(void *user, const struct amqp_frame *f)
{
    struct amqp_conn *c = user;
    c->d->st.frames++;
    c->info.frames++;
    switch (f->type) {
    case AMQP_FRAME_METHOD:
        on_method_frame(c, f);
        break;
    case AMQP_FRAME_HEADER:
        on_header_frame(c, f);
        break;
    case AMQP_FRAME_BODY:
        on_body_frame(c, f);
        break;
    case AMQP_FRAME_HEARTBEAT:
        c->d->st.heartbeats++;
        break;
    default:
        break;
    }
}

/* ---- teardown ---- */

/* Contents still being assembled are counted (and reported as incomplete
 * method events when report is set), never emitted as messages. */
static void drop_unfinished(struct amqp_conn *c, bool report)
{
    for (uint32_t i = 0; i < c->nchans; i++) {
        struct amqp_channel *ch = c->chans[i];
        for (int k = 0; k < 2; k++) {
            if (!ch->as[k])
                continue;
            c->d->st.errors[AMQP_ERR_CONTENT_UNFINISHED]++;
            c->d->st.contents_dropped++;
            if (report)
                emit_incomplete(c, ch->as[k]);
            assembly_free(c->d, ch->as[k]);
        }
    }
}

static void conn_release(struct amqp_conn *c, bool report)
{
    struct amqp_dissector *d = c->d;
    drop_unfinished(c, report);
    for (uint32_t i = 0; i < c->nchans; i++)
        channel_free(c, c->chans[i]);
    free(c->chans);
    for (uint32_t i = 0; i < c->ncons; i++)
        free(c->cons[i]);
    free(c->cons);
    for (int i = 0; i < 2; i++)
        amqp_frame_release(&c->sp[i]);
    if (c->cf) {
        amqp_confirm_stats_free(c->cf);
        free(c->cf);
    }
    list_unlink(&c->link);
    d->st.connections_open--;
    free(c);
}

void amqp_conn_mark_ended(struct amqp_conn *c)
{
    if (c)
        c->tcp_ended = true;
}

/* A connection that published in confirm mode says how it went, once, as it goes. */
static void confirm_summary(struct amqp_conn *c, uint64_t ts_ns)
{
    struct amqp_dissector *d = c->d;
    if (!c->cf || !c->cf->published || !d->cb.on_broker_event)
        return;
    struct amqp_broker_event ev;
    memset(&ev, 0, sizeof ev);
    ev.conn = &c->info;
    ev.ts_ns = ts_ns;
    ev.event = "publisher_confirms";
    ev.confirms = c->cf;
    for (uint32_t i = 0; i < c->nchans; i++)
        if (c->chans[i]->cf)
            ev.unconfirmed += amqp_confirm_pending(c->chans[i]->cf);
    d->cb.on_broker_event(d->cb.user, &ev);
}

void amqp_conn_close(struct amqp_conn *c, uint64_t ts_ns)
{
    if (!c)
        return;
    if (ts_ns > c->info.last_ts)
        c->info.last_ts = ts_ns;
    drop_unfinished(c, true);
    if (c->tcp_ended)
        churn_note(c, c->info.last_ts, false); /* gone without connection.close */
    confirm_summary(c, c->info.last_ts);
    notify_conn(c, AMQP_CONN_CLOSE);
    conn_release(c, false);
}

void amqp_dissector_tick(struct amqp_dissector *d, uint64_t now_ns)
{
    amqp_churn_tick(&d->churn, now_ns);
}

void amqp_dissector_finish(struct amqp_dissector *d)
{
    amqp_churn_finish(&d->churn);
}

void amqp_dissector_get_stats(const struct amqp_dissector *d, struct amqp_stats *out)
{
    *out = d->st;
}

void amqp_dissector_free(struct amqp_dissector *d)
{
    if (!d)
        return;
    for (struct list_node *n; (n = list_first(&d->conns));)
        conn_release(list_item(n, struct amqp_conn, link), false);
    while (d->spare) {
        struct assembly *as = d->spare;
        d->spare = as->next_spare;
        assembly_destroy(as);
    }
    free(d->argix);
    free(d);
}

/* ---- counters ---- */

static const struct counter_def amqp_rows[] = {
    COUNTER_ROW(struct amqp_stats, connections_total, "amqp_connections", TOTAL, COUNTER_REPORT,
                "AMQP connections seen."),
    COUNTER_ROW(struct amqp_stats, frames, "amqp_frames", TOTAL, COUNTER_REPORT,
                "AMQP frames decoded."),
    COUNTER_ROW(struct amqp_stats, methods, "amqp_methods", TOTAL, COUNTER_REPORT,
                "AMQP method frames decoded."),
    COUNTER_ROW(struct amqp_stats, messages, "amqp_messages", TOTAL, COUNTER_REPORT,
                "AMQP messages (method, header and body) assembled."),
    COUNTER_ROW(struct amqp_stats, heartbeats, "amqp_heartbeats", TOTAL, COUNTER_REPORT,
                "AMQP heartbeat frames."),
    COUNTER_ROW(struct amqp_stats, resyncs, "amqp_resyncs", TOTAL, COUNTER_REPORT | COUNTER_ERROR,
                "Times the frame splitter lost and found the frame boundaries again."),
    COUNTER_ROW(struct amqp_stats, skipped_bytes, "amqp_skipped_bytes", TOTAL, COUNTER_REPORT,
                "Bytes skipped while looking for a frame boundary."),
    COUNTER_ROW(struct amqp_stats, malformed_frames, "amqp_malformed_frames", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "Frames with a framing, argument, table or header error."),
    COUNTER_ROW(struct amqp_stats, oversize_frames, "amqp_oversize_frames", TOTAL, COUNTER_REPORT,
                "Frames larger than the negotiated or default frame_max."),
    COUNTER_ROW(struct amqp_stats, unknown_methods, "amqp_unknown_methods", TOTAL, COUNTER_REPORT,
                "Method frames of no known class and method."),
    COUNTER_ROW(struct amqp_stats, bodies_truncated, "amqp_bodies_truncated", TOTAL, COUNTER_REPORT,
                "Message bodies cut to --max-body (or what memory allowed)."),
    COUNTER_ROW(struct amqp_stats, contents_dropped, "amqp_contents_dropped", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR, "Message contents never assembled whole."),
    COUNTER_ROW(struct amqp_stats, partial_evicted, "amqp_partial_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Half-assembled contents dropped for the partial-body memory limit."),
    COUNTER_ROW(struct amqp_stats, channels_evicted, "amqp_channels_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION, "Channels dropped from a full channel table."),
    COUNTER_ROW(struct amqp_stats, consumers_evicted, "amqp_consumers_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Consumer tags dropped from a full consumer table."),
    COUNTER_ROW(struct amqp_stats, bytes, "amqp_bytes", TOTAL, 0,
                "Bytes handed to the AMQP decoder."),
    COUNTER_ROW(struct amqp_stats, protocol_headers, "amqp_protocol_headers", TOTAL, 0,
                "AMQP protocol headers (connection starts) seen."),
    COUNTER_ROW(struct amqp_stats, partial_bytes, "amqp_partial_bytes", GAUGE, 0,
                "Body bytes held by half-assembled contents now."),
    COUNTER_ROW(struct amqp_stats, gaps, "amqp_gaps", TOTAL, 0,
                "TCP holes met by the AMQP decoder."),
    COUNTER_ROW(struct amqp_stats, connections_open, "amqp_connections_open", GAUGE, 0,
                "AMQP connections followed now."),
    COUNTER_ROW(struct amqp_stats, confirms_forgotten, "amqp_confirms_forgotten", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Unconfirmed publishes pushed out of a confirm-mode channel's table (128 each)."),
    COUNTER_ROW(struct amqp_stats, churn_evicted, "amqp_churn_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Processes pushed out of the full connection-churn table (256)."),
};

static void read_amqp_stats(const void *owner, void *out)
{
    amqp_dissector_get_stats(owner, out);
}

bool amqp_dissector_register_counters(const struct amqp_dissector *d, struct counters *reg)
{
    return counters_add(reg, amqp_rows, sizeof amqp_rows / sizeof amqp_rows[0], read_amqp_stats, d,
                        sizeof(struct amqp_stats));
}

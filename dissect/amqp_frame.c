/*
 * amqp_frame.c: the frame splitter (see amqp_frame.h for what it promises).
 *
 * One routine, scan(), works on any contiguous run of bytes in either mode:
 * in SYNC it emits frames until one is incomplete; in HUNT it judges each
 * position until one is accepted or cannot be judged yet. It returns how far
 * it got; the caller keeps only the rest. Deliveries are scanned in place and
 * only their undecided tail is copied; once bytes are buffered, the next
 * delivery tops the buffer up (by exactly what a SYNC frame still needs, or
 * as much as fits while hunting) and the buffer is scanned the same way.
 */
#include "dissect/amqp_frame.h"

#include <stdlib.h>
#include <string.h>

#include "common/rd.h"
#include "dissect/amqp_method.h"

static const uint8_t amqp_magic[4] = {'A', 'M', 'Q', 'P'};

enum verdict { V_NO, V_YES, V_NEED };

/* Hunting buffer may hold one whole candidate (bound + overhead) plus a
 * confirming header plus a little slack. */
static size_t buf_limit(const struct amqp_frame_splitter *s)
{
    return (size_t)s->bound + AMQP_FRAME_OVERHEAD + 7 + 32;
}

void amqp_frame_init(struct amqp_frame_splitter *s, uint32_t bound,
                     const struct amqp_frame_sink *sink, void *user)
{
    memset(s, 0, sizeof *s);
    s->sink = sink;
    s->user = user;
    s->bound = s->default_bound = bound;
    s->channel_max = 65535;
    s->mode = AMQP_FRAME_HUNT;
}

void amqp_frame_set_limits(struct amqp_frame_splitter *s, uint32_t frame_max, uint16_t channel_max)
{
    /* frame_max counts the 8 bytes of overhead; keep the bound lenient by them. */
    s->bound = frame_max == 0 ? s->default_bound : frame_max;
    s->channel_max = channel_max == 0 ? 65535 : channel_max;
}

static bool frame_type_ok(uint8_t t)
{
    return t == AMQP_FRAME_METHOD || t == AMQP_FRAME_HEADER || t == AMQP_FRAME_BODY ||
           t == AMQP_FRAME_HEARTBEAT;
}

/* Would a frame header start at d? Strong checks where the bytes allow. */
static enum verdict header_plausible(const struct amqp_frame_splitter *s, const uint8_t *d,
                                     size_t n)
{
    struct rd r = rd_make(d, n);
    uint8_t type = rd_u8(&r);
    if (!r.ok)
        return V_NEED;
    if (!frame_type_ok(type))
        return V_NO;
    uint16_t ch = rd_be16(&r);
    if (!r.ok)
        return V_NEED;
    if (ch > s->channel_max || (type == AMQP_FRAME_HEARTBEAT && ch != 0))
        return V_NO;
    uint32_t size = rd_be32(&r);
    if (!r.ok)
        return V_NEED;
    if (size > s->bound)
        return V_NO;
    switch (type) {
    case AMQP_FRAME_HEARTBEAT:
        return size == 0 ? V_YES : V_NO;
    case AMQP_FRAME_METHOD: {
        if (size < 4)
            return V_NO;
        uint16_t c = rd_be16(&r), m = rd_be16(&r);
        if (!r.ok)
            return V_NEED;
        return amqp_method_find(c, m) ? V_YES : V_NO;
    }
    case AMQP_FRAME_HEADER: {
        if (size < 14)
            return V_NO;
        uint16_t c = rd_be16(&r), w = rd_be16(&r);
        if (!r.ok)
            return V_NEED;
        return c == 60 && w == 0 ? V_YES : V_NO;
    }
    default:
        return V_YES;
    }
}

/* Judges position 0 of d while hunting. */
static enum verdict candidate(const struct amqp_frame_splitter *s, const uint8_t *d, size_t n)
{
    if (n == 0)
        return V_NEED;
    if (d[0] == 'A') {
        size_t k = n < 4 ? n : 4;
        if (memcmp(d, amqp_magic, k) != 0)
            return V_NO;
        return n >= 8 ? V_YES : V_NEED;
    }
    enum verdict v = header_plausible(s, d, n);
    if (v != V_YES)
        return v;
    uint32_t size = (uint32_t)d[3] << 24 | (uint32_t)d[4] << 16 | (uint32_t)d[5] << 8 | d[6];
    size_t end = 7 + (size_t)size;
    if (n <= end)
        return V_NEED;
    if (d[end] != AMQP_FRAME_END)
        return V_NO;
    size_t rest = n - end - 1;
    if (rest == 0)
        return d[0] == AMQP_FRAME_BODY ? V_NEED : V_YES;
    return header_plausible(s, d + end + 1, rest);
}

/* While the candidate at the hunt position waits for bytes, is there a later
 * position q (from `from` on) holding a method, header or heartbeat frame that
 * is complete and followed by a plausible header, all within d[0..n)? Such a
 * strongly confirmed frame beats an unconfirmed candidate: without this, one
 * false body-frame candidate in binary data (it has no inner structure to
 * check) claiming a megabyte would hide every frame behind it until a
 * megabyte had arrived. Returns q, or 0 with *resume = the first position
 * that more bytes could still confirm. */
static size_t lookahead(const struct amqp_frame_splitter *s, const uint8_t *d, size_t n,
                        size_t from, size_t *resume)
{
    *resume = n;
    for (size_t q = from; q < n; q++) {
        const uint8_t *c = d + q;
        size_t left = n - q;
        if (c[0] == AMQP_FRAME_BODY || !frame_type_ok(c[0]))
            continue;
        enum verdict v = header_plausible(s, c, left);
        if (v == V_NO)
            continue;
        if (v == V_NEED) {
            if (*resume == n)
                *resume = q;
            continue;
        }
        uint32_t size = (uint32_t)c[3] << 24 | (uint32_t)c[4] << 16 | (uint32_t)c[5] << 8 | c[6];
        size_t end = 7 + (size_t)size;
        if (left <= end + 1) {
            if (*resume == n)
                *resume = q;
            continue;
        }
        if (c[end] != AMQP_FRAME_END)
            continue;
        v = header_plausible(s, c + end + 1, left - end - 1);
        if (v == V_YES)
            return q;
        if (v == V_NEED && *resume == n)
            *resume = q;
    }
    return 0;
}

static void report_error(struct amqp_frame_splitter *s, enum amqp_err e)
{
    s->mode = AMQP_FRAME_HUNT;
    s->lost_sync = true;
    if (s->sink->on_error)
        s->sink->on_error(s->user, e);
}

static void emit(struct amqp_frame_splitter *s, const uint8_t *d, bool in_buf)
{
    struct amqp_frame f;
    f.type = d[0];
    f.channel = (uint16_t)(d[1] << 8 | d[2]);
    f.size = (uint32_t)d[3] << 24 | (uint32_t)d[4] << 16 | (uint32_t)d[5] << 8 | d[6];
    f.payload = d + 7;
    f.wipe = in_buf ? s->buf + (d + 7 - s->buf) : NULL;
    f.ts_ns = s->ts_ns;
    if (in_buf && s->npkts) {
        f.pkts = s->pkts;
        f.npkts = s->npkts;
    } else {
        f.pkts = &s->pkt;
        f.npkts = 1;
    }
    s->sink->on_frame(s->user, &f);
}

/* Parses d[0..n) in the current mode; returns the bytes it is done with. */
static size_t scan(struct amqp_frame_splitter *s, const uint8_t *d, size_t n, bool in_buf)
{
    size_t pos = 0;
    uint64_t skipped = 0;
    while (pos < n) {
        const uint8_t *p = d + pos;
        size_t left = n - pos;
        if (s->mode == AMQP_FRAME_HUNT) {
            enum verdict v = candidate(s, p, left);
            if (v == V_NEED) {
                size_t resume, from = s->ahead ? s->ahead : 1;
                size_t q = from < left ? lookahead(s, p, left, from, &resume) : 0;
                if (q == 0) {
                    s->ahead = from < left ? resume : from;
                    break;
                }
                pos += q;
                skipped += q;
                v = V_YES;
            } else if (v == V_NO) {
                pos++;
                skipped++;
                s->ahead = 0;
                s->lost_sync = true; /* remembered across deliveries: one resync per hunt */
                continue;
            }
            s->ahead = 0;
            s->mode = AMQP_FRAME_SYNC;
            if (skipped && s->sink->on_skip)
                s->sink->on_skip(s->user, skipped);
            if ((s->lost_sync || skipped) && s->sink->on_resync)
                s->sink->on_resync(s->user);
            skipped = 0;
            s->lost_sync = false;
            continue;
        }
        if (p[0] == 'A') {
            size_t k = left < 4 ? left : 4;
            if (memcmp(p, amqp_magic, k) != 0) {
                report_error(s, AMQP_ERR_BAD_PROTOCOL_HEADER);
                pos++;
                skipped++;
                continue;
            }
            if (left < 8)
                break;
            if (s->sink->on_protocol_header)
                s->sink->on_protocol_header(s->user, p, s->ts_ns, s->pkt);
            pos += 8;
            continue;
        }
        if (!frame_type_ok(p[0])) {
            report_error(s, AMQP_ERR_BAD_FRAME_TYPE);
            pos++;
            skipped++;
            continue;
        }
        if (left < 7)
            break;
        uint32_t size = (uint32_t)p[3] << 24 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
        if (size > s->bound) {
            report_error(s, AMQP_ERR_OVERSIZE_FRAME);
            pos++;
            skipped++;
            continue;
        }
        if (left < (size_t)size + AMQP_FRAME_OVERHEAD)
            break;
        if (p[7 + (size_t)size] != AMQP_FRAME_END) {
            report_error(s, AMQP_ERR_BAD_FRAME_END);
            pos++;
            skipped++;
            continue;
        }
        emit(s, p, in_buf);
        pos += (size_t)size + AMQP_FRAME_OVERHEAD;
    }
    if (skipped && s->sink->on_skip)
        s->sink->on_skip(s->user, skipped);
    return pos;
}

static void drop_buffer(struct amqp_frame_splitter *s)
{
    s->ahead = 0;
    free(s->buf);
    free(s->pkts);
    s->buf = NULL;
    s->pkts = NULL;
    s->len = s->cap = 0;
    s->npkts = 0;
}

static bool reserve(struct amqp_frame_splitter *s, size_t want)
{
    if (want <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap * 2 : 512;
    if (cap < want)
        cap = want;
    if (cap > buf_limit(s))
        cap = buf_limit(s) > want ? buf_limit(s) : want;
    uint8_t *nb = realloc(s->buf, cap);
    if (!nb)
        return false;
    s->buf = nb;
    s->cap = cap;
    if (!s->pkts) {
        s->pkts = malloc(AMQP_FRAME_MAX_PKTS * sizeof *s->pkts);
        if (!s->pkts)
            return false;
        s->npkts = 0;
    }
    return true;
}

static void note_pkt(struct amqp_frame_splitter *s)
{
    if (s->npkts && s->pkts[s->npkts - 1] == s->pkt)
        return;
    if (s->npkts < AMQP_FRAME_MAX_PKTS)
        s->pkts[s->npkts++] = s->pkt;
}

/* Appends n bytes to the buffer; on allocation failure drops everything and hunts. */
static bool append(struct amqp_frame_splitter *s, const uint8_t *d, size_t n)
{
    if (!reserve(s, s->len + n)) {
        uint64_t lost = s->len + n;
        drop_buffer(s);
        s->mode = AMQP_FRAME_HUNT;
        s->lost_sync = true;
        if (s->sink->on_skip)
            s->sink->on_skip(s->user, lost);
        return false;
    }
    memcpy(s->buf + s->len, d, n);
    s->len += n;
    note_pkt(s);
    return true;
}

/* How many more bytes the partial frame at the start of the buffer needs
 * (SYNC mode); 0 = scan it now (complete, or the header shows an error). */
static size_t sync_need(const struct amqp_frame_splitter *s)
{
    const uint8_t *b = s->buf;
    if (b[0] == 'A')
        return s->len < 8 ? 8 - s->len : 0;
    if (!frame_type_ok(b[0]))
        return 0;
    if (s->len < 7)
        return 7 - s->len;
    uint32_t size = (uint32_t)b[3] << 24 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 8 | b[6];
    if (size > s->bound)
        return 0;
    size_t total = (size_t)size + AMQP_FRAME_OVERHEAD;
    return s->len < total ? total - s->len : 0;
}

/* Scans the buffer and keeps only its unfinished tail. */
static void scan_buffer(struct amqp_frame_splitter *s)
{
    size_t used = scan(s, s->buf, s->len, true);
    if (used == 0)
        return;
    if (used < s->len) {
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= used;
        /* What is left came from the newest deliveries. */
        s->npkts = 0;
        note_pkt(s);
    } else {
        drop_buffer(s);
    }
}

void amqp_frame_feed(struct amqp_frame_splitter *s, const uint8_t *data, size_t len, uint64_t ts_ns,
                     uint64_t pkt)
{
    s->ts_ns = ts_ns;
    s->pkt = pkt;
    while (len > 0) {
        if (s->len > 0) {
            size_t take;
            if (s->mode == AMQP_FRAME_SYNC) {
                size_t need = sync_need(s);
                take = need < len ? need : len;
            } else {
                size_t room = buf_limit(s) > s->len ? buf_limit(s) - s->len : 0;
                take = room < len ? room : len;
            }
            if (take && !append(s, data, take)) {
                data += take;
                len -= take;
                continue;
            }
            data += take;
            len -= take;
            size_t before = s->len;
            if (s->mode == AMQP_FRAME_HUNT || sync_need(s) == 0)
                scan_buffer(s);
            if (take == 0 && s->len == before) {
                /* Cannot happen with the limits above; never loop forever if it does. */
                if (s->sink->on_skip)
                    s->sink->on_skip(s->user, s->len);
                drop_buffer(s);
                s->mode = AMQP_FRAME_HUNT;
                s->lost_sync = true;
            }
            continue;
        }
        size_t used = scan(s, data, len, false);
        data += used;
        len -= used;
        if (len > 0) {
            /* The unfinished tail: a partial frame (< bound + 8 bytes) or the
             * undecided hunting window (< buf_limit). */
            size_t take = len < buf_limit(s) ? len : buf_limit(s);
            if (append(s, data, take) && s->mode == AMQP_FRAME_SYNC && sync_need(s) == 0)
                scan_buffer(s);
            data += take;
            len -= take;
        }
    }
}

void amqp_frame_gap(struct amqp_frame_splitter *s)
{
    if (s->len && s->sink->on_skip)
        s->sink->on_skip(s->user, s->len);
    drop_buffer(s);
    s->mode = AMQP_FRAME_HUNT;
    s->lost_sync = true;
}

void amqp_frame_release(struct amqp_frame_splitter *s)
{
    if (s->len && s->sink->on_skip)
        s->sink->on_skip(s->user, s->len);
    drop_buffer(s);
}

/*
 * amqp_confirm.c: publisher-confirm latency per channel (amqp_confirm.h).
 *
 * Delivery tags of a confirm-mode channel are consecutive, so the ring is
 * indexed by tag: a publish writes ts[tag % N], a confirm clears it. `low`
 * walks up past confirmed tags; a publish N tags ahead of `low` pushes the
 * oldest unconfirmed one out (forgotten, counted): memory stays N times 8
 * bytes per channel whatever the broker does.
 */
#include "dissect/amqp_confirm.h"

#include <string.h>

#define N AMQP_CONFIRM_OUTSTANDING

void amqp_confirm_stats_init(struct amqp_confirm_stats *st)
{
    memset(st, 0, sizeof *st);
    hist_init(&st->latency);
}

void amqp_confirm_stats_free(struct amqp_confirm_stats *st)
{
    hist_free(&st->latency);
}

void amqp_confirm_chan_init(struct amqp_confirm_chan *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->low = 1;
}

void amqp_confirm_publish(struct amqp_confirm_chan *ch, struct amqp_confirm_stats *st,
                          uint64_t ts_ns)
{
    uint64_t tag = ++ch->last_tag;
    st->published++;
    while (tag - ch->low >= N) {
        if (ch->ts[ch->low % N])
            st->forgotten++;
        ch->ts[ch->low % N] = 0;
        ch->low++;
    }
    ch->ts[tag % N] = ts_ns ? ts_ns : 1; /* 0 means "none" */
}

static void one(struct amqp_confirm_chan *ch, struct amqp_confirm_stats *st, uint64_t tag,
                bool nack, uint64_t ts_ns, amqp_confirm_fn fn, void *user)
{
    uint64_t t0 = ch->ts[tag % N];
    ch->ts[tag % N] = 0;
    uint64_t lat = ts_ns > t0 ? ts_ns - t0 : 0;
    if (nack)
        st->nacked++;
    else
        st->acked++;
    hist_add(&st->latency, lat);
    if (fn)
        fn(user, tag, lat, nack);
}

uint64_t amqp_confirm_resolve(struct amqp_confirm_chan *ch, struct amqp_confirm_stats *st,
                              uint64_t tag, bool multiple, bool nack, uint64_t ts_ns,
                              amqp_confirm_fn fn, void *user)
{
    uint64_t n = 0;
    if (multiple && tag == 0) /* "everything so far" */
        tag = ch->last_tag;
    if (tag > ch->last_tag || tag < ch->low || (!multiple && !ch->ts[tag % N])) {
        st->unmatched++;
        return 0;
    }
    uint64_t from = multiple ? ch->low : tag;
    for (uint64_t t = from; t <= tag; t++)
        if (ch->ts[t % N]) {
            one(ch, st, t, nack, ts_ns, fn, user);
            n++;
        }
    while (ch->low <= ch->last_tag && !ch->ts[ch->low % N])
        ch->low++;
    if (!n)
        st->unmatched++;
    return n;
}

uint64_t amqp_confirm_pending(const struct amqp_confirm_chan *ch)
{
    uint64_t n = 0;
    for (uint64_t t = ch->low; t <= ch->last_tag; t++)
        if (ch->ts[t % N])
            n++;
    return n;
}

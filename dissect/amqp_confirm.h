/*
 * amqp_confirm.h: publisher-confirm latency (basic.publish → the broker's
 * basic.ack / basic.nack) on channels in confirm mode.
 *
 * After confirm.select the broker numbers a channel's publishes 1, 2, 3 …
 * (delivery tags, per channel) and confirms them, one by one or up to a tag
 * (multiple). A channel whose confirm.select was not in the capture is not
 * followed: its tags cannot be known. Each followed channel remembers the
 * time of its last AMQP_CONFIRM_OUTSTANDING unconfirmed publishes (a ring:
 * an older one is forgotten, counted); each connection sums its channels in
 * struct amqp_confirm_stats, with a latency histogram.
 */
#ifndef OSLOTRACE_DISSECT_AMQP_CONFIRM_H
#define OSLOTRACE_DISSECT_AMQP_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect/hist.h"

#define AMQP_CONFIRM_OUTSTANDING 128 /* unconfirmed publishes remembered per channel */

/* One connection's confirms, over all its channels in confirm mode. */
struct amqp_confirm_stats {
    uint64_t published; /* publishes on followed channels */
    uint64_t acked, nacked;
    uint64_t forgotten;  /* still unconfirmed when AMQP_CONFIRM_OUTSTANDING newer ones came */
    uint64_t unmatched;  /* acks/nacks of no remembered publish */
    struct hist latency; /* publish → ack/nack, ns */
};

/* A channel in confirm mode: the next tag and the ring of unconfirmed publish times. */
struct amqp_confirm_chan {
    uint64_t last_tag;                     /* the tag of the newest publish (0: none yet) */
    uint64_t low;                          /* the oldest tag the ring may still hold */
    uint64_t ts[AMQP_CONFIRM_OUTSTANDING]; /* by tag % size; 0: confirmed or never seen */
};

/* A message the broker confirmed: its tag, how long it took, ack or nack. */
typedef void (*amqp_confirm_fn)(void *user, uint64_t tag, uint64_t latency_ns, bool nack);

void amqp_confirm_stats_init(struct amqp_confirm_stats *st);
void amqp_confirm_stats_free(struct amqp_confirm_stats *st);
void amqp_confirm_chan_init(struct amqp_confirm_chan *ch);
/* A basic.publish on the channel at ts_ns. */
void amqp_confirm_publish(struct amqp_confirm_chan *ch, struct amqp_confirm_stats *st,
                          uint64_t ts_ns);
/* The broker's basic.ack / basic.nack (tag, multiple) at ts_ns; fn (may be
 * NULL) is called for each remembered publish it confirms, oldest first.
 * Returns how many it confirmed. */
uint64_t amqp_confirm_resolve(struct amqp_confirm_chan *ch, struct amqp_confirm_stats *st,
                              uint64_t tag, bool multiple, bool nack, uint64_t ts_ns,
                              amqp_confirm_fn fn, void *user);
/* Publishes on the channel still waiting for their confirm. */
uint64_t amqp_confirm_pending(const struct amqp_confirm_chan *ch);

#endif

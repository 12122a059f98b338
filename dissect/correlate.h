/*
 * correlate.h: RPC decode + correlation, AMQP messages in, operations out.
 *
 * Every AMQP message is decoded by the first dialect that claims it
 * (dissect/dialect.h: oslo.messaging, then plain AMQP reply_to/correlation_id
 * RPC) and attached to the operation it belongs to: calls by their call id
 * (oslo `_msg_id`, AMQP correlation_id) across all connections (the request
 * and its reply travel on different ones), casts and fanouts by
 * `_unique_id`, notifications by `message_id`. An operation is emitted once,
 * through the on_op callback, when it ends: a call at its final reply (the
 * deliver leg, or hold_s after the publish leg when the client side is not
 * in the capture), at its timeout plus a late-reply window, at eviction or
 * at corr_finish(); casts, fanouts and notifications hold_s after they were
 * first seen, so their deliver legs can join. All time is packet time.
 *
 * Memory is bounded: at most max_pending entries (pending calls, held
 * casts, recently finished operations kept for de-duplication); when full
 * the oldest entry goes (a pending call is emitted with status "evicted").
 */
#ifndef OSLOTRACE_DISSECT_CORRELATE_H
#define OSLOTRACE_DISSECT_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "dissect/amqp_message.h"
#include "dissect/op.h"
#include "dissect/oslo.h"

struct corr_config {
    double call_timeout_s; /* --call-timeout, default 60: used when a call has no expiration */
    size_t max_pending;    /* --max-pending, default 1000000: oldest evicted, counted */
    bool want_bodies;      /* fill op.args_json/result_json/context_json (--args, TUI detail) */
    bool show_secrets;     /* --show-secrets: no redaction */
    size_t max_inflate;    /* decompressed body limit, default 64 MiB */
    double hold_s;         /* how long casts/fanouts/notifications wait for their deliver legs,
                              and a call whose final reply was only seen published waits for
                              its deliver leg, in packet time; default 2 s */
    double late_window_s;  /* how long a timed-out call waits for a late reply before it is
                              emitted; 0 = auto: its timeout, clamped to 5..300 s */
    bool want_pkts;        /* collect op.pkts (for -w); default true */
};

void corr_config_default(struct corr_config *cfg);

struct corr;

struct corr *corr_new(const struct corr_config *cfg, void (*on_op)(void *user, const struct op *op),
                      void *user);
void corr_message(struct corr *c, const struct amqp_message *msg); /* decode + correlate one */
void corr_tick(struct corr *c, uint64_t now_ns);   /* packet time advanced: timeouts, held ops */
void corr_finish(struct corr *c, uint64_t end_ns); /* end of capture: emit everything left */
/* The capture lost packets somewhere between from_ns and to_ns (packet time):
 * kernel drops, a TCP gap, the interface away. A call that ends without a
 * reply seen, and was pending during such a window, ends as OP_UNKNOWN, not
 * as a timeout the capture cannot vouch for. */
void corr_note_loss(struct corr *c, uint64_t from_ns, uint64_t to_ns);
void corr_free(struct corr *c);

struct corr_stats {
    uint64_t messages; /* AMQP messages handed in */
    /* not_oslo … empty_bodies: messages no dialect claimed, by what oslo found. */
    uint64_t not_oslo;         /* valid JSON but not an oslo message (OSLO_KIND_OTHER) */
    uint64_t malformed_json;   /* bodies that are not (complete, valid UTF-8) JSON */
    uint64_t inflate_errors;   /* compressed bodies that could not be inflated */
    uint64_t truncated_bodies; /* bodies cut by the capture (--max-body or a gap) */
    uint64_t empty_bodies;
    uint64_t calls, casts, fanouts, notifications; /* distinct operations seen */
    uint64_t replies;           /* distinct reply messages (publish + deliver count once) */
    uint64_t heartbeats;        /* distinct call-monitor heartbeat replies */
    uint64_t orphan_replies;    /* replies whose call was never seen (counted per msg_id) */
    uint64_t duplicate_replies; /* a second distinct final reply for one call */
    uint64_t late_replies;      /* calls whose final reply came after their timeout */
    uint64_t returned_replies;  /* replies the broker returned (the reply queue was gone) */
    uint64_t timeouts;          /* calls that timed out (late reply or not) */
    uint64_t unknown_loss;      /* calls without a reply that were pending during a capture loss */
    uint64_t open;              /* calls still within their timeout at corr_finish */
    uint64_t evicted;           /* operations pushed out of the full table */
    uint64_t duplicates;        /* redelivered / re-published legs of an op still open */
    uint64_t late_legs;         /* legs of an op already emitted (within the linger time) */
    uint64_t duplicate_msg_ids; /* a new request reused the _msg_id of a pending call */
    uint64_t unroutable;        /* requests/casts returned by the broker */
    uint64_t unkeyed;           /* casts/notifications without any id: emitted at once */
    uint64_t emitted;           /* operations handed to on_op */
    uint64_t pending;           /* calls waiting for their reply now */
    uint64_t pending_peak;
    uint64_t entries;       /* table entries now (pending + held + lingering) */
    uint64_t intern_full;   /* strings not kept because the string table was full */
    uint64_t bodies_failed; /* want_bodies, but the message could not be decoded as a tree */
    uint64_t cut_fields;    /* messages with a field longer than its buffer (cut) */
    uint64_t oslo_errors[OSLO_ERR_COUNT]; /* every oslo decode failure by reason */
    uint64_t amqp_calls; /* calls in the plain AMQP dialect (also counted in calls) */
    uint64_t not_rpc;    /* messages no dialect claimed, and AMQP "replies" to no known call */
    uint64_t fanout_replays;     /* deliveries of a fanout already reported (corr_seen.h) */
    uint64_t fanout_ids_evicted; /* reported fanout ids forgotten for newer ones */
};

void corr_get_stats(const struct corr *c, struct corr_stats *out);
/* Adds the correlation counters to a registry (dissect/corr_counters.c). */
bool corr_register_counters(const struct corr *c, struct counters *reg);
/* The newest `max` calls still waiting for their reply, oldest first, as ops
 * with status open (for live views; nothing is emitted or changed). Returns how many. */
size_t corr_foreach_pending(struct corr *c, size_t max, void (*fn)(void *user, const struct op *op),
                            void *user);

#endif

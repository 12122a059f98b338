/*
 * corr_internal.h: what the files of the correlation stage share, and
 * nothing outside it includes.
 *
 * The stage is split by job: correlate.c is the stage itself (message in,
 * dialect decode, entry life, emission, timers), corr_call.c the call state
 * machine (request, replies, timeout), corr_cast.c casts, fanouts and
 * notifications. They share one struct corr and the helpers declared here.
 */
#ifndef OSLOTRACE_DISSECT_CORR_INTERNAL_H
#define OSLOTRACE_DISSECT_CORR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strpool.h"
#include "dissect/corr_id.h"
#include "dissect/corr_op.h"
#include "dissect/corr_seen.h"
#include "dissect/corr_table.h"
#include "dissect/correlate.h"
#include "dissect/dialect.h"
#include "dissect/rpc_msg.h"

#define CORR_MAX_PKTS 256 /* packet numbers kept per operation */
#define CORR_FANOUT_RX 32 /* distinct fanout receivers remembered */
#define CORR_STR_MAX 4096 /* longer pooled strings are cut */

/* Windows of packet time in which the capture lost packets (corr_note_loss):
 * the newest few; when full, the two oldest merge into one that covers both
 * (a call then may be called unknown too readily, never too confidently). */
#define CORR_LOSS_MAX 16
struct corr_loss {
    uint64_t from, to;
};

struct corr {
    struct corr_config cfg;
    struct corr_loss loss[CORR_LOSS_MAX]; /* oldest first */
    unsigned nloss;
    void (*on_op)(void *user, const struct op *op);
    void *user;
    struct dialects dialects;
    struct strpool sp;
    struct corr_conn_memo conn_memo; /* corr_op_conn's, references into sp */
    struct corr_table t;
    uint64_t now;                        /* packet time */
    uint8_t legs_seen[OP_DIALECT_COUNT]; /* bit per op_leg: call legs of that kind in view */
    struct corr_stats st;
    struct corr_seen *seen; /* fanouts reported, once one was (corr_cast.c) */
};

/* correlate.c: time and legs */
uint64_t corr_secs_to_ns(double s);
uint64_t corr_linger_ns(const struct corr *c); /* how long a finished key stays */
enum op_leg corr_request_leg(const struct amqp_message *m);
void corr_set_deadline(struct corr *c, struct corr_entry *e, uint64_t t);

/* correlate.c: entries */
bool corr_is_pending_call(const struct corr_entry *e);
struct corr_extra *
corr_get_extra(struct corr_entry *e); /* allocated on first use; NULL: no memory */
void corr_release_strings(struct corr *c, struct corr_entry *e);
void corr_entry_free(struct corr *c, struct corr_entry *e);
struct strpool_str *corr_counted(struct corr *c, struct strpool_str *p); /* counts a full pool */
void corr_add_pkts(struct corr *c, struct corr_entry *e, const struct amqp_message *m);
void corr_set_leg(struct corr *c, struct corr_entry *e, enum op_leg leg,
                  const struct amqp_message *m);
char *corr_take_body(char **src);
void corr_fill_request(struct corr *c, struct corr_entry *e, struct rpc_msg *r);
bool corr_find_live(struct corr *c, uint8_t kind, uint8_t dialect, const char *id,
                    struct corr_id *key, struct corr_entry **e);
struct corr_entry *corr_take_entry(struct corr *c, uint8_t kind, uint8_t dialect,
                                   struct corr_id *key, struct corr_entry *e);

/* correlate.c: emission */
void corr_emit(struct corr *c, struct corr_entry *e, enum op_status status);
void corr_finalize(struct corr *c, struct corr_entry *e, bool evicted);

/* corr_call.c */
uint64_t corr_call_deadline(const struct corr_entry *e); /* when the client gives up */
void corr_call_schedule(struct corr *c, struct corr_entry *e);
void corr_on_request(struct corr *c, struct rpc_msg *r);
void corr_on_reply(struct corr *c, struct rpc_msg *r);
/* Why the call ended with status s (op.h), from its legs and what the capture shows. */
enum op_verdict corr_call_verdict(const struct corr *c, const struct corr_entry *e,
                                  enum op_status s);
/* The reply was published but not delivered, and the capture would show its delivery. */
bool corr_call_awaits_deliver(const struct corr *c, const struct corr_entry *e);

/* corr_cast.c */
void corr_on_cast(struct corr *c, struct rpc_msg *r);

#endif

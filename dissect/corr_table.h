/*
 * corr_table.h: the correlator's entries and the table that holds them.
 *
 * An entry is one operation being correlated (a pending call, a held cast,
 * or the key of a finished one lingering for stray legs). The table finds
 * entries by (kind, dialect, id) in an open-addressing hash, keeps them in
 * creation order (the oldest is evicted when full), gives each one deadline
 * in an indexed heap, and allocates them from slabs. It knows nothing of
 * what an entry means: dissect/correlate.c does.
 *
 * Memory per pending call is bounded by design: struct corr_entry is packed
 * to 224 bytes (widest fields first), plus a hash slot and a heap slot.
 */
#ifndef OSLOTRACE_DISSECT_CORR_TABLE_H
#define OSLOTRACE_DISSECT_CORR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/heap.h"
#include "common/list.h"
#include "common/strpool.h"
#include "dissect/corr_id.h"
#include "dissect/op.h"

#define CORR_REPLY_IDS 4 /* distinct reply unique ids remembered per call */

enum corr_ent_kind { CORR_ENT_CALL, CORR_ENT_CAST };
enum corr_ent_state { CORR_PENDING, CORR_TIMED_OUT, CORR_DONE };

enum corr_ent_flag {
    CORR_F_REQUEST = 1u << 0,        /* a request leg was seen (else: an orphan reply so far) */
    CORR_F_UNROUTABLE = 1u << 1,     /* basic.return of the request / cast */
    CORR_F_FINAL_PUB = 1u << 2,      /* the final reply's publish leg was seen */
    CORR_F_FINAL_DEL = 1u << 3,      /* the final reply's deliver leg was seen */
    CORR_F_ANSWERED = 1u << 4,       /* a reply with result or failure was seen */
    CORR_F_ERROR = 1u << 5,          /* ... and it was a failure */
    CORR_F_REPLY_PUB = 1u << 6,      /* some reply was seen on its publish leg */
    CORR_F_BODY_CUT = 1u << 7,       /* a leg's body was cut by --max-body */
    CORR_F_REPLY_RETURNED = 1u << 8, /* the broker returned a reply (basic.return) */
};

/* What only some entries need, allocated on demand. */
struct corr_extra {
    struct corr_id reply_ids[CORR_REPLY_IDS];
    uint32_t nreply_ids;
    struct corr_id final_reply_id;
    uint64_t last_beat_ns;
    uint64_t *rx; /* fanout receivers: hashes of (connection, queue) */
    uint32_t nrx;
    char *error_class, *error_module, *error_message;
    char *args_json, *result_json, *context_json;
    struct strpool_str *event_type, *priority, *publisher_id;
};

/* Ordered widest first so there are no holes: 224 bytes, which with the hash
 * slot and heap slot keeps a pending call under 256 bytes (bench/run). */
struct corr_entry {
    struct list_node age;      /* creation order; age.next also links the free list */
    struct heap_node deadline; /* the one deadline */
    uint64_t first_ns;         /* first leg of any kind */
    uint64_t timeline[LEG_COUNT];
    struct strpool_str *shape; /* exchange, routing key, topic, … as one string (corr_op.h) */
    struct strpool_str *conn[LEG_COUNT]; /* connection identity per leg (corr_op.h) */
    uint64_t *pkts;                      /* packet numbers, at most CORR_MAX_PKTS */
    struct corr_extra *x;
    uint32_t hash;
    uint32_t timeout_ms, monitor_ms;
    uint16_t flags;
    uint16_t replies, heartbeats, fanout_receivers;
    uint16_t npkts, cap_pkts;
    uint8_t kind, type, state, dialect;
    struct corr_id key, unique_id, request_id, global_request_id;
};

struct corr_entry_slab;

struct corr_table {
    struct corr_entry **slots; /* open addressing, a power of two */
    size_t nslots, n;
    struct heap deadlines;
    struct list_node age; /* oldest first */
    struct corr_entry_slab *slabs;
    struct list_node *free_entries;
};

bool corr_table_init(struct corr_table *t);
/* Frees the table and its slabs; entries still in it must hold no strings. */
void corr_table_free(struct corr_table *t);

struct corr_entry *corr_table_find(const struct corr_table *t, uint8_t kind, uint8_t dialect,
                                   const struct corr_id *key);
/* A zeroed entry for key (which it takes over), with no deadline yet
 * (UINT64_MAX), appended as the newest; NULL when out of memory. */
struct corr_entry *corr_table_add(struct corr_table *t, uint8_t kind, uint8_t dialect,
                                  const struct corr_id *key);
/* Takes e out of the table and back to the slabs (its strings must be released). */
void corr_table_remove(struct corr_table *t, struct corr_entry *e);

void corr_table_set_deadline(struct corr_table *t, struct corr_entry *e, uint64_t ns);
/* The entry with the earliest deadline if that is <= now, else NULL. */
struct corr_entry *corr_table_due(const struct corr_table *t, uint64_t now);

/* Creation order: oldest, newest, and the neighbours of e (NULL at the ends). */
struct corr_entry *corr_table_oldest(const struct corr_table *t);
struct corr_entry *corr_table_newest(const struct corr_table *t);
struct corr_entry *corr_table_newer(const struct corr_table *t, const struct corr_entry *e);
struct corr_entry *corr_table_older(const struct corr_table *t, const struct corr_entry *e);

#endif

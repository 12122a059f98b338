/*
 * tui_store.h: what the TUI remembers, and nothing it draws.
 *
 * The pipeline hands the TUI a `struct op` whose strings die with the
 * callback, so the store copies each operation into an entry it owns (a ring
 * of --tui-history entries, oldest dropped and counted) and keeps the
 * filtered list the Calls view scrolls, plus a bounded table of AMQP
 * connections. Each entry holds a `struct op` whose pointers point into the
 * entry itself, so the filter, the text formatters and the -w writer read a
 * stored operation exactly as they read a live one. Bodies (args, result,
 * context) are capped per entry and by a total budget, oldest dropped first.
 */
#ifndef OSLOTRACE_UI_TUI_STORE_H
#define OSLOTRACE_UI_TUI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/amqp_conn.h"
#include "dissect/op.h"
#include "engine/filter.h"

#define TUI_STORE_STR_MAX 512         /* bytes kept of an identifier (topic, msg_id, ...) */
#define TUI_STORE_ERRMSG_MAX 4096     /* bytes kept of an error message */
#define TUI_STORE_HANDSHAKE_MAX AMQP_CONN_SETUP_PKTS_MAX /* set-up packet numbers per connection */

enum tui_body { TUI_BODY_ARGS, TUI_BODY_RESULT, TUI_BODY_CONTEXT, TUI_BODY_COUNT };

struct tui_store_config {
    size_t history;       /* entries kept (--tui-history), default 100000 */
    size_t body_cap;      /* bytes kept of each body, default 64 KiB */
    uint64_t body_budget; /* bytes of all kept bodies together, default 64 MiB */
    size_t max_pkts;      /* packet numbers kept per entry, default 1024 */
    size_t max_conns;     /* connections kept, default 4096 */
};

void tui_store_config_default(struct tui_store_config *cfg);

/* One stored operation. `op` is a full copy: its strings, bodies and pkts point
 * into memory this entry owns (NULL where the original was NULL, or where a
 * body was dropped for the budget). */
struct tui_entry {
    uint64_t seq;                        /* 1, 2, 3 ... in arrival order */
    struct op op;
    bool body_cut[TUI_BODY_COUNT];       /* kept only the first body_cap bytes */
    bool bodies_dropped;                 /* bodies freed to stay within body_budget */
    bool pkts_cut;                       /* op had more than max_pkts packets */
    size_t body_len[TUI_BODY_COUNT];     /* bytes held */
};

struct tui_conn {
    struct amqp_conn_info info; /* strings sanitized; handshake_pkts left NULL */
    uint64_t handshake[TUI_STORE_HANDSHAKE_MAX];
    size_t nhandshake;
    bool closed;
};

struct tui_store_stats {
    uint64_t added;             /* operations received */
    uint64_t evicted;           /* dropped from the full history, oldest first */
    uint64_t bodies_dropped;    /* entries whose bodies were freed for the budget */
    uint64_t bodies_cut;        /* bodies cut at body_cap */
    uint64_t pkts_cut;          /* entries whose packet list was cut at max_pkts */
    uint64_t strings_cut;       /* identifiers cut at their cap */
    uint64_t alloc_failures;    /* operations or bodies lost to a failed allocation */
    uint64_t conns_seen, conns_evicted;
    uint64_t body_bytes;        /* held now */
    size_t entries, visible, conns;
};

struct tui_store;

struct tui_store *tui_store_new(const struct tui_store_config *cfg);
void tui_store_free(struct tui_store *s);

/* Copies op (valid only during the call). Returns the entry, or NULL when
 * memory ran out (counted). */
const struct tui_entry *tui_store_add_op(struct tui_store *s, const struct op *op);

/* Replaces the filter of the visible list and rebuilds it (O(history)). */
void tui_store_set_filter(struct tui_store *s, const struct op_filter *f);
const struct op_filter *tui_store_filter(const struct tui_store *s);
/* A number that changes whenever the visible list does (an entry added or
 * evicted, a new filter): a view that keeps its own order of the list
 * rebuilds it when this moved. */
uint64_t tui_store_version(const struct tui_store *s);

/* The visible (filtered) list, oldest first: 0 <= i < tui_store_visible(s). */
size_t tui_store_visible(const struct tui_store *s);
const struct tui_entry *tui_store_visible_at(const struct tui_store *s, size_t i);
/* Number of visible entries with seq <= max_seq (for a frozen display). */
size_t tui_store_visible_upto(const struct tui_store *s, uint64_t max_seq);
/* The stored entry with this seq, NULL once evicted. */
const struct tui_entry *tui_store_find(const struct tui_store *s, uint64_t seq);
uint64_t tui_store_last_seq(const struct tui_store *s);

/* Connection events from the AMQP stage (pointers copied). */
void tui_store_conn_event(struct tui_store *s, const struct amqp_conn_info *info,
                          enum amqp_conn_event ev);
size_t tui_store_conn_count(const struct tui_store *s);
/* Connections in id order. */
const struct tui_conn *tui_store_conn_at(const struct tui_store *s, size_t i);
const struct tui_conn *tui_store_conn_find(const struct tui_store *s, uint64_t id);

void tui_store_get_stats(const struct tui_store *s, struct tui_store_stats *out);

/* Copies src into dst (cap bytes, NUL included) so it is safe on a terminal:
 * control characters and invalid UTF-8 become '?', a cut never splits a
 * character. Returns false when src did not fit whole. */
bool tui_sanitize(char *dst, size_t cap, const char *src);

#endif

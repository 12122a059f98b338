/*
 * tui_calls_order.h: the order the Calls view shows its list in. By default
 * the store's own order (arrival, oldest first); `s` sorts by latency
 * (slowest first), status (worst first), topic or method instead. A sorted
 * order is an array of entry pointers rebuilt only when the store's visible
 * list moved (tui_store_version) or the key changed, bounded by the store's
 * history; when it cannot be allocated the view stays in arrival order and
 * says so (alloc_failures).
 */
#ifndef OSLOTRACE_UI_TUI_CALLS_ORDER_H
#define OSLOTRACE_UI_TUI_CALLS_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/tui_store.h"

enum tui_calls_sort {
    TUI_CSORT_TIME, /* arrival order, the default (follow mode works only here) */
    TUI_CSORT_LATENCY,
    TUI_CSORT_STATUS,
    TUI_CSORT_TOPIC,
    TUI_CSORT_METHOD,
    TUI_CSORT_COUNT
};

struct tui_calls_order {
    enum tui_calls_sort key;
    const struct tui_entry **e; /* sorted entries, valid while the store's version is `version` */
    size_t n, cap;
    uint64_t version;
    size_t built_for; /* how many visible entries (a paused view shows a prefix) */
    bool valid;
    uint64_t alloc_failures;
};

void tui_calls_order_init(struct tui_calls_order *o);
void tui_calls_order_free(struct tui_calls_order *o);
void tui_calls_order_set(struct tui_calls_order *o, enum tui_calls_sort key);
/* The i-th of the first count visible entries in the order's key. */
const struct tui_entry *tui_calls_order_at(struct tui_calls_order *o, const struct tui_store *s,
                                           size_t count, size_t i);
/* Position of the entry seq among the first count, or count when absent. */
size_t tui_calls_order_index(struct tui_calls_order *o, const struct tui_store *s, size_t count,
                             uint64_t seq);
const char *tui_calls_sort_name(enum tui_calls_sort key);

#endif

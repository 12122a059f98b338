/*
 * tui_calls_order.c: the Calls view's sort (see tui_calls_order.h). Ties
 * keep arrival order (seq), so a sort is stable and repeatable.
 */
#include "ui/tui_calls_order.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tui_calls_order_init(struct tui_calls_order *o)
{
    memset(o, 0, sizeof *o);
}

void tui_calls_order_free(struct tui_calls_order *o)
{
    free(o->e);
    memset(o, 0, sizeof *o);
}

void tui_calls_order_set(struct tui_calls_order *o, enum tui_calls_sort key)
{
    o->key = (unsigned)key < TUI_CSORT_COUNT ? key : TUI_CSORT_TIME;
    o->valid = false;
}

const char *tui_calls_sort_name(enum tui_calls_sort key)
{
    static const char *const names[TUI_CSORT_COUNT] = {
        "time (arrival order)", "latency (slowest first)", "status (worst first)", "topic",
        "method"};
    return (unsigned)key < TUI_CSORT_COUNT ? names[key] : "?";
}

/* Latency for the sort: a call that timed out (or is still open, or was
 * given up on) waited longer than any answered one; casts and
 * notifications have none and go last. */
static double latency_key(const struct op *op)
{
    if (op->has_latency)
        return op->latency_ms;
    if (op->type == OP_CALL)
        return INFINITY;
    return -1;
}

/* Worst first: what failed, then what got no answer, then the rest. */
static int status_rank(enum op_status s)
{
    switch (s) {
    case OP_ERROR:
        return 0;
    case OP_UNROUTABLE:
        return 1;
    case OP_TIMEOUT:
        return 2;
    case OP_EVICTED:
        return 3;
    case OP_UNKNOWN:
        return 4;
    case OP_OPEN:
        return 5;
    default:
        return 6;
    }
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static const char *method_of(const struct op *op)
{
    return op->type == OP_NOTIFICATION && op->event_type ? op->event_type : op->method;
}

static int cmp_with(enum tui_calls_sort key, const struct tui_entry *x, const struct tui_entry *y)
{
    int r = 0;
    switch (key) {
    case TUI_CSORT_LATENCY: {
        double a = latency_key(&x->op), b = latency_key(&y->op);
        r = a > b ? -1 : a < b;
        break;
    }
    case TUI_CSORT_STATUS:
        r = status_rank(x->op.status) - status_rank(y->op.status);
        break;
    case TUI_CSORT_TOPIC:
        r = cmp_str(x->op.topic, y->op.topic);
        if (!r)
            r = cmp_str(x->op.server, y->op.server);
        break;
    case TUI_CSORT_METHOD:
        r = cmp_str(method_of(&x->op), method_of(&y->op));
        break;
    default:
        break;
    }
    if (r)
        return r;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_entries(const void *a, const void *b, void *arg)
{
    const enum tui_calls_sort *key = arg;
    return cmp_with(*key, *(const struct tui_entry *const *)a, *(const struct tui_entry *const *)b);
}

/* Rebuilds the sorted array when the store moved, the key or the count
 * changed; false when it cannot (arrival order then). */
static bool ensure(struct tui_calls_order *o, const struct tui_store *s, size_t count)
{
    if (o->key == TUI_CSORT_TIME)
        return false;
    uint64_t v = tui_store_version(s);
    if (o->valid && o->version == v && o->built_for == count)
        return true;
    if (count > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < count)
            cap *= 2;
        const struct tui_entry **e = realloc(o->e, cap * sizeof *e);
        if (!e) {
            o->alloc_failures++;
            o->valid = false;
            return false;
        }
        o->e = e;
        o->cap = cap;
    }
    o->n = 0;
    for (size_t i = 0; i < count; i++) {
        const struct tui_entry *e = tui_store_visible_at(s, i);
        if (e)
            o->e[o->n++] = e;
    }
    qsort_r(o->e, o->n, sizeof *o->e, cmp_entries, &o->key);
    o->version = v;
    o->built_for = count;
    o->valid = true;
    return true;
}

const struct tui_entry *tui_calls_order_at(struct tui_calls_order *o, const struct tui_store *s,
                                           size_t count, size_t i)
{
    if (!ensure(o, s, count))
        return i < count ? tui_store_visible_at(s, i) : NULL;
    return i < o->n ? o->e[i] : NULL;
}

size_t tui_calls_order_index(struct tui_calls_order *o, const struct tui_store *s, size_t count,
                             uint64_t seq)
{
    if (!ensure(o, s, count)) {
        size_t i = tui_store_visible_upto(s, seq);
        return i > 0 && i <= count ? i - 1 : count;
    }
    for (size_t i = 0; i < o->n; i++)
        if (o->e[i]->seq == seq)
            return i;
    return count;
}

/*
 * heap.h: an indexed binary min-heap of deadlines.
 *
 * Items embed a `struct heap_node` (their key and their current index in
 * the heap), so an item can be removed or re-keyed in O(log n) without a
 * search: correlation gives every pending operation one deadline (timeout,
 * hold, late window, linger) and moves it often. The heap stores pointers;
 * it never owns the items.
 */
#ifndef OSLOTRACE_COMMON_HEAP_H
#define OSLOTRACE_COMMON_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NO_INDEX UINT32_MAX

struct heap_node {
    uint64_t key; /* smallest first */
    uint32_t idx; /* position in the heap, HEAP_NO_INDEX when not in it */
};

struct heap {
    struct heap_node **v;
    size_t n, cap;
};

void heap_init(struct heap *h);
void heap_free(struct heap *h); /* the array only: items are the caller's */

static inline void heap_node_init(struct heap_node *n, uint64_t key)
{
    n->key = key;
    n->idx = HEAP_NO_INDEX;
}

static inline bool heap_contains(const struct heap *h, const struct heap_node *n)
{
    return n->idx < h->n && h->v[n->idx] == n;
}

/* The smallest key's node, NULL when empty. */
static inline struct heap_node *heap_top(const struct heap *h)
{
    return h->n ? h->v[0] : NULL;
}

bool heap_push(struct heap *h, struct heap_node *n);   /* false when out of memory */
void heap_remove(struct heap *h, struct heap_node *n); /* no effect when not in the heap */
/* Sets n's key, and restores the order when n is in the heap. */
void heap_update(struct heap *h, struct heap_node *n, uint64_t key);

#endif

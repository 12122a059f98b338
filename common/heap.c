/*
 * heap.c: the indexed binary min-heap of heap.h.
 *
 * An array of node pointers; every swap writes both nodes' indices back, so
 * a node always knows where it is. One fix-up (up, then down) serves push,
 * remove and re-key. The array grows by doubling from 1024 slots.
 */
#include "common/heap.h"

#include <stdlib.h>

void heap_init(struct heap *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
}

void heap_free(struct heap *h)
{
    free(h->v);
    heap_init(h);
}

static void swap(struct heap *h, size_t i, size_t j)
{
    struct heap_node *t = h->v[i];
    h->v[i] = h->v[j];
    h->v[j] = t;
    h->v[i]->idx = (uint32_t)i;
    h->v[j]->idx = (uint32_t)j;
}

static void fix(struct heap *h, size_t i)
{
    while (i > 0 && h->v[(i - 1) / 2]->key > h->v[i]->key) {
        swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->v[l]->key < h->v[m]->key)
            m = l;
        if (r < h->n && h->v[r]->key < h->v[m]->key)
            m = r;
        if (m == i)
            return;
        swap(h, i, m);
        i = m;
    }
}

bool heap_push(struct heap *h, struct heap_node *n)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 1024;
        struct heap_node **nv = realloc(h->v, ncap * sizeof(*nv));
        if (!nv)
            return false;
        h->v = nv;
        h->cap = ncap;
    }
    n->idx = (uint32_t)h->n;
    h->v[h->n++] = n;
    fix(h, n->idx);
    return true;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
    if (!heap_contains(h, n))
        return;
    size_t i = n->idx;
    h->n--;
    if (i != h->n) {
        h->v[i] = h->v[h->n];
        h->v[i]->idx = (uint32_t)i;
        fix(h, i);
    }
    n->idx = HEAP_NO_INDEX;
}

void heap_update(struct heap *h, struct heap_node *n, uint64_t key)
{
    n->key = key;
    if (heap_contains(h, n))
        fix(h, n->idx);
}

/*
 * corr_table.c: the entry table of corr_table.h.
 *
 * Lookup is linear probing with backward-shift deletion (no tombstones);
 * the slot array doubles at half load. Entries come from slabs of
 * CORR_ENTRY_SLAB: no per-entry malloc header, and a freed entry is reused
 * by the next operation; slabs go back at corr_table_free(). Under
 * AddressSanitizer free entries are poisoned, so a use after release is
 * reported as it would be with malloc.
 */
#include "dissect/corr_table.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define OSLOTRACE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OSLOTRACE_ASAN 1
#endif
#endif
#ifdef OSLOTRACE_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

_Static_assert(sizeof(struct corr_entry) <= 224, "a pending call must stay under 256 bytes");

#define CORR_ENTRY_SLAB 1024

struct corr_entry_slab {
    struct corr_entry_slab *next;
    struct corr_entry e[CORR_ENTRY_SLAB];
};

static struct corr_entry *of_age(struct list_node *n)
{
    return n ? list_item(n, struct corr_entry, age) : NULL;
}

static struct corr_entry *of_deadline(struct heap_node *n)
{
    return n ? list_item(n, struct corr_entry, deadline) : NULL;
}

bool corr_table_init(struct corr_table *t)
{
    memset(t, 0, sizeof(*t));
    heap_init(&t->deadlines);
    list_init(&t->age);
    t->nslots = 1024;
    t->slots = calloc(t->nslots, sizeof(*t->slots));
    return t->slots != NULL;
}

void corr_table_free(struct corr_table *t)
{
    while (t->slabs) {
        struct corr_entry_slab *next = t->slabs->next;
        free(t->slabs);
        t->slabs = next;
    }
    free(t->slots);
    heap_free(&t->deadlines);
    memset(t, 0, sizeof(*t));
}

static uint32_t key_hash(uint8_t kind, uint8_t dialect, const struct corr_id *k)
{
    return corr_id_hash(k) * 2654435761u + kind + 2u * dialect;
}

struct corr_entry *corr_table_find(const struct corr_table *t, uint8_t kind, uint8_t dialect,
                                   const struct corr_id *k)
{
    uint32_t h = key_hash(kind, dialect, k);
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct corr_entry *e = t->slots[i];
        if (!e)
            return NULL;
        if (e->hash == h && e->kind == kind && e->dialect == dialect && corr_id_equal(&e->key, k))
            return e;
    }
}

static void slot_insert(struct corr_entry **slots, size_t nslots, struct corr_entry *e)
{
    size_t mask = nslots - 1;
    size_t i = e->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = e;
}

static bool grow(struct corr_table *t)
{
    size_t n = t->nslots * 2;
    struct corr_entry **ns = calloc(n, sizeof(*ns));
    if (!ns)
        return false;
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i])
            slot_insert(ns, n, t->slots[i]);
    free(t->slots);
    t->slots = ns;
    t->nslots = n;
    return true;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void slot_delete(struct corr_table *t, struct corr_entry *e)
{
    size_t mask = t->nslots - 1;
    size_t i = e->hash & mask;
    while (t->slots[i] != e) {
        if (!t->slots[i])
            return;
        i = (i + 1) & mask;
    }
    t->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t home = t->slots[j]->hash & mask;
        /* Move slots[j] into the hole when its home is not in (i, j]. */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}

static struct corr_entry *entry_alloc(struct corr_table *t)
{
    if (!t->free_entries) {
        struct corr_entry_slab *sl = malloc(sizeof(*sl));
        if (!sl)
            return NULL;
        sl->next = t->slabs;
        t->slabs = sl;
        for (size_t i = CORR_ENTRY_SLAB; i-- > 0;) {
            sl->e[i].age.next = t->free_entries;
            t->free_entries = &sl->e[i].age;
            ASAN_POISON_MEMORY_REGION(&sl->e[i], sizeof(sl->e[i]));
        }
    }
    struct corr_entry *e = of_age(t->free_entries);
    ASAN_UNPOISON_MEMORY_REGION(e, sizeof(*e));
    t->free_entries = e->age.next;
    memset(e, 0, sizeof(*e));
    return e;
}

static void entry_release(struct corr_table *t, struct corr_entry *e)
{
    e->age.next = t->free_entries;
    t->free_entries = &e->age;
    ASAN_POISON_MEMORY_REGION(e, sizeof(*e));
}

struct corr_entry *corr_table_add(struct corr_table *t, uint8_t kind, uint8_t dialect,
                                  const struct corr_id *key)
{
    if ((t->n + 1) * 2 > t->nslots && !grow(t))
        return NULL;
    struct corr_entry *e = entry_alloc(t);
    if (!e)
        return NULL;
    e->kind = kind;
    e->dialect = dialect;
    e->key = *key;
    e->hash = key_hash(kind, dialect, key);
    heap_node_init(&e->deadline, UINT64_MAX);
    if (!heap_push(&t->deadlines, &e->deadline)) {
        entry_release(t, e);
        return NULL;
    }
    slot_insert(t->slots, t->nslots, e);
    list_append(&t->age, &e->age);
    t->n++;
    return e;
}

void corr_table_remove(struct corr_table *t, struct corr_entry *e)
{
    heap_remove(&t->deadlines, &e->deadline);
    slot_delete(t, e);
    list_unlink(&e->age);
    t->n--;
    entry_release(t, e);
}

void corr_table_set_deadline(struct corr_table *t, struct corr_entry *e, uint64_t ns)
{
    heap_update(&t->deadlines, &e->deadline, ns);
}

struct corr_entry *corr_table_due(const struct corr_table *t, uint64_t now)
{
    struct heap_node *top = heap_top(&t->deadlines);
    return top && top->key <= now ? of_deadline(top) : NULL;
}

struct corr_entry *corr_table_oldest(const struct corr_table *t)
{
    return of_age(list_first(&t->age));
}

struct corr_entry *corr_table_newest(const struct corr_table *t)
{
    return of_age(list_last(&t->age));
}

struct corr_entry *corr_table_newer(const struct corr_table *t, const struct corr_entry *e)
{
    return of_age(list_next(&t->age, &e->age));
}

struct corr_entry *corr_table_older(const struct corr_table *t, const struct corr_entry *e)
{
    return of_age(list_prev(&t->age, &e->age));
}

/*
 * list.h: an intrusive doubly-linked list, header only.
 *
 * The link lives inside the listed struct (`struct list_node`), so putting a
 * thing on a list allocates nothing and unlinking it is O(1) from the thing
 * itself. The list head is a sentinel node (a circular list), so there is no
 * special case for the first or last element. Used for creation order and
 * LRU lists (TCP flows, AMQP assemblies and connections, correlation
 * entries); every one of them used to carry its own hand-written copy.
 *
 * A node that is on no list is "detached" (both links NULL): list_node_init()
 * makes it so and list_unlink() leaves it so, so list_linked() can tell.
 */
#ifndef OSLOTRACE_COMMON_LIST_H
#define OSLOTRACE_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

/* The struct that holds `node` as its `member`. */
#define list_item(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

/* Iterates `it` (a struct list_node *) over head, first to last. The loop
 * body must not unlink `it`; use list_foreach_safe for that. */
#define list_foreach(head, it) for ((it) = (head)->next; (it) != (head); (it) = (it)->next)

/* The same, with `tmp` holding the next node so `it` may be unlinked. */
#define list_foreach_safe(head, it, tmp)                                                           \
    for ((it) = (head)->next, (tmp) = (it)->next; (it) != (head); (it) = (tmp), (tmp) = (it)->next)

static inline void list_init(struct list_node *head)
{
    head->prev = head->next = head;
}

static inline void list_node_init(struct list_node *n)
{
    n->prev = n->next = NULL;
}

static inline bool list_empty(const struct list_node *head)
{
    return head->next == head;
}

static inline bool list_linked(const struct list_node *n)
{
    return n->next != NULL;
}

static inline void list_insert_between(struct list_node *n, struct list_node *prev,
                                       struct list_node *next)
{
    n->prev = prev;
    n->next = next;
    prev->next = n;
    next->prev = n;
}

/* n becomes the last element. */
static inline void list_append(struct list_node *head, struct list_node *n)
{
    list_insert_between(n, head->prev, head);
}

/* n becomes the first element. */
static inline void list_prepend(struct list_node *head, struct list_node *n)
{
    list_insert_between(n, head, head->next);
}

/* Takes n off its list and detaches it; harmless on a detached node. */
static inline void list_unlink(struct list_node *n)
{
    if (!n->next)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/* The first / last element, NULL when the list is empty. */
static inline struct list_node *list_first(const struct list_node *head)
{
    return head->next == head ? NULL : head->next;
}

static inline struct list_node *list_last(const struct list_node *head)
{
    return head->prev == head ? NULL : head->prev;
}

/* The element after / before n on head's list, NULL at the end. */
static inline struct list_node *list_next(const struct list_node *head, const struct list_node *n)
{
    return n->next == head ? NULL : n->next;
}

static inline struct list_node *list_prev(const struct list_node *head, const struct list_node *n)
{
    return n->prev == head ? NULL : n->prev;
}

#endif

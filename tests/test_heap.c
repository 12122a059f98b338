/*
 * test_heap.c: the indexed min-heap of deadlines (common/heap.h).
 *
 * Random pushes, re-keys and removals from the middle against a brute-force
 * model: the top is always the smallest key, every node's index is where it
 * really is, and popping everything gives the keys in order.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include "common/heap.h"
#include "test_rng.h"

enum { N = 2000 };

static void check(const struct heap *h, struct heap_node *nodes, const bool *in)
{
    uint64_t min = UINT64_MAX;
    size_t count = 0;
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(heap_contains(h, &nodes[i]), in[i]);
        if (in[i]) {
            count++;
            assert_ptr_equal(h->v[nodes[i].idx], &nodes[i]);
            if (nodes[i].key < min)
                min = nodes[i].key;
        } else {
            assert_int_equal(nodes[i].idx, HEAP_NO_INDEX);
        }
    }
    assert_int_equal(h->n, count);
    if (count)
        assert_int_equal(heap_top(h)->key, min);
    else
        assert_null(heap_top(h));
}

static void test_against_model(void **state)
{
    (void)state;
    static struct heap_node nodes[N];
    static bool in[N];
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    struct heap h;
    heap_init(&h);
    for (size_t i = 0; i < N; i++)
        heap_node_init(&nodes[i], 0);
    for (int step = 0; step < 20000; step++) {
        size_t i = test_rng_next(&rng) % N;
        uint64_t key = test_rng_next(&rng) % 1000; /* many ties */
        switch (test_rng_next(&rng) % 3) {
        case 0:
            if (!in[i]) {
                nodes[i].key = key;
                assert_true(heap_push(&h, &nodes[i]));
                in[i] = true;
            }
            break;
        case 1:
            heap_update(&h, &nodes[i], key); /* also fine for a node not in the heap */
            break;
        default:
            heap_remove(&h, &nodes[i]);
            in[i] = false;
            break;
        }
        if (step % 500 == 0)
            check(&h, nodes, in);
    }
    check(&h, nodes, in);
    uint64_t last = 0;
    while (heap_top(&h)) {
        struct heap_node *t = heap_top(&h);
        assert_true(t->key >= last);
        last = t->key;
        heap_remove(&h, t);
        in[t - nodes] = false;
    }
    check(&h, nodes, in);
    heap_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

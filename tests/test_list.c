/*
 * test_list.c: the intrusive list of common/list.h.
 *
 * Append, prepend and unlink in every position against an array model,
 * iteration both ways, unlinking while iterating (list_foreach_safe), and
 * the detached state a node is in before and after it is on a list.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include "common/list.h"

struct item {
    int v;
    struct list_node link;
};

/* Checks that head holds exactly want[0..n) in order, walking both ways. */
static void check(const struct list_node *head, const int *want, int n)
{
    int i = 0;
    struct list_node *it;
    list_foreach(head, it)
    {
        assert_true(i < n);
        assert_int_equal(list_item(it, struct item, link)->v, want[i]);
        i++;
    }
    assert_int_equal(i, n);
    for (struct list_node *p = list_last(head); p; p = list_prev(head, p)) {
        i--;
        assert_int_equal(list_item(p, struct item, link)->v, want[i]);
    }
    assert_int_equal(i, 0);
    assert_int_equal(list_empty(head), n == 0);
}

static void test_append_prepend_unlink(void **state)
{
    (void)state;
    struct list_node head;
    struct item it[5];
    list_init(&head);
    check(&head, NULL, 0);
    assert_null(list_first(&head));
    assert_null(list_last(&head));
    for (int i = 0; i < 5; i++) {
        it[i].v = i;
        list_node_init(&it[i].link);
        assert_false(list_linked(&it[i].link));
    }
    list_append(&head, &it[1].link);
    list_append(&head, &it[2].link);
    list_prepend(&head, &it[0].link);
    list_append(&head, &it[3].link);
    check(&head, (int[]){0, 1, 2, 3}, 4);
    assert_ptr_equal(list_first(&head), &it[0].link);
    assert_ptr_equal(list_last(&head), &it[3].link);
    assert_ptr_equal(list_next(&head, &it[1].link), &it[2].link);
    assert_null(list_next(&head, &it[3].link));
    assert_null(list_prev(&head, &it[0].link));

    list_unlink(&it[2].link); /* middle */
    assert_false(list_linked(&it[2].link));
    check(&head, (int[]){0, 1, 3}, 3);
    list_unlink(&it[0].link); /* first */
    check(&head, (int[]){1, 3}, 2);
    list_unlink(&it[3].link); /* last */
    check(&head, (int[]){1}, 1);
    list_unlink(&it[3].link); /* detached: no effect */
    check(&head, (int[]){1}, 1);
    list_unlink(&it[1].link);
    check(&head, NULL, 0);
    /* Re-linking a node moves it (the LRU touch). */
    list_append(&head, &it[4].link);
    list_append(&head, &it[2].link);
    list_unlink(&it[4].link);
    list_append(&head, &it[4].link);
    check(&head, (int[]){2, 4}, 2);
}

static void test_unlink_while_iterating(void **state)
{
    (void)state;
    struct list_node head;
    struct item it[8];
    list_init(&head);
    for (int i = 0; i < 8; i++) {
        it[i].v = i;
        list_node_init(&it[i].link);
        list_append(&head, &it[i].link);
    }
    struct list_node *n, *tmp;
    list_foreach_safe(&head, n, tmp)
    {
        if (list_item(n, struct item, link)->v % 2)
            list_unlink(n);
    }
    check(&head, (int[]){0, 2, 4, 6}, 4);
    list_foreach_safe(&head, n, tmp) list_unlink(n);
    check(&head, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_prepend_unlink),
        cmocka_unit_test(test_unlink_while_iterating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

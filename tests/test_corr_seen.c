/*
 * test_corr_seen.c: the bounded set of reported fanout ids (dissect/
 * corr_seen.h): ids are found whatever their age until CORR_SEEN_MAX newer
 * ones pushed them out (oldest first, counted), and the slot table stays
 * right through many evictions (backward-shift deletion).
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>

#include "dissect/corr_seen.h"

static void bounded_by_count(void **state)
{
    (void)state;
    struct corr_seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    char id[40];
    const int total = 5 * CORR_SEEN_MAX + 123;
    for (int i = 0; i < total; i++) {
        snprintf(id, sizeof id, "%032x", i * 2654435761u);
        corr_seen_add(s, id);
        corr_seen_add(s, id); /* twice: once */
    }
    assert_int_equal(s->evicted, total - CORR_SEEN_MAX);
    int found = 0;
    for (int i = 0; i < total; i++) {
        snprintf(id, sizeof id, "%032x", i * 2654435761u);
        bool want = i >= total - CORR_SEEN_MAX;
        assert_int_equal(corr_seen_has(s, id), want);
        found += want;
    }
    assert_int_equal(found, CORR_SEEN_MAX);
    assert_false(corr_seen_has(s, "never-added"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounded_by_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

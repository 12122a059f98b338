/*
 * test_packet_ring.c: the ring of recent live packets that -w and the TUI's
 * `w` write from. Random packet sizes through a small ring: every packet held
 * is found by its number with its own bytes, the held ones are always the
 * newest (a contiguous run ending at the last pushed), every packet leaves
 * exactly once and in order, marks travel with their packet, and packets too
 * big to hold are skipped without disturbing the rest.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

#include "test_rng.h"
#include "ui/packet_ring.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    return test_rng_next(&rng_state);
}

/* Packet n's bytes: a pattern that tells packets apart. */
static void fill(uint8_t *buf, uint32_t len, uint64_t n)
{
    for (uint32_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(n * 31 + i);
}

struct left {
    uint64_t next; /* number expected to leave next */
    uint64_t marked_seen;
    bool in_order;
};

static void on_leave(void *user, const struct packet_ring_item *p)
{
    struct left *l = user;
    if (p->index != l->next)
        l->in_order = false;
    l->next = p->index + 1;
    if (p->marked)
        l->marked_seen++;
    if (p->marked != (p->index % 7 == 0))
        l->in_order = false; /* a mark landed on the wrong packet */
}

static void test_random_traffic(void **state)
{
    (void)state;
    const size_t ring_bytes = 64 * 1024;
    struct packet_ring *r = packet_ring_new(ring_bytes);
    assert_non_null(r);
    static uint8_t buf[20000], want[20000];
    struct left l = {.next = 1, .in_order = true};
    uint64_t marked = 0;
    for (uint64_t n = 1; n <= 20000; n++) {
        uint32_t len = (uint32_t)(rnd() % 3 == 0 ? rnd() % 6000 : rnd() % 300);
        fill(buf, len, n);
        struct packet pkt = {
            .ts_ns = n * 1000, .index = n, .caplen = len, .wirelen = len + 4, .data = buf};
        packet_ring_push(r, &pkt, on_leave, &l);
        if (n % 7 == 0) {
            assert_int_equal(packet_ring_mark(r, n), PACKET_RING_HELD);
            marked++;
        }
        assert_int_equal(packet_ring_mark(r, n + 1), PACKET_RING_NOT_YET);
        /* The held packets are the newest, contiguous, with their own bytes. */
        size_t held = packet_ring_count(r);
        assert_true(held >= 1);
        uint64_t oldest = n - held + 1;
        assert_int_equal(oldest, l.next);
        struct packet_ring_item p;
        for (uint64_t k = oldest; k <= n; k += 1 + rnd() % 5) {
            assert_true(packet_ring_get(r, k, &p));
            assert_int_equal(p.index, k);
            assert_int_equal(p.ts_ns, k * 1000);
            assert_int_equal(p.wirelen, p.caplen + 4);
            fill(want, p.caplen, k);
            assert_memory_equal(p.data, want, p.caplen);
        }
        if (oldest > 1) {
            assert_false(packet_ring_get(r, oldest - 1, &p));
            assert_int_equal(packet_ring_mark(r, oldest - 1), PACKET_RING_GONE);
        }
    }
    packet_ring_drain(r, on_leave, &l);
    assert_int_equal(packet_ring_count(r), 0);
    assert_true(l.in_order);
    assert_int_equal(l.next, 20001);
    assert_int_equal(l.marked_seen, marked);
    packet_ring_free(r);
}

static void test_too_big_is_skipped(void **state)
{
    (void)state;
    struct packet_ring *r = packet_ring_new(16 * 1024);
    assert_non_null(r);
    static uint8_t buf[8192];
    struct left l = {.next = 1, .in_order = true};
    struct packet small = {.index = 1, .caplen = 10, .wirelen = 10, .data = buf};
    packet_ring_push(r, &small, on_leave, &l);
    struct packet big = {.index = 2, .caplen = sizeof buf, .wirelen = sizeof buf, .data = buf};
    packet_ring_push(r, &big, on_leave, &l); /* more than a quarter of the ring */
    assert_int_equal(packet_ring_count(r), 1);
    struct packet_ring_item p;
    assert_true(packet_ring_get(r, 1, &p));
    assert_false(packet_ring_get(r, 2, &p));
    packet_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_traffic),
        cmocka_unit_test(test_too_big_is_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

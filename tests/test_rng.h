/*
 * test_rng.h: the small deterministic generator the randomised unit tests
 * share (xorshift64): a fixed seed per test file gives the same inputs on
 * every run and machine, so a failure can be replayed.
 */
#ifndef OSLOTRACE_TESTS_TEST_RNG_H
#define OSLOTRACE_TESTS_TEST_RNG_H

#include <stdint.h>

static inline uint64_t test_rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif

/*
 * oslo_seen.h: a small bounded table of message bodies decoded recently, so a
 * body seen again (the broker's deliver leg of a publish, every receiver of a
 * fanout, a redelivery) is recognised instead of decoded again.
 *
 * Keyed by the body's bytes (length, a 64-bit hash, then a full compare, so a
 * hash collision is a miss, never a wrong answer) and a caller's tag. Each
 * slot keeps a copy of the body and a fixed-size value the caller fills.
 * Direct-mapped: a new body replaces whatever its slot held. Bounded in slots
 * and in the bytes of bodies kept; bodies above max_body are not kept.
 */
#ifndef OSLOTRACE_DISSECT_OSLO_SEEN_H
#define OSLOTRACE_DISSECT_OSLO_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct oslo_seen;

/* Called on a value when its slot is reused or the table freed. */
typedef void (*oslo_seen_release_fn)(void *val);

/* slots: rounded up to a power of two. NULL when out of memory. */
struct oslo_seen *oslo_seen_new(size_t slots, size_t val_size, size_t max_body, size_t max_bytes,
                                oslo_seen_release_fn release);
void oslo_seen_free(struct oslo_seen *s);

uint64_t oslo_seen_hash(const uint8_t *p, size_t len);

/* The value stored for exactly these bytes and tag, or NULL. */
void *oslo_seen_find(struct oslo_seen *s, const uint8_t *body, size_t len, uint64_t hash,
                     uint32_t tag);

/* A slot for these bytes (the body is copied): the caller fills the whole
 * value (it holds whatever was there before). NULL when the body is not kept (too large, over the
 * byte budget, out of memory). */
void *oslo_seen_put(struct oslo_seen *s, const uint8_t *body, size_t len, uint64_t hash,
                    uint32_t tag);

struct oslo_seen_stats {
    uint64_t hits, misses, stored, replaced, not_kept;
};
const struct oslo_seen_stats *oslo_seen_stats(const struct oslo_seen *s);

#endif

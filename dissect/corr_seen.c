/*
 * corr_seen.c: a bounded set of 64-bit id hashes (corr_seen.h). The ring
 * gives the eviction order, the slot table the lookup: linear probing at
 * half load, deletion by backward shift so no tombstones pile up. Two ids
 * with the same FNV-1a 64 hash would be taken for one; at 8192 ids that is
 * a chance of about 2^-38 per capture.
 */
#include "dissect/corr_seen.h"

#define NSLOTS (2 * CORR_SEEN_MAX)

static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ull;
    return h ? h : 1;
}

static uint32_t home(uint64_t h)
{
    return (uint32_t)(h ^ (h >> 32)) & (NSLOTS - 1);
}

static bool has_hash(const struct corr_seen *s, uint64_t h)
{
    for (uint32_t i = home(h);; i = (i + 1) & (NSLOTS - 1)) {
        if (!s->slots[i])
            return false;
        if (s->slots[i] == h)
            return true;
    }
}

bool corr_seen_has(const struct corr_seen *s, const char *id)
{
    return has_hash(s, id_hash(id));
}

static void slot_remove(struct corr_seen *s, uint64_t h)
{
    uint32_t i = home(h);
    while (s->slots[i] != h) {
        if (!s->slots[i])
            return;
        i = (i + 1) & (NSLOTS - 1);
    }
    /* backward shift: move later members of the run into the hole when their home allows */
    for (uint32_t j = (i + 1) & (NSLOTS - 1); s->slots[j]; j = (j + 1) & (NSLOTS - 1)) {
        uint32_t k = home(s->slots[j]);
        bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
        if (movable) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
}

void corr_seen_add(struct corr_seen *s, const char *id)
{
    uint64_t h = id_hash(id);
    if (has_hash(s, h))
        return;
    if (s->n == CORR_SEEN_MAX) {
        slot_remove(s, s->ring[s->head]);
        s->head = (s->head + 1) % CORR_SEEN_MAX;
        s->n--;
        s->evicted++;
    }
    s->ring[(s->head + s->n) % CORR_SEEN_MAX] = h;
    s->n++;
    uint32_t i = home(h);
    while (s->slots[i])
        i = (i + 1) & (NSLOTS - 1);
    s->slots[i] = h;
}

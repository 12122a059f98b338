/*
 * counters.c: the counter registry (see counters.h).
 *
 * Groups are kept in registration order in a growable array; each group owns
 * a scratch copy of its stage's stats struct, refilled by every snapshot, so
 * a stage's counters are read together (one pcap_stats call, one corr copy)
 * and the values of one snapshot are consistent within a stage.
 */
#include "common/counters.h"

#include <stdlib.h>
#include <string.h>

struct counter_group {
    const struct counter_def *defs;
    size_t ndefs;
    counters_read_fn read;
    const void *owner;
    size_t stats_size;
    unsigned char *scratch;
};

struct counters {
    struct counter_group *groups;
    size_t ngroups, cap, ncounters;
};

struct counters *counters_new(void)
{
    return calloc(1, sizeof(struct counters));
}

bool counters_add(struct counters *c, const struct counter_def *defs, size_t ndefs,
                  counters_read_fn read, const void *owner, size_t stats_size)
{
    for (size_t i = 0; i < ndefs; i++)
        if ((size_t)defs[i].offset + sizeof(uint64_t) > stats_size)
            return false; /* a row that points outside its struct: a programming error */
    if (c->ngroups == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct counter_group *g = realloc(c->groups, cap * sizeof *g);
        if (!g)
            return false;
        c->groups = g;
        c->cap = cap;
    }
    unsigned char *scratch = calloc(1, stats_size ? stats_size : 1);
    if (!scratch)
        return false;
    c->groups[c->ngroups++] = (struct counter_group){defs, ndefs, read, owner, stats_size, scratch};
    c->ncounters += ndefs;
    return true;
}

size_t counters_count(const struct counters *c)
{
    return c->ncounters;
}

static uint64_t value_at(const struct counter_group *g, const struct counter_def *d)
{
    uint64_t v;
    memcpy(&v, g->scratch + d->offset, sizeof v);
    return v;
}

size_t counters_snapshot(const struct counters *c, struct counter_value *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->ngroups && n < max; i++) {
        const struct counter_group *g = &c->groups[i];
        g->read(g->owner, g->scratch);
        for (size_t k = 0; k < g->ndefs && n < max; k++)
            out[n++] = (struct counter_value){&g->defs[k], value_at(g, &g->defs[k])};
    }
    return n;
}

uint64_t counters_sum(const struct counters *c, unsigned flags)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < c->ngroups; i++) {
        const struct counter_group *g = &c->groups[i];
        bool read = false;
        for (size_t k = 0; k < g->ndefs; k++) {
            if (!(g->defs[k].flags & flags))
                continue;
            if (!read) {
                g->read(g->owner, g->scratch);
                read = true;
            }
            sum += value_at(g, &g->defs[k]);
        }
    }
    return sum;
}

bool counters_get(const struct counters *c, const char *name, uint64_t *value)
{
    for (size_t i = 0; i < c->ngroups; i++) {
        const struct counter_group *g = &c->groups[i];
        for (size_t k = 0; k < g->ndefs; k++) {
            if (strcmp(g->defs[k].name, name) == 0) {
                g->read(g->owner, g->scratch);
                *value = value_at(g, &g->defs[k]);
                return true;
            }
        }
    }
    return false;
}

uint64_t counters_value(const struct counters *c, const char *name)
{
    uint64_t v = 0;
    counters_get(c, name, &v);
    return v;
}

void counters_free(struct counters *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ngroups; i++)
        free(c->groups[i].scratch);
    free(c->groups);
    free(c);
}

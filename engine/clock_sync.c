/*
 * clock_sync.c: clock offsets between capture sources from causal bounds.
 *
 * The samples are sorted by key; within a key, every pair (a on source i,
 * b on source j, rank a < rank b) says b really happened after a, so
 * off[j] - off[i] >= ts_a - ts_b. The largest such bound per ordered pair of
 * sources is kept in a matrix of difference constraints; a virtual source R
 * (the true time) is pinned to the reference (source 0, or every offset
 * given by hand), and one Floyd-Warshall pass tightens each bound along
 * paths through other sources (a node that shares no message with the
 * reference is still placed through one that does). Source s then lies in
 * [lo[R][s], -lo[s][R]]. Differences stay in int64 ns: offsets are
 * seconds at most, far from overflow.
 */
#include "engine/clock_sync.h"

#include <stdlib.h>
#include <string.h>

#define NEG_INF (INT64_MIN / 4)
#define N_MAX (CLOCK_SYNC_MAX_SOURCES + 1)

struct sample {
    uint64_t key;
    uint64_t ts_ns;
    uint8_t source;
    uint8_t rank;
};

struct clock_sync {
    size_t n;
    struct sample *s;
    size_t ns, cap;
    bool fixed[CLOCK_SYNC_MAX_SOURCES];
    int64_t fixed_ns[CLOCK_SYNC_MAX_SOURCES];
    int64_t lo[N_MAX][N_MAX]; /* lo[i][j]: lower bound of off[j] - off[i] */
    uint64_t direct[CLOCK_SYNC_MAX_SOURCES];
    struct clock_sync_stats st;
};

uint64_t clock_sync_hash(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

const char *clock_sync_how_name(enum clock_sync_how h)
{
    switch (h) {
    case CLOCK_SYNC_REFERENCE:
        return "reference";
    case CLOCK_SYNC_FIXED:
        return "fixed";
    case CLOCK_SYNC_ESTIMATED:
        return "estimated";
    case CLOCK_SYNC_ONE_SIDED:
        return "one_sided";
    case CLOCK_SYNC_UNKNOWN:
        return "unknown";
    }
    return "?";
}

struct clock_sync *clock_sync_new(size_t nsources, size_t max_samples)
{
    if (nsources == 0 || nsources > CLOCK_SYNC_MAX_SOURCES)
        return NULL;
    struct clock_sync *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->n = nsources;
    cs->cap = max_samples ? max_samples : (size_t)1 << 20;
    return cs;
}

void clock_sync_add(struct clock_sync *cs, unsigned source, uint64_t key, unsigned rank,
                    uint64_t ts_ns)
{
    if (source >= cs->n || rank > 255 || !ts_ns)
        return;
    if (cs->ns == cs->cap) {
        cs->st.dropped++;
        return;
    }
    if (!cs->s) {
        /* Grown on demand up to cap, so a run with few messages stays small. */
        cs->s = malloc(sizeof *cs->s * (cs->cap < 4096 ? cs->cap : 4096));
        if (!cs->s) {
            cs->st.dropped++;
            return;
        }
    } else if (cs->ns >= 4096 && (cs->ns & (cs->ns - 1)) == 0) {
        size_t want = cs->ns * 2 < cs->cap ? cs->ns * 2 : cs->cap;
        struct sample *ns = realloc(cs->s, sizeof *ns * want);
        if (!ns) {
            cs->st.dropped++;
            cs->cap = cs->ns; /* no more room: the rest are dropped and counted */
            return;
        }
        cs->s = ns;
    }
    cs->s[cs->ns++] = (struct sample){key, ts_ns, (uint8_t)source, (uint8_t)rank};
    cs->st.samples++;
}

bool clock_sync_fix(struct clock_sync *cs, unsigned source, int64_t offset_ns)
{
    if (source >= cs->n)
        return false;
    cs->fixed[source] = true;
    cs->fixed_ns[source] = offset_ns;
    return true;
}

static int cmp_sample(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->source > y->source) - (x->source < y->source);
}

static void bound(struct clock_sync *cs, const struct sample *a, const struct sample *b)
{
    if (a->source == b->source || a->rank >= b->rank)
        return;
    int64_t d = (int64_t)(a->ts_ns - b->ts_ns); /* off[b] - off[a] >= ts_a - ts_b */
    if (d > cs->lo[a->source][b->source])
        cs->lo[a->source][b->source] = d;
    cs->direct[a->source]++;
    cs->direct[b->source]++;
    cs->st.pairs++;
}

static void collect_bounds(struct clock_sync *cs)
{
    if (!cs->ns)
        return;
    qsort(cs->s, cs->ns, sizeof *cs->s, cmp_sample);
    for (size_t i = 0; i < cs->ns;) {
        size_t j = i;
        while (j < cs->ns && cs->s[j].key == cs->s[i].key)
            j++;
        size_t end = j;
        if (end - i > CLOCK_SYNC_MAX_GROUP) {
            cs->st.big_groups++;
            end = i + CLOCK_SYNC_MAX_GROUP;
        }
        for (size_t a = i; a < end; a++)
            for (size_t b = i; b < end; b++)
                bound(cs, &cs->s[a], &cs->s[b]);
        i = j;
    }
}

static void pin(struct clock_sync *cs, size_t r, size_t s, int64_t v)
{
    cs->lo[r][s] = v;
    cs->lo[s][r] = -v;
}

static void tighten(struct clock_sync *cs, size_t m)
{
    for (size_t k = 0; k < m; k++)
        for (size_t i = 0; i < m; i++) {
            if (cs->lo[i][k] == NEG_INF)
                continue;
            for (size_t j = 0; j < m; j++) {
                if (i == j || cs->lo[k][j] == NEG_INF)
                    continue;
                int64_t v = cs->lo[i][k] + cs->lo[k][j];
                if (v > cs->lo[i][j])
                    cs->lo[i][j] = v;
            }
        }
}

void clock_sync_solve(struct clock_sync *cs, struct clock_sync_estimate *out)
{
    size_t n = cs->n, r = n, m = n + 1;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            cs->lo[i][j] = i == j ? 0 : NEG_INF;
    memset(cs->direct, 0, sizeof cs->direct);
    cs->st.pairs = 0;
    cs->st.big_groups = 0;
    collect_bounds(cs);
    if (!cs->fixed[0])
        pin(cs, r, 0, 0);
    for (size_t s = 0; s < n; s++)
        if (cs->fixed[s])
            pin(cs, r, s, cs->fixed_ns[s]);
    tighten(cs, m);
    for (size_t s = 0; s < n; s++) {
        struct clock_sync_estimate *e = &out[s];
        memset(e, 0, sizeof *e);
        e->pairs = cs->direct[s];
        int64_t low = cs->lo[r][s], high = cs->lo[s][r] == NEG_INF ? -NEG_INF : -cs->lo[s][r];
        bool has_low = low != NEG_INF, has_high = high != -NEG_INF;
        if (cs->fixed[s] || (s == 0 && !cs->fixed[0])) {
            e->how = cs->fixed[s] ? CLOCK_SYNC_FIXED : CLOCK_SYNC_REFERENCE;
            e->offset_ns = cs->fixed[s] ? cs->fixed_ns[s] : 0;
            e->half_width_ns = 0;
            /* Tightened through the others, a pinned source's bounds move
             * off its pin only when the messages contradict the pins. */
            e->inconsistent = low > e->offset_ns || high < e->offset_ns;
        } else if (has_low && has_high) {
            e->how = CLOCK_SYNC_ESTIMATED;
            e->offset_ns = low + (high - low) / 2;
            e->half_width_ns = (high - low) / 2;
            if (high < low) {
                e->inconsistent = true;
                e->half_width_ns = -e->half_width_ns;
            }
        } else if (has_low || has_high) {
            e->how = CLOCK_SYNC_ONE_SIDED;
            e->offset_ns = has_low ? low : high;
            e->half_width_ns = -1;
        } else {
            e->how = CLOCK_SYNC_UNKNOWN;
            e->half_width_ns = -1;
        }
    }
}

void clock_sync_get_stats(const struct clock_sync *cs, struct clock_sync_stats *out)
{
    *out = cs->st;
}

void clock_sync_free(struct clock_sync *cs)
{
    if (!cs)
        return;
    free(cs->s);
    free(cs);
}

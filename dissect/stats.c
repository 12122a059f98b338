/*
 * stats.c: the bounded per-topic / per-method statistics table.
 *
 * Rows live in an array in creation order (stable indices for the TUI)
 * and are found through an open-addressing hash of (topic, method). The
 * key count is fixed at creation, so the hash never needs more than
 * 2 × (max_keys + 2) slots and grows by doubling up to that. Names are
 * copied (cut to STATS_NAME_MAX) because op strings die with the callback.
 */
#include "dissect/stats.h"

#include <stdlib.h>
#include <string.h>

struct stats {
    size_t max_keys;
    struct stats_row **rows;
    size_t nrows, rows_cap;
    uint32_t *slots; /* row index + 1, 0 = empty */
    size_t nslots;   /* power of two */
    struct stats_row total;
    struct stats_row *other_topic, *other_method;
    uint64_t overflow_ops;
};

static uint64_t hash_key(const char *topic, const char *method)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = topic; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ 0xFFu) * 1099511628211ull;
    if (method) {
        h = (h ^ 1u) * 1099511628211ull;
        for (const char *p = method; *p; p++)
            h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static void row_init(struct stats_row *r)
{
    memset(r, 0, sizeof(*r));
    hist_init(&r->latency);
    hist_init(&r->queue_wait);
    hist_init(&r->server_time);
}

static void row_free(struct stats_row *r)
{
    hist_free(&r->latency);
    hist_free(&r->queue_wait);
    hist_free(&r->server_time);
    free((char *)r->topic);
    free((char *)r->method);
}

struct stats *stats_new(size_t max_keys)
{
    struct stats *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->max_keys = max_keys ? max_keys : STATS_DEFAULT_MAX_KEYS;
    s->nslots = 64;
    s->slots = calloc(s->nslots, sizeof(*s->slots));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    row_init(&s->total);
    s->total.topic = "(all)";
    return s;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nrows; i++) {
        row_free(s->rows[i]);
        free(s->rows[i]);
    }
    free(s->rows);
    free(s->slots);
    hist_free(&s->total.latency);
    hist_free(&s->total.queue_wait);
    hist_free(&s->total.server_time);
    free(s);
}

static char *dup_cut(const char *str)
{
    size_t n = strnlen(str, STATS_NAME_MAX);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, str, n);
        d[n] = '\0';
    }
    return d;
}

static bool same(const struct stats_row *r, const char *topic, const char *method)
{
    if (strncmp(r->topic, topic, STATS_NAME_MAX) != 0)
        return false;
    if (!method || !r->method)
        return !method && !r->method;
    return strncmp(r->method, method, STATS_NAME_MAX) == 0;
}

static size_t probe(const struct stats *s, const char *topic, const char *method, bool *found)
{
    size_t mask = s->nslots - 1;
    size_t i = (size_t)hash_key(topic, method) & mask;
    for (;;) {
        uint32_t v = s->slots[i];
        if (!v) {
            *found = false;
            return i;
        }
        const struct stats_row *r = s->rows[v - 1];
        if (!r->other && same(r, topic, method)) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static bool grow_slots(struct stats *s)
{
    size_t n = s->nslots * 2;
    uint32_t *ns = calloc(n, sizeof(*ns));
    if (!ns)
        return false;
    for (size_t i = 0; i < s->nrows; i++) {
        const struct stats_row *r = s->rows[i];
        if (r->other)
            continue;
        size_t j = (size_t)hash_key(r->topic, r->method) & (n - 1);
        while (ns[j])
            j = (j + 1) & (n - 1);
        ns[j] = (uint32_t)(i + 1);
    }
    free(s->slots);
    s->slots = ns;
    s->nslots = n;
    return true;
}

static struct stats_row *append_row(struct stats *s, const char *topic, const char *method,
                                    bool other)
{
    if (s->nrows == s->rows_cap) {
        size_t ncap = s->rows_cap ? s->rows_cap * 2 : 32;
        struct stats_row **nr = realloc(s->rows, ncap * sizeof(*nr));
        if (!nr)
            return NULL;
        s->rows = nr;
        s->rows_cap = ncap;
    }
    struct stats_row *r = malloc(sizeof(*r));
    if (!r)
        return NULL;
    row_init(r);
    r->topic = dup_cut(topic);
    r->method = method ? dup_cut(method) : NULL;
    r->other = other;
    if (!r->topic || (method && !r->method)) {
        row_free(r);
        free(r);
        return NULL;
    }
    s->rows[s->nrows++] = r;
    return r;
}

/* The row for (topic, method), created if the key budget allows; NULL when full. */
static struct stats_row *get_row(struct stats *s, const char *topic, const char *method)
{
    bool found;
    size_t i = probe(s, topic, method, &found);
    if (found)
        return s->rows[s->slots[i] - 1];
    size_t keys = s->nrows - (s->other_topic != NULL) - (s->other_method != NULL);
    if (keys >= s->max_keys)
        return NULL;
    if ((keys + 1) * 2 > s->nslots) {
        if (!grow_slots(s))
            return NULL;
        i = probe(s, topic, method, &found);
    }
    struct stats_row *r = append_row(s, topic, method, false);
    if (r)
        s->slots[i] = (uint32_t)s->nrows;
    return r;
}

static void row_add(struct stats_row *r, const struct op *op)
{
    r->ops++;
    if ((unsigned)op->type < OP_TYPE_COUNT)
        r->by_type[op->type]++;
    if ((unsigned)op->status < OP_STATUS_COUNT)
        r->by_status[op->status]++;
    if (op->late_reply)
        r->late_replies++;
    if (op->type == OP_CALL && (unsigned)op->verdict < OP_VERDICT_COUNT)
        r->by_verdict[op->verdict]++;
    if ((unsigned)op->slow_in < OP_SLOW_COUNT)
        r->by_slow[op->slow_in]++;
    r->heartbeats += op->heartbeats;
    r->fanout_receivers += op->fanout_receivers;
    if (op->ts_ns) {
        if (!r->first_ns || op->ts_ns < r->first_ns)
            r->first_ns = op->ts_ns;
        if (op->ts_ns > r->last_ns)
            r->last_ns = op->ts_ns;
    }
    if (op->has_latency && op->latency_ms >= 0)
        hist_add(&r->latency, (uint64_t)(op->latency_ms * 1e6 + 0.5));
    if (op->queue_wait_ms >= 0)
        hist_add(&r->queue_wait, (uint64_t)(op->queue_wait_ms * 1e6 + 0.5));
    if (op->server_ms >= 0)
        hist_add(&r->server_time, (uint64_t)(op->server_ms * 1e6 + 0.5));
}

static struct stats_row *other_row(struct stats *s, bool method_level)
{
    struct stats_row **slot = method_level ? &s->other_method : &s->other_topic;
    if (!*slot)
        *slot = append_row(s, STATS_OTHER, method_level ? STATS_OTHER : NULL, true);
    return *slot;
}

void stats_add(struct stats *s, const struct op *op)
{
    const char *topic = op->topic ? op->topic : "(none)";
    row_add(&s->total, op);
    struct stats_row *t = get_row(s, topic, NULL);
    if (!t) {
        s->overflow_ops++;
        struct stats_row *o = other_row(s, false);
        if (o)
            row_add(o, op);
        return;
    }
    row_add(t, op);
    if (!op->method)
        return;
    struct stats_row *m = get_row(s, topic, op->method);
    if (!m) {
        s->overflow_ops++;
        m = other_row(s, true);
    }
    if (m)
        row_add(m, op);
}

size_t stats_count(const struct stats *s)
{
    return s->nrows;
}

const struct stats_row *stats_row(const struct stats *s, size_t i)
{
    return i < s->nrows ? s->rows[i] : NULL;
}

const struct stats_row *stats_total(const struct stats *s)
{
    return &s->total;
}

const struct stats_row *stats_find(const struct stats *s, const char *topic, const char *method)
{
    bool found;
    size_t i = probe(s, topic, method, &found);
    return found ? s->rows[s->slots[i] - 1] : NULL;
}

uint64_t stats_overflow_ops(const struct stats *s)
{
    return s->overflow_ops;
}

size_t stats_max_keys(const struct stats *s)
{
    return s->max_keys;
}

double stats_row_rate(const struct stats_row *r)
{
    if (r->ops < 2 || r->last_ns <= r->first_ns)
        return 0.0;
    return (double)(r->ops - 1) / ((double)(r->last_ns - r->first_ns) / 1e9);
}

double stats_row_latency_ms(const struct stats_row *r, double p)
{
    return hist_percentile_ms(&r->latency, p);
}

/* ---- counters ---- */

struct stats_counters {
    uint64_t overflow_ops;
};

static const struct counter_def stats_rows[] = {
    COUNTER_ROW(struct stats_counters, overflow_ops, "stats_overflow_ops", TOTAL,
                COUNTER_REPORT,
                "Operations counted in an (other) row because the topic/method table was full."),
};

static void read_stats_counters(const void *owner, void *out)
{
    struct stats_counters *c = out;
    c->overflow_ops = stats_overflow_ops(owner);
}

bool stats_register_counters(const struct stats *s, struct counters *reg)
{
    return counters_add(reg, stats_rows, sizeof stats_rows / sizeof stats_rows[0],
                        read_stats_counters, s, sizeof(struct stats_counters));
}

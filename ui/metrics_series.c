/*
 * metrics_series.c: the bounded table behind the Prometheus exposition (see
 * metrics_series.h). Rows live in one array allocated at open, found through
 * a chained hash of their three labels; a full table folds its quietest row
 * into "other" (or the new operation, when every row is still busy), so
 * memory is fixed by --metrics-max-series and label cardinality with it.
 * Activity decays with packet time, never the wall clock, so an offline read
 * and a live capture of the same traffic fold the same way.
 */
#include "ui/metrics_series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_bucket_le[METRICS_BUCKETS] = {.001, .0025, .005, .01, .025, .05, .1, .25,
                                                   .5,   1,     2.5,  5,   10,   30,  60};

/* A row gives its place away once its decayed count is below one half: a
 * single operation five minutes ago, or a few long before. So a full table
 * takes at most max_series new label sets per half-life, and Prometheus does
 * not see series churn with every new topic. */
#define ACTIVITY_HALF_LIFE_NS 300e9
#define ACTIVITY_EVICT_BELOW 0.5

struct metrics_series {
    struct metrics_row *rows; /* max rows, the first n in use */
    size_t max, n;
    struct metrics_row other;
    int32_t *heads; /* nbuckets chain heads, -1 = empty */
    size_t nbuckets;
    const struct metrics_row **sorted; /* max + 1 */
    uint64_t now_ns;                   /* newest op time seen */
    struct metrics_series_stats st;
};

static size_t utf8_len(const unsigned char *s)
{
    /* Length of a valid UTF-8 sequence at s (no overlongs, no surrogates), 0 if invalid. */
    unsigned char c = s[0];
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

void metrics_label_copy(char *dst, const char *src)
{
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        size_t n = *s < 0x80 ? 1 : utf8_len(s);
        if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
            n = 1;
            if (o + 1 > METRICS_LABEL_MAX)
                break;
            dst[o++] = '?';
        } else {
            if (o + n > METRICS_LABEL_MAX)
                break;
            memcpy(dst + o, s, n);
            o += n;
        }
        s += n;
    }
    dst[o] = '\0';
}

static uint64_t hash_labels(const char *a, const char *b, const char *c)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* separator: ("ab","c") != ("a","bc") */
    }
    return h;
}

struct metrics_series *metrics_series_new(size_t max_series)
{
    if (max_series < 1 || max_series > METRICS_MAX_SERIES_LIMIT)
        return NULL;
    struct metrics_series *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->max = max_series;
    m->nbuckets = 16;
    while (m->nbuckets < 2 * max_series)
        m->nbuckets *= 2;
    m->rows = calloc(max_series, sizeof *m->rows);
    m->heads = malloc(m->nbuckets * sizeof *m->heads);
    m->sorted = calloc(max_series + 1, sizeof *m->sorted);
    if (!m->rows || !m->heads || !m->sorted) {
        metrics_series_free(m);
        return NULL;
    }
    for (size_t i = 0; i < m->nbuckets; i++)
        m->heads[i] = -1;
    snprintf(m->other.exchange, sizeof m->other.exchange, "other");
    snprintf(m->other.topic, sizeof m->other.topic, "other");
    snprintf(m->other.method, sizeof m->other.method, "other");
    return m;
}

void metrics_series_free(struct metrics_series *m)
{
    if (!m)
        return;
    free(m->rows);
    free(m->heads);
    free(m->sorted);
    free(m);
}

static double activity_at(const struct metrics_row *r, uint64_t now_ns)
{
    if (now_ns <= r->activity_ns)
        return r->activity;
    return r->activity * exp2(-(double)(now_ns - r->activity_ns) / ACTIVITY_HALF_LIFE_NS);
}

static void merge_into(struct metrics_row *dst, const struct metrics_row *src)
{
    for (int t = 0; t < OP_TYPE_COUNT; t++)
        for (int s = 0; s < OP_STATUS_COUNT; s++)
            dst->ops[t][s] += src->ops[t][s];
    for (int v = 0; v < OP_VERDICT_COUNT; v++)
        dst->verdicts[v] += src->verdicts[v];
    for (int k = 0; k < METRICS_HIST_COUNT; k++) {
        for (int b = 0; b <= METRICS_BUCKETS; b++)
            dst->hist[k].bucket[b] += src->hist[k].bucket[b];
        dst->hist[k].count += src->hist[k].count;
        dst->hist[k].sum += src->hist[k].sum;
    }
}

static void unlink_row(struct metrics_series *m, int32_t idx)
{
    struct metrics_row *r = &m->rows[idx];
    size_t b = hash_labels(r->exchange, r->topic, r->method) & (m->nbuckets - 1);
    for (int32_t *link = &m->heads[b]; *link != -1; link = &m->rows[*link].next)
        if (*link == idx) {
            *link = r->next;
            return;
        }
}

/* The row of (exchange, topic, method), made when there is room or a quiet row
 * to fold; NULL when the operation belongs in "other". */
static struct metrics_row *find_or_make(struct metrics_series *m, const char *ex, const char *topic,
                                        const char *method)
{
    if (strcmp(ex, "other") == 0 && strcmp(topic, "other") == 0 && strcmp(method, "other") == 0)
        return NULL; /* the fold row's own labels: one series, never two */
    uint64_t h = hash_labels(ex, topic, method);
    size_t b = h & (m->nbuckets - 1);
    for (int32_t i = m->heads[b]; i != -1; i = m->rows[i].next) {
        struct metrics_row *r = &m->rows[i];
        if (strcmp(r->topic, topic) == 0 && strcmp(r->method, method) == 0 &&
            strcmp(r->exchange, ex) == 0)
            return r;
    }
    int32_t idx;
    if (m->n < m->max) {
        idx = (int32_t)m->n++;
    } else {
        size_t victim = 0;
        double low = INFINITY;
        for (size_t i = 0; i < m->n; i++) {
            double a = activity_at(&m->rows[i], m->now_ns);
            if (a < low) {
                low = a;
                victim = i;
            }
        }
        if (low >= ACTIVITY_EVICT_BELOW)
            return NULL;
        idx = (int32_t)victim;
        unlink_row(m, idx);
        merge_into(&m->other, &m->rows[idx]);
        m->other.used = true;
        m->st.series_evicted++;
    }
    struct metrics_row *r = &m->rows[idx];
    memset(r, 0, sizeof *r);
    memcpy(r->exchange, ex, strlen(ex) + 1);
    memcpy(r->topic, topic, strlen(topic) + 1);
    memcpy(r->method, method, strlen(method) + 1);
    r->used = true;
    r->activity_ns = m->now_ns;
    r->next = m->heads[b];
    m->heads[b] = idx;
    return r;
}

static void observe(struct metrics_hist *h, double seconds)
{
    if (!(seconds >= 0)) /* NaN or negative: not a duration */
        return;
    int b = 0;
    while (b < METRICS_BUCKETS && seconds > metrics_bucket_le[b])
        b++;
    h->bucket[b]++;
    h->count++;
    h->sum += seconds;
}

void metrics_series_add(struct metrics_series *m, const struct op *op)
{
    if (op->ts_ns > m->now_ns)
        m->now_ns = op->ts_ns;
    char ex[METRICS_LABEL_MAX + 1], topic[METRICS_LABEL_MAX + 1], method[METRICS_LABEL_MAX + 1];
    metrics_label_copy(ex, op->exchange);
    metrics_label_copy(topic, op->topic);
    metrics_label_copy(method, op->method);
    struct metrics_row *r = find_or_make(m, ex, topic, method);
    if (!r) {
        r = &m->other;
        r->used = true;
        m->st.ops_folded++;
    } else {
        r->activity = activity_at(r, m->now_ns) + 1.0;
        r->activity_ns = m->now_ns;
    }
    if ((unsigned)op->type < OP_TYPE_COUNT && (unsigned)op->status < OP_STATUS_COUNT)
        r->ops[op->type][op->status]++;
    if (op->verdict != OP_VERDICT_NONE && (unsigned)op->verdict < OP_VERDICT_COUNT)
        r->verdicts[op->verdict]++;
    if (op->type == OP_CALL && op->has_latency)
        observe(&r->hist[METRICS_LATENCY], op->latency_ms / 1e3);
    if (op->queue_wait_ms >= 0)
        observe(&r->hist[METRICS_QUEUE_WAIT], op->queue_wait_ms / 1e3);
    if (op->server_ms >= 0)
        observe(&r->hist[METRICS_SERVER_TIME], op->server_ms / 1e3);
}

static int cmp_rows(const void *a, const void *b)
{
    const struct metrics_row *x = *(const struct metrics_row *const *)a;
    const struct metrics_row *y = *(const struct metrics_row *const *)b;
    int c = strcmp(x->exchange, y->exchange);
    if (c == 0)
        c = strcmp(x->topic, y->topic);
    return c ? c : strcmp(x->method, y->method);
}

size_t metrics_series_sorted(struct metrics_series *m, const struct metrics_row *const **rows)
{
    for (size_t i = 0; i < m->n; i++)
        m->sorted[i] = &m->rows[i];
    qsort(m->sorted, m->n, sizeof *m->sorted, cmp_rows);
    size_t n = m->n;
    if (m->other.used)
        m->sorted[n++] = &m->other;
    *rows = m->sorted;
    return n;
}

void metrics_series_get_stats(const struct metrics_series *m, struct metrics_series_stats *st)
{
    *st = m->st;
    st->series = m->n + (m->other.used ? 1 : 0);
}

static const struct counter_def series_rows[] = {
    COUNTER_ROW(struct metrics_series_stats, series, "metrics_series", GAUGE, 0,
                "Label sets (exchange, topic, method) the metrics keep, \"other\" included."),
    COUNTER_ROW(struct metrics_series_stats, series_evicted, "metrics_series_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Quiet label sets folded into topic=\"other\" to make room "
                "(--metrics-max-series)."),
    COUNTER_ROW(struct metrics_series_stats, ops_folded, "metrics_ops_folded", TOTAL,
                COUNTER_REPORT,
                "Operations counted under topic=\"other\" because every label set was busy."),
};

static void read_series(const void *owner, void *stats)
{
    metrics_series_get_stats(owner, stats);
}

bool metrics_series_register_counters(struct metrics_series *m, struct counters *c)
{
    return counters_add(c, series_rows, sizeof series_rows / sizeof series_rows[0], read_series, m,
                        sizeof(struct metrics_series_stats));
}

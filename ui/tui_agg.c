/*
 * tui_agg.c: the Topics view's snapshot of the shared statistics. Rows
 * mirror dissect/stats.c's rows by index (that table only appends), so a
 * refresh visits each row once and rereads percentiles and the sparkline
 * histogram only where the op count moved; the cost of a frame follows the
 * rows that changed, not the packet rate. An open-addressing hash of
 * "topic\0method" finds a method's topic row and serves tui_agg_find.
 */
#include "ui/tui_agg.h"

#include <stdlib.h>
#include <string.h>

#include "ui/tui_store.h"

struct row {
    struct tui_agg_row pub;
    uint64_t seen_ops; /* stats row ops at the last refresh */
    size_t topic_row;  /* index of the topic's own row (itself for topic rows) */
};

struct tui_agg {
    struct tui_agg_config cfg;
    struct row *rows;
    size_t nrows;
    size_t *hash; /* row index + 1, 0 = empty; hcap slots */
    size_t hcap;
    size_t *order;
    struct tui_agg_stats st;
};

void tui_agg_config_default(struct tui_agg_config *cfg)
{
    cfg->max_rows = STATS_DEFAULT_MAX_KEYS + 2;
}

struct tui_agg *tui_agg_new(const struct tui_agg_config *cfg)
{
    struct tui_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    if (a->cfg.max_rows < 2)
        a->cfg.max_rows = 2;
    a->hcap = 16;
    while (a->hcap < a->cfg.max_rows * 2)
        a->hcap *= 2;
    a->rows = calloc(a->cfg.max_rows, sizeof *a->rows);
    a->hash = calloc(a->hcap, sizeof *a->hash);
    a->order = calloc(a->cfg.max_rows, sizeof *a->order);
    if (!a->rows || !a->hash || !a->order) {
        tui_agg_free(a);
        return NULL;
    }
    return a;
}

void tui_agg_free(struct tui_agg *a)
{
    if (!a)
        return;
    free(a->rows);
    free(a->hash);
    free(a->order);
    free(a);
}

static uint64_t hash_key(const char *topic, const char *method)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = topic; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = method; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

/* The row for (topic, method), created when there is room; NULL when full. */
static struct row *lookup(struct tui_agg *a, const char *topic, const char *method, bool create)
{
    size_t mask = a->hcap - 1;
    for (size_t i = (size_t)hash_key(topic, method) & mask;; i = (i + 1) & mask) {
        if (!a->hash[i]) {
            if (!create || a->nrows == a->cfg.max_rows)
                return NULL;
            struct row *r = &a->rows[a->nrows];
            memset(r, 0, sizeof *r);
            strcpy(r->pub.topic, topic);
            strcpy(r->pub.method, method);
            r->topic_row = a->nrows;
            a->hash[i] = ++a->nrows;
            return r;
        }
        struct row *r = &a->rows[a->hash[i] - 1];
        if (strcmp(r->pub.topic, topic) == 0 && strcmp(r->pub.method, method) == 0)
            return r;
    }
}

unsigned tui_agg_bucket(double ms)
{
    double bound = 0.5;
    for (unsigned b = 0; b < TUI_AGG_BUCKETS - 1; b++, bound *= 2)
        if (ms < bound)
            return b;
    return TUI_AGG_BUCKETS - 1;
}

/* Folds the histogram's octaves into the sparkline's doubling buckets. */
static void fold_hist(const struct hist *h, uint64_t *out)
{
    struct hist_range r[HIST_BLOCKS + 1];
    size_t n = hist_coarse(h, 1, r, sizeof r / sizeof r[0]);
    memset(out, 0, TUI_AGG_BUCKETS * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        double mid_ms = ((double)r[i].lo_ns + (double)r[i].hi_ns) / 2e6;
        out[tui_agg_bucket(mid_ms)] += r[i].count;
    }
}

static void copy_row(struct row *r, const struct stats_row *sr)
{
    struct tui_agg_row *p = &r->pub;
    p->ops = sr->ops;
    p->calls = sr->by_type[OP_CALL];
    p->casts = sr->by_type[OP_CAST] + sr->by_type[OP_FANOUT];
    p->notifications = sr->by_type[OP_NOTIFICATION];
    memcpy(p->by_status, sr->by_status, sizeof p->by_status);
    p->rate = stats_row_rate(sr);
    p->nlat = sr->latency.count;
    if (p->nlat) {
        p->p50 = stats_row_latency_ms(sr, 50);
        p->p90 = stats_row_latency_ms(sr, 90);
        p->p99 = stats_row_latency_ms(sr, 99);
        p->max_ms = (double)sr->latency.max / 1e6;
    }
    fold_hist(&sr->latency, p->hist);
    r->seen_ops = sr->ops;
}

void tui_agg_load(struct tui_agg *a, const struct stats *st)
{
    size_t n = stats_count(st);
    a->st.overflow_ops = stats_overflow_ops(st);
    for (size_t i = 0; i < n; i++) {
        const struct stats_row *sr = stats_row(st, i);
        struct row *r;
        if (i < a->nrows) {
            r = &a->rows[i];
        } else {
            char topic[TUI_AGG_NAME_MAX], method[TUI_AGG_NAME_MAX];
            tui_sanitize(topic, sizeof topic, sr->topic ? sr->topic : "-");
            tui_sanitize(method, sizeof method, sr->method ? sr->method : "");
            if (sr->method && !method[0])
                strcpy(method, "-"); /* an empty method name still is a method row */
            if (a->nrows == a->cfg.max_rows || lookup(a, topic, method, false)) {
                /* full, or two stats rows whose cut names collide: not shown */
                a->st.rows_full = n - i;
                break;
            }
            r = lookup(a, topic, method, true);
            if (method[0]) {
                struct row *t = lookup(a, topic, "", false);
                r->topic_row = t ? (size_t)(t - a->rows) : i;
            }
        }
        if (r->seen_ops != sr->ops || !r->seen_ops)
            copy_row(r, sr);
    }
}

/* qsort has no user pointer, so each item carries its own key and names. */
struct sort_item {
    size_t idx;
    double key;
    const char *name1, *name2;
};

static int cmp_item(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? 1 : -1; /* descending */
    int c = strcmp(a->name1, b->name1);
    return c ? c : strcmp(a->name2, b->name2);
}

static double sort_key(const struct tui_agg_row *r, enum tui_agg_sort key)
{
    switch (key) {
    case TUI_SORT_CALLS:
        return (double)r->calls;
    case TUI_SORT_RATE:
        return r->rate;
    case TUI_SORT_ERRORS:
        return (double)(r->by_status[OP_ERROR] + r->by_status[OP_UNROUTABLE]);
    case TUI_SORT_TIMEOUTS:
        return (double)r->by_status[OP_TIMEOUT];
    case TUI_SORT_P50:
        return r->nlat ? r->p50 : -1;
    case TUI_SORT_P99:
        return r->nlat ? r->p99 : -1;
    case TUI_SORT_MAX:
        return r->nlat ? r->max_ms : -1;
    default:
        return 0; /* by name: every key equal, names decide */
    }
}

void tui_agg_sort(struct tui_agg *a, enum tui_agg_sort key)
{
    struct sort_item *items = malloc(a->nrows * sizeof *items + 1);
    if (!items) {
        /* keep the previous order, which is still a valid permutation */
        a->st.alloc_failures++;
        return;
    }
    /* Topics first: sorted among themselves. */
    size_t nt = 0;
    for (size_t i = 0; i < a->nrows; i++) {
        const struct row *r = &a->rows[i];
        if (r->pub.method[0] && r->topic_row != i)
            continue; /* listed under its topic; a method row without one stands alone */
        items[nt++] = (struct sort_item){i, sort_key(&r->pub, key), r->pub.topic, ""};
    }
    qsort(items, nt, sizeof *items, cmp_item);
    size_t out = 0;
    struct sort_item *methods = items + nt;
    for (size_t t = 0; t < nt; t++) {
        size_t ti = items[t].idx;
        a->order[out++] = ti;
        size_t nm = 0;
        for (size_t i = 0; i < a->nrows; i++) {
            const struct row *r = &a->rows[i];
            if (r->pub.method[0] && r->topic_row == ti && i != ti)
                methods[nm++] = (struct sort_item){i, sort_key(&r->pub, key), r->pub.method, ""};
        }
        qsort(methods, nm, sizeof *methods, cmp_item);
        for (size_t m = 0; m < nm; m++)
            a->order[out++] = methods[m].idx;
    }
    free(items);
}

size_t tui_agg_count(const struct tui_agg *a)
{
    return a->nrows;
}

const struct tui_agg_row *tui_agg_row_at(const struct tui_agg *a, size_t i)
{
    return i < a->nrows ? &a->rows[a->order[i]].pub : NULL;
}

const struct tui_agg_row *tui_agg_find(const struct tui_agg *a, const char *topic,
                                       const char *method)
{
    struct row *r = lookup((struct tui_agg *)a, topic, method ? method : "", false);
    return r ? &r->pub : NULL;
}

void tui_agg_get_stats(const struct tui_agg *a, struct tui_agg_stats *out)
{
    *out = a->st;
    out->rows = a->nrows;
}

const char *tui_agg_sort_name(enum tui_agg_sort key)
{
    static const char *const names[TUI_SORT_COUNT] = {"name", "calls",    "rate", "errors",
                                                      "timeouts", "p50", "p99", "max"};
    return (unsigned)key < TUI_SORT_COUNT ? names[key] : "?";
}

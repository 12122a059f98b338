/*
 * tui_agg.c: per-topic and per-method aggregation for the Topics view.
 * Rows live in one array found through an open-addressing hash of
 * "topic\0method"; each keeps a ring of its most recent latencies, sorted
 * only when the view asks and only for rows that changed, so the cost of a
 * redraw follows the rows touched, not the packet rate.
 */
#include "ui/tui_agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ui/tui_store.h"

struct row {
    struct tui_agg_row pub;
    double *sample; /* ring of sample_cap latencies, allocated on first latency */
    size_t sn, spos;
    bool dirty;
    size_t topic_row; /* index of the topic's own row (itself for topic rows) */
};

struct tui_agg {
    struct tui_agg_config cfg;
    struct row *rows;
    size_t nrows;
    size_t *hash; /* row index + 1, 0 = empty; hcap slots */
    size_t hcap;
    size_t *order;
    double *scratch;
    struct tui_agg_stats st;
};

void tui_agg_config_default(struct tui_agg_config *cfg)
{
    cfg->max_rows = 2048;
    cfg->sample_cap = 1024;
}

struct tui_agg *tui_agg_new(const struct tui_agg_config *cfg)
{
    struct tui_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    if (a->cfg.max_rows < 2)
        a->cfg.max_rows = 2;
    if (a->cfg.sample_cap == 0)
        a->cfg.sample_cap = 1;
    a->hcap = 16;
    while (a->hcap < a->cfg.max_rows * 2)
        a->hcap *= 2;
    a->rows = calloc(a->cfg.max_rows, sizeof *a->rows);
    a->hash = calloc(a->hcap, sizeof *a->hash);
    a->order = calloc(a->cfg.max_rows, sizeof *a->order);
    a->scratch = calloc(a->cfg.sample_cap, sizeof *a->scratch);
    if (!a->rows || !a->hash || !a->order || !a->scratch) {
        tui_agg_free(a);
        return NULL;
    }
    return a;
}

void tui_agg_free(struct tui_agg *a)
{
    if (!a)
        return;
    if (a->rows)
        for (size_t i = 0; i < a->nrows; i++)
            free(a->rows[i].sample);
    free(a->rows);
    free(a->hash);
    free(a->order);
    free(a->scratch);
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

static void count(struct tui_agg *a, struct row *r, const struct op *op)
{
    struct tui_agg_row *p = &r->pub;
    p->ops++;
    if (op->type == OP_CALL)
        p->calls++;
    else if (op->type == OP_NOTIFICATION)
        p->notifications++;
    else
        p->casts++;
    if ((unsigned)op->status < OP_STATUS_COUNT)
        p->by_status[op->status]++;
    if (!p->first_ts || op->ts_ns < p->first_ts)
        p->first_ts = op->ts_ns;
    if (op->ts_ns > p->last_ts)
        p->last_ts = op->ts_ns;
    if (!op->has_latency || !(op->latency_ms >= 0))
        return;
    p->nlat++;
    if (op->latency_ms > p->max_ms)
        p->max_ms = op->latency_ms;
    p->hist[tui_agg_bucket(op->latency_ms)]++;
    if (!r->sample) {
        r->sample = malloc(a->cfg.sample_cap * sizeof *r->sample);
        if (!r->sample) {
            a->st.alloc_failures++;
            return;
        }
    }
    r->sample[r->spos] = op->latency_ms;
    r->spos = (r->spos + 1) % a->cfg.sample_cap;
    if (r->sn < a->cfg.sample_cap)
        r->sn++;
    r->dirty = true;
}

void tui_agg_add(struct tui_agg *a, const struct op *op)
{
    char topic[TUI_AGG_NAME_MAX], method[TUI_AGG_NAME_MAX];
    const char *m = op->type == OP_NOTIFICATION && op->event_type ? op->event_type : op->method;
    tui_sanitize(topic, sizeof topic, op->topic ? op->topic : "-");
    tui_sanitize(method, sizeof method, m ? m : "-");
    if (!method[0])
        strcpy(method, "-");
    a->st.ops++;

    /* The last slot is kept for "(other)", so a full table still counts everything. */
    bool room = a->nrows + 1 < a->cfg.max_rows;
    struct row *t = lookup(a, topic, "", room);
    if (!t) {
        a->st.rows_full++;
        struct row *o = lookup(a, TUI_AGG_OTHER, "", true);
        if (o)
            count(a, o, op);
        return;
    }
    count(a, t, op);
    room = a->nrows + 1 < a->cfg.max_rows;
    struct row *mr = lookup(a, topic, method, room);
    if (!mr) {
        a->st.rows_full++; /* the topic row counted it; its method row has no room */
        return;
    }
    mr->topic_row = (size_t)(t - a->rows);
    count(a, mr, op);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile of a sorted array. */
static double nearest_rank(const double *v, size_t n, double pct)
{
    size_t rank = (size_t)ceil(pct / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static void refresh(struct tui_agg *a, struct row *r)
{
    if (!r->dirty)
        return;
    r->dirty = false;
    memcpy(a->scratch, r->sample, r->sn * sizeof *a->scratch);
    qsort(a->scratch, r->sn, sizeof *a->scratch, cmp_double);
    r->pub.p50 = nearest_rank(a->scratch, r->sn, 50);
    r->pub.p90 = nearest_rank(a->scratch, r->sn, 90);
    r->pub.p99 = nearest_rank(a->scratch, r->sn, 99);
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
        return (double)r->ops;
    case TUI_SORT_RATE: /* same order as ops within one capture, unless topics started late */
        return r->last_ts > r->first_ts ? (double)r->ops * 1e9 / (double)(r->last_ts - r->first_ts)
                                         : (double)r->ops;
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
    for (size_t i = 0; i < a->nrows; i++)
        refresh(a, &a->rows[i]);
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
        if (r->pub.method[0])
            continue;
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
            if (r->pub.method[0] && r->topic_row == ti)
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

double tui_agg_rate(const struct tui_agg_row *r, uint64_t now_ts)
{
    if (!r->ops)
        return 0;
    uint64_t end = now_ts > r->last_ts ? now_ts : r->last_ts;
    double span = (double)(end - r->first_ts) / 1e9;
    return (double)r->ops / (span < 1.0 ? 1.0 : span);
}

void tui_agg_get_stats(const struct tui_agg *a, struct tui_agg_stats *out)
{
    *out = a->st;
    out->rows = a->nrows;
}

const char *tui_agg_sort_name(enum tui_agg_sort key)
{
    static const char *const names[TUI_SORT_COUNT] = {"name", "ops",      "rate", "errors",
                                                      "timeouts", "p50", "p99", "max"};
    return (unsigned)key < TUI_SORT_COUNT ? names[key] : "?";
}

/*
 * report.c: renders the statistics of dissect/stats.h and the pipeline's
 * counters. The report keeps only two bounded lists of its own (the slowest
 * calls and the calls without a reply); everything else is read from the
 * shared statistics, so the report, the TUI and NDJSON always agree.
 */
#include "ui/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "dissect/stats.h"
#include "ui/ndjson.h"
#include "ui/report_clock.h"
#include "ui/report_diag.h"
#include "ui/report_flows.h"
#include "ui/text.h"

#define SLOWEST_MAX 10
#define NOREPLY_MAX 20

struct kept_op {
    uint64_t ts_ns;
    double latency_ms;
    enum op_type type;
    enum op_status status;
    enum op_verdict verdict;
    bool has_latency;
    char target[96], method[64], msg_id[40], request_id[64], client[NETADDR_STRLEN];
};

struct report {
    struct kept_op slowest[SLOWEST_MAX]; /* sorted, slowest first */
    size_t nslowest;
    struct kept_op noreply[NOREPLY_MAX]; /* the earliest calls, in the order they were made */
    size_t nnoreply;
    uint64_t noreply_total;
    uint64_t by_dialect[OP_DIALECT_COUNT]; /* operations seen, per RPC dialect */
    struct report_diag *diag;              /* verdicts, slow parts, processes */
    struct report_clock *clock;            /* latencies across two nodes' clocks */
    struct report_flows *flows;            /* slowest and failed flows (not per interval) */
};

struct report *report_new(void)
{
    struct report *r = calloc(1, sizeof(struct report));
    if (r && (!(r->diag = report_diag_new()) || !(r->clock = report_clock_new()) ||
              !(r->flows = report_flows_new()))) {
        report_diag_free(r->diag);
        free(r);
        return NULL;
    }
    return r;
}

void report_free(struct report *r)
{
    if (r) {
        report_diag_free(r->diag);
        report_clock_free(r->clock);
        report_flows_free(r->flows);
    }
    free(r);
}

static void keep(struct kept_op *k, const struct op *op)
{
    memset(k, 0, sizeof *k);
    k->ts_ns = op->ts_ns;
    k->latency_ms = op->latency_ms;
    k->has_latency = op->has_latency;
    k->type = op->type;
    k->status = op->status;
    k->verdict = op->verdict;
    text_format_target(op, k->target, sizeof k->target);
    snprintf(k->method, sizeof k->method, "%s", op->method ? op->method : "-");
    snprintf(k->msg_id, sizeof k->msg_id, "%s", op->msg_id ? op->msg_id : "-");
    snprintf(k->request_id, sizeof k->request_id, "%s", op->request_id ? op->request_id : "-");
    if (op->client.known)
        netaddr_format(&op->client.addr, k->client, sizeof k->client);
    else
        snprintf(k->client, sizeof k->client, "?");
}

void report_add_op(struct report *r, const struct op *op)
{
    r->by_dialect[op->dialect]++;
    report_diag_add_op(r->diag, op);
    report_clock_add_op(r->clock, op);
    if (op->type != OP_CALL)
        return;
    if (op->status == OP_TIMEOUT || op->status == OP_OPEN || op->status == OP_EVICTED ||
        op->status == OP_UNROUTABLE || op->status == OP_UNKNOWN) {
        /* Kept by when the call was made, not when it was given up on (calls
         * with different timeouts end out of order): an operator reads the
         * list as a timeline. */
        r->noreply_total++;
        size_t pos = r->nnoreply;
        while (pos > 0 && r->noreply[pos - 1].ts_ns > op->ts_ns)
            pos--;
        if (pos < NOREPLY_MAX) {
            size_t n = r->nnoreply < NOREPLY_MAX ? r->nnoreply : NOREPLY_MAX - 1;
            memmove(&r->noreply[pos + 1], &r->noreply[pos], (n - pos) * sizeof r->noreply[0]);
            keep(&r->noreply[pos], op);
            if (r->nnoreply < NOREPLY_MAX)
                r->nnoreply++;
        }
    }
    if (!op->has_latency || (op->status != OP_OK && op->status != OP_ERROR))
        return;
    size_t pos = r->nslowest;
    while (pos > 0 && r->slowest[pos - 1].latency_ms < op->latency_ms)
        pos--;
    if (pos >= SLOWEST_MAX)
        return;
    size_t n = r->nslowest < SLOWEST_MAX ? r->nslowest : SLOWEST_MAX - 1;
    memmove(&r->slowest[pos + 1], &r->slowest[pos], (n - pos) * sizeof r->slowest[0]);
    keep(&r->slowest[pos], op);
    if (r->nslowest < SLOWEST_MAX)
        r->nslowest++;
}

/* ---- shared helpers ---------------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
    const struct stats_row *x = *(const struct stats_row *const *)a;
    const struct stats_row *y = *(const struct stats_row *const *)b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    if (!x->method || !y->method)
        return x->method ? 1 : y->method ? -1 : 0;
    return strcmp(x->method, y->method);
}

/* Rows sorted by topic, each topic row followed by its method rows. */
static const struct stats_row **sorted_rows(const struct stats *s, size_t *n)
{
    *n = stats_count(s);
    const struct stats_row **rows = malloc((*n ? *n : 1) * sizeof *rows);
    if (!rows) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++)
        rows[i] = stats_row(s, i);
    qsort(rows, *n, sizeof *rows, row_cmp);
    return rows;
}

static void fmt_ms(double ms, char *buf, size_t len)
{
    if (ms < 0)
        snprintf(buf, len, "-");
    else if (ms < 1.0)
        snprintf(buf, len, "%.0fµs", ms * 1000.0);
    else if (ms < 1000.0)
        snprintf(buf, len, "%.1fms", ms);
    else
        snprintf(buf, len, "%.2fs", ms / 1000.0);
}

/* printf's widths count bytes; "µs" is two bytes and one column, so pad by hand. */
static void put_col(FILE *out, const char *s, int width, bool left)
{
    int cols = 0;
    for (const char *c = s; *c; c++)
        cols += ((unsigned char)*c & 0xC0) != 0x80;
    if (!left)
        for (int i = cols; i < width; i++)
            fputc(' ', out);
    fputs(s, out);
    if (left)
        for (int i = cols; i < width; i++)
            fputc(' ', out);
}

static uint64_t calls_of(const struct stats_row *r)
{
    return r->by_type[OP_CALL];
}

/* ---- text -------------------------------------------------------------- */

/* Operations per second over the span the report covers (the capture's first
 * to last packet, or the interval), not between a row's first and last
 * operation: 57 notifications in a burst of 1.1 s are not 2016.7/s. */
static double rate_over(const struct stats_row *r, double span_s)
{
    return span_s > 0 ? (double)r->ops / span_s : 0.0;
}

static double span_of(uint64_t first_ns, uint64_t last_ns)
{
    return last_ns > first_ns ? (double)(last_ns - first_ns) / 1e9 : 0;
}

static void text_row(FILE *out, const struct stats_row *r, const char *name, double span_s)
{
    char p50[16], p90[16], p99[16], max[16];
    fmt_ms(hist_percentile_ms(&r->latency, 50), p50, sizeof p50);
    fmt_ms(hist_percentile_ms(&r->latency, 90), p90, sizeof p90);
    fmt_ms(hist_percentile_ms(&r->latency, 99), p99, sizeof p99);
    fmt_ms(r->latency.count ? (double)r->latency.max / 1e6 : -1, max, sizeof max);
    fprintf(out, "%-26.26s %6llu %6llu %7.1f %6llu %5llu %5llu %5llu", name,
            (unsigned long long)r->ops, (unsigned long long)calls_of(r), rate_over(r, span_s),
            (unsigned long long)r->by_status[OP_OK], (unsigned long long)r->by_status[OP_ERROR],
            (unsigned long long)r->by_status[OP_TIMEOUT],
            (unsigned long long)r->by_status[OP_OPEN]);
    const char *cols[] = {p50, p90, p99, max};
    for (int i = 0; i < 4; i++) {
        fputc(' ', out);
        put_col(out, cols[i], 8, false);
    }
    fputc('\n', out);
}

static void text_wait_row(FILE *out, const struct stats_row *r, const char *name)
{
    char v[6][16];
    const struct hist *h[2] = {&r->queue_wait, &r->server_time};
    const double ps[3] = {50, 90, 99};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            fmt_ms(hist_percentile_ms(h[i], ps[j]), v[i * 3 + j], sizeof v[0]);
    fprintf(out, "%-26.26s", name);
    for (int i = 0; i < 6; i++) {
        fputs(i == 3 ? "   " : " ", out);
        put_col(out, v[i], 9, false);
    }
    fputc('\n', out);
}

static void row_name(const struct stats_row *r, char *buf, size_t len)
{
    if (r->method)
        snprintf(buf, len, "  %s", r->method);
    else
        snprintf(buf, len, "%s", r->topic);
}

static void text_histogram(FILE *out, const struct hist *h)
{
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    struct hist_range ranges[64];
    size_t n = hist_coarse(h, 1, ranges, 64);
    uint64_t peak = 0;
    for (size_t i = 0; i < n; i++)
        if (ranges[i].count > peak)
            peak = ranges[i].count;
    if (!peak)
        return;
    fprintf(out, "\nLatency of all calls\n");
    for (size_t i = 0; i < n; i++) {
        char lo[16], hi[16];
        fmt_ms((double)ranges[i].lo_ns / 1e6, lo, sizeof lo);
        fmt_ms((double)ranges[i].hi_ns / 1e6, hi, sizeof hi);
        unsigned eighth_units = (unsigned)(ranges[i].count * 40 * 8 / peak);
        fputs("  ", out);
        put_col(out, lo, 8, false);
        fputs(" - ", out);
        put_col(out, hi, 8, true);
        fprintf(out, " %7llu ", (unsigned long long)ranges[i].count);
        for (unsigned b = 0; b < eighth_units / 8; b++)
            fputs("█", out);
        fputs(eighths[eighth_units % 8], out);
        if (ranges[i].count && eighth_units == 0)
            fputs("▏", out);
        fputc('\n', out);
    }
}

/* with_verdict: the calls without a reply say why (the verdict, docs/json.md). */
static void text_kept(FILE *out, const struct kept_op *k, bool with_verdict)
{
    char when[32], lat[16];
    text_format_time(k->ts_ns, when, sizeof when);
    fmt_ms(k->has_latency ? k->latency_ms : -1, lat, sizeof lat);
    fprintf(out, "  %s %-22.22s %-18.18s %-*s ", when, k->target, k->method, with_verdict ? 10 : 7,
            op_status_name(k->status));
    if (with_verdict) {
        const char *v = op_verdict_name(k->verdict);
        fprintf(out, "%-19s ", v ? v : "-");
    }
    put_col(out, lat, 9, false);
    fprintf(out, " %s %s\n", k->msg_id, k->request_id);
}

/* The counters the report lists: every stage's rows marked COUNTER_REPORT, in
 * one snapshot (malloc'd, *n of them; NULL and 0 when memory is short). */
static struct counter_value *report_counters(const struct counters *reg, size_t *n)
{
    size_t all = counters_count(reg), k = 0;
    struct counter_value *v = malloc((all ? all : 1) * sizeof *v);
    size_t got = v ? counters_snapshot(reg, v, all) : 0;
    for (size_t i = 0; i < got; i++)
        if (v[i].def->flags & COUNTER_REPORT)
            v[k++] = v[i];
    *n = k;
    return v;
}

static void print_text(FILE *out, const struct report *r, const struct report_input *in)
{
    const struct stats *s = in->stats;
    const struct stats_row *t = stats_total(s);
    double span = span_of(in->first_ns, in->last_ns);
    if (in->totals)
        fprintf(out, "oslotrace interval %u (%llu operations since the start)\n", in->interval,
                (unsigned long long)in->totals->ops);
    fprintf(out,
            "oslotrace report: %llu operations (%llu calls, %llu casts, %llu fanouts, "
            "%llu notifications) in %.1f s of capture\n\n",
            (unsigned long long)t->ops, (unsigned long long)t->by_type[OP_CALL],
            (unsigned long long)t->by_type[OP_CAST], (unsigned long long)t->by_type[OP_FANOUT],
            (unsigned long long)t->by_type[OP_NOTIFICATION], span);
    if (r->by_dialect[OP_DIALECT_AMQP])
        fprintf(out, "(%llu of the calls are plain AMQP RPC: reply_to + correlation_id)\n\n",
                (unsigned long long)r->by_dialect[OP_DIALECT_AMQP]);

    size_t nrows;
    const struct stats_row **rows = sorted_rows(s, &nrows);
    char name[128];
    fprintf(out, "%-26s %6s %6s %7s %6s %5s %5s %5s %8s %8s %8s %8s\n", "topic / method", "ops",
            "calls", "rate/s", "ok", "err", "tmo", "open", "p50", "p90", "p99", "max");
    for (size_t i = 0; i < nrows; i++) {
        row_name(rows[i], name, sizeof name);
        text_row(out, rows[i], name, span);
    }
    text_row(out, t, "(all)", span);

    fprintf(out, "\n%-26s %9s %9s %9s   %9s %9s %9s\n", "queue wait / server time", "wait p50",
            "wait p90", "wait p99", "srv p50", "srv p90", "srv p99");
    for (size_t i = 0; i < nrows; i++) {
        if (!rows[i]->queue_wait.count && !rows[i]->server_time.count)
            continue;
        row_name(rows[i], name, sizeof name);
        text_wait_row(out, rows[i], name);
    }
    free(rows);

    text_histogram(out, &t->latency);
    if (r->nslowest) {
        fprintf(out, "\nSlowest calls\n");
        for (size_t i = 0; i < r->nslowest; i++)
            text_kept(out, &r->slowest[i], false);
    }
    if (r->noreply_total) {
        fprintf(out, "\nCalls without a reply: %llu%s\n", (unsigned long long)r->noreply_total,
                r->noreply_total > r->nnoreply ? " (earliest shown)" : "");
        for (size_t i = 0; i < r->nnoreply; i++)
            text_kept(out, &r->noreply[i], true);
    }

    report_diag_text(out, r->diag, s);
    report_clock_text(out, r->clock, in->clock);
    report_flows_text(out, r->flows);

    size_t nc;
    struct counter_value *c = report_counters(in->counters, &nc);
    fprintf(out, "\nCounters\n");
    size_t col = 0;
    for (size_t i = 0; i < nc; i++) {
        col += (size_t)fprintf(out, "  %s %llu", c[i].def->name, (unsigned long long)c[i].value);
        if (col > 70 || i + 1 == nc) {
            fputc('\n', out);
            col = 0;
        }
    }
    free(c);
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *pct_json(const struct hist *h)
{
    if (!h->count)
        return json_null();
    return json_pack("{s:f,s:f,s:f,s:f,s:I}", "p50", hist_percentile_ms(h, 50), "p90",
                     hist_percentile_ms(h, 90), "p99", hist_percentile_ms(h, 99), "max",
                     (double)h->max / 1e6, "count", (json_int_t)h->count);
}

static json_t *row_json(const struct stats_row *r, double span_s)
{
    json_t *j = json_object();
    json_object_set_new(j, "topic", json_string(r->topic));
    if (r->method)
        json_object_set_new(j, "method", json_string(r->method));
    json_object_set_new(j, "ops", json_integer((json_int_t)r->ops));
    json_t *types = json_object(), *status = json_object();
    for (int i = 0; i < OP_TYPE_COUNT; i++)
        json_object_set_new(types, op_type_name((enum op_type)i),
                            json_integer((json_int_t)r->by_type[i]));
    for (int i = 0; i < OP_STATUS_COUNT; i++)
        json_object_set_new(status, op_status_name((enum op_status)i),
                            json_integer((json_int_t)r->by_status[i]));
    json_object_set_new(j, "types", types);
    json_object_set_new(j, "status", status);
    json_object_set_new(j, "rate", json_real(rate_over(r, span_s)));
    json_object_set_new(j, "late_replies", json_integer((json_int_t)r->late_replies));
    json_object_set_new(j, "latency_ms", pct_json(&r->latency));
    json_object_set_new(j, "queue_wait_ms", pct_json(&r->queue_wait));
    json_object_set_new(j, "server_ms", pct_json(&r->server_time));
    return j;
}

static json_t *kept_json(const struct kept_op *k)
{
    const char *v = op_verdict_name(k->verdict);
    return json_pack("{s:f,s:s,s:s,s:s,s:o,s:s,s:s,s:o}", "ts", (double)k->ts_ns / 1e9, "target",
                     k->target, "method", k->method, "status", op_status_name(k->status),
                     "latency_ms", k->has_latency ? json_real(k->latency_ms) : json_null(),
                     "msg_id", k->msg_id, "request_id", k->request_id, "verdict",
                     v ? json_string(v) : json_null());
}

static void print_json(FILE *out, const struct report *r, const struct report_input *in)
{
    const struct stats *s = in->stats;
    double span = span_of(in->first_ns, in->last_ns);
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_integer(1));
    json_object_set_new(doc, "type", json_string(in->totals ? "interval_report" : "report"));
    if (in->totals)
        json_object_set_new(doc, "interval", json_integer(in->interval));
    json_object_set_new(doc, "first_ts", json_real((double)in->first_ns / 1e9));
    json_object_set_new(doc, "last_ts", json_real((double)in->last_ns / 1e9));
    json_object_set_new(doc, "total", row_json(stats_total(s), span));
    if (in->totals)
        json_object_set_new(
            doc, "since_start",
            row_json(in->totals, span_of(in->start_ns ? in->start_ns : in->first_ns, in->last_ns)));
    json_t *dialects = json_object();
    for (int d = 0; d < OP_DIALECT_COUNT; d++)
        json_object_set_new(dialects, op_dialect_name((enum op_dialect)d),
                            json_integer((json_int_t)r->by_dialect[d]));
    json_object_set_new(doc, "by_dialect", dialects);

    size_t nrows;
    const struct stats_row **rows = sorted_rows(s, &nrows);
    json_t *topics = json_array(), *cur = NULL;
    for (size_t i = 0; i < nrows; i++) {
        if (!rows[i]->method) {
            cur = row_json(rows[i], span);
            json_object_set_new(cur, "methods", json_array());
            json_array_append_new(topics, cur);
        } else if (cur) {
            json_array_append_new(json_object_get(cur, "methods"), row_json(rows[i], span));
        }
    }
    free(rows);
    json_object_set_new(doc, "topics", topics);

    json_t *histo = json_array();
    struct hist_range ranges[64];
    size_t nr = hist_coarse(&stats_total(s)->latency, 1, ranges, 64);
    for (size_t i = 0; i < nr; i++)
        json_array_append_new(
            histo, json_pack("{s:f,s:f,s:I}", "lo_ms", (double)ranges[i].lo_ns / 1e6, "hi_ms",
                             (double)ranges[i].hi_ns / 1e6, "count", (json_int_t)ranges[i].count));
    json_object_set_new(doc, "latency_histogram", histo);

    json_t *slow = json_array(), *noreply = json_array();
    for (size_t i = 0; i < r->nslowest; i++)
        json_array_append_new(slow, kept_json(&r->slowest[i]));
    for (size_t i = 0; i < r->nnoreply; i++)
        json_array_append_new(noreply, kept_json(&r->noreply[i]));
    json_object_set_new(doc, "slowest", slow);
    json_object_set_new(doc, "no_reply", noreply);
    json_object_set_new(doc, "no_reply_total", json_integer((json_int_t)r->noreply_total));
    json_t *diag = report_diag_json(r->diag, s);
    if (diag)
        json_object_set_new(doc, "diagnosis", diag);
    json_t *clocks = report_clock_json(r->clock, in->clock);
    if (clocks)
        json_object_set_new(doc, "clocks", clocks);
    json_t *flows = report_flows_json(r->flows);
    if (flows)
        json_object_set_new(doc, "flows", flows);

    size_t nc;
    struct counter_value *c = report_counters(in->counters, &nc);
    json_t *counters = json_object();
    for (size_t i = 0; i < nc; i++)
        json_object_set_new(counters, c[i].def->name, json_integer((json_int_t)c[i].value));
    free(c);
    json_object_set_new(doc, "counters", counters);

    /* %.16g, as the NDJSON records: timestamps keep their microseconds. */
    json_dumpf(doc, out, JSON_INDENT(1) | JSON_REAL_PRECISION(16));
    fputc('\n', out);
    json_decref(doc);
}

void report_print(FILE *out, const struct report *r, const struct report_input *in, bool json)
{
    if (json)
        print_json(out, r, in);
    else
        print_text(out, r, in);
    fflush(out);
}

/* ---- the sink --------------------------------------------------------- */

struct report_sink_state {
    struct sink_env env;
    struct report *r;
    double next_report; /* --report-interval: monotonic time of the next one, 0 = none */
    /* --report-interval: the operations of the current interval alone. */
    struct stats *iv;
    struct report *ivr;
    uint64_t iv_first_ns; /* packet time the interval began (0: the capture's start) */
    unsigned nintervals;
};

static void print_now(struct report_sink_state *st, FILE *out, bool json)
{
    struct report_input in = {.stats = pipeline_stats(st->env.p),
                              .counters = pipeline_counters(st->env.p),
                              .clock = pipeline_clock(st->env.p)};
    pipeline_time_span(st->env.p, &in.first_ns, &in.last_ns);
    report_print(out, st->r, &in, json);
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    if (!env->o->report)
        return NULL;
    struct report_sink_state *st = sink_state_new(sizeof *st, env, err, errlen);
    if (!st)
        return NULL;
    if (!(st->r = report_new())) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* The TUI owns the terminal while it runs: its report comes only at the end. */
    if (env->o->report_interval > 0 && !env->o->tui) {
        st->next_report = clock_mono_s() + env->o->report_interval;
        st->iv = stats_new(0);
        st->ivr = report_new();
        if (!st->iv || !st->ivr) {
            stats_free(st->iv);
            report_free(st->ivr);
            report_free(st->r);
            free(st);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    }
    return st;
}

static void sink_on_op(void *s, const struct op *op)
{
    struct report_sink_state *st = s;
    report_add_op(st->r, op);
    if (st->iv) {
        stats_add(st->iv, op);
        report_add_op(st->ivr, op);
    }
}

/* Where results go: -j operations own stdout, so a report goes to stderr then. */
static FILE *report_out(const struct cli_options *o)
{
    return (o->json || o->amqp) && !o->quiet ? stderr : stdout;
}

static void sink_on_flow(void *s, const struct flow *f)
{
    struct report_sink_state *st = s;
    report_flows_add(st->r->flows, f);
}

static void sink_on_broker_event(void *s, const struct amqp_broker_event *ev)
{
    struct report_sink_state *st = s;
    report_diag_add_broker_event(st->r->diag, ev);
}

static void sink_tick(void *s, double now)
{
    struct report_sink_state *st = s;
    if (!st->next_report || now < st->next_report)
        return;
    st->next_report = clock_mono_s() + st->env.o->report_interval;
    /* The figures of this interval alone, with the totals since the start. */
    struct report_input in = {.stats = st->iv,
                              .counters = pipeline_counters(st->env.p),
                              .totals = stats_total(pipeline_stats(st->env.p)),
                              .interval = ++st->nintervals};
    uint64_t first, last;
    pipeline_time_span(st->env.p, &first, &last);
    in.first_ns = st->iv_first_ns ? st->iv_first_ns : first;
    in.last_ns = last;
    in.start_ns = first;
    report_print(report_out(st->env.o), st->ivr, &in, st->env.o->json);
    st->iv_first_ns = last;
    struct stats *fresh = stats_new(0);
    struct report *fresh_r = report_new();
    if (fresh && fresh_r) {
        stats_free(st->iv);
        report_free(st->ivr);
        st->iv = fresh;
        st->ivr = fresh_r;
    } else {
        stats_free(fresh);
        report_free(fresh_r);
    }
}

static bool sink_finish(void *s)
{
    struct report_sink_state *st = s;
    const struct cli_options *o = st->env.o;
    /* -j operations own stdout; a plain --report -j is the one JSON document there. */
    print_now(st, report_out(o), o->json);
    return true;
}

static void sink_close(void *s)
{
    struct report_sink_state *st = s;
    report_free(st->r);
    report_free(st->ivr);
    stats_free(st->iv);
    free(st);
}

const struct sink report_sink = {
    .name = "report",
    .open = sink_open,
    .on_op = sink_on_op,
    .tick = sink_tick,
    .finish = sink_finish,
    .close = sink_close,
    .on_broker_event = sink_on_broker_event,
    .on_flow = sink_on_flow,
};

/*
 * report_diag.c: the report's diagnosis section (report_diag.h).
 *
 * Per topic/method it reads the shared statistics (dissect/stats.h: calls by
 * verdict and by slow part, latency, queue wait and server time); per process
 * it keeps its own table, bounded at REPORT_DIAG_PROCESSES names (hashed,
 * open addressing) plus one "(other)" row, with a latency histogram of the
 * calls each process made. A process is what op_client_process() and
 * op_server_process() name: "<argv0>:<pid>" for oslo, else the peer address.
 */
#include "ui/report_diag.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/hist.h"
#include "ui/text.h"

#define SLOTS (REPORT_DIAG_PROCESSES * 2)

struct proc_row {
    char name[OP_PROCESS_MAX];
    uint64_t made, served;
    uint64_t verdicts[OP_VERDICT_COUNT]; /* of the calls it made */
    struct hist latency;                 /* of the calls it made */
};

struct broker_row {
    char event[32], kind[12], name[128], text[96], failed[32], process[OP_PROCESS_MAX];
    uint16_t code;
    uint64_t count, first_ns;
};

/* Per client process: connection churn and publisher confirms (broker events
 * connection_churn and publisher_confirms, dissect/amqp_conn.h). */
struct conn_row {
    char process[OP_PROCESS_MAX];
    uint64_t opened, closed, minutes, busiest; /* busiest: opens + closes in one minute */
    uint64_t busiest_minute_ns;
    uint64_t published, acked, nacked, unconfirmed, connections_confirming;
    struct hist confirm; /* publish → ack/nack */
};

/* Per fanout topic: one publish, how many deliveries (op.fanout_receivers). */
struct fanout_row {
    char topic[96];
    uint64_t fanouts, deliveries, max_receivers, min_receivers;
};

struct report_diag {
    struct conn_row conns[REPORT_DIAG_PROCESSES + 1]; /* the last: "(other)" */
    size_t nconns;
    struct fanout_row fanouts[REPORT_DIAG_FANOUTS + 1]; /* the last: "(other)" */
    size_t nfanouts;
    struct broker_row broker[REPORT_DIAG_BROKER];
    size_t nbroker;
    uint64_t broker_total, broker_dropped;
    struct proc_row rows[REPORT_DIAG_PROCESSES + 1]; /* the last: "(other)" */
    size_t nrows;
    int16_t slots[SLOTS]; /* row index + 1, 0 = empty */
    uint64_t calls;
};

struct report_diag *report_diag_new(void)
{
    struct report_diag *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    for (size_t i = 0; i <= REPORT_DIAG_PROCESSES; i++) {
        hist_init(&d->rows[i].latency);
        hist_init(&d->conns[i].confirm);
    }
    snprintf(d->rows[REPORT_DIAG_PROCESSES].name, OP_PROCESS_MAX, "(other)");
    snprintf(d->conns[REPORT_DIAG_PROCESSES].process, OP_PROCESS_MAX, "(other)");
    snprintf(d->fanouts[REPORT_DIAG_FANOUTS].topic, sizeof d->fanouts[0].topic, "(other)");
    return d;
}

void report_diag_free(struct report_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i <= REPORT_DIAG_PROCESSES; i++) {
        hist_free(&d->rows[i].latency);
        hist_free(&d->conns[i].confirm);
    }
    free(d);
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static struct proc_row *row_of(struct report_diag *d, const char *name)
{
    for (uint32_t i = name_hash(name) % SLOTS;; i = (i + 1) % SLOTS) {
        if (!d->slots[i]) {
            if (d->nrows == REPORT_DIAG_PROCESSES)
                return &d->rows[REPORT_DIAG_PROCESSES];
            struct proc_row *r = &d->rows[d->nrows++];
            snprintf(r->name, sizeof r->name, "%s", name);
            d->slots[i] = (int16_t)d->nrows;
            return r;
        }
        struct proc_row *r = &d->rows[d->slots[i] - 1];
        if (!strcmp(r->name, name))
            return r;
    }
}

static void add_fanout(struct report_diag *d, const struct op *op)
{
    const char *t = op->topic ? op->topic : "-";
    struct fanout_row *r = NULL;
    for (size_t i = 0; i < d->nfanouts && !r; i++)
        if (!strncmp(d->fanouts[i].topic, t, sizeof r->topic - 1))
            r = &d->fanouts[i];
    if (!r && d->nfanouts < REPORT_DIAG_FANOUTS) {
        r = &d->fanouts[d->nfanouts++];
        snprintf(r->topic, sizeof r->topic, "%s", t);
    }
    if (!r)
        r = &d->fanouts[REPORT_DIAG_FANOUTS];
    uint64_t n = op->fanout_receivers;
    if (!r->fanouts || n < r->min_receivers)
        r->min_receivers = n;
    if (n > r->max_receivers)
        r->max_receivers = n;
    r->fanouts++;
    r->deliveries += n;
}

void report_diag_add_op(struct report_diag *d, const struct op *op)
{
    if (d && op->type == OP_FANOUT)
        add_fanout(d, op);
    if (!d || op->type != OP_CALL)
        return;
    d->calls++;
    char buf[OP_PROCESS_MAX];
    const char *c = op_client_process(op, buf, sizeof buf);
    if (c) {
        struct proc_row *r = row_of(d, c);
        r->made++;
        if ((unsigned)op->verdict < OP_VERDICT_COUNT)
            r->verdicts[op->verdict]++;
        if (op->has_latency && op->latency_ms >= 0)
            hist_add(&r->latency, (uint64_t)(op->latency_ms * 1e6));
    }
    const char *s = op_server_process(op, buf, sizeof buf);
    if (s)
        row_of(d, s)->served++;
}

static struct conn_row *conn_row_of(struct report_diag *d, const char *process)
{
    for (size_t i = 0; i < d->nconns; i++)
        if (!strcmp(d->conns[i].process, process))
            return &d->conns[i];
    if (d->nconns == REPORT_DIAG_PROCESSES)
        return &d->conns[REPORT_DIAG_PROCESSES];
    struct conn_row *r = &d->conns[d->nconns++];
    snprintf(r->process, sizeof r->process, "%s", process);
    return r;
}

/* The summaries the AMQP stage hands out as events: churn and confirms. */
static bool add_summary(struct report_diag *d, const struct amqp_broker_event *ev)
{
    char buf[OP_PROCESS_MAX];
    if (ev->confirms) {
        struct op o;
        memset(&o, 0, sizeof o);
        if (ev->conn) {
            o.client.known = true;
            o.client.addr = ev->conn->client;
            o.client.connection_name = ev->conn->connection_name;
        }
        const char *p = op_client_process(&o, buf, sizeof buf);
        struct conn_row *r = conn_row_of(d, p ? p : "?");
        r->connections_confirming++;
        r->published += ev->confirms->published;
        r->acked += ev->confirms->acked;
        r->nacked += ev->confirms->nacked;
        r->unconfirmed += ev->unconfirmed;
        hist_merge(&r->confirm, &ev->confirms->latency);
        return true;
    }
    if (!strcmp(ev->event, "connection_churn")) {
        struct conn_row *r = conn_row_of(d, ev->process ? ev->process : "?");
        r->opened += ev->opened;
        r->closed += ev->closed;
        r->minutes++;
        if ((uint64_t)ev->opened + ev->closed > r->busiest) {
            r->busiest = (uint64_t)ev->opened + ev->closed;
            r->busiest_minute_ns = ev->minute_ns;
        }
        return true;
    }
    return false;
}

void report_diag_add_broker_event(struct report_diag *d, const struct amqp_broker_event *ev)
{
    if (!d || add_summary(d, ev))
        return;
    d->broker_total++;
    const char *kind = ev->name_kind ? ev->name_kind : "", *name = ev->name ? ev->name : "";
    for (size_t i = 0; i < d->nbroker; i++) {
        struct broker_row *r = &d->broker[i];
        if (r->code == ev->reply_code && !strcmp(r->event, ev->event) && !strcmp(r->kind, kind) &&
            !strncmp(r->name, name, sizeof r->name - 1)) {
            r->count++;
            return;
        }
    }
    if (d->nbroker == REPORT_DIAG_BROKER) {
        d->broker_dropped++;
        return;
    }
    struct broker_row *r = &d->broker[d->nbroker++];
    memset(r, 0, sizeof *r);
    snprintf(r->event, sizeof r->event, "%s", ev->event);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->failed, sizeof r->failed, "%s", ev->failed_method ? ev->failed_method : "");
    size_t tl = ev->reply_text.len < sizeof r->text - 1 ? ev->reply_text.len : sizeof r->text - 1;
    for (size_t i = 0; i < tl; i++) /* printable ASCII only: it goes to a terminal */
        r->text[i] = ev->reply_text.p[i] >= 0x20 && ev->reply_text.p[i] < 0x7f
                         ? (char)ev->reply_text.p[i]
                         : '?';
    r->code = ev->reply_code;
    r->count = 1;
    r->first_ns = ev->ts_ns;
    struct op o;
    memset(&o, 0, sizeof o);
    if (ev->conn) {
        o.client.known = true;
        o.client.addr = ev->conn->client;
        o.client.connection_name = ev->conn->connection_name;
    }
    const char *p = op_client_process(&o, r->process, sizeof r->process);
    if (!p)
        r->process[0] = '\0';
}

/* Both per-process tables (proc_row, conn_row) are shown the same way: the
 * n rows in use (each size bytes from table) sorted by cmp, then the
 * "(other)" row that took the rest, when given (NULL: it took nothing).
 * out gets pointers into the table, the comparator sees two of them. */
static size_t rows_sorted(const void *table, size_t size, size_t n,
                          int (*cmp)(const void *, const void *), const void *other,
                          const void **out)
{
    const unsigned char *row = table;
    for (size_t i = 0; i < n; i++)
        out[i] = row + i * size;
    qsort(out, n, sizeof *out, cmp);
    if (other)
        out[n++] = other;
    return n;
}

static int name_cmp(const void *a, const void *b)
{
    const struct proc_row *x = *(const void *const *)a, *y = *(const void *const *)b;
    return strcmp(x->name, y->name);
}

/* The rows in use, by name, "(other)" last when used. */
static size_t procs_sorted(const struct report_diag *d, const void **out)
{
    const struct proc_row *o = &d->rows[REPORT_DIAG_PROCESSES];
    return rows_sorted(d->rows, sizeof d->rows[0], d->nrows, name_cmp,
                       o->made || o->served ? o : NULL, out);
}

static void fmt_ms(double ms, char *buf, size_t len)
{
    if (ms < 0)
        snprintf(buf, len, "-");
    else if (ms < 1000.0)
        snprintf(buf, len, "%.1fms", ms);
    else
        snprintf(buf, len, "%.2fs", ms / 1000.0);
}

static void text_verdicts(FILE *out, const uint64_t *v)
{
    const char *sep = "";
    for (int i = 1; i < OP_VERDICT_COUNT; i++) {
        if (!v[i])
            continue;
        fprintf(out, "%s%s %llu", sep, op_verdict_name((enum op_verdict)i),
                (unsigned long long)v[i]);
        sep = ", ";
    }
}

static void text_part(FILE *out, const char *label, const struct stats_row *r, double p)
{
    char l[16], q[16], s[16];
    fmt_ms(r->latency.count ? hist_percentile_ms(&r->latency, p) : -1, l, sizeof l);
    fmt_ms(r->queue_wait.count ? hist_percentile_ms(&r->queue_wait, p) : -1, q, sizeof q);
    fmt_ms(r->server_time.count ? hist_percentile_ms(&r->server_time, p) : -1, s, sizeof s);
    fprintf(out, " %s %s (queue %s, server %s)", label, l, q, s);
}

static void text_broker(FILE *out, const struct report_diag *d)
{
    if (!d->broker_total)
        return;
    fprintf(out, "\nBroker events: %llu%s\n", (unsigned long long)d->broker_total,
            d->broker_dropped ? " (distinct ones beyond the first 64 only counted)" : "");
    for (size_t i = 0; i < d->nbroker; i++) {
        const struct broker_row *r = &d->broker[i];
        fprintf(out, "  %s", r->event);
        if (r->code)
            fprintf(out, " %u %s", r->code, r->text);
        else if (r->text[0])
            fprintf(out, " (%s)", r->text);
        if (r->failed[0])
            fprintf(out, " on %s", r->failed);
        if (r->kind[0])
            fprintf(out, " %s=%s", r->kind, r->name);
        fprintf(out, ": %llu, first to %s\n", (unsigned long long)r->count,
                r->process[0] ? r->process : "?");
    }
}

static int conn_cmp(const void *a, const void *b)
{
    const struct conn_row *x = *(const void *const *)a, *y = *(const void *const *)b;
    return strcmp(x->process, y->process);
}

/* The churn/confirm rows in use, by process, "(other)" last when used. */
static size_t conns_sorted(const struct report_diag *d, const void **out)
{
    const struct conn_row *o = &d->conns[REPORT_DIAG_PROCESSES];
    return rows_sorted(d->conns, sizeof d->conns[0], d->nconns, conn_cmp,
                       o->minutes || o->connections_confirming ? o : NULL, out);
}

static void text_conns(FILE *out, const struct report_diag *d)
{
    const void *rows[REPORT_DIAG_PROCESSES + 1];
    size_t n = conns_sorted(d, rows);
    bool head = false;
    for (size_t i = 0; i < n; i++) {
        const struct conn_row *r = rows[i];
        if (!r->minutes)
            continue;
        if (!head)
            fprintf(out, "\nConnection churn (AMQP connections opened and closed, per client "
                         "process)\n");
        head = true;
        char when[32];
        text_format_time(r->busiest_minute_ns, when, sizeof when);
        when[5] = '\0';
        fprintf(out, "  %s: opened %llu, closed %llu in %llu minute%s; busiest %s with %llu\n",
                r->process, (unsigned long long)r->opened, (unsigned long long)r->closed,
                (unsigned long long)r->minutes, r->minutes == 1 ? "" : "s", when,
                (unsigned long long)r->busiest);
    }
    head = false;
    for (size_t i = 0; i < n; i++) {
        const struct conn_row *r = rows[i];
        if (!r->connections_confirming)
            continue;
        if (!head)
            fprintf(out, "\nPublisher confirms (basic.publish to the broker's basic.ack/nack, per "
                         "client process)\n");
        head = true;
        char p50[16], p99[16], mx[16];
        const struct hist *h = &r->confirm;
        fmt_ms(h->count ? hist_percentile_ms(h, 50) : -1, p50, sizeof p50);
        fmt_ms(h->count ? hist_percentile_ms(h, 99) : -1, p99, sizeof p99);
        fmt_ms(h->count ? (double)h->max / 1e6 : -1, mx, sizeof mx);
        fprintf(out,
                "  %s: %llu connection%s, published %llu, acked %llu, nacked %llu, unconfirmed "
                "%llu; p50 %s, p99 %s, max %s\n",
                r->process, (unsigned long long)r->connections_confirming,
                r->connections_confirming == 1 ? "" : "s", (unsigned long long)r->published,
                (unsigned long long)r->acked, (unsigned long long)r->nacked,
                (unsigned long long)r->unconfirmed, p50, p99, mx);
    }
}

static void text_fanouts(FILE *out, const struct report_diag *d)
{
    const struct fanout_row *o = &d->fanouts[REPORT_DIAG_FANOUTS];
    if (!d->nfanouts)
        return;
    fprintf(out, "\nFanout amplification (one fanout publish, how many deliveries)\n");
    for (size_t i = 0; i <= d->nfanouts; i++) {
        const struct fanout_row *r = i < d->nfanouts ? &d->fanouts[i] : o;
        if (!r->fanouts)
            continue;
        fprintf(out, "  %s: %llu fanout%s, %llu deliveries, %llu to %llu receivers\n", r->topic,
                (unsigned long long)r->fanouts, r->fanouts == 1 ? "" : "s",
                (unsigned long long)r->deliveries, (unsigned long long)r->min_receivers,
                (unsigned long long)r->max_receivers);
    }
}

void report_diag_text(FILE *out, const struct report_diag *d, const struct stats *s)
{
    if (!d)
        return;
    text_broker(out, d);
    text_conns(out, d);
    text_fanouts(out, d);
    if (!d->calls)
        return;
    fprintf(out, "\nDiagnosis: why calls ended, where their time went\n");
    size_t n = stats_count(s);
    for (size_t i = 0; i < n; i++) {
        const struct stats_row *r = stats_row(s, i);
        if (!r->method || !r->by_type[OP_CALL])
            continue;
        fprintf(out, "  %s %s: %llu calls: ", r->topic, r->method,
                (unsigned long long)r->by_type[OP_CALL]);
        text_verdicts(out, r->by_verdict);
        const char *sep = "; slowest part: ";
        for (int k = 1; k < OP_SLOW_COUNT; k++) {
            if (!r->by_slow[k])
                continue;
            fprintf(out, "%s%s %llu", sep, op_slow_name((enum op_slow)k),
                    (unsigned long long)r->by_slow[k]);
            sep = ", ";
        }
        if (r->latency.count) {
            fputc(';', out);
            text_part(out, "p50", r, 50);
            text_part(out, "p99", r, 99);
        }
        fputc('\n', out);
    }
    const void *rows[REPORT_DIAG_PROCESSES + 1];
    size_t np = procs_sorted(d, rows);
    fprintf(out, "\nProcesses (client: calls made; server: calls served)\n");
    for (size_t i = 0; i < np; i++) {
        const struct proc_row *p = rows[i];
        char p99[16];
        fmt_ms(p->latency.count ? hist_percentile_ms(&p->latency, 99) : -1, p99, sizeof p99);
        fprintf(out, "  %s: made %llu, served %llu", p->name, (unsigned long long)p->made,
                (unsigned long long)p->served);
        if (p->made) {
            fprintf(out, ", p99 %s: ", p99);
            text_verdicts(out, p->verdicts);
        }
        fputc('\n', out);
    }
}

static json_t *verdicts_json(const uint64_t *v)
{
    json_t *j = json_object();
    for (int i = 1; i < OP_VERDICT_COUNT; i++)
        if (v[i])
            json_object_set_new(j, op_verdict_name((enum op_verdict)i),
                                json_integer((json_int_t)v[i]));
    return j;
}

static json_t *p50_p99(const struct hist *h)
{
    if (!h->count)
        return json_null();
    return json_pack("{s:f,s:f}", "p50", hist_percentile_ms(h, 50), "p99",
                     hist_percentile_ms(h, 99));
}

static json_t *broker_json(const struct report_diag *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->nbroker; i++) {
        const struct broker_row *r = &d->broker[i];
        bool q = !strcmp(r->kind, "queue"), x = !strcmp(r->kind, "exchange");
        json_array_append_new(
            a, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:f,s:o}", "event", r->event, "reply_code",
                         r->code ? json_integer(r->code) : json_null(), "reply_text",
                         r->text[0] ? json_string(r->text) : json_null(), "failed_method",
                         r->failed[0] ? json_string(r->failed) : json_null(), "queue",
                         q ? json_string(r->name) : json_null(), "exchange",
                         x ? json_string(r->name) : json_null(), "count", (json_int_t)r->count,
                         "first_ts", (double)r->first_ns / 1e9, "first_process",
                         r->process[0] ? json_string(r->process) : json_null()));
    }
    return a;
}

static json_t *ms3(const struct hist *h)
{
    if (!h->count)
        return json_null();
    return json_pack("{s:f,s:f,s:f}", "p50", hist_percentile_ms(h, 50), "p99",
                     hist_percentile_ms(h, 99), "max", (double)h->max / 1e6);
}

static json_t *conns_json(const struct report_diag *d, bool churn)
{
    json_t *a = json_array();
    const void *rows[REPORT_DIAG_PROCESSES + 1];
    size_t n = conns_sorted(d, rows);
    for (size_t i = 0; i < n; i++) {
        const struct conn_row *r = rows[i];
        if (churn && r->minutes)
            json_array_append_new(
                a, json_pack("{s:s,s:I,s:I,s:I,s:I,s:f}", "process", r->process, "opened",
                             (json_int_t)r->opened, "closed", (json_int_t)r->closed, "minutes",
                             (json_int_t)r->minutes, "busiest_minute_count", (json_int_t)r->busiest,
                             "busiest_minute", (double)r->busiest_minute_ns / 1e9));
        else if (!churn && r->connections_confirming)
            json_array_append_new(
                a, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "process", r->process, "connections",
                             (json_int_t)r->connections_confirming, "published",
                             (json_int_t)r->published, "acked", (json_int_t)r->acked, "nacked",
                             (json_int_t)r->nacked, "unconfirmed", (json_int_t)r->unconfirmed,
                             "latency_ms", ms3(&r->confirm)));
    }
    return a;
}

static json_t *fanouts_json(const struct report_diag *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i <= d->nfanouts && d->nfanouts; i++) {
        const struct fanout_row *r =
            i < d->nfanouts ? &d->fanouts[i] : &d->fanouts[REPORT_DIAG_FANOUTS];
        if (r->fanouts)
            json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I,s:I}", "topic", r->topic,
                                               "fanouts", (json_int_t)r->fanouts, "deliveries",
                                               (json_int_t)r->deliveries, "min_receivers",
                                               (json_int_t)r->min_receivers, "max_receivers",
                                               (json_int_t)r->max_receivers));
    }
    return a;
}

json_t *report_diag_json(const struct report_diag *d, const struct stats *s)
{
    if (!d || (!d->calls && !d->broker_total && !d->nconns && !d->nfanouts))
        return NULL;
    json_t *methods = json_array();
    size_t n = stats_count(s);
    for (size_t i = 0; i < n; i++) {
        const struct stats_row *r = stats_row(s, i);
        if (!r->method || !r->by_type[OP_CALL])
            continue;
        json_t *slow = json_object();
        for (int k = 1; k < OP_SLOW_COUNT; k++)
            if (r->by_slow[k])
                json_object_set_new(slow, op_slow_name((enum op_slow)k),
                                    json_integer((json_int_t)r->by_slow[k]));
        json_array_append_new(
            methods, json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o}", "topic", r->topic, "method",
                               r->method, "calls", (json_int_t)r->by_type[OP_CALL], "verdicts",
                               verdicts_json(r->by_verdict), "slow_in", slow, "latency_ms",
                               p50_p99(&r->latency), "queue_wait_ms", p50_p99(&r->queue_wait),
                               "server_ms", p50_p99(&r->server_time)));
    }
    json_t *procs = json_array();
    const void *rows[REPORT_DIAG_PROCESSES + 1];
    size_t np = procs_sorted(d, rows);
    for (size_t i = 0; i < np; i++) {
        const struct proc_row *p = rows[i];
        json_array_append_new(
            procs, json_pack("{s:s,s:I,s:I,s:o,s:o}", "process", p->name, "calls_made",
                             (json_int_t)p->made, "calls_served", (json_int_t)p->served, "p99_ms",
                             p->latency.count ? json_real(hist_percentile_ms(&p->latency, 99))
                                              : json_null(),
                             "verdicts", verdicts_json(p->verdicts)));
    }
    return json_pack("{s:o,s:o,s:o,s:I,s:o,s:o,s:o}", "by_method", methods, "processes", procs,
                     "broker_events", broker_json(d), "broker_events_total",
                     (json_int_t)d->broker_total, "connection_churn", conns_json(d, true),
                     "publisher_confirms", conns_json(d, false), "fanout_amplification",
                     fanouts_json(d));
}

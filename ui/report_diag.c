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

struct report_diag {
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
    for (size_t i = 0; i <= REPORT_DIAG_PROCESSES; i++)
        hist_init(&d->rows[i].latency);
    snprintf(d->rows[REPORT_DIAG_PROCESSES].name, OP_PROCESS_MAX, "(other)");
    return d;
}

void report_diag_free(struct report_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i <= REPORT_DIAG_PROCESSES; i++)
        hist_free(&d->rows[i].latency);
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

void report_diag_add_op(struct report_diag *d, const struct op *op)
{
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

void report_diag_add_broker_event(struct report_diag *d, const struct amqp_broker_event *ev)
{
    if (!d)
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

static int name_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct proc_row *const *)a)->name,
                  (*(const struct proc_row *const *)b)->name);
}

/* The rows in use, by name, "(other)" last when used. */
static size_t sorted(const struct report_diag *d, const struct proc_row **out)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nrows; i++)
        out[n++] = &d->rows[i];
    qsort(out, n, sizeof *out, name_cmp);
    const struct proc_row *o = &d->rows[REPORT_DIAG_PROCESSES];
    if (o->made || o->served)
        out[n++] = o;
    return n;
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

void report_diag_text(FILE *out, const struct report_diag *d, const struct stats *s)
{
    if (!d)
        return;
    text_broker(out, d);
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
    const struct proc_row *rows[REPORT_DIAG_PROCESSES + 1];
    size_t np = sorted(d, rows);
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

json_t *report_diag_json(const struct report_diag *d, const struct stats *s)
{
    if (!d || (!d->calls && !d->broker_total))
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
    const struct proc_row *rows[REPORT_DIAG_PROCESSES + 1];
    size_t np = sorted(d, rows);
    for (size_t i = 0; i < np; i++) {
        const struct proc_row *p = rows[i];
        json_array_append_new(
            procs, json_pack("{s:s,s:I,s:I,s:o,s:o}", "process", p->name, "calls_made",
                             (json_int_t)p->made, "calls_served", (json_int_t)p->served, "p99_ms",
                             p->latency.count ? json_real(hist_percentile_ms(&p->latency, 99))
                                              : json_null(),
                             "verdicts", verdicts_json(p->verdicts)));
    }
    return json_pack("{s:o,s:o,s:o,s:I}", "by_method", methods, "processes", procs, "broker_events",
                     broker_json(d), "broker_events_total", (json_int_t)d->broker_total);
}

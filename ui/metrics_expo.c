/*
 * metrics_expo.c: the Prometheus exposition, written into one buffer.
 *
 * The capture thread calls this at each render (ui/metrics.c); it reads the
 * series table and one snapshot of the counter registry and nothing else, so
 * a stage's new counter reaches Prometheus without a line here. The two
 * formats differ only in details spelled out where they apply: OpenMetrics
 * names a counter family without its _total suffix, types build_info as
 * `info`, writes canonical floats for `le` and ends with `# EOF`.
 */
#include "ui/metrics_expo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_buf.h"
#include "common/real_format.h"

/* Longest `exchange="..",topic="..",method=".."`: three values of
 * METRICS_LABEL_MAX bytes, each at most doubled by escaping, and the names. */
#define METRICS_ROW_LABELS_MAX (6 * METRICS_LABEL_MAX + 64)

struct expo {
    struct jbuf b;
    enum metrics_format f;
};

const char *metrics_expo_content_type(enum metrics_format f)
{
    return f == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                    : "text/plain; version=0.0.4; charset=utf-8";
}

static void put(struct expo *e, const char *s)
{
    jb_lit(&e->b, s);
}

static void putf_u64(struct expo *e, uint64_t v)
{
    char num[24];
    size_t i = sizeof num;
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jb_put(&e->b, num + i, sizeof num - i);
}

/* Label values and HELP text: backslash, newline and (labels, and HELP in
 * OpenMetrics) the double quote are escaped; plain runs are copied whole. */
static void put_escaped(struct expo *e, const char *s, bool quote)
{
    const char *special = quote ? "\\\n\"" : "\\\n";
    for (;;) {
        size_t run = strcspn(s, special);
        jb_put(&e->b, s, run);
        s += run;
        if (!*s)
            return;
        put(e, *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : "\\\"");
        s++;
    }
}

/* # HELP and # TYPE of a family. `family` is the name without _total. */
static void header(struct expo *e, const char *family, bool total, const char *type,
                   const char *help)
{
    bool om = e->f == METRICS_OPENMETRICS;
    put(e, "# HELP ");
    put(e, family);
    if (total && !om)
        put(e, "_total");
    put(e, " ");
    put_escaped(e, help, om);
    put(e, "\n# TYPE ");
    put(e, family);
    if (total && !om)
        put(e, "_total");
    put(e, " ");
    put(e, type);
    put(e, "\n");
}

static void label(struct expo *e, const char *name, const char *value, bool first)
{
    if (!first)
        put(e, ",");
    put(e, name);
    put(e, "=\"");
    put_escaped(e, value, true);
    put(e, "\"");
}

static void series_labels(struct expo *e, const struct metrics_row *r)
{
    label(e, "exchange", r->exchange, true);
    label(e, "topic", r->topic, false);
    label(e, "method", r->method, false);
}

static void le_value(struct expo *e, double le, char *buf, size_t len)
{
    snprintf(buf, len, "%g", le);
    /* OpenMetrics wants canonical floats: 1.0, not 1. */
    if (e->f == METRICS_OPENMETRICS && !strpbrk(buf, ".eE"))
        strncat(buf, ".0", len - strlen(buf) - 1);
}

static void build_info(struct expo *e, const struct metrics_build *build)
{
    bool om = e->f == METRICS_OPENMETRICS;
    const char *help = "Versions of oslotrace and of the libpcap it runs with.";
    header(e, om ? "oslotrace_build" : "oslotrace_build_info", false, om ? "info" : "gauge", help);
    put(e, "oslotrace_build_info{");
    label(e, "version", build->version ? build->version : "", true);
    label(e, "libpcap", build->libpcap ? build->libpcap : "", false);
    put(e, "} 1\n");
}

static void registry(struct expo *e, const struct counters *reg)
{
    size_t n = counters_count(reg);
    struct counter_value *v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        e->b.failed = true;
        return;
    }
    n = counters_snapshot(reg, v, n);
    char family[160];
    for (size_t i = 0; i < n; i++) {
        bool total = v[i].def->kind == COUNTER_TOTAL;
        snprintf(family, sizeof family, "oslotrace_%s", v[i].def->name);
        header(e, family, total, total ? "counter" : "gauge", v[i].def->help);
        put(e, family);
        put(e, total ? "_total " : " ");
        putf_u64(e, v[i].value);
        put(e, "\n");
    }
    free(v);
}

static void operations(struct expo *e, const struct metrics_row *const *rows, size_t n)
{
    header(e, "oslotrace_rpc_operations", true, "counter",
           "RPC operations seen on the wire when they ended, by type (call_type) and status.");
    for (size_t i = 0; i < n; i++)
        for (int t = 0; t < OP_TYPE_COUNT; t++)
            for (int s = 0; s < OP_STATUS_COUNT; s++) {
                if (!rows[i]->ops[t][s])
                    continue;
                put(e, "oslotrace_rpc_operations_total{");
                label(e, "call_type", op_type_name((enum op_type)t), true);
                put(e, ",");
                series_labels(e, rows[i]);
                label(e, "status", op_status_name((enum op_status)s), false);
                put(e, "} ");
                putf_u64(e, rows[i]->ops[t][s]);
                put(e, "\n");
            }
}

static void verdicts(struct expo *e, const struct metrics_row *const *rows, size_t n)
{
    header(e, "oslotrace_rpc_call_verdicts", true, "counter",
           "Calls by why they ended (verdict: ok, remote_error, not_routed, not_delivered, "
           "no_reply, reply_returned, reply_not_delivered, late_reply, unknown).");
    for (size_t i = 0; i < n; i++)
        for (int v = 1; v < OP_VERDICT_COUNT; v++) {
            if (!rows[i]->verdicts[v])
                continue;
            put(e, "oslotrace_rpc_call_verdicts_total{");
            series_labels(e, rows[i]);
            label(e, "verdict", op_verdict_name((enum op_verdict)v), false);
            put(e, "} ");
            putf_u64(e, rows[i]->verdicts[v]);
            put(e, "\n");
        }
}

/* `exchange="..",topic="..",method=".."` of a row, escaped, rendered once and
 * copied into each of its 18 histogram lines. */
static bool row_labels(struct expo *e, const struct metrics_row *r, struct jbuf *out)
{
    struct expo tmp = {.b = *out, .f = e->f};
    tmp.b.len = 0;
    series_labels(&tmp, r);
    *out = tmp.b;
    return !out->failed;
}

static void histogram(struct expo *e, const char *family, const char *help,
                      enum metrics_hist_kind k, const struct metrics_row *const *rows, size_t n)
{
    header(e, family, false, "histogram", help);
    char le[METRICS_BUCKETS][32];
    for (int b = 0; b < METRICS_BUCKETS; b++)
        le_value(e, metrics_bucket_le[b], le[b], sizeof le[b]);
    char sum[REAL_FORMAT_LEN];
    struct jbuf labels = {0};
    for (size_t i = 0; i < n; i++) {
        const struct metrics_hist *h = &rows[i]->hist[k];
        if (!h->count)
            continue;
        if (!row_labels(e, rows[i], &labels)) {
            e->b.failed = true;
            break;
        }
        /* Each bucket line is assembled in one buffer and appended at once:
         * this loop writes 90 % of the exposition. */
        char line[2 * METRICS_ROW_LABELS_MAX];
        int plen =
            snprintf(line, sizeof line, "%s_bucket{%.*s,le=\"", family, (int)labels.len, labels.p);
        if (plen < 0 || (size_t)plen + 64 > sizeof line) {
            e->b.failed = true;
            break;
        }
        uint64_t cum = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++) {
            cum += h->bucket[b];
            size_t o = (size_t)plen;
            const char *lv = b < METRICS_BUCKETS ? le[b] : "+Inf";
            size_t lvn = strlen(lv);
            memcpy(line + o, lv, lvn);
            o += lvn;
            memcpy(line + o, "\"} ", 3);
            o += 3;
            char num[24];
            size_t d = sizeof num;
            uint64_t v = cum;
            do {
                num[--d] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            memcpy(line + o, num + d, sizeof num - d);
            o += sizeof num - d;
            line[o++] = '\n';
            jb_put(&e->b, line, o);
        }
        put(e, family);
        put(e, "_sum{");
        jb_put(&e->b, labels.p, labels.len);
        put(e, "} ");
        real_format_g16(h->sum, sum);
        put(e, sum);
        put(e, "\n");
        put(e, family);
        put(e, "_count{");
        jb_put(&e->b, labels.p, labels.len);
        put(e, "} ");
        putf_u64(e, h->count);
        put(e, "\n");
    }
    free(labels.p);
}

bool metrics_expo_render(enum metrics_format f, const struct metrics_build *build,
                         struct metrics_series *series, const struct counters *reg, char **text,
                         size_t *len)
{
    struct expo e = {.f = f};
    build_info(&e, build);
    if (reg)
        registry(&e, reg);
    const struct metrics_row *const *rows = NULL;
    size_t n = series ? metrics_series_sorted(series, &rows) : 0;
    operations(&e, rows, n);
    verdicts(&e, rows, n);
    histogram(&e, "oslotrace_rpc_call_latency_seconds",
              "Latency of answered calls as the client saw it (request publish to reply "
              "deliver when both legs were captured).",
              METRICS_LATENCY, rows, n);
    histogram(&e, "oslotrace_rpc_queue_wait_seconds",
              "Time a request spent in the broker (request deliver - request publish).",
              METRICS_QUEUE_WAIT, rows, n);
    histogram(&e, "oslotrace_rpc_server_processing_seconds",
              "Time a call spent in its server (reply publish - request deliver).",
              METRICS_SERVER_TIME, rows, n);
    if (f == METRICS_OPENMETRICS)
        put(&e, "# EOF\n");
    return jb_finish(&e.b, text, len);
}

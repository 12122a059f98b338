/*
 * report_flows.c: the report's flows section (report_flows.h). It keeps a
 * summary of each flow it lists, never the flow: the slowest ones in a small
 * sorted array, the failed ones in the order they ended, both bounded.
 */
#include "ui/report_flows.h"

#include <stdlib.h>
#include <string.h>

#include "ui/flow_ladder.h"
#include "ui/text.h"

struct flow_summary {
    uint64_t seq, start_ns;
    double total_ms;
    enum op_status worst;
    size_t nops, nprocs, nids;
    char ids[4][80];  /* the first request ids */
    char first[160];  /* the first op */
    char failed[160]; /* the first op that ended as badly as the flow */
};

struct report_flows {
    uint64_t total, failed_total;
    struct flow_summary slowest[REPORT_FLOWS_SLOWEST];
    size_t nslowest;
    struct flow_summary failed[REPORT_FLOWS_FAILED];
    size_t nfailed;
};

struct report_flows *report_flows_new(void)
{
    return calloc(1, sizeof(struct report_flows));
}

void report_flows_free(struct report_flows *r)
{
    free(r);
}

static bool failed(enum op_status s)
{
    return flow_status_rank(s) >= flow_status_rank(OP_UNROUTABLE);
}

static void summarise(struct flow_summary *s, const struct flow *f)
{
    memset(s, 0, sizeof *s);
    s->seq = f->seq;
    s->start_ns = f->start_ns;
    s->total_ms = flow_total_ms(f);
    s->worst = f->worst;
    s->nops = f->nops;
    s->nprocs = f->nprocs;
    for (size_t i = 0; i < f->nids && s->nids < 4; i++)
        snprintf(s->ids[s->nids++], sizeof s->ids[0], "%s", f->ids[i]);
    if (f->nops)
        flow_op_title(f, 0, s->first, sizeof s->first);
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].status == f->worst && f->worst != OP_OK) {
            flow_op_title(f, i, s->failed, sizeof s->failed);
            break;
        }
}

void report_flows_add(struct report_flows *r, const struct flow *f)
{
    r->total++;
    if (failed(f->worst)) {
        r->failed_total++;
        if (r->nfailed < REPORT_FLOWS_FAILED)
            summarise(&r->failed[r->nfailed++], f);
    }
    double t = flow_total_ms(f);
    size_t at = r->nslowest;
    while (at > 0 && r->slowest[at - 1].total_ms < t)
        at--;
    if (at >= REPORT_FLOWS_SLOWEST)
        return;
    size_t n = r->nslowest < REPORT_FLOWS_SLOWEST ? r->nslowest : REPORT_FLOWS_SLOWEST - 1;
    memmove(&r->slowest[at + 1], &r->slowest[at], (n - at) * sizeof r->slowest[0]);
    summarise(&r->slowest[at], f);
    if (r->nslowest < REPORT_FLOWS_SLOWEST)
        r->nslowest++;
}

static void text_one(FILE *out, const struct flow_summary *s, bool with_failed)
{
    char ts[32];
    text_format_time(s->start_ns, ts, sizeof ts);
    fprintf(out, "  %s %11.3fms %-7s %3zu ops %2zu procs  %s", ts, s->total_ms,
            op_status_name(s->worst), s->nops, s->nprocs, s->ids[0]);
    if (s->nids > 1)
        fprintf(out, " (+%zu)", s->nids - 1);
    fprintf(out, "  %s\n", with_failed && s->failed[0] ? s->failed : s->first);
}

void report_flows_text(FILE *out, const struct report_flows *r)
{
    if (!r || !r->total)
        return;
    fprintf(out,
            "\nSlowest flows (%llu flows: the operations of one request id, across "
            "services; --flow REQ_ID draws one)\n",
            (unsigned long long)r->total);
    for (size_t i = 0; i < r->nslowest; i++)
        text_one(out, &r->slowest[i], false);
    fprintf(out, "\nFlows that ended in an error or a timeout: %llu%s\n",
            (unsigned long long)r->failed_total,
            r->failed_total > r->nfailed ? " (the first shown)" : "");
    for (size_t i = 0; i < r->nfailed; i++)
        text_one(out, &r->failed[i], true);
}

static json_t *one_json(const struct flow_summary *s)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < s->nids; i++)
        json_array_append_new(ids, json_string(s->ids[i]));
    json_t *o = json_object();
    json_object_set_new(o, "flow", json_integer((json_int_t)s->seq));
    json_object_set_new(o, "request_ids", ids);
    json_object_set_new(o, "start", json_real((double)(s->start_ns / 1000u) / 1e6));
    json_object_set_new(o, "total_ms", json_real(s->total_ms));
    json_object_set_new(o, "worst_status", json_string(op_status_name(s->worst)));
    json_object_set_new(o, "ops", json_integer((json_int_t)s->nops));
    json_object_set_new(o, "processes", json_integer((json_int_t)s->nprocs));
    json_object_set_new(o, "first_op", json_string(s->first));
    json_object_set_new(o, "failed_op", s->failed[0] ? json_string(s->failed) : json_null());
    return o;
}

json_t *report_flows_json(const struct report_flows *r)
{
    if (!r || !r->total)
        return NULL;
    json_t *slow = json_array(), *bad = json_array();
    for (size_t i = 0; i < r->nslowest; i++)
        json_array_append_new(slow, one_json(&r->slowest[i]));
    for (size_t i = 0; i < r->nfailed; i++)
        json_array_append_new(bad, one_json(&r->failed[i]));
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)r->total));
    json_object_set_new(o, "slowest", slow);
    json_object_set_new(o, "failed", bad);
    json_object_set_new(o, "failed_total", json_integer((json_int_t)r->failed_total));
    return o;
}

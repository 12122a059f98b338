/*
 * report_clock.c: offsets, uncertainty and warnings for the report (see
 * report_clock.h). A latency measured between legs on two nodes carries the
 * error of both nodes' offsets: per node, the parts of calls that cross it
 * are kept in a histogram, and the node is flagged when its offset's ± is
 * more than REPORT_CLOCK_WARN_SHARE of their median, or not known at all.
 */
#include "ui/report_clock.h"

#include <stdlib.h>

#include "dissect/hist.h"

struct report_clock {
    struct hist cross[ENGINE_MAX_FILES]; /* per node: latency parts that cross its clock */
};

struct report_clock *report_clock_new(void)
{
    struct report_clock *rc = calloc(1, sizeof *rc);
    for (size_t i = 0; rc && i < ENGINE_MAX_FILES; i++)
        hist_init(&rc->cross[i]);
    return rc;
}

void report_clock_add_op(struct report_clock *rc, const struct op *op)
{
    if (!rc || op->type != OP_CALL)
        return;
    for (int l = 0; l + 1 < LEG_COUNT; l++) {
        uint64_t a = op->timeline[l], b = op->timeline[l + 1];
        if (!a || !b || b < a || !op->leg_conn[l] || !op->leg_conn[l + 1])
            continue;
        uint16_t sa = op->leg_source[l], sb = op->leg_source[l + 1];
        if (sa == sb || sa >= ENGINE_MAX_FILES || sb >= ENGINE_MAX_FILES)
            continue;
        hist_add(&rc->cross[sa], b - a);
        hist_add(&rc->cross[sb], b - a);
    }
}

/* The warning for node i, or NULL; buf holds it. */
static const char *warning(const struct report_clock *rc, const struct pipeline_node *n, size_t i,
                           char *buf, size_t len)
{
    const struct hist *h = &rc->cross[i];
    const struct clock_sync_estimate *e = &n->clock;
    if (!h->count || e->how == CLOCK_SYNC_REFERENCE || e->how == CLOCK_SYNC_FIXED)
        return NULL;
    double p50 = hist_percentile_ms(h, 50);
    if (e->half_width_ns < 0) {
        snprintf(buf, len,
                 "%s: clock offset not bounded by the traffic (%s); the %llu latencies across "
                 "it (median %.3f ms) may be off: give --clock-offset",
                 n->name, clock_sync_how_name(e->how), (unsigned long long)h->count, p50);
        return buf;
    }
    double hw = (double)e->half_width_ns / 1e6;
    if (e->inconsistent)
        snprintf(buf, len,
                 "%s: the traffic's clock bounds contradict each other by %.3f ms (drift?); the "
                 "%llu latencies across it (median %.3f ms) may be off",
                 n->name, 2 * hw, (unsigned long long)h->count, p50);
    else if (hw > REPORT_CLOCK_WARN_SHARE * p50)
        snprintf(buf, len,
                 "%s: clock offset uncertain by ±%.3f ms, more than %.0f %% of the median %.3f ms "
                 "of the %llu latencies across it",
                 n->name, hw, REPORT_CLOCK_WARN_SHARE * 100, p50, (unsigned long long)h->count);
    else
        return NULL;
    return buf;
}

void report_clock_text(FILE *out, const struct report_clock *rc, const struct pipeline_clock *pc)
{
    if (!rc || !pc)
        return;
    fprintf(out, "\nClocks (%zu captures, offsets %s)\n", pc->n,
            pc->estimated ? "estimated from the traffic" : "given by hand, or none");
    for (size_t i = 0; i < pc->n; i++) {
        const struct clock_sync_estimate *e = &pc->node[i].clock;
        char unc[48] = "";
        if (e->half_width_ns >= 0 && e->how == CLOCK_SYNC_ESTIMATED)
            snprintf(unc, sizeof unc, " ± %.3f ms", (double)e->half_width_ns / 1e6);
        else if (e->half_width_ns < 0)
            snprintf(unc, sizeof unc, " ± ?");
        fprintf(out, "  %-24s %+10.3f ms%-14s %-10s %llu pairs, %llu cross-node latencies\n",
                pc->node[i].name, (double)e->offset_ns / 1e6, unc, clock_sync_how_name(e->how),
                (unsigned long long)e->pairs, (unsigned long long)rc->cross[i].count);
    }
    char buf[320];
    for (size_t i = 0; i < pc->n; i++) {
        const char *w = warning(rc, &pc->node[i], i, buf, sizeof buf);
        if (w)
            fprintf(out, "  warning: %s\n", w);
    }
}

json_t *report_clock_json(const struct report_clock *rc, const struct pipeline_clock *pc)
{
    if (!rc || !pc)
        return NULL;
    json_t *arr = json_array();
    char buf[320];
    for (size_t i = 0; i < pc->n; i++) {
        const struct clock_sync_estimate *e = &pc->node[i].clock;
        const struct hist *h = &rc->cross[i];
        json_t *j = json_object();
        json_object_set_new(j, "node", json_string(pc->node[i].name));
        json_object_set_new(j, "how", json_string(clock_sync_how_name(e->how)));
        json_object_set_new(j, "offset_ms", json_real((double)e->offset_ns / 1e6));
        json_object_set_new(j, "uncertainty_ms",
                            e->half_width_ns >= 0 ? json_real((double)e->half_width_ns / 1e6)
                                                  : json_null());
        json_object_set_new(j, "inconsistent", json_boolean(e->inconsistent));
        json_object_set_new(j, "pairs", json_integer((json_int_t)e->pairs));
        json_object_set_new(j, "cross_node_latencies", json_integer((json_int_t)h->count));
        json_object_set_new(j, "cross_node_p50_ms",
                            h->count ? json_real(hist_percentile_ms(h, 50)) : json_null());
        const char *w = warning(rc, &pc->node[i], i, buf, sizeof buf);
        json_object_set_new(j, "warning", w ? json_string(w) : json_null());
        json_array_append_new(arr, j);
    }
    return arr;
}

void report_clock_free(struct report_clock *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < ENGINE_MAX_FILES; i++)
        hist_free(&rc->cross[i]);
    free(rc);
}

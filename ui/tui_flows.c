/*
 * tui_flows.c: the Flows view (tui_flows.h): a ring of copies of ended
 * flows, copies of the open ones refreshed while the view is shown, the
 * list and the ladder drawn with curses. The ladder's rows are built once
 * per selected flow (flow_ladder_build) and drawn for the current width, so
 * a resize costs nothing but a redraw.
 */
#include "ui/tui_flows.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/flow_ladder.h"
#include "ui/text.h"
#include "ui/tui_format.h"

struct tui_flows {
    struct flow **ring; /* ended flows, oldest at head */
    size_t max, head, n;
    uint64_t evicted;
    struct flow *open[TUI_FLOWS_OPEN_MAX];
    size_t nopen;
    size_t sel, top;  /* the list */
    uint64_t sel_seq; /* the selected flow (its place moves as flows come) */
    struct flow *order[TUI_FLOWS_MAX + TUI_FLOWS_OPEN_MAX]; /* listed: by start */
    bool order_open[TUI_FLOWS_MAX + TUI_FLOWS_OPEN_MAX];
    size_t norder;
    bool in_ladder;
    uint64_t lad_seq; /* the flow the ladder was built for */
    size_t lad_nops;  /* ... and how many ops it had then (open flows grow) */
    size_t lad_top;
    struct ladder lad;
    struct flow *lad_flow; /* a copy: the ring may evict the original */
};

struct tui_flows *tui_flows_new(size_t max)
{
    struct tui_flows *tf = calloc(1, sizeof *tf);
    if (!tf)
        return NULL;
    tf->max = max ? max : 1;
    tf->ring = calloc(tf->max, sizeof *tf->ring);
    if (!tf->ring) {
        free(tf);
        return NULL;
    }
    return tf;
}

static void drop_ladder(struct tui_flows *tf)
{
    flow_ladder_free(&tf->lad);
    flow_free(tf->lad_flow);
    tf->lad_flow = NULL;
    tf->lad_seq = 0;
}

static void drop_open(struct tui_flows *tf)
{
    for (size_t i = 0; i < tf->nopen; i++)
        flow_free(tf->open[i]);
    tf->nopen = 0;
}

void tui_flows_free(struct tui_flows *tf)
{
    if (!tf)
        return;
    for (size_t i = 0; i < tf->n; i++)
        flow_free(tf->ring[(tf->head + i) % tf->max]);
    free(tf->ring);
    drop_open(tf);
    drop_ladder(tf);
    free(tf);
}

void tui_flows_add(struct tui_flows *tf, const struct flow *f)
{
    struct flow *c = flow_clone(f);
    if (!c) {
        tf->evicted++;
        return;
    }
    if (tf->n == tf->max) {
        flow_free(tf->ring[tf->head]);
        tf->ring[tf->head] = c;
        tf->head = (tf->head + 1) % tf->max;
        tf->evicted++;
        if (tf->sel > 0)
            tf->sel--; /* keep the same flow selected */
        return;
    }
    tf->ring[(tf->head + tf->n++) % tf->max] = c;
}

static void add_open(void *user, const struct flow *f)
{
    struct tui_flows *tf = user;
    if (tf->nopen < TUI_FLOWS_OPEN_MAX) {
        struct flow *c = flow_clone(f);
        if (c)
            tf->open[tf->nopen++] = c;
    }
}

static int cmp_seq(const void *a, const void *b)
{
    const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void tui_flows_refresh_open(struct tui_flows *tf, struct pipeline *p)
{
    drop_open(tf);
    pipeline_foreach_flow(p, TUI_FLOWS_OPEN_MAX, add_open, tf);
    qsort(tf->open, tf->nopen, sizeof tf->open[0], cmp_seq);
}

size_t tui_flows_count(const struct tui_flows *tf)
{
    return (tf->n < TUI_FLOWS_MAX ? tf->n : TUI_FLOWS_MAX) + tf->nopen;
}

uint64_t tui_flows_evicted(const struct tui_flows *tf)
{
    return tf->evicted;
}

static const struct flow *flow_at(const struct tui_flows *tf, size_t i, bool *open)
{
    if (i >= tf->norder)
        return NULL;
    *open = tf->order_open[i];
    return tf->order[i];
}

static int cmp_start(const void *a, const void *b)
{
    const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The list in the order flows began, the selection kept on its flow. */
static void sort_view(struct tui_flows *tf)
{
    size_t n = 0;
    for (size_t i = 0; i < tf->n && n < TUI_FLOWS_MAX; i++)
        tf->order[n++] = tf->ring[(tf->head + i) % tf->max];
    for (size_t i = 0; i < tf->nopen; i++)
        tf->order[n++] = tf->open[i];
    qsort(tf->order, n, sizeof tf->order[0], cmp_start);
    tf->norder = n;
    for (size_t i = 0; i < n; i++) {
        tf->order_open[i] = false;
        for (size_t k = 0; k < tf->nopen; k++)
            if (tf->order[i] == tf->open[k])
                tf->order_open[i] = true;
        if (tf->sel_seq && tf->order[i]->seq == tf->sel_seq)
            tf->sel = i;
    }
}

void tui_flows_move(struct tui_flows *tf, enum tui_flows_move how, long delta)
{
    if (tf->in_ladder) {
        if (how == TUI_FLOWS_HOME)
            tf->lad_top = 0;
        else if (how == TUI_FLOWS_END)
            tf->lad_top = tf->lad.nrows; /* the draw clamps to the last page */
        else if (delta < 0)
            tf->lad_top = (size_t)-delta > tf->lad_top ? 0 : tf->lad_top - (size_t)-delta;
        else
            tf->lad_top += (size_t)delta;
        return;
    }
    size_t n = tui_flows_count(tf);
    if (!n)
        return;
    long s = how == TUI_FLOWS_HOME ? 0 : how == TUI_FLOWS_END ? (long)n - 1 : (long)tf->sel + delta;
    if (s < 0)
        s = 0;
    if (s >= (long)n)
        s = (long)n - 1;
    sort_view(tf);
    tf->sel = (size_t)s;
    tf->sel_seq = tf->sel < tf->norder ? tf->order[tf->sel]->seq : 0;
}

void tui_flows_open(struct tui_flows *tf)
{
    if (tui_flows_count(tf)) {
        tf->in_ladder = true;
        tf->lad_top = 0;
        drop_ladder(tf);
    }
}

bool tui_flows_back(struct tui_flows *tf)
{
    if (!tf->in_ladder)
        return false;
    tf->in_ladder = false;
    drop_ladder(tf);
    return true;
}

bool tui_flows_in_ladder(const struct tui_flows *tf)
{
    return tf->in_ladder;
}

static void put(int y, int width, const char *s, attr_t attr)
{
    char buf[4096];
    if (width <= 0)
        return;
    tui_fit(buf, sizeof buf, s, width, true);
    attron(attr);
    mvaddstr(y, 0, buf);
    attroff(attr);
}

static bool bad(enum op_status s)
{
    return flow_status_rank(s) >= flow_status_rank(OP_UNROUTABLE);
}

/* Widths of the first-operation and services columns: narrow screens keep
 * the first operation readable and leave the services to the svc count. */
static void list_widths(int w, int *fw, int *sw)
{
    *fw = w >= 150 ? 40 : w >= 120 ? 30 : (w - 45 > 20 ? w - 45 : 20);
    *sw = w >= 150 ? 44 : w >= 120 ? 30 : 0;
}

/* The services a flow touched: "api,conductor,scheduler". */
static void services(const struct flow *f, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->nprocs && n + 1 < len; i++) {
        char s[64];
        flow_ladder_short_name(f->procs[i].name, s, sizeof s);
        int k = snprintf(buf + n, len - n, "%s%s", i ? "," : "", s);
        if (k < 0)
            break;
        n += (size_t)k;
    }
}

/* "start  total  worst  ops svc  first operation  services  request id" */
static void list_row(const struct flow *f, bool open, int w, char *buf, size_t len)
{
    char ts[32], first[192] = "-", total[32], svc[256];
    text_format_time(f->start_ns, ts, sizeof ts);
    if (f->nops)
        flow_op_title(f, 0, first, sizeof first);
    double ms = flow_total_ms(f);
    if (ms < 1000)
        snprintf(total, sizeof total, "%.1fms", ms);
    else
        snprintf(total, sizeof total, "%.2fs", ms / 1000);
    services(f, svc, sizeof svc);
    int fw, sw;
    list_widths(w, &fw, &sw);
    int n = snprintf(buf, len, "%-15.15s %9s %-7s %4zu %3zu  %-*.*s", ts, total,
                     open ? "open.." : op_status_name(f->worst), f->nops, f->nprocs, fw, fw,
                     first + (first[0] == '#' ? 3 : 0));
    if (sw && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " %-*.*s %s%s", sw, sw, svc, f->nids ? f->ids[0] : "-",
                 f->nids > 1 ? " (+)" : "");
}

static void draw_list(struct tui_flows *tf, int top, int rows, int w, attr_t bad_attr)
{
    char buf[1024];
    int fw, sw;
    list_widths(w, &fw, &sw);
    int k = snprintf(buf, sizeof buf, "%-15s %9s %-7s %4s %3s  %-*s", "start", "total", "worst",
                     "ops", "svc", fw, "first operation");
    if (sw && k > 0)
        snprintf(buf + k, sizeof buf - (size_t)k, " %-*s %s", sw, "services", "request id");
    put(top, w, buf, A_BOLD | A_UNDERLINE);
    rows--;
    size_t n = tui_flows_count(tf);
    if (!n) {
        put(top + 1, w, "  (no flows yet: operations that carry a request_id)", A_DIM);
        return;
    }
    size_t r = rows > 0 ? (size_t)rows : 1;
    if (tf->sel >= n)
        tf->sel = n - 1;
    if (tf->sel < tf->top)
        tf->top = tf->sel;
    if (tf->sel >= tf->top + r)
        tf->top = tf->sel - r + 1;
    for (int i = 0; i < rows; i++) {
        size_t idx = tf->top + (size_t)i;
        bool open;
        const struct flow *f = flow_at(tf, idx, &open);
        if (!f)
            break;
        list_row(f, open, w, buf, sizeof buf);
        attr_t a = bad(f->worst) ? bad_attr : (open ? A_DIM : 0);
        if (idx == tf->sel)
            a |= A_REVERSE;
        put(top + 1 + i, w, buf, a);
    }
}

static void draw_ladder(struct tui_flows *tf, int top, int rows, int w, attr_t bad_attr)
{
    bool open;
    const struct flow *f = flow_at(tf, tf->sel, &open);
    if (!f) {
        tf->in_ladder = false;
        return;
    }
    /* (re)build when another flow is selected or an open one grew */
    if (!tf->lad_flow || tf->lad_seq != f->seq || tf->lad_nops != f->nops) {
        drop_ladder(tf);
        tf->lad_flow = flow_clone(f);
        if (!tf->lad_flow || !flow_ladder_build(&tf->lad, tf->lad_flow)) {
            put(top, w, "  (out of memory drawing the ladder)", bad_attr);
            return;
        }
        tf->lad_seq = f->seq;
        tf->lad_nops = f->nops;
    }
    char buf[4096], ts[32];
    text_format_time(f->start_ns, ts, sizeof ts);
    snprintf(buf, sizeof buf, "flow %llu %s  %s  %.3fms  %zu ops  %s%s  (Esc: list)",
             (unsigned long long)f->seq, f->nids ? f->ids[0] : "-", ts, flow_total_ms(f), f->nops,
             open ? "still open, worst so far " : "worst ", op_status_name(f->worst));
    put(top, w, buf, A_BOLD | (bad(f->worst) ? bad_attr : 0));
    flow_ladder_header(&tf->lad, w, buf, sizeof buf);
    put(top + 1, w, buf, A_BOLD | A_UNDERLINE);
    int body = rows - 2;
    if (body < 1)
        return;
    size_t n = tf->lad.nrows, b = (size_t)body;
    if (tf->lad_top + b > n)
        tf->lad_top = n > b ? n - b : 0;
    for (int i = 0; i < body; i++) {
        size_t idx = tf->lad_top + (size_t)i;
        if (idx >= n)
            break;
        flow_ladder_line(&tf->lad, idx, w, buf, sizeof buf);
        put(top + 2 + i, w, buf, tf->lad.rows[idx].bad ? bad_attr : 0);
    }
}

void tui_flows_draw(struct tui_flows *tf, int top, int rows, int w, unsigned bad_attr)
{
    sort_view(tf);
    if (tf->in_ladder)
        draw_ladder(tf, top, rows, w, (attr_t)bad_attr);
    if (!tf->in_ladder)
        draw_list(tf, top, rows, w, (attr_t)bad_attr);
}

/*
 * flow_ladder.c: the rows and columns of a flow's ladder and their text
 * (flow_ladder.h). The rows are computed once per flow; a line is drawn for
 * whatever width the caller has, so the TUI redraws on resize and --flow
 * prints at the names' natural width.
 */
#include "ui/flow_ladder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int col_of(struct ladder *l, const char *name)
{
    const char *n = name ? name : "?";
    for (size_t i = 0; i < l->ncols; i++)
        if (!strcmp(l->cols[i], n))
            return (int)i;
    char *c = strdup(n);
    if (!c)
        return 0;
    l->cols[l->ncols] = c;
    return (int)l->ncols++;
}

void flow_op_title(const struct flow *f, size_t i, char *buf, size_t len)
{
    const struct flow_op *o = &f->ops[i];
    const char *what = o->type == OP_NOTIFICATION ? o->event_type : o->method;
    if (o->type == OP_NOTIFICATION)
        snprintf(buf, len, "#%zu notif %s", i + 1, what ? what : "-");
    else if (o->server)
        snprintf(buf, len, "#%zu %s %s.%s %s", i + 1, op_type_name(o->type),
                 o->topic ? o->topic : "-", o->server, what ? what : "-");
    else
        snprintf(buf, len, "#%zu %s %s %s", i + 1, op_type_name(o->type), o->topic ? o->topic : "-",
                 what ? what : "-");
}

static double ms(uint64_t a, uint64_t b)
{
    return b > a ? (double)(b - a) / 1e6 : 0.0;
}

static struct ladder_row *add_row(struct ladder *l, size_t op, enum ladder_leg leg, uint64_t t,
                                  int from, int to)
{
    struct ladder_row *r = &l->rows[l->nrows++];
    memset(r, 0, sizeof *r);
    r->t_ns = t;
    r->op = op;
    r->leg = leg;
    r->from = from;
    r->to = to;
    return r;
}

static void op_rows(struct ladder *l, size_t i)
{
    const struct flow *f = l->f;
    const struct flow_op *o = &f->ops[i];
    int c = col_of(l, o->client), s = col_of(l, o->server_proc);
    char title[160];
    flow_op_title(f, i, title, sizeof title);
    const uint64_t *tl = o->timeline;
    uint64_t pub = tl[LEG_REQUEST_PUBLISH] ? tl[LEG_REQUEST_PUBLISH] : o->ts_ns;
    struct ladder_row *r = add_row(l, i, LADDER_PUBLISH, pub, c, 0);
    int n = snprintf(r->label, sizeof r->label, "%s", title);
    if (o->parent >= 0 && n >= 0 && (size_t)n < sizeof r->label)
        n += snprintf(r->label + n, sizeof r->label - (size_t)n, " <#%d", o->parent + 1);
    if (o->status != OP_OK && o->status != OP_ERROR && o->status != OP_TIMEOUT && n >= 0 &&
        (size_t)n < sizeof r->label) {
        snprintf(r->label + n, sizeof r->label - (size_t)n, " [%s]", op_status_name(o->status));
        r->bad = o->status != OP_OPEN;
    }
    if (tl[LEG_REQUEST_DELIVER]) {
        r = add_row(l, i, LADDER_DELIVER, tl[LEG_REQUEST_DELIVER], 0, s);
        int k = snprintf(r->label, sizeof r->label, "#%zu deliver, queue %.3fms", i + 1,
                         ms(pub, tl[LEG_REQUEST_DELIVER]));
        if (o->type == OP_FANOUT && o->fanout_receivers > 1 && k > 0)
            snprintf(r->label + k, sizeof r->label - (size_t)k, " (%u receivers)",
                     o->fanout_receivers);
    }
    if (o->type != OP_CALL)
        return;
    if (tl[LEG_REPLY_PUBLISH]) {
        r = add_row(l, i, LADDER_REPLY, tl[LEG_REPLY_PUBLISH], s, 0);
        uint64_t from = tl[LEG_REQUEST_DELIVER] ? tl[LEG_REQUEST_DELIVER] : pub;
        if (o->status == OP_ERROR) {
            snprintf(r->label, sizeof r->label, "#%zu ERROR %s, server %.3fms", i + 1,
                     o->error_class ? o->error_class : "(remote error)",
                     ms(from, tl[LEG_REPLY_PUBLISH]));
            r->bad = true;
        } else {
            snprintf(r->label, sizeof r->label, "#%zu reply%s, server %.3fms", i + 1,
                     o->late_reply ? " (late)" : "", ms(from, tl[LEG_REPLY_PUBLISH]));
            r->bad = o->late_reply;
        }
    }
    if (tl[LEG_REPLY_DELIVER]) {
        r = add_row(l, i, LADDER_REPLY_IN, tl[LEG_REPLY_DELIVER], 0, c);
        snprintf(r->label, sizeof r->label, "#%zu reply in, %.3fms in all%s", i + 1,
                 ms(pub, tl[LEG_REPLY_DELIVER]), o->late_reply ? " (after the timeout)" : "");
        r->bad = o->status == OP_ERROR || o->late_reply;
    }
    if (o->status == OP_TIMEOUT) {
        uint64_t t = o->timeout_s > 0 ? pub + (uint64_t)(o->timeout_s * 1e9) : o->end_ns;
        r = add_row(l, i, LADDER_TIMEOUT, t, c, -1);
        snprintf(r->label, sizeof r->label, "#%zu TIMEOUT after %.3fs%s", i + 1,
                 (double)(t - pub) / 1e9, o->late_reply ? ", the reply came late" : "");
        r->bad = true;
    }
}

static int cmp_rows(const void *a, const void *b)
{
    const struct ladder_row *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    if (x->op != y->op)
        return x->op < y->op ? -1 : 1;
    return (int)x->leg - (int)y->leg;
}

bool flow_ladder_build(struct ladder *l, const struct flow *f)
{
    memset(l, 0, sizeof *l);
    l->f = f;
    l->cols = calloc(2 * f->nops + 2, sizeof *l->cols);
    l->rows = calloc(5 * f->nops + 1, sizeof *l->rows);
    if (!l->cols || !l->rows) {
        flow_ladder_free(l);
        return false;
    }
    l->cols[0] = strdup("broker");
    if (!l->cols[0]) {
        flow_ladder_free(l);
        return false;
    }
    l->ncols = 1;
    /* processes in the order they appear: the first op's client first */
    for (size_t i = 0; i < f->nops; i++) {
        col_of(l, f->ops[i].client);
        col_of(l, f->ops[i].server_proc);
    }
    for (size_t i = 0; i < f->nops; i++)
        op_rows(l, i);
    qsort(l->rows, l->nrows, sizeof l->rows[0], cmp_rows);
    return true;
}

void flow_ladder_free(struct ladder *l)
{
    if (l->cols)
        for (size_t i = 0; i < l->ncols; i++)
            free(l->cols[i]);
    free(l->cols);
    free(l->rows);
    memset(l, 0, sizeof *l);
}

int flow_ladder_col_width(const struct ladder *l, int width)
{
    int natural = 8;
    for (size_t i = 0; i < l->ncols; i++) {
        int n = (int)strlen(l->cols[i]) + 2;
        if (n > natural)
            natural = n;
    }
    if (natural > 24)
        natural = 24;
    if (width <= 0 || !l->ncols)
        return natural;
    int avail = (width - FLOW_LADDER_PREFIX - 24) / (int)l->ncols;
    if (avail < 4)
        avail = 4;
    return avail < natural ? avail : natural;
}

void flow_ladder_short_name(const char *name, char *buf, size_t len)
{
    if (!strcmp(name, "broker")) {
        snprintf(buf, len, "mq");
        return;
    }
    const char *end = strchr(name, ':');
    size_t n = end ? (size_t)(end - name) : strlen(name);
    const char *dash = NULL;
    for (const char *p = name; p < name + n; p++)
        if (*p == '-')
            dash = p;
    const char *start = dash && dash + 1 < name + n ? dash + 1 : name;
    snprintf(buf, len, "%.*s", (int)(name + n - start), start);
}

/* Writes s centred in [x, x + w) of line, cut to w - 1. */
static void put_centred(char *line, int x, int w, const char *s)
{
    int n = (int)strlen(s);
    if (n > w - 1)
        n = w - 1;
    if (n <= 0)
        return;
    int at = x + (w - n) / 2;
    memcpy(line + at, s, (size_t)n);
}

static void finish_line(char *line, int used, const char *label, int width, char *buf, size_t len)
{
    while (used > 0 && line[used - 1] == ' ')
        used--;
    line[used] = '\0';
    if (label && *label)
        snprintf(buf, len, "%s  %s", line, label);
    else
        snprintf(buf, len, "%s", line);
    if (width > 0 && (size_t)width < len && (int)strlen(buf) > width)
        buf[width] = '\0';
}

void flow_ladder_header(const struct ladder *l, int width, char *buf, size_t len)
{
    int cw = flow_ladder_col_width(l, width);
    int total = FLOW_LADDER_PREFIX + cw * (int)l->ncols;
    char *line = malloc((size_t)total + 1);
    if (!line) {
        snprintf(buf, len, "(no memory)");
        return;
    }
    memset(line, ' ', (size_t)total);
    memcpy(line, "       +ms   gap ms", 19);
    for (size_t i = 0; i < l->ncols; i++) {
        char shortn[64];
        const char *name = l->cols[i];
        if ((int)strlen(name) > cw - 1) {
            flow_ladder_short_name(name, shortn, sizeof shortn);
            name = shortn;
        }
        put_centred(line, FLOW_LADDER_PREFIX + (int)i * cw, cw, name);
    }
    finish_line(line, total, NULL, width, buf, len);
    free(line);
}

void flow_ladder_line(const struct ladder *l, size_t i, int width, char *buf, size_t len)
{
    const struct ladder_row *r = &l->rows[i];
    int cw = flow_ladder_col_width(l, width);
    int total = FLOW_LADDER_PREFIX + cw * (int)l->ncols;
    char *line = malloc((size_t)total + 1);
    if (!line) {
        snprintf(buf, len, "(no memory)");
        return;
    }
    memset(line, ' ', (size_t)total);
    uint64_t start = l->f->start_ns;
    uint64_t prev = i ? l->rows[i - 1].t_ns : r->t_ns;
    char head[48];
    snprintf(head, sizeof head, "%10.3f %8.3f", ms(start, r->t_ns), ms(prev, r->t_ns));
    memcpy(line, head, strlen(head) < FLOW_LADDER_PREFIX ? strlen(head) : FLOW_LADDER_PREFIX);
    for (size_t c = 0; c < l->ncols; c++)
        line[FLOW_LADDER_PREFIX + (int)c * cw + cw / 2] = '|';
    int xf = FLOW_LADDER_PREFIX + r->from * cw + cw / 2;
    if (r->to < 0) {
        line[xf] = r->bad ? 'X' : '*';
    } else if (r->to != r->from) {
        int xt = FLOW_LADDER_PREFIX + r->to * cw + cw / 2;
        int lo = xf < xt ? xf : xt, hi = xf < xt ? xt : xf;
        for (int x = lo + 1; x < hi; x++)
            line[x] = '-';
        if (xt > xf)
            line[hi - 1] = '>';
        else
            line[lo + 1] = '<';
        if (r->bad)
            line[xf < xt ? lo + 1 : hi - 1] = 'x';
    }
    finish_line(line, total, r->label, width, buf, len);
    free(line);
}

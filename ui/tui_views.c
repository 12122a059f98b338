/*
 * tui_views.c: one frame of the TUI, drawn from the store, the topic
 * aggregation and a counters snapshot. Layout: a title bar (views, follow,
 * pause, filter), the view's table or text, the status line (source,
 * packets, rate, drops, pending, evictions, errors) and a bottom line for
 * prompts, messages and key hints. Every string comes from tui_format.c;
 * this file only places it, colours it and keeps selections on screen.
 */
#include "ui/tui_views.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    PAIR_OK = 1,
    PAIR_ERROR,
    PAIR_WARN,
    PAIR_OPEN,
    PAIR_HEADING,
    PAIR_BAR,
};

void tui_ui_init(struct tui_ui *ui, bool utf8, bool color)
{
    memset(ui, 0, sizeof *ui);
    ui->view = ui->back = TUI_VIEW_CALLS;
    ui->follow = true;
    ui->utf8 = utf8;
    ui->color = color;
    ui->sort = TUI_SORT_NAME;
    ui->order = calloc(1, sizeof *ui->order); /* zeroed: arrival order */
    tui_lines_init(&ui->detail, 200000);
}

void tui_ui_free(struct tui_ui *ui)
{
    tui_lines_free(&ui->detail);
    if (ui->order)
        tui_calls_order_free(ui->order);
    free(ui->order);
    ui->order = NULL;
}

void tui_views_init_colors(void)
{
    use_default_colors();
    init_pair(PAIR_OK, COLOR_GREEN, -1);
    init_pair(PAIR_ERROR, COLOR_RED, -1);
    init_pair(PAIR_WARN, COLOR_YELLOW, -1);
    init_pair(PAIR_OPEN, COLOR_CYAN, -1);
    init_pair(PAIR_HEADING, COLOR_BLUE, -1);
    init_pair(PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
}

static attr_t style_attr(const struct tui_ui *ui, enum tui_style st)
{
    switch (st) {
    case TUI_STYLE_HEADING:
        return A_BOLD | (ui->color ? COLOR_PAIR(PAIR_HEADING) : 0);
    case TUI_STYLE_DIM:
        return A_DIM;
    case TUI_STYLE_OK:
        return ui->color ? COLOR_PAIR(PAIR_OK) : 0;
    case TUI_STYLE_ERROR:
        return ui->color ? COLOR_PAIR(PAIR_ERROR) : A_BOLD;
    case TUI_STYLE_WARN:
        return ui->color ? COLOR_PAIR(PAIR_WARN) : A_BOLD;
    case TUI_STYLE_OPEN:
        return ui->color ? COLOR_PAIR(PAIR_OPEN) : 0;
    default:
        return 0;
    }
}

/* Writes s at (y, x), fitted (and padded) to width columns. */
static void put(int y, int x, int width, const char *s, attr_t attr)
{
    char buf[4096];
    if (width <= 0)
        return;
    tui_fit(buf, sizeof buf, s, width, true);
    attron(attr);
    mvaddstr(y, x, buf);
    attroff(attr);
}

/* text over as many rows as it needs (at most maxrows), broken at blanks;
 * returns the rows used. A word longer than the width is cut, never lost
 * mid-line: the next row goes on from where it stopped. */
static int put_wrapped(int y, int w, int maxrows, const char *text, attr_t attr)
{
    int used = 0;
    const char *p = text;
    int width = w - 2;
    while (*p && used < maxrows && width > 8) {
        size_t len = strlen(p), take = len;
        if ((int)len > width) {
            take = (size_t)width;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take == 0)
                take = (size_t)width;
        }
        char line[4096];
        snprintf(line, sizeof line, "  %.*s", (int)take, p);
        put(y + used, 0, w, line, attr);
        used++;
        p += take;
        while (*p == ' ')
            p++;
    }
    return used;
}

size_t tui_views_calls_count(const struct tui_ui *ui, const struct tui_store *s)
{
    return ui->paused ? tui_store_visible_upto(s, ui->pause_seq) : tui_store_visible(s);
}

size_t tui_views_calls_selected(const struct tui_ui *ui, const struct tui_store *s)
{
    size_t n = tui_views_calls_count(ui, s);
    if (n == 0)
        return 0;
    if (tui_views_calls_sort(ui) != TUI_CSORT_TIME) { /* sorted: no follow, top by default */
        if (!ui->sel_seq)
            return 0;
        size_t i = tui_calls_order_index(ui->order, s, n, ui->sel_seq);
        return i < n ? i : 0;
    }
    if (ui->follow || !ui->sel_seq)
        return n - 1;
    /* the first visible entry at or after the selected one (it may have been evicted) */
    size_t i = tui_store_visible_upto(s, ui->sel_seq - 1);
    return i < n ? i : n - 1;
}

enum tui_calls_sort tui_views_calls_sort(const struct tui_ui *ui)
{
    return ui->order ? ui->order->key : TUI_CSORT_TIME;
}

const struct tui_entry *tui_views_calls_at(const struct tui_ui *ui, const struct tui_store *s,
                                           size_t i)
{
    size_t n = tui_views_calls_count(ui, s);
    if (tui_views_calls_sort(ui) == TUI_CSORT_TIME)
        return i < n ? tui_store_visible_at(s, i) : NULL;
    return tui_calls_order_at(ui->order, s, n, i);
}

/* Keeps sel within [top, top + rows) and the list's bottom filled. */
static void scroll_to(struct tui_list *l, size_t n, int rows)
{
    size_t r = rows > 0 ? (size_t)rows : 1;
    if (n == 0) {
        l->sel = l->top = 0;
        return;
    }
    if (l->sel >= n)
        l->sel = n - 1;
    if (l->sel < l->top)
        l->top = l->sel;
    if (l->sel >= l->top + r)
        l->top = l->sel - r + 1;
    if (l->top + r > n)
        l->top = n > r ? n - r : 0;
}

static void draw_title(const struct tui_ui *ui, const struct tui_store *s, int w)
{
    static const char *const names[TUI_VIEW_COUNT] = {"1 Calls", "2 Detail", "3 Topics", "4 Conns",
                                                      "5 Flows"};
    attr_t bar = ui->color ? COLOR_PAIR(PAIR_BAR) : A_REVERSE;
    put(0, 0, w, "", bar);
    int x = 0;
    put(0, x, 11, " oslotrace ", bar | A_BOLD);
    x += 11;
    for (int v = 0; v < TUI_VIEW_COUNT && x < w; v++) {
        char label[32];
        snprintf(label, sizeof label, " %s ", names[v]);
        int lw = (int)strlen(label);
        put(0, x, lw < w - x ? lw : w - x, label, v == (int)ui->view ? (A_BOLD | A_REVERSE) : bar);
        x += lw;
    }
    char flags[512], filt[300];
    op_filter_describe(tui_store_filter(s), filt, sizeof filt);
    struct tui_store_stats ss;
    tui_store_get_stats(s, &ss);
    /* "/expr" echoes the key that sets the filter and keeps the bar short at 80 columns */
    snprintf(flags, sizeof flags, " %s%s%zu/%zu%s%s", ui->follow ? "FOLLOW " : "",
             ui->paused ? "PAUSED " : "", ss.visible, ss.entries, filt[0] ? "  /" : "", filt);
    if (x < w)
        put(0, x, w - x, flags, bar);
}

static void draw_status(const struct tui_ui *ui, const struct tui_status *st, int y, int w)
{
    char line[768], prog[48] = "";
    if (st->loading && st->progress >= 0)
        snprintf(prog, sizeof prog, " loading %.0f%%", st->progress * 100);
    else if (!st->live)
        snprintf(prog, sizeof prog, " (end)");
    bool narrow = w < 100;
    snprintf(line, sizeof line,
             narrow ? "%s%s|%llu pkts %.0f/s|drop %llu|ops %llu pend %llu|evict %llu|err %llu%s%s"
                    : "%s%s | %llu pkts %.0f/s | drops %llu | ops %llu pending %llu | evicted %llu "
                      "| errors %llu%s%s",
             st->source, prog, (unsigned long long)st->packets, st->pkt_rate,
             (unsigned long long)(st->ps_drop + st->ps_ifdrop), (unsigned long long)st->ops,
             (unsigned long long)st->pending, (unsigned long long)st->evicted,
             (unsigned long long)st->errors, st->error ? " | ERROR: " : "",
             st->error ? st->error : "");
    if (st->broker_events && !st->error) {
        size_t n = strlen(line);
        snprintf(line + n, sizeof line - n, narrow ? "|broker %llu" : " | broker %llu: %s",
                 (unsigned long long)st->broker_events, st->broker_last);
    }
    attr_t attr = ui->color ? COLOR_PAIR(PAIR_BAR) : A_REVERSE;
    put(y, 0, w, line, st->error ? (attr | A_BOLD) : attr);
}

static void draw_bottom(const struct tui_ui *ui, int y, int w)
{
    char line[512];
    if (ui->prompt != TUI_PROMPT_NONE) {
        const char *label = ui->prompt == TUI_PROMPT_FILTER
                                ? "filter (e.g. topic==comp* and latency>100ms): "
                            : ui->prompt == TUI_PROMPT_FIND ? "find (next row holding): "
                                                            : "write packets to: ";
        snprintf(line, sizeof line, "%s%s", label, ui->input);
        put(y, 0, w, line, A_BOLD);
        int cx = tui_text_cols(line);
        move(y, cx < w ? cx : w - 1);
        return;
    }
    if (ui->message[0]) {
        put(y, 0, w, ui->message, ui->message_error ? style_attr(ui, TUI_STYLE_ERROR) : A_BOLD);
        return;
    }
    put(y, 0, w,
        w >= 112 ? "q quit  ? help  Enter detail  Esc back  Tab/1-5 views  / filter  s sort  "
                   "n find  p pause  f follow  w write pcap"
                 : "q quit ?help Enter detail Esc back Tab/1-5 / filter s sort n find p f w",
        A_DIM);
}

static void draw_calls(struct tui_ui *ui, const struct tui_store *s, const struct tui_status *st,
                       int top, int rows, int w)
{
    char buf[4096];
    tui_calls_header(w, tui_views_calls_sort(ui), buf, sizeof buf);
    put(top, 0, w, buf, A_BOLD | A_UNDERLINE);
    rows--;
    if (st->note_always && st->note[0] && rows > 4) { /* the input's error, whole */
        int used = put_wrapped(top + 1, w, 3, st->note, style_attr(ui, TUI_STYLE_ERROR));
        top += used;
        rows -= used;
    }
    /* In follow mode the calls still waiting for their reply sit under the
     * list (up to a third of it), their age growing: the view shows what is
     * stuck now, not only what has ended. */
    size_t nwait = st->waiting && ui->follow && !ui->paused &&
                           tui_views_calls_sort(ui) == TUI_CSORT_TIME
                       ? tui_store_visible(st->waiting)
                       : 0;
    if (nwait > (size_t)rows / 3)
        nwait = (size_t)rows / 3;
    rows -= (int)nwait;
    for (size_t i = 0; i < nwait; i++) {
        size_t total = tui_store_visible(st->waiting);
        const struct tui_entry *e = tui_store_visible_at(st->waiting, total - nwait + i);
        if (!e)
            continue;
        tui_calls_row(e, st->now_ts, w, buf, sizeof buf);
        put(top + 1 + rows + (int)i, 0, w, buf, style_attr(ui, tui_status_style(OP_OPEN)) | A_DIM);
    }
    ui->rows = rows;
    size_t n = tui_views_calls_count(ui, s);
    ui->calls.sel = tui_views_calls_selected(ui, s);
    scroll_to(&ui->calls, n, rows);
    if (n == 0) {
        if (st->note_always && st->note[0])
            return; /* already above */
        if (st->note[0] && op_filter_is_empty(tui_store_filter(s)))
            put_wrapped(top + 1, w, rows, st->note, A_BOLD);
        else
            put(top + 1, 0, w,
                op_filter_is_empty(tui_store_filter(s)) ? "  (no operations yet)"
                                                        : "  (no operation matches the filter)",
                A_DIM);
        return;
    }
    for (int i = 0; i < rows; i++) {
        size_t idx = ui->calls.top + (size_t)i;
        if (idx >= n)
            break;
        const struct tui_entry *e = tui_views_calls_at(ui, s, idx);
        if (!e)
            continue;
        tui_calls_row(e, st->now_ts, w, buf, sizeof buf);
        attr_t attr = style_attr(ui, tui_status_style(e->op.status)); /* ok rows green too */
        if (idx == ui->calls.sel)
            attr |= A_REVERSE;
        put(top + 1 + i, 0, w, buf, attr);
    }
}

void tui_views_prepare_detail(struct tui_ui *ui, const struct tui_store *s, int width)
{
    size_t n = tui_views_calls_count(ui, s);
    const struct tui_entry *e = n ? tui_views_calls_at(ui, s, tui_views_calls_selected(ui, s)) : NULL;
    if (!e)
        return; /* keep what was built: the entry may only have been evicted */
    if (e->seq == ui->detail_seq && width == ui->detail_wrap)
        return;
    if (e->seq != ui->detail_seq)
        ui->detail_top = 0;
    tui_lines_free(&ui->detail);
    tui_lines_init(&ui->detail, 200000);
    tui_detail_build(&ui->detail, e, s, width);
    ui->detail_seq = e->seq;
    ui->detail_wrap = width;
}

static void draw_detail(struct tui_ui *ui, const struct tui_store *s, int top, int rows, int w)
{
    tui_views_prepare_detail(ui, s, w - 1);
    ui->rows = rows;
    if (!ui->detail_seq) {
        put(top + 1, 0, w, "  No operation selected: pick one in the Calls view (1) and press Enter.",
            A_DIM);
        return;
    }
    size_t n = ui->detail.n;
    if (ui->detail_top + (size_t)rows > n)
        ui->detail_top = n > (size_t)rows ? n - (size_t)rows : 0;
    for (int i = 0; i < rows; i++) {
        size_t idx = ui->detail_top + (size_t)i;
        if (idx >= n)
            break;
        put(top + i, 1, w - 1, ui->detail.text[idx], style_attr(ui, ui->detail.style[idx]));
    }
    if (ui->detail.dropped) {
        char more[96];
        snprintf(more, sizeof more, " (%llu more lines not kept) ",
                 (unsigned long long)ui->detail.dropped);
        put(top + rows - 1, w - (int)strlen(more) - 1, (int)strlen(more), more, A_REVERSE);
    }
}

static void draw_topics(struct tui_ui *ui, struct tui_agg *a, const struct tui_status *st, int top,
                        int rows, int w)
{
    char buf[4096];
    tui_agg_sort(a, ui->sort);
    tui_topics_header(w, ui->sort, buf, sizeof buf);
    put(top, 0, w, buf, A_BOLD | A_UNDERLINE);
    rows--;
    ui->rows = rows;
    size_t n = tui_agg_count(a);
    scroll_to(&ui->topics, n, rows);
    if (n == 0) {
        if (st->note[0])
            put_wrapped(top + 1, w, rows, st->note, A_BOLD);
        else
            put(top + 1, 0, w, "  (no operations yet)", A_DIM);
        return;
    }
    for (int i = 0; i < rows; i++) {
        size_t idx = ui->topics.top + (size_t)i;
        const struct tui_agg_row *r = tui_agg_row_at(a, idx);
        if (!r)
            break;
        tui_topics_row(r, ui->sort, w, ui->utf8, buf, sizeof buf);
        attr_t attr = r->method[0] ? 0 : A_BOLD;
        if (r->by_status[OP_ERROR] || r->by_status[OP_TIMEOUT])
            attr |= style_attr(ui, r->by_status[OP_ERROR] ? TUI_STYLE_ERROR : TUI_STYLE_WARN);
        if (idx == ui->topics.sel)
            attr |= A_REVERSE;
        put(top + 1 + i, 0, w, buf, attr);
    }
}

static void draw_conns(struct tui_ui *ui, const struct tui_store *s, int top, int rows, int w)
{
    char buf[4096];
    tui_conns_header(w, buf, sizeof buf);
    put(top, 0, w, buf, A_BOLD | A_UNDERLINE);
    rows--;
    ui->rows = rows;
    size_t n = tui_store_conn_count(s);
    scroll_to(&ui->conns, n, rows);
    if (n == 0) {
        put(top + 1, 0, w, "  (no AMQP connections yet)", A_DIM);
        return;
    }
    for (int i = 0; i < rows; i++) {
        size_t idx = ui->conns.top + (size_t)i;
        const struct tui_conn *c = tui_store_conn_at(s, idx);
        if (!c)
            break;
        tui_conns_row(c, w, buf, sizeof buf);
        attr_t attr = c->closed ? A_DIM : 0;
        if (c->info.resyncs || c->info.gaps || c->info.malformed)
            attr |= style_attr(ui, TUI_STYLE_WARN);
        if (idx == ui->conns.sel)
            attr |= A_REVERSE;
        put(top + 1 + i, 0, w, buf, attr);
    }
}

static void draw_help(const struct tui_ui *ui, int h, int w)
{
    static const char *const lines[] = {
        "Keys",
        "",
        "  Up/Down, j/k     move the selection",
        "  PgUp/PgDn        one page",
        "  Home/End         first / last (End resumes follow)",
        "  Enter            Calls: detail  Topics: that topic's calls  Flows: ladder",
        "  Esc              back (closes help, prompts, detail)",
        "  Tab, 1-5         Calls, Detail, Topics, Connections, Flows",
        "  5, F             Flows: each request across services; Enter: its ladder",
        "  /                filter: topic=compute status=error latency>100 req=...",
        "  s                Calls: sort by latency, status, topic, method",
        "                   Topics (and elsewhere): next sort column",
        "  n                find the next row holding a text",
        "  p                pause the display (capture continues)",
        "  f                follow the newest operation",
        "  w                write the selected operation's packets to a pcap",
        "  ?                this help",
        "  q                quit",
        "",
        "Any key closes this help.",
    };
    int n = (int)(sizeof lines / sizeof lines[0]);
    int bw = w - 4 < 72 ? w - 4 : 72;
    int bh = h - 2 < n + 2 ? h - 2 : n + 2;
    if (bw < 20 || bh < 3)
        return;
    int y0 = (h - bh) / 2, x0 = (w - bw) / 2;
    for (int y = 0; y < bh; y++)
        put(y0 + y, x0, bw, "", A_REVERSE);
    for (int i = 0; i < n && i < bh - 2; i++)
        put(y0 + 1 + i, x0 + 2, bw - 4, lines[i], A_REVERSE | (i == 0 ? A_BOLD : 0));
    (void)ui;
}

void tui_views_draw(struct tui_ui *ui, const struct tui_store *s, struct tui_agg *a,
                    const struct tui_status *st)
{
    int h, w;
    getmaxyx(stdscr, h, w);
    erase();
    if (h < 6 || w < 30) {
        put(0, 0, w, "terminal too small", A_BOLD);
        refresh();
        return;
    }
    draw_title(ui, s, w);
    int top = 1, rows = h - 3;
    switch (ui->view) {
    case TUI_VIEW_CALLS:
        draw_calls(ui, s, st, top, rows, w);
        break;
    case TUI_VIEW_DETAIL:
        draw_detail(ui, s, top, rows, w);
        break;
    case TUI_VIEW_TOPICS:
        draw_topics(ui, a, st, top, rows, w);
        break;
    case TUI_VIEW_FLOWS:
        ui->rows = rows - 2;
        if (st->flows)
            tui_flows_draw(st->flows, top, rows, w, (unsigned)style_attr(ui, TUI_STYLE_ERROR));
        break;
    default:
        draw_conns(ui, s, top, rows, w);
        break;
    }
    draw_status(ui, st, h - 2, w);
    if (ui->help)
        draw_help(ui, h, w);
    draw_bottom(ui, h - 1, w);
    curs_set(ui->prompt != TUI_PROMPT_NONE ? 1 : 0);
    refresh();
}

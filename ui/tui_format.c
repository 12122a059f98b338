/*
 * tui_format.c: every string the TUI shows, built without curses. Views
 * are tables of columns that hide by priority when the terminal narrows
 * (down to 80 columns) and share the spare width among flexible columns;
 * cells are measured in terminal columns (wcwidth), not bytes, so UTF-8
 * topics and payloads line up. The Detail view is built once per opening
 * (JSON is parsed and indented only then) into a bounded list of lines.
 */
#include "ui/tui_format.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui/text.h"

/* ---- lines ---- */

void tui_lines_init(struct tui_lines *l, size_t max)
{
    memset(l, 0, sizeof *l);
    l->max = max;
}

void tui_lines_free(struct tui_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->text[i]);
    free(l->text);
    free(l->style);
    memset(l, 0, sizeof *l);
}

static void push_line(struct tui_lines *l, enum tui_style st, const char *s, size_t len)
{
    if (l->n >= l->max) {
        l->dropped++;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **t = realloc(l->text, cap * sizeof *t);
        if (!t) {
            l->dropped++;
            return;
        }
        l->text = t;
        unsigned char *y = realloc(l->style, cap);
        if (!y) {
            l->dropped++;
            return;
        }
        l->style = y;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        l->dropped++;
        return;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->text[l->n] = copy;
    l->style[l->n] = (unsigned char)st;
    l->n++;
}

/* Decodes one UTF-8 character of sanitized text; returns its byte length. */
static size_t next_char(const char *s, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = (p[0] & 0xe0) == 0xc0   ? 2
               : (p[0] & 0xf0) == 0xe0 ? 3
               : (p[0] & 0xf8) == 0xf0 ? 4
                                       : 1;
    uint32_t v = n == 2 ? p[0] & 0x1fu : n == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) { /* not sanitized: take the byte alone */
            *cp = '?';
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3fu);
    }
    *cp = n == 1 ? '?' : v;
    return n;
}

static int char_cols(uint32_t cp)
{
    if (cp < 0x80)
        return 1;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

static bool utf8_locale(void)
{
    return MB_CUR_MAX > 1;
}

int tui_text_cols(const char *s)
{
    int cols = 0;
    while (*s) {
        uint32_t cp;
        s += next_char(s, &cp);
        cols += char_cols(cp);
    }
    return cols;
}

/* Columns of the first n bytes of s. */
static int tui_text_cols_n(const char *s, size_t n)
{
    int cols = 0;
    const char *e = s + n;
    while (s < e && *s) {
        uint32_t cp;
        s += next_char(s, &cp);
        cols += char_cols(cp);
    }
    return cols;
}

void tui_lines_add(struct tui_lines *l, enum tui_style st, int wrap, const char *fmt, ...)
{
    char raw[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    char clean[2048];
    tui_sanitize(clean, sizeof clean, raw);
    if (wrap <= 0) {
        push_line(l, st, clean, strlen(clean));
        return;
    }
    /* Continuation lines are indented so a wrapped value reads as one. */
    static const char indent[] = "    ";
    int cont = wrap > 20 ? (int)sizeof indent - 1 : 0;
    const char *p = clean;
    bool first = true;
    do {
        const char *start = p;
        int room = first ? wrap : wrap - cont;
        int cols = 0;
        while (*p) {
            uint32_t cp;
            size_t n = next_char(p, &cp);
            int w = char_cols(cp);
            if (cols + w > room)
                break;
            cols += w;
            p += n;
        }
        if (p == start && *p) { /* a character wider than the wrap: take it anyway */
            uint32_t cp;
            p += next_char(p, &cp);
        }
        /* Break at the last blank that fits rather than inside a word, an
         * address or a leg name; a token longer than two thirds of the line
         * is cut where the line ends, as before. */
        const char *end = p;
        if (*p && *p != ' ') {
            const char *blank = NULL;
            for (const char *q = p; q > start; q--)
                if (q[-1] == ' ') {
                    blank = q - 1;
                    break;
                }
            if (blank && tui_text_cols_n(start, (size_t)(blank - start)) >= room / 3) {
                end = blank;
                p = blank;
            }
        }
        if (first || !cont) {
            push_line(l, st, start, (size_t)(end - start));
        } else {
            char line[sizeof clean + sizeof indent];
            int n = snprintf(line, sizeof line, "%s%.*s", indent, (int)(end - start), start);
            push_line(l, st, line, n > 0 ? (size_t)n : 0);
        }
        while (*p == ' ') /* the blank the line broke at does not start the next */
            p++;
        first = false;
    } while (*p);
}

/* ---- cells ---- */

int tui_fit(char *dst, size_t cap, const char *src, int cols, bool pad)
{
    bool utf8 = utf8_locale();
    size_t o = 0;
    int used = 0;
    if (cap == 0)
        return 0;
    if (cols < 0)
        cols = 0;
    int total = tui_text_cols(src);
    bool cut = total > cols;
    int room = cut ? cols - 1 : cols; /* one column for the cut mark */
    const char *p = src;
    while (*p) {
        uint32_t cp;
        size_t n = next_char(p, &cp);
        int w = utf8 ? char_cols(cp) : 1;
        if (used + w > room)
            break;
        if (!utf8 && cp >= 0x80) {
            if (o + 1 >= cap)
                break;
            dst[o++] = '?';
        } else {
            if (o + n >= cap)
                break;
            memcpy(dst + o, p, n);
            o += n;
        }
        used += w;
        p += n;
    }
    if (cut && cols > 0) {
        const char *mark = utf8 ? "\xe2\x80\xa6" : "~";
        size_t ml = strlen(mark);
        if (o + ml < cap) {
            memcpy(dst + o, mark, ml);
            o += ml;
            used++;
        }
    }
    while (pad && used < cols && o + 1 < cap) {
        dst[o++] = ' ';
        used++;
    }
    dst[o] = '\0';
    return used;
}

void tui_format_ms(double ms, char *buf, size_t len)
{
    if (!(ms >= 0))
        snprintf(buf, len, "-");
    else if (ms < 10)
        snprintf(buf, len, "%.2fms", ms);
    else if (ms < 1000)
        snprintf(buf, len, "%.1fms", ms);
    else if (ms < 100000)
        snprintf(buf, len, "%.2fs", ms / 1000);
    else
        snprintf(buf, len, "%.0fs", ms / 1000);
}

void tui_format_count(uint64_t n, char *buf, size_t len)
{
    if (n < 10000)
        snprintf(buf, len, "%llu", (unsigned long long)n);
    else if (n < 10000000)
        snprintf(buf, len, "%.1fk", (double)n / 1e3);
    else
        snprintf(buf, len, "%.1fM", (double)n / 1e6);
}

void tui_format_bytes(uint64_t n, char *buf, size_t len)
{
    if (n < 1024)
        snprintf(buf, len, "%lluB", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(buf, len, "%.1fKiB", (double)n / 1024);
    else if (n < 1024ull * 1024 * 1024)
        snprintf(buf, len, "%.1fMiB", (double)n / (1024 * 1024));
    else
        snprintf(buf, len, "%.1fGiB", (double)n / (1024.0 * 1024 * 1024));
}

void tui_sparkline(const uint64_t *counts, size_t n, bool utf8, char *buf, size_t len)
{
    static const char *const blocks[8] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                          "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                          "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char ascii[8] = {'.', ':', '-', '=', '+', '*', '#', '@'};
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (counts[i] > max)
            max = counts[i];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *cell;
        char one[2] = {' ', '\0'};
        if (!counts[i] || !max) {
            cell = one;
        } else {
            size_t level = (size_t)((counts[i] * 8 - 1) / max); /* 1..max -> 0..7 */
            if (level > 7)
                level = 7;
            one[0] = ascii[level];
            cell = utf8 ? blocks[level] : one;
        }
        size_t cl = strlen(cell);
        if (o + cl >= len)
            break;
        memcpy(buf + o, cell, cl);
        o += cl;
    }
    if (len)
        buf[o] = '\0';
}

enum tui_style tui_status_style(enum op_status s)
{
    switch (s) {
    case OP_OK:
        return TUI_STYLE_OK;
    case OP_ERROR:
    case OP_UNROUTABLE:
        return TUI_STYLE_ERROR;
    case OP_TIMEOUT:
    case OP_EVICTED:
        return TUI_STYLE_WARN;
    default:
        return TUI_STYLE_OPEN;
    }
}

/* ---- tables ---- */

struct col {
    const char *title;
    int width; /* fixed width; for a flexible column, its minimum */
    int flex;  /* share of the spare width, 0 = fixed */
    int maxw;  /* flexible columns stop growing here (0 = no limit) */
    bool right;
    int prio; /* hidden first when narrow: higher numbers go first; 0 never */
    bool shown;
};

/* Hides columns by priority until the minimum widths fit, then shares the
 * spare width among flexible columns by weight; leftovers go to the last one. */
static void layout(struct col *c, size_t n, int width)
{
    for (size_t i = 0; i < n; i++)
        c[i].shown = true;
    for (;;) {
        int need = -1, flex = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].shown)
                need += c[i].width + 1, flex += c[i].flex;
        if (need <= width || flex == 0) {
            int spare = width - need;
            int last = -1;
            for (size_t i = 0; i < n && spare > 0; i++)
                if (c[i].shown && c[i].flex)
                    last = (int)i;
            int given = 0;
            for (size_t i = 0; i < n && spare > 0; i++) {
                if (!c[i].shown || !c[i].flex)
                    continue;
                int add = spare * c[i].flex / flex;
                if (c[i].maxw && c[i].width + add > c[i].maxw)
                    add = c[i].maxw - c[i].width;
                c[i].width += add;
                given += add;
            }
            if (last >= 0 && spare - given > 0)
                c[last].width += spare - given;
            return;
        }
        int victim = -1;
        for (size_t i = 0; i < n; i++)
            if (c[i].shown && c[i].prio && (victim < 0 || c[i].prio > c[victim].prio))
                victim = (int)i;
        if (victim < 0)
            return; /* nothing left to hide: the row is cut at the end */
        c[victim].shown = false;
    }
}

/* Writes the shown cells separated by one space, then fits the row to width.
 * vals NULL: the columns' titles (a header row). */
static void emit(char *buf, size_t len, const struct col *c, size_t n, const char *const *vals,
                 int width)
{
    char row[4096];
    size_t o = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].shown)
            continue;
        char cell[1024];
        const char *v = !vals ? c[i].title : vals[i] ? vals[i] : "-";
        if (c[i].right) {
            int w = tui_text_cols(v);
            int padl = c[i].width > w ? c[i].width - w : 0;
            char tmp[1024];
            snprintf(tmp, sizeof tmp, "%*s%s", padl, "", v);
            tui_fit(cell, sizeof cell, tmp, c[i].width, true);
        } else {
            tui_fit(cell, sizeof cell, v, c[i].width, true);
        }
        int wrote = snprintf(row + o, sizeof row - o, "%s%s", first ? "" : " ", cell);
        if (wrote < 0 || (size_t)wrote >= sizeof row - o)
            break;
        o += (size_t)wrote;
        first = false;
    }
    row[o] = '\0';
    tui_fit(buf, len, row, width, true);
}

enum {
    CC_TIME,
    CC_TYPE,
    CC_TARGET,
    CC_METHOD,
    CC_STATUS,
    CC_LAT,
    CC_RID,
    CC_ERROR,
    CC_CLIENT,
    CC_SERVER,
    CC_N
};

static void calls_cols(struct col *c, int width)
{
    const struct col def[CC_N] = {
        {"TIME", 15, 0, 0, false, 0, true},
        {"TYPE", 6, 0, 0, false, 0, true},
        {"TOPIC[.SERVER]", 16, 11, 40, false, 0, true},
        {"METHOD", 14, 9, 32, false, 0, true},
        {"STATUS", 7, 0, 0, false, 0, true},
        {"LATENCY", 9, 0, 0, true, 0, true},
        {"REQUEST_ID", 40, 0, 0, false, 2, true},
        {"ERROR", 20, 2, 80, false, 3, true},
        {"CLIENT", 21, 1, 46, false, 4, true},
        {"SERVER", 21, 1, 46, false, 5, true},
    };
    memcpy(c, def, sizeof def);
    layout(c, CC_N, width);
}

static void mark_title(char *buf, size_t len, const struct col *c, bool descending);

/* The sort column is marked, except the default arrival order (TIME). */
void tui_calls_header(int width, enum tui_calls_sort sort, char *buf, size_t len)
{
    struct col c[CC_N];
    calls_cols(c, width);
    static const int sort_col[TUI_CSORT_COUNT] = {CC_TIME, CC_LAT, CC_STATUS, CC_TARGET, CC_METHOD};
    const char *vals[CC_N];
    char marked[64];
    for (int i = 0; i < CC_N; i++)
        vals[i] = c[i].title;
    if (sort != TUI_CSORT_TIME && (unsigned)sort < TUI_CSORT_COUNT) {
        int sc = sort_col[sort];
        mark_title(marked, sizeof marked, &c[sc], sort == TUI_CSORT_LATENCY || sort == TUI_CSORT_STATUS);
        vals[sc] = marked;
    }
    emit(buf, len, c, CC_N, vals, width);
}

static void format_peer(const struct op_peer *p, char *buf, size_t len)
{
    if (p->known)
        netaddr_format(&p->addr, buf, len);
    else
        snprintf(buf, len, "?");
}

void tui_calls_row(const struct tui_entry *e, uint64_t now_ts, int width, char *buf, size_t len)
{
    const struct op *op = &e->op;
    struct col c[CC_N];
    calls_cols(c, width);
    char when[32], target[600], lat[32], client[NETADDR_STRLEN];
    text_format_time(op->ts_ns, when, sizeof when);
    text_format_target(op, target, sizeof target);
    if (op->status == OP_OPEN && now_ts > op->ts_ns) {
        char age[24];
        tui_format_ms((double)(now_ts - op->ts_ns) / 1e6, age, sizeof age);
        snprintf(lat, sizeof lat, ">%s", age);
    } else {
        tui_format_ms(op->has_latency ? op->latency_ms : -1, lat, sizeof lat);
    }
    format_peer(&op->client, client, sizeof client);
    /* the server: its process (connection name) when known, else its address */
    char server[OP_PROCESS_MAX + NETADDR_STRLEN], proc[OP_PROCESS_MAX];
    const char *sp = op_server_process(op, proc, sizeof proc);
    if (sp)
        snprintf(server, sizeof server, "%s", sp);
    else if (op->server_peer.known)
        netaddr_format(&op->server_peer.addr, server, sizeof server);
    else
        snprintf(server, sizeof server, "-");
    char error[600] = "";
    if (op->error_class)
        snprintf(error, sizeof error, "%s%s%.500s", op->error_class,
                 op->error_message ? ": " : "", op->error_message ? op->error_message : "");
    const char *vals[CC_N] = {
        when,
        op->type == OP_NOTIFICATION      ? "notif"
        : op->dialect == OP_DIALECT_AMQP ? "amqp"
                                         : op_type_name(op->type),
        target,
        op->type == OP_NOTIFICATION && op->event_type ? op->event_type : op->method,
        op_status_name(op->status),
        lat,
        op->request_id ? op->request_id : op->global_request_id,
        error[0] ? error : "",
        client,
        server,
    };
    emit(buf, len, c, CC_N, vals, width);
}

enum {
    TC_NAME,
    TC_CALLS,
    TC_OPS,
    TC_RATE,
    TC_OK,
    TC_ERR,
    TC_TMO,
    TC_OPEN,
    TC_P50,
    TC_P90,
    TC_P99,
    TC_MAX,
    TC_HIST,
    TC_N
};

/* At 80 columns the columns that make the numbers add up (CALLS and OPS;
 * OK + ERR + TMO + OPEN = OPS) stay, with RATE and P90: the name column is
 * the one that gives way, then MAX and the sparkline hide. The sort column is
 * never hidden (sort_col, -1 for none): a sort by what is not shown would
 * look like no order at all. */
static void topics_cols(struct col *c, int width, int sort_col)
{
    const struct col def[TC_N] = {
        {"TOPIC / METHOD", 12, 1, 0, false, 0, true},
        {"CALLS", 6, 0, 0, true, 0, true},
        {"OPS", 6, 0, 0, true, 0, true},
        {"RATE/s", 7, 0, 0, true, 0, true},
        {"OK", 5, 0, 0, true, 0, true},
        {"ERR", 4, 0, 0, true, 0, true},
        {"TMO", 4, 0, 0, true, 0, true},
        {"OPEN", 4, 0, 0, true, 0, true},
        {"P50", 7, 0, 0, true, 0, true},
        {"P90", 7, 0, 0, true, 3, true},
        {"P99", 7, 0, 0, true, 0, true},
        {"MAX", 7, 0, 0, true, 4, true},
        {"HIST .5ms..512ms+", 12 + 5, 0, 0, false, 7, true},
    };
    memcpy(c, def, sizeof def);
    if (sort_col >= 0 && sort_col < TC_N)
        c[sort_col].prio = 0;
    layout(c, TC_N, width);
}

static const int topics_sort_col[TUI_SORT_COUNT] = {TC_NAME, TC_CALLS, TC_RATE, TC_ERR,
                                                    TC_TMO,  TC_P50,   TC_P99,  TC_MAX};

static int sort_col_of(enum tui_agg_sort sort)
{
    return (unsigned)sort < TUI_SORT_COUNT ? topics_sort_col[sort] : -1;
}

/* The sort column's title with its marker in front: the numbers below a
 * right-aligned title stay aligned, and a cut title keeps its marker. */
static void mark_title(char *buf, size_t len, const struct col *c, bool descending)
{
    const char *mark = utf8_locale() ? (descending ? "\xe2\x96\xbc" : "\xe2\x96\xb2")
                                     : (descending ? "v" : "^");
    snprintf(buf, len, "%s%s", mark, c->title);
}

void tui_topics_header(int width, enum tui_agg_sort sort, char *buf, size_t len)
{
    struct col c[TC_N];
    int sc = sort_col_of(sort);
    topics_cols(c, width, sc);
    char marked[32];
    const char *vals[TC_N];
    for (int i = 0; i < TC_N; i++)
        vals[i] = c[i].title;
    if (sc >= 0) {
        mark_title(marked, sizeof marked, &c[sc], sort != TUI_SORT_NAME);
        vals[sc] = marked;
    }
    emit(buf, len, c, TC_N, vals, width);
}

void tui_topics_row(const struct tui_agg_row *r, enum tui_agg_sort sort, int width, bool utf8,
                    char *buf, size_t len)
{
    struct col c[TC_N];
    topics_cols(c, width, sort_col_of(sort));
    char name[TUI_AGG_NAME_MAX + 4], calls[16], ops[16], rate[16], ok[16], err[16], tmo[16],
        open[16], p50[16], p90[16], p99[16], max[16], hist[64], histcol[80];
    if (r->method[0])
        snprintf(name, sizeof name, "  %s", r->method);
    else
        snprintf(name, sizeof name, "%s", r->topic);
    tui_format_count(r->calls, calls, sizeof calls);
    tui_format_count(r->ops, ops, sizeof ops);
    snprintf(rate, sizeof rate, "%.1f", r->rate);
    tui_format_count(r->by_status[OP_OK], ok, sizeof ok);
    tui_format_count(r->by_status[OP_ERROR] + r->by_status[OP_UNROUTABLE], err, sizeof err);
    tui_format_count(r->by_status[OP_TIMEOUT] + r->by_status[OP_EVICTED], tmo, sizeof tmo);
    tui_format_count(r->by_status[OP_OPEN] + r->by_status[OP_UNKNOWN], open, sizeof open);
    tui_format_ms(r->nlat ? r->p50 : -1, p50, sizeof p50);
    tui_format_ms(r->nlat ? r->p90 : -1, p90, sizeof p90);
    tui_format_ms(r->nlat ? r->p99 : -1, p99, sizeof p99);
    tui_format_ms(r->nlat ? r->max_ms : -1, max, sizeof max);
    tui_sparkline(r->hist, TUI_AGG_BUCKETS, utf8, hist, sizeof hist);
    snprintf(histcol, sizeof histcol, "%s", r->nlat ? hist : "");
    const char *vals[TC_N] = {name, calls, ops, rate, ok,  err,    tmo,
                              open, p50,   p90, p99,  max, histcol};
    emit(buf, len, c, TC_N, vals, width);
}

enum {
    NC_ID,
    NC_CLIENT,
    NC_NAME,
    NC_PRODUCT,
    NC_BROKER,
    NC_CH,
    NC_CONS,
    NC_BYTES,
    NC_FRAMES,
    NC_RESYNC,
    NC_GAPS,
    NC_STATE,
    NC_N
};

static void conns_cols(struct col *c, int width)
{
    const struct col def[NC_N] = {
        {"ID", 5, 0, 0, true, 0, true},
        {"CLIENT", 21, 0, 0, false, 0, true},
        {"CONNECTION_NAME", 14, 1, 0, false, 0, true},
        {"PRODUCT", 9, 0, 0, false, 5, true},
        {"BROKER", 21, 0, 0, false, 4, true},
        {"CH", 4, 0, 0, true, 0, true},
        {"CONS", 4, 0, 0, true, 0, true},
        {"BYTES", 8, 0, 0, true, 0, true},
        {"FRAMES", 7, 0, 0, true, 3, true},
        {"RESYNC", 6, 0, 0, true, 2, true},
        {"GAPS", 5, 0, 0, true, 1, true},
        {"STATE", 6, 0, 0, false, 0, true},
    };
    memcpy(c, def, sizeof def);
    layout(c, NC_N, width);
}

void tui_conns_header(int width, char *buf, size_t len)
{
    struct col c[NC_N];
    conns_cols(c, width);
    emit(buf, len, c, NC_N, NULL, width);
}

void tui_conns_row(const struct tui_conn *cn, int width, char *buf, size_t len)
{
    const struct amqp_conn_info *in = &cn->info;
    struct col c[NC_N];
    conns_cols(c, width);
    char id[24], client[NETADDR_STRLEN], broker[NETADDR_STRLEN + 2], name[256], ch[16], cons[16],
        bytes[24], frames[16], resync[16], gaps[16];
    snprintf(id, sizeof id, "%llu", (unsigned long long)in->id);
    netaddr_format(&in->client, client, sizeof client);
    netaddr_format(&in->broker, broker, sizeof broker);
    if (!in->broker_known)
        strcat(broker, " ?");
    if (in->connection_name[0])
        snprintf(name, sizeof name, "%s", in->connection_name);
    else
        snprintf(name, sizeof name, "%s", in->handshake_seen ? "-" : "(no handshake seen)");
    snprintf(ch, sizeof ch, "%u", (unsigned)in->channels_open);
    snprintf(cons, sizeof cons, "%u", (unsigned)in->consumers);
    tui_format_bytes(in->bytes[0] + in->bytes[1], bytes, sizeof bytes);
    tui_format_count(in->frames, frames, sizeof frames);
    tui_format_count(in->resyncs, resync, sizeof resync);
    tui_format_count(in->gaps, gaps, sizeof gaps);
    const char *vals[NC_N] = {id,     client, name, in->product[0] ? in->product : "-",
                              broker, ch,     cons, bytes,
                              frames, resync, gaps, cn->closed ? "closed" : "open"};
    emit(buf, len, c, NC_N, vals, width);
}

/* ---- detail ---- */

static const char *or_dash(const char *s)
{
    return s && s[0] ? s : "-";
}

static void add_kv(struct tui_lines *l, int wrap, const char *key, const char *value)
{
    if (value)
        tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "  %-18s %s", key, value);
}

/* why: what to say when there is no text (why there is none). */
static void add_json_block(struct tui_lines *l, int wrap, const char *title, const char *text,
                           bool cut, bool dropped, const char *why)
{
    tui_lines_add(l, TUI_STYLE_HEADING, wrap, "%s", title);
    if (!text) {
        tui_lines_add(l, TUI_STYLE_DIM, wrap, "  %s",
                      dropped ? "(dropped: the TUI's body memory budget was reached)" : why);
        return;
    }
    json_error_t jerr;
    json_t *j = cut ? NULL : json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    const char *src = pretty ? pretty : text;
    if (cut)
        tui_lines_add(l, TUI_STYLE_WARN, wrap, "  (cut at the TUI's per-body limit; raw text)");
    /* One screen line per text line; long lines wrap at the view's width. */
    const char *p = src;
    while (*p && l->n < l->max) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[2048];
        while (n > 0) {
            size_t take = n < sizeof line - 3 ? n : sizeof line - 3;
            /* do not split a UTF-8 character between two chunks */
            while (take < n && take > 0 && ((unsigned char)p[take] & 0xc0) == 0x80)
                take--;
            snprintf(line, sizeof line, "  %.*s", (int)take, p);
            tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "%s", line);
            p += take;
            n -= take;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    free(pretty);
}

static void add_context(struct tui_lines *l, int wrap, const struct tui_entry *e)
{
    const char *ctx = e->op.context_json;
    tui_lines_add(l, TUI_STYLE_HEADING, wrap, "Context");
    if (!ctx) {
        tui_lines_add(l, TUI_STYLE_DIM, wrap, "  %s",
                      e->bodies_dropped ? "(dropped: the TUI's body memory budget was reached)"
                                        : "(none)");
        return;
    }
    json_error_t jerr;
    json_t *j = e->body_cut[TUI_BODY_CONTEXT] ? NULL : json_loads(ctx, 0, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "  %s", ctx);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (json_is_string(v)) {
            tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "  %-22s %s", key, json_string_value(v));
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "  %-22s %s", key, s ? s : "?");
            free(s);
        }
    }
    json_decref(j);
}

static void describe_conn(const struct tui_store *s, uint64_t id, char *buf, size_t len)
{
    const struct tui_conn *c = id ? tui_store_conn_find(s, id) : NULL;
    if (!id) {
        snprintf(buf, len, "not seen");
        return;
    }
    if (!c) {
        snprintf(buf, len, "connection #%llu (no longer in the table)", (unsigned long long)id);
        return;
    }
    /* The broker end and the product are in the Connections view; here the
     * client end and its name say which process carried the leg. */
    char cl[NETADDR_STRLEN];
    netaddr_format(&c->info.client, cl, sizeof cl);
    snprintf(buf, len, "#%llu %s %s", (unsigned long long)id, cl,
             c->info.connection_name[0] ? c->info.connection_name
             : c->info.handshake_seen   ? ""
                                        : "(handshake not seen)");
}

static void add_timeline(struct tui_lines *l, int wrap, const struct tui_entry *e,
                         const struct tui_store *s)
{
    const struct op *op = &e->op;
    uint64_t t0 = 0, prev = 0;
    for (int i = 0; i < LEG_COUNT; i++)
        if (op->timeline[i] && (!t0 || op->timeline[i] < t0))
            t0 = op->timeline[i];
    tui_lines_add(l, TUI_STYLE_HEADING, wrap, "Timeline  %-16s %-16s %10s %10s  %s", "leg", "time",
                  "since 1st", "gap", "connection");
    for (int i = 0; i < LEG_COUNT; i++) {
        char conn[512];
        describe_conn(s, op->leg_conn[i], conn, sizeof conn);
        if (!op->timeline[i]) {
            tui_lines_add(l, TUI_STYLE_DIM, wrap, "          %-16s %-16s %10s %10s  %s",
                          op_leg_name((enum op_leg)i), "not seen", "", "", conn);
            continue;
        }
        char when[32], since[24], gap[24];
        text_format_time(op->timeline[i], when, sizeof when);
        tui_format_ms((double)(op->timeline[i] - t0) / 1e6, since, sizeof since);
        if (prev && op->timeline[i] >= prev)
            tui_format_ms((double)(op->timeline[i] - prev) / 1e6, gap, sizeof gap);
        else
            snprintf(gap, sizeof gap, "%s", prev ? "(earlier)" : "");
        tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "          %-16s %-16s %10s %10s  %s",
                      op_leg_name((enum op_leg)i), when, since, gap, conn);
        prev = op->timeline[i];
    }
    char qw[24], sv[24], lat[24];
    tui_format_ms(op->queue_wait_ms, qw, sizeof qw);
    tui_format_ms(op->server_ms, sv, sizeof sv);
    tui_format_ms(op->has_latency ? op->latency_ms : -1, lat, sizeof lat);
    char legs[64] = "";
    if (op->has_latency)
        snprintf(legs, sizeof legs, " (%s -> %s)", op_leg_name(op->latency_from),
                 op_leg_name(op->latency_to));
    tui_lines_add(l, TUI_STYLE_NORMAL, wrap, "  queue wait %s   server time %s   latency %s%s", qw,
                  sv, lat, legs);
}

/* What a verdict means, for whoever reads the detail at 3 a.m. */
static const char *verdict_text(enum op_verdict v)
{
    switch (v) {
    case OP_VERDICT_OK:
        return "the reply reached the caller in time";
    case OP_VERDICT_REMOTE_ERROR:
        return "the server answered with an exception";
    case OP_VERDICT_NOT_ROUTED:
        return "the broker returned the request: no queue bound for its routing key";
    case OP_VERDICT_NOT_DELIVERED:
        return "published, but no consumer received it before the call ended";
    case OP_VERDICT_NO_REPLY:
        return "a server received it and published no reply before the call ended";
    case OP_VERDICT_REPLY_RETURNED:
        return "the broker returned the reply: the caller's reply queue was gone";
    case OP_VERDICT_REPLY_NOT_DELIVERED:
        return "the reply was published but never reached the caller";
    case OP_VERDICT_LATE_REPLY:
        return "the reply reached the caller after its timeout";
    case OP_VERDICT_UNKNOWN:
        return "the capture lacks the legs needed to tell (docs/json.md)";
    default:
        return "";
    }
}

/* Why a call's Arguments are not shown. */
static const char *args_missing(const struct op *op)
{
    if (op->body_truncated)
        return "(not kept: the body is longer than --max-body)";
    if (!op->timeline[LEG_REQUEST_PUBLISH] && !op->timeline[LEG_REQUEST_DELIVER])
        return "(not in the capture: the request was sent before it started)";
    return "(none: the message carries no arguments)";
}

/* Why a call has no Result to show: its reply said something else, or never came. */
static void result_missing(const struct op *op, char *buf, size_t len)
{
    if (op->body_truncated)
        snprintf(buf, len, "(not kept: the body is longer than --max-body)");
    else if (op->status == OP_OK)
        snprintf(buf, len, "null");
    else if (op->status == OP_ERROR)
        snprintf(buf, len, "(none: the server answered with an exception, above)");
    else if (op_verdict_name(op->verdict) && op->verdict != OP_VERDICT_UNKNOWN)
        snprintf(buf, len, "(no reply: %s)", verdict_text(op->verdict));
    else if (op->status == OP_OPEN)
        snprintf(buf, len, "(no reply yet: the capture ended within the call's timeout)");
    else
        snprintf(buf, len, "(no reply in the capture: %s)", op_status_name(op->status));
}

static void add_diagnosis(struct tui_lines *out, int wrap, const struct op *op)
{
    tui_lines_add(out, TUI_STYLE_HEADING, wrap, "Diagnosis");
    if (op->type == OP_CALL && op_verdict_name(op->verdict))
        tui_lines_add(out,
                      op->verdict == OP_VERDICT_OK        ? TUI_STYLE_NORMAL
                      : op->verdict == OP_VERDICT_UNKNOWN ? TUI_STYLE_DIM
                                                          : TUI_STYLE_WARN,
                      wrap, "  %-18s %s: %s", "verdict", op_verdict_name(op->verdict),
                      verdict_text(op->verdict));
    if (op_slow_name(op->slow_in)) {
        char q[24], sv[24], r[24];
        tui_format_ms(op->queue_wait_ms, q, sizeof q);
        tui_format_ms(op->server_ms, sv, sizeof sv);
        tui_format_ms(op->reply_ms, r, sizeof r);
        tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "  %-18s %s (queue %s, server %s, reply %s)",
                      "slow_in", op_slow_name(op->slow_in), q, sv, r);
    }
    char cp[OP_PROCESS_MAX], sp[OP_PROCESS_MAX];
    const char *c = op_client_process(op, cp, sizeof cp),
               *sv = op_server_process(op, sp, sizeof sp);
    add_kv(out, wrap, "client process", or_dash(c));
    add_kv(out, wrap, "server process", or_dash(sv));
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
}

void tui_detail_build(struct tui_lines *out, const struct tui_entry *e, const struct tui_store *s,
                      int wrap)
{
    const struct op *op = &e->op;
    char target[600], lat[32];
    text_format_target(op, target, sizeof target);
    tui_format_ms(op->has_latency ? op->latency_ms : -1, lat, sizeof lat);
    const char *method =
        op->type == OP_NOTIFICATION && op->event_type ? op->event_type : op->method;
    tui_lines_add(out, tui_status_style(op->status), wrap, "%s %s %s  status %s  latency %s",
                  op_type_name(op->type), target, or_dash(method), op_status_name(op->status), lat);
    add_diagnosis(out, wrap, op);
    tui_lines_add(out, TUI_STYLE_HEADING, wrap, "Message");
    if (op->dialect != OP_DIALECT_OSLO)
        add_kv(out, wrap, "dialect", op_dialect_name(op->dialect));
    add_kv(out, wrap, "msg_id", op->msg_id);
    add_kv(out, wrap, "unique_id", op->unique_id);
    add_kv(out, wrap, "reply_q", op->reply_q);
    add_kv(out, wrap, "exchange", op->exchange);
    add_kv(out, wrap, "routing_key", op->routing_key);
    add_kv(out, wrap, "topic", op->topic);
    add_kv(out, wrap, "server", op->server);
    add_kv(out, wrap, "namespace", op->namespace_);
    add_kv(out, wrap, "version", op->version);
    add_kv(out, wrap, "request_id", op->request_id);
    add_kv(out, wrap, "global_request_id", op->global_request_id);
    add_kv(out, wrap, "event_type", op->event_type);
    add_kv(out, wrap, "priority", op->priority);
    add_kv(out, wrap, "publisher_id", op->publisher_id);
    add_kv(out, wrap, "message_id", op->message_id);
    if (op->type == OP_CALL) {
        tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "  %-18s %gs   replies %u (heartbeats %u)%s",
                      "timeout", op->timeout_s, op->replies, op->heartbeats,
                      op->late_reply ? "   LATE REPLY" : "");
    }
    if (op->type == OP_FANOUT)
        tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "  %-18s %u", "receivers", op->fanout_receivers);
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
    add_timeline(out, wrap, e, s);
    if (op->status == OP_ERROR || op->error_class || op->error_message) {
        tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
        tui_lines_add(out, TUI_STYLE_HEADING, wrap, "Error");
        tui_lines_add(out, TUI_STYLE_ERROR, wrap, "  %-18s %s", "class", or_dash(op->error_class));
        tui_lines_add(out, TUI_STYLE_ERROR, wrap, "  %-18s %s", "module",
                      or_dash(op->error_module));
        tui_lines_add(out, TUI_STYLE_ERROR, wrap, "  %-18s %s", "message",
                      or_dash(op->error_message));
    }
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
    char cl[NETADDR_STRLEN], sv[NETADDR_STRLEN];
    format_peer(&op->client, cl, sizeof cl);
    format_peer(&op->server_peer, sv, sizeof sv);
    tui_lines_add(out, TUI_STYLE_HEADING, wrap, "Peers");
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "  %-18s %s %s", "client", cl,
                  op->client.connection_name ? op->client.connection_name : "");
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "  %-18s %s %s", "server", sv,
                  op->server_peer.connection_name ? op->server_peer.connection_name : "");
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
    add_context(out, wrap, e);
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
    add_json_block(out, wrap, "Arguments", op->args_json, e->body_cut[TUI_BODY_ARGS],
                   e->bodies_dropped, args_missing(op));
    if (op->type == OP_CALL) {
        char why[256];
        result_missing(op, why, sizeof why);
        tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
        /* a failure's reply carries "result": null beside the exception: say why instead */
        const char *result = op->result_json;
        if (op->status == OP_ERROR && result && strcmp(result, "null") == 0)
            result = NULL;
        add_json_block(out, wrap, "Result", result, e->body_cut[TUI_BODY_RESULT],
                       e->bodies_dropped, why);
    }
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "%s", "");
    tui_lines_add(out, TUI_STYLE_HEADING, wrap, "Packets");
    char list[256];
    size_t o = 0, i;
    list[0] = '\0';
    for (i = 0; i < op->npkts && o + 24 < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%llu", i ? " " : "",
                              (unsigned long long)op->pkts[i]);
    tui_lines_add(out, TUI_STYLE_NORMAL, wrap, "  %zu packet%s%s: %s%s", op->npkts,
                  op->npkts == 1 ? "" : "s", e->pkts_cut ? " (list cut)" : "", list,
                  i < op->npkts ? " ..." : "");
}

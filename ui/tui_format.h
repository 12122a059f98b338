/*
 * tui_format.h: the TUI's text, without curses. Rows of the Calls, Topics
 * and Connections views, the Detail view's lines, sparklines, widths of
 * UTF-8 text in terminal columns. Kept apart from the drawing so the unit
 * tests can check every string a view would show (and that no secret or
 * escape sequence gets there) without a terminal.
 */
#ifndef OSLOTRACE_UI_TUI_FORMAT_H
#define OSLOTRACE_UI_TUI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/tui_agg.h"
#include "ui/tui_calls_order.h"
#include "ui/tui_store.h"

enum tui_style {
    TUI_STYLE_NORMAL,
    TUI_STYLE_HEADING,
    TUI_STYLE_DIM,
    TUI_STYLE_OK,
    TUI_STYLE_ERROR,
    TUI_STYLE_WARN,
    TUI_STYLE_OPEN,
    TUI_STYLE_COUNT
};

/* Lines of text with a style each; at most max lines, the rest counted. */
struct tui_lines {
    char **text;
    unsigned char *style;
    size_t n, cap, max;
    uint64_t dropped;
};

void tui_lines_init(struct tui_lines *l, size_t max);
void tui_lines_free(struct tui_lines *l);
/* Adds one line (sanitized), cut into several of at most wrap columns (0 = no wrap). */
void tui_lines_add(struct tui_lines *l, enum tui_style st, int wrap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The Detail view of one entry, wrapped to wrap columns. Connection identities
 * come from the store's connection table. */
void tui_detail_build(struct tui_lines *out, const struct tui_entry *e, const struct tui_store *s,
                      int wrap);

/* Terminal columns of a (sanitized) UTF-8 string. */
int tui_text_cols(const char *s);
/* Copies the longest prefix of src that fits in cols columns ("~" or "…"
 * marks a cut), padded with spaces to exactly cols when pad. Non-ASCII
 * becomes '?' when the locale is not UTF-8. Returns the columns used. */
int tui_fit(char *dst, size_t cap, const char *src, int cols, bool pad);

void tui_format_ms(double ms, char *buf, size_t len);    /* "0.42ms", "12.3ms", "1.25s", "-" if < 0 */
void tui_format_count(uint64_t n, char *buf, size_t len); /* "999", "12.3k", "4.5M" */
void tui_format_bytes(uint64_t n, char *buf, size_t len); /* "512B", "1.5KiB", "3.2MiB" */
/* One character per count, height scaled to the largest: ▁▂▃▄▅▆▇█ (or " .:-=+*#"
 * outside UTF-8); a zero count is a space. */
void tui_sparkline(const uint64_t *counts, size_t n, bool utf8, char *buf, size_t len);
enum tui_style tui_status_style(enum op_status s);

/* Calls view: header and one row, exactly width columns. now_ts (packet time)
 * gives open calls their age. */
void tui_calls_header(int width, enum tui_calls_sort sort, char *buf, size_t len);
void tui_calls_row(const struct tui_entry *e, uint64_t now_ts, int width, char *buf, size_t len);
/* Topics view: header (the sort column marked, and never hidden) and one row
 * (laid out for the same sort, so its cells sit under the header's). */
void tui_topics_header(int width, enum tui_agg_sort sort, char *buf, size_t len);
void tui_topics_row(const struct tui_agg_row *r, enum tui_agg_sort sort, int width, bool utf8,
                    char *buf, size_t len);
/* Connections view. */
void tui_conns_header(int width, char *buf, size_t len);
void tui_conns_row(const struct tui_conn *c, int width, char *buf, size_t len);

#endif

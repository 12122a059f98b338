/*
 * tui_views.h: the five views and what the event loop shares with them.
 *
 * tui.c owns the terminal, the pipeline and the keys; the views only read
 * the store, the aggregation and a snapshot of the counters (struct
 * tui_status) and draw one frame with curses. Scroll positions live in
 * struct tui_ui so that a view keeps its place when the operator leaves
 * and comes back.
 */
#ifndef OSLOTRACE_UI_TUI_VIEWS_H
#define OSLOTRACE_UI_TUI_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/tui_agg.h"
#include "ui/tui_calls_order.h"
#include "ui/tui_flows.h"
#include "ui/tui_format.h"
#include "ui/tui_store.h"

enum tui_view {
    TUI_VIEW_CALLS,
    TUI_VIEW_DETAIL,
    TUI_VIEW_TOPICS,
    TUI_VIEW_CONNS,
    TUI_VIEW_FLOWS, /* ui/tui_flows.c */
    TUI_VIEW_COUNT
};

enum tui_prompt { TUI_PROMPT_NONE, TUI_PROMPT_FILTER, TUI_PROMPT_WRITE, TUI_PROMPT_FIND };

#define TUI_INPUT_MAX 256

/* The counters of the status line, sampled by the event loop. */
struct tui_status {
    char source[160];      /* "file basic.pcap" or "iface lo" */
    bool live;
    bool loading;          /* offline and not at the end yet */
    double progress;       /* 0..1 of the file(s) read, < 0 unknown */
    uint64_t packets;
    double pkt_rate;       /* packets per second of wall time, recent */
    uint64_t ps_drop, ps_ifdrop;
    uint64_t ops, pending; /* operations out, calls still waiting for a reply */
    uint64_t evicted;      /* pending calls evicted + TUI history evicted */
    uint64_t errors;       /* malformed packets and frames, resyncs, bad records */
    uint64_t now_ts;       /* newest packet time */
    const struct tui_store *waiting; /* calls still waiting for a reply, drawn under the list */
    const char *error;     /* the pipeline's error, NULL when none */
    /* Shown whole (wrapped) at the top of the Calls and Topics views: the
     * input's error or warning, and at the end of an input with no operation,
     * what it held instead (ui/empty_run.c). "" when none. */
    char note[1024];
    bool note_always; /* an error or warning: shown above the list too, not only when empty */
    uint64_t broker_events; /* what the broker did to clients (dissect/amqp_conn.h) */
    char broker_last[96];  /* the newest of them, "basic.cancel queue=q" */
    struct tui_flows *flows; /* the Flows view's list and ladder (ui/tui_flows.h) */
};

struct tui_list {
    size_t sel, top;
};

struct tui_ui {
    enum tui_view view, back;    /* back: where Esc returns from Detail */
    bool follow, paused, help, utf8, color;
    uint64_t pause_seq;          /* while paused: the newest entry shown */
    uint64_t sel_seq;            /* the Calls view's selected entry, 0 = none */
    struct tui_list calls, topics, conns;
    enum tui_agg_sort sort;
    /* the Calls view's order (`s` there); a pointer so that drawing, which
     * only reads the ui, can rebuild it; NULL (no memory): arrival order */
    struct tui_calls_order *order;
    struct tui_lines detail;
    uint64_t detail_seq;         /* the entry the detail lines were built for */
    int detail_wrap;
    size_t detail_top;
    enum tui_prompt prompt;
    char input[TUI_INPUT_MAX];
    char find[TUI_INPUT_MAX];    /* the last text looked for with `n` */
    size_t input_len;
    char message[256];
    bool message_error;
    int rows, cols;              /* the list area of the last frame, for paging */
};

void tui_ui_init(struct tui_ui *ui, bool utf8, bool color);
void tui_ui_free(struct tui_ui *ui);

/* Number of Calls entries on screen (the visible list, or up to pause_seq). */
size_t tui_views_calls_count(const struct tui_ui *ui, const struct tui_store *s);
/* Index of the selected entry in that list (follow: the last). */
size_t tui_views_calls_selected(const struct tui_ui *ui, const struct tui_store *s);
/* The i-th entry of that list in the view's order (arrival, or the `s` sort). */
const struct tui_entry *tui_views_calls_at(const struct tui_ui *ui, const struct tui_store *s,
                                           size_t i);
/* The Calls view's sort key (TUI_CSORT_TIME when arrival order). */
enum tui_calls_sort tui_views_calls_sort(const struct tui_ui *ui);
/* (Re)builds the detail lines when the selection or the width changed. */
void tui_views_prepare_detail(struct tui_ui *ui, const struct tui_store *s, int width);

/* Sets up colour pairs (after start_color). */
void tui_views_init_colors(void);
/* Draws one whole frame on stdscr. */
void tui_views_draw(struct tui_ui *ui, const struct tui_store *s, struct tui_agg *a,
                    const struct tui_status *st);

#endif

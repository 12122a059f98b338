/*
 * tui.c: the TUI's event loop and its terminal. One loop polls the
 * keyboard (and the live capture's descriptor), feeds the pipeline a
 * bounded number of packets per turn so a big file loads progressively
 * while the screen stays usable, handles keys, and redraws at most ten
 * times a second by the monotonic clock whatever the packet rate.
 * Curses owns the terminal only inside tui_run: every way out (q, end of a
 * live capture, SIGINT/SIGTERM via *stop_requests, an error) goes through
 * endwin() before anything is printed.
 */
#include "ui/tui.h"
#include "ui/privileges.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "common/clock.h"
#include "engine/pipeline.h"
#include "ui/empty_run.h"
#include "ui/packet_ring.h"
#include "ui/sink.h"
#include "ui/text.h"
#include "ui/tui_agg.h"
#include "ui/tui_store.h"
#include "ui/tui_views.h"
#include "ui/writer.h"

#define STEP_PACKETS_OFFLINE 2000
#define STEP_PACKETS_LIVE 1000
#define FRAME_S 0.1     /* at most ten frames a second */
#define LIVE_STEP_S 0.2 /* live: read even without a poll wake-up, for libpcap's buffer */
#define TUI_LIVE_RING_BYTES (64u << 20) /* live: recent packets kept for `w` */
#define LIVE_SLICE_S 0.03 /* live: longest stretch of reading between two looks at the keys */

/* Calls still waiting for a reply shown under the list. */
#define TUI_WAITING_MAX 64

struct tui {
    const struct cli_options *o;
    struct pipeline *p;
    struct sink_set sinks; /* the TUI's store, and any output of sink_table asked for */
    struct tui_store *store;
    struct tui_store *waiting; /* rebuilt each frame, see refresh_waiting() */
    struct tui_agg *agg;
    struct tui_flows *flows;  /* the Flows view */
    struct packet_ring *ring; /* live: recent packets, for `w` */
    struct tui_ui ui;
    struct tui_status st;
    bool live, done, quit;
    SCREEN *screen; /* non-NULL while curses owns the terminal */
    FILE *tty;      /* the keyboard when stdin is the capture (-r -): /dev/tty, else NULL */
    int kbd_fd;     /* what the loop polls for keys */
    bool pipeline_failed;  /* the input failed before any packet: exit 1, as a batch run */
    bool pipeline_warned;  /* it failed after some (a cut file): a warning, as a batch run */
    char pipeline_err[512];
    double last_draw, last_step;
    double rate_t;
    uint64_t rate_pkts;
    char last_filter_input[TUI_INPUT_MAX];
};

/* ---- the TUI's own sink: its store of operations and connections ---- */

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return env->front_end;
}

static void sink_op(void *user, const struct op *op)
{
    struct tui *t = user;
    tui_store_add_op(t->store, op); /* the Topics numbers come from pipeline_stats() */
}

static void sink_flow(void *user, const struct flow *f)
{
    struct tui *t = user;
    tui_flows_add(t->flows, f);
}

static void sink_packet(void *user, const struct packet *pkt)
{
    struct tui *t = user;
    if (t->ring)
        packet_ring_push(t->ring, pkt, NULL, NULL);
}

static void sink_conn(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct tui *t = user;
    tui_store_conn_event(t->store, info, ev);
}

/* The status line's broker part: how many, and the newest in a few words. */
static void sink_broker_event(void *user, const struct amqp_broker_event *ev)
{
    struct tui *t = user;
    if (ev->confirms || !ev->conn) /* summaries (confirms, churn): the report has them */
        return;
    t->st.broker_events++;
    char code[16] = "", raw[sizeof t->st.broker_last];
    if (ev->reply_code)
        snprintf(code, sizeof code, " %u", ev->reply_code);
    snprintf(raw, sizeof raw, "%s%s%s%s%s%.60s", ev->event, code, ev->name ? " " : "",
             ev->name_kind && ev->name ? ev->name_kind : "", ev->name ? "=" : "",
             ev->name ? ev->name : "");
    tui_sanitize(t->st.broker_last, sizeof t->st.broker_last, raw); /* names come off the wire */
}

static const struct sink tui_sink = {.name = "tui",
                                     .open = sink_open,
                                     .on_op = sink_op,
                                     .on_conn = sink_conn,
                                     .on_packet = sink_packet,
                                     .on_broker_event = sink_broker_event,
                                     .on_flow = sink_flow};

/* The store's evictions join the engine's, in the registry the status line reads. */
static const struct counter_def tui_store_rows[] = {
    COUNTER_ROW(struct tui_store_stats, evicted, "tui_history_evicted", TOTAL, COUNTER_EVICTION,
                "Operations dropped from the TUI's full history (--tui-history)."),
    COUNTER_ROW(struct tui_store_stats, conns_evicted, "tui_conns_evicted", TOTAL, COUNTER_EVICTION,
                "Connections dropped from the TUI's connection list."),
};

static void read_store_stats(const void *owner, void *out)
{
    tui_store_get_stats(owner, out);
}

struct tui_flows_stats {
    uint64_t evicted;
};
static const struct counter_def tui_flows_rows[] = {
    COUNTER_ROW(struct tui_flows_stats, evicted, "tui_flows_evicted", TOTAL, COUNTER_EVICTION,
                "Ended flows dropped from the TUI's Flows list (it keeps the newest 1000)."),
};

static void read_flows_stats(const void *owner, void *out)
{
    ((struct tui_flows_stats *)out)->evicted = tui_flows_evicted(owner);
}

/* noinline: a status line may be cut, and gcc -O2 would otherwise warn at every
 * inlined call site that a long argument might not fit. */
__attribute__((noinline)) static void set_message(struct tui *t, bool error, const char *fmt,
                                                  const char *arg)
{
    snprintf(t->ui.message, sizeof t->ui.message, fmt, arg);
    t->ui.message_error = error;
}

/* ---- counters ---- */

static void describe_source(const struct cli_options *o, char *buf, size_t len)
{
    if (o->engine.iface) {
        snprintf(buf, len, "iface %s", o->engine.iface);
        return;
    }
    const char *f = o->engine.nfiles ? o->engine.files[0] : "-";
    const char *base = strrchr(f, '/');
    base = base ? base + 1 : f;
    if (o->engine.nfiles > 1)
        snprintf(buf, len, "file %s +%zu", base, o->engine.nfiles - 1);
    else
        snprintf(buf, len, "file %s", strcmp(f, "-") == 0 ? "stdin" : base);
}

static void sample_status(struct tui *t)
{
    const struct counters *reg = pipeline_counters(t->p);
    struct pcap_source_stats src;
    pcap_source_get_stats(pipeline_source(t->p), &src);
    struct tui_status *st = &t->st;
    st->live = t->live;
    st->loading = !t->live && !t->done;
    st->progress = src.bytes_total ? (double)src.bytes_read / (double)src.bytes_total : -1;
    st->packets = counters_value(reg, "packets");
    st->ps_drop = counters_value(reg, "pcap_drops");
    st->ps_ifdrop = counters_value(reg, "pcap_ifdrops");
    st->ops = counters_value(reg, "ops_reported");
    st->pending = counters_value(reg, "pending_calls");
    st->evicted = counters_sum(reg, COUNTER_EVICTION);
    st->errors = counters_sum(reg, COUNTER_ERROR);
    uint64_t first;
    pipeline_time_span(t->p, &first, &st->now_ts);
    st->error = t->pipeline_failed ? t->pipeline_err : NULL;
    double now = clock_mono_s();
    if (now - t->rate_t >= 1.0) {
        st->pkt_rate = (double)(st->packets - t->rate_pkts) / (now - t->rate_t);
        t->rate_t = now;
        t->rate_pkts = st->packets;
    }
}

/* ---- actions ---- */

static const struct tui_entry *selected_entry(struct tui *t)
{
    size_t n = tui_views_calls_count(&t->ui, t->store);
    if (t->ui.view == TUI_VIEW_DETAIL && t->ui.detail_seq)
        return tui_store_find(t->store, t->ui.detail_seq);
    return n ? tui_views_calls_at(&t->ui, t->store, tui_views_calls_selected(&t->ui, t->store))
             : NULL;
}

/* Stops following and pins the selection where it is now. */
static void pin_selection(struct tui *t)
{
    size_t n = tui_views_calls_count(&t->ui, t->store);
    const struct tui_entry *e =
        n ? tui_views_calls_at(&t->ui, t->store, tui_views_calls_selected(&t->ui, t->store)) : NULL;
    t->ui.follow = false;
    t->ui.sel_seq = e ? e->seq : 0;
}

/* `n`: the next row (after the selection, wrapping) whose text, as the
 * widest layout of the view would show it, holds what was typed, ignoring
 * case. Calls and Topics move the selection, Detail scrolls to the line. */
#define FIND_WIDTH 1000
static void find_next(struct tui *t, const char *text)
{
    struct tui_ui *ui = &t->ui;
    snprintf(ui->find, sizeof ui->find, "%s", text);
    if (!text[0])
        return;
    size_t n, start;
    switch (ui->view) {
    case TUI_VIEW_CALLS:
        n = tui_views_calls_count(ui, t->store);
        start = n ? tui_views_calls_selected(ui, t->store) + 1 : 0;
        break;
    case TUI_VIEW_TOPICS:
        tui_agg_load(t->agg, pipeline_stats(t->p));
        tui_agg_sort(t->agg, ui->sort); /* the rows in the order drawn */
        n = tui_agg_count(t->agg);
        start = ui->topics.sel + 1;
        break;
    case TUI_VIEW_DETAIL:
        n = ui->detail.n;
        start = ui->detail_top + 1;
        break;
    default:
        set_message(t, true, "%s", "n finds in the Calls, Topics and Detail views");
        return;
    }
    char *row = malloc(4 * FIND_WIDTH + 1);
    if (!row) {
        set_message(t, true, "%s", "out of memory");
        return;
    }
    size_t found = n, matches = 0, ordinal = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        const char *hay = "";
        if (ui->view == TUI_VIEW_CALLS) {
            const struct tui_entry *e = tui_views_calls_at(ui, t->store, i);
            if (!e)
                continue;
            tui_calls_row(e, t->st.now_ts, FIND_WIDTH, row, 4 * FIND_WIDTH + 1);
            hay = row;
        } else if (ui->view == TUI_VIEW_TOPICS) {
            const struct tui_agg_row *r = tui_agg_row_at(t->agg, i);
            if (!r)
                continue;
            tui_topics_row(r, ui->sort, FIND_WIDTH, ui->utf8, row, 4 * FIND_WIDTH + 1);
            hay = row;
        } else {
            hay = ui->detail.text[i];
        }
        if (!strcasestr(hay, text))
            continue;
        matches++;
        if (found == n)
            found = i;
    }
    for (size_t i = 0; found < n && i <= found; i++) { /* which match it is, top down */
        const char *hay = "";
        if (ui->view == TUI_VIEW_CALLS) {
            const struct tui_entry *e = tui_views_calls_at(ui, t->store, i);
            if (e)
                tui_calls_row(e, t->st.now_ts, FIND_WIDTH, row, 4 * FIND_WIDTH + 1);
            hay = e ? row : "";
        } else if (ui->view == TUI_VIEW_TOPICS) {
            const struct tui_agg_row *r = tui_agg_row_at(t->agg, i);
            if (r)
                tui_topics_row(r, ui->sort, FIND_WIDTH, ui->utf8, row, 4 * FIND_WIDTH + 1);
            hay = r ? row : "";
        } else {
            hay = ui->detail.text[i];
        }
        ordinal += strcasestr(hay, text) != NULL;
    }
    free(row);
    if (found == n) {
        set_message(t, true, "find: no row holds \"%s\"", text);
        return;
    }
    if (ui->view == TUI_VIEW_CALLS) {
        const struct tui_entry *e = tui_views_calls_at(ui, t->store, found);
        ui->follow = false;
        ui->sel_seq = e ? e->seq : 0;
    } else if (ui->view == TUI_VIEW_TOPICS) {
        ui->topics.sel = found;
    } else {
        ui->detail_top = found;
    }
    char msg[sizeof t->ui.message];
    snprintf(msg, sizeof msg, "find \"%.*s\": match %zu of %zu (n Enter: next)", 120, text, ordinal,
             matches);
    set_message(t, false, "%s", msg);
}

static void apply_filter(struct tui *t, const char *expr)
{
    struct op_filter f = *tui_store_filter(t->store);
    char err[256];
    snprintf(t->last_filter_input, sizeof t->last_filter_input, "%s", expr);
    if (!op_filter_parse_expr(&f, expr, err, sizeof err)) {
        set_message(t, true, "filter: %s", err);
        return;
    }
    tui_store_set_filter(t->store, &f);
    t->ui.follow = true;
    t->ui.sel_seq = 0;
    char desc[TUI_INPUT_MAX];
    op_filter_describe(&f, desc, sizeof desc);
    set_message(t, false, desc[0] ? "filter: %s" : "filter cleared%s", desc);
}

/* Enter on a Topics row lists that topic's (or method's) calls. */
static void filter_from_topic(struct tui *t)
{
    tui_agg_load(t->agg, pipeline_stats(t->p));
    tui_agg_sort(t->agg, t->ui.sort); /* the row under the cursor, in the order drawn */
    const struct tui_agg_row *r = tui_agg_row_at(t->agg, t->ui.topics.sel);
    if (!r || strcmp(r->topic, TUI_AGG_OTHER) == 0)
        return;
    struct op_filter f;
    op_filter_init(&f);
    char err[128], glob[2 * TUI_AGG_NAME_MAX];
    /* escape fnmatch's specials so the name matches itself */
    const char *names[2] = {r->topic, r->method};
    char *dst[2] = {f.topic, f.method};
    for (int i = 0; i < 2; i++) {
        if (!names[i][0] || strcmp(names[i], "-") == 0)
            continue;
        size_t o = 0;
        for (const char *p = names[i]; *p && o + 2 < sizeof glob; p++) {
            if (strchr("*?[]\\", *p))
                glob[o++] = '\\';
            glob[o++] = *p;
        }
        glob[o] = '\0';
        if (!op_filter_set_glob(dst[i], glob, err, sizeof err)) {
            set_message(t, true, "filter: %s", err);
            return;
        }
    }
    tui_store_set_filter(t->store, &f);
    char desc[TUI_INPUT_MAX];
    op_filter_describe(&f, desc, sizeof desc);
    snprintf(t->last_filter_input, sizeof t->last_filter_input, "%s", desc);
    t->ui.view = TUI_VIEW_CALLS;
    t->ui.follow = true;
    t->ui.sel_seq = 0;
    set_message(t, false, "filter: %s", desc);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Live: the selected operation's packets and its connections' handshakes,
 * from the ring of recent packets (what has left it is counted, not found). */
static void write_selected_live(struct tui *t, const struct tui_entry *e, const char *path)
{
    size_t cap = e->op.npkts + LEG_COUNT * TUI_STORE_HANDSHAKE_MAX, n = 0;
    uint64_t *idx = malloc((cap ? cap : 1) * sizeof *idx);
    if (!idx) {
        set_message(t, true, "%s", "out of memory");
        return;
    }
    for (int l = 0; l < LEG_COUNT; l++) {
        const struct tui_conn *c =
            e->op.leg_conn[l] ? tui_store_conn_find(t->store, e->op.leg_conn[l]) : NULL;
        for (size_t i = 0; c && i < c->nhandshake; i++)
            idx[n++] = c->handshake[i];
    }
    for (size_t i = 0; i < e->op.npkts; i++)
        idx[n++] = e->op.pkts[i];
    qsort(idx, n, sizeof *idx, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || idx[i] != idx[u - 1])
            idx[u++] = idx[i];
    uint64_t written, missing;
    char err[512];
    if (packet_ring_write_file(t->ring, pcap_source_linktype(pipeline_source(t->p)), path, idx, u,
                               &written, &missing, err, sizeof err)) {
        char msg[300];
        snprintf(msg, sizeof msg, "wrote %llu packets", (unsigned long long)written);
        if (missing)
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
                     " (%llu had left the %u MiB ring)", (unsigned long long)missing,
                     (unsigned)(TUI_LIVE_RING_BYTES >> 20));
        snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " to %s", path); /* may be cut */
        set_message(t, false, "%s", msg);
    } else {
        set_message(t, true, "%s", err);
    }
    free(idx);
}

static void write_selected(struct tui *t, const char *path)
{
    const struct tui_entry *e = selected_entry(t);
    if (!e) {
        set_message(t, true, "%s", "no operation selected");
        return;
    }
    if (!path[0]) {
        set_message(t, true, "%s", "no file name given");
        return;
    }
    if (t->live) {
        write_selected_live(t, e, path);
        return;
    }
    struct writer *w = writer_new();
    if (!w) {
        set_message(t, true, "%s", "out of memory");
        return;
    }
    /* Handshakes first, in id order (the writer keeps its table sorted). */
    uint64_t ids[LEG_COUNT];
    size_t nids = 0;
    for (int l = 0; l < LEG_COUNT; l++) {
        uint64_t id = e->op.leg_conn[l];
        size_t i = 0;
        while (i < nids && ids[i] < id)
            i++;
        if (!id || (i < nids && ids[i] == id))
            continue;
        memmove(&ids[i + 1], &ids[i], (nids - i) * sizeof ids[0]);
        ids[i] = id;
        nids++;
    }
    for (size_t i = 0; i < nids; i++) {
        const struct tui_conn *c = tui_store_conn_find(t->store, ids[i]);
        if (!c || !c->nhandshake)
            continue;
        struct amqp_conn_info info = c->info;
        info.handshake_pkts = c->handshake;
        info.nhandshake_pkts = c->nhandshake;
        writer_note_conn(w, &info);
    }
    writer_mark_op(w, &e->op);
    set_message(t, false, "writing %s ...", path);
    sample_status(t);
    tui_views_draw(&t->ui, t->store, t->agg, &t->st);
    uint64_t written = 0;
    char err[512];
    if (writer_write(w, &t->o->engine, pipeline_offsets_ns(t->p), path, &written, err,
                     sizeof err)) {
        char msg[300];
        snprintf(msg, sizeof msg, "wrote %llu packets%s to ", (unsigned long long)written,
                 e->pkts_cut ? " (packet list was cut)" : "");
        size_t ml = strlen(msg);
        int n = snprintf(msg + ml, sizeof msg - ml, "%s", path); /* may be cut: a status line */
        (void)n;
        set_message(t, false, "%s", msg);
    } else {
        set_message(t, true, "%s", err);
    }
    writer_free(w);
}

/* ---- keys ---- */

static void prompt_open(struct tui *t, enum tui_prompt kind, const char *initial)
{
    t->ui.prompt = kind;
    snprintf(t->ui.input, sizeof t->ui.input, "%s", initial);
    t->ui.input_len = strlen(t->ui.input);
    t->ui.message[0] = '\0';
}

static void prompt_key(struct tui *t, int kind, wint_t ch)
{
    struct tui_ui *ui = &t->ui;
    if (kind == OK && ch == 27) { /* Esc */
        ui->prompt = TUI_PROMPT_NONE;
        return;
    }
    if ((kind == OK && (ch == '\n' || ch == '\r')) || (kind == KEY_CODE_YES && ch == KEY_ENTER)) {
        enum tui_prompt p = ui->prompt;
        ui->prompt = TUI_PROMPT_NONE;
        if (p == TUI_PROMPT_FILTER)
            apply_filter(t, ui->input);
        else if (p == TUI_PROMPT_FIND)
            find_next(t, ui->input);
        else
            write_selected(t, ui->input);
        return;
    }
    if ((kind == KEY_CODE_YES && ch == KEY_BACKSPACE) || (kind == OK && (ch == 127 || ch == 8))) {
        while (ui->input_len > 0) {
            unsigned char c = (unsigned char)ui->input[--ui->input_len];
            if ((c & 0xc0) != 0x80)
                break; /* removed a whole UTF-8 character */
        }
        ui->input[ui->input_len] = '\0';
        return;
    }
    if (kind == OK && ch == 21) { /* ^U */
        ui->input_len = 0;
        ui->input[0] = '\0';
        return;
    }
    if (kind != OK || ch < 32 || ch == 127)
        return;
    char mb[MB_LEN_MAX];
    mbstate_t ps;
    memset(&ps, 0, sizeof ps);
    size_t n = wcrtomb(mb, (wchar_t)ch, &ps);
    if (n == (size_t)-1 || ui->input_len + n >= sizeof ui->input)
        return;
    memcpy(ui->input + ui->input_len, mb, n);
    ui->input_len += n;
    ui->input[ui->input_len] = '\0';
}

enum move { MOVE_BY, MOVE_HOME, MOVE_END };

static void move_list(struct tui_list *l, size_t n, enum move how, long delta)
{
    if (n == 0)
        return;
    long sel = (long)l->sel;
    if (how == MOVE_HOME)
        sel = 0;
    else if (how == MOVE_END)
        sel = (long)n - 1;
    else
        sel += delta;
    if (sel < 0)
        sel = 0;
    if (sel >= (long)n)
        sel = (long)n - 1;
    l->sel = (size_t)sel;
}

static void move_selection(struct tui *t, enum move how, long delta)
{
    struct tui_ui *ui = &t->ui;
    switch (ui->view) {
    case TUI_VIEW_CALLS: {
        size_t n = tui_views_calls_count(ui, t->store);
        if (n == 0)
            return;
        struct tui_list l = {tui_views_calls_selected(ui, t->store), 0};
        move_list(&l, n, how, delta);
        const struct tui_entry *e = tui_views_calls_at(ui, t->store, l.sel);
        ui->sel_seq = e ? e->seq : 0;
        if (how == MOVE_END)
            ui->follow = true;
        else if (how == MOVE_HOME || delta < 0)
            ui->follow = false;
        break;
    }
    case TUI_VIEW_DETAIL:
        if (how == MOVE_HOME)
            ui->detail_top = 0;
        else if (how == MOVE_END)
            ui->detail_top = ui->detail.n; /* the view clamps to the last page */
        else if (delta < 0)
            ui->detail_top = (size_t)-delta > ui->detail_top ? 0 : ui->detail_top - (size_t)-delta;
        else
            ui->detail_top += (size_t)delta;
        break;
    case TUI_VIEW_TOPICS:
        move_list(&ui->topics, tui_agg_count(t->agg), how, delta);
        break;
    case TUI_VIEW_FLOWS:
        tui_flows_move(t->flows,
                       how == MOVE_HOME  ? TUI_FLOWS_HOME
                       : how == MOVE_END ? TUI_FLOWS_END
                                         : TUI_FLOWS_BY,
                       delta);
        break;
    default:
        move_list(&ui->conns, tui_store_conn_count(t->store), how, delta);
        break;
    }
}

static void switch_view(struct tui *t, enum tui_view v)
{
    if (v == TUI_VIEW_DETAIL && t->ui.view != TUI_VIEW_DETAIL) {
        pin_selection(t);
        t->ui.back = t->ui.view == TUI_VIEW_DETAIL ? TUI_VIEW_CALLS : t->ui.view;
    }
    t->ui.view = v;
}

static void key(struct tui *t, int kind, wint_t ch)
{
    struct tui_ui *ui = &t->ui;
    if (kind == KEY_CODE_YES && ch == KEY_RESIZE)
        return; /* the next frame reads the new size */
    if (ui->prompt != TUI_PROMPT_NONE) {
        prompt_key(t, kind, ch);
        return;
    }
    if (ui->help) { /* any key closes the help; q still quits */
        ui->help = false;
        if (!(kind == OK && ch == 'q'))
            return;
    }
    long page = ui->rows > 1 ? ui->rows - 1 : 1;
    if (kind == KEY_CODE_YES) {
        switch (ch) {
        case KEY_UP:
            move_selection(t, MOVE_BY, -1);
            break;
        case KEY_DOWN:
            move_selection(t, MOVE_BY, 1);
            break;
        case KEY_PPAGE:
            move_selection(t, MOVE_BY, -page);
            break;
        case KEY_NPAGE:
            move_selection(t, MOVE_BY, page);
            break;
        case KEY_HOME:
            move_selection(t, MOVE_HOME, 0);
            break;
        case KEY_END:
            move_selection(t, MOVE_END, 0);
            break;
        case KEY_ENTER:
            key(t, OK, '\n');
            break;
        case KEY_BTAB:
            switch_view(t, (enum tui_view)((ui->view + TUI_VIEW_COUNT - 1) % TUI_VIEW_COUNT));
            break;
        default:
            break;
        }
        return;
    }
    ui->message[0] = '\0';
    switch (ch) {
    case 'q':
        t->quit = true;
        break;
    case '?':
        ui->help = true;
        break;
    case 'k':
        move_selection(t, MOVE_BY, -1);
        break;
    case 'j':
        move_selection(t, MOVE_BY, 1);
        break;
    case '\n':
    case '\r':
        if (ui->view == TUI_VIEW_CALLS && tui_views_calls_count(ui, t->store))
            switch_view(t, TUI_VIEW_DETAIL);
        else if (ui->view == TUI_VIEW_TOPICS)
            filter_from_topic(t);
        else if (ui->view == TUI_VIEW_FLOWS)
            tui_flows_open(t->flows);
        break;
    case 27: /* Esc */
        if (ui->view == TUI_VIEW_DETAIL)
            ui->view = ui->back;
        else if (ui->view == TUI_VIEW_FLOWS)
            tui_flows_back(t->flows);
        break;
    case 'F':
        switch_view(t, TUI_VIEW_FLOWS);
        break;
    case '\t':
        switch_view(t, (enum tui_view)((ui->view + 1) % TUI_VIEW_COUNT));
        break;
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
        switch_view(t, (enum tui_view)(ch - '1'));
        break;
    case '/':
        prompt_open(t, TUI_PROMPT_FILTER, t->last_filter_input);
        break;
    case 's':
        if (ui->view == TUI_VIEW_CALLS && ui->order) {
            bool was_following = ui->follow && ui->order->key == TUI_CSORT_TIME;
            pin_selection(t); /* a picked call stays selected in the new order */
            tui_calls_order_set(ui->order, (enum tui_calls_sort)((ui->order->key + 1) %
                                                                 TUI_CSORT_COUNT));
            if (was_following)
                ui->sel_seq = 0; /* nothing picked: the top of the sorted list */
            set_message(t, false,
                        ui->order->key == TUI_CSORT_TIME ? "Calls sorted by %s; End or f follows again"
                                                         : "Calls sorted by %s",
                        tui_calls_sort_name(ui->order->key));
            break;
        }
        ui->sort = (enum tui_agg_sort)((ui->sort + 1) % TUI_SORT_COUNT);
        if (ui->view != TUI_VIEW_TOPICS)
            set_message(t, false, "Topics view sorted by %s (press 3 to see it)",
                        tui_agg_sort_name(ui->sort));
        break;
    case 'p':
        ui->paused = !ui->paused;
        ui->pause_seq = tui_store_last_seq(t->store);
        set_message(t, false, "%s",
                    ui->paused ? "display paused (capture continues); p resumes" : "resumed");
        break;
    case 'f':
        if (tui_views_calls_sort(ui) != TUI_CSORT_TIME) { /* following means arrival order */
            tui_calls_order_set(ui->order, TUI_CSORT_TIME);
            set_message(t, false, "%s", "Calls back in arrival order, following");
        }
        ui->follow = true;
        ui->sel_seq = 0;
        break;
    case 'n':
        prompt_open(t, TUI_PROMPT_FIND, ui->find);
        break;
    case 'w': {
        const struct tui_entry *e = selected_entry(t);
        char name[128];
        if (!e) {
            set_message(t, true, "%s", "no operation selected");
            break;
        }
        snprintf(name, sizeof name, "oslotrace-%llu.pcap", (unsigned long long)e->seq);
        prompt_open(t, TUI_PROMPT_WRITE, name);
        break;
    }
    default:
        break;
    }
}

static bool read_keys(struct tui *t)
{
    bool any = false;
    for (int i = 0; i < 256; i++) { /* bounded: a paste cannot starve the capture */
        wint_t ch;
        int kind = get_wch(&ch);
        if (kind == ERR)
            break;
        any = true;
        key(t, kind, ch);
        if (t->quit)
            break;
    }
    return any;
}

/* ---- the loop ---- */

/* At the end of the input: the note the Calls and Topics views show whole,
 * the input's error or warning, or when nothing was reported what was seen
 * instead, in the words of a batch run's end (ui/empty_run.c). */
static void set_note(struct tui *t)
{
    struct tui_status *st = &t->st;
    st->note[0] = '\0';
    st->note_always = t->pipeline_failed || t->pipeline_warned;
    if (st->note_always) {
        snprintf(st->note, sizeof st->note, "%s: %s", t->pipeline_failed ? "ERROR" : "warning",
                 t->pipeline_err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    bool said = empty_run_explain(f, pipeline_counters(t->p), false);
    fclose(f);
    if (said && text) {
        /* "oslotrace: " starts each line: drop it, join the lines */
        size_t o = 0;
        for (char *line = strtok(text, "\n"); line && o + 2 < sizeof st->note;
             line = strtok(NULL, "\n")) {
            if (strncmp(line, "oslotrace: ", 11) == 0)
                line += 11;
            o += (size_t)snprintf(st->note + o, sizeof st->note - o, "%s%s", o ? " " : "", line);
        }
    }
    free(text);
}

static void step(struct tui *t, bool fd_ready, double now)
{
    if (t->done)
        return;
    if (t->live && !fd_ready && now - t->last_step < LIVE_STEP_S)
        return;
    t->last_step = now;
    enum pipeline_status s;
    if (t->live) {
        /* A live read blocks until a packet or libpcap's timeout, so a step of
         * many packets would last as long as the traffic trickles in. One
         * packet per step, for a bounded slice of time, keeps keys responsive. */
        unsigned n = 0;
        do
            s = pipeline_step(t->p, 1);
        while (s == PIPELINE_MORE && ++n < STEP_PACKETS_LIVE &&
               clock_mono_s() - now < LIVE_SLICE_S);
    } else {
        s = pipeline_step(t->p, STEP_PACKETS_OFFLINE);
    }
    if (s == PIPELINE_ERROR) {
        /* As main's run_loop: a damaged tail after good packets is a warning. */
        if (counters_value(pipeline_counters(t->p), "packets") > 0)
            t->pipeline_warned = true;
        else
            t->pipeline_failed = true;
        snprintf(t->pipeline_err, sizeof t->pipeline_err, "%s", pipeline_error(t->p));
    }
    if (s == PIPELINE_DONE || s == PIPELINE_ERROR) {
        pipeline_finish(t->p); /* the calls still pending end as open or timeout */
        t->done = true;
        set_note(t);
        if (t->pipeline_warned)
            set_message(t, true, "warning: %s; q quits", t->pipeline_err);
        else if (!t->pipeline_failed)
            set_message(t, false, "%s",
                        t->live ? "capture stopped; q quits" : "end of capture; q quits");
    }
}

static void add_waiting(void *user, const struct op *op)
{
    tui_store_add_op(user, op);
}

/* Rebuilds the small list of calls still waiting for their reply (a fresh
 * store each frame: at most TUI_WAITING_MAX copies, filtered like the list). */
static void refresh_waiting(struct tui *t)
{
    tui_store_free(t->waiting);
    t->waiting = NULL;
    t->st.waiting = NULL;
    if (t->done || t->ui.view != TUI_VIEW_CALLS)
        return;
    struct tui_store_config sc;
    tui_store_config_default(&sc);
    sc.history = TUI_WAITING_MAX;
    sc.body_cap = 0;
    sc.max_pkts = 0;
    t->waiting = tui_store_new(&sc);
    if (!t->waiting)
        return;
    tui_store_set_filter(t->waiting, tui_store_filter(t->store));
    pipeline_foreach_pending(t->p, TUI_WAITING_MAX, add_waiting, t->waiting);
    t->st.waiting = t->waiting;
}

static void loop(struct tui *t, volatile sig_atomic_t *stop_requests)
{
    int pfd = t->live ? pcap_source_fd(pipeline_source(t->p)) : -1;
    bool dirty = true;
    while (!t->quit && !*stop_requests) {
        double now = clock_mono_s();
        double until_frame = t->last_draw + FRAME_S - now;
        int timeout_ms;
        if (!t->done && !t->live)
            timeout_ms = 0; /* loading a file: only look at the keyboard */
        else if (dirty && until_frame > 0)
            timeout_ms = (int)(until_frame * 1000) + 1;
        else
            timeout_ms = (int)(FRAME_S * 1000);
        struct pollfd fds[2] = {{.fd = t->kbd_fd, .events = POLLIN},
                                {.fd = pfd, .events = POLLIN}};
        int nfds = pfd >= 0 && !t->done ? 2 : 1;
        int r = poll(fds, (nfds_t)nfds, timeout_ms);
        if (r < 0 && errno != EINTR)
            break;
        if (read_keys(t))
            dirty = true;
        now = clock_mono_s();
        uint64_t before = tui_store_last_seq(t->store);
        step(t, nfds == 2 && r > 0 && (fds[1].revents & POLLIN), now);
        if (tui_store_last_seq(t->store) != before || !t->done || t->live)
            dirty = true; /* counters move while loading or capturing */
        if (dirty && now - t->last_draw >= FRAME_S) {
            sample_status(t);
            refresh_waiting(t);
            if (t->ui.view == TUI_VIEW_TOPICS)
                tui_agg_load(t->agg, pipeline_stats(t->p));
            if (t->ui.view == TUI_VIEW_FLOWS)
                tui_flows_refresh_open(t->flows, t->p);
            tui_views_draw(&t->ui, t->store, t->agg, &t->st);
            t->last_draw = now;
            dirty = false;
        }
    }
}

static bool start_curses(struct tui *t)
{
    /* -r -: stdin is the capture, the keys come from the controlling terminal */
    bool stdin_input = false;
    for (size_t i = 0; i < t->o->engine.nfiles; i++)
        stdin_input |= strcmp(t->o->engine.files[i], "-") == 0;
    FILE *in = stdin;
    t->kbd_fd = STDIN_FILENO;
    if (stdin_input) {
        t->tty = fopen("/dev/tty", "r");
        if (!t->tty || !isatty(fileno(t->tty)) || !isatty(STDOUT_FILENO)) {
            fprintf(stderr, "oslotrace: --tui -r - reads the capture from stdin and the keys from "
                            "the terminal (/dev/tty): %s\n",
                    t->tty ? "stdout is not a terminal" : "there is no controlling terminal");
            if (t->tty)
                fclose(t->tty);
            t->tty = NULL;
            return false;
        }
        in = t->tty;
        t->kbd_fd = fileno(t->tty);
    } else if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "oslotrace: --tui needs a terminal on stdin and stdout "
                        "(a capture on stdin: -r -)\n");
        return false;
    }
    /* newterm, unlike initscr, returns NULL instead of exiting on a bad TERM */
    SCREEN *scr = newterm(NULL, stdout, in);
    if (!scr) {
        const char *term = getenv("TERM");
        fprintf(stderr, "oslotrace: --tui: cannot use terminal type '%s'\n", term ? term : "");
        if (t->tty)
            fclose(t->tty);
        t->tty = NULL;
        return false;
    }
    t->screen = scr;
    set_escdelay(25);
    cbreak(); /* Ctrl-C stays a signal: main's handler sets *stop_requests */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    /* --color=never: none; always: whatever NO_COLOR says; auto: NO_COLOR honoured. */
    bool color =
        has_colors() && t->o->color != TEXT_COLOR_NEVER &&
        (t->o->color == TEXT_COLOR_ALWAYS || !(getenv("NO_COLOR") && getenv("NO_COLOR")[0]));
    if (color) {
        start_color();
        tui_views_init_colors();
    }
    const char *cs = nl_langinfo(CODESET);
    tui_ui_init(&t->ui, cs && strcmp(cs, "UTF-8") == 0, color);
    return true;
}

static void stop_curses(struct tui *t)
{
    if (!t->screen)
        return;
    endwin();
    delscreen(t->screen);
    t->screen = NULL;
    if (t->tty)
        fclose(t->tty);
    t->tty = NULL;
}

int tui_run(const struct cli_options *o, volatile sig_atomic_t *stop_requests)
{
    setlocale(LC_ALL, "");
    struct tui t;
    memset(&t, 0, sizeof t);
    t.o = o;

    struct tui_store_config sc;
    tui_store_config_default(&sc);
    sc.history = (size_t)o->tui_history;
    struct tui_agg_config ac;
    tui_agg_config_default(&ac);
    t.store = tui_store_new(&sc);
    t.agg = tui_agg_new(&ac);
    t.flows = tui_flows_new(TUI_FLOWS_MAX);
    t.st.flows = t.flows;
    if (!t.store || !t.agg || !t.flows) {
        fprintf(stderr, "oslotrace: out of memory for --tui-history %llu\n",
                (unsigned long long)o->tui_history);
        tui_store_free(t.store);
        tui_agg_free(t.agg);
        tui_flows_free(t.flows);
        return 1;
    }
    struct pipeline_sinks cb = sink_set_callbacks(&t.sinks);
    char err[512];
    t.p = pipeline_new(&o->engine, &cb, err, sizeof err);
    t.live = t.p && pcap_source_is_live(pipeline_source(t.p));
    bool ok = t.p != NULL;
    if (ok && t.live && !(t.ring = packet_ring_new(TUI_LIVE_RING_BYTES))) {
        snprintf(err, sizeof err, "out of memory for the live packet ring");
        ok = false;
    }
    if (ok && (!counters_add(pipeline_counters(t.p), tui_store_rows,
                             sizeof tui_store_rows / sizeof tui_store_rows[0], read_store_stats,
                             t.store, sizeof(struct tui_store_stats)) ||
               !counters_add(pipeline_counters(t.p), tui_flows_rows,
                             sizeof tui_flows_rows / sizeof tui_flows_rows[0], read_flows_stats,
                             t.flows, sizeof(struct tui_flows_stats)))) {
        snprintf(err, sizeof err, "out of memory");
        ok = false;
    }
    /* Outputs besides the screen (-w, --report) come from the same table as
     * in a batch run; they write their results when the TUI has ended. */
    struct sink_env env = {.o = o, .p = t.p, .live = t.live, .out = stdout, .front_end = &t};
    if (ok)
        ok = sink_set_open(&t.sinks, &env, &tui_sink, err, sizeof err);
    /* As in a batch run: -w is created first, then privileges go. */
    if (ok && t.live)
        ok = privileges_drop(o->user, o->engine.wait_iface, err, sizeof err);
    if (!ok) {
        fprintf(stderr, "oslotrace: %s\n", err);
        sink_set_close(&t.sinks);
        pipeline_free(t.p);
        packet_ring_free(t.ring);
        tui_store_free(t.store);
        tui_agg_free(t.agg);
        tui_flows_free(t.flows);
        return 1;
    }
    describe_source(o, t.st.source, sizeof t.st.source);

    int status = 0;
    if (start_curses(&t)) {
        t.rate_t = clock_mono_s();
        loop(&t, stop_requests);
        stop_curses(&t);
        tui_ui_free(&t.ui);
    } else {
        status = 1;
    }
    /* After the terminal is back, whole, as a batch run says it. */
    if (t.pipeline_failed) {
        fprintf(stderr, "oslotrace: %s\n", t.pipeline_err);
        status = 1;
    } else if (t.pipeline_warned) {
        fprintf(stderr, "oslotrace: warning: %s\n", t.pipeline_err);
    }
    if (t.live && status == 0) {
        const struct counters *reg = pipeline_counters(t.p);
        fprintf(stderr, "oslotrace: %llu packets, %llu dropped by kernel, %llu ops\n",
                (unsigned long long)counters_value(reg, "packets"),
                (unsigned long long)counters_value(reg, "pcap_drops"),
                (unsigned long long)counters_value(reg, "ops_reported"));
    }
    /* q before the end of a file: the outputs get what was read so far. */
    pipeline_finish(t.p);
    if (status == 0 && !sink_set_finish(&t.sinks))
        status = 1;
    sink_set_close(&t.sinks);
    pipeline_free(t.p);
    packet_ring_free(t.ring);
    tui_store_free(t.store);
    tui_store_free(t.waiting);
    tui_agg_free(t.agg);
    tui_flows_free(t.flows);
    return status;
}

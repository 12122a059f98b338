/*
 * sink.h: what every output is to the front-ends: a row of functions.
 *
 * Text lines, NDJSON, the AMQP view, the report, -w (offline and live), the
 * live counters line and the TUI's own store are all sinks. A front-end
 * (ui/main.c's batch run, ui/tui.c) opens the rows of sink_table that the
 * options ask for, hands the engine one set of callbacks that walks them, and
 * finishes them at the end of the input. A new output is one file with one
 * `const struct sink`, one row in sink_table (ui/sinks.c) and its option.
 *
 * Every function but open may be NULL. Events reach the sinks in table order;
 * finish walks the table backwards, so the rows that print results (the
 * report) finish before the rows that write files report what they wrote.
 */
#ifndef OSLOTRACE_UI_SINK_H
#define OSLOTRACE_UI_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "capture/packet.h"
#include "dissect/amqp_conn.h"
#include "dissect/op.h"
#include "engine/pipeline.h"
#include "ui/cli.h"

/* What a sink may look at when it opens, and later through its own copy. */
struct sink_env {
    const struct cli_options *o;
    struct pipeline *p; /* the engine: counters, statistics, pending calls, link type */
    bool live;
    FILE *out;        /* where results go (stdout) */
    bool color;       /* out is a terminal and colour is wanted */
    bool flush_lines; /* out is not a regular file: flush each line, for pipes */
    void *front_end;  /* the front-end's own state, for its own sink */
};

struct sink {
    const char *name;
    /* The sink's state; NULL with err "" when the options do not ask for this
     * sink, NULL with a one-line message in err when it cannot open. */
    void *(*open)(const struct sink_env *env, char *err, size_t errlen);
    void (*on_op)(void *s, const struct op *op);
    void (*on_method)(void *s, const struct amqp_method_event *ev);
    void (*on_conn)(void *s, const struct amqp_conn_info *info, enum amqp_conn_event ev);
    void (*on_packet)(void *s, const struct packet *pkt);
    /* A turn of the front-end's loop; now = clock_mono_s(). */
    void (*tick)(void *s, double now);
    /* End of the input, after the engine has ended every operation. False
     * when the sink failed (it said why on stderr): the run exits 1. */
    bool (*finish)(void *s);
    void (*close)(void *s);
    /* What the broker did to a client (dissect/amqp_conn.h); not filtered. */
    void (*on_broker_event)(void *s, const struct amqp_broker_event *ev);
    /* SIGHUP: reopen output files by their names (log rotation). */
    void (*reopen)(void *s);
    /* A flow ended (only when the options made the engine keep flows). */
    void (*on_flow)(void *s, const struct flow *f);
};

/* A sink's state: `size` zeroed bytes that begin with a copy of *env (so a
 * state struct starts with `struct sink_env env`). NULL and "out of memory"
 * in err when it cannot be had. Freed with free(). */
void *sink_state_new(size_t size, const struct sink_env *env, char *err, size_t errlen);

/* One line on stderr the first time each bounded table evicts (ui/limit_warn.c). */
extern const struct sink limit_warn_sink;

/* The outputs every front-end may open, in event order (ui/sinks.c). */
extern const struct sink *const sink_table[];

#define SINK_SET_MAX 16

/* The open sinks of one run. */
struct sink_set {
    const struct sink *rows[SINK_SET_MAX];
    void *state[SINK_SET_MAX];
    size_t n;
    bool any_packet; /* some open sink wants every packet */
};

/* Callbacks for pipeline_new that walk the set (open the sinks afterwards:
 * the set is read at each event). */
struct pipeline_sinks sink_set_callbacks(struct sink_set *set);
/* Opens every row of sink_table the options ask for, then `extra` (a front-
 * end's own sink, may be NULL). False with a message when one cannot open;
 * the rows opened so far stay in the set for sink_set_close(). */
bool sink_set_open(struct sink_set *set, const struct sink_env *env, const struct sink *extra,
                   char *err, size_t errlen);
void sink_set_tick(struct sink_set *set, double now);
/* SIGHUP: every sink that writes a file reopens it by its name. */
void sink_set_reopen(struct sink_set *set);
/* Finishes every sink, last row first; false when any failed. */
bool sink_set_finish(struct sink_set *set);
void sink_set_close(struct sink_set *set);

#endif

/*
 * start_order.h: --sort-start, operations printed in the order they began.
 *
 * Correlation emits an operation when it ends (a timed-out call only at
 * its timeout plus the late-reply window), so lines come out of start
 * order. The text and -j sinks can hand their rendered lines here instead
 * of printing them: a bounded min-heap keyed by start time (the request's
 * publish, else the first leg seen; arrival order breaks ties) holds them
 * and lets one go once packet time has passed its start plus the longest
 * time an operation can stay open (the longest call timeout in play, its
 * late-reply window and the hold of casts), since no operation that began
 * earlier can still be pending then. When the heap is full the earliest
 * goes out at once and is counted (out_of_order_risk): order is then best
 * effort. Everything left goes out, in order, at the end of the input.
 */
#ifndef OSLOTRACE_UI_START_ORDER_H
#define OSLOTRACE_UI_START_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prints one held line (start_ns for the line's time stamp). */
typedef void (*start_order_emit)(void *user, uint64_t start_ns, const char *text, size_t len);

struct start_order_stats {
    uint64_t held;           /* lines that went through the buffer */
    uint64_t forced;         /* let go before their turn because the buffer was full */
    uint64_t alloc_failures; /* printed at once for lack of memory */
    uint64_t max_held;       /* most lines held at one time */
};

struct start_order;
struct counters;
/* Registers the sort_start_* counters (the buffer must outlive the registry). */
bool start_order_register_counters(struct start_order *so, struct counters *c);

/* max: lines held at most; timeout_s: the call timeout configured (raised
 * by note_timeout when an operation says its own was longer). */
struct start_order *start_order_new(size_t max, double timeout_s, start_order_emit emit,
                                    void *user);
void start_order_free(struct start_order *so);
/* An operation's own timeout (expiration): widens the delay when longer. */
void start_order_note_timeout(struct start_order *so, double timeout_s);
/* Holds a copy of text; then lets go of what packet time now_ns allows. */
void start_order_push(struct start_order *so, uint64_t start_ns, uint64_t now_ns,
                      const char *text, size_t len);
/* Lets go of what packet time allows (no new line). */
void start_order_release(struct start_order *so, uint64_t now_ns);
/* Everything left, in start order. */
void start_order_flush(struct start_order *so);
void start_order_get_stats(const struct start_order *so, struct start_order_stats *out);
/* The delay in force, seconds. */
double start_order_delay_s(const struct start_order *so);

/* For the text and -j sinks: a buffer when --sort-start asks for one (NULL
 * and err "" when not; NULL and a message when it cannot be had), its
 * counters registered with the engine's. */
struct sink_env;
struct op;
struct start_order *start_order_open(const struct sink_env *env, start_order_emit emit,
                                     void *user, char *err, size_t errlen);
/* Holds one operation's rendered text, at the engine's packet time. */
void start_order_add_op(struct start_order *so, const struct sink_env *env, const struct op *op,
                        const char *text, size_t len);
/* A turn of the loop (live: time moves without operations). */
void start_order_tick(struct start_order *so, const struct sink_env *env);
/* End of the input: everything left, in order; one line on stderr when the
 * buffer was ever full. */
void start_order_finish(struct start_order *so);

#endif

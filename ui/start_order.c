/*
 * start_order.c: the bounded re-ordering buffer of --sort-start (see
 * start_order.h). A binary min-heap of (start, arrival) keys.
 */
#include "ui/start_order.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "ui/sink.h"

/* Casts, fanouts and notifications are held this long after they are first
 * seen before correlation emits them (dissect/correlate.h hold_s), and the
 * late-reply window of a timed-out call is its timeout, at least 5 s and at
 * most 300 s (dissect/corr_call.c); one more second for the sweep. */
#define HOLD_S 2.0
#define LATE_MIN_S 5.0
#define LATE_MAX_S 300.0
#define SLACK_S 1.0

struct item {
    uint64_t start_ns, seq;
    char *text;
    size_t len;
};

struct start_order {
    struct item *heap;
    size_t n, max;
    uint64_t seq;
    double timeout_s;
    uint64_t delay_ns;
    start_order_emit emit;
    void *user;
    struct start_order_stats st;
};

static uint64_t delay_ns_of(double timeout_s)
{
    double late = timeout_s < LATE_MIN_S ? LATE_MIN_S : timeout_s > LATE_MAX_S ? LATE_MAX_S
                                                                               : timeout_s;
    return (uint64_t)((timeout_s + late + HOLD_S + SLACK_S) * 1e9);
}

struct start_order *start_order_new(size_t max, double timeout_s, start_order_emit emit,
                                    void *user)
{
    struct start_order *so = calloc(1, sizeof *so);
    if (!so)
        return NULL;
    so->max = max ? max : 1;
    so->heap = calloc(so->max, sizeof *so->heap);
    if (!so->heap) {
        free(so);
        return NULL;
    }
    so->emit = emit;
    so->user = user;
    so->timeout_s = timeout_s > 0 ? timeout_s : 60;
    so->delay_ns = delay_ns_of(so->timeout_s);
    return so;
}

void start_order_free(struct start_order *so)
{
    if (!so)
        return;
    for (size_t i = 0; i < so->n; i++)
        free(so->heap[i].text);
    free(so->heap);
    free(so);
}

void start_order_note_timeout(struct start_order *so, double timeout_s)
{
    if (timeout_s > so->timeout_s) {
        so->timeout_s = timeout_s;
        so->delay_ns = delay_ns_of(timeout_s);
    }
}

double start_order_delay_s(const struct start_order *so)
{
    return (double)so->delay_ns / 1e9;
}

static bool less(const struct item *a, const struct item *b)
{
    return a->start_ns < b->start_ns || (a->start_ns == b->start_ns && a->seq < b->seq);
}

static void swap(struct item *a, struct item *b)
{
    struct item t = *a;
    *a = *b;
    *b = t;
}

/* Emits and removes the earliest. */
static void pop(struct start_order *so)
{
    struct item top = so->heap[0];
    so->heap[0] = so->heap[--so->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < so->n && less(&so->heap[l], &so->heap[m]))
            m = l;
        if (r < so->n && less(&so->heap[r], &so->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(&so->heap[i], &so->heap[m]);
        i = m;
    }
    so->emit(so->user, top.start_ns, top.text, top.len);
    free(top.text);
}

void start_order_release(struct start_order *so, uint64_t now_ns)
{
    while (so->n && so->heap[0].start_ns + so->delay_ns <= now_ns)
        pop(so);
}

void start_order_push(struct start_order *so, uint64_t start_ns, uint64_t now_ns,
                      const char *text, size_t len)
{
    start_order_release(so, now_ns);
    char *copy = malloc(len + 1);
    if (!copy) { /* printed now rather than lost */
        so->st.alloc_failures++;
        so->emit(so->user, start_ns, text, len);
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (so->n == so->max) { /* full: the earliest of the held and the new one goes now */
        so->st.forced++;
        if (!less(&so->heap[0], &(struct item){start_ns, so->seq, NULL, 0})) {
            so->seq++;
            so->emit(so->user, start_ns, text, len);
            free(copy);
            return;
        }
        pop(so);
    }
    size_t i = so->n++;
    so->heap[i] = (struct item){start_ns, so->seq++, copy, len};
    while (i > 0 && less(&so->heap[i], &so->heap[(i - 1) / 2])) {
        swap(&so->heap[i], &so->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    so->st.held++;
    if (so->n > so->st.max_held)
        so->st.max_held = so->n;
}

void start_order_flush(struct start_order *so)
{
    while (so->n)
        pop(so);
}

void start_order_get_stats(const struct start_order *so, struct start_order_stats *out)
{
    *out = so->st;
}

static const struct counter_def start_order_rows[] = {
    COUNTER_ROW(struct start_order_stats, held, "sort_start_held", TOTAL, 0,
                "Operations --sort-start held to print them in start order."),
    COUNTER_ROW(struct start_order_stats, forced, "sort_start_forced", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Operations --sort-start printed before their turn because its buffer was full "
                "(their order is not guaranteed)."),
    COUNTER_ROW(struct start_order_stats, max_held, "sort_start_max_held", GAUGE, 0,
                "Most operations the --sort-start buffer held at one time."),
};

static void read_stats(const void *owner, void *out)
{
    start_order_get_stats(owner, out);
}

bool start_order_register_counters(struct start_order *so, struct counters *c)
{
    return counters_add(c, start_order_rows, sizeof start_order_rows / sizeof start_order_rows[0],
                        read_stats, so, sizeof(struct start_order_stats));
}

struct start_order *start_order_open(const struct sink_env *env, start_order_emit emit,
                                     void *user, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!env->o->sort_start)
        return NULL;
    struct start_order *so =
        start_order_new((size_t)env->o->sort_start, env->o->engine.call_timeout_s, emit, user);
    if (!so) {
        snprintf(err, errlen, "--sort-start: out of memory for %llu lines",
                 (unsigned long long)env->o->sort_start);
        return NULL;
    }
    if (env->p && !start_order_register_counters(so, pipeline_counters(env->p))) {
        snprintf(err, errlen, "--sort-start: cannot register its counters");
        start_order_free(so);
        return NULL;
    }
    return so;
}

static uint64_t packet_now(const struct sink_env *env)
{
    uint64_t first = 0, last = 0;
    if (env->p)
        pipeline_time_span(env->p, &first, &last);
    return last;
}

void start_order_add_op(struct start_order *so, const struct sink_env *env, const struct op *op,
                        const char *text, size_t len)
{
    if (op->type == OP_CALL && op->timeout_s > 0)
        start_order_note_timeout(so, op->timeout_s);
    start_order_push(so, op->ts_ns, packet_now(env), text, len);
}

void start_order_tick(struct start_order *so, const struct sink_env *env)
{
    start_order_release(so, packet_now(env));
}

void start_order_finish(struct start_order *so)
{
    start_order_flush(so);
    if (so->st.forced)
        fprintf(stderr,
                "oslotrace: --sort-start: %llu operations printed before their turn: the buffer "
                "of %zu was full (a larger --sort-start=N keeps them in order)\n",
                (unsigned long long)so->st.forced, so->max);
}

/*
 * limit_warn.c: one line on stderr the first time each bounded table is
 * full. Every table of every stage has a limit and an eviction rule, and its
 * counter says how much was evicted (counters flagged COUNTER_EVICTION); in
 * a run of weeks nobody reads the counters until something looks wrong, so
 * the first eviction of each kind is said once, with the counter to watch.
 * Later ones are only counted. The batch front-end's sink (the TUI shows the
 * same counters in its status line).
 */
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "ui/sink.h"

#define LIMIT_CHECK_PERIOD_S 1.0

struct limit_warn {
    struct sink_env env;
    double next_check;
    struct counter_value *vals;
    bool *told; /* by registry position, which only grows */
    size_t cap;
};

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    if (env->o->tui)
        return NULL;
    return sink_state_new(sizeof(struct limit_warn), env, err, errlen);
}

static void check(struct limit_warn *w)
{
    const struct counters *reg = pipeline_counters(w->env.p);
    size_t n = counters_count(reg);
    if (n > w->cap) {
        struct counter_value *v = realloc(w->vals, n * sizeof *v);
        bool *t = v ? realloc(w->told, n * sizeof *t) : NULL;
        if (v)
            w->vals = v;
        if (!t)
            return; /* no memory: try at the next check */
        memset(t + w->cap, 0, (n - w->cap) * sizeof *t);
        w->told = t;
        w->cap = n;
    }
    n = counters_snapshot(reg, w->vals, w->cap);
    for (size_t i = 0; i < n; i++) {
        const struct counter_value *cv = &w->vals[i];
        if (!(cv->def->flags & COUNTER_EVICTION) || !cv->value || w->told[i])
            continue;
        w->told[i] = true;
        fprintf(stderr, "oslotrace: warning: a limit was reached: %s (counter %s; further ones "
                        "are only counted)\n",
                cv->def->help, cv->def->name);
    }
}

static void sink_tick(void *s, double now)
{
    struct limit_warn *w = s;
    if (now < w->next_check)
        return;
    w->next_check = now + LIMIT_CHECK_PERIOD_S;
    check(w);
}

static bool sink_finish(void *s)
{
    check(s);
    return true;
}

static void sink_close(void *s)
{
    struct limit_warn *w = s;
    free(w->vals);
    free(w->told);
    free(w);
}

const struct sink limit_warn_sink = {
    .name = "limit-warn",
    .open = sink_open,
    .tick = sink_tick,
    .finish = sink_finish,
    .close = sink_close,
};

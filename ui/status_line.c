/*
 * status_line.c: the counters line of a live capture. Its numbers are read
 * by name from the engine's counter registry, like every other view.
 */
#include "ui/status_line.h"

void status_line_print(FILE *out, const struct counters *reg)
{
    fprintf(out, "oslotrace: %llu packets, %llu dropped by kernel, %llu ops, %llu pending calls\n",
            (unsigned long long)counters_value(reg, "packets"),
            (unsigned long long)counters_value(reg, "pcap_drops"),
            (unsigned long long)counters_value(reg, "ops_reported"),
            (unsigned long long)counters_value(reg, "pending_calls"));
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    /* The TUI says it in its own words when it ends. */
    return env->live && !env->o->tui ? env->p : NULL;
}

static bool sink_finish(void *s)
{
    status_line_print(stderr, pipeline_counters(s));
    return true;
}

const struct sink status_line_sink = {
    .name = "status-line", .open = sink_open, .finish = sink_finish};

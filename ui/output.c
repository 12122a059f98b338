/*
 * output.c: --output FILE, its reopening on SIGHUP, and write failures of
 * the records on stdout (see output.h).
 */
#include "ui/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/counters.h"
#include "ui/write_warn.h"

struct output_stats {
    uint64_t records;         /* records handed to stdout or --output */
    uint64_t write_failures;  /* of those, the ones that could not be written (warn.failed) */
    uint64_t reopens;         /* SIGHUP reopens of --output that worked */
    uint64_t reopen_failures; /* and that failed (the old file is kept) */
};

static const struct counter_def output_rows[] = {
    COUNTER_ROW(struct output_stats, records, "output_records", TOTAL, 0,
                "Records (text lines, NDJSON objects) written to standard output or --output."),
    COUNTER_ROW(struct output_stats, write_failures, "output_write_failures", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR,
                "Records that could not be written (e.g. the disk is full); the capture goes on."),
    COUNTER_ROW(struct output_stats, reopens, "output_reopens", TOTAL, 0,
                "Times SIGHUP reopened --output (log rotation)."),
    COUNTER_ROW(struct output_stats, reopen_failures, "output_reopen_failures", TOTAL,
                COUNTER_ERROR, "SIGHUP reopens of --output that failed; the old file is kept."),
};

struct output_state {
    struct sink_env env;
    struct output_stats st;
    struct write_warn warn;
    char what[64];
};

static void read_stats(const void *state, void *out)
{
    const struct output_state *s = state;
    struct output_stats st = s->st;
    st.write_failures = s->warn.failed; /* write_warn counts them */
    memcpy(out, &st, sizeof st);
}

/* Opens path for appending onto descriptor 1. */
static bool open_onto_stdout(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "--output %s: %s", path, strerror(errno));
        return false;
    }
    fflush(stdout);
    bool ok = dup2(fd, STDOUT_FILENO) >= 0;
    if (!ok)
        snprintf(err, errlen, "--output %s: %s", path, strerror(errno));
    close(fd);
    return ok;
}

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    struct output_state *s = sink_state_new(sizeof *s, env, err, errlen);
    if (!s)
        return NULL;
    const char *path = env->o->output_file;
    snprintf(s->what, sizeof s->what, "%s%.48s", path ? "--output " : "standard output",
             path ? path : "");
    s->warn.what = s->what;
    /* Line by line, a failure is a record; into a buffered file, a buffer of them. */
    s->warn.unit = env->flush_lines ? "record" : "buffered write";
    if (path && !open_onto_stdout(path, err, errlen)) {
        free(s);
        return NULL;
    }
    if (!counters_add(pipeline_counters(env->p), output_rows,
                      sizeof output_rows / sizeof output_rows[0], read_stats, s,
                      sizeof(struct output_stats))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return s;
}

/* This sink comes first in the table, so when it sees an event the record
 * of the event before has been written: a sticky error flag on stdout means
 * that write failed. With --output (line by line) each record is its own
 * write; on a buffered stdout a failure shows at the flush that failed,
 * counted once. finish (this sink's, the last to run) checks the final flush. */
static void check(struct output_state *s)
{
    if (ferror(s->env.out)) {
        write_warn_failed(&s->warn, errno ? errno : EIO);
        clearerr(s->env.out);
    }
}

/* Whether the open sinks write a record per operation (ui/text.c, ui/ndjson.c). */
static bool writes_ops(const struct cli_options *o)
{
    return !o->quiet && !o->amqp && !o->tui && (o->json || !o->report);
}

static void sink_on_op(void *state, const struct op *op)
{
    struct output_state *s = state;
    (void)op;
    check(s);
    if (writes_ops(s->env.o))
        s->st.records++;
}

static void sink_on_method(void *state, const struct amqp_method_event *ev)
{
    struct output_state *s = state;
    (void)ev;
    check(s);
    if (!s->env.o->quiet && s->env.o->amqp)
        s->st.records++;
}

static void sink_tick(void *state, double now)
{
    struct output_state *s = state;
    check(s);
    write_warn_tick(&s->warn, now, stderr);
}

static void sink_reopen(void *state)
{
    struct output_state *s = state;
    const char *path = s->env.o->output_file;
    if (!path)
        return;
    char err[512];
    if (open_onto_stdout(path, err, sizeof err)) {
        s->st.reopens++;
        return;
    }
    s->st.reopen_failures++;
    fprintf(stderr, "oslotrace: SIGHUP: cannot reopen %s; still writing the old file\n", err);
}

static bool sink_finish(void *state)
{
    struct output_state *s = state;
    fflush(s->env.out); /* a failed flush sets the stream's error flag: check() counts it */
    check(s);
    write_warn_final(&s->warn, stderr);
    return s->warn.failed == 0;
}

const struct sink output_sink = {
    .name = "output",
    .open = sink_open,
    .on_op = sink_on_op,
    .on_method = sink_on_method,
    .tick = sink_tick,
    .reopen = sink_reopen,
    .finish = sink_finish,
    .close = free,
};

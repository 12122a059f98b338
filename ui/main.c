/*
 * main.c: oslotrace's entry point. Parses the command line, builds the
 * engine, opens the outputs the options ask for (ui/sinks.c's table: text
 * lines, NDJSON, the AMQP view, the report, -w) or hands over to the TUI,
 * runs to the end of the input or to a signal, and turns the outcome into an
 * exit status: 0 success, 1 runtime error, 2 usage error.
 */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/pcap_ifaces.h"
#include "capture/iface.h"
#include "common/clock.h"
#include "engine/pipeline.h"
#include "ui/cli.h"
#include "ui/empty_run.h"
#include "ui/privileges.h"
#include "ui/progress.h"
#include "ui/sink.h"
#include "ui/status_line.h"
#include "ui/text.h"
#include "ui/tui.h"

/* Signals only set flags; the loop acts on them between steps. */
static volatile sig_atomic_t stop_requests;
static volatile sig_atomic_t usr1_requests;
static volatile sig_atomic_t hup_requests;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (++stop_requests >= 2)
        _exit(130); /* a second signal: the operator wants out now */
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1_requests++;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_requests++;
}

/* SIGHUP means two things: to a daemon (no terminal), "reopen your files"
 * (log rotation); to a run on a terminal, or the TUI, "your terminal hung
 * up", which must end it as SIGINT does, or it would capture on, orphaned. */
static bool hup_is_hangup(bool tui)
{
    return tui || isatty(STDIN_FILENO) || isatty(STDOUT_FILENO) || isatty(STDERR_FILENO);
}

static void install_signals(bool tui)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = hup_is_hangup(tui) ? on_stop_signal : on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static bool stdout_is_file(void)
{
    return !isatty(STDOUT_FILENO) && lseek(STDOUT_FILENO, 0, SEEK_CUR) >= 0;
}

/* Reads the input to its end (or -c, or a signal) through the open sinks.
 * Returns the exit status so far. */
static int run_loop(const struct cli_options *o, struct pipeline *p, struct sink_set *sinks,
                    bool live)
{
    struct pcap_source_stats ss;
    pcap_source_get_stats(pipeline_source(p), &ss);
    struct progress prog;
    progress_init(&prog, stderr, ss.bytes_total, o->quiet || live);
    int status = 0;
    uint64_t iface_down = 0;
    double next_iface_check = 0; /* monotonic s: the source is asked once a second, not per step */
    for (;;) {
        if (stop_requests)
            pipeline_stop(p);
        if (usr1_requests) {
            usr1_requests = 0;
            status_line_print(stderr, pipeline_counters(p));
        }
        if (hup_requests) { /* log rotation: the outputs reopen their files by name */
            hup_requests = 0;
            sink_set_reopen(sinks);
        }
        if (live && o->engine.wait_iface && clock_mono_s() >= next_iface_check) {
            next_iface_check = clock_mono_s() + 1.0;
            pcap_source_get_stats(pipeline_source(p), &ss);
            uint64_t down = ss.iface_down;
            if (down != iface_down)
                fprintf(stderr, down ? "oslotrace: %s went away; waiting for it to come back\n"
                                     : "oslotrace: %s is back; capturing again\n",
                        o->engine.iface);
            iface_down = down;
        }
        enum pipeline_status st = pipeline_step(p, 256);
        if (st == PIPELINE_DONE)
            break;
        if (st == PIPELINE_ERROR) {
            progress_clear(&prog);
            if (live || counters_value(pipeline_counters(p), "packets") == 0) {
                fprintf(stderr, "oslotrace: %s\n", pipeline_error(p));
                status = 1;
            } else {
                /* A damaged tail after good packets: warn, and still report what was read. */
                fprintf(stderr, "oslotrace: warning: %s\n", pipeline_error(p));
            }
            break;
        }
        if (!live) {
            pcap_source_get_stats(pipeline_source(p), &ss);
            progress_update(&prog, ss.bytes_read);
        }
        sink_set_tick(sinks, clock_mono_s());
    }
    progress_clear(&prog);
    return status;
}

/* --linger: the input has ended; the metrics sink keeps serving its last
 * exposition from its own thread until SIGINT or SIGTERM. */
static void linger(const struct cli_options *o)
{
    if (!o->quiet && !stop_requests)
        fprintf(stderr, "oslotrace: input ended; serving metrics until SIGINT or SIGTERM\n");
    while (!stop_requests) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* --wait-iface: the interface may not exist yet, or not be up (a bond or a
 * veth made after oslotrace started); wait for it while no signal says stop. */
static bool wait_for_iface(const char *name, bool *told)
{
    if (iface_ready(name))
        return true;
    if (!*told)
        fprintf(stderr, "oslotrace: waiting for interface %s to appear\n", name);
    *told = true;
    while (!stop_requests && !iface_ready(name)) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return !stop_requests;
}

/* The engine; with --wait-iface, once the interface is there to be opened
 * (it may go again between the check and the opening: then wait again). */
static struct pipeline *new_pipeline(const struct cli_options *o,
                                     const struct pipeline_sinks *cb, char *err, size_t errlen)
{
    bool told = false;
    for (;;) {
        if (o->engine.wait_iface && !wait_for_iface(o->engine.iface, &told)) {
            snprintf(err, errlen, "stopped while waiting for %s", o->engine.iface);
            return NULL;
        }
        struct pipeline *p = pipeline_new(&o->engine, cb, err, errlen);
        if (p || !o->engine.wait_iface || iface_ready(o->engine.iface))
            return p;
    }
}

static int run_batch(const struct cli_options *o)
{
    struct sink_set sinks;
    struct pipeline_sinks cb = sink_set_callbacks(&sinks);
    char err[512];
    struct pipeline *p = new_pipeline(o, &cb, err, sizeof err);
    if (!p) {
        fprintf(stderr, "oslotrace: %s\n", err);
        return 1;
    }
    bool live = pcap_source_is_live(pipeline_source(p));
    if (live && !o->quiet) {
        /* As tcpdump does: says the capture is up, and what it is looking at. */
        int lt = pcap_source_linktype(pipeline_source(p));
        const char *ltname = pcap_datalink_val_to_name(lt);
        fprintf(stderr, "oslotrace: listening on %s, link-type %s, filter \"%s\"\n",
                o->engine.iface, ltname ? ltname : "?", pipeline_filter(p));
    }
    /* Output files (-w) are created before the privilege drop, with the
     * rights oslotrace was started with; only --metrics-file, rewritten by
     * rename at every interval, is written as the -Z user. */
    struct sink_env env = {.o = o,
                           .p = p,
                           .live = live,
                           .out = stdout,
                           .color = text_color_wanted(o->color, stdout),
                           /* --output: a whole record per write, for tail -f and rotation */
                           .flush_lines = o->output_file || !stdout_is_file()};
    if (!sink_set_open(&sinks, &env, NULL, err, sizeof err) ||
        (live && !privileges_drop(o->user, o->engine.wait_iface, err, sizeof err))) {
        fprintf(stderr, "oslotrace: %s\n", err);
        sink_set_close(&sinks);
        pipeline_free(p);
        return 1;
    }
    int status = run_loop(o, p, &sinks, live);
    if (o->engine.count_ops && !o->quiet &&
        counters_value(pipeline_counters(p), "ops_reported") >= o->engine.count_ops)
        fprintf(stderr, "oslotrace: stopped after %llu operations (--count-ops)\n",
                (unsigned long long)o->engine.count_ops);
    pipeline_finish(p);
    const char *advice = pipeline_tls_advice(p);
    if (advice)
        fprintf(stderr, "oslotrace: %s\n", advice);
    fflush(stdout);
    if (!sink_set_finish(&sinks))
        status = 1;
    /* Nothing found: say what was seen and what to try (--amqp shows methods, not operations). */
    if (status == 0 && !o->quiet && !o->amqp)
        empty_run_explain(stderr, pipeline_counters(p), advice != NULL);
    if (o->linger && status == 0)
        linger(o);
    sink_set_close(&sinks);
    pipeline_free(p);
    return status;
}

int main(int argc, char **argv)
{
    struct cli_options o;
    cli_defaults(&o);
    switch (cli_parse(&o, argc, argv, stdout, stderr)) {
    case CLI_EXIT_OK:
        return 0;
    case CLI_USAGE:
        return 2;
    case CLI_RUN:
        break;
    }
    if (o.list_ifaces) {
        char err[512];
        if (!pcap_ifaces_list(stdout, err, sizeof err)) {
            fprintf(stderr, "oslotrace: %s\n", err);
            return 1;
        }
        return 0;
    }
    install_signals(o.tui);
    if (o.tui)
        return tui_run(&o, &stop_requests);
    return run_batch(&o);
}

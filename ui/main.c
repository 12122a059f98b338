/*
 * main.c: oslotrace's entry point. Parses the command line, builds the
 * pipeline with the sinks the options ask for (text lines, NDJSON, the AMQP
 * view, the report, -w, or the TUI), runs it to the end of the input or to a
 * signal, and turns the outcome into an exit status: 0 success, 1 runtime
 * error, 2 usage error.
 */
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui/amqp_view.h"
#include "ui/cli.h"
#include "ui/live_writer.h"
#include "ui/ndjson.h"
#include "ui/pipeline.h"
#include "ui/privileges.h"
#include "ui/progress.h"
#include "ui/report.h"
#include "ui/text.h"
#include "ui/tui.h"
#include "ui/writer.h"

/* Recent packets a live -w keeps until their operations end (memory bound). */
#define LIVE_WRITE_RING_BYTES (64u << 20)

/* Signals only set flags; the loop acts on them between steps. */
static volatile sig_atomic_t stop_requests;
static volatile sig_atomic_t usr1_requests;

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

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

struct run {
    const struct cli_options *o;
    FILE *out;
    bool color;
    bool flush_lines; /* stdout is not a regular file: flush each line for pipes */
    bool text, json;
    struct writer *writer;           /* -w offline: two passes */
    struct live_writer *live_writer; /* -w live: a ring of recent packets */
    struct report *report;
};

static void sink_op(void *user, const struct op *op)
{
    struct run *r = user;
    if (r->writer)
        writer_mark_op(r->writer, op);
    if (r->live_writer)
        live_writer_mark_op(r->live_writer, op);
    if (r->report)
        report_add_op(r->report, op);
    if (r->json)
        ndjson_write_op(r->out, op, r->flush_lines);
    else if (r->text) {
        text_write_op(r->out, op, r->color);
        if (r->flush_lines)
            fflush(r->out);
    }
}

static void sink_method(void *user, const struct amqp_method_event *ev)
{
    struct run *r = user;
    if (r->json) {
        json_t *j = amqp_view_json(ev, r->o->show_secrets);
        /* Dumped to a string, then written at once: json_dumpf calls fwrite per
         * token, which cost a sixth of --amqp -j. */
        char *line = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        if (line) {
            size_t n = strlen(line);
            line[n] = '\n';
            fwrite(line, 1, n + 1, r->out);
            free(line);
        }
        json_decref(j);
    } else if (!r->o->quiet) {
        amqp_view_text(r->out, ev);
    }
    if (r->flush_lines)
        fflush(r->out);
}

static void sink_conn(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct run *r = user;
    (void)ev;
    if (r->writer)
        writer_note_conn(r->writer, info);
    if (r->live_writer)
        live_writer_note_conn(r->live_writer, info);
}

static void sink_packet(void *user, const struct packet *pkt)
{
    struct run *r = user;
    if (r->live_writer)
        live_writer_packet(r->live_writer, pkt);
}

static bool stdout_is_file(void)
{
    return !isatty(STDOUT_FILENO) && lseek(STDOUT_FILENO, 0, SEEK_CUR) >= 0;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_counters_line(struct pipeline *p)
{
    struct pipeline_counters n;
    pipeline_get_counters(p, &n);
    fprintf(stderr,
            "oslotrace: %llu packets, %llu dropped by kernel, %llu ops, %llu pending calls\n",
            (unsigned long long)n.packets, (unsigned long long)n.source.ps_drop,
            (unsigned long long)n.ops_emitted, (unsigned long long)n.corr.pending);
}

static int run_batch(const struct cli_options *o)
{
    struct run r = {.o = o, .out = stdout};
    /* -q --report: the report is all of stdout (one JSON document with -j), so the
     * per-operation and per-method lines are not written there too. */
    r.json = o->json && !(o->quiet && o->report);
    r.text = !o->json && !o->quiet && !o->report;
    if (o->amqp)
        r.text = false;
    r.color = text_use_color(stdout);
    r.flush_lines = !stdout_is_file();

    struct pipeline_sinks sinks = {sink_op, o->amqp ? sink_method : NULL, sink_conn, &r,
                                   o->write_file ? sink_packet : NULL};
    char err[512];
    struct pipeline *p = pipeline_new(o, o->amqp, &sinks, err, sizeof err);
    if (!p) {
        fprintf(stderr, "oslotrace: %s\n", err);
        return 1;
    }
    bool live = pcap_source_is_live(pipeline_source(p));
    if (live && !privileges_drop(o->user, err, sizeof err)) {
        fprintf(stderr, "oslotrace: %s\n", err);
        pipeline_free(p);
        return 1;
    }
    if (live && !o->quiet) {
        /* As tcpdump does: says the capture is up, and what it is looking at. */
        int lt = pcap_source_linktype(pipeline_source(p));
        const char *ltname = pcap_datalink_val_to_name(lt);
        fprintf(stderr, "oslotrace: listening on %s, link-type %s, filter \"%s\"\n", o->iface,
                ltname ? ltname : "?", pipeline_filter(p));
    }
    if (o->write_file && live) {
        /* Created after the privilege drop, like tcpdump's -w. */
        r.live_writer = live_writer_open(o->write_file, pcap_source_linktype(pipeline_source(p)),
                                         LIVE_WRITE_RING_BYTES, err, sizeof err);
        if (!r.live_writer) {
            fprintf(stderr, "oslotrace: %s\n", err);
            pipeline_free(p);
            return 1;
        }
    } else if (o->write_file) {
        r.writer = writer_new();
    }
    if (o->report)
        r.report = report_new();

    struct pcap_source_stats ss;
    pcap_source_get_stats(pipeline_source(p), &ss);
    struct progress prog;
    progress_init(&prog, stderr, ss.bytes_total, o->quiet || live);

    int status = 0;
    double next_report = o->report_interval > 0 ? mono_now() + o->report_interval : 0;
    for (;;) {
        if (stop_requests)
            pipeline_stop(p);
        if (usr1_requests) {
            usr1_requests = 0;
            print_counters_line(p);
        }
        enum pipeline_status st = pipeline_step(p, 256);
        if (st == PIPELINE_DONE)
            break;
        if (st == PIPELINE_ERROR) {
            progress_clear(&prog);
            struct pipeline_counters n;
            pipeline_get_counters(p, &n);
            if (n.packets == 0) {
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
        if (next_report && mono_now() >= next_report) {
            next_report = mono_now() + o->report_interval;
            report_print(o->json ? stderr : stdout, r.report, p, false);
        }
    }
    progress_clear(&prog);
    pipeline_finish(p);
    if (o->report) {
        /* -j operations own stdout; a plain --report -j is the one JSON document there. */
        bool ops_on_stdout = (o->json || o->amqp) && !o->quiet;
        report_print(ops_on_stdout ? stderr : stdout, r.report, p, o->json);
        report_free(r.report);
    }
    if (live)
        print_counters_line(p);
    fflush(stdout);

    if (r.live_writer) {
        struct live_writer_stats ws;
        live_writer_close(r.live_writer, &ws); /* writes what is still held */
        r.live_writer = NULL;
        if (!o->quiet || ws.missed)
            fprintf(stderr,
                    "oslotrace: wrote %llu packets to %s (%llu left the buffer before "
                    "their operation ended)\n",
                    (unsigned long long)ws.written, o->write_file, (unsigned long long)ws.missed);
    }
    if (r.writer) {
        uint64_t written;
        if (!writer_write(r.writer, o, o->write_file, &written, err, sizeof err)) {
            fprintf(stderr, "oslotrace: %s\n", err);
            status = 1;
        } else if (!o->quiet) {
            fprintf(stderr, "oslotrace: wrote %llu packets to %s\n", (unsigned long long)written,
                    o->write_file);
        }
        writer_free(r.writer);
    }
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
    install_signals();
    if (o.tui)
        return tui_run(&o, &stop_requests);
    return run_batch(&o);
}

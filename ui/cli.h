/*
 * cli.h: the command line, parsed into one struct the rest of main reads.
 *
 * Conventions follow tcpdump and tshark (-r, -i, -f, -c, -w, -n, -q), so an
 * operator's fingers already know them. Parsing never exits: it returns a
 * status and main decides (0 run, 1 help/version printed, 2 usage error).
 */
#ifndef OSLOTRACE_UI_CLI_H
#define OSLOTRACE_UI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/config.h"

#define CLI_MAX_FILES ENGINE_MAX_FILES
#define CLI_MAX_PORTS ENGINE_MAX_PORTS

struct cli_options {
    /* -r, -i, -f, -c, -B, --immediate-mode, --amqp-port, --max-body, --call-timeout,
     * --max-pending, --show-secrets and the filters: what the engine reads. */
    struct engine_config engine;
    const char *write_file; /* -w */
    bool write_pcapng;      /* -F pcapng (default: pcap, or pcapng for a .pcapng name) */
    bool write_format_given; /* -F was given */
    uint64_t rotate_bytes;  /* -C MB: a new -w file every this many bytes, 0 = never */
    double rotate_s;        /* -G SEC: a new -w file every SEC of packet time, 0 = never */
    unsigned max_files;     /* -W N: at most N files, reused in turn */
    const char *output_file; /* --output: the records go here, not stdout (ui/output.h) */
    bool quiet;             /* -q: no progress bar, no per-operation text lines */
    bool json;              /* -j / --json */
    bool amqp;              /* --amqp: AMQP method frames instead of oslo operations */
    bool report;            /* --report */
    double report_interval; /* --report-interval SEC (live), 0 = only at the end */
    bool tui;               /* --tui */
    bool args;              /* --args: include arguments and results */
    bool broker_events;     /* --broker-events: -j also writes broker_event records */
    const char *flow_id;    /* --flow REQ_ID: the ladder of the flow holding it */
    bool flows;             /* --flows: a record (-j) or a line per flow, not per operation */
    int color;              /* --color: enum text_color_mode (ui/text.h), default auto */
    int time_format;        /* -t, -tt ... -ttttt: enum text_time_mode (ui/text_time.h) */
    bool list_ifaces;       /* -D: list the interfaces and exit */
    const char *user;       /* -Z: user to drop privileges to */
    uint64_t tui_history;   /* --tui-history */
    uint64_t sort_start;    /* --sort-start[=N]: lines held to print in start order, 0 = off */

    /* The Prometheus sink (ui/metrics.c). */
    const char *metrics_listen;  /* --metrics-listen HOST:PORT */
    const char *metrics_file;    /* --metrics-file PATH */
    uint64_t metrics_max_series; /* --metrics-max-series */
    bool linger;                 /* --linger: keep serving metrics after the input ends */

    /* --clock-offset NODE=SECONDS as given, resolved into engine.clock_* after parsing. */
    const char *clock_offsets[CLI_MAX_FILES];
    size_t nclock_offsets;
};

enum cli_result { CLI_RUN = 0, CLI_EXIT_OK = 1, CLI_USAGE = 2 };

void cli_defaults(struct cli_options *o);
/* Parses argv, and sets what the chosen outputs need from the engine
 * (engine.want_*); on CLI_USAGE one line naming the problem, plus a hint, went to err.
 * -h and --version print to out and return CLI_EXIT_OK. */
enum cli_result cli_parse(struct cli_options *o, int argc, char **argv, FILE *out, FILE *err);
void cli_usage(FILE *out);

#endif

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

#include "ui/filter.h"

#define CLI_MAX_FILES 64
#define CLI_MAX_PORTS 16
#define CLI_DEFAULT_PORT 5672

struct cli_options {
    const char *files[CLI_MAX_FILES]; /* -r, repeatable; "-" = stdin */
    size_t nfiles;
    const char *iface;                  /* -i */
    const char *bpf;                    /* -f; NULL = the default built from the AMQP ports */
    uint64_t count;                     /* -c, 0 = no limit */
    const char *write_file;             /* -w */
    bool quiet;                         /* -q: no progress bar, no per-operation text lines */
    bool json;                          /* -j / --json */
    bool amqp;                          /* --amqp: AMQP method frames instead of oslo operations */
    bool report;                        /* --report */
    double report_interval;             /* --report-interval SEC (live), 0 = only at the end */
    bool tui;                           /* --tui */
    bool args;                          /* --args: include arguments and results */
    bool show_secrets;                  /* --show-secrets */
    double call_timeout_s;              /* --call-timeout */
    uint64_t max_pending;               /* --max-pending */
    uint64_t max_body;                  /* --max-body */
    uint16_t amqp_ports[CLI_MAX_PORTS]; /* --amqp-port, repeatable; 5672 always included */
    size_t namqp_ports;
    int buffer_kib;       /* -B */
    bool immediate;       /* --immediate-mode */
    const char *user;     /* -Z: user to drop privileges to */
    uint64_t tui_history; /* --tui-history */
    struct op_filter filter;
};

enum cli_result { CLI_RUN = 0, CLI_EXIT_OK = 1, CLI_USAGE = 2 };

void cli_defaults(struct cli_options *o);
/* Parses argv; on CLI_USAGE one line naming the problem, plus a hint, went to err.
 * -h and --version print to out and return CLI_EXIT_OK. */
enum cli_result cli_parse(struct cli_options *o, int argc, char **argv, FILE *out, FILE *err);
/* The default capture filter: "tcp port 5672" or "tcp and (port 5672 or port N ...)". */
void cli_default_bpf(const struct cli_options *o, char *buf, size_t len);
void cli_usage(FILE *out);

#endif

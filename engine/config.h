/*
 * config.h: everything the engine needs to know, filled by a front-end.
 *
 * The engine (engine/pipeline.h) reads only this struct: the command line
 * (ui/cli.c) is one front-end that fills it, the TUI uses the same, and a
 * test or a fuzz target fills it by hand. Nothing here is about how the
 * results are shown.
 */
#ifndef OSLOTRACE_ENGINE_CONFIG_H
#define OSLOTRACE_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/filter.h"

#define ENGINE_MAX_FILES 64
#define ENGINE_MAX_PORTS 16
#define ENGINE_DEFAULT_AMQP_PORT 5672
#define ENGINE_DEFAULT_AMQPS_PORT 5671
#define ENGINE_MAX_KEYLOGS 8

struct engine_config {
    /* Input: files (merged by time; "-" = stdin) or one live interface. */
    const char *files[ENGINE_MAX_FILES];
    size_t nfiles;
    const char *iface;
    const char *bpf; /* capture filter; NULL = none for files, the broker ports when live */
    uint64_t count;     /* stop after this many packets, 0 = no limit */
    uint64_t count_ops; /* stop after this many operations reach the outputs, 0 = no limit */
    double duration_s;  /* stop after this long (packet time; live, wall time too), 0 = none */
    int buffer_kib;  /* live: kernel buffer, 0 = libpcap's default */
    bool immediate;  /* live: deliver each packet at once (libpcap immediate mode) */
    bool wait_iface; /* live: wait for the interface to exist, and to come back (--wait-iface) */

    /* Decoding */
    uint16_t amqp_ports[ENGINE_MAX_PORTS]; /* broker ports: tell client from server */
    size_t namqp_ports;
    /* TLS (capture/tls_conn.h): flows on these ports are decrypted first,
     * with secrets from these NSS key log files and from pcapng DSBs. */
    uint16_t amqps_ports[ENGINE_MAX_PORTS];
    size_t namqps_ports;
    const char *tls_keylogs[ENGINE_MAX_KEYLOGS];
    size_t ntls_keylogs;
    uint64_t max_body;     /* body bytes kept per message */
    double call_timeout_s; /* a call without expiration times out after this */
    uint64_t max_pending;  /* correlation table entries */
    bool show_secrets;     /* no redaction of tokens and passwords */

    /* What the sinks need, so the engine keeps nothing it will not hand out. */
    bool want_methods; /* every AMQP method to on_method */
    bool want_bodies;  /* args/result/context JSON on each op */
    bool want_pkts;    /* packet numbers on each op (for writing them out) */
    bool want_flows;   /* group ops by request id into flows (dissect/flow.h): on_flow */

    struct op_filter filter; /* which operations reach the sinks */

    /* Several captures of one system (the nodes of a cluster), per -r file:
     * its node name (NULL = the file's base name) and its clock offset when
     * given by hand (else estimated from the traffic, engine/clock_pass.h). */
    const char *node_names[ENGINE_MAX_FILES];
    bool clock_fixed[ENGINE_MAX_FILES];
    double clock_offset_s[ENGINE_MAX_FILES]; /* added to the file's timestamps */
};

void engine_config_default(struct engine_config *cfg);
/* The default live capture filter: "tcp and (port 5672 or port 5671 [or port N ...])",
 * every AMQP and AMQPS port. */
void engine_default_bpf(const struct engine_config *cfg, char *buf, size_t len);

#endif

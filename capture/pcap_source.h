/*
 * pcap_source.h: where packets come from. Offline files (pcap or pcapng,
 * several merged in timestamp order, "-" for stdin) or a live interface
 * (pcap_create/pcap_activate, block or immediate mode, ns timestamps, BPF filter).
 * Each packet says which file (source) it came from; a file's timestamps can
 * be moved by its clock's offset before the merge.
 * It only reads packets; decoding is packet.h's job.
 */
#ifndef OSLOTRACE_CAPTURE_PCAP_SOURCE_H
#define OSLOTRACE_CAPTURE_PCAP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "capture/packet.h"

struct pcap_source_config {
    const char *const *files; /* offline: nfiles paths ("-" = stdin) */
    size_t nfiles;
    const char *iface; /* live: interface name ("any" allowed); NULL when offline */
    const char *bpf;   /* filter expression; NULL = none (offline) */
    int buffer_kib;    /* live kernel buffer, default 8192 */
    int snaplen;       /* default 262144 */
    int timeout_ms;    /* live read timeout so the caller can poll, default 100 */
    bool immediate;    /* live: immediate mode (else packets come in blocks, see open_live) */
    /* offline: ns added to each file's timestamps before the merge (its
     * clock's offset, engine/clock_sync.h); NULL = none. */
    const int64_t *offsets_ns;
    /* offline, named pipes: how long the merge waits for a pipe with nothing
     * while others have packets, default 1000 ms (see pcap_source.c) */
    int merge_wait_ms;
    /* live: when the interface goes away (a veth deleted, a bond re-created),
     * wait for it to come back and capture again, instead of ending. */
    bool wait_iface;
};

enum pcap_source_status {
    PCAP_SOURCE_PACKET = 1, /* *out holds a packet */
    PCAP_SOURCE_END = 0,    /* offline files exhausted, or pcap_source_break() was called */
    PCAP_SOURCE_AGAIN = 2,  /* live: no packet within the timeout */
    PCAP_SOURCE_ERROR = -1, /* pcap_source_error() says what and where */
};

struct pcap_source_stats {
    uint64_t packets;                     /* delivered to the caller */
    uint64_t bytes_read;                  /* offline: file bytes consumed so far (for progress) */
    uint64_t bytes_total;                 /* offline: sum of file sizes (0 for stdin) */
    uint64_t truncated;                   /* caplen < wirelen */
    uint64_t ps_recv, ps_drop, ps_ifdrop; /* live: libpcap's counters */
    uint64_t bad_records;                 /* damaged records skipped */
    uint64_t iface_lost;                  /* live: times the interface went away */
    uint64_t iface_down;                  /* live: 1 while it is away (--wait-iface) */
    uint64_t iface_down_ms;               /* live: time it was away, blind, in all */
    uint64_t iface_down_s;                /* the same in whole seconds, rounded up */
};

/* Returns NULL and writes a one-line message into err on failure. */
struct pcap_source *pcap_source_open(const struct pcap_source_config *cfg, char *err,
                                     size_t errlen);
enum pcap_source_status pcap_source_next(struct pcap_source *src, struct packet *out);
const char *pcap_source_error(const struct pcap_source *src);
/* A descriptor to poll() for live captures, -1 offline. */
int pcap_source_fd(const struct pcap_source *src);
bool pcap_source_is_live(const struct pcap_source *src);
/* The link type of the first (or only) input, for writing packets back out. */
int pcap_source_linktype(const struct pcap_source *src);
int pcap_source_snaplen(const struct pcap_source *src);
void pcap_source_get_stats(struct pcap_source *src, struct pcap_source_stats *out);
/* Adds the source's counters to a registry (false when it cannot). */
bool pcap_source_register_counters(struct pcap_source *src, struct counters *reg);
/* Async-signal-safe: makes the next pcap_source_next() return END. */
void pcap_source_break(struct pcap_source *src);
void pcap_source_close(struct pcap_source *src);

#endif

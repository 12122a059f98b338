/*
 * pcap_test_util.h: for stage tests that run real captures through the
 * capture stage by hand (without ui/pipeline, so one stage can be watched
 * alone): every packet of a file, decoded and fed to a fresh tcp_stream.
 */
#ifndef OSLOTRACE_TESTS_PCAP_TEST_UTIL_H
#define OSLOTRACE_TESTS_PCAP_TEST_UTIL_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>

#include "capture/packet.h"
#include "capture/tcp_stream.h"

/* The captures' directory: $OSLOTRACE_PCAPS (set by ctest), else ./pcaps. */
static inline const char *pcap_test_dir(void)
{
    const char *d = getenv("OSLOTRACE_PCAPS");
    return d ? d : "pcaps";
}

/* Reads path with ns timestamps and feeds each TCP segment to a tcp_stream
 * (default config) with these callbacks, finished at the end of the file;
 * `after` (may be NULL) sees every packet once it was fed. False if
 * unreadable. */
static inline bool pcap_test_stream(const char *path, const struct tcp_stream_callbacks *cb,
                                    void (*after)(void *user, const struct packet *pkt), void *user)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p)
        return false;
    struct tcp_stream_config cfg;
    tcp_stream_config_default(&cfg);
    struct tcp_stream *ts = tcp_stream_new(&cfg, cb);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t index = 0;
    int linktype = pcap_datalink(p);
    while (ts && pcap_next_ex(p, &h, &data) == 1) {
        struct packet pkt = {0};
        /* tv_usec holds nanoseconds: the file was opened with nano precision. */
        pkt.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        pkt.index = ++index;
        pkt.caplen = h->caplen;
        pkt.wirelen = h->len;
        pkt.linktype = linktype;
        pkt.data = data;
        struct tcp_segment seg;
        if (packet_decode(&pkt, &seg) == PACKET_TCP)
            tcp_stream_feed(ts, &seg);
        if (after)
            after(user, &pkt);
    }
    pcap_close(p);
    if (!ts)
        return false;
    tcp_stream_finish(ts);
    tcp_stream_free(ts);
    return true;
}

#endif

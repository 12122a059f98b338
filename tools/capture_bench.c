/*
 * capture_bench.c: the capture stage alone, timed. Reads capture files with
 * pcap_source, decodes every packet with packet_decode, reassembles with
 * tcp_stream and throws the bytes away, then prints one line of counts and
 * throughput. bench/capture_bench.sh builds it and compares it with
 * `tcpdump -r F -w /dev/null` (libpcap reading and writing, no decoding),
 * the floor any libpcap-based reader stands on.
 *
 * usage: capture_bench FILE... (several files are merged like oslotrace -r)
 */
#include <stdio.h>
#include <stdlib.h>

#include "capture/pcap_source.h"
#include "capture/tcp_stream.h"
#include "common/clock.h"

struct sink {
    uint64_t bytes, gaps;
};

static void on_data(void *user, struct tcp_flow *f, int dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns, uint64_t pkt_index)
{
    ((struct sink *)user)->bytes += len;
}

static void on_gap(void *user, struct tcp_flow *f, int dir, uint64_t missing, uint64_t ts_ns)
{
    ((struct sink *)user)->gaps++;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    struct pcap_source_config cfg = {.files = (const char *const *)argv + 1,
                                     .nfiles = (size_t)argc - 1};
    char err[512];
    double t0 = clock_mono_s();
    struct pcap_source *src = pcap_source_open(&cfg, err, sizeof err);
    if (!src) {
        fprintf(stderr, "capture_bench: %s\n", err);
        return 1;
    }
    struct sink sink = {0, 0};
    struct tcp_stream_callbacks cb = {NULL, on_data, on_gap, NULL, &sink};
    struct tcp_stream *ts = tcp_stream_new(NULL, &cb);
    if (!ts) {
        fprintf(stderr, "capture_bench: out of memory\n");
        return 1;
    }
    uint64_t decoded[PACKET_UNSUPPORTED_LINK + 1] = {0};
    uint64_t last_tick = 0;
    struct packet pkt;
    enum pcap_source_status s;
    while ((s = pcap_source_next(src, &pkt)) == PCAP_SOURCE_PACKET) {
        struct tcp_segment seg;
        enum packet_result r = packet_decode(&pkt, &seg);
        decoded[r]++;
        if (r == PACKET_TCP)
            tcp_stream_feed(ts, &seg);
        if (pkt.ts_ns >= last_tick + 1000000000ull) { /* the pipeline ticks once a second */
            tcp_stream_tick(ts, pkt.ts_ns);
            last_tick = pkt.ts_ns;
        }
    }
    if (s == PCAP_SOURCE_ERROR)
        fprintf(stderr, "capture_bench: warning: %s\n", pcap_source_error(src));
    tcp_stream_finish(ts);
    double t1 = clock_mono_s();
    struct pcap_source_stats ps;
    pcap_source_get_stats(src, &ps);
    struct tcp_stream_stats st;
    tcp_stream_get_stats(ts, &st);
    double secs = t1 - t0;
    printf("%.3f s  %llu packets (%llu tcp)  %.1f MB file  %.1f MB/s  %.0f kpkt/s  "
           "%llu flows  %llu stream bytes  %llu gaps\n",
           secs, (unsigned long long)ps.packets, (unsigned long long)decoded[PACKET_TCP],
           (double)ps.bytes_total / 1e6, secs > 0 ? (double)ps.bytes_total / 1e6 / secs : 0.0,
           secs > 0 ? (double)ps.packets / 1e3 / secs : 0.0,
           (unsigned long long)st.flows_opened, (unsigned long long)sink.bytes,
           (unsigned long long)sink.gaps);
    tcp_stream_free(ts);
    pcap_source_close(src);
    return 0;
}

/*
 * pcap_stream.h: a classic pcap file read from a pipe without blocking.
 *
 * A named pipe or a process substitution (-r <(ssh node tcpdump -U -w - ...))
 * delivers packets whenever the far side captures them. Merging several such
 * inputs by time means waiting for the slowest one, but never for ever: so a
 * pipe is read here, not through libpcap's blocking stdio, with its own
 * buffer and non-blocking read(); next() answers "a packet", "nothing yet"
 * (poll the descriptor), "end" or "error". The caller reads the 24-byte global
 * header (blocking) and asks pcap_stream_is_classic() whether this module
 * takes the pipe; pcapng goes to libpcap instead (capture/pcap_source.c).
 */
#ifndef OSLOTRACE_CAPTURE_PCAP_STREAM_H
#define OSLOTRACE_CAPTURE_PCAP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pcap_stream_status {
    PCAP_STREAM_PACKET = 1,
    PCAP_STREAM_AGAIN = 0, /* no whole record yet: poll pcap_stream_fd() */
    PCAP_STREAM_END = -1,  /* the writer closed the pipe (a cut last record is an error) */
    PCAP_STREAM_ERROR = -2,
};

struct pcap_stream_record {
    uint64_t ts_ns;
    uint32_t caplen, wirelen;
    const uint8_t *data; /* valid until the next call */
};

struct pcap_stream;

#define PCAP_STREAM_HEADER 24

/* The header is classic pcap (µs or ns, either byte order). */
bool pcap_stream_is_classic(const uint8_t head[PCAP_STREAM_HEADER]);
/* Takes fd (closed by pcap_stream_close) after its header was read into head.
 * NULL with a one-line message in err. */
struct pcap_stream *pcap_stream_open(int fd, const uint8_t head[PCAP_STREAM_HEADER],
                                     const char *name, char *err, size_t errlen);
enum pcap_stream_status pcap_stream_next(struct pcap_stream *s, struct pcap_stream_record *out);
int pcap_stream_fd(const struct pcap_stream *s);
int pcap_stream_linktype(const struct pcap_stream *s);
uint32_t pcap_stream_snaplen(const struct pcap_stream *s);
const char *pcap_stream_error(const struct pcap_stream *s);
uint64_t pcap_stream_bytes(const struct pcap_stream *s); /* consumed so far */
void pcap_stream_close(struct pcap_stream *s);

#endif

/*
 * pcap_stream.c: classic pcap records from a pipe, non-blocking (see
 * pcap_stream.h). The buffer holds at most one record beyond what was
 * handed out: a record is handed out where it lies, and the bytes before it
 * are dropped when the caller comes back. Records longer than the larger of
 * the snapshot length and 256 KiB end the stream as damaged, like libpcap.
 */
#include "capture/pcap_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RECORD (256u << 10)
#define BUF_SIZE (MAX_RECORD + 16u + (64u << 10))

struct pcap_stream {
    int fd;
    char name[256];
    bool swapped, nano;
    int linktype;
    uint32_t snaplen;
    uint8_t *buf;
    size_t start, len; /* unread bytes: buf[start .. start + len) */
    size_t handed;     /* bytes of the record handed out last, dropped at the next call */
    bool eof;
    uint64_t consumed, records;
    char err[320];
};

static uint32_t u32(const struct pcap_stream *s, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return s->swapped ? __builtin_bswap32(v) : v;
}

bool pcap_stream_is_classic(const uint8_t head[PCAP_STREAM_HEADER])
{
    uint32_t m;
    memcpy(&m, head, 4);
    return m == 0xa1b2c3d4u || m == 0xa1b23c4du || m == 0xd4c3b2a1u || m == 0x4d3cb2a1u;
}

struct pcap_stream *pcap_stream_open(int fd, const uint8_t head[PCAP_STREAM_HEADER],
                                     const char *name, char *err, size_t errlen)
{
    const uint8_t *h = head;
    uint32_t magic;
    memcpy(&magic, h, 4);
    bool swapped = false, nano = false;
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
        nano = magic == 0xa1b23c4du;
    } else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
        swapped = true;
        nano = magic == 0x4d3cb2a1u;
    } else {
        snprintf(err, errlen, "%s: not a classic pcap stream", name);
        close(fd);
        return NULL;
    }
    struct pcap_stream *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(BUF_SIZE))) {
        free(s);
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = fd;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->swapped = swapped;
    s->nano = nano;
    s->snaplen = u32(s, h + 16);
    s->linktype = (int)(u32(s, h + 20) & 0x0FFFFFFFu);
    s->consumed = PCAP_STREAM_HEADER;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        pcap_stream_close(s);
        return NULL;
    }
    return s;
}

/* Reads what the pipe has (non-blocking) into the free end of the buffer. */
static enum pcap_stream_status fill(struct pcap_stream *s)
{
    if (s->start && s->start + s->len > BUF_SIZE / 2) {
        memmove(s->buf, s->buf + s->start, s->len);
        s->start = 0;
    }
    size_t room = BUF_SIZE - s->start - s->len;
    if (!room)
        return PCAP_STREAM_AGAIN;
    ssize_t r = read(s->fd, s->buf + s->start + s->len, room);
    if (r > 0) {
        s->len += (size_t)r;
        return PCAP_STREAM_PACKET;
    }
    if (r == 0) {
        s->eof = true;
        return PCAP_STREAM_END;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return PCAP_STREAM_AGAIN;
    snprintf(s->err, sizeof s->err, "%s: %s", s->name, strerror(errno));
    return PCAP_STREAM_ERROR;
}

enum pcap_stream_status pcap_stream_next(struct pcap_stream *s, struct pcap_stream_record *out)
{
    s->start += s->handed;
    s->len -= s->handed;
    s->handed = 0;
    if (s->err[0])
        return PCAP_STREAM_ERROR;
    for (;;) {
        if (s->len >= 16) {
            const uint8_t *r = s->buf + s->start;
            uint32_t caplen = u32(s, r + 8);
            uint32_t limit = s->snaplen > MAX_RECORD ? s->snaplen : MAX_RECORD;
            if (caplen > limit || caplen > MAX_RECORD) {
                snprintf(s->err, sizeof s->err, "%s: damaged record after packet %llu (caplen %u)",
                         s->name, (unsigned long long)s->records, caplen);
                return PCAP_STREAM_ERROR;
            }
            if (s->len >= 16u + caplen) {
                uint64_t sec = u32(s, r), frac = u32(s, r + 4);
                out->ts_ns = sec * 1000000000ull + frac * (s->nano ? 1u : 1000u);
                out->caplen = caplen;
                out->wirelen = u32(s, r + 12);
                out->data = r + 16;
                s->handed = 16u + caplen;
                s->consumed += s->handed;
                s->records++;
                return PCAP_STREAM_PACKET;
            }
        }
        if (s->eof) {
            if (!s->len)
                return PCAP_STREAM_END;
            snprintf(s->err, sizeof s->err, "%s: truncated capture after packet %llu", s->name,
                     (unsigned long long)s->records);
            return PCAP_STREAM_ERROR;
        }
        enum pcap_stream_status st = fill(s);
        if (st != PCAP_STREAM_PACKET && st != PCAP_STREAM_END)
            return st;
    }
}

int pcap_stream_fd(const struct pcap_stream *s)
{
    return s->fd;
}

int pcap_stream_linktype(const struct pcap_stream *s)
{
    return s->linktype;
}

uint32_t pcap_stream_snaplen(const struct pcap_stream *s)
{
    return s->snaplen;
}

const char *pcap_stream_error(const struct pcap_stream *s)
{
    return s->err;
}

uint64_t pcap_stream_bytes(const struct pcap_stream *s)
{
    return s->consumed;
}

void pcap_stream_close(struct pcap_stream *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s->buf);
    free(s);
}

/*
 * pcap_source.c: packets from capture files or a live interface, via libpcap.
 *
 * Offline, several files (pcap or pcapng, "-" = stdin) are read as one
 * capture: a k-way merge keeps one pending packet per file and hands out the
 * earliest. A file is read again only when the caller comes back for the
 * next packet after its pending one was handed out, so each pending packet
 * stays in its own pcap_t's buffer untouched and nothing needs copying.
 * A damaged file ends that file, the others are still delivered, and the
 * error is reported once the merge runs dry. Live, pcap_create/activate with
 * packets in blocks (or immediate mode on request), ns timestamps where the kernel has them, and
 * non-blocking reads with a poll() bounded by timeout_ms so next() answers AGAIN and the UI keeps
 * polling. Timestamps are always packet time in ns.
 *
 * A regular pcap file in this host's byte order (version 2.4, µs or ns, no
 * filter) is not read through stdio and libpcap's copy: it is read a 1 MiB
 * window at a time and its records are walked in place, each packet handed
 * out where it lies. Anything out of the ordinary (a record longer than the
 * snapshot length, a record cut by the end of the file) hands the file back
 * to libpcap at that record, so errors and odd files read exactly as before;
 * pcapng (and its Decryption Secrets Blocks) always goes through libpcap.
 * A gzip'd file (found by its magic, whatever its name) is inflated through
 * zlib behind a stdio FILE that libpcap reads like any other: never in place,
 * no size (so no progress bar), and its pcapng DSBs are not pre-scanned.
 *
 * A named pipe (or a process substitution, -r <(ssh n tcpdump -U -w -)) is
 * read by capture/pcap_stream.c without blocking: the merge waits for a pipe
 * that has nothing yet, polling it, but at most merge_wait_ms while other
 * inputs hold packets; then it goes on without it (a packet it sends later
 * than that arrives out of order and is counted as such).
 */
#include "capture/pcap_source.h"
#include "capture/iface.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/pcap_stream.h"

#define ERRLEN 512

/* stdio's default buffer is 4 KiB: on a big capture the read system calls
 * alone cost as much as a third of decoding small messages. */
#define READ_BUF_SIZE (256u << 10)

/* The window of a file read in place: larger than any record libpcap accepts
 * (262,144 bytes). A buffer read with pread, not an mmap: on the VMs this runs
 * on, mapping fresh pages cost more than the copy (bytes-heavy: 0.48 s user
 * with an 8 MiB MAP_POPULATE window, 0.23 s through read). */
#define READ_WINDOW (1u << 20)

struct input {
    const char *name;
    pcap_t *p;
    int linktype;
    bool nano;        /* timestamps in ns (else µs) */
    bool done;        /* no more packets from this file */
    bool has_pending; /* hdr/data hold its next packet */
    struct pcap_pkthdr hdr;
    const u_char *data; /* in p's buffer, valid until p is read again */
    uint64_t ts_ns;     /* with offset_ns applied */
    int64_t offset_ns;  /* the file's clock offset */
    uint64_t packets;   /* read from this file */
    uint64_t size;    /* file size, 0 when unknown (stdin, pipe) */
    char *iobuf;      /* the FILE's read buffer (offline), freed after pcap_close */
    /* Read in place (see the top of the file). */
    bool in_place;
    bool file_usec; /* the file's timestamps are µs */
    int fd;
    uint64_t pos;       /* file offset of the next record */
    uint32_t snapshot;  /* libpcap's snapshot length for the file */
    const uint8_t *map; /* window [map_off, map_off + map_len) of the file, in rbuf */
    uint8_t *rbuf;
    uint64_t map_off;
    size_t map_len;
    /* A named pipe (see the top of the file). */
    struct pcap_stream *stream;
    struct bpf_program prog; /* the filter, run by pcap_offline_filter */
    bool has_prog;
    double wait_since; /* monotonic s since the merge waits for it, 0 = not waiting */
};

struct pcap_source {
    struct input *in;
    size_t nin;
    bool live;
    int timeout_ms;             /* live: longest wait in next() before AGAIN */
    double merge_wait_s;        /* pipes: longest wait for a silent one while others have packets */
    int last; /* input whose packet was handed out last; -1 none yet, -2 already refilled */
    volatile sig_atomic_t stop; /* set by pcap_source_break */
    uint64_t index;
    struct pcap_source_stats st;
    char err[ERRLEN]; /* first error; the source keeps going after it offline */
    bool failed;
    /* Live, --wait-iface: what reopening the interface needs, and since when
     * it is away. libpcap's counters restart with each handle: the ones of
     * the handles closed are kept in stats_base. */
    struct pcap_source_config cfg;
    uint64_t down_since_ms; /* monotonic; 0 = the interface is there */
    struct pcap_source_stats stats_base;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

__attribute__((format(printf, 3, 4))) static void fail(char *err, size_t errlen, const char *fmt,
                                                       ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint64_t to_ns(const struct pcap_pkthdr *h, bool nano)
{
    if (h->ts.tv_sec < 0 || h->ts.tv_usec < 0)
        return 0;
    return (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * (nano ? 1 : 1000);
}

/* A file's time on the reference clock (never below 1 ns: 0 means no time). */
static uint64_t shifted(uint64_t ts, int64_t off)
{
    if (off < 0 && (uint64_t)-off >= ts)
        return 1;
    return ts + (uint64_t)off;
}

/* The filter is compiled per input since each may have its own link type. */
static bool apply_filter(pcap_t *p, const char *name, const char *bpf, char *err, size_t errlen)
{
    if (!bpf || !*bpf)
        return true;
    struct bpf_program prog;
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        fail(err, errlen, "%s: bad filter: %s", name, pcap_geterr(p));
        return false;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        fail(err, errlen, "%s: cannot set filter: %s", name, pcap_geterr(p));
        return false;
    }
    return true;
}

static bool check_linktype(struct input *in, char *err, size_t errlen)
{
    in->linktype = pcap_datalink(in->p);
    if (packet_linktype_supported(in->linktype))
        return true;
    const char *lname = pcap_datalink_val_to_name(in->linktype);
    fail(err, errlen, "%s: unsupported link type %s (%d)", in->name, lname ? lname : "unknown",
         in->linktype);
    return false;
}

/* Reads the file in place when its header is the ordinary one: magic in this
 * host's order (µs or ns), version 2.4. libpcap has read the header already
 * and stays open for the link type, the snapshot length and the hand-back. */
static void in_place_init(struct input *in, FILE *fp)
{
    uint8_t fh[24];
    int fd = fileno(fp);
    if (fd < 0 || pread(fd, fh, sizeof fh, 0) != (ssize_t)sizeof fh)
        return;
    uint32_t magic;
    uint16_t major, minor;
    memcpy(&magic, fh, 4);
    memcpy(&major, fh + 4, 2);
    memcpy(&minor, fh + 6, 2);
    if ((magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) || major != 2 || minor != 4)
        return;
    int snap = pcap_snapshot(in->p);
    if (snap <= 0)
        return;
    in->file_usec = magic == 0xa1b2c3d4u;
    in->snapshot = (uint32_t)snap;
    in->fd = fd;
    in->pos = sizeof fh;
    in->in_place = true;
}

static void unmap_window(struct input *in)
{
    in->map = NULL;
    in->map_len = 0;
}

/* Makes [off, off + n) of the file readable at in->map: the window is one
 * pread of READ_WINDOW bytes from off (a record cut by the window's end is
 * read again with the next). false when the file has not that much. */
static bool map_range(struct input *in, uint64_t off, size_t n)
{
    if (in->map && off >= in->map_off && off + n <= in->map_off + in->map_len)
        return true;
    unmap_window(in);
    if (!in->rbuf && !(in->rbuf = malloc(READ_WINDOW)))
        return false;
    size_t got = 0;
    while (got < READ_WINDOW) {
        ssize_t r = pread(in->fd, in->rbuf + got, READ_WINDOW - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    in->map = in->rbuf;
    in->map_off = off;
    in->map_len = got;
    return n <= got;
}

/* Gives the rest of the file back to libpcap, from the record at in->pos. */
static void hand_back(struct input *in)
{
    unmap_window(in);
    in->in_place = false;
    FILE *f = pcap_file(in->p);
    if (!f || fseeko(f, (off_t)in->pos, SEEK_SET) != 0)
        in->done = true; /* cannot happen on a regular file; ends it rather than misread */
}

/* The next record in place: 1 with *h and *d set, -1 when libpcap must take
 * over at this record (the end of the file as stat saw it included: libpcap
 * says whether it is the end, or reads what was appended since). */
static int in_place_next(struct input *in, struct pcap_pkthdr *h, const u_char **d)
{
    if (in->pos >= in->size || in->size - in->pos < 16 || !map_range(in, in->pos, 16))
        return -1;
    const uint8_t *r = in->map + (in->pos - in->map_off);
    int32_t sec, frac;
    uint32_t caplen, len;
    memcpy(&sec, r, 4);
    memcpy(&frac, r + 4, 4);
    memcpy(&caplen, r + 8, 4);
    memcpy(&len, r + 12, 4);
    if (caplen > in->snapshot || in->size - in->pos - 16 < caplen ||
        !map_range(in, in->pos, 16 + (size_t)caplen))
        return -1;
    r = in->map + (in->pos - in->map_off);
    /* As libpcap fills it when asked for ns: signed 32-bit fields, µs scaled. */
    h->ts.tv_sec = sec;
    h->ts.tv_usec = in->file_usec ? (suseconds_t)frac * 1000 : (suseconds_t)frac;
    h->caplen = caplen;
    h->len = len;
    *d = r + 16;
    in->pos += 16 + (uint64_t)caplen;
    return 1;
}

/* ---- gzip'd files: a FILE whose reads inflate (fopencookie) ---- */

static ssize_t gz_read(void *cookie, char *buf, size_t n)
{
    unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
    int r = gzread(cookie, buf, chunk);
    return r < 0 ? -1 : (ssize_t)r;
}

static int gz_close(void *cookie)
{
    return gzclose(cookie) == Z_OK ? 0 : -1;
}

/* Replaces *fp (a regular file starting with the gzip magic) by a FILE that
 * reads the inflated bytes. false (errno set) when zlib cannot take it. */
static bool gz_wrap(FILE **fp)
{
    int fd = dup(fileno(*fp));
    if (fd < 0)
        return false;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        errno = ENOMEM;
        return false;
    }
    gzbuffer(gz, READ_BUF_SIZE);
    cookie_io_functions_t io = {.read = gz_read, .close = gz_close};
    FILE *f = fopencookie(gz, "rb", io);
    if (!f) {
        gzclose(gz);
        return false;
    }
    fclose(*fp);
    *fp = f;
    return true;
}

/* Looks at the first bytes of a regular file: an empty file is an error of
 * its own (libpcap would say "truncated dump file; tried to read 4 file
 * header bytes"), a gzip'd one is wrapped. false with err set on failure. */
static bool check_start(struct input *in, FILE **fp, bool *gz, char *err, size_t errlen)
{
    struct stat sb;
    if (fstat(fileno(*fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        return true;
    if (sb.st_size == 0) {
        fail(err, errlen, "%s: empty file (0 bytes): not a capture", in->name);
        return false;
    }
    uint8_t magic[2];
    if (pread(fileno(*fp), magic, sizeof magic, 0) != (ssize_t)sizeof magic || magic[0] != 0x1f ||
        magic[1] != 0x8b)
        return true;
    if (!gz_wrap(fp)) {
        fail(err, errlen, "%s: cannot read as gzip: %s", in->name, strerror(errno));
        return false;
    }
    *gz = true;
    return true;
}

/* ---- named pipes ---- */

/* A pipe whose header is not classic pcap (pcapng) goes to libpcap, blocking,
 * through a FILE that first gives back the header bytes already read. */
struct head_cookie {
    int fd;
    uint8_t head[PCAP_STREAM_HEADER];
    size_t off;
};

static ssize_t head_read(void *cookie, char *buf, size_t n)
{
    struct head_cookie *c = cookie;
    if (c->off < sizeof c->head) {
        size_t k = sizeof c->head - c->off < n ? sizeof c->head - c->off : n;
        memcpy(buf, c->head + c->off, k);
        c->off += k;
        return (ssize_t)k;
    }
    ssize_t r;
    while ((r = read(c->fd, buf, n)) < 0 && errno == EINTR)
        ;
    return r;
}

static int head_close(void *cookie)
{
    struct head_cookie *c = cookie;
    int rc = close(c->fd);
    free(c);
    return rc;
}

static bool read_head(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static bool open_pcapng_pipe(struct input *in, int fd, const uint8_t *head, char *err,
                             size_t errlen)
{
    struct head_cookie *c = malloc(sizeof *c);
    FILE *f = NULL;
    if (c) {
        c->fd = fd;
        memcpy(c->head, head, sizeof c->head);
        c->off = 0;
        cookie_io_functions_t io = {.read = head_read, .close = head_close};
        f = fopencookie(c, "rb", io);
    }
    if (!f) {
        free(c);
        close(fd);
        fail(err, errlen, "%s: out of memory", in->name);
        return false;
    }
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    in->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!in->p) {
        fclose(f);
        fail(err, errlen, "%s: not a pcap or pcapng capture (%s)", in->name, ebuf);
        return false;
    }
    in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
    return check_linktype(in, err, errlen);
}

static bool open_stream(struct input *in, const struct pcap_source_config *cfg, char *err,
                        size_t errlen)
{
    int fd = open(in->name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(err, errlen, "%s: %s", in->name, strerror(errno));
        return false;
    }
    uint8_t head[PCAP_STREAM_HEADER];
    if (!read_head(fd, head, sizeof head)) {
        close(fd);
        fail(err, errlen, "%s: the pipe ended before a capture header", in->name);
        return false;
    }
    if (!pcap_stream_is_classic(head))
        return open_pcapng_pipe(in, fd, head, err, errlen) &&
               apply_filter(in->p, in->name, cfg->bpf, err, errlen);
    in->stream = pcap_stream_open(fd, head, in->name, err, errlen);
    if (!in->stream)
        return false;
    uint32_t snap = pcap_stream_snaplen(in->stream);
    in->p = pcap_open_dead_with_tstamp_precision(pcap_stream_linktype(in->stream),
                                                 snap && snap < 262144 ? (int)snap : 262144,
                                                 PCAP_TSTAMP_PRECISION_NANO);
    if (!in->p) {
        fail(err, errlen, "%s: out of memory", in->name);
        return false;
    }
    in->nano = true;
    if (!check_linktype(in, err, errlen))
        return false;
    if (cfg->bpf && *cfg->bpf) {
        if (pcap_compile(in->p, &in->prog, cfg->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            fail(err, errlen, "%s: bad filter: %s", in->name, pcap_geterr(in->p));
            return false;
        }
        in->has_prog = true;
    }
    return true;
}

static bool open_file(struct input *in, const struct pcap_source_config *cfg, char *err,
                      size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    bool is_stdin = strcmp(in->name, "-") == 0;
    struct stat fsb;
    if (!is_stdin && stat(in->name, &fsb) == 0 && S_ISFIFO(fsb.st_mode))
        return open_stream(in, cfg, err, errlen);
    FILE *fp = is_stdin ? stdin : fopen(in->name, "rb");
    if (!fp) {
        fail(err, errlen, "%s: %s", in->name, strerror(errno));
        return false;
    }
    bool gz = false;
    if (!is_stdin && !check_start(in, &fp, &gz, err, errlen)) {
        fclose(fp);
        return false;
    }
    if (is_stdin) {
        int c = getc(fp);
        if (c == EOF) {
            fail(err, errlen, "%s: empty input (0 bytes): not a capture", "stdin");
            return false;
        }
        ungetc(c, fp);
    }
    /* Not for stdin: it outlives pcap_close, and so would a buffer we free. */
    in->iobuf = is_stdin ? NULL : malloc(READ_BUF_SIZE);
    if (in->iobuf)
        setvbuf(fp, in->iobuf, _IOFBF, READ_BUF_SIZE);
    in->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!in->p) {
        if (!is_stdin)
            fclose(fp);
        /* libpcap says "unknown file format" for what is not a capture at all. */
        if (strstr(ebuf, "unknown file format"))
            fail(err, errlen, "%s: not a pcap or pcapng capture (%s)", in->name, ebuf);
        else
            fail(err, errlen, "%s: %s", in->name, ebuf);
        return false;
    }
    in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
    if (!check_linktype(in, err, errlen))
        return false;
    struct stat sb;
    if (!gz && strcmp(in->name, "-") != 0 && stat(in->name, &sb) == 0 && S_ISREG(sb.st_mode))
        in->size = (uint64_t)sb.st_size;
    if (!apply_filter(in->p, in->name, cfg->bpf, err, errlen))
        return false;
    if (!is_stdin && in->size && (!cfg->bpf || !*cfg->bpf))
        in_place_init(in, fp);
    return true;
}

static bool open_live(struct input *in, const struct pcap_source_config *cfg, char *err,
                      size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    in->p = pcap_create(in->name, ebuf);
    if (!in->p) {
        fail(err, errlen, "%s: %s", in->name, ebuf);
        return false;
    }
    int snaplen = cfg->snaplen > 0 ? cfg->snaplen : 262144;
    int buffer_kib = cfg->buffer_kib > 0 ? cfg->buffer_kib : 8192;
    int timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 100;
    pcap_set_snaplen(in->p, snaplen);
    /* Not immediate mode by default: on Linux it makes libpcap fall back to
     * TPACKET_V2, whose ring has fixed frames sized for the snaplen (64 KiB on
     * lo), so an 8 MiB buffer holds ~128 packets and a burst on a busy broker
     * drops packets (measured by bench/live.sh). TPACKET_V3 packs packets into
     * blocks handed over when full or after timeout_ms: thousands of packets
     * fit, at the price of up to timeout_ms of latency. --immediate-mode for
     * who wants each packet at once. */
    pcap_set_immediate_mode(in->p, cfg->immediate ? 1 : 0);
    pcap_set_timeout(in->p, timeout_ms);
    if (buffer_kib <= INT32_MAX / 1024)
        pcap_set_buffer_size(in->p, buffer_kib * 1024);
    /* ns when the platform has it; otherwise µs and to_ns() scales. */
    if (pcap_set_tstamp_precision(in->p, PCAP_TSTAMP_PRECISION_NANO) != 0)
        pcap_set_tstamp_precision(in->p, PCAP_TSTAMP_PRECISION_MICRO);
    int rc = pcap_activate(in->p);
    if (rc < 0) {
        const char *why = rc == PCAP_ERROR ? pcap_geterr(in->p) : pcap_statustostr(rc);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED)
            fail(err, errlen, "%s: %s", in->name, pcap_geterr(in->p)[0] ? pcap_geterr(in->p) : why);
        else
            fail(err, errlen, "%s: %s", in->name, why);
        return false;
    }
    in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
    if (!check_linktype(in, err, errlen))
        return false;
    if (!apply_filter(in->p, in->name, cfg->bpf, err, errlen))
        return false;
    /* Reads are non-blocking and next() waits with poll() itself, bounded, so
     * the TUI can read keys between packets whatever the mode. */
    if (pcap_setnonblock(in->p, 1, ebuf) < 0) {
        fail(err, errlen, "%s: %s", in->name, ebuf);
        return false;
    }
    return true;
}

struct pcap_source *pcap_source_open(const struct pcap_source_config *cfg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    bool live = cfg->iface != NULL;
    size_t n = live ? 1 : cfg->nfiles;
    if (n == 0) {
        fail(err, errlen, "no capture file or interface given");
        return NULL;
    }
    size_t stdin_uses = 0;
    for (size_t i = 0; !live && i < n; i++)
        stdin_uses += strcmp(cfg->files[i], "-") == 0;
    if (stdin_uses > 1) {
        fail(err, errlen, "-: standard input can be read only once");
        return NULL;
    }
    struct pcap_source *src = calloc(1, sizeof *src);
    if (!src || !(src->in = calloc(n, sizeof *src->in))) {
        free(src);
        fail(err, errlen, "out of memory opening the capture");
        return NULL;
    }
    src->nin = n;
    src->live = live;
    src->cfg = *cfg;
    src->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 100;
    src->merge_wait_s = (cfg->merge_wait_ms > 0 ? cfg->merge_wait_ms : 1000) / 1000.0;
    src->last = -1;
    for (size_t i = 0; i < n; i++) {
        struct input *in = &src->in[i];
        in->name = live ? cfg->iface : cfg->files[i];
        in->offset_ns = !live && cfg->offsets_ns ? cfg->offsets_ns[i] : 0;
        bool ok = live ? open_live(in, cfg, err, errlen) : open_file(in, cfg, err, errlen);
        if (!ok) {
            pcap_source_close(src);
            return NULL;
        }
        src->st.bytes_total += in->size;
    }
    return src;
}

__attribute__((format(printf, 2, 3))) static void set_error(struct pcap_source *src,
                                                            const char *fmt, ...)
{
    src->st.bad_records++;
    if (src->failed)
        return; /* the first error is the one worth reading */
    src->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(src->err, sizeof src->err, fmt, ap);
    va_end(ap);
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A pipe's next packet if it has one now; else it is left waiting. */
static void refill_stream(struct pcap_source *src, struct input *in)
{
    for (;;) {
        struct pcap_stream_record r;
        enum pcap_stream_status st = pcap_stream_next(in->stream, &r);
        if (st == PCAP_STREAM_AGAIN)
            return;
        if (st != PCAP_STREAM_PACKET) {
            in->done = true;
            if (st == PCAP_STREAM_ERROR)
                set_error(src, "%s", pcap_stream_error(in->stream));
            return;
        }
        in->hdr.ts.tv_sec = (time_t)(r.ts_ns / 1000000000u);
        in->hdr.ts.tv_usec = (suseconds_t)(r.ts_ns % 1000000000u);
        in->hdr.caplen = r.caplen;
        in->hdr.len = r.wirelen;
        if (in->has_prog && !pcap_offline_filter(&in->prog, &in->hdr, r.data))
            continue;
        in->data = r.data;
        in->ts_ns = shifted(r.ts_ns, in->offset_ns);
        in->has_pending = true;
        in->wait_since = 0;
        in->packets++;
        return;
    }
}

/* Pipes with nothing yet: polls them for up to timeout_ms. true when the
 * merge may pick (every input has a packet or has ended, or the pipes still
 * empty were waited for merge_wait_s while others had packets). */
static bool merge_ready(struct pcap_source *src)
{
    struct pollfd fds[64];
    size_t nf = 0;
    bool any_pending = false;
    bool waiting = false; /* a pipe with nothing yet: only then is the clock read */
    for (size_t i = 0; i < src->nin; i++) {
        const struct input *in = &src->in[i];
        any_pending = any_pending || in->has_pending;
        waiting = waiting || (in->stream && !in->done && !in->has_pending);
    }
    if (!waiting)
        return true; /* files only, or every pipe has a packet: once per packet */
    double now = mono_s();
    for (size_t i = 0; i < src->nin && nf < 64; i++) {
        struct input *in = &src->in[i];
        if (!in->stream || in->done || in->has_pending)
            continue;
        if (!in->wait_since)
            in->wait_since = now;
        if (!any_pending || now - in->wait_since < src->merge_wait_s)
            fds[nf++] = (struct pollfd){.fd = pcap_stream_fd(in->stream), .events = POLLIN};
    }
    if (!nf)
        return true;
    if (poll(fds, (nfds_t)nf, src->timeout_ms) <= 0)
        return false;
    for (size_t i = 0; i < src->nin; i++) {
        struct input *in = &src->in[i];
        if (in->stream && !in->done && !in->has_pending)
            refill_stream(src, in);
    }
    return false; /* the caller comes back: the wait is judged again */
}

/* Reads the next packet of one file into its pending slot. */
static void refill(struct pcap_source *src, struct input *in)
{
    in->has_pending = false;
    if (in->done)
        return;
    if (in->stream) {
        refill_stream(src, in);
        return;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    if (in->in_place) {
        int r = in_place_next(in, &in->hdr, &in->data);
        if (r == 1) {
            in->ts_ns = shifted(to_ns(&in->hdr, in->nano), in->offset_ns);
            in->has_pending = true;
            in->packets++;
            return;
        }
        hand_back(in);
        if (in->done)
            return;
    }
    int rc = pcap_next_ex(in->p, &h, &d);
    if (rc == 1) {
        in->hdr = *h;
        in->data = d;
        in->ts_ns = shifted(to_ns(h, in->nano), in->offset_ns);
        in->has_pending = true;
        in->packets++;
        return;
    }
    in->done = true;
    if (rc == PCAP_ERROR) {
        const char *why = pcap_geterr(in->p);
        if (strstr(why, "truncated"))
            set_error(src, "%s: truncated capture after packet %llu", in->name,
                      (unsigned long long)in->packets);
        else
            set_error(src, "%s: damaged record after packet %llu: %s", in->name,
                      (unsigned long long)in->packets, why);
    }
}

/* Non-blocking read; when nothing is there, wait on the descriptor for up to
 * timeout_ms and try once more. A signal cuts the wait short (EINTR). */
static int read_live(struct pcap_source *src, struct input *in, struct pcap_pkthdr **h,
                     const u_char **d)
{
    int rc = pcap_next_ex(in->p, h, d);
    if (rc != 0 || src->stop)
        return rc;
    int fd = pcap_get_selectable_fd(in->p);
    if (fd < 0)
        return 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, src->timeout_ms) <= 0 || src->stop)
        return 0;
    return pcap_next_ex(in->p, h, d);
}

/* libpcap's counters of the live handle, added to those of the handles before it. */
static void live_stats(struct pcap_source *src)
{
    struct pcap_stat ps;
    if (src->in[0].p && pcap_stats(src->in[0].p, &ps) == 0) {
        src->st.ps_recv = src->stats_base.ps_recv + ps.ps_recv;
        src->st.ps_drop = src->stats_base.ps_drop + ps.ps_drop;
        src->st.ps_ifdrop = src->stats_base.ps_ifdrop + ps.ps_ifdrop;
    }
}

/* --wait-iface, the interface away: a bounded wait, then a try to open it again. */
static enum pcap_source_status wait_for_iface(struct pcap_source *src)
{
    struct input *in = &src->in[0];
    struct timespec ts = {0, (long)src->timeout_ms * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short: the caller sees stop */
    if (src->stop)
        return PCAP_SOURCE_END;
    if (!iface_ready(in->name))
        return PCAP_SOURCE_AGAIN;
    char err[ERRLEN];
    int linktype = in->linktype;
    if (!open_live(in, &src->cfg, err, sizeof err)) {
        if (in->p)
            pcap_close(in->p);
        in->p = NULL; /* not ready yet (down, or renamed again): try at the next turn */
        return PCAP_SOURCE_AGAIN;
    }
    if (in->linktype != linktype) {
        snprintf(src->err, sizeof src->err, "%s: came back with another link type", in->name);
        src->failed = true;
        return PCAP_SOURCE_ERROR;
    }
    src->st.iface_down_ms += mono_ms() - src->down_since_ms;
    src->st.iface_down = 0;
    src->down_since_ms = 0;
    return PCAP_SOURCE_AGAIN;
}

static enum pcap_source_status next_live(struct pcap_source *src, struct packet *out)
{
    struct input *in = &src->in[0];
    if (!in->p)
        return wait_for_iface(src);
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = read_live(src, in, &h, &d);
    if (rc == PCAP_ERROR_BREAK || src->stop)
        return PCAP_SOURCE_END;
    if (rc == 0)
        return PCAP_SOURCE_AGAIN;
    if (rc != 1) {
        /* libpcap says "The interface disappeared", or an error on a device
         * that no longer exists; "any" never goes. */
        if (!iface_exists(in->name)) {
            src->st.iface_lost++;
            if (src->cfg.wait_iface) {
                live_stats(src);
                src->stats_base = src->st;
                pcap_close(in->p);
                in->p = NULL;
                src->st.iface_down = 1;
                src->down_since_ms = mono_ms();
                return PCAP_SOURCE_AGAIN;
            }
            snprintf(src->err, sizeof src->err,
                     "%s: the interface went away; the capture ends (--wait-iface waits for it)",
                     in->name);
        } else {
            snprintf(src->err, sizeof src->err, "%s: %s", in->name, pcap_geterr(in->p));
        }
        src->failed = true;
        return PCAP_SOURCE_ERROR;
    }
    in->hdr = *h;
    in->data = d;
    in->ts_ns = to_ns(h, in->nano);
    in->packets++;
    src->last = 0;
    return PCAP_SOURCE_PACKET;
}

enum pcap_source_status pcap_source_next(struct pcap_source *src, struct packet *out)
{
    if (src->stop)
        return PCAP_SOURCE_END;
    int pick = -1;
    if (src->live) {
        enum pcap_source_status s = next_live(src, out);
        if (s != PCAP_SOURCE_PACKET)
            return s;
        pick = 0;
    } else {
        if (src->last == -1) { /* first call: prime every file */
            for (size_t i = 0; i < src->nin; i++)
                refill(src, &src->in[i]);
        } else if (src->last >= 0) {
            refill(src, &src->in[src->last]);
        }
        src->last = -2; /* refilled: a call after AGAIN reads nothing again */
        if (!merge_ready(src))
            return src->stop ? PCAP_SOURCE_END : PCAP_SOURCE_AGAIN;
        /* Earliest first; equal timestamps keep the order of the files given. */
        for (size_t i = 0; i < src->nin; i++) {
            const struct input *in = &src->in[i];
            if (in->has_pending && (pick < 0 || in->ts_ns < src->in[pick].ts_ns))
                pick = (int)i;
        }
        if (pick < 0) {
            src->last = 0;
            for (size_t i = 0; i < src->nin; i++)
                src->in[i].done = true;
            return src->failed ? PCAP_SOURCE_ERROR : PCAP_SOURCE_END;
        }
        src->last = pick;
    }
    const struct input *in = &src->in[pick];
    out->ts_ns = in->ts_ns;
    out->source = (uint16_t)pick;
    out->index = ++src->index;
    out->caplen = in->hdr.caplen;
    out->wirelen = in->hdr.len;
    out->linktype = in->linktype;
    out->data = in->data;
    src->st.packets++;
    if (in->hdr.caplen < in->hdr.len)
        src->st.truncated++;
    return PCAP_SOURCE_PACKET;
}

const char *pcap_source_error(const struct pcap_source *src)
{
    return src->err;
}

int pcap_source_fd(const struct pcap_source *src)
{
    return src->live && src->in[0].p ? pcap_get_selectable_fd(src->in[0].p) : -1;
}

bool pcap_source_is_live(const struct pcap_source *src)
{
    return src->live;
}

int pcap_source_linktype(const struct pcap_source *src)
{
    return src->in[0].linktype;
}

int pcap_source_snaplen(const struct pcap_source *src)
{
    return src->in[0].p ? pcap_snapshot(src->in[0].p) : 262144;
}

void pcap_source_get_stats(struct pcap_source *src, struct pcap_source_stats *out)
{
    if (src->live) {
        live_stats(src);
    } else {
        /* ftell costs a system call, so progress is computed here, not per packet. */
        uint64_t read = 0;
        for (size_t i = 0; i < src->nin; i++) {
            struct input *in = &src->in[i];
            if (in->done) {
                read += in->size;
                continue;
            }
            if (in->in_place) {
                read += in->pos;
                continue;
            }
            FILE *f = pcap_file(in->p);
            long pos = f && in->size ? ftell(f) : -1;
            if (pos > 0)
                read += (uint64_t)pos < in->size ? (uint64_t)pos : in->size;
        }
        src->st.bytes_read = read;
    }
    *out = src->st;
    if (src->down_since_ms) /* away now: the blind time so far counts */
        out->iface_down_ms += mono_ms() - src->down_since_ms;
    out->iface_down_s = (out->iface_down_ms + 999) / 1000;
}

void pcap_source_break(struct pcap_source *src)
{
    src->stop = 1;
    if (src->live && src->in[0].p)
        pcap_breakloop(src->in[0].p);
}

void pcap_source_close(struct pcap_source *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->nin; i++) {
        free(src->in[i].rbuf);
        pcap_stream_close(src->in[i].stream);
        if (src->in[i].has_prog)
            pcap_freecode(&src->in[i].prog);
        if (src->in[i].p)
            pcap_close(src->in[i].p); /* closes the FILE, so its buffer goes after */
        free(src->in[i].iobuf);
    }
    free(src->in);
    free(src);
}

/* ---- counters ---- */

static const struct counter_def source_rows[] = {
    COUNTER_ROW(struct pcap_source_stats, bytes_read, "bytes_read", TOTAL, COUNTER_REPORT,
                "Capture file bytes consumed."),
    COUNTER_ROW(
        struct pcap_source_stats, ps_drop, "pcap_drops", TOTAL, COUNTER_REPORT,
        "Packets the kernel dropped because the capture buffer was full (libpcap ps_drop)."),
    COUNTER_ROW(struct pcap_source_stats, ps_ifdrop, "pcap_ifdrops", TOTAL, COUNTER_REPORT,
                "Packets the interface or its driver dropped (libpcap ps_ifdrop)."),
    COUNTER_ROW(struct pcap_source_stats, truncated, "truncated_packets", TOTAL, COUNTER_REPORT,
                "Packets captured shorter than they were on the wire (snap length)."),
    COUNTER_ROW(struct pcap_source_stats, bad_records, "bad_records", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR, "Damaged capture file records skipped."),
    COUNTER_ROW(struct pcap_source_stats, ps_recv, "pcap_received", TOTAL, 0,
                "Packets the kernel handed to the capture (libpcap ps_recv)."),
    COUNTER_ROW(struct pcap_source_stats, iface_lost, "iface_lost", TOTAL,
                COUNTER_REPORT | COUNTER_ERROR, "Times the capture interface went away."),
    COUNTER_ROW(struct pcap_source_stats, iface_down, "iface_down", GAUGE, 0,
                "1 while the capture interface is away and --wait-iface waits for it."),
    COUNTER_ROW(struct pcap_source_stats, iface_down_s, "iface_down_seconds", TOTAL,
                COUNTER_REPORT,
                "Seconds (rounded up) the capture interface was away: time the capture was blind."),
};

static void read_source_stats(const void *owner, void *out)
{
    /* pcap_stats() needs the handle itself; reading does not change the source. */
    pcap_source_get_stats((struct pcap_source *)(uintptr_t)owner, out);
}

bool pcap_source_register_counters(struct pcap_source *src, struct counters *reg)
{
    return counters_add(reg, source_rows, sizeof source_rows / sizeof source_rows[0],
                        read_source_stats, src, sizeof(struct pcap_source_stats));
}

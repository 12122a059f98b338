/*
 * dump_file.c: -w's files (ui/dump_file.h). pcap goes through libpcap's
 * dumper (ns precision), so a plain -w file is what it always was; pcapng is
 * written here, three block types only: a section header with the comment
 * and the writing application, one interface description (ns time stamps)
 * and an enhanced packet block per packet. Rotation follows tcpdump: with
 * -C or -G the files are PATH, PATH1, PATH2, ...; with -W N they are PATH0
 * to PATH(N-1), zero-padded, reused in turn. A PATH with a '%' is passed
 * through strftime(3) with the local time of the file's first packet (as
 * tcpdump -G does), then numbered the same way.
 */
#include "ui/dump_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/cli.h"

#define SNAPLEN 262144
#define DUMP_NAME_MAX 4096

struct dump_file {
    struct dump_file_config cfg;
    char comment[1024];
    /* the file being written: either libpcap's dumper or our pcapng FILE */
    pcap_t *dead;
    pcap_dumper_t *pd;
    FILE *ng;
    uint64_t bytes;            /* written to the current file */
    uint64_t file_start;       /* ts of the current file's first packet, 0 = none yet */
    unsigned nfiles;           /* files opened so far */
    char first[DUMP_NAME_MAX]; /* the first file's name, for messages */
    bool failed;
};

static unsigned digits(unsigned v)
{
    unsigned n = 1;
    while (v >= 10)
        v /= 10, n++;
    return n;
}

void dump_file_name(const struct dump_file_config *cfg, unsigned n, uint64_t ts_ns, char *buf,
                    size_t len)
{
    char base[DUMP_NAME_MAX];
    snprintf(base, sizeof base, "%s", cfg->path);
    if (strchr(cfg->path, '%') && ts_ns) {
        time_t sec = (time_t)(ts_ns / 1000000000u);
        struct tm tm;
        localtime_r(&sec, &tm);
        if (!strftime(base, sizeof base, cfg->path, &tm))
            snprintf(base, sizeof base, "%s", cfg->path);
    }
    bool rotating = cfg->rotate_bytes || cfg->rotate_s > 0;
    if (rotating && cfg->max_files)
        snprintf(buf, len, "%s%0*u", base, (int)digits(cfg->max_files - 1), n % cfg->max_files);
    else if (rotating && n > 0 && !strchr(cfg->path, '%'))
        snprintf(buf, len, "%s%u", base, n);
    else
        snprintf(buf, len, "%s", base);
}

/* ---- pcapng blocks (little-endian, this host's order, as the section says) ---- */

static void put32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}

static void put16(FILE *f, uint16_t v)
{
    fwrite(&v, 2, 1, f);
}

static uint32_t pad4(size_t n)
{
    return (uint32_t)((4 - n % 4) % 4);
}

static void put_option(FILE *f, uint16_t code, const void *v, size_t len)
{
    static const uint8_t zero[4];
    put16(f, code);
    put16(f, (uint16_t)len);
    fwrite(v, 1, len, f);
    fwrite(zero, 1, pad4(len), f);
}

static uint32_t option_len(size_t len)
{
    return (uint32_t)(4 + len + pad4(len));
}

/* The LINKTYPE_ value pcapng records: the DLT, but for the few that differ. */
static uint16_t linktype_of(int dlt)
{
#ifdef DLT_RAW
    if (dlt == DLT_RAW)
        return 101;
#endif
    return (uint16_t)dlt;
}

static void ng_headers(struct dump_file *d)
{
    FILE *f = d->ng;
    const char *app = "oslotrace " OSLOTRACE_VERSION;
    size_t clen = strlen(d->comment);
    uint32_t shb = 28 + (clen ? option_len(clen) : 0) + option_len(strlen(app)) + 4;
    put32(f, 0x0A0D0D0A);
    put32(f, shb);
    put32(f, 0x1A2B3C4D);
    put16(f, 1);
    put16(f, 0);
    put32(f, 0xFFFFFFFF); /* section length: not given */
    put32(f, 0xFFFFFFFF);
    if (clen)
        put_option(f, 1, d->comment, clen); /* opt_comment */
    put_option(f, 4, app, strlen(app));     /* shb_userappl */
    put32(f, 0);                            /* opt_endofopt */
    put32(f, shb);
    uint8_t tsresol = 9; /* nanoseconds */
    uint32_t idb = 20 + option_len(1) + 4;
    put32(f, 1);
    put32(f, idb);
    put16(f, linktype_of(d->cfg.linktype));
    put16(f, 0);
    put32(f, SNAPLEN);
    put_option(f, 9, &tsresol, 1); /* if_tsresol */
    put32(f, 0);
    put32(f, idb);
    d->bytes = shb + idb;
}

static bool open_file(struct dump_file *d, uint64_t ts_ns, char *err, size_t errlen)
{
    char name[DUMP_NAME_MAX];
    dump_file_name(&d->cfg, d->nfiles, ts_ns, name, sizeof name);
    if (d->cfg.pcapng) {
        d->ng = fopen(name, "wb");
        if (!d->ng) {
            snprintf(err, errlen, "%s: %s", name, strerror(errno));
            return false;
        }
        ng_headers(d);
    } else {
        d->dead = pcap_open_dead_with_tstamp_precision(d->cfg.linktype, SNAPLEN,
                                                       PCAP_TSTAMP_PRECISION_NANO);
        d->pd = d->dead ? pcap_dump_open(d->dead, name) : NULL;
        if (!d->pd) {
            if (d->dead) {
                snprintf(err, errlen, "%s", pcap_geterr(d->dead)); /* libpcap names the file */
                pcap_close(d->dead);
            } else {
                snprintf(err, errlen, "%s: out of memory", name);
            }
            d->dead = NULL;
            return false;
        }
        d->bytes = 24;
    }
    if (!d->nfiles)
        snprintf(d->first, sizeof d->first, "%s", name);
    d->nfiles++;
    d->file_start = ts_ns;
    return true;
}

static bool close_file(struct dump_file *d)
{
    bool ok = true;
    if (d->ng) {
        ok = fflush(d->ng) == 0 && !ferror(d->ng);
        ok = fclose(d->ng) == 0 && ok;
        d->ng = NULL;
    }
    if (d->pd) {
        ok = pcap_dump_flush(d->pd) == 0;
        pcap_dump_close(d->pd);
        d->pd = NULL;
    }
    if (d->dead) {
        pcap_close(d->dead);
        d->dead = NULL;
    }
    return ok;
}

struct dump_file *dump_file_open(const struct dump_file_config *cfg, char *err, size_t errlen)
{
    struct dump_file *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "%s: out of memory", cfg->path);
        return NULL;
    }
    d->cfg = *cfg;
    snprintf(d->comment, sizeof d->comment, "%s", cfg->comment ? cfg->comment : "");
    d->cfg.comment = NULL;
    /* A strftime name needs a packet's time: that file is made at the first packet. */
    if (!strchr(cfg->path, '%') && !open_file(d, 0, err, errlen)) {
        free(d);
        return NULL;
    }
    return d;
}

static bool need_new_file(const struct dump_file *d, uint64_t ts_ns, uint32_t caplen)
{
    if (!d->ng && !d->pd)
        return true;
    if (!d->file_start)
        return false;
    if (d->cfg.rotate_bytes && d->bytes + 32 + caplen > d->cfg.rotate_bytes && d->bytes > 512)
        return true;
    return d->cfg.rotate_s > 0 && ts_ns >= d->file_start &&
           (double)(ts_ns - d->file_start) >= d->cfg.rotate_s * 1e9;
}

bool dump_file_write(struct dump_file *d, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                     const uint8_t *data, char *err, size_t errlen)
{
    if (d->failed) {
        snprintf(err, errlen, "%s: an earlier write failed", d->cfg.path);
        return false;
    }
    if (need_new_file(d, ts_ns, caplen)) {
        bool ok = close_file(d);
        if (!ok || !open_file(d, ts_ns, err, errlen)) {
            if (!ok)
                snprintf(err, errlen, "%s: write failed", d->cfg.path);
            d->failed = true;
            return false;
        }
    }
    if (!d->file_start)
        d->file_start = ts_ns;
    if (d->ng) {
        static const uint8_t zero[4];
        uint32_t len = 32 + caplen + pad4(caplen);
        uint64_t t = ts_ns;
        put32(d->ng, 6);
        put32(d->ng, len);
        put32(d->ng, 0); /* interface 0 */
        put32(d->ng, (uint32_t)(t >> 32));
        put32(d->ng, (uint32_t)t);
        put32(d->ng, caplen);
        put32(d->ng, wirelen);
        fwrite(data, 1, caplen, d->ng);
        fwrite(zero, 1, pad4(caplen), d->ng);
        put32(d->ng, len);
        d->bytes += len;
    } else {
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
        h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u); /* ns: the dumper is nano */
        h.caplen = caplen;
        h.len = wirelen;
        pcap_dump((u_char *)d->pd, &h, data);
        d->bytes += 16 + caplen;
    }
    return true;
}

const char *dump_file_first_name(const struct dump_file *d)
{
    return d->nfiles ? d->first : d->cfg.path;
}

void dump_file_describe(const struct dump_file *d, char *buf, size_t len)
{
    const char *first = dump_file_first_name(d);
    unsigned ring = d->cfg.max_files;
    if (d->nfiles <= 1)
        snprintf(buf, len, "%s", first);
    else if (ring && d->nfiles > ring)
        snprintf(buf, len, "%s and on (%u files in turn, the last %u kept: -W %u)", first,
                 d->nfiles, ring, ring);
    else
        snprintf(buf, len, "%s and %u more files", first, d->nfiles - 1);
}

unsigned dump_file_files(const struct dump_file *d)
{
    return d->nfiles;
}

bool dump_file_close(struct dump_file *d, char *err, size_t errlen)
{
    if (!d)
        return true;
    bool ok = close_file(d) && !d->failed;
    if (!ok)
        snprintf(err, errlen, "%s: write failed", d->cfg.path);
    free(d);
    return ok;
}

void dump_file_config_from(const struct cli_options *o, int linktype, const char *bpf,
                           struct dump_file_config *c, char *comment, size_t len)
{
    memset(c, 0, sizeof *c);
    c->path = o->write_file;
    c->linktype = linktype;
    size_t pl = strlen(o->write_file);
    c->pcapng = o->write_pcapng || (!o->write_format_given && pl > 7 &&
                                    strcmp(o->write_file + pl - 7, ".pcapng") == 0);
    c->rotate_bytes = o->rotate_bytes;
    c->rotate_s = o->rotate_s;
    c->max_files = o->max_files;
    char filt[1024];
    op_filter_describe(&o->engine.filter, filt, sizeof filt);
    snprintf(comment, len,
             "oslotrace %s: the packets of the operations matching %s%s%s; capture filter %s",
             OSLOTRACE_VERSION, filt[0] ? "\"" : "", filt[0] ? filt : "every operation",
             filt[0] ? "\"" : "", bpf && bpf[0] ? bpf : "none");
    c->comment = comment;
}

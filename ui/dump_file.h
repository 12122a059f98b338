/*
 * dump_file.h: where -w's packets go: one pcap file, or pcapng with a
 * comment saying what was selected, or a series of files rotated like
 * tcpdump's -C (size), -G (seconds of packet time) and -W (how many files,
 * then the oldest is overwritten). The file writer (ui/writer.c) and the
 * live writer (ui/live_writer.c) write through it.
 */
#ifndef OSLOTRACE_UI_DUMP_FILE_H
#define OSLOTRACE_UI_DUMP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dump_file_config {
    const char *path;      /* -w; with -C/-G the first file's name, the next get a number */
    int linktype;          /* the capture's DLT */
    bool pcapng;           /* -F pcapng, or a path ending in .pcapng */
    const char *comment;   /* pcapng: the section's comment; NULL = none */
    uint64_t rotate_bytes; /* -C: a new file once this many bytes are written, 0 = never */
    double rotate_s;       /* -G: a new file this many seconds of packet time after the
                              file's first packet, 0 = never */
    unsigned max_files;    /* -W: at most this many files, the oldest reused; 0 = no limit */
};

struct dump_file;

/* Creates the first file now (before any packet is read, before a privilege
 * drop); NULL and "PATH: reason" in err when it cannot. */
struct dump_file *dump_file_open(const struct dump_file_config *cfg, char *err, size_t errlen);
/* One packet (ns timestamp); rotates first when the packet would start a new
 * file. False when a file could not be created or written (err says which). */
bool dump_file_write(struct dump_file *d, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                     const uint8_t *data, char *err, size_t errlen);
/* Files created so far (a ring counts each reuse once). */
unsigned dump_file_files(const struct dump_file *d);
/* The first file's name (with -W, PATH0), for messages. */
const char *dump_file_first_name(const struct dump_file *d);
/* "PATH", "PATH and 5 more files", or for a -W ring that went round
 * "PATH0 and on (7 files in turn, the last 2 kept: -W 2)". */
void dump_file_describe(const struct dump_file *d, char *buf, size_t len);
/* Flushes and closes; false when the last write failed. */
bool dump_file_close(struct dump_file *d, char *err, size_t errlen);
/* The name of the n-th file (0-based) of cfg, as dump_file_open makes them. */
void dump_file_name(const struct dump_file_config *cfg, unsigned n, uint64_t ts_ns, char *buf,
                    size_t len);

struct cli_options;
/* -w's configuration from the command line (-w, -F, -C, -G, -W) and the
 * pcapng comment: the operation filter and the capture filter, in comment. */
void dump_file_config_from(const struct cli_options *o, int linktype, const char *bpf,
                           struct dump_file_config *c, char *comment, size_t len);

#endif

/*
 * live_writer.h: -w FILE during a live capture.
 *
 * Offline, -w reads the files twice (ui/writer.c). Live packets cannot be read
 * again, so the recent ones wait in a bounded ring: an operation that ends
 * marks its packets while they are still there, and a packet leaving the ring
 * is written if it was marked. An operation that outlives the ring (a call
 * slower than the ring holds) loses its oldest packets; they are counted.
 */
#ifndef OSLOTRACE_UI_LIVE_WRITER_H
#define OSLOTRACE_UI_LIVE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/packet.h"
#include "dissect/amqp_message.h"
#include "dissect/op.h"
#include "ui/sink.h"

struct live_writer;

struct live_writer_stats {
    uint64_t written;       /* packets written to the file */
    uint64_t missed;        /* marked after they had left the ring */
    uint64_t ring_packets;  /* held now */
    uint64_t write_errors;  /* packets a file could not take (err of the first in first_error) */
    uint64_t reopens;       /* SIGHUP reopens of the file (log rotation) */
    char first_error[256];
    char files[1024]; /* dump_file_describe: the file(s) written */
};

/* ring_bytes bounds the memory held (packet data + bookkeeping). */
struct dump_file_config;
struct live_writer *live_writer_open(const struct dump_file_config *out, size_t ring_bytes,
                                     char *err, size_t errlen);
void live_writer_packet(struct live_writer *w, const struct packet *pkt);
void live_writer_note_conn(struct live_writer *w, const struct amqp_conn_info *info);
void live_writer_mark_op(struct live_writer *w, const struct op *op);
void live_writer_get_stats(const struct live_writer *w, struct live_writer_stats *out);
/* SIGHUP: a new file by the same name (the old one was renamed by log
 * rotation); packets still in the ring go to the new one. Nothing with -C/-G
 * (those files rotate by themselves). False (and the old file kept) when it
 * cannot be created, with why in err. */
bool live_writer_reopen(struct live_writer *w, char *err, size_t errlen);
/* Writes what is marked and still held, closes the file, and gives the final counts. */
void live_writer_close(struct live_writer *w, struct live_writer_stats *final);


/* -w during a live capture: the selected operations' packets from a ring. */
extern const struct sink live_writer_sink;

#endif

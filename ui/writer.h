/*
 * writer.h: -w FILE, the packets of the selected operations as a pcap.
 *
 * Which packets belong to an operation is known only when it ends, long after
 * its first packet went by, so an offline read marks packet numbers during the
 * normal pass and copies the marked packets in a second read of the same
 * files (same merge order, same numbers). A connection's handshake packets are
 * marked with its first operation so the file opens cleanly in Wireshark and
 * in oslotrace itself.
 */
#ifndef OSLOTRACE_UI_WRITER_H
#define OSLOTRACE_UI_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/amqp_conn.h"
#include "dissect/op.h"
#include "engine/config.h"
#include "ui/sink.h"

struct writer;

struct writer *writer_new(void);
/* Remembers a connection's handshake packets (from the AMQP stage's conn events). */
void writer_note_conn(struct writer *w, const struct amqp_conn_info *info);
void writer_mark_op(struct writer *w, const struct op *op);
/* Second pass: re-reads opts' files (merged with the clock offsets the
 * first read applied, so the packet numbers agree; NULL = none) and writes
 * the marked packets to path. Returns false with a one-line message in err. */
bool writer_write(struct writer *w, const struct engine_config *input, const int64_t *offsets_ns,
                  const char *path, uint64_t *written, char *err, size_t errlen);
void writer_free(struct writer *w);


/* -w when reading files: the selected operations' packets, in a second pass. */
extern const struct sink writer_sink;

#endif

/*
 * dialect.h: the RPC dialects, tried in order on every AMQP message.
 *
 * A dialect is a row of data: a name, the op_dialect it reports, and
 * functions to open/close its decoder state and to decode one AMQP message
 * into a struct rpc_msg (dissect/rpc_msg.h) — or to say "not mine". The
 * first dialect that claims a message owns it, so the order is a rule:
 * oslo first (its messages are recognised by their body), then plain AMQP
 * RPC (recognised by properties only). Adding a dialect is one file
 * (dissect/dialect_<name>.c exporting a struct dialect_def), one row in the
 * table in dialect.c and one op_dialect value with its name (dissect/op.h/.c).
 */
#ifndef OSLOTRACE_DISSECT_DIALECT_H
#define OSLOTRACE_DISSECT_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "dissect/amqp_message.h"
#include "dissect/rpc_msg.h"

struct corr_stats;

struct dialect_config {
    bool want_bodies;   /* fill rpc_msg args/result/context JSON */
    bool show_secrets;  /* no redaction of those */
    size_t max_inflate; /* decompressed body limit */
};

struct dialect_def {
    const char *name;
    enum op_dialect id;
    void *(*open)(const struct dialect_config *cfg); /* NULL when out of memory */
    void (*close)(void *state);
    /* true and *out filled when m is this dialect's; false otherwise, with
     * out->reject (and out->cut / bodies_failed) saying what was found. */
    bool (*decode)(void *state, const struct amqp_message *m, struct rpc_msg *out);
    /* Adds the dialect's own counters to *st (may be NULL). */
    void (*add_stats)(const void *state, struct corr_stats *st);
};

#define DIALECT_MAX 8

/* The open dialects of one correlator, in the order they are tried. */
struct dialects {
    const struct dialect_def *def[DIALECT_MAX];
    void *state[DIALECT_MAX];
    size_t n;
};

bool dialects_open(struct dialects *d, const struct dialect_config *cfg);
void dialects_close(struct dialects *d);

/* Tries every dialect in order. true: *out is the claiming dialect's message
 * (release it with rpc_msg_release). false: nobody claimed m; out->reject is
 * the first dialect's reason. Either way out->cut / out->bodies_failed say
 * whether any dialect that decoded m noted them. */
bool dialects_decode(struct dialects *d, const struct amqp_message *m, struct rpc_msg *out);

void dialects_add_stats(const struct dialects *d, struct corr_stats *st);

#endif

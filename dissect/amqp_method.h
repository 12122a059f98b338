/*
 * amqp_method.h: every AMQP 0-9-1 method (plus RabbitMQ's extensions) as data.
 *
 * One row per method: class and method id, the spec's "class.method" name,
 * its arguments (name and type, in wire order), whether content follows it
 * and which way it may flow. One interpreter (amqp_method_decode_args) walks
 * a row to decode a frame; the tests walk the same rows to encode one. Adding
 * a method is adding a row. Argument names are the spec's with '_' for '-'
 * (they become JSON keys and text "key=value" pairs); reserved arguments keep
 * their 0-8 names (ticket, capabilities, insist, ...).
 */
#ifndef OSLOTRACE_DISSECT_AMQP_METHOD_H
#define OSLOTRACE_DISSECT_AMQP_METHOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/amqp_err.h"
#include "dissect/amqp_message.h"

#define AMQP_METHOD_MAX_ARGS 10

enum amqp_arg_type {
    AMQP_ARG_BIT, /* packed: consecutive bits share an octet, lowest bit first */
    AMQP_ARG_OCTET,
    AMQP_ARG_SHORT,
    AMQP_ARG_LONG,
    AMQP_ARG_LONGLONG,
    AMQP_ARG_SHORTSTR,
    AMQP_ARG_LONGSTR,
    AMQP_ARG_TABLE,
    AMQP_ARG_TIMESTAMP,
};

/* Which way a method may flow. */
#define AMQP_FLOW_TO_BROKER 1u
#define AMQP_FLOW_TO_CLIENT 2u
#define AMQP_FLOW_BOTH 3u

struct amqp_arg_def {
    const char *name;
    enum amqp_arg_type type;
};

struct amqp_method_def {
    uint16_t class_id, method_id;
    const char *name; /* "basic.publish", "connection.start-ok" */
    bool content;     /* a content header and body frames follow */
    uint8_t flow;     /* AMQP_FLOW_* */
    uint8_t nargs;
    struct amqp_arg_def args[AMQP_METHOD_MAX_ARGS];
};

/* One decoded argument. Integers and bits in u; strings and tables in bytes
 * (a table without its 4-byte length, already validated). */
struct amqp_arg_value {
    enum amqp_arg_type type;
    uint64_t u;
    struct amqp_bytes bytes;
};

/* The table, sorted by (class_id, method_id). */
const struct amqp_method_def *amqp_method_table(size_t *count);
const struct amqp_method_def *amqp_method_find(uint16_t class_id, uint16_t method_id);
/* "connection", "basic", ...; NULL for an unknown class. */
const char *amqp_class_name(uint16_t class_id);
/* Index of the argument called name, -1 when the method has none. */
int amqp_method_arg_index(const struct amqp_method_def *m, const char *name);
const char *amqp_arg_type_name(enum amqp_arg_type t);

/* Decodes the arguments that follow the class and method ids (p/len) into
 * out[0..m->nargs). Tables are validated (depth AMQP_TABLE_MAX_DEPTH).
 * Bytes after the last argument are tolerated (some clients pad). */
enum amqp_err amqp_method_decode_args(const struct amqp_method_def *m, const uint8_t *p, size_t len,
                                      struct amqp_arg_value *out);

/* Reads the class and method ids of a method frame payload. */
enum amqp_err amqp_method_ids(const uint8_t *payload, size_t len, uint16_t *class_id,
                              uint16_t *method_id);

#endif

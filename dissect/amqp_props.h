/*
 * amqp_props.h: the content header frame (type 2) and basic's 14 properties.
 *
 * Like the method table, the properties are a table of rows (name, type,
 * flag bit, where the value lands in struct amqp_basic_props) walked by one
 * decoder, so the view and the tests read the same list. Property values
 * point into the frame payload (zero-copy); a caller that keeps them copies.
 */
#ifndef OSLOTRACE_DISSECT_AMQP_PROPS_H
#define OSLOTRACE_DISSECT_AMQP_PROPS_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/amqp_err.h"
#include "dissect/amqp_message.h"
#include "dissect/amqp_method.h"

#define AMQP_BASIC_NPROPS 14

struct amqp_prop_def {
    const char *name;        /* "content_type", ..., as JSON keys */
    enum amqp_arg_type type; /* SHORTSTR, OCTET, TABLE or TIMESTAMP */
    uint32_t present_bit;    /* enum amqp_prop_bit */
    size_t offset;           /* of the value in struct amqp_basic_props */
};

struct amqp_content_header {
    uint16_t class_id, weight;
    uint64_t body_size;
    unsigned flag_words; /* property flag words read (1 + continuations) */
    struct amqp_basic_props props;
};

/* The 14 rows, in flag order (row i is flag bit 15 - i of the first word). */
const struct amqp_prop_def *amqp_props_table(size_t *count);

/* Parses a content header payload. Properties beyond the 14 known ones (bit 1
 * of the first word, or bits in continuation words) cannot be typed, so
 * parsing stops there and the known ones are kept. Headers tables are
 * validated. AMQP_OK or AMQP_ERR_BAD_CONTENT_HEADER / _BAD_TABLE / _TABLE_TOO_DEEP. */
enum amqp_err amqp_content_header_parse(const uint8_t *p, size_t len,
                                        struct amqp_content_header *out);

/* A short-string property (correlation_id, reply_to, message_id, …, named by
 * its enum amqp_prop_bit) as a C string in buf, cut to cap - 1 bytes and at
 * an embedded NUL. false (buf "") when the property is absent or empty. */
bool amqp_props_cstr(const struct amqp_basic_props *p, enum amqp_prop_bit bit, char *buf,
                     size_t cap);

/* The expiration property as milliseconds: false when absent or not a plain
 * decimal number (RabbitMQ's own rule for per-message TTL). */
bool amqp_props_expiration_ms(const struct amqp_basic_props *p, uint64_t *ms);

#endif

/*
 * amqp_table.h: AMQP field tables and field arrays, with RabbitMQ's type letters.
 *
 * Tables are never converted into a tree here: they stay the wire bytes they
 * arrived as and are walked with an iterator (struct amqp_table_iter) that
 * reads through the bounds-checked cursor, so a table costs nothing until a
 * consumer (the --amqp view, the oslo stage looking up `compression`) asks.
 * amqp_table_validate() walks a table fully once, depth-bounded, so the method
 * decoder can reject a table that runs past its frame before anyone walks it.
 *
 * Type letters (RabbitMQ's, which is what the broker writes): t bool, b int8,
 * B uint8, s int16, u uint16, I int32, i uint32, l int64, f float, d double,
 * D decimal, S long string, x byte array, A array, T timestamp, F table,
 * V void. py-amqp also reads U (int16) and L (int64): accepted too.
 */
#ifndef OSLOTRACE_DISSECT_AMQP_TABLE_H
#define OSLOTRACE_DISSECT_AMQP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rd.h"
#include "dissect/amqp_err.h"
#include "dissect/amqp_message.h"

#define AMQP_TABLE_MAX_DEPTH 32

enum amqp_value_kind {
    AMQP_VAL_BOOL,      /* t */
    AMQP_VAL_INT,       /* b s U I l L: v.i */
    AMQP_VAL_UINT,      /* B u i: v.u */
    AMQP_VAL_FLOAT,     /* f: v.f */
    AMQP_VAL_DOUBLE,    /* d: v.d */
    AMQP_VAL_DECIMAL,   /* D: v.dec */
    AMQP_VAL_STRING,    /* S: bytes */
    AMQP_VAL_BYTES,     /* x: bytes */
    AMQP_VAL_TIMESTAMP, /* T: v.u, seconds */
    AMQP_VAL_TABLE,     /* F: bytes = the nested table without its length */
    AMQP_VAL_ARRAY,     /* A: bytes = the nested array without its length */
    AMQP_VAL_VOID,      /* V */
};

struct amqp_table_value {
    char letter; /* the type letter as on the wire */
    enum amqp_value_kind kind;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        float f;
        double d;
        struct {
            uint8_t scale;
            int32_t value;
        } dec;
    } v;
    struct amqp_bytes bytes;
};

struct amqp_table_iter {
    struct rd r;
    bool array; /* array items have no key */
};

/* p/len: the table (or array) body, without its 4-byte length prefix. */
void amqp_table_iter_init(struct amqp_table_iter *it, const uint8_t *p, size_t len, bool array);
/* 1 = an item (key is empty for arrays), 0 = end, -1 = malformed (the iterator stays failed). */
int amqp_table_next(struct amqp_table_iter *it, struct amqp_bytes *key,
                    struct amqp_table_value *val);

/* Reads one value of type `letter` from r (used for table items and array elements). */
bool amqp_table_read_value(struct rd *r, char letter, struct amqp_table_value *val);

/* Walks everything, nested tables and arrays included, at most max_depth levels deep.
 * AMQP_OK, AMQP_ERR_BAD_TABLE or AMQP_ERR_TABLE_TOO_DEEP. */
enum amqp_err amqp_table_validate(const uint8_t *p, size_t len, bool array, unsigned max_depth);

/* Finds `key` at the top level of the table; true and *out filled when present.
 * Used by the oslo stage for the `compression` header (a long string: out->bytes). */
bool amqp_table_find(const uint8_t *tbl, size_t len, const char *key, struct amqp_table_value *out);

/* Convenience: copies the string value of `key` (S, or x) NUL-terminated into buf,
 * cut to buflen-1 bytes; false when absent or not a string. */
bool amqp_table_find_str(const uint8_t *tbl, size_t len, const char *key, char *buf, size_t buflen);

#endif

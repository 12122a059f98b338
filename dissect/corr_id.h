/*
 * corr_id.h: compact operation ids for correlation.
 *
 * Every message carries two or three ids (oslo's _msg_id and _unique_id,
 * request ids, an AMQP correlation_id). Almost all are uuid hex, which is
 * kept as 16 binary bytes plus a form byte saying how to print it back
 * (plain hex, dashed uuid, "req-" uuid); anything else is an interned
 * string from the pool (common/strpool.h). So an id is 17 bytes, compares
 * with one memcmp and prints back exactly as it came.
 */
#ifndef OSLOTRACE_DISSECT_CORR_ID_H
#define OSLOTRACE_DISSECT_CORR_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strpool.h"

enum corr_id_form { CORR_ID_NONE, CORR_ID_HEX, CORR_ID_UUID, CORR_ID_REQ_UUID, CORR_ID_STR };

struct corr_id {
    uint8_t form;  /* enum corr_id_form */
    uint8_t b[16]; /* 16 bytes, or (CORR_ID_STR) a struct strpool_str pointer */
};

#define CORR_ID_TEXT 64 /* buffer for corr_id_format */

/* id from the C string s; false only when s had to be pooled and the pool
 * was full. The id holds a pool reference until corr_id_release(). */
bool corr_id_make(struct strpool *sp, const char *s, struct corr_id *id);
void corr_id_release(struct strpool *sp, struct corr_id *id); /* back to CORR_ID_NONE */
void corr_id_retain(const struct corr_id *id); /* one more reference, for a copy of id */
bool corr_id_equal(const struct corr_id *a, const struct corr_id *b);
uint32_t corr_id_hash(const struct corr_id *id);
/* The printed form, in buf (>= CORR_ID_TEXT bytes) or the pool; NULL for CORR_ID_NONE. */
const char *corr_id_format(const struct corr_id *id, char *buf, size_t len);

#endif

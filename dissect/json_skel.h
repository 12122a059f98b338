/*
 * json_skel.h: the skeleton of a JSON object too long to keep, built while it
 * streams past.
 *
 * --max-body limits the body bytes kept for display, but correlation needs a
 * dozen top-level keys that oslo writes after the (possibly huge) args or
 * result. When the AMQP stage cuts a body it feeds every byte of it, kept or
 * not, through a json_skel, which keeps a compact copy of the object's
 * top-level members: scalars as they were, strings cut at JSON_SKEL_STR_MAX
 * bytes, nested objects and arrays as {} and []. A top-level string whose
 * text is itself a JSON object (oslo's `oslo.message` envelope) is unescaped
 * on the fly and skeletonised the same way, one level deep. The result is
 * valid JSON the dialects decode like a body; memory is bounded by
 * JSON_SKEL_OUT_MAX per level whatever the body's size.
 */
#ifndef OSLOTRACE_DISSECT_JSON_SKEL_H
#define OSLOTRACE_DISSECT_JSON_SKEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_SKEL_OUT_MAX 65536 /* skeleton bytes per level; members past it are dropped */
#define JSON_SKEL_STR_MAX 8192  /* string value bytes kept (escaped form) */

struct json_skel;

struct json_skel *json_skel_new(void);
void json_skel_free(struct json_skel *s);

/* Feeds the next n bytes of the object's text. */
void json_skel_feed(struct json_skel *s, const uint8_t *p, size_t n);

/* The skeleton once the whole object was fed (NULL when the text was not one
 * JSON object, or ended early); valid until json_skel_free. */
const uint8_t *json_skel_result(const struct json_skel *s, size_t *len);

#endif

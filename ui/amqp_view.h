/*
 * amqp_view.h: the --amqp output, one AMQP method per line (text) or per
 * JSON object (NDJSON with -j). It reads struct amqp_method_event only; it
 * never looks at frames. docs/json.md describes the JSON object.
 */
#ifndef OSLOTRACE_UI_AMQP_VIEW_H
#define OSLOTRACE_UI_AMQP_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "dissect/amqp_conn.h"
#include "ui/sink.h"

/* One line, newline included:
 * "HH:MM:SS.uuuuuu 127.0.0.1:40522 > 127.0.0.1:5672 ch 1 basic.publish exchange=... body=742" */
void amqp_view_text(FILE *out, const struct amqp_method_event *ev);
/* The same after a stamp from text_clock_stamp (ui/text_time.h; -t ... -ttttt). */
void amqp_view_text_stamped(FILE *out, const struct amqp_method_event *ev, const char *stamp);
/* The caller dumps and decrefs. Secrets (the SASL response, update-secret's
 * new_secret) are always "***": the AMQP stage never keeps them. */
json_t *amqp_view_json(const struct amqp_method_event *ev, bool show_secrets);
/* The same object written into b, byte for byte what json_dumps of the tree
 * prints with JSON_COMPACT | JSON_REAL_PRECISION(17); no newline. */
struct jbuf;
void amqp_view_json_write(struct jbuf *b, const struct amqp_method_event *ev, bool show_secrets);
/* amqp_view_table_json's table, written the same way. */
void amqp_view_table_json_write(struct jbuf *b, const uint8_t *p, size_t len, bool array);
/* A field table (without its length prefix) as a JSON object; an array as a
 * JSON array. Malformed input yields what could be read plus "_malformed": true. */
json_t *amqp_view_table_json(const uint8_t *p, size_t len, bool array);


/* The --amqp output: one line (or JSON object) per AMQP method. */
extern const struct sink amqp_view_sink;

#endif

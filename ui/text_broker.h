/*
 * text_broker.h: a broker event (dissect/amqp_conn.h) as one text line, for
 * the default output with --broker-events and for the TUI.
 */
#ifndef OSLOTRACE_UI_TEXT_BROKER_H
#define OSLOTRACE_UI_TEXT_BROKER_H

#include <stddef.h>
#include <stdio.h>

#include "dissect/amqp_conn.h"

/* "HH:MM:SS.uuuuuu broker EVENT [CODE TEXT] [on METHOD] [queue=Q|exchange=X] process=P ..." */
void text_write_broker_event(FILE *out, const struct amqp_broker_event *ev);
/* The part after the time and "broker ", NUL-terminated in buf. */
void text_format_broker_event(const struct amqp_broker_event *ev, char *buf, size_t len);

#endif

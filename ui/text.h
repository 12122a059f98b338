/*
 * text.h: the default output, one line per operation, like tcpdump.
 */
#ifndef OSLOTRACE_UI_TEXT_H
#define OSLOTRACE_UI_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/op.h"
#include "ui/sink.h"
#include "ui/text_time.h"

#define TEXT_STAMP_MAX 48

/* "HH:MM:SS.uuuuuu" in local time, packet time (ns). buf >= 16 bytes. */
void text_format_time(uint64_t ts_ns, char *buf, size_t len);
/* "12.3ms", "1.25s", "-" when absent. */
void text_format_latency(const struct op *op, char *buf, size_t len);
/* "topic.server" or "topic", "-" when unknown. */
void text_format_target(const struct op *op, char *buf, size_t len);
/* --color=auto|always|never */
enum text_color_mode { TEXT_COLOR_AUTO, TEXT_COLOR_ALWAYS, TEXT_COLOR_NEVER };
/* Whether colour escapes belong on this stream: a TTY and NO_COLOR unset. */
bool text_use_color(FILE *f);
/* The same, decided by --color first: always and never win over the terminal and NO_COLOR. */
bool text_color_wanted(int mode, FILE *f);
void text_write_op(FILE *out, const struct op *op, bool color);
/* The same line after a stamp from text_clock_stamp (it ends in a blank, or is ""). */
void text_write_op_stamped(FILE *out, const struct op *op, bool color, const char *stamp);
/* --args: "    args: JSON" and "    result: JSON" (a notification's "payload"),
 * redacted, one line each, after the operation's line. */
void text_write_bodies(FILE *out, const struct op *op);

/* One text line per operation on stdout (the default output). */
extern const struct sink text_sink;

#endif

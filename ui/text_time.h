/*
 * text_time.h: the time stamp at the start of text lines, in tcpdump's
 * formats: -t none, -tt seconds since the epoch, -ttt the time since the
 * previous line, -tttt date and time, -ttttt the time since the first line;
 * by default the time of day. Local time, packet time, microseconds.
 */
#ifndef OSLOTRACE_UI_TEXT_TIME_H
#define OSLOTRACE_UI_TEXT_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum text_time_mode {
    TEXT_TIME_DEFAULT, /* 03:14:31.440817 */
    TEXT_TIME_NONE,    /* -t */
    TEXT_TIME_EPOCH,   /* -tt: 1795576471.440817 */
    TEXT_TIME_DELTA,   /* -ttt: 00:00:00.002130 since the previous line */
    TEXT_TIME_DATE,    /* -tttt: 2026-11-25 03:14:31.440817 */
    TEXT_TIME_SINCE,   /* -ttttt: 00:00:01.250003 since the first line */
    TEXT_TIME_COUNT
};

struct text_clock {
    enum text_time_mode mode;
    bool started;
    uint64_t first_ns, prev_ns;
};

void text_clock_init(struct text_clock *c, enum text_time_mode mode);
/* The stamp of a line at ts_ns followed by one blank, or "" for -t; the
 * clock remembers the line for -ttt and -ttttt. A line earlier than the one
 * before it (a call prints when it ends) gets a negative delta. */
void text_clock_stamp(struct text_clock *c, uint64_t ts_ns, char *buf, size_t len);

#endif

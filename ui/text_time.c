/*
 * text_time.c: tcpdump's -t family for the text lines of operations and of
 * --amqp frames (ui/text_time.h). Deltas are printed as tcpdump 4.99 prints
 * them, hours:minutes:seconds.microseconds, signed when a line is older than
 * the one before it, which happens because an operation is printed when it
 * ends, not when it starts.
 */
#include "ui/text_time.h"

#include <stdio.h>
#include <time.h>

void text_clock_init(struct text_clock *c, enum text_time_mode mode)
{
    c->mode = mode;
    c->started = false;
    c->first_ns = c->prev_ns = 0;
}

static void put_delta(uint64_t from, uint64_t to, char *buf, size_t len)
{
    const char *sign = to < from ? "-" : "";
    uint64_t d = to < from ? from - to : to - from;
    uint64_t us = d / 1000u, s = us / 1000000u;
    snprintf(buf, len, "%s%02llu:%02u:%02u.%06u ", sign, (unsigned long long)(s / 3600u),
             (unsigned)(s / 60u % 60u), (unsigned)(s % 60u), (unsigned)(us % 1000000u));
}

void text_clock_stamp(struct text_clock *c, uint64_t ts_ns, char *buf, size_t len)
{
    if (!len)
        return;
    if (!c->started) {
        c->started = true;
        c->first_ns = c->prev_ns = ts_ns;
    }
    time_t sec = (time_t)(ts_ns / 1000000000u);
    unsigned usec = (unsigned)(ts_ns % 1000000000u / 1000u);
    struct tm tm;
    switch (c->mode) {
    case TEXT_TIME_NONE:
        buf[0] = '\0';
        break;
    case TEXT_TIME_EPOCH:
        snprintf(buf, len, "%lld.%06u ", (long long)sec, usec);
        break;
    case TEXT_TIME_DELTA:
        put_delta(c->prev_ns, ts_ns, buf, len);
        break;
    case TEXT_TIME_SINCE:
        put_delta(c->first_ns, ts_ns, buf, len);
        break;
    case TEXT_TIME_DATE:
        localtime_r(&sec, &tm);
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06u ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
        break;
    default:
        localtime_r(&sec, &tm);
        snprintf(buf, len, "%02d:%02d:%02d.%06u ", tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
        break;
    }
    c->prev_ns = ts_ns;
}

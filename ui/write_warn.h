/*
 * write_warn.h: what an output does when its writes fail (a full disk, a
 * removed mount, a closed pipe): count each lost record, tell stderr at once
 * and then at most once a minute, and let the capture go on. A daemon that
 * stops capturing because its log disk filled up would lose what the
 * operator needs most; a daemon that fills the journal with one line per
 * lost record would be no better.
 */
#ifndef OSLOTRACE_UI_WRITE_WARN_H
#define OSLOTRACE_UI_WRITE_WARN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define WRITE_WARN_PERIOD_S 60.0

struct write_warn {
    const char *what;    /* "--output FILE", "-w FILE", "standard output": names the output */
    const char *unit;    /* what one failure lost: "record", "packet", "buffered write" */
    uint64_t failed;     /* records lost since the start */
    uint64_t told;       /* `failed` when stderr was last told */
    int last_errno;      /* why the newest write failed */
    double last_told;    /* monotonic seconds; 0 = never */
};

/* One record could not be written (errno says why). */
void write_warn_failed(struct write_warn *w, int err);
/* Tells `out` about failures not yet told, when the last telling is a period
 * old (or there was none); `now` is clock_mono_s(). True when it printed. */
bool write_warn_tick(struct write_warn *w, double now, FILE *out);
/* At the end: tells what is left untold, whatever the period. */
void write_warn_final(struct write_warn *w, FILE *out);

#endif

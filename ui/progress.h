/*
 * progress.h: the progress bar of long offline reads, on stderr, only when
 * stderr is a terminal (never in pipes, never with -q).
 */
#ifndef OSLOTRACE_UI_PROGRESS_H
#define OSLOTRACE_UI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *out;
    bool enabled;
    uint64_t total;        /* bytes expected, 0 = unknown */
    double started, last;  /* monotonic seconds */
    bool drawn;
};

/* Enabled when out is a TTY and quiet is false. */
void progress_init(struct progress *p, FILE *out, uint64_t total_bytes, bool quiet);
/* Redraws at most 10 times a second; cheap to call per packet. */
void progress_update(struct progress *p, uint64_t done_bytes);
/* Erases the bar so the next output starts on a clean line. */
void progress_clear(struct progress *p);

#endif

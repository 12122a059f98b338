/*
 * progress.c: "[#####     ] 45%  120.3 MB/266.0 MB  85.2 MB/s  ETA 0:02" on one
 * stderr line, redrawn with \r. Throttled by the monotonic clock (it
 * measures us, not the packets).
 */
#include "ui/progress.h"

#include <unistd.h>

#include "common/clock.h"

void progress_init(struct progress *p, FILE *out, uint64_t total_bytes, bool quiet)
{
    p->out = out;
    p->enabled = !quiet && isatty(fileno(out));
    p->total = total_bytes;
    p->started = p->last = clock_mono_s();
    p->drawn = false;
}

void progress_update(struct progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    double t = clock_mono_s();
    if (t - p->last < 0.1)
        return;
    p->last = t;
    double elapsed = t - p->started;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char bar[31];
    int pct = 0;
    if (p->total) {
        pct = (int)(done * 100 / p->total);
        if (pct > 100)
            pct = 100;
    }
    for (int i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : ' ';
    bar[30] = '\0';
    if (p->total) {
        double left = rate > 0 && p->total > done ? (double)(p->total - done) / rate : 0;
        fprintf(p->out, "\r[%s] %3d%%  %.1f/%.1f MB  %.1f MB/s  ETA %d:%02d ", bar, pct,
                (double)done / 1e6, (double)p->total / 1e6, rate / 1e6, (int)left / 60,
                (int)left % 60);
    } else {
        fprintf(p->out, "\r%.1f MB read  %.1f MB/s ", (double)done / 1e6, rate / 1e6);
    }
    fflush(p->out);
    p->drawn = true;
}

void progress_clear(struct progress *p)
{
    if (!p->enabled || !p->drawn)
        return;
    fprintf(p->out, "\r%80s\r", "");
    fflush(p->out);
    p->drawn = false;
}

/*
 * write_warn.c: counting and rate-limiting write failures (see write_warn.h).
 */
#include "ui/write_warn.h"

#include <string.h>

void write_warn_failed(struct write_warn *w, int err)
{
    w->failed++;
    w->last_errno = err;
}

static void tell(struct write_warn *w, FILE *out)
{
    fprintf(out, "oslotrace: cannot write %s: %s; %llu %s%s lost so far (the capture goes on)\n",
            w->what, strerror(w->last_errno), (unsigned long long)w->failed,
            w->unit ? w->unit : "record", w->failed == 1 ? "" : "s");
    fflush(out);
    w->told = w->failed;
}

bool write_warn_tick(struct write_warn *w, double now, FILE *out)
{
    if (w->failed == w->told)
        return false;
    if (w->last_told > 0 && now - w->last_told < WRITE_WARN_PERIOD_S)
        return false;
    tell(w, out);
    w->last_told = now;
    return true;
}

void write_warn_final(struct write_warn *w, FILE *out)
{
    if (w->failed != w->told)
        tell(w, out);
}

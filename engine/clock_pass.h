/*
 * clock_pass.h: the first pass over several capture files that estimates
 * each file's clock offset (engine/clock_sync.h) before the real run.
 *
 * Every file is read alone by a pipeline of its own (no sinks, no filter,
 * no bodies); each operation it ends with hands its legs (message identity,
 * causal rank, time) to clock_sync; then offsets given by hand are pinned and
 * the bounds solved. Files only: a pipe or stdin cannot be read twice, so
 * with one of those among the inputs only the offsets given by hand apply.
 */
#ifndef OSLOTRACE_ENGINE_CLOCK_PASS_H
#define OSLOTRACE_ENGINE_CLOCK_PASS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/clock_sync.h"
#include "engine/config.h"

struct clock_pass_result {
    struct clock_sync_estimate est[ENGINE_MAX_FILES];
    struct clock_sync_stats stats;
    bool estimated; /* false: inputs that cannot be read twice, only fixed offsets */
};

/* cfg->nfiles >= 1. false with a one-line message in err when a file cannot be read. */
bool clock_pass_run(const struct engine_config *cfg, struct clock_pass_result *out, char *err,
                    size_t errlen);

#endif

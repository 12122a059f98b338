/*
 * clock_pass.c: one pipeline per capture file, its operations' legs into
 * clock_sync, solved into an offset per file (see clock_pass.h).
 *
 * A leg's identity is the operation's own: a call and its replies by
 * _msg_id (or an AMQP correlation id), a cast or fanout by _unique_id, a
 * notification by message_id; its causal rank is its place among the four
 * legs of op.h (request publish, request deliver, reply publish, reply
 * deliver). Reading each file alone costs a second decoding of the inputs;
 * it is only done when there are several files and not every offset but the
 * reference's is given by hand.
 */
#include "engine/clock_pass.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/pipeline.h"

struct pass_ctx {
    struct clock_sync *cs;
    unsigned source;
};

static uint64_t op_key(const struct op *op)
{
    const char *id = op->type == OP_CALL ? op->msg_id
                     : op->type == OP_NOTIFICATION
                         ? (op->message_id ? op->message_id : op->unique_id)
                         : op->unique_id;
    if (!id || !*id)
        return 0;
    uint8_t t = (uint8_t)op->type;
    uint64_t h = clock_sync_hash(CLOCK_SYNC_HASH_INIT, &t, 1);
    return clock_sync_hash(h, id, strlen(id));
}

static void on_op(void *user, const struct op *op)
{
    struct pass_ctx *x = user;
    uint64_t key = op_key(op);
    if (!key)
        return;
    for (unsigned l = 0; l < LEG_COUNT; l++)
        if (op->timeline[l])
            clock_sync_add(x->cs, x->source, key, l, op->timeline[l]);
}

static bool read_one(const struct engine_config *cfg, size_t i, struct pass_ctx *x, char *err,
                     size_t errlen)
{
    struct engine_config one = *cfg;
    one.files[0] = cfg->files[i];
    one.nfiles = 1;
    one.count = 0;
    one.want_methods = one.want_bodies = one.want_pkts = false;
    op_filter_init(&one.filter);
    memset(one.clock_fixed, 0, sizeof one.clock_fixed);
    struct pipeline_sinks sinks = {.on_op = on_op, .user = x};
    struct pipeline *p = pipeline_new(&one, &sinks, err, errlen);
    if (!p)
        return false;
    enum pipeline_status st;
    while ((st = pipeline_step(p, 4096)) == PIPELINE_MORE || st == PIPELINE_IDLE)
        ;
    pipeline_finish(p);
    /* A damaged file still gives what it had; the real run reports the damage. */
    pipeline_free(p);
    return true;
}

static bool rereadable(const char *path)
{
    struct stat sb;
    return strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool clock_pass_run(const struct engine_config *cfg, struct clock_pass_result *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct clock_sync *cs = clock_sync_new(cfg->nfiles, 0);
    if (!cs) {
        snprintf(err, errlen, "too many capture files for clock offsets (at most %d)",
                 CLOCK_SYNC_MAX_SOURCES);
        return false;
    }
    bool need = false, can = true;
    for (size_t i = 0; i < cfg->nfiles; i++) {
        if (cfg->clock_fixed[i])
            clock_sync_fix(cs, (unsigned)i, (int64_t)(cfg->clock_offset_s[i] * 1e9));
        else if (i > 0)
            need = true;
        can = can && rereadable(cfg->files[i]);
    }
    bool ok = true;
    if (need && can) {
        out->estimated = true;
        for (size_t i = 0; ok && i < cfg->nfiles; i++) {
            struct pass_ctx x = {cs, (unsigned)i};
            ok = read_one(cfg, i, &x, err, errlen);
        }
    }
    clock_sync_solve(cs, out->est);
    clock_sync_get_stats(cs, &out->stats);
    clock_sync_free(cs);
    return ok;
}

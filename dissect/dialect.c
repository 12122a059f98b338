/*
 * dialect.c: the dialect table and the loop that tries it (dialect.h).
 *
 * The table is the one place that says which dialects exist and in which
 * order they are asked; everything else reads it.
 */
#include "dissect/dialect.h"

#include <stdlib.h>
#include <string.h>

extern const struct dialect_def dialect_oslo;
extern const struct dialect_def dialect_amqp;

/* Order matters: the first to claim a message owns it. */
static const struct dialect_def *const dialect_table[] = {
    &dialect_oslo, /* recognised by its JSON body */
    &dialect_amqp, /* recognised by reply_to / correlation_id properties */
};

void rpc_msg_release(struct rpc_msg *m)
{
    free(m->args_json);
    free(m->result_json);
    free(m->context_json);
    m->args_json = m->result_json = m->context_json = NULL;
}

bool dialects_open(struct dialects *d, const struct dialect_config *cfg)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < sizeof(dialect_table) / sizeof(dialect_table[0]); i++) {
        d->def[i] = dialect_table[i];
        d->state[i] = dialect_table[i]->open(cfg);
        if (!d->state[i]) {
            dialects_close(d);
            return false;
        }
        d->n = i + 1;
    }
    return true;
}

void dialects_close(struct dialects *d)
{
    for (size_t i = 0; i < d->n; i++)
        d->def[i]->close(d->state[i]);
    d->n = 0;
}

bool dialects_decode(struct dialects *d, const struct amqp_message *m, struct rpc_msg *out)
{
    enum rpc_reject first = RPC_REJECT_NONE;
    bool cut = false, bodies_failed = false;
    for (size_t i = 0; i < d->n; i++) {
        memset(out, 0, sizeof(*out));
        out->leg = m;
        out->dialect = d->def[i]->id;
        bool mine = d->def[i]->decode(d->state[i], m, out);
        cut = cut || out->cut;
        bodies_failed = bodies_failed || out->bodies_failed;
        if (mine) {
            out->cut = cut;
            out->bodies_failed = bodies_failed;
            return true;
        }
        if (first == RPC_REJECT_NONE)
            first = out->reject;
        rpc_msg_release(out);
    }
    memset(out, 0, sizeof(*out));
    out->leg = m;
    out->reject = first;
    out->cut = cut;
    out->bodies_failed = bodies_failed;
    return false;
}

void dialects_add_stats(const struct dialects *d, struct corr_stats *st)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->def[i]->add_stats)
            d->def[i]->add_stats(d->state[i], st);
}

/*
 * amqp_churn.c: connection opens and closes per minute and process
 * (amqp_churn.h). A linear table: churn rows change once per connection,
 * not per message, so a scan of at most 256 names costs nothing next to a
 * connection's handshake.
 */
#include "dissect/amqp_churn.h"

#include <stdio.h>
#include <string.h>

void amqp_churn_init(struct amqp_churn *c, amqp_churn_fn fn, void *user)
{
    memset(c, 0, sizeof *c);
    c->fn = fn;
    c->user = user;
}

static void hand_out(struct amqp_churn *c, struct amqp_churn_row *r, uint64_t at_ns)
{
    if ((r->opened || r->closed) && c->fn)
        c->fn(c->user, r->process, r->minute_ns, r->opened, r->closed, at_ns);
    r->opened = r->closed = 0;
}

static struct amqp_churn_row *row_of(struct amqp_churn *c, const char *process, uint64_t ts)
{
    for (uint32_t i = 0; i < c->nrows; i++)
        if (!strcmp(c->rows[i].process, process))
            return &c->rows[i];
    struct amqp_churn_row *r;
    if (c->nrows < AMQP_CHURN_PROCESSES) {
        r = &c->rows[c->nrows++];
    } else {
        r = &c->rows[0];
        for (uint32_t i = 1; i < c->nrows; i++)
            if (c->rows[i].last_ns < r->last_ns)
                r = &c->rows[i];
        hand_out(c, r, ts);
        c->evicted++;
    }
    memset(r, 0, sizeof *r);
    snprintf(r->process, sizeof r->process, "%s", process);
    r->minute_ns = ts - ts % AMQP_CHURN_MINUTE_NS;
    return r;
}

void amqp_churn_note(struct amqp_churn *c, const char *process, uint64_t ts_ns, bool open)
{
    struct amqp_churn_row *r = row_of(c, process, ts_ns);
    uint64_t minute = ts_ns - ts_ns % AMQP_CHURN_MINUTE_NS;
    if (minute > r->minute_ns) {
        hand_out(c, r, ts_ns);
        r->minute_ns = minute;
    }
    /* A time that went backwards counts in the minute being counted. */
    if (open)
        r->opened++;
    else
        r->closed++;
    if (ts_ns > r->last_ns)
        r->last_ns = ts_ns;
}

void amqp_churn_tick(struct amqp_churn *c, uint64_t now_ns)
{
    for (uint32_t i = 0; i < c->nrows; i++) {
        struct amqp_churn_row *r = &c->rows[i];
        if ((r->opened || r->closed) && now_ns >= r->minute_ns + AMQP_CHURN_MINUTE_NS)
            hand_out(c, r, now_ns);
    }
}

void amqp_churn_finish(struct amqp_churn *c)
{
    for (uint32_t i = 0; i < c->nrows; i++)
        hand_out(c, &c->rows[i], c->rows[i].last_ns);
}

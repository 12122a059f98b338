/*
 * amqp_churn.h: connection churn, AMQP connections opened and closed per
 * minute of packet time, per client process.
 *
 * A service that reconnects in a loop (bad credentials, a broker that drops
 * it, a crash loop) shows as many opens and closes a minute. The AMQP stage
 * tells this module when a connection opens (connection.start-ok: the
 * client named itself) and closes (connection.close, or TCP FIN/RST without
 * it); a minute is handed out, per process, once packet time has left it or
 * at the end. The table holds AMQP_CHURN_PROCESSES processes; a new one
 * beyond pushes out the one idle longest (its minute handed out first,
 * counted in `evicted`).
 */
#ifndef OSLOTRACE_DISSECT_AMQP_CHURN_H
#define OSLOTRACE_DISSECT_AMQP_CHURN_H

#include <stdbool.h>
#include <stdint.h>

#define AMQP_CHURN_PROCESSES 256
#define AMQP_CHURN_PROCESS_MAX 192
#define AMQP_CHURN_MINUTE_NS 60000000000ull

/* One process's minute: [minute_ns, minute_ns + 60 s), handed out at at_ns
 * (the packet time that ended it, or the process's last event at the end). */
typedef void (*amqp_churn_fn)(void *user, const char *process, uint64_t minute_ns, uint32_t opened,
                              uint32_t closed, uint64_t at_ns);

struct amqp_churn_row {
    char process[AMQP_CHURN_PROCESS_MAX];
    uint64_t minute_ns; /* the minute being counted */
    uint32_t opened, closed;
    uint64_t last_ns;
};

struct amqp_churn {
    struct amqp_churn_row rows[AMQP_CHURN_PROCESSES];
    uint32_t nrows;
    uint64_t evicted; /* processes pushed out of the full table */
    amqp_churn_fn fn;
    void *user;
};

void amqp_churn_init(struct amqp_churn *c, amqp_churn_fn fn, void *user);
/* A connection of `process` opened (open = true) or closed at ts_ns. */
void amqp_churn_note(struct amqp_churn *c, const char *process, uint64_t ts_ns, bool open);
/* Packet time is now_ns: hands out every minute that has ended. */
void amqp_churn_tick(struct amqp_churn *c, uint64_t now_ns);
/* End of the input: hands out every minute still counted. */
void amqp_churn_finish(struct amqp_churn *c);

#endif

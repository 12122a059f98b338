/*
 * empty_run.c: the end of a batch run that reported no operation. A user who
 * sees nothing cannot tell an empty capture from a wrong port, a TLS broker,
 * a client that is not oslo.messaging or a filter that took everything; the
 * counters can. Every number is read by name from the engine's counter
 * registry (common/counters.h), never from a stage.
 */
#include "ui/empty_run.h"

static unsigned long long get(const struct counters *reg, const char *name)
{
    return (unsigned long long)counters_value(reg, name);
}

/* The first line: what was seen, and what to try. */
static void say_what_was_seen(FILE *out, const struct counters *reg, bool tls_said)
{
    unsigned long long filtered = get(reg, "ops_filtered_out");
    unsigned long long messages = get(reg, "amqp_messages");
    unsigned long long tls = get(reg, "tls_connections");
    if (filtered > 0) {
        fprintf(out,
                "oslotrace: no operation reported: all %llu operations were left out by the "
                "operation filters (--topic, --method, ...); try without them\n",
                filtered);
    } else if (messages > 0) {
        fprintf(out,
                "oslotrace: no operation reported: %llu AMQP messages, none an RPC of a known "
                "dialect (%llu not RPC, %llu JSON but not oslo); try --amqp to see the AMQP "
                "methods\n",
                messages, get(reg, "not_rpc_messages"), get(reg, "oslo_not_oslo"));
    } else if (get(reg, "amqp_frames") > 0) {
        fprintf(out,
                "oslotrace: no operation reported: %llu AMQP frames but no message content; try "
                "--amqp to see the AMQP methods\n",
                get(reg, "amqp_frames"));
    } else if (tls > 0) {
        if (!tls_said)
            fprintf(out,
                    "oslotrace: no operation reported: %llu TLS connections and nothing "
                    "decrypted; give --tls-keylog FILE (docs/tls.md)\n",
                    tls);
    } else if (get(reg, "tcp_segments") > 0) {
        fprintf(out,
                "oslotrace: no operation reported: no AMQP at all in %llu TCP segments (%llu "
                "flows); is the broker's traffic in this capture (check -f)?\n",
                get(reg, "tcp_segments"), get(reg, "tcp_flows_opened"));
    } else {
        fprintf(out,
                "oslotrace: no operation reported: %llu packets, no TCP among them; check the "
                "capture filter (-f) and the input\n",
                get(reg, "packets"));
    }
}

bool empty_run_explain(FILE *out, const struct counters *reg, bool tls_said)
{
    if (get(reg, "ops_reported") > 0)
        return false;
    say_what_was_seen(out, reg, tls_said);
    unsigned long long gaps = get(reg, "tcp_gaps");
    if (gaps > 0)
        fprintf(out,
                "oslotrace: %llu TCP gaps (%llu bytes never captured): messages across them are "
                "lost; capture whole packets (tcpdump -s 0) with a larger buffer (-B)\n",
                gaps, get(reg, "tcp_gap_bytes"));
    return true;
}

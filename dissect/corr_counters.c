/*
 * corr_counters.c: the correlation stage's counters, as rows for the
 * counter registry (common/counters.h). The fields are struct corr_stats's
 * (correlate.h says what each means); a new counter there gets its row here.
 */
#include "dissect/correlate.h"

static const struct counter_def corr_rows[] = {
    COUNTER_ROW(struct corr_stats, not_oslo, "oslo_not_oslo", TOTAL, COUNTER_REPORT,
                "Messages that were JSON but no RPC message of a known dialect."),
    COUNTER_ROW(struct corr_stats, malformed_json, "oslo_malformed_json", TOTAL, COUNTER_REPORT,
                "Message bodies that were not complete, valid JSON."),
    COUNTER_ROW(struct corr_stats, inflate_errors, "oslo_inflate_errors", TOTAL, COUNTER_REPORT,
                "Compressed bodies that could not be inflated."),
    COUNTER_ROW(struct corr_stats, calls, "calls", TOTAL, COUNTER_REPORT, "Distinct calls seen."),
    COUNTER_ROW(struct corr_stats, casts, "casts", TOTAL, COUNTER_REPORT, "Distinct casts seen."),
    COUNTER_ROW(struct corr_stats, fanouts, "fanouts", TOTAL, COUNTER_REPORT,
                "Distinct fanout casts seen."),
    COUNTER_ROW(struct corr_stats, notifications, "notifications", TOTAL, COUNTER_REPORT,
                "Distinct notifications seen."),
    COUNTER_ROW(struct corr_stats, replies, "replies", TOTAL, COUNTER_REPORT,
                "Distinct reply messages (publish and deliver count once)."),
    COUNTER_ROW(struct corr_stats, heartbeats, "heartbeat_replies", TOTAL, COUNTER_REPORT,
                "Call-monitor heartbeat replies."),
    COUNTER_ROW(struct corr_stats, orphan_replies, "orphan_replies", TOTAL, COUNTER_REPORT,
                "Replies whose call was never seen."),
    COUNTER_ROW(struct corr_stats, duplicate_replies, "duplicate_replies", TOTAL, COUNTER_REPORT,
                "A second distinct final reply to one call."),
    COUNTER_ROW(struct corr_stats, late_replies, "late_replies", TOTAL, COUNTER_REPORT,
                "Calls whose final reply came after their timeout."),
    COUNTER_ROW(struct corr_stats, timeouts, "timeouts", TOTAL, COUNTER_REPORT,
                "Calls that timed out (late reply or none)."),
    COUNTER_ROW(struct corr_stats, unknown_loss, "calls_unknown_capture_loss", TOTAL,
                COUNTER_REPORT,
                "Calls without a reply seen that were pending while the capture lost packets "
                "(status unknown, not timeout)."),
    COUNTER_ROW(struct corr_stats, open, "open_calls", TOTAL, COUNTER_REPORT,
                "Calls still within their timeout when the capture ended."),
    COUNTER_ROW(struct corr_stats, evicted, "calls_evicted", TOTAL,
                COUNTER_REPORT | COUNTER_EVICTION,
                "Operations pushed out of the full correlation table (--max-pending)."),
    COUNTER_ROW(struct corr_stats, pending_peak, "pending_peak", GAUGE, COUNTER_REPORT,
                "Most calls waiting for a reply at one time."),
    COUNTER_ROW(struct corr_stats, duplicate_msg_ids, "duplicate_msg_ids", TOTAL, COUNTER_REPORT,
                "New requests that reused the id of a pending call."),
    COUNTER_ROW(struct corr_stats, unroutable, "unroutable", TOTAL, COUNTER_REPORT,
                "Requests and casts the broker returned (no queue bound)."),
    COUNTER_ROW(struct corr_stats, intern_full, "strings_not_interned", TOTAL, COUNTER_REPORT,
                "Names not kept because the string table was full."),
    COUNTER_ROW(struct corr_stats, amqp_calls, "amqp_rpc_calls", TOTAL, COUNTER_REPORT,
                "Calls in the plain AMQP dialect (reply_to + correlation_id; also in calls)."),
    COUNTER_ROW(struct corr_stats, not_rpc, "not_rpc_messages", TOTAL, COUNTER_REPORT,
                "Messages no dialect claimed, and AMQP replies to no known call."),
    COUNTER_ROW(struct corr_stats, messages, "rpc_messages", TOTAL, 0,
                "AMQP messages handed to the RPC decoders."),
    COUNTER_ROW(struct corr_stats, truncated_bodies, "truncated_bodies", TOTAL, 0,
                "Bodies cut by the capture (--max-body or a TCP hole)."),
    COUNTER_ROW(struct corr_stats, empty_bodies, "empty_bodies", TOTAL, 0,
                "Messages with an empty body."),
    COUNTER_ROW(struct corr_stats, returned_replies, "returned_replies", TOTAL, 0,
                "Replies the broker returned (the reply queue was gone)."),
    COUNTER_ROW(struct corr_stats, duplicates, "duplicate_legs", TOTAL, 0,
                "Redelivered or re-published legs of an operation still open."),
    COUNTER_ROW(struct corr_stats, late_legs, "late_legs", TOTAL, 0,
                "Legs of an operation already reported."),
    COUNTER_ROW(struct corr_stats, fanout_replays, "fanout_replays", TOTAL, COUNTER_REPORT,
                "Deliveries of a fanout already reported, by _unique_id, whatever their age "
                "(stream fanout consumers read old ones again): no new operation."),
    COUNTER_ROW(struct corr_stats, fanout_ids_evicted, "fanout_ids_evicted", TOTAL,
                COUNTER_EVICTION,
                "Reported fanout ids forgotten for newer ones (8192 kept): an older replay "
                "would be reported again."),
    COUNTER_ROW(struct corr_stats, unkeyed, "unkeyed_casts", TOTAL, 0,
                "Casts and notifications without any id (reported at once)."),
    COUNTER_ROW(struct corr_stats, emitted, "ops_emitted", TOTAL, 0,
                "Operations handed on by correlation (before the filter)."),
    COUNTER_ROW(struct corr_stats, pending, "pending_calls", GAUGE, 0,
                "Calls waiting for their reply now."),
    COUNTER_ROW(struct corr_stats, entries, "corr_entries", GAUGE, 0,
                "Correlation table entries now (pending, held and lingering)."),
    COUNTER_ROW(struct corr_stats, bodies_failed, "bodies_failed", TOTAL, 0,
                "Bodies wanted for display that could not be decoded."),
    COUNTER_ROW(struct corr_stats, cut_fields, "cut_fields", TOTAL, 0,
                "Messages with a field longer than its buffer (cut)."),
};

static void read_corr_stats(const void *owner, void *out)
{
    corr_get_stats(owner, out);
}

bool corr_register_counters(const struct corr *c, struct counters *reg)
{
    return counters_add(reg, corr_rows, sizeof corr_rows / sizeof corr_rows[0], read_corr_stats, c,
                        sizeof(struct corr_stats));
}

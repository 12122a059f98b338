/*
 * fuzz_display_filter.c: libFuzzer target for the display filter language
 * (engine/display_filter.c), what -Y and the TUI's `/` prompt compile.
 *
 * Input: the expression text (cut at DFILTER_TEXT_MAX + 16 bytes, NUL-ended).
 * It is compiled over a filter that already holds one, then evaluated on a
 * call, a timed-out call and a notification. Invariants beyond "no crash": a
 * rejected expression leaves the old filter untouched and says where
 * ("column N") or why it is too long; an accepted one, described through
 * op_filter_describe and compiled again, matches the same operations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/display_filter.h"
#include "engine/filter.h"

static void ops(struct op out[3])
{
    memset(out, 0, 3 * sizeof out[0]);
    out[0].type = OP_CALL;
    out[0].topic = "compute";
    out[0].server = "host-a";
    out[0].method = "build_and_run_instance";
    out[0].request_id = "req-1";
    out[0].has_latency = true;
    out[0].latency_ms = 12.5;
    out[0].queue_wait_ms = out[0].server_ms = out[0].reply_ms = -1;
    out[0].verdict = OP_VERDICT_OK;
    out[0].client.known = true;
    out[0].client.addr.family = 4;
    out[0].client.connection_name = "nova-compute:42:x";
    out[1] = out[0];
    out[1].status = OP_TIMEOUT;
    out[1].has_latency = false;
    out[1].timeout_s = 1;
    out[1].verdict = OP_VERDICT_NO_REPLY;
    out[1].error_class = "MessagingTimeout";
    out[2].type = OP_NOTIFICATION;
    out[2].topic = "notifications";
    out[2].event_type = "compute.instance.create.end";
    out[2].priority = "INFO";
    out[2].queue_wait_ms = out[2].server_ms = out[2].reply_ms = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[DFILTER_TEXT_MAX + 16];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';

    struct op_filter f;
    op_filter_init(&f);
    char err[256];
    if (!dfilter_compile(&f.expr, "topic==before", err, sizeof err))
        abort();
    struct op_filter keep = f;
    err[0] = '\0';
    if (!dfilter_compile(&f.expr, text, err, sizeof err)) {
        if (memcmp(&keep, &f, sizeof f) != 0)
            abort();
        if (!strstr(err, "column") && !strstr(err, "too long"))
            abort();
        return 0;
    }
    struct op o[3];
    ops(o);
    bool got[3];
    for (int i = 0; i < 3; i++)
        got[i] = op_filter_match(&f, &o[i]);

    char desc[2 * DFILTER_TEXT_MAX];
    op_filter_describe(&f, desc, sizeof desc);
    struct op_filter g;
    op_filter_init(&g);
    if (!op_filter_parse_expr(&g, desc, err, sizeof err))
        abort();
    for (int i = 0; i < 3; i++)
        if (op_filter_match(&g, &o[i]) != got[i])
            abort();
    return 0;
}

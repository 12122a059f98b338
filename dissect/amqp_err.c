/*
 * amqp_err.c: names for the AMQP stage's error reasons (amqp_err.h), used as
 * counter keys in --report and the JSON statistics, so they never change once
 * released.
 */
#include "dissect/amqp_err.h"

const char *amqp_err_name(enum amqp_err e)
{
    static const char *const names[AMQP_ERR_COUNT] = {
        [AMQP_OK] = "ok",
        [AMQP_ERR_BAD_FRAME_TYPE] = "bad_frame_type",
        [AMQP_ERR_BAD_FRAME_END] = "bad_frame_end",
        [AMQP_ERR_OVERSIZE_FRAME] = "oversize_frame",
        [AMQP_ERR_BAD_PROTOCOL_HEADER] = "bad_protocol_header",
        [AMQP_ERR_SHORT_METHOD] = "short_method",
        [AMQP_ERR_UNKNOWN_METHOD] = "unknown_method",
        [AMQP_ERR_BAD_ARGS] = "bad_args",
        [AMQP_ERR_BAD_TABLE] = "bad_table",
        [AMQP_ERR_TABLE_TOO_DEEP] = "table_too_deep",
        [AMQP_ERR_BAD_CONTENT_HEADER] = "bad_content_header",
        [AMQP_ERR_HEADER_WITHOUT_METHOD] = "header_without_method",
        [AMQP_ERR_BODY_WITHOUT_HEADER] = "body_without_header",
        [AMQP_ERR_BODY_OVERRUN] = "body_overrun",
        [AMQP_ERR_CONTENT_INTERRUPTED] = "content_interrupted",
        [AMQP_ERR_CONTENT_GAP] = "content_gap",
        [AMQP_ERR_CONTENT_UNFINISHED] = "content_unfinished",
    };
    if ((unsigned)e >= AMQP_ERR_COUNT)
        return "?";
    return names[e];
}

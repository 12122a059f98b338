/*
 * amqp_err.h: the one list of reasons the AMQP stage rejects or drops input.
 *
 * Every layer of the stage (frame splitter, method and table decoders, content
 * assembly) reports failures as one of these, so a counter array indexed by
 * this enum in struct amqp_stats says exactly what went wrong and how often,
 * and a message to the user can name it with amqp_err_name().
 */
#ifndef OSLOTRACE_DISSECT_AMQP_ERR_H
#define OSLOTRACE_DISSECT_AMQP_ERR_H

enum amqp_err {
    AMQP_OK = 0,
    AMQP_ERR_BAD_FRAME_TYPE,      /* frame type not 1, 2, 3 or 8 where a frame had to start */
    AMQP_ERR_BAD_FRAME_END,       /* the octet after the payload was not 0xCE */
    AMQP_ERR_OVERSIZE_FRAME,      /* size over the negotiated or default frame bound */
    AMQP_ERR_BAD_PROTOCOL_HEADER, /* "A" at a frame start not followed by "MQP" */
    AMQP_ERR_SHORT_METHOD,        /* method frame shorter than its class and method ids */
    AMQP_ERR_UNKNOWN_METHOD,      /* class/method pair not in the table */
    AMQP_ERR_BAD_ARGS,            /* method arguments run past the frame */
    AMQP_ERR_BAD_TABLE,          /* a field table or array runs past its length or has a bad type */
    AMQP_ERR_TABLE_TOO_DEEP,     /* tables nested deeper than AMQP_TABLE_MAX_DEPTH */
    AMQP_ERR_BAD_CONTENT_HEADER, /* content header cut short or its class not the method's */
    AMQP_ERR_HEADER_WITHOUT_METHOD, /* content header with no content method before it */
    AMQP_ERR_BODY_WITHOUT_HEADER,   /* body frame with no content header before it */
    AMQP_ERR_BODY_OVERRUN,          /* body frames carry more than the header declared */
    AMQP_ERR_CONTENT_INTERRUPTED, /* a method frame arrived on a channel before its content ended */
    AMQP_ERR_CONTENT_GAP,         /* a TCP gap or resync lost part of a content */
    AMQP_ERR_CONTENT_UNFINISHED,  /* the connection closed while a content was half done */
    AMQP_ERR_COUNT
};

/* A short lower-case name ("bad_frame_end"); "ok" for AMQP_OK, "?" out of range. */
const char *amqp_err_name(enum amqp_err e);

#endif

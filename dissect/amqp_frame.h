/*
 * amqp_frame.h: the AMQP 0-9-1 frame splitter, one per direction of a connection.
 *
 * Fed whatever TCP delivered (a byte, a segment, ten frames), it emits whole
 * frames and protocol headers through a sink, and gives the same frames for
 * any chunking. Frames wholly inside one delivery are handed out in place
 * (zero-copy); only bytes that must outlive a delivery (a frame spanning
 * segments, bytes still being judged while resynchronising) are copied into
 * one buffer, bounded by the frame bound.
 *
 * Captures usually start inside a connection, so a splitter starts hunting:
 * it looks for a plausible frame (type 1/2/3/8, channel and size in bounds,
 * 0xCE exactly where the size says; method frames must name a known method,
 * header frames class 60 weight 0, heartbeats channel 0 size 0) CONFIRMED by
 * a plausible frame header right after it. A candidate that ends exactly at
 * the end of the bytes so far is accepted without that confirmation unless it
 * is a body frame: a body has no inner structure to check, and one found
 * while hunting belongs to a content whose header was lost anyway, so waiting
 * for the next bytes costs nothing. While a candidate waits for its bytes, a
 * later method/header/heartbeat frame confirmed by the header after it wins,
 * so one false candidate claiming a huge size cannot hide the frames behind
 * it. The same hunt runs after any framing error and after a TCP gap;
 * rejected bytes are reported as skipped.
 */
#ifndef OSLOTRACE_DISSECT_AMQP_FRAME_H
#define OSLOTRACE_DISSECT_AMQP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/amqp_err.h"

#define AMQP_FRAME_METHOD 1
#define AMQP_FRAME_HEADER 2
#define AMQP_FRAME_BODY 3
#define AMQP_FRAME_HEARTBEAT 8
#define AMQP_FRAME_END 0xCE
#define AMQP_FRAME_OVERHEAD 8 /* type, channel, size, frame-end */
/* Distinct packet numbers remembered for one buffered frame. */
#define AMQP_FRAME_MAX_PKTS 64

struct amqp_frame {
    uint8_t type;
    uint16_t channel;
    uint32_t size;
    const uint8_t *payload; /* size bytes, valid during the callback only */
    uint8_t *wipe;          /* = payload when it sits in the splitter's own buffer (so a
                               consumer can clear a password there), NULL when in place */
    uint64_t ts_ns;         /* time of the delivery that completed the frame */
    const uint64_t *pkts;   /* packets that carried the frame's bytes */
    size_t npkts;
};

struct amqp_frame_sink {
    void (*on_frame)(void *user, const struct amqp_frame *f);
    /* The 8 bytes "AMQP" + protocol id + version, e.g. "AMQP\0\0\x09\x01". */
    void (*on_protocol_header)(void *user, const uint8_t hdr[8], uint64_t ts_ns, uint64_t pkt);
    void (*on_error)(void *user, enum amqp_err err);
    /* Bytes given up while hunting (and a buffer dropped at a gap or release). */
    void (*on_skip)(void *user, uint64_t nbytes);
    /* Framing found again after an error, a gap or skipped bytes. */
    void (*on_resync)(void *user);
};

enum amqp_frame_mode { AMQP_FRAME_HUNT, AMQP_FRAME_SYNC };

struct amqp_frame_splitter {
    const struct amqp_frame_sink *sink;
    void *user;
    uint8_t *buf; /* bytes kept across deliveries; NULL when none */
    size_t len, cap;
    uint64_t *pkts; /* packets behind buf's bytes (allocated with buf) */
    size_t npkts;
    uint32_t bound; /* largest payload accepted */
    uint32_t default_bound;
    uint16_t channel_max;
    uint8_t mode;        /* enum amqp_frame_mode */
    size_t ahead;        /* hunting: where the lookahead past a waiting candidate resumes,
                            relative to that candidate (0 = from the next byte) */
    bool lost_sync;      /* an error, a gap or skipped bytes since the last sync */
    uint64_t ts_ns, pkt; /* the delivery being processed */
};

/* bound: payload bound until amqp_frame_set_limits() (the config's default_frame_max). */
void amqp_frame_init(struct amqp_frame_splitter *s, uint32_t bound,
                     const struct amqp_frame_sink *sink, void *user);
void amqp_frame_feed(struct amqp_frame_splitter *s, const uint8_t *data, size_t len, uint64_t ts_ns,
                     uint64_t pkt);
/* Bytes were lost: drop what is buffered (reported skipped) and hunt. */
void amqp_frame_gap(struct amqp_frame_splitter *s);
/* After connection.tune-ok: frame_max 0 = unlimited (keeps the default bound),
 * channel_max 0 = 65535. */
void amqp_frame_set_limits(struct amqp_frame_splitter *s, uint32_t frame_max, uint16_t channel_max);
/* Frees the buffer; bytes still in it are reported skipped. */
void amqp_frame_release(struct amqp_frame_splitter *s);

#endif

/*
 * tls_setup.h: how the engine sets up the TLS stage (capture/tls_conn.h)
 * from its config: the key log files (--tls-keylog), the secrets embedded in
 * the input pcapng files (Decryption Secrets Blocks, read before the capture
 * is), whether records wait for their keys (live captures only), which flows
 * are TLS (an AMQPS port on either side), and the one-line advice when TLS
 * was seen and nothing could be decrypted. Kept apart from pipeline.c so the
 * pipeline only routes bytes.
 */
#ifndef OSLOTRACE_ENGINE_TLS_SETUP_H
#define OSLOTRACE_ENGINE_TLS_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/tcp_stream.h"
#include "capture/tls_conn.h"
#include "engine/config.h"

struct tls_decoder *engine_tls_new(const struct engine_config *cfg, bool live,
                                   const struct tls_callbacks *cb, char *err, size_t errlen);
bool engine_tls_flow(const struct engine_config *cfg, const struct tcp_flow *flow);
/* The first bytes of a flow on another port are a TLS handshake or
 * application data record (AMQP starts "AMQP" or with a frame type 1..8). */
bool engine_tls_start(const uint8_t *data, size_t len);
/* The advice for stderr when TLS was seen and nothing decrypted, else NULL. */
const char *engine_tls_advice(const struct engine_config *cfg, const struct tls_decoder *d);

#endif

/*
 * config.c: the engine's defaults, and the capture filter a live capture
 * opens with when the user gave none (only the broker ports: a controller's
 * interface carries far more than RabbitMQ).
 */
#include "engine/config.h"

#include <stdio.h>
#include <string.h>

void engine_config_default(struct engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->call_timeout_s = 60.0;
    cfg->max_pending = 1000000;
    cfg->max_body = 16u << 20;
    cfg->amqp_ports[0] = ENGINE_DEFAULT_AMQP_PORT;
    cfg->namqp_ports = 1;
    cfg->amqps_ports[0] = ENGINE_DEFAULT_AMQPS_PORT;
    cfg->namqps_ports = 1;
    cfg->buffer_kib = 8192;
    op_filter_init(&cfg->filter);
}

void engine_default_bpf(const struct engine_config *cfg, char *buf, size_t len)
{
    size_t nports = cfg->namqp_ports + cfg->namqps_ports;
    if (nports == 1) {
        snprintf(buf, len, "tcp port %u",
                 cfg->namqp_ports ? cfg->amqp_ports[0] : cfg->amqps_ports[0]);
        return;
    }
    size_t used = (size_t)snprintf(buf, len, "tcp and (");
    for (size_t i = 0; i < nports && used < len; i++) {
        uint16_t port =
            i < cfg->namqp_ports ? cfg->amqp_ports[i] : cfg->amqps_ports[i - cfg->namqp_ports];
        used += (size_t)snprintf(buf + used, len - used, "%sport %u", i ? " or " : "", port);
    }
    if (used < len)
        snprintf(buf + used, len - used, ")");
}

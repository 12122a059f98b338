/*
 * tls_setup.c: the TLS stage's configuration from struct engine_config (see
 * tls_setup.h). Key log files are opened here so that a wrong path is a
 * start-up error naming the file; pcapng inputs are scanned for Decryption
 * Secrets Blocks so that a file made with `editcap --inject-secrets` needs
 * no option.
 */
#include "engine/tls_setup.h"

#include <stdio.h>

#include "capture/pcapng_dsb.h"
#include "capture/tls_record.h"

static void on_dsb(void *user, uint32_t type, const uint8_t *data, size_t len)
{
    struct tls_keylog *kl = user;
    if (type != PCAPNG_DSB_TLS_KEYLOG)
        return;
    tls_keylog_feed(kl, TLS_KEYLOG_MAX_FILES, (const char *)data, len);
    tls_keylog_feed_end(kl, TLS_KEYLOG_MAX_FILES);
}

struct tls_decoder *engine_tls_new(const struct engine_config *o, bool live,
                                   const struct tls_callbacks *cb, char *err, size_t errlen)
{
    struct tls_config tc;
    tls_config_default(&tc);
    tc.hold_for_keys = live;
    struct tls_decoder *d = tls_decoder_new(&tc, cb);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct tls_keylog *kl = tls_decoder_keylog(d);
    for (size_t i = 0; i < o->ntls_keylogs; i++) {
        if (!tls_keylog_add_file(kl, o->tls_keylogs[i], err, errlen)) {
            tls_decoder_free(d);
            return NULL;
        }
    }
    for (size_t i = 0; i < o->nfiles && !o->iface; i++) {
        char why[256] = "";
        /* A damaged file is the capture reader's to report; its DSBs before
         * the damage are kept. */
        pcapng_dsb_scan(o->files[i], on_dsb, kl, why, sizeof why);
    }
    return d;
}

bool engine_tls_flow(const struct engine_config *o, const struct tcp_flow *flow)
{
    for (size_t i = 0; i < o->namqps_ports; i++)
        if (flow->a.port == o->amqps_ports[i] || flow->b.port == o->amqps_ports[i])
            return true;
    return false;
}

bool engine_tls_start(const uint8_t *data, size_t len)
{
    return len >= TLS_RECORD_HDR && tls_record_header_ok(data) &&
           (data[0] == TLS_CT_HANDSHAKE || data[0] == TLS_CT_APPLICATION_DATA);
}

const char *engine_tls_advice(const struct engine_config *o, const struct tls_decoder *d)
{
    if (!d || !tls_decoder_nothing_decrypted(d))
        return NULL;
    if (o->ntls_keylogs == 0)
        return "TLS connections were seen but nothing could be decrypted: no key log. Give the "
               "services' key log with --tls-keylog FILE (or read a pcapng with the secrets "
               "injected); see docs/tls.md";
    return "TLS connections were seen but nothing could be decrypted: the key log has no "
           "matching or no right secrets, or the capture began after the handshakes (see the "
           "tls_* counters in --report); see docs/tls.md";
}

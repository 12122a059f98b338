/*
 * dialect_oslo.c: oslo.messaging as an RPC dialect — the mapping from
 * struct oslo_msg (dissect/oslo.h decodes the envelope) to struct rpc_msg.
 *
 * An oslo message is recognised by its body: a JSON object (or an
 * `oslo.message` envelope) with _msg_id/_reply_q/method, a reply's
 * ending/result/failure, or a notification's event_type/priority. Anything
 * oslo.h decodes to a known kind is claimed here, before any other dialect
 * sees it. oslo's kombu driver sets no reply_to or correlation_id property
 * (impl_rabbit.py publishes with exchange, routing key and expiration only),
 * so its messages never look like plain AMQP RPC either.
 */
#include <stdlib.h>

#include "dissect/correlate.h"
#include "dissect/dialect.h"
#include "dissect/oslo.h"

struct oslo_dialect {
    struct oslo_decoder dec;
    struct oslo_msg om; /* reused: it is large; rpc_msg strings point into it */
};

static void *oslo_open(const struct dialect_config *cfg)
{
    struct oslo_dialect *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    struct oslo_config oc = {cfg->want_bodies, cfg->show_secrets, cfg->max_inflate};
    oslo_decoder_init(&s->dec, &oc);
    return s;
}

static void oslo_close(void *state)
{
    struct oslo_dialect *s = state;
    if (!s)
        return;
    oslo_msg_release(&s->om);
    oslo_decoder_free(&s->dec);
    free(s);
}

static enum rpc_reject reject_of(enum oslo_err err, const struct amqp_message *m)
{
    if (err == OSLO_ERR_EMPTY)
        return RPC_REJECT_EMPTY;
    if (err == OSLO_ERR_CODEC || err == OSLO_ERR_INFLATE)
        return RPC_REJECT_INFLATE;
    if (m->body_truncated || m->body_len < m->body_size)
        return RPC_REJECT_TRUNCATED;
    return RPC_REJECT_MALFORMED;
}

static const char *have(const struct oslo_msg *om, uint32_t bit, const char *s)
{
    return (om->have & bit) ? s : NULL;
}

static bool oslo_decode_rpc(void *state, const struct amqp_message *m, struct rpc_msg *out)
{
    struct oslo_dialect *s = state;
    struct oslo_msg *om = &s->om;
    enum oslo_err err;
    if (m->body_truncated && m->skel) {
        /* Cut by --max-body: the keys come from the skeleton of the whole
         * body; its args and result are placeholders, so no bodies. */
        struct amqp_message sm = *m;
        sm.body = m->skel;
        sm.body_len = m->skel_len;
        sm.body_size = m->skel_len;
        sm.props.present &= ~(uint32_t)AMQP_PROP_HEADERS; /* inflated already, if it was */
        bool want = s->dec.cfg.want_bodies;
        s->dec.cfg.want_bodies = false;
        err = oslo_decode(&s->dec, &sm, om);
        s->dec.cfg.want_bodies = want;
    } else {
        err = oslo_decode(&s->dec, m, om);
    }
    if (err != OSLO_OK) {
        out->reject = reject_of(err, m);
        oslo_msg_release(om);
        return false;
    }
    out->cut = om->cut;
    out->bodies_failed = om->bodies_failed;
    switch (om->kind) {
    case OSLO_KIND_CALL:
        out->kind = RPC_CALL_REQUEST;
        break;
    case OSLO_KIND_REPLY:
        out->kind = RPC_REPLY;
        break;
    case OSLO_KIND_CAST:
        out->kind = RPC_CAST;
        break;
    case OSLO_KIND_FANOUT:
        out->kind = RPC_FANOUT;
        break;
    case OSLO_KIND_NOTIFICATION:
        out->kind = RPC_NOTIFICATION;
        break;
    default:
        out->reject = RPC_REJECT_FOREIGN;
        oslo_msg_release(om);
        return false;
    }
    out->call_id = om->msg_id; /* calls and replies always have one (oslo.c classify) */
    out->reply_to = have(om, OSLO_HAVE_REPLY_Q, om->reply_q);
    out->unique_id = have(om, OSLO_HAVE_UNIQUE_ID, om->unique_id);
    out->message_id = have(om, OSLO_HAVE_MESSAGE_ID, om->message_id);
    out->exchange = m->exchange;
    out->routing_key = m->routing_key;
    out->topic = have(om, OSLO_HAVE_TOPIC, om->topic);
    out->server = have(om, OSLO_HAVE_SERVER, om->server);
    out->method = have(om, OSLO_HAVE_METHOD, om->method);
    out->namespace_ = have(om, OSLO_HAVE_NAMESPACE, om->namespace_);
    out->version = have(om, OSLO_HAVE_VERSION, om->version);
    out->request_id = have(om, OSLO_HAVE_REQUEST_ID, om->request_id);
    out->global_request_id = have(om, OSLO_HAVE_GLOBAL_REQUEST_ID, om->global_request_id);
    out->has_timeout = om->have & OSLO_HAVE_EXPIRATION;
    out->timeout_s = om->expiration_s;
    out->has_monitor = om->have & OSLO_HAVE_TIMEOUT;
    out->monitor_timeout_s = om->monitor_timeout_s;
    out->ending = om->ending;
    out->heartbeat = om->ending_false && !om->result_nonnull && !om->failure_nonnull;
    out->has_result = om->result_nonnull;
    out->has_failure = om->failure_nonnull;
    out->error_class = have(om, OSLO_HAVE_ERROR, om->error_class);
    out->error_module = have(om, OSLO_HAVE_ERROR, om->error_module);
    out->error_message = have(om, OSLO_HAVE_ERROR, om->error_message);
    out->event_type = have(om, OSLO_HAVE_EVENT_TYPE, om->event_type);
    out->priority = have(om, OSLO_HAVE_PRIORITY, om->priority);
    out->publisher_id = have(om, OSLO_HAVE_PUBLISHER_ID, om->publisher_id);
    /* The bodies change hands: rpc_msg_release() frees what correlation leaves. */
    out->args_json = om->args_json;
    out->result_json = om->result_json;
    out->context_json = om->context_json;
    om->args_json = om->result_json = om->context_json = NULL;
    return true;
}

static void oslo_add_stats(const void *state, struct corr_stats *st)
{
    const struct oslo_dialect *s = state;
    for (int i = 0; i < OSLO_ERR_COUNT; i++)
        st->oslo_errors[i] += s->dec.errors[i];
}

const struct dialect_def dialect_oslo = {
    .name = "oslo",
    .id = OP_DIALECT_OSLO,
    .open = oslo_open,
    .close = oslo_close,
    .decode = oslo_decode_rpc,
    .add_stats = oslo_add_stats,
};

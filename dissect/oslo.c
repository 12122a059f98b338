/*
 * oslo.c: decoding one oslo.messaging message out of an AMQP body.
 *
 * Steps: inflate when the `compression` header says so; scan the top-level
 * object; if it holds `oslo.message` (v2 envelope), unescape that string
 * once into the decoder's reused buffer and scan it (the usual byte layout of
 * the envelope is recognised without scanning it first); otherwise the top level
 * is the message (v1 notifications, pre-Icehouse RPC). Wanted keys are
 * copied into fixed buffers as they go by, so a 1 MB `args` before `_msg_id`
 * is skipped, not stored. Then classify and derive topic/server from the
 * exchange and routing key. jansson runs only on the small `failure` string
 * and, when bodies were asked for, on the whole message.
 *
 * Everything but the kind's cast/fanout split, topic, server and expiration
 * comes from the body alone, so it is kept per body in a bounded table
 * (dissect/oslo_seen.h): the broker's deliver leg of a publish, with the same
 * bytes, takes it from there and only routes again.
 */
#include "dissect/oslo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/inflate.h"
#include "dissect/json_scan.h"
#include "dissect/oslo_seen.h"
#include "dissect/redact.h"

/* Buffers above this are freed after use so one huge message does not pin memory. */
#define OSLO_BUF_KEEP (4u << 20)

/* The table of bodies decoded recently: enough slots for the messages between
 * a publish and its deliver on a busy broker, bodies up to 4 KiB, 4 MiB of
 * them at most. Only small bodies: since the publish leg is read in place,
 * decoding a large body again costs less than copying it into the table and
 * comparing it there, and 8 MiB of bodies cycling through the cache made a
 * live capture drop packets at 4 Gbit/s of 8 KB messages (bench/live.sh). */
#define OSLO_SEEN_SLOTS 1024
#define OSLO_SEEN_MAX_BODY (4u << 10)
#define OSLO_SEEN_MAX_BYTES (4u << 20)

/* What a body decoded to, before routing: the message and the counters its
 * decoding moved besides kinds/decoded/cut_fields. */
struct seen_val {
    struct oslo_msg m; /* topic/server empty; args/result/context owned here */
    bool failure_unparsed;
};

static void seen_release(void *v)
{
    oslo_msg_release(&((struct seen_val *)v)->m);
}

const char *oslo_kind_name(enum oslo_kind k)
{
    static const char *const names[OSLO_KIND_COUNT] = {"call",  "cast",         "fanout",
                                                       "reply", "notification", "other"};
    return (unsigned)k < OSLO_KIND_COUNT ? names[k] : "?";
}

const char *oslo_err_name(enum oslo_err e)
{
    static const char *const names[OSLO_ERR_COUNT] = {"ok",
                                                      "empty body",
                                                      "truncated JSON",
                                                      "malformed JSON",
                                                      "invalid UTF-8",
                                                      "JSON too deep",
                                                      "not an object",
                                                      "bad envelope",
                                                      "unsupported compression",
                                                      "inflate failed",
                                                      "out of memory"};
    return (unsigned)e < OSLO_ERR_COUNT ? names[e] : "?";
}

void oslo_decoder_init(struct oslo_decoder *d, const struct oslo_config *cfg)
{
    memset(d, 0, sizeof(*d));
    d->cfg = *cfg;
    if (d->cfg.max_inflate == 0)
        d->cfg.max_inflate = 64u << 20;
    /* Without it every message is decoded in full: same results, slower. */
    d->seen = oslo_seen_new(OSLO_SEEN_SLOTS, sizeof(struct seen_val), OSLO_SEEN_MAX_BODY,
                            OSLO_SEEN_MAX_BYTES, seen_release);
}

void oslo_decoder_free(struct oslo_decoder *d)
{
    oslo_seen_free(d->seen);
    d->seen = NULL;
    free(d->buf);
    d->buf = NULL;
    d->buf_cap = 0;
}

void oslo_msg_release(struct oslo_msg *m)
{
    free(m->args_json);
    free(m->result_json);
    free(m->context_json);
    m->args_json = m->result_json = m->context_json = NULL;
}

static enum oslo_err from_scan(enum json_scan_err e)
{
    switch (e) {
    case JSON_SCAN_OK:
        return OSLO_OK;
    case JSON_SCAN_ERR_TRUNCATED:
        return OSLO_ERR_TRUNCATED;
    case JSON_SCAN_ERR_UTF8:
        return OSLO_ERR_UTF8;
    case JSON_SCAN_ERR_DEPTH:
        return OSLO_ERR_DEPTH;
    case JSON_SCAN_ERR_NOT_OBJECT:
        return OSLO_ERR_NOT_OBJECT;
    default:
        return OSLO_ERR_JSON;
    }
}

/* Copies a bounded run of bytes as a C string; true when it fitted. */
static bool copy_bytes(char *dst, size_t cap, const void *src, size_t len)
{
    bool fits = len < cap;
    size_t n = fits ? len : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return fits;
}

/* The scanning state for one message object. */
struct scan_ctx {
    struct oslo_msg *m;
    bool top;                /* scanning the outer object: watch for the envelope */
    const uint8_t *envelope; /* raw `oslo.message` value */
    size_t envelope_len;
    enum json_type envelope_type;
    const uint8_t *failure; /* raw `failure` string literal */
    size_t failure_len;
    bool bail; /* a quoted scan met what it leaves to the unescaping path */
};

/* A string-valued key into its buffer; non-strings: numbers keep their text, null is absent. */
static void take_str(struct scan_ctx *c, const struct json_member *jm, char *dst, size_t cap,
                     uint32_t bit)
{
    bool cut = false;
    if (jm->type == JSON_T_STRING && jm->quoted) {
        /* Still inside the envelope's string: a value without escapes of its
         * own is its bytes between the \" quotes; one with escapes goes the
         * unescaping way (rare: ids, names and versions are plain). */
        if (jm->val_escaped) {
            c->bail = true;
            return;
        }
        cut = !copy_bytes(dst, cap, jm->val + 2, jm->val_len - 4);
    } else if (jm->type == JSON_T_STRING) {
        if (json_unescape(jm->val, jm->val_len, dst, cap, NULL, &cut) != JSON_SCAN_OK)
            return;
    } else if (jm->type == JSON_T_NUMBER) {
        cut = !copy_bytes(dst, cap, jm->val, jm->val_len);
    } else {
        return;
    }
    c->m->have |= bit;
    if (cut)
        c->m->cut = true;
}

static bool on_member(void *user, const struct json_member *jm)
{
    struct scan_ctx *c = user;
    struct oslo_msg *m = c->m;
    if (c->top && json_key_is(jm, "oslo.message")) {
        c->envelope = jm->val;
        c->envelope_len = jm->val_len;
        c->envelope_type = jm->type;
        return true;
    }
    if (c->top && json_key_is(jm, "oslo.version")) {
        char tmp[16];
        if (jm->type == JSON_T_STRING &&
            json_unescape(jm->val, jm->val_len, tmp, sizeof(tmp), NULL, &(bool){0}) == JSON_SCAN_OK)
            memcpy(m->oslo_version, tmp, sizeof(tmp));
        return true;
    }
    if (jm->key_len == 0)
        return true;
    if (json_key_is(jm, "_msg_id"))
        take_str(c, jm, m->msg_id, sizeof(m->msg_id), OSLO_HAVE_MSG_ID);
    else if (json_key_is(jm, "_reply_q"))
        take_str(c, jm, m->reply_q, sizeof(m->reply_q), OSLO_HAVE_REPLY_Q);
    else if (json_key_is(jm, "_unique_id"))
        take_str(c, jm, m->unique_id, sizeof(m->unique_id), OSLO_HAVE_UNIQUE_ID);
    else if (json_key_is(jm, "method"))
        take_str(c, jm, m->method, sizeof(m->method), OSLO_HAVE_METHOD);
    else if (json_key_is(jm, "namespace"))
        take_str(c, jm, m->namespace_, sizeof(m->namespace_), OSLO_HAVE_NAMESPACE);
    else if (json_key_is(jm, "version"))
        take_str(c, jm, m->version, sizeof(m->version), OSLO_HAVE_VERSION);
    else if (json_key_is(jm, "_context_request_id"))
        take_str(c, jm, m->request_id, sizeof(m->request_id), OSLO_HAVE_REQUEST_ID);
    else if (json_key_is(jm, "_context_global_request_id"))
        take_str(c, jm, m->global_request_id, sizeof(m->global_request_id),
                 OSLO_HAVE_GLOBAL_REQUEST_ID);
    else if (json_key_is(jm, "_timeout")) {
        double v;
        if (jm->type == JSON_T_NUMBER && json_number(jm->val, jm->val_len, &v) && v > 0) {
            m->monitor_timeout_s = v;
            m->have |= OSLO_HAVE_TIMEOUT;
        }
    } else if (json_key_is(jm, "ending")) {
        m->have |= OSLO_HAVE_ENDING;
        m->ending = jm->type == JSON_T_TRUE;
        m->ending_false = jm->type == JSON_T_FALSE;
    } else if (json_key_is(jm, "result")) {
        m->have |= OSLO_HAVE_RESULT;
        m->result_nonnull = jm->type != JSON_T_NULL;
    } else if (json_key_is(jm, "failure")) {
        m->have |= OSLO_HAVE_FAILURE;
        m->failure_nonnull = jm->type != JSON_T_NULL;
        if (jm->type == JSON_T_STRING && jm->quoted)
            c->bail = true; /* decode_failure reads the unescaped text */
        else if (jm->type == JSON_T_STRING) {
            c->failure = jm->val;
            c->failure_len = jm->val_len;
        }
    } else if (json_key_is(jm, "event_type"))
        take_str(c, jm, m->event_type, sizeof(m->event_type), OSLO_HAVE_EVENT_TYPE);
    else if (json_key_is(jm, "priority"))
        take_str(c, jm, m->priority, sizeof(m->priority), OSLO_HAVE_PRIORITY);
    else if (json_key_is(jm, "publisher_id"))
        take_str(c, jm, m->publisher_id, sizeof(m->publisher_id), OSLO_HAVE_PUBLISHER_ID);
    else if (json_key_is(jm, "message_id"))
        take_str(c, jm, m->message_id, sizeof(m->message_id), OSLO_HAVE_MESSAGE_ID);
    return !c->bail;
}

/* Makes room for n bytes (+1) in the decoder's reused buffer. */
static uint8_t *buf_reserve(struct oslo_decoder *d, size_t n)
{
    if (n + 1 <= d->buf_cap)
        return d->buf;
    uint8_t *nb = realloc(d->buf, n + 1);
    if (!nb)
        return NULL;
    d->buf = nb;
    d->buf_cap = n + 1;
    return nb;
}

static void buf_trim(struct oslo_decoder *d)
{
    if (d->buf_cap > OSLO_BUF_KEEP) {
        free(d->buf);
        d->buf = NULL;
        d->buf_cap = 0;
    }
}

static bool json_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The one layout oslo.messaging's serializer produces (json.dumps of a
 * two-key dict): {"oslo.version": "2.0", "oslo.message": "<escaped message>"}.
 * Recognised byte for byte, the message string is read where it lies (or
 * unescaped straight into the decoder's buffer); the general path first skips
 * it (one pass over every byte) and then unescapes it (a second). Anything
 * else (other spacing or order, more keys, a bad literal) goes the general
 * way, so results and errors do not depend on which path ran.
 *
 * envelope_head: the version, and where the message string's opening quote is. */
static bool envelope_head(const uint8_t *body, size_t len, char version[16], size_t *msg_at)
{
    static const char head[] = "{\"oslo.version\": \"", mid[] = ", \"oslo.message\": \"";
    const size_t hl = sizeof(head) - 1, ml = sizeof(mid) - 1;
    if (len < hl || memcmp(body, head, hl) != 0)
        return false;
    size_t i = hl, v0 = hl;
    while (i < len && i - v0 < 15 && body[i] >= 0x20 && body[i] < 0x7f && body[i] != '"' &&
           body[i] != '\\')
        i++;
    if (i >= len || body[i] != '"')
        return false;
    size_t vlen = i - v0;
    i++;
    if (len - i < ml || memcmp(body + i, mid, ml) != 0)
        return false;
    memset(version, 0, 16);
    memcpy(version, body + v0, vlen);
    *msg_at = i + ml - 1;
    return true;
}

/* After the message string (at i): only the closing brace and whitespace. */
static bool envelope_tail(const uint8_t *body, size_t len, size_t i)
{
    while (i < len && json_ws(body[i]))
        i++;
    if (i >= len || body[i] != '}')
        return false;
    for (i++; i < len; i++)
        if (!json_ws(body[i]))
            return false;
    return true;
}

/* The message string unescaped into d->buf (its length in *inner_len). */
static bool envelope_fast(struct oslo_decoder *d, const uint8_t *body, size_t len, char version[16],
                          size_t *inner_len)
{
    size_t i;
    if (!envelope_head(body, len, version, &i))
        return false;
    uint8_t *buf = buf_reserve(d, len - i);
    size_t used;
    bool cut;
    if (!buf || json_unescape_prefix(body + i, len - i, (char *)buf, len - i + 1, inner_len, &cut,
                                     &used) != JSON_SCAN_OK)
        return false;
    return envelope_tail(body, len, i + used);
}

/* The message decoded straight out of the envelope's string, nothing copied
 * but the values the record keeps: the publish leg of every message goes
 * this way unless bodies were asked for (they need the unescaped text). On
 * false *out and *c are as they were given (cleared), for the general path. */
static bool envelope_quoted(const uint8_t *body, size_t len, struct oslo_msg *out,
                            struct scan_ctx *c)
{
    char ver[16];
    size_t i, used;
    if (!envelope_head(body, len, ver, &i))
        return false;
    *c = (struct scan_ctx){.m = out, .top = false};
    if (json_scan_quoted_object(body + i, len - i, on_member, c, &used) && !c->bail &&
        envelope_tail(body, len, i + used)) {
        memcpy(out->oslo_version, ver, sizeof(ver));
        out->envelope = true;
        return true;
    }
    memset(out, 0, sizeof(*out));
    out->kind = OSLO_KIND_OTHER;
    *c = (struct scan_ctx){.m = out, .top = true};
    return false;
}

static const char *strip_remote(char *s)
{
    size_t n = strlen(s);
    static const char suffix[] = "_Remote";
    size_t sl = sizeof(suffix) - 1;
    if (n > sl && strcmp(s + n - sl, suffix) == 0)
        s[n - sl] = '\0';
    return s;
}

static void copy_json_str(char *dst, size_t cap, json_t *v, bool *cut)
{
    const char *s = json_string_value(v);
    if (!s)
        return;
    if (!copy_bytes(dst, cap, s, json_string_length(v)))
        *cut = true;
    /* A cut in the middle of a UTF-8 sequence would make invalid output: back up. */
    size_t n = strlen(dst);
    if (*cut && n) {
        size_t i = n;
        while (i > 0 && ((uint8_t)dst[i - 1] & 0xC0) == 0x80)
            i--;
        if (i > 0 && (uint8_t)dst[i - 1] >= 0xC0) {
            size_t need = (uint8_t)dst[i - 1] >= 0xF0 ? 4 : (uint8_t)dst[i - 1] >= 0xE0 ? 3 : 2;
            if (n - (i - 1) < need)
                dst[i - 1] = '\0';
        }
    }
}

/* `failure` is a JSON string holding JSON: {"class", "module", "message", "tb", ...}. */
static void decode_failure(struct oslo_decoder *d, struct oslo_msg *m, const uint8_t *raw,
                           size_t len)
{
    char *text = malloc(len + 1);
    size_t tlen;
    bool cut;
    if (!text)
        return;
    if (json_unescape(raw, len, text, len + 1, &tlen, &cut) != JSON_SCAN_OK) {
        free(text);
        d->failure_unparsed++;
        return;
    }
    json_error_t jerr;
    json_t *f = json_loadb(text, tlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (json_is_object(f)) {
        copy_json_str(m->error_class, sizeof(m->error_class), json_object_get(f, "class"), &m->cut);
        copy_json_str(m->error_module, sizeof(m->error_module), json_object_get(f, "module"),
                      &m->cut);
        copy_json_str(m->error_message, sizeof(m->error_message), json_object_get(f, "message"),
                      &m->cut);
        strip_remote(m->error_class);
        strip_remote(m->error_module);
    } else {
        /* Not the 2.0 failure dict (very old releases): keep the text as the message. */
        d->failure_unparsed++;
        if (!copy_bytes(m->error_message, sizeof(m->error_message), text, tlen))
            m->cut = true;
    }
    m->have |= OSLO_HAVE_ERROR;
    json_decref(f);
    free(text);
}

static char *dump_redacted(json_t *v, bool show_secrets)
{
    if (!v)
        return NULL;
    if (!show_secrets)
        redact_json(v);
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

/* The optional bodies: args (payload for notifications), result, and the
 * context (`_context_*` keys without the prefix), all redacted. */
static void decode_bodies(struct oslo_decoder *d, struct oslo_msg *m, const uint8_t *text,
                          size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)text, len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(root)) {
        m->bodies_failed = true;
        d->bodies_failed++;
        json_decref(root);
        return;
    }
    const char *args_key = m->kind == OSLO_KIND_NOTIFICATION ? "payload" : "args";
    json_t *args = json_object_get(root, args_key);
    if (args) {
        json_t *copy = json_deep_copy(args);
        m->args_json = dump_redacted(copy, d->cfg.show_secrets);
        json_decref(copy);
    }
    json_t *result = json_object_get(root, "result");
    if (result && m->kind == OSLO_KIND_REPLY) {
        json_t *copy = json_deep_copy(result);
        m->result_json = dump_redacted(copy, d->cfg.show_secrets);
        json_decref(copy);
    }
    json_t *ctx = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (strncmp(key, "_context_", 9) == 0)
            json_object_set(ctx, key + 9, val);
    }
    if (json_object_size(ctx)) {
        json_t *copy = json_deep_copy(ctx);
        m->context_json = dump_redacted(copy, d->cfg.show_secrets);
        json_decref(copy);
    }
    json_decref(ctx);
    json_decref(root);
}

static bool ends_with(const struct amqp_bytes *b, const char *suffix, size_t *stem)
{
    size_t sl = strlen(suffix);
    if (!b || !b->p || b->len <= sl || memcmp(b->p + b->len - sl, suffix, sl) != 0)
        return false;
    *stem = b->len - sl;
    return true;
}

static void classify(struct oslo_msg *m, const struct amqp_bytes *exchange)
{
    size_t stem;
    uint32_t h = m->have;
    if ((h & OSLO_HAVE_EVENT_TYPE) && (h & OSLO_HAVE_PRIORITY) && !(h & OSLO_HAVE_METHOD))
        m->kind = OSLO_KIND_NOTIFICATION;
    else if (h & OSLO_HAVE_METHOD) {
        if ((h & OSLO_HAVE_MSG_ID) && (h & OSLO_HAVE_REPLY_Q))
            m->kind = OSLO_KIND_CALL;
        else if (ends_with(exchange, "_fanout", &stem))
            m->kind = OSLO_KIND_FANOUT;
        else
            m->kind = OSLO_KIND_CAST;
    } else if ((h & OSLO_HAVE_MSG_ID) &&
               (h & (OSLO_HAVE_ENDING | OSLO_HAVE_RESULT | OSLO_HAVE_FAILURE)))
        m->kind = OSLO_KIND_REPLY;
    else
        m->kind = OSLO_KIND_OTHER;
}

void oslo_route(struct oslo_msg *m, const struct amqp_bytes *exchange,
                const struct amqp_bytes *routing_key)
{
    size_t stem;
    const struct amqp_bytes none = {NULL, 0};
    const struct amqp_bytes *rk = routing_key ? routing_key : &none;
    m->have &= ~(uint32_t)(OSLO_HAVE_TOPIC | OSLO_HAVE_SERVER);
    switch (m->kind) {
    case OSLO_KIND_FANOUT:
        if (ends_with(exchange, "_fanout", &stem)) {
            if (!copy_bytes(m->topic, sizeof(m->topic), exchange->p, stem))
                m->cut = true;
            m->have |= OSLO_HAVE_TOPIC;
        }
        return;
    case OSLO_KIND_CALL:
    case OSLO_KIND_CAST: {
        if (!rk->len)
            return;
        const uint8_t *dot = memchr(rk->p, '.', rk->len);
        size_t tl = dot ? (size_t)(dot - rk->p) : rk->len;
        if (!copy_bytes(m->topic, sizeof(m->topic), rk->p, tl))
            m->cut = true;
        m->have |= OSLO_HAVE_TOPIC;
        if (dot) {
            if (!copy_bytes(m->server, sizeof(m->server), dot + 1, rk->len - tl - 1))
                m->cut = true;
            m->have |= OSLO_HAVE_SERVER;
        }
        return;
    }
    case OSLO_KIND_NOTIFICATION: {
        if (!rk->len)
            return;
        /* `<topic>.<priority>`: strip the last component. The priority in the
         * body is upper case, the routing key's lower case; strip whatever the
         * last component is, since notifiers may map priorities. */
        const uint8_t *last = NULL;
        for (size_t i = 0; i < rk->len; i++)
            if (rk->p[i] == '.')
                last = rk->p + i;
        size_t tl = last ? (size_t)(last - rk->p) : rk->len;
        if (!copy_bytes(m->topic, sizeof(m->topic), rk->p, tl))
            m->cut = true;
        m->have |= OSLO_HAVE_TOPIC;
        return;
    }
    default:
        return;
    }
}

static void parse_expiration(struct oslo_msg *m, const struct amqp_bytes *exp)
{
    if (!exp || !exp->p || exp->len == 0 || exp->len > 15)
        return;
    uint64_t ms = 0;
    for (size_t i = 0; i < exp->len; i++) {
        if (exp->p[i] < '0' || exp->p[i] > '9')
            return;
        ms = ms * 10 + (uint64_t)(exp->p[i] - '0');
    }
    m->expiration_s = (double)ms / 1000.0;
    m->have |= OSLO_HAVE_EXPIRATION;
}

/* What depends on more than the body: fanout or cast (the exchange), topic and
 * server, the call's expiration; then the counters of a decoded message. */
static void finish(struct oslo_decoder *d, struct oslo_msg *out, const struct amqp_bytes *exchange,
                   const struct amqp_bytes *routing_key, const struct amqp_bytes *expiration)
{
    oslo_route(out, exchange, routing_key);
    if (out->kind == OSLO_KIND_CALL)
        parse_expiration(out, expiration);
    if (out->cut)
        d->cut_fields++;
    d->kinds[out->kind]++;
    d->decoded++;
}

struct seen_key {
    const uint8_t *body;
    size_t len;
    uint64_t hash;
    uint32_t tag; /* the codec: the same bytes under another codec decode otherwise */
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Keeps what the body decoded to (before routing); on no memory it is not kept. */
static void seen_store(struct oslo_decoder *d, const struct seen_key *k, const struct oslo_msg *m,
                       bool failure_unparsed)
{
    struct seen_val *v = oslo_seen_put(d->seen, k->body, k->len, k->hash, k->tag);
    if (!v)
        return;
    v->m = *m;
    v->m.args_json = dup_or_null(m->args_json);
    v->m.result_json = dup_or_null(m->result_json);
    v->m.context_json = dup_or_null(m->context_json);
    v->failure_unparsed = failure_unparsed;
    if ((m->args_json && !v->m.args_json) || (m->result_json && !v->m.result_json) ||
        (m->context_json && !v->m.context_json)) {
        oslo_msg_release(&v->m);
        v->m.bodies_failed = true; /* as a failed decode would say */
    }
}

/* A body seen before: its message, re-classified for this exchange, and the
 * counters a full decode would have moved. */
static void seen_take(struct oslo_decoder *d, const struct seen_val *v, struct oslo_msg *out)
{
    *out = v->m;
    out->args_json = dup_or_null(v->m.args_json);
    out->result_json = dup_or_null(v->m.result_json);
    out->context_json = dup_or_null(v->m.context_json);
    if (out->compressed)
        d->inflated++;
    if (v->failure_unparsed)
        d->failure_unparsed++;
    if (out->bodies_failed)
        d->bodies_failed++;
}

static enum oslo_err count(struct oslo_decoder *d, enum oslo_err e)
{
    d->errors[e]++;
    return e;
}

enum oslo_err oslo_decode_body(struct oslo_decoder *d, const uint8_t *body, size_t len,
                               const struct amqp_bytes *exchange,
                               const struct amqp_bytes *routing_key,
                               const struct amqp_bytes *headers,
                               const struct amqp_bytes *expiration, struct oslo_msg *out)
{
    struct seen_key kb, *key = NULL;
    enum inflate_codec codec = INFLATE_CODEC_NONE;
    if (body && len && headers && headers->p && headers->len)
        codec = inflate_codec_from_headers(headers->p, headers->len);
    /* Seen before (the raw bytes are the key, compressed or not)? The whole
     * message is copied from there, so *out is cleared only on the other paths. */
    if (body && len && codec != INFLATE_CODEC_OTHER && d->seen && len <= OSLO_SEEN_MAX_BODY) {
        kb = (struct seen_key){body, len, oslo_seen_hash(body, len), (uint32_t)codec};
        key = &kb;
        const struct seen_val *v = oslo_seen_find(d->seen, body, len, kb.hash, kb.tag);
        if (v) {
            seen_take(d, v, out);
            classify(out, exchange);
            finish(d, out, exchange, routing_key, expiration);
            return OSLO_OK;
        }
    }
    memset(out, 0, sizeof(*out));
    out->kind = OSLO_KIND_OTHER;
    if (!body || len == 0)
        return count(d, OSLO_ERR_EMPTY);
    if (codec == INFLATE_CODEC_OTHER)
        return count(d, OSLO_ERR_CODEC);
    uint8_t *inflated = NULL;
    if (codec == INFLATE_CODEC_ZLIB) {
        size_t ilen;
        if (inflate_body(body, len, d->cfg.max_inflate, &inflated, &ilen) != INFLATE_OK)
            return count(d, OSLO_ERR_INFLATE);
        body = inflated;
        len = ilen;
        out->compressed = true;
        d->inflated++;
    }

    struct scan_ctx c = {.m = out, .top = true};
    enum oslo_err err = OSLO_OK;
    char ver[16];
    size_t ilen = 0;
    const uint8_t *msg_text = body;
    size_t msg_len = len;
    if (!d->cfg.want_bodies && envelope_quoted(body, len, out, &c)) {
        out->compressed = inflated != NULL;
        d->read_in_place++;
        goto decoded;
    }
    bool inner = envelope_fast(d, body, len, ver, &ilen); /* unescaped into d->buf */
    if (!inner) {
        err = from_scan(json_scan_object(body, len, on_member, &c, NULL));
        if (err == OSLO_OK && c.envelope) {
            if (c.envelope_type != JSON_T_STRING) {
                err = OSLO_ERR_ENVELOPE;
                goto out;
            }
            memcpy(ver, out->oslo_version, sizeof(ver));
            inner = true;
        }
    }
    if (inner) {
        /* Forget what the outer object said: the inner string is the message. */
        memset(out, 0, sizeof(*out));
        memcpy(out->oslo_version, ver, sizeof(ver));
        out->envelope = true;
        out->compressed = inflated != NULL;
        if (c.envelope) { /* the general path found it: unescape it now */
            bool cut;
            if (!buf_reserve(d, c.envelope_len)) {
                err = OSLO_ERR_NOMEM;
                goto out;
            }
            enum json_scan_err se = json_unescape(c.envelope, c.envelope_len, (char *)d->buf,
                                                  c.envelope_len + 1, &ilen, &cut);
            if (se != JSON_SCAN_OK) {
                err = from_scan(se);
                goto out;
            }
        }
        c = (struct scan_ctx){.m = out, .top = false};
        err = from_scan(json_scan_object(d->buf, ilen, on_member, &c, NULL));
        msg_text = d->buf;
        msg_len = ilen;
    }
    if (err != OSLO_OK)
        goto out;

decoded:
    classify(out, exchange);
    /* From here to seen_store only the body counts (route reads the exchange). */
    uint64_t unparsed = d->failure_unparsed;
    if (out->kind == OSLO_KIND_REPLY && c.failure)
        decode_failure(d, out, c.failure, c.failure_len);
    if (d->cfg.want_bodies && out->kind != OSLO_KIND_OTHER)
        decode_bodies(d, out, msg_text, msg_len);
    if (key)
        seen_store(d, key, out, d->failure_unparsed != unparsed);
    finish(d, out, exchange, routing_key, expiration);
out:
    free(inflated);
    buf_trim(d);
    if (err != OSLO_OK) {
        oslo_msg_release(out);
        out->kind = OSLO_KIND_OTHER;
        count(d, err);
    }
    return err;
}

enum oslo_err oslo_decode(struct oslo_decoder *d, const struct amqp_message *m,
                          struct oslo_msg *out)
{
    const struct amqp_bytes none = {NULL, 0};
    const struct amqp_bytes *headers =
        (m->props.present & AMQP_PROP_HEADERS) ? &m->props.headers : &none;
    const struct amqp_bytes *exp =
        (m->props.present & AMQP_PROP_EXPIRATION) ? &m->props.expiration : &none;
    return oslo_decode_body(d, m->body, m->body_len, &m->exchange, &m->routing_key, headers, exp,
                            out);
}

/*
 * amqp_view.c: --amqp lines and JSON objects from AMQP method events.
 *
 * The text line keeps to what an operator scans for (exchange, routing key,
 * queue, consumer tag, delivery tag, reply code/text, body size); methods with
 * none of those print their scalar arguments instead (tune, qos, ...). The
 * JSON object carries every argument, tables as objects, bits as booleans.
 * Wire strings are not trusted to be UTF-8 or printable: text escapes them,
 * JSON replaces invalid bytes with \xNN so jansson never rejects a string.
 *
 * The sink writes the JSON object straight into a reused buffer with
 * common/json_buf.h (amqp_view_json_write), byte for byte what dumping the
 * jansson tree of amqp_view_json printed (compact, %.17g reals): tables keep
 * jansson's object rules (a key cut at its first NUL; a repeated key keeps
 * its first place and its last value). The tree builder stays for callers
 * that want a json_t; the unit test and the fuzz target compare the two.
 */
#include "ui/amqp_view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_buf.h"
#include "common/netaddr.h"
#include "dissect/amqp_props.h"
#include "dissect/amqp_table.h"
#include "ui/text.h"

#define SECRET_MASK "***"

static const char *const main_args[] = {"exchange",     "routing_key", "queue",     "consumer_tag",
                                        "delivery_tag", "reply_code",  "reply_text"};

static bool is_secret(const struct amqp_method_event *ev, const char *arg)
{
    if (ev->class_id != 10)
        return false;
    return strcmp(arg, "response") == 0 || strcmp(arg, "new_secret") == 0 ||
           strcmp(arg, "challenge") == 0;
}

static void write_escaped(FILE *out, struct amqp_bytes b)
{
    bool plain = b.len > 0;
    for (size_t i = 0; i < b.len && plain; i++) {
        uint8_t ch = b.p[i];
        plain = ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
    }
    if (plain) {
        fwrite(b.p, 1, b.len, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < b.len; i++) {
        uint8_t ch = b.p[i];
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            fputc(ch, out);
        else
            fprintf(out, "\\x%02x", ch);
    }
    fputc('"', out);
}

static void write_arg(FILE *out, const struct amqp_method_event *ev, size_t i)
{
    const struct amqp_arg_def *def = &ev->method->args[i];
    const struct amqp_arg_value *v = &ev->args[i];
    fprintf(out, " %s=", def->name);
    if (is_secret(ev, def->name)) {
        fputs(SECRET_MASK, out);
        return;
    }
    switch (def->type) {
    case AMQP_ARG_SHORTSTR:
    case AMQP_ARG_LONGSTR:
        write_escaped(out, v->bytes);
        break;
    case AMQP_ARG_TABLE:
        fprintf(out, "{%zu bytes}", v->bytes.len);
        break;
    case AMQP_ARG_BIT:
        fputs(v->u ? "true" : "false", out);
        break;
    default:
        fprintf(out, "%llu", (unsigned long long)v->u);
        break;
    }
}

static void endpoints(const struct amqp_method_event *ev, char *src, char *dst)
{
    const struct netaddr *from = ev->dir == 0 ? &ev->conn->client : &ev->conn->broker;
    const struct netaddr *to = ev->dir == 0 ? &ev->conn->broker : &ev->conn->client;
    netaddr_format(from, src, NETADDR_STRLEN);
    netaddr_format(to, dst, NETADDR_STRLEN);
}

void amqp_view_text(FILE *out, const struct amqp_method_event *ev)
{
    struct text_clock clock;
    char stamp[TEXT_STAMP_MAX];
    text_clock_init(&clock, TEXT_TIME_DEFAULT);
    text_clock_stamp(&clock, ev->ts_ns, stamp, sizeof stamp);
    amqp_view_text_stamped(out, ev, stamp);
}

void amqp_view_text_stamped(FILE *out, const struct amqp_method_event *ev, const char *stamp)
{
    char src[NETADDR_STRLEN], dst[NETADDR_STRLEN];
    endpoints(ev, src, dst);
    fprintf(out, "%s%s > %s ch %u ", stamp, src, dst, ev->channel);
    if (!ev->method) {
        fprintf(out, "unknown-method %u.%u\n", ev->class_id, ev->method_id);
        return;
    }
    fputs(ev->method->name, out);
    bool any = false;
    for (size_t i = 0; i < ev->nargs; i++)
        for (size_t k = 0; k < sizeof main_args / sizeof main_args[0]; k++)
            if (strcmp(ev->method->args[i].name, main_args[k]) == 0) {
                write_arg(out, ev, i);
                any = true;
            }
    if (!any)
        for (size_t i = 0; i < ev->nargs; i++)
            if (ev->method->args[i].type != AMQP_ARG_TABLE)
                write_arg(out, ev, i);
    if (ev->has_content) {
        fprintf(out, " body=%llu", (unsigned long long)ev->body_size);
        if (!ev->content_complete)
            fputs(" (incomplete)", out);
        else if (ev->body_truncated)
            fputs(" (truncated)", out);
    }
    fputc('\n', out);
}

/* A JSON string from wire bytes; bytes that are not valid UTF-8 become "\xNN". */
static json_t *json_bytes(struct amqp_bytes b)
{
    json_t *s = json_stringn(b.len ? (const char *)b.p : "", b.len);
    if (s)
        return s;
    /* Not UTF-8 (or has NUL): escape every byte outside printable ASCII. */
    size_t cap = b.len * 4 + 1;
    char *buf = malloc(cap);
    if (!buf)
        return json_null();
    size_t n = 0;
    for (size_t i = 0; i < b.len; i++) {
        uint8_t ch = b.p[i];
        if (ch >= 0x20 && ch < 0x7f)
            buf[n++] = (char)ch;
        else
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", ch);
    }
    s = json_stringn(buf, n);
    free(buf);
    return s ? s : json_null();
}

static json_t *json_number_or_null(double d)
{
    return isfinite(d) ? json_real(d) : json_null();
}

static json_t *table_json(const uint8_t *p, size_t len, bool array, unsigned depth);

static json_t *value_json(const struct amqp_table_value *v, unsigned depth)
{
    switch (v->kind) {
    case AMQP_VAL_BOOL:
        return json_boolean(v->v.b);
    case AMQP_VAL_INT:
        return json_integer((json_int_t)v->v.i);
    case AMQP_VAL_UINT:
    case AMQP_VAL_TIMESTAMP:
        return v->v.u > (uint64_t)INT64_MAX ? json_real((double)v->v.u)
                                            : json_integer((json_int_t)v->v.u);
    case AMQP_VAL_FLOAT:
        return json_number_or_null(v->v.f);
    case AMQP_VAL_DOUBLE:
        return json_number_or_null(v->v.d);
    case AMQP_VAL_DECIMAL:
        return json_number_or_null(v->v.dec.value / pow(10.0, v->v.dec.scale));
    case AMQP_VAL_STRING:
    case AMQP_VAL_BYTES:
        return json_bytes(v->bytes);
    case AMQP_VAL_TABLE:
        return table_json(v->bytes.p, v->bytes.len, false, depth + 1);
    case AMQP_VAL_ARRAY:
        return table_json(v->bytes.p, v->bytes.len, true, depth + 1);
    case AMQP_VAL_VOID:
        return json_null();
    }
    return json_null();
}

static json_t *table_json(const uint8_t *p, size_t len, bool array, unsigned depth)
{
    json_t *out = array ? json_array() : json_object();
    if (depth > AMQP_TABLE_MAX_DEPTH) {
        if (!array)
            json_object_set_new(out, "_malformed", json_true());
        return out;
    }
    struct amqp_table_iter it;
    struct amqp_bytes key;
    struct amqp_table_value val;
    int rc;
    amqp_table_iter_init(&it, p, len, array);
    while ((rc = amqp_table_next(&it, &key, &val)) == 1) {
        json_t *j = value_json(&val, depth);
        if (array) {
            json_array_append_new(out, j);
            continue;
        }
        /* Keys are wire bytes too: json_bytes makes them valid UTF-8. */
        json_t *ek = json_bytes(key);
        json_object_set_new(out, json_is_string(ek) ? json_string_value(ek) : "?", j);
        json_decref(ek);
    }
    if (rc < 0 && !array)
        json_object_set_new(out, "_malformed", json_true());
    return out;
}

json_t *amqp_view_table_json(const uint8_t *p, size_t len, bool array)
{
    return table_json(p, len, array, 0);
}

static json_t *arg_json(const struct amqp_method_event *ev, size_t i, bool show_secrets)
{
    const struct amqp_arg_value *v = &ev->args[i];
    if (is_secret(ev, ev->method->args[i].name))
        return json_string(SECRET_MASK); /* never kept, so not even show_secrets can show it */
    switch (v->type) {
    case AMQP_ARG_BIT:
        return json_boolean(v->u != 0);
    case AMQP_ARG_SHORTSTR:
    case AMQP_ARG_LONGSTR:
        return json_bytes(v->bytes);
    case AMQP_ARG_TABLE:
        return table_json(v->bytes.p, v->bytes.len, false, 0);
    default:
        return v->u > (uint64_t)INT64_MAX ? json_real((double)v->u)
                                          : json_integer((json_int_t)v->u);
    }
}

static json_t *props_json(const struct amqp_basic_props *bp)
{
    json_t *o = json_object();
    size_t n;
    const struct amqp_prop_def *defs = amqp_props_table(&n);
    for (size_t i = 0; i < n; i++) {
        const struct amqp_prop_def *d = &defs[i];
        if (!(bp->present & d->present_bit))
            continue;
        const char *field = (const char *)bp + d->offset;
        json_t *j;
        if (d->type == AMQP_ARG_SHORTSTR || d->type == AMQP_ARG_TABLE) {
            struct amqp_bytes b;
            memcpy(&b, field, sizeof b);
            j = d->type == AMQP_ARG_TABLE ? table_json(b.p, b.len, false, 0) : json_bytes(b);
        } else if (d->type == AMQP_ARG_OCTET) {
            uint8_t u;
            memcpy(&u, field, sizeof u);
            j = json_integer(u);
        } else {
            uint64_t u;
            memcpy(&u, field, sizeof u);
            j = u > (uint64_t)INT64_MAX ? json_real((double)u) : json_integer((json_int_t)u);
        }
        json_object_set_new(o, d->name, j);
    }
    return o;
}

json_t *amqp_view_json(const struct amqp_method_event *ev, bool show_secrets)
{
    char cl[NETADDR_STRLEN], br[NETADDR_STRLEN];
    netaddr_format(&ev->conn->client, cl, sizeof cl);
    netaddr_format(&ev->conn->broker, br, sizeof br);
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_integer(1));
    json_object_set_new(o, "type", json_string("amqp"));
    json_object_set_new(o, "ts", json_real((double)ev->ts_ns / 1e9));
    json_object_set_new(o, "client", json_string(cl));
    json_object_set_new(o, "broker", json_string(br));
    json_object_set_new(o, "broker_known", json_boolean(ev->conn->broker_known));
    json_object_set_new(o, "dir", json_string(ev->dir == 0 ? "to_broker" : "to_client"));
    json_object_set_new(o, "channel", json_integer(ev->channel));
    if (!ev->method) {
        json_object_set_new(o, "method", json_string("unknown"));
        json_object_set_new(o, "class_id", json_integer(ev->class_id));
        json_object_set_new(o, "method_id", json_integer(ev->method_id));
        return o;
    }
    json_object_set_new(o, "method", json_string(ev->method->name));
    json_t *args = json_object();
    for (size_t i = 0; i < ev->nargs; i++)
        json_object_set_new(args, ev->method->args[i].name, arg_json(ev, i, show_secrets));
    json_object_set_new(o, "args", args);
    if (ev->has_content) {
        if (ev->props)
            json_object_set_new(o, "properties", props_json(ev->props));
        json_object_set_new(o, "body_size",
                            ev->body_size > (uint64_t)INT64_MAX
                                ? json_real((double)ev->body_size)
                                : json_integer((json_int_t)ev->body_size));
        json_object_set_new(o, "body_truncated", json_boolean(ev->body_truncated));
        if (!ev->content_complete)
            json_object_set_new(o, "incomplete", json_true());
    }
    return o;
}

/* ---- the same JSON written into a buffer ---- */

/* json_bytes as text: valid UTF-8 as is, else every byte outside printable
 * ASCII as the four characters \xNN. */
static void w_bytes(struct jbuf *b, struct amqp_bytes v)
{
    if (jb_strn(b, v.len ? (const char *)v.p : "", v.len))
        return;
    static const char hex[] = "0123456789abcdef";
    jb_put(b, "\"", 1);
    for (size_t i = 0; i < v.len; i++) {
        uint8_t ch = v.p[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            jb_put(b, e, 2);
        } else if (ch >= 0x20 && ch < 0x7f) {
            jb_put(b, (const char *)&v.p[i], 1);
        } else {
            char e[5] = {'\\', '\\', 'x', hex[ch >> 4], hex[ch & 15]};
            jb_put(b, e, 5);
        }
    }
    jb_put(b, "\"", 1);
}

/* The key jansson keeps for wire bytes: json_bytes's string up to its first
 * NUL. Valid UTF-8 keys are a prefix of the wire bytes (*plain true); others
 * are written escaped and contain no NUL. */
static bool key_plain(struct amqp_bytes k, size_t *cut)
{
    const uint8_t *z = k.len ? memchr(k.p, 0, k.len) : NULL;
    *cut = z ? (size_t)(z - k.p) : k.len;
    return jb_utf8_ok(k.len ? (const char *)k.p : "", k.len);
}

static void w_key(struct jbuf *b, struct amqp_bytes k, bool first)
{
    if (!first)
        jb_put(b, ",", 1);
    size_t cut;
    if (key_plain(k, &cut))
        jb_strn(b, (const char *)k.p, cut);
    else
        w_bytes(b, k);
    jb_put(b, ":", 1);
}

static void w_number_or_null(struct jbuf *b, double d)
{
    if (isfinite(d))
        jb_real17(b, d);
    else
        jb_lit(b, "null");
}

static void w_uint(struct jbuf *b, uint64_t u)
{
    if (u > (uint64_t)INT64_MAX)
        jb_real17(b, (double)u);
    else
        jb_int(b, (long long)u);
}

static void w_table(struct jbuf *b, const uint8_t *p, size_t len, bool array, unsigned depth);

static void w_value(struct jbuf *b, const struct amqp_table_value *v, unsigned depth)
{
    switch (v->kind) {
    case AMQP_VAL_BOOL:
        jb_bool(b, v->v.b);
        return;
    case AMQP_VAL_INT:
        jb_int(b, (long long)v->v.i);
        return;
    case AMQP_VAL_UINT:
    case AMQP_VAL_TIMESTAMP:
        w_uint(b, v->v.u);
        return;
    case AMQP_VAL_FLOAT:
        w_number_or_null(b, v->v.f);
        return;
    case AMQP_VAL_DOUBLE:
        w_number_or_null(b, v->v.d);
        return;
    case AMQP_VAL_DECIMAL:
        w_number_or_null(b, v->v.dec.value / pow(10.0, v->v.dec.scale));
        return;
    case AMQP_VAL_STRING:
    case AMQP_VAL_BYTES:
        w_bytes(b, v->bytes);
        return;
    case AMQP_VAL_TABLE:
        w_table(b, v->bytes.p, v->bytes.len, false, depth + 1);
        return;
    case AMQP_VAL_ARRAY:
        w_table(b, v->bytes.p, v->bytes.len, true, depth + 1);
        return;
    case AMQP_VAL_VOID:
        break;
    }
    jb_lit(b, "null");
}

/* Keys that cannot repeat: all of them valid UTF-8 and different after the
 * cut at NUL (the "_malformed" that a bad table ends with counted too). Up to
 * 32 keys are compared; more, or anything odd, takes the general way. */
static bool keys_unique(const uint8_t *p, size_t len)
{
    struct amqp_bytes keys[33];
    size_t n = 0;
    struct amqp_table_iter it;
    struct amqp_bytes key;
    struct amqp_table_value val;
    int rc;
    amqp_table_iter_init(&it, p, len, false);
    while ((rc = amqp_table_next(&it, &key, &val)) == 1) {
        size_t cut;
        if (n == 32 || !key_plain(key, &cut))
            return false;
        keys[n++] = (struct amqp_bytes){key.p, cut};
    }
    if (rc < 0)
        keys[n++] = (struct amqp_bytes){(const uint8_t *)"_malformed", 10};
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (keys[i].len == keys[j].len &&
                (keys[i].len == 0 || memcmp(keys[i].p, keys[j].p, keys[i].len) == 0))
                return false;
    return true;
}

static void w_table(struct jbuf *b, const uint8_t *p, size_t len, bool array, unsigned depth)
{
    if (depth > AMQP_TABLE_MAX_DEPTH) {
        jb_lit(b, array ? "[]" : "{\"_malformed\":true}");
        return;
    }
    if (!array && !keys_unique(p, len)) {
        /* Repeated keys: jansson's object decides, then it is dumped as jansson does. */
        json_t *j = table_json(p, len, false, depth);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        if (text)
            jb_lit(b, text);
        else
            jb_lit(b, "{}");
        free(text);
        json_decref(j);
        return;
    }
    struct amqp_table_iter it;
    struct amqp_bytes key;
    struct amqp_table_value val;
    int rc;
    bool first = true;
    jb_put(b, array ? "[" : "{", 1);
    amqp_table_iter_init(&it, p, len, array);
    while ((rc = amqp_table_next(&it, &key, &val)) == 1) {
        if (array) {
            if (!first)
                jb_put(b, ",", 1);
        } else {
            w_key(b, key, first);
        }
        first = false;
        w_value(b, &val, depth);
    }
    if (rc < 0 && !array)
        jb_lit(b, first ? "\"_malformed\":true" : ",\"_malformed\":true");
    jb_put(b, array ? "]" : "}", 1);
}

void amqp_view_table_json_write(struct jbuf *b, const uint8_t *p, size_t len, bool array)
{
    w_table(b, p, len, array, 0);
}

static void w_arg(struct jbuf *b, const struct amqp_method_event *ev, size_t i)
{
    const struct amqp_arg_value *v = &ev->args[i];
    if (is_secret(ev, ev->method->args[i].name)) {
        jb_lit(b, "\"" SECRET_MASK "\"");
        return;
    }
    switch (v->type) {
    case AMQP_ARG_BIT:
        jb_bool(b, v->u != 0);
        return;
    case AMQP_ARG_SHORTSTR:
    case AMQP_ARG_LONGSTR:
        w_bytes(b, v->bytes);
        return;
    case AMQP_ARG_TABLE:
        w_table(b, v->bytes.p, v->bytes.len, false, 0);
        return;
    default:
        w_uint(b, v->u);
        return;
    }
}

static void w_props(struct jbuf *b, const struct amqp_basic_props *bp)
{
    size_t n;
    const struct amqp_prop_def *defs = amqp_props_table(&n);
    bool first = true;
    jb_put(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        const struct amqp_prop_def *d = &defs[i];
        if (!(bp->present & d->present_bit))
            continue;
        const char *field = (const char *)bp + d->offset;
        jb_key(b, d->name, first);
        first = false;
        if (d->type == AMQP_ARG_SHORTSTR || d->type == AMQP_ARG_TABLE) {
            struct amqp_bytes v;
            memcpy(&v, field, sizeof v);
            if (d->type == AMQP_ARG_TABLE)
                w_table(b, v.p, v.len, false, 0);
            else
                w_bytes(b, v);
        } else if (d->type == AMQP_ARG_OCTET) {
            uint8_t u;
            memcpy(&u, field, sizeof u);
            jb_int(b, u);
        } else {
            uint64_t u;
            memcpy(&u, field, sizeof u);
            w_uint(b, u);
        }
    }
    jb_put(b, "}", 1);
}

void amqp_view_json_write(struct jbuf *b, const struct amqp_method_event *ev, bool show_secrets)
{
    (void)show_secrets; /* secrets are never kept: "***" either way */
    char cl[NETADDR_STRLEN], br[NETADDR_STRLEN];
    netaddr_format(&ev->conn->client, cl, sizeof cl);
    netaddr_format(&ev->conn->broker, br, sizeof br);
    jb_lit(b, "{\"schema\":1,\"type\":\"amqp\",\"ts\":");
    jb_real17(b, (double)ev->ts_ns / 1e9);
    jb_key(b, "client", false);
    jb_str(b, cl);
    jb_key(b, "broker", false);
    jb_str(b, br);
    jb_key(b, "broker_known", false);
    jb_bool(b, ev->conn->broker_known);
    jb_lit(b, ev->dir == 0 ? ",\"dir\":\"to_broker\"" : ",\"dir\":\"to_client\"");
    jb_key(b, "channel", false);
    jb_int(b, ev->channel);
    if (!ev->method) {
        jb_lit(b, ",\"method\":\"unknown\",\"class_id\":");
        jb_int(b, ev->class_id);
        jb_key(b, "method_id", false);
        jb_int(b, ev->method_id);
        jb_put(b, "}", 1);
        return;
    }
    jb_key(b, "method", false);
    jb_str(b, ev->method->name);
    jb_lit(b, ",\"args\":{");
    for (size_t i = 0; i < ev->nargs; i++) {
        jb_key(b, ev->method->args[i].name, i == 0);
        w_arg(b, ev, i);
    }
    jb_put(b, "}", 1);
    if (ev->has_content) {
        if (ev->props) {
            jb_lit(b, ",\"properties\":");
            w_props(b, ev->props);
        }
        jb_key(b, "body_size", false);
        w_uint(b, ev->body_size);
        jb_key(b, "body_truncated", false);
        jb_bool(b, ev->body_truncated);
        if (!ev->content_complete)
            jb_lit(b, ",\"incomplete\":true");
    }
    jb_put(b, "}", 1);
}

/* ---- the sink: --amqp ---- */

struct amqp_view_sink_state {
    struct sink_env env;
    bool json;
    struct text_clock clock; /* -t ... -ttttt */
    struct jbuf line; /* reused for every JSON object */
};

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    if (!env->o->amqp || env->o->quiet) /* -q: no per-frame output either */
        return NULL;
    struct amqp_view_sink_state *st = sink_state_new(sizeof *st, env, err, errlen);
    if (!st)
        return NULL;
    st->json = env->o->json;
    text_clock_init(&st->clock, (enum text_time_mode)env->o->time_format);
    return st;
}

static void sink_on_method(void *s, const struct amqp_method_event *ev)
{
    struct amqp_view_sink_state *st = s;
    FILE *out = st->env.out;
    if (st->json) {
        st->line.len = 0;
        amqp_view_json_write(&st->line, ev, st->env.o->engine.show_secrets);
        jb_put(&st->line, "\n", 1);
        if (!st->line.failed)
            fwrite(st->line.p, 1, st->line.len, out);
        st->line.failed = false;
    } else if (!st->env.o->quiet) {
        char stamp[TEXT_STAMP_MAX];
        text_clock_stamp(&st->clock, ev->ts_ns, stamp, sizeof stamp);
        amqp_view_text_stamped(out, ev, stamp);
    }
    if (st->env.flush_lines)
        fflush(out);
}

static void sink_close(void *s)
{
    struct amqp_view_sink_state *st = s;
    if (st)
        free(st->line.p);
    free(st);
}

const struct sink amqp_view_sink = {
    .name = "amqp", .open = sink_open, .on_method = sink_on_method, .close = sink_close};

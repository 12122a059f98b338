/*
 * text_broker.c: what the broker did, one line each (text_broker.h). The
 * reply text and names come from the wire: anything but printable ASCII is
 * shown as '?' so a line cannot move the terminal.
 */
#include "ui/text_broker.h"

#include <stdarg.h>
#include <string.h>

#include "dissect/op.h"
#include "ui/text.h"

struct out {
    char *p;
    size_t len, used;
};

static void put(struct out *o, const char *fmt, ...)
{
    if (o->used >= o->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

static void put_safe(struct out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && i < 200; i++)
        put(o, "%c", p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?');
}

static void put_ms(struct out *o, const char *key, const struct hist *h, double p)
{
    if (!h->count)
        return;
    double ms = p < 0 ? (double)h->max / 1e6 : hist_percentile_ms(h, p);
    put(o, " %s=%.3fms", key, ms);
}

void text_format_broker_event(const struct amqp_broker_event *ev, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    buf[0] = '\0';
    put(&o, "%s", ev->event);
    if (ev->reply_code)
        put(&o, " %u", ev->reply_code);
    if (ev->reply_text.p && ev->reply_text.len) {
        put(&o, ev->reply_code ? " " : " (");
        put_safe(&o, ev->reply_text.p, ev->reply_text.len);
        if (!ev->reply_code)
            put(&o, ")");
    }
    if (ev->failed_method)
        put(&o, " on %s", ev->failed_method);
    if (ev->name_kind && ev->name) {
        put(&o, " %s=", ev->name_kind);
        put_safe(&o, (const uint8_t *)ev->name, strlen(ev->name));
    }
    char proc[OP_PROCESS_MAX];
    const char *p = ev->process;
    if (!p && ev->conn) {
        struct op op;
        memset(&op, 0, sizeof op);
        op.client.known = true;
        op.client.addr = ev->conn->client;
        op.client.connection_name = ev->conn->connection_name;
        p = op_client_process(&op, proc, sizeof proc);
    }
    put(&o, " process=");
    put_safe(&o, (const uint8_t *)(p ? p : "?"), strlen(p ? p : "?"));
    if (ev->conn && ev->channel)
        put(&o, " channel=%u", ev->channel);
    if (!strcmp(ev->event, "basic.nack"))
        put(&o, " delivery_tag=%llu messages=%llu wait=%.3fms",
            (unsigned long long)ev->delivery_tag, (unsigned long long)ev->messages,
            (double)ev->latency_ns / 1e6);
    if (!strcmp(ev->event, "redelivery")) {
        put(&o, " delivery_tag=%llu", (unsigned long long)ev->delivery_tag);
        if (ev->delivery_count)
            put(&o, " x-delivery-count=%llu", (unsigned long long)ev->delivery_count);
    }
    if (ev->confirms) {
        const struct amqp_confirm_stats *c = ev->confirms;
        put(&o, " published=%llu acked=%llu nacked=%llu unconfirmed=%llu",
            (unsigned long long)c->published, (unsigned long long)c->acked,
            (unsigned long long)c->nacked, (unsigned long long)ev->unconfirmed);
        put_ms(&o, "p50", &c->latency, 50);
        put_ms(&o, "p99", &c->latency, 99);
        put_ms(&o, "max", &c->latency, -1);
    }
    if (!strcmp(ev->event, "connection_churn")) {
        char from[32];
        text_format_time(ev->minute_ns, from, sizeof from);
        from[5] = '\0'; /* HH:MM */
        put(&o, " opened=%u closed=%u minute=%s", ev->opened, ev->closed, from);
    }
}

void text_write_broker_event(FILE *out, const struct amqp_broker_event *ev)
{
    char when[32], line[512];
    text_format_time(ev->ts_ns, when, sizeof when);
    text_format_broker_event(ev, line, sizeof line);
    fprintf(out, "%s broker %s\n", when, line);
}

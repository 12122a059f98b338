/*
 * metrics_http.c: serves /metrics from the newest published exposition.
 *
 * The exposition is rendered by the capture thread (ui/metrics.c) into a
 * fresh buffer and published here: under the mutex, the current snapshot
 * pointer is swapped and the old one loses a reference. A scrape takes a
 * reference under the same mutex and hands the buffer to libmicrohttpd
 * as is (no copy); the last reference frees it. The mutex is therefore held
 * for a few instructions by either side, and a scraper that reads slowly
 * only keeps an old buffer alive. libmicrohttpd runs one internal polling
 * thread with a connection limit and an idle timeout, and that thread blocks
 * every signal, so SIGINT and SIGTERM still reach the capture loop.
 */
#include "ui/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ui/metrics_expo.h"

#define HTTP_CONNECTION_LIMIT 8u
#define HTTP_IDLE_TIMEOUT_S 10u

struct snapshot {
    struct metrics_http *h;
    unsigned refs;
    char *body[2]; /* indexed by enum metrics_format */
    size_t len[2];
};

struct metrics_http {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    struct snapshot *cur; /* NULL until the first publish */
    atomic_uint_fast64_t scrapes;
    char address[INET6_ADDRSTRLEN + 16];
};

static void snapshot_free(struct snapshot *s)
{
    free(s->body[0]);
    free(s->body[1]);
    free(s);
}

/* Drops a reference; called with h->mu held. */
static void unref_locked(struct snapshot *s)
{
    if (--s->refs == 0)
        snapshot_free(s);
}

static void release_scrape(void *cls)
{
    struct snapshot *s = cls;
    struct metrics_http *h = s->h;
    pthread_mutex_lock(&h->mu);
    unref_locked(s);
    pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static bool wants_openmetrics(struct MHD_Connection *c)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return accept && strstr(accept, "application/openmetrics-text") != NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req)
{
    struct metrics_http *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/") == 0)
        return reply_text(c, MHD_HTTP_OK, "oslotrace: metrics are at /metrics\n");
    if (strcmp(url, "/metrics") != 0)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
    enum metrics_format f = wants_openmetrics(c) ? METRICS_OPENMETRICS : METRICS_TEXT;
    pthread_mutex_lock(&h->mu);
    struct snapshot *s = h->cur;
    if (s)
        s->refs++;
    pthread_mutex_unlock(&h->mu);
    if (!s)
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        s->len[f], s->body[f], release_scrape, s);
    if (!r) {
        release_scrape(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, metrics_expo_content_type(f));
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r); /* the response keeps the reference until it is sent */
    atomic_fetch_add(&h->scrapes, 1);
    return ret;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" into host (NULL = any) and port. */
static bool split_listen(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':')
            return false;
        if ((size_t)(rb - spec - 1) >= hostlen)
            return false;
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= hostlen)
            return false;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) >= portlen || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
        return false;
    snprintf(port, portlen, "%s", p);
    return true;
}

static int listen_socket(const char *spec, char *address, size_t addrlen, int *family, char *err,
                         size_t errlen)
{
    char host[256], port[8];
    if (!split_listen(spec, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "bad --metrics-listen '%s' (HOST:PORT, [V6ADDR]:PORT or :PORT)",
                 spec);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "--metrics-listen '%s': %s", spec, gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        snprintf(err, errlen, "cannot listen on '%s' for metrics: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    *family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned bound_port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
            bound_port = ntohs(s6->sin6_port);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
            bound_port = ntohs(s4->sin_port);
        }
    }
    snprintf(address, addrlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, bound_port);
    return fd;
}

struct metrics_http *metrics_http_start(const char *spec, char *err, size_t errlen)
{
    struct metrics_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int family = AF_INET;
    int fd = listen_socket(spec, h->address, sizeof h->address, &family, err, errlen);
    if (fd < 0) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    /* The server's thread inherits this mask: signals are for the capture loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    h->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET,
                         (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, HTTP_CONNECTION_LIMIT,
                         MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->daemon) {
        snprintf(err, errlen, "cannot start the metrics server on '%s'", spec);
        close(fd);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    return h;
}

const char *metrics_http_address(const struct metrics_http *h)
{
    return h->address;
}

void metrics_http_publish(struct metrics_http *h, char *text, size_t text_len, char *om,
                          size_t om_len)
{
    struct snapshot *s = calloc(1, sizeof *s);
    if (!s) { /* keep serving the previous one */
        free(text);
        free(om);
        return;
    }
    s->h = h;
    s->refs = 1;
    s->body[METRICS_TEXT] = text;
    s->len[METRICS_TEXT] = text_len;
    s->body[METRICS_OPENMETRICS] = om;
    s->len[METRICS_OPENMETRICS] = om_len;
    pthread_mutex_lock(&h->mu);
    struct snapshot *old = h->cur;
    h->cur = s;
    if (old)
        unref_locked(old);
    pthread_mutex_unlock(&h->mu);
}

uint64_t metrics_http_scrapes(const struct metrics_http *h)
{
    return atomic_load(&((struct metrics_http *)h)->scrapes);
}

void metrics_http_stop(struct metrics_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon); /* ends every response (their references) and closes the socket */
    if (h->cur)
        snapshot_free(h->cur);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

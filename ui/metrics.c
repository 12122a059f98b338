/*
 * metrics.c: the Prometheus sink, a row of ui/sinks.c's table.
 *
 * It reads operations (on_op) into its own bounded series table
 * (ui/metrics_series.c) and, at each render, every counter of the engine's
 * registry (ui/metrics_expo.c). Rendering happens here, in the capture
 * thread, once a second (METRICS_RENDER_PERIOD_S) and at the end of the
 * input: both formats are rendered into fresh buffers and published to the
 * HTTP thread (ui/metrics_http.c), which only sends the newest one. So a
 * scrape sees the state of at most a second ago and never waits for the
 * capture, and the capture never waits for a scrape. --metrics-file writes
 * the text format at the end and every --report-interval, by rename.
 */
#include "ui/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "ui/metrics_expo.h"
#include "ui/metrics_http.h"
#include "ui/metrics_series.h"

#define METRICS_RENDER_PERIOD_S 1.0

/* The sink's own counters, in the registry with every stage's. */
struct metrics_sink_stats {
    uint64_t renders;          /* expositions rendered */
    uint64_t scrapes;          /* /metrics requests answered */
    uint64_t exposition_bytes; /* size of the newest text exposition */
    uint64_t file_errors;      /* --metrics-file writes that failed */
};

struct metrics_state {
    struct sink_env env;
    struct metrics_series *series;
    struct metrics_http *http; /* NULL without --metrics-listen */
    struct metrics_build build;
    char libpcap[32];
    double next_render, next_file; /* monotonic; next_file 0 = only at the end */
    struct metrics_sink_stats st;
};

bool metrics_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        snprintf(err, errlen, "--metrics-file: path too long");
        return false;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return false;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, n < 0 ? strerror(errno) : "short");
            close(fd);
            unlink(tmp);
            return false;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

static bool render(struct metrics_state *m, enum metrics_format f, char **text, size_t *len)
{
    if (m->http)
        m->st.scrapes = metrics_http_scrapes(m->http);
    bool ok = metrics_expo_render(f, &m->build, m->series, pipeline_counters(m->env.p), text, len);
    if (ok) {
        m->st.renders++;
        if (f == METRICS_TEXT)
            m->st.exposition_bytes = *len;
    }
    return ok;
}

static void publish(struct metrics_state *m)
{
    char *text, *om;
    size_t tlen, omlen;
    if (!render(m, METRICS_TEXT, &text, &tlen))
        return;
    if (!render(m, METRICS_OPENMETRICS, &om, &omlen)) {
        free(text);
        return;
    }
    metrics_http_publish(m->http, text, tlen, om, omlen);
}

static bool write_file(struct metrics_state *m)
{
    char *text, err[512];
    size_t len;
    if (!render(m, METRICS_TEXT, &text, &len)) {
        fprintf(stderr, "oslotrace: --metrics-file: out of memory\n");
        m->st.file_errors++;
        return false;
    }
    bool ok = metrics_write_file(m->env.o->metrics_file, text, len, err, sizeof err);
    free(text);
    if (!ok) {
        fprintf(stderr, "oslotrace: %s\n", err);
        m->st.file_errors++;
    }
    return ok;
}

static const struct counter_def sink_rows[] = {
    COUNTER_ROW(struct metrics_sink_stats, renders, "metrics_renders", TOTAL, 0,
                "Prometheus expositions rendered (each format counts)."),
    COUNTER_ROW(struct metrics_sink_stats, scrapes, "metrics_scrapes", TOTAL, 0,
                "Requests for /metrics answered."),
    COUNTER_ROW(struct metrics_sink_stats, exposition_bytes, "metrics_exposition_bytes", GAUGE, 0,
                "Size of the newest text exposition, bytes."),
    COUNTER_ROW(struct metrics_sink_stats, file_errors, "metrics_file_errors", TOTAL,
                COUNTER_REPORT, "Writes of --metrics-file that failed."),
};

static void read_sink_stats(const void *owner, void *stats)
{
    memcpy(stats, &((const struct metrics_state *)owner)->st, sizeof(struct metrics_sink_stats));
}

static void libpcap_version(char *out, size_t len)
{
    /* "libpcap version 1.10.3 (with TPACKET_V3)" -> "1.10.3" */
    const char *v = pcap_lib_version();
    const char *p = strstr(v, "version ");
    p = p ? p + 8 : v;
    size_t n = strcspn(p, " ");
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

static void sink_close(void *s);

static void *sink_open(const struct sink_env *env, char *err, size_t errlen)
{
    const struct cli_options *o = env->o;
    if (!o->metrics_listen && !o->metrics_file)
        return NULL;
    struct metrics_state *m = sink_state_new(sizeof *m, env, err, errlen);
    if (!m)
        return NULL;
    if (!(m->series = metrics_series_new(o->metrics_max_series))) {
        free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    libpcap_version(m->libpcap, sizeof m->libpcap);
    m->build = (struct metrics_build){.version = OSLOTRACE_VERSION, .libpcap = m->libpcap};
    struct counters *reg = pipeline_counters(env->p);
    if (!metrics_series_register_counters(m->series, reg) ||
        !counters_add(reg, sink_rows, sizeof sink_rows / sizeof sink_rows[0], read_sink_stats, m,
                      sizeof(struct metrics_sink_stats))) {
        sink_close(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (o->metrics_listen) {
        m->http = metrics_http_start(o->metrics_listen, err, errlen);
        if (!m->http) {
            sink_close(m);
            return NULL;
        }
        publish(m);
        /* Even with -q: the daemon's journal says where it serves (and which port, for :0). */
        fprintf(stderr, "oslotrace: serving metrics on http://%s/metrics\n",
                metrics_http_address(m->http));
    }
    double now = clock_mono_s();
    m->next_render = now + METRICS_RENDER_PERIOD_S;
    if (o->metrics_file && o->report_interval > 0)
        m->next_file = now + o->report_interval;
    return m;
}

static void sink_on_op(void *s, const struct op *op)
{
    struct metrics_state *m = s;
    metrics_series_add(m->series, op);
}

static void sink_tick(void *s, double now)
{
    struct metrics_state *m = s;
    if (m->http && now >= m->next_render) {
        m->next_render = now + METRICS_RENDER_PERIOD_S;
        publish(m);
    }
    if (m->next_file && now >= m->next_file) {
        m->next_file = now + m->env.o->report_interval;
        write_file(m);
    }
}

static bool sink_finish(void *s)
{
    struct metrics_state *m = s;
    if (m->http)
        publish(m); /* what --linger keeps serving */
    return !m->env.o->metrics_file || write_file(m);
}

static void sink_close(void *s)
{
    struct metrics_state *m = s;
    metrics_http_stop(m->http);
    metrics_series_free(m->series);
    free(m);
}

const struct sink metrics_sink = {
    .name = "metrics",
    .open = sink_open,
    .on_op = sink_on_op,
    .tick = sink_tick,
    .finish = sink_finish,
    .close = sink_close,
};

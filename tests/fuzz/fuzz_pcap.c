/*
 * fuzz_pcap.c: libFuzzer target for the whole pipeline — pcap/pcapng reading,
 * packet decoding, TCP reassembly, AMQP, oslo, correlation, statistics and
 * the sinks (NDJSON, text, --amqp JSON, the report in both forms) — fed one
 * capture file from memory.
 *
 * The pipeline opens files by name (libpcap's pcap_open_offline), so the
 * input is written to a memfd and opened as /proc/self/fd/N: no temporary
 * files, nothing left behind. The input is a plain capture file, so real
 * captures (make_seeds.py cuts small ones) are seeds as they are. A small
 * --max-pending makes eviction reachable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/config.h"
#include "engine/pipeline.h"
#include "ui/amqp_view.h"
#include "ui/ndjson.h"
#include "ui/report.h"
#include "ui/text.h"

struct harness {
    FILE *devnull;
    struct report *report;
    uint64_t sink;
};

static void dump(struct harness *h, json_t *j)
{
    if (!j)
        return;
    char *s = json_dumps(j, JSON_COMPACT);
    if (s)
        h->sink += strlen(s);
    free(s);
    json_decref(j);
}

static void on_op(void *user, const struct op *op)
{
    struct harness *h = user;
    char *line;
    size_t len;
    if (ndjson_format_op(op, &line, &len)) {
        h->sink += len;
        free(line);
    }
    text_write_op(h->devnull, op, false);
    report_add_op(h->report, op);
}

static void on_method(void *user, const struct amqp_method_event *ev)
{
    struct harness *h = user;
    dump(h, amqp_view_json(ev, false));
    amqp_view_text(h->devnull, ev);
}

static void on_conn(void *user, const struct amqp_conn_info *info, enum amqp_conn_event ev)
{
    struct harness *h = user;
    h->sink += info->frames + (unsigned)ev;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return false;
        p += w, n -= (size_t)w;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull; /* the harness's, opened once */
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (!devnull)
        return 0;
    int fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0)
        return 0;
    if (!write_all(fd, data, size) || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    struct engine_config o;
    engine_config_default(&o);
    o.files[0] = path;
    o.nfiles = 1;
    o.want_bodies = true;
    o.want_pkts = true;
    o.max_pending = 64;
    /* The last byte picks the --amqp view or not, so both pipelines get fuzzed. */
    bool want_methods = size && (data[size - 1] & 1);
    o.want_methods = want_methods;

    struct harness h = {devnull, report_new(), 0};
    struct pipeline_sinks sinks = {.on_op = on_op,
                                   .on_method = want_methods ? on_method : NULL,
                                   .on_conn = on_conn,
                                   .user = &h};
    char err[512];
    struct pipeline *p = h.report ? pipeline_new(&o, &sinks, err, sizeof err) : NULL;
    if (p) {
        enum pipeline_status st;
        do
            st = pipeline_step(p, 256);
        while (st == PIPELINE_MORE || st == PIPELINE_IDLE);
        pipeline_finish(p);
        struct report_input in = {.stats = pipeline_stats(p), .counters = pipeline_counters(p)};
        pipeline_time_span(p, &in.first_ns, &in.last_ns);
        report_print(devnull, h.report, &in, true);
        report_print(devnull, h.report, &in, false);
        pipeline_free(p);
    }
    report_free(h.report);
    close(fd);
    return 0;
}

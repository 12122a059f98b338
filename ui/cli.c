/*
 * cli.c: getopt_long parsing of oslotrace's options, their checks and the
 * short help. Values are validated here so a typo is a usage error (exit 2)
 * with one line naming it, never a surprise later in the run.
 */
#include "ui/cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ui/metrics_series.h"
#include "ui/text.h"

enum long_only {
    OPT_AMQP = 256,
    OPT_REPORT,
    OPT_REPORT_INTERVAL,
    OPT_TUI,
    OPT_ARGS,
    OPT_SHOW_SECRETS,
    OPT_CALL_TIMEOUT,
    OPT_MAX_PENDING,
    OPT_MAX_BODY,
    OPT_AMQP_PORT,
    OPT_VERSION,
    OPT_TOPIC,
    OPT_METHOD,
    OPT_SERVER,
    OPT_STATUS,
    OPT_TYPE,
    OPT_MIN_LATENCY,
    OPT_REQUEST_ID,
    OPT_TUI_HISTORY,
    OPT_IMMEDIATE,
    OPT_DIALECT,
    OPT_METRICS_LISTEN,
    OPT_METRICS_FILE,
    OPT_METRICS_MAX_SERIES,
    OPT_LINGER,
    OPT_AMQPS_PORT,
    OPT_TLS_KEYLOG,
    OPT_BROKER_EVENTS,
    OPT_COLOR,
    OPT_CLOCK_OFFSET,
    OPT_NODE_NAME,
    OPT_EVENT_TYPE,
    OPT_PRIORITY,
    OPT_COUNT_OPS,
    OPT_DURATION,
    OPT_OUTPUT,
    OPT_WAIT_IFACE,
    OPT_FLOW,
    OPT_FLOWS,
    OPT_SORT_START,
};

static const struct option long_options[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"count", required_argument, NULL, 'c'},
    {"write", required_argument, NULL, 'w'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, 'j'},
    {"buffer-size", required_argument, NULL, 'B'},
    {"help", no_argument, NULL, 'h'},
    {"amqp", no_argument, NULL, OPT_AMQP},
    {"color", required_argument, NULL, OPT_COLOR},
    {"report", no_argument, NULL, OPT_REPORT},
    {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
    {"tui", no_argument, NULL, OPT_TUI},
    {"args", no_argument, NULL, OPT_ARGS},
    {"show-secrets", no_argument, NULL, OPT_SHOW_SECRETS},
    {"call-timeout", required_argument, NULL, OPT_CALL_TIMEOUT},
    {"max-pending", required_argument, NULL, OPT_MAX_PENDING},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"amqp-port", required_argument, NULL, OPT_AMQP_PORT},
    {"version", no_argument, NULL, OPT_VERSION},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"method", required_argument, NULL, OPT_METHOD},
    {"server", required_argument, NULL, OPT_SERVER},
    {"status", required_argument, NULL, OPT_STATUS},
    {"type", required_argument, NULL, OPT_TYPE},
    {"min-latency", required_argument, NULL, OPT_MIN_LATENCY},
    {"request-id", required_argument, NULL, OPT_REQUEST_ID},
    {"event-type", required_argument, NULL, OPT_EVENT_TYPE},
    {"priority", required_argument, NULL, OPT_PRIORITY},
    {"display-filter", required_argument, NULL, 'Y'},
    {"count-ops", required_argument, NULL, OPT_COUNT_OPS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"autostop", required_argument, NULL, 'a'},
    {"list-interfaces", no_argument, NULL, 'D'},
    {"flow", required_argument, NULL, OPT_FLOW},
    {"flows", no_argument, NULL, OPT_FLOWS},
    {"sort-start", optional_argument, NULL, OPT_SORT_START},
    {"tui-history", required_argument, NULL, OPT_TUI_HISTORY},
    {"immediate-mode", no_argument, NULL, OPT_IMMEDIATE},
    {"dialect", required_argument, NULL, OPT_DIALECT},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"metrics-file", required_argument, NULL, OPT_METRICS_FILE},
    {"metrics-max-series", required_argument, NULL, OPT_METRICS_MAX_SERIES},
    {"linger", no_argument, NULL, OPT_LINGER},
    {"broker-events", no_argument, NULL, OPT_BROKER_EVENTS},
    {"amqps-port", required_argument, NULL, OPT_AMQPS_PORT},
    {"tls-keylog", required_argument, NULL, OPT_TLS_KEYLOG},
    {"relinquish-privileges", required_argument, NULL, 'Z'},
    {"clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET},
    {"node-name", required_argument, NULL, OPT_NODE_NAME},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"wait-iface", no_argument, NULL, OPT_WAIT_IFACE},
    {NULL, 0, NULL, 0},
};

void cli_defaults(struct cli_options *o)
{
    memset(o, 0, sizeof *o);
    engine_config_default(&o->engine);
    o->tui_history = 100000;
    o->metrics_max_series = METRICS_DEFAULT_MAX_SERIES;
}

void cli_usage(FILE *out)
{
    fputs("Usage: oslotrace [-r FILE]... | -i IFACE  [options]\n"
          "Shows OpenStack oslo.messaging RPC over RabbitMQ: every call paired with its reply.\n"
          "\n"
          "Input:\n"
          "  -r FILE            read a pcap/pcapng file (repeatable: merged by time; - = stdin)\n"
          "  -i IFACE           capture live (\"any\" for all interfaces)\n"
          "  -f EXPR            BPF capture filter (default: tcp ports 5672, 5671, --amqp-port,\n"
          "                     --amqps-port)\n"
          "  -c N               stop after N packets\n"
          "  --count-ops N      stop after N operations (those the filters let through)\n"
          "  --duration S, -a duration:S  stop after S seconds (packet time; live: also\n"
          "                     wall time)\n"
          "  -D                 list the interfaces to capture on\n"
          "  -B KiB             kernel capture buffer (default 8192)\n"
          "  --immediate-mode   hand over each packet at once (default: in blocks, <= 100 ms)\n"
          "  --amqp-port N      another broker port (repeatable)\n"
          "  --amqps-port N     another TLS broker port (default 5671; repeatable)\n"
          "  --tls-keylog FILE  NSS key log (SSLKEYLOGFILE) to decrypt TLS; repeatable,\n"
          "                     re-read as it grows when live (docs/tls.md)\n"
          "  --wait-iface       wait for -i IFACE to exist, and to come back if it goes away\n"
          "  -Z USER            drop privileges to USER after opening the device (default nobody)\n"
          "Several captures (one per node, docs/cluster.md):\n"
          "  --node-name NAME   after -r FILE: the node it was captured on (default: its base\n"
          "                     name)\n"
          "  --clock-offset NODE=SECONDS  add SECONDS to NODE's timestamps (a node name or -r\n"
          "                     FILE; repeatable; default: estimated from the traffic)\n"
          "Output:\n"
          "  (default)          one text line per operation\n"
          "  -j, --json         NDJSON, one object per operation (or per method with --amqp)\n"
          "  --amqp             AMQP method frames instead of oslo operations\n"
          "  --report           latency report per topic and method at the end\n"
          "  --report-interval S  print the report (or write --metrics-file) every S s\n"
          "  --tui              interactive view\n"
          "  -w FILE            write the packets of the selected operations to a pcap\n"
          "  -F pcap|pcapng     -w's format (default pcap; pcapng for a .pcapng name), pcapng\n"
          "                     with a comment naming the filters\n"
          "  -C MB, -G SEC, -W N  -w rotates files as tcpdump: every MB million bytes,\n"
          "                     every SEC seconds of packet time; at most N files, reused\n"
          "  --output FILE      append the lines (or NDJSON) to FILE, not stdout; SIGHUP\n"
          "                     reopens FILE and -w FILE (log rotation)\n"
          "  --metrics-listen HOST:PORT  serve Prometheus /metrics (:PORT = all IPv4)\n"
          "  --metrics-file F   write the metrics to F at the end, atomically\n"
          "  --linger           when the input ends, serve metrics until SIGINT/SIGTERM\n"
          "  --args             include arguments and results (redacted)\n"
          "  --show-secrets     do not redact tokens and passwords\n"
          "  --broker-events    also a record (-j) or line per broker event (blocked, cancel, close,\n"
          "                     nack, confirm latency, connection churn)\n"
          "  --flow REQ_ID      the ladder of the flow (all operations of the request, across\n"
          "                     services) holding this request_id or global_request_id\n"
          "  --flows            one line per flow (with -j: one JSON object per flow)\n"
          "                     instead of one per operation\n"
          "  --color WHEN       colour the status: auto (a terminal without NO_COLOR),\n"
          "                     always or never\n"
          "  --sort-start[=N]   print operations in the order they began (request publish),\n"
          "                     not the order they ended: held up to N (100000) until no\n"
          "                     earlier one can still be open (longest call timeout + late\n"
          "                     window + 3 s of packet time)\n"
          "  -q                 no per-operation lines, no progress bar\n"
          "  -n                 accepted for tcpdump habits (addresses are always numeric)\n"
          "  -t, -tt, -ttt, -tttt, -ttttt  text time stamps as tcpdump: none, epoch seconds,\n"
          "                     since the previous line, date and time, since the first line\n"
          "Filters (every output):\n"
          "  -Y EXPR            display filter: topic==compute* and (status==error,timeout\n"
          "                     or latency>500ms); fields as in -j (man oslotrace)\n"
          "  --topic GLOB --method GLOB --server GLOB --request-id ID\n"
          "  --event-type GLOB --priority GLOB   (notifications)\n"
          "  --status LIST      ok,error,timeout,open,unroutable,evicted\n"
          "  --type LIST        call,cast,fanout,notification\n"
          "  --dialect LIST     oslo,amqp (amqp: plain AMQP RPC, reply_to + correlation_id)\n"
          "  --min-latency MS\n"
          "Limits:\n"
          "  --call-timeout S   timeout of calls without expiration (default 60)\n"
          "  --max-pending N    pending calls kept (default 1000000)\n"
          "  --max-body BYTES   body bytes kept per message (default 16 MiB)\n"
          "  --metrics-max-series N  label sets kept, the rest is \"other\" (500)\n"
          "  --tui-history N    operations kept in the TUI list (default 100000)\n"
          "  -h, --help         this help (man oslotrace for more)\n"
          "  --version          versions of oslotrace, libpcap and jansson\n"
          "Exit status: 0 success, 1 runtime error, 2 usage error.\n",
          out);
}

/* a and b are one file (by name, or by device and inode when both exist). */
static bool same_file(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static enum cli_result usage_error(FILE *err, const char *fmt, const char *a, const char *b)
{
    fputs("oslotrace: ", err);
    fprintf(err, fmt, a, b);
    fputs("\nTry 'oslotrace -h' for more information.\n", err);
    return CLI_USAGE;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s[0] || s[0] == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e7)
        return false;
    *out = v;
    return true;
}

static const char *node_name(const struct engine_config *e, size_t i)
{
    if (e->node_names[i])
        return e->node_names[i];
    const char *slash = strrchr(e->files[i], '/');
    return slash ? slash + 1 : e->files[i];
}

/* --clock-offset NODE=SECONDS: NODE is a node name (--node-name or a file's
 * base name) or a -r FILE as given; seconds may be negative. */
static bool set_clock_offset(struct cli_options *o, const char *arg, FILE *err)
{
    struct engine_config *e = &o->engine;
    const char *eq = strrchr(arg, '=');
    char *end;
    errno = 0;
    double v = eq ? strtod(eq + 1, &end) : 0;
    if (!eq || eq == arg || errno || end == eq + 1 || *end || !isfinite(v) || fabs(v) > 86400) {
        usage_error(err, "--clock-offset %s: want NODE=SECONDS (at most a day either way)%s", arg,
                    "");
        return false;
    }
    size_t len = (size_t)(eq - arg), hit = SIZE_MAX;
    for (size_t i = 0; i < e->nfiles && hit == SIZE_MAX; i++) {
        const char *n = node_name(e, i);
        if ((strlen(n) == len && strncmp(n, arg, len) == 0) ||
            (strlen(e->files[i]) == len && strncmp(e->files[i], arg, len) == 0))
            hit = i;
    }
    if (hit == SIZE_MAX) {
        usage_error(err, "--clock-offset %s: no -r file or --node-name is called that%s", arg, "");
        return false;
    }
    e->clock_fixed[hit] = true;
    e->clock_offset_s[hit] = v;
    return true;
}

static void print_version(FILE *out)
{
    fprintf(out, "oslotrace %s\n%s\njansson %s\n", OSLOTRACE_VERSION, pcap_lib_version(),
            jansson_version_str());
}

enum cli_result cli_parse(struct cli_options *o, int argc, char **argv, FILE *out, FILE *err)
{
    char msg[256];
    uint64_t v;
    optind = 1;
    opterr = 0;
    int c;
    bool report_asked = false;
    while ((c = getopt_long(argc, argv, ":r:i:f:c:w:qjB:hnZ:Y:ta:DC:G:W:F:", long_options, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case 'r':
            if (o->engine.nfiles == CLI_MAX_FILES)
                return usage_error(err, "too many -r files (at most %s)%s", "64", "");
            o->engine.files[o->engine.nfiles++] = a;
            break;
        case 'i':
            o->engine.iface = a;
            break;
        case OPT_NODE_NAME:
            if (!o->engine.nfiles || o->engine.node_names[o->engine.nfiles - 1])
                return usage_error(err, "--node-name %s must follow its own -r FILE%s", a, "");
            if (!*a)
                return usage_error(err, "--node-name needs a name%s%s", "", "");
            o->engine.node_names[o->engine.nfiles - 1] = a;
            break;
        case OPT_CLOCK_OFFSET:
            if (o->nclock_offsets == CLI_MAX_FILES)
                return usage_error(err, "too many --clock-offset (at most %s)%s", "64", "");
            o->clock_offsets[o->nclock_offsets++] = a;
            break;
        case 'f':
            o->engine.bpf = a;
            break;
        case 'c':
            if (!parse_u64(a, 1, UINT64_MAX, &o->engine.count))
                return usage_error(err, "bad packet count for -c: '%s'%s", a, "");
            break;
        case 'w':
            o->write_file = a;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'n':
            break;
        case 'D':
            o->list_ifaces = true;
            break;
        case 'F':
            if (strcmp(a, "pcap") != 0 && strcmp(a, "pcapng") != 0)
                return usage_error(err, "bad -F: '%s' (pcap or pcapng)%s", a, "");
            o->write_pcapng = strcmp(a, "pcapng") == 0;
            o->write_format_given = true;
            break;
        case 'C':
            if (!parse_u64(a, 1, 1000000, &v))
                return usage_error(err, "bad -C: '%s' (millions of bytes, 1 to 1000000)%s", a, "");
            o->rotate_bytes = v * 1000000u;
            break;
        case 'G':
            if (!parse_seconds(a, &o->rotate_s) || o->rotate_s < 1)
                return usage_error(err, "bad -G: '%s' (seconds, 1 or more)%s", a, "");
            break;
        case 'W':
            if (!parse_u64(a, 1, 100000, &v))
                return usage_error(err, "bad -W: '%s' (files, 1 to 100000)%s", a, "");
            o->max_files = (unsigned)v;
            break;
        case OPT_COUNT_OPS:
            if (!parse_u64(a, 1, UINT64_MAX, &o->engine.count_ops))
                return usage_error(err, "bad --count-ops: '%s' (operations, 1 or more)%s", a, "");
            break;
        case 'a':
        case OPT_DURATION: {
            /* tshark's -a duration:SEC; the other autostop conditions have their own options */
            const char *secs = a;
            if (c == 'a') {
                if (strncmp(a, "duration:", 9) != 0)
                    return usage_error(err,
                                       "bad -a: '%s' (duration:SEC; for packets -c, for "
                                       "operations --count-ops)%s",
                                       a, "");
                secs = a + 9;
            }
            if (!parse_seconds(secs, &o->engine.duration_s) || o->engine.duration_s <= 0)
                return usage_error(err, "bad duration: '%s' (seconds, more than 0)%s", secs, "");
            break;
        }
        case 't': /* -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since the first */
            if (++o->time_format >= TEXT_TIME_COUNT)
                return usage_error(err, "too many -t (-t to -ttttt)%s%s", "", "");
            break;
        case 'B':
            if (!parse_u64(a, 1, 4u << 20, &v))
                return usage_error(err, "bad buffer size for -B: '%s' (KiB)%s", a, "");
            o->engine.buffer_kib = (int)v;
            break;
        case 'Z':
            o->user = a;
            break;
        case 'h':
            cli_usage(out);
            return CLI_EXIT_OK;
        case OPT_VERSION:
            print_version(out);
            return CLI_EXIT_OK;
        case OPT_AMQP:
            o->amqp = true;
            break;
        case OPT_IMMEDIATE:
            o->engine.immediate = true;
            break;
        case OPT_REPORT:
            o->report = true;
            report_asked = true;
            break;
        case OPT_REPORT_INTERVAL:
            if (!parse_seconds(a, &o->report_interval) || o->report_interval < 0.1)
                return usage_error(err, "bad --report-interval: '%s' (seconds, >= 0.1)%s", a, "");
            o->report = true;
            break;
        case OPT_TUI:
            o->tui = true;
            break;
        case OPT_ARGS:
            o->args = true;
            break;
        case OPT_SHOW_SECRETS:
            o->engine.show_secrets = true;
            break;
        case OPT_BROKER_EVENTS:
            o->broker_events = true;
            break;
        case OPT_FLOW:
            if (!a[0])
                return usage_error(err, "--flow needs a request id%s%s", "", "");
            o->flow_id = a;
            break;
        case OPT_FLOWS:
            o->flows = true;
            break;
        case OPT_COLOR:
            if (strcmp(a, "auto") == 0)
                o->color = TEXT_COLOR_AUTO;
            else if (strcmp(a, "always") == 0)
                o->color = TEXT_COLOR_ALWAYS;
            else if (strcmp(a, "never") == 0)
                o->color = TEXT_COLOR_NEVER;
            else
                return usage_error(err, "bad value for --color: '%s' (auto, always or never)%s", a,
                                   "");
            break;
        case OPT_CALL_TIMEOUT:
            if (!parse_seconds(a, &o->engine.call_timeout_s) || o->engine.call_timeout_s <= 0)
                return usage_error(err, "bad --call-timeout: '%s' (seconds, more than 0)%s", a, "");
            break;
        case OPT_MAX_PENDING:
            if (!parse_u64(a, 1, 100000000, &o->engine.max_pending))
                return usage_error(err, "bad --max-pending: '%s' (1 to 100000000)%s", a, "");
            break;
        case OPT_MAX_BODY:
            if (!parse_u64(a, 0, (uint64_t)1 << 32, &o->engine.max_body))
                return usage_error(err, "bad --max-body: '%s' (bytes, at most 4 GiB)%s", a, "");
            break;
        case OPT_AMQP_PORT:
            if (!parse_u64(a, 1, 65535, &v))
                return usage_error(err, "bad --amqp-port: '%s'%s", a, "");
            if (o->engine.namqp_ports == CLI_MAX_PORTS)
                return usage_error(err, "too many --amqp-port (at most %s)%s", "16", "");
            o->engine.amqp_ports[o->engine.namqp_ports++] = (uint16_t)v;
            break;
        case OPT_METRICS_LISTEN:
            o->metrics_listen = a;
            break;
        case OPT_METRICS_FILE:
            if (!a[0])
                return usage_error(err, "--metrics-file needs a path%s%s", "", "");
            o->metrics_file = a;
            break;
        case OPT_METRICS_MAX_SERIES:
            if (!parse_u64(a, 1, METRICS_MAX_SERIES_LIMIT, &o->metrics_max_series))
                return usage_error(err, "bad --metrics-max-series: '%s' (1 to 100000)%s", a, "");
            break;
        case OPT_LINGER:
            o->linger = true;
            break;
        case OPT_OUTPUT:
            if (!a[0])
                return usage_error(err, "--output needs a path%s%s", "", "");
            o->output_file = a;
            break;
        case OPT_WAIT_IFACE:
            o->engine.wait_iface = true;
            break;
        case OPT_AMQPS_PORT:
            if (!parse_u64(a, 1, 65535, &v))
                return usage_error(err, "bad --amqps-port: '%s'%s", a, "");
            if (o->engine.namqps_ports == CLI_MAX_PORTS)
                return usage_error(err, "too many --amqps-port (at most %s)%s", "16", "");
            o->engine.amqps_ports[o->engine.namqps_ports++] = (uint16_t)v;
            break;
        case OPT_TLS_KEYLOG:
            if (o->engine.ntls_keylogs == ENGINE_MAX_KEYLOGS)
                return usage_error(err, "too many --tls-keylog (at most %s)%s", "8", "");
            o->engine.tls_keylogs[o->engine.ntls_keylogs++] = a;
            break;
        case OPT_SORT_START:
            o->sort_start = 100000;
            if (a && !parse_u64(a, 1, 10000000, &o->sort_start))
                return usage_error(err, "bad --sort-start: '%s' (lines held, 1 to 10000000)%s", a,
                                   "");
            break;
        case OPT_TUI_HISTORY:
            if (!parse_u64(a, 1, 10000000, &o->tui_history))
                return usage_error(err, "bad --tui-history: '%s'%s", a, "");
            break;
        case OPT_TOPIC:
        case OPT_METHOD:
        case OPT_SERVER:
        case OPT_REQUEST_ID:
        case OPT_EVENT_TYPE:
        case OPT_PRIORITY: {
            struct op_filter *f = &o->engine.filter;
            char *dst = c == OPT_TOPIC        ? f->topic
                        : c == OPT_METHOD     ? f->method
                        : c == OPT_SERVER     ? f->server
                        : c == OPT_EVENT_TYPE ? f->event_type
                        : c == OPT_PRIORITY   ? f->priority
                                              : f->request_id;
            const char *name = c == OPT_TOPIC        ? "--topic"
                               : c == OPT_METHOD     ? "--method"
                               : c == OPT_SERVER     ? "--server"
                               : c == OPT_EVENT_TYPE ? "--event-type"
                               : c == OPT_PRIORITY   ? "--priority"
                                                     : "--request-id";
            if (!op_filter_set_glob(dst, a, msg, sizeof msg))
                return usage_error(err, "bad %s: %s", name, msg);
            break;
        }
        case 'Y':
            if (!dfilter_is_empty(&o->engine.filter.expr))
                return usage_error(err, "-Y given twice; join them with 'and'%s%s", "", "");
            if (!dfilter_compile(&o->engine.filter.expr, a, msg, sizeof msg))
                return usage_error(err, "-Y: %s%s", msg, "");
            if (dfilter_is_empty(&o->engine.filter.expr))
                return usage_error(err, "-Y needs an expression%s%s", "", "");
            break;
        case OPT_STATUS:
            if (!op_filter_parse_status(a, &o->engine.filter.status_mask, msg, sizeof msg))
                return usage_error(err, "bad --status: %s%s", msg, "");
            break;
        case OPT_TYPE:
            if (!op_filter_parse_type(a, &o->engine.filter.type_mask, msg, sizeof msg))
                return usage_error(err, "bad --type: %s%s", msg, "");
            break;
        case OPT_DIALECT:
            if (!op_filter_parse_dialect(a, &o->engine.filter.dialect_mask, msg, sizeof msg))
                return usage_error(err, "bad --dialect: %s%s", msg, "");
            break;
        case OPT_MIN_LATENCY:
            if (!parse_seconds(a, &o->engine.filter.min_latency_ms))
                return usage_error(err, "bad --min-latency: '%s' (milliseconds)%s", a, "");
            break;
        case ':':
            snprintf(msg, sizeof msg, "%s",
                     optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
            return usage_error(err, "option '%s' needs a value%s", msg, "");
        default:
            if (optopt)
                snprintf(msg, sizeof msg, "-%c", optopt);
            else
                snprintf(msg, sizeof msg, "%s", argv[optind - 1]);
            return usage_error(err, "unknown option '%s'%s", msg, "");
        }
    }
    if (optind < argc)
        return usage_error(err, "unexpected argument '%s'%s", argv[optind], "");
    if (o->list_ifaces)
        return CLI_RUN; /* -D alone: main lists and exits */
    if (!o->engine.nfiles && !o->engine.iface)
        return usage_error(err, "nothing to read: give -r FILE or -i IFACE%s%s", "", "");
    if (o->engine.nfiles && o->engine.iface)
        return usage_error(err, "-r and -i cannot be combined%s%s", "", "");
    if (o->tui && (o->json || o->amqp))
        return usage_error(err, "--tui cannot be combined with %s%s", o->json ? "-j" : "--amqp",
                           "");
    if (o->sort_start && (o->tui || o->amqp || o->quiet || o->flow_id || o->flows ||
                          (o->report && !o->json)))
        return usage_error(err, "--sort-start orders the per-operation lines (text or -j); %s has none%s",
                           o->tui ? "--tui" : o->amqp ? "--amqp" : o->quiet ? "-q"
                                          : o->report ? "--report" : "--flow/--flows", "");
    if ((o->flow_id || o->flows) && (o->amqp || o->tui))
        return usage_error(err, "--flow and --flows cannot be combined with %s%s",
                           o->amqp ? "--amqp" : "--tui", "");
    if (o->write_file && o->amqp)
        return usage_error(err, "-w selects operations; it cannot be combined with --amqp%s%s", "",
                           "");
    if (!o->write_file && (o->rotate_bytes || o->rotate_s > 0 || o->max_files ||
                           o->write_format_given))
        return usage_error(err, "-C, -G, -W and -F shape -w's files; give -w too%s%s", "", "");
    if (o->max_files && !o->rotate_bytes && o->rotate_s <= 0)
        return usage_error(err, "-W counts rotated files; give -C or -G too%s%s", "", "");
    if (o->output_file && o->tui)
        return usage_error(err, "--output takes the lines the TUI does not print%s%s", "", "");
    if (o->output_file && o->write_file && !strcmp(o->write_file, "-"))
        return usage_error(err, "-w - writes the pcap to stdout; --output cannot share it%s%s", "",
                           "");
    if (o->engine.wait_iface && !o->engine.iface)
        return usage_error(err, "--wait-iface waits for -i IFACE; give it too%s%s", "", "");
    if (o->linger && !o->metrics_listen)
        return usage_error(err, "--linger keeps serving --metrics-listen; give it too%s%s", "", "");
    /* --report-interval paces --metrics-file; it prints the report only when asked for too. */
    if (o->metrics_file && o->report_interval > 0 && !report_asked)
        o->report = false;
    for (size_t i = 0; i < o->nclock_offsets; i++)
        if (!set_clock_offset(o, o->clock_offsets[i], err))
            return CLI_USAGE;
    size_t stdin_count = 0;
    for (size_t i = 0; i < o->engine.nfiles; i++)
        stdin_count += strcmp(o->engine.files[i], "-") == 0;
    if (stdin_count > 1)
        return usage_error(err, "stdin (-r -) can be read only once%s%s", "", "");
    if (o->write_file && stdin_count)
        return usage_error(err,
                           "-w reads its input twice; stdin (-r -) cannot be: save it to a "
                           "file first%s%s",
                           "", "");
    for (size_t i = 0; o->write_file && i < o->engine.nfiles; i++) {
        struct stat sb;
        if (stat(o->engine.files[i], &sb) == 0 && S_ISFIFO(sb.st_mode))
            return usage_error(err,
                               "-w reads its input twice; %s is a pipe: save it to a file "
                               "first%s",
                               o->engine.files[i], "");
    }
    for (size_t i = 0; o->write_file && i < o->engine.nfiles; i++)
        if (same_file(o->write_file, o->engine.files[i]))
            return usage_error(err, "-w %s names an input file: it would be overwritten%s",
                               o->write_file, "");
    o->engine.want_methods = o->amqp;
    o->engine.want_bodies = o->args || o->tui;
    /* Packet numbers cost ~50 bytes per pending call; only -w and the TUI's `w` need them. */
    o->engine.want_pkts = o->write_file != NULL || o->tui;
    o->engine.want_flows = o->flow_id || o->flows || o->report || o->tui;
    return CLI_RUN;
}

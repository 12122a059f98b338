/*
 * test_reassembly_e2e.c: the capture stage on real captures, checked against
 * an independent reassembler (tshark's "follow,tcp,raw").
 *
 * For every capture in OSLOTRACE_PCAPS (else pcaps/ next to the sources, else
 * ../shared/pcaps) pcap_source + packet_decode + tcp_stream rebuild every TCP
 * stream; a few of them (the first, one from the middle and the longest) are
 * compared byte for byte, both directions, with what tshark follows. Then a
 * lossy copy of one capture is written with one data packet left out, and
 * the gap must be reported exactly there, with the data after it delivered.
 * Skipped (cmocka skip, with a message) when tshark is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <pcap/pcap.h>

#include "capture/pcap_source.h"
#include "capture/tcp_stream.h"

struct sbuf {
    uint8_t *p;
    size_t n, cap;
};

static void sbuf_add(struct sbuf *b, const uint8_t *data, size_t len)
{
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

struct gap_at {
    int dir;
    uint64_t pos, missing;
};

struct flowrec {
    char a[NETADDR_STRLEN], b[NETADDR_STRLEN];
    struct sbuf d[2];
    struct sbuf img[2], mask[2]; /* the stream with gaps as zeros; mask 1 = delivered */
    uint64_t pos[2]; /* delivered + gap bytes */
    struct gap_at gaps[8];
    size_t ngaps;
};

/* Where each data packet's bytes landed: to pick one to drop. */
struct placed {
    uint64_t pkt_index, flow_id, pos;
    int dir;
    size_t len;
};

struct run {
    struct flowrec *flows;
    size_t nflows;
    struct placed *pl;
    size_t npl, plcap;
};

static struct flowrec *flow_of(struct run *r, const struct tcp_flow *f)
{
    assert_true(f->id >= 1 && f->id <= r->nflows);
    return &r->flows[f->id - 1];
}

static void on_open(void *user, struct tcp_flow *f)
{
    struct run *r = user;
    assert_int_equal(f->id, r->nflows + 1);
    r->flows = realloc(r->flows, (r->nflows + 1) * sizeof *r->flows);
    assert_non_null(r->flows);
    struct flowrec *fr = &r->flows[r->nflows++];
    memset(fr, 0, sizeof *fr);
    netaddr_format(&f->a, fr->a, sizeof fr->a);
    netaddr_format(&f->b, fr->b, sizeof fr->b);
}

static void on_data(void *user, struct tcp_flow *f, int dir, const uint8_t *data, size_t len,
                    uint64_t ts_ns, uint64_t pkt_index)
{
    struct run *r = user;
    struct flowrec *fr = flow_of(r, f);
    if (r->npl == r->plcap) {
        r->plcap = r->plcap ? r->plcap * 2 : 1024;
        r->pl = realloc(r->pl, r->plcap * sizeof *r->pl);
        assert_non_null(r->pl);
    }
    r->pl[r->npl++] = (struct placed){pkt_index, f->id, fr->pos[dir], dir, len};
    sbuf_add(&fr->d[dir], data, len);
    sbuf_add(&fr->img[dir], data, len);
    uint8_t ones[4096];
    memset(ones, 1, sizeof ones);
    for (size_t done = 0; done < len; done += sizeof ones)
        sbuf_add(&fr->mask[dir], ones, len - done < sizeof ones ? len - done : sizeof ones);
    fr->pos[dir] += len;
}

static void on_gap(void *user, struct tcp_flow *f, int dir, uint64_t missing, uint64_t ts_ns)
{
    struct run *r = user;
    struct flowrec *fr = flow_of(r, f);
    if (fr->ngaps < 8)
        fr->gaps[fr->ngaps] = (struct gap_at){dir, fr->pos[dir], missing};
    fr->ngaps++;
    fr->pos[dir] += missing;
    assert_true(missing < (64u << 20));
    static const uint8_t zeros[4096];
    for (uint64_t done = 0; done < missing; done += sizeof zeros) {
        size_t n = missing - done < sizeof zeros ? (size_t)(missing - done) : sizeof zeros;
        sbuf_add(&fr->img[dir], zeros, n);
        sbuf_add(&fr->mask[dir], zeros, n);
    }
}

static void reassemble(const char *path, struct run *r, struct tcp_stream_stats *st)
{
    memset(r, 0, sizeof *r);
    const char *files[] = {path};
    struct pcap_source_config cfg = {.files = files, .nfiles = 1};
    char err[512];
    struct pcap_source *src = pcap_source_open(&cfg, err, sizeof err);
    if (!src)
        fail_msg("%s", err);
    struct tcp_stream_callbacks cb = {on_open, on_data, on_gap, NULL, r};
    struct tcp_stream *ts = tcp_stream_new(NULL, &cb);
    assert_non_null(ts);
    struct packet pkt;
    enum pcap_source_status s;
    while ((s = pcap_source_next(src, &pkt)) == PCAP_SOURCE_PACKET) {
        struct tcp_segment seg;
        if (packet_decode(&pkt, &seg) == PACKET_TCP)
            tcp_stream_feed(ts, &seg);
    }
    if (s == PCAP_SOURCE_ERROR)
        fail_msg("%s", pcap_source_error(src));
    tcp_stream_finish(ts);
    tcp_stream_get_stats(ts, st);
    tcp_stream_free(ts);
    pcap_source_close(src);
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->nflows; i++)
        for (int d = 0; d < 2; d++) {
            free(r->flows[i].d[d].p);
            free(r->flows[i].img[d].p);
            free(r->flows[i].mask[d].p);
        }
    free(r->flows);
    free(r->pl);
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- tshark ---------------------------------------------------------------- */

static bool have_tshark(void)
{
    return system("tshark --version >/dev/null 2>&1") == 0;
}

/* tshark's streams of one capture: index and the two printed endpoints. */
struct stream_ends {
    long stream;
    char a[NETADDR_STRLEN + 80], b[NETADDR_STRLEN + 80];
};

struct stream_map {
    struct stream_ends *e;
    size_t n;
};

static void tshark_streams(const char *path, struct stream_map *m)
{
    memset(m, 0, sizeof *m);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "tshark -r '%s' -T fields -E separator=' ' -e tcp.stream -e ip.src -e ipv6.src "
             "-e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    while (fgets(line, sizeof line, p)) {
        long stream;
        char src[128], dst[128];
        unsigned sport, dport;
        /* ip.* or ipv6.* is empty, so 5 fields remain once blanks collapse. */
        if (sscanf(line, "%ld %127s %u %127s %u", &stream, src, &sport, dst, &dport) != 5)
            continue;
        if (m->n > 0 && m->e[m->n - 1].stream >= stream)
            continue; /* streams are numbered in order of first appearance */
        m->e = realloc(m->e, (m->n + 1) * sizeof *m->e);
        assert_non_null(m->e);
        struct stream_ends *e = &m->e[m->n++];
        bool v6 = strchr(src, ':') != NULL;
        e->stream = stream;
        snprintf(e->a, sizeof e->a, v6 ? "[%s]:%u" : "%s:%u", src, sport);
        snprintf(e->b, sizeof e->b, v6 ? "[%s]:%u" : "%s:%u", dst, dport);
    }
    pclose(p);
}

/* tshark's stream index of the connection between two printed endpoints, -1 if none. */
static long tshark_stream_of(const struct stream_map *m, const char *x, const char *y)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct stream_ends *e = &m->e[i];
        if ((!strcmp(e->a, x) && !strcmp(e->b, y)) || (!strcmp(e->a, y) && !strcmp(e->b, x)))
            return e->stream;
    }
    return -1;
}

struct followed {
    char node[2][NETADDR_STRLEN + 16];
    struct sbuf d[2];
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static void tshark_follow(const char *path, long stream, struct followed *out)
{
    memset(out, 0, sizeof *out);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tshark -r '%s' -q -z follow,tcp,raw,%ld 2>/dev/null", path,
             stream);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20;
    char *line = malloc(cap);
    assert_non_null(line);
    while (fgets(line, (int)cap, p)) {
        size_t len = strlen(line);
        assert_true(len < cap - 1); /* tshark prints at most one segment per line */
        if (!strncmp(line, "Node 0: ", 8) || !strncmp(line, "Node 1: ", 8)) {
            int n = line[5] - '0';
            snprintf(out->node[n], sizeof out->node[n], "%.*s", (int)strcspn(line + 8, "\r\n"),
                     line + 8);
            continue;
        }
        int node = line[0] == '\t';
        const char *h = line + node;
        if (hexval(h[0]) < 0 || hexval(h[1]) < 0)
            continue; /* banners */
        for (; hexval(h[0]) >= 0 && hexval(h[1]) >= 0; h += 2) {
            uint8_t byte = (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
            sbuf_add(&out->d[node], &byte, 1);
        }
    }
    free(line);
    assert_int_equal(pclose(p), 0);
    assert_true(out->node[0][0] && out->node[1][0]);
}

static void compare_with_tshark(const char *path, const struct stream_map *m,
                                const struct flowrec *fr)
{
    long stream = tshark_stream_of(m, fr->a, fr->b);
    if (stream < 0)
        fail_msg("%s: tshark has no stream %s <-> %s", path, fr->a, fr->b);
    struct followed fo;
    tshark_follow(path, stream, &fo);
    int dir0_node = strcmp(fo.node[0], fr->a) == 0 ? 0 : 1;
    assert_string_equal(fo.node[dir0_node], fr->a);
    assert_string_equal(fo.node[!dir0_node], fr->b);
    for (int d = 0; d < 2; d++) {
        const struct sbuf *ours = &fr->d[d], *theirs = &fo.d[d == 0 ? dir0_node : !dir0_node];
        if (ours->n != theirs->n)
            fail_msg("%s stream %ld (%s -> %s) dir %d: %zu bytes, tshark %zu", path, stream,
                     fr->a, fr->b, d, ours->n, theirs->n);
        if (ours->n && memcmp(ours->p, theirs->p, ours->n) != 0)
            fail_msg("%s stream %ld dir %d: bytes differ", path, stream, d);
    }
    print_message("  %s: tcp.stream %ld %s <-> %s: %zu + %zu bytes identical\n",
                  base(path), stream, fr->a, fr->b, fr->d[0].n, fr->d[1].n);
    for (int d = 0; d < 2; d++)
        free(fo.d[d].p);
}

/* ---- captures ------------------------------------------------------------- */

static size_t find_captures(glob_t *g)
{
    char dirs[3][1100];
    size_t nd = 0;
    const char *env = getenv("OSLOTRACE_PCAPS");
    if (env && *env)
        snprintf(dirs[nd++], sizeof dirs[0], "%s", env);
    char here[512];
    snprintf(here, sizeof here, "%s", __FILE__);
    const char *testdir = dirname(here);
    snprintf(dirs[nd++], sizeof dirs[0], "%s/../pcaps", testdir);
    snprintf(dirs[nd++], sizeof dirs[0], "%s/../../shared/pcaps", testdir);
    for (size_t i = 0; i < nd; i++) {
        char pat[1200];
        snprintf(pat, sizeof pat, "%.1000s/*.pcap", dirs[i]);
        memset(g, 0, sizeof *g);
        int rc = glob(pat, 0, NULL, g);
        snprintf(pat, sizeof pat, "%.1000s/*.pcapng", dirs[i]);
        glob(pat, rc == 0 ? GLOB_APPEND : 0, NULL, g);
        if (g->gl_pathc > 0)
            return g->gl_pathc;
        globfree(g);
    }
    return 0;
}

static size_t longest_flow(const struct run *r)
{
    size_t best = 0;
    for (size_t i = 1; i < r->nflows; i++)
        if (r->flows[i].d[0].n + r->flows[i].d[1].n >
            r->flows[best].d[0].n + r->flows[best].d[1].n)
            best = i;
    return best;
}

/* How many packets the lab removed from this capture (meta "removed_packets"),
 * 0 if none; `source` gets the capture it was derived from, "" if unknown. */
static size_t removed_packets(const char *pcap, char *source, size_t srclen)
{
    char meta[1200];
    const char *slash = strrchr(pcap, '/');
    size_t dirlen = slash ? (size_t)(slash - pcap) + 1 : 0;
    size_t stem = (size_t)(strchr(pcap + dirlen, '.') - pcap);
    snprintf(meta, sizeof meta, "%.*s.meta.json", (int)stem, pcap);
    json_t *j = json_load_file(meta, 0, NULL);
    size_t n = j ? json_array_size(json_object_get(j, "removed_packets")) : 0;
    const char *from = j ? json_string_value(json_object_get(j, "derived_from")) : NULL;
    source[0] = '\0';
    if (n && from && !strchr(from, '/')) {
        snprintf(source, srclen, "%.*s%s", (int)dirlen, pcap, from);
        if (access(source, R_OK) != 0)
            source[0] = '\0';
    }
    json_decref(j);
    return n;
}

/* A capture with packets removed against the one it came from: each stream
 * is the original with the holes reported exactly where bytes are missing. */
static void compare_with_source(const char *path, const struct run *lossy, const char *source)
{
    struct run orig;
    struct tcp_stream_stats st;
    reassemble(source, &orig, &st);
    uint64_t holes = 0, hole_bytes = 0;
    for (size_t i = 0; i < lossy->nflows; i++) {
        const struct flowrec *l = &lossy->flows[i], *o = NULL;
        for (size_t k = 0; k < orig.nflows && !o; k++)
            if (!strcmp(orig.flows[k].a, l->a) && !strcmp(orig.flows[k].b, l->b))
                o = &orig.flows[k];
        if (!o)
            fail_msg("%s: flow %s <-> %s is not in %s", path, l->a, l->b, source);
        for (int d = 0; d < 2; d++) {
            if (l->img[d].n != o->d[d].n)
                fail_msg("%s: %s <-> %s dir %d: %zu bytes with gaps, %zu in %s", path, l->a,
                         l->b, d, l->img[d].n, o->d[d].n, source);
            for (size_t b = 0; b < l->img[d].n; b++) {
                if (!l->mask[d].p[b]) {
                    hole_bytes++;
                    continue;
                }
                if (l->img[d].p[b] != o->d[d].p[b])
                    fail_msg("%s: %s <-> %s dir %d: byte %zu differs from %s", path, l->a, l->b,
                             d, b, source);
            }
        }
        holes += l->ngaps;
    }
    print_message("  %s: every stream equals %s's except %llu holes (%llu bytes), reported "
                  "where they are\n",
                  base(path), base(source), (unsigned long long)holes,
                  (unsigned long long)hole_bytes);
    run_free(&orig);
}

static void test_streams_match_tshark(void **state)
{
    if (!have_tshark()) {
        print_message("tshark is not installed: reassembly not compared, skipped\n");
        skip();
    }
    glob_t g;
    if (find_captures(&g) == 0) {
        print_message("no captures found (OSLOTRACE_PCAPS, pcaps/, ../shared/pcaps): skipped\n");
        skip();
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        struct run r;
        struct tcp_stream_stats st;
        reassemble(path, &r, &st);
        assert_true(r.nflows > 0);
        /* No hole may be invented; every removed packet makes one, except that
         * neighbours removed from the same direction make one together. */
        char source[1200];
        size_t removed = removed_packets(path, source, sizeof source);
        if (removed ? st.gaps == 0 || st.gaps > removed : st.gaps != 0)
            fail_msg("%s: %llu gaps, %zu packets removed", path, (unsigned long long)st.gaps,
                     removed);
        if (removed) {
            /* tshark's follow is no reference across missing segments (it
             * prints bytes the stream never had), the original capture is. */
            if (source[0])
                compare_with_source(path, &r, source);
            else
                print_message("  %s: lossy, its source capture is not here: gaps counted only\n",
                              base(path));
            run_free(&r);
            continue;
        }
        size_t pick[3] = {0, r.nflows / 2, longest_flow(&r)};
        struct stream_map m;
        tshark_streams(path, &m);
        for (size_t k = 0; k < 3; k++) {
            if (k > 0 && (pick[k] == pick[0] || (k == 2 && pick[2] == pick[1])))
                continue;
            compare_with_tshark(path, &m, &r.flows[pick[k]]);
        }
        free(m.e);
        run_free(&r);
    }
    globfree(&g);
}

/* Writes `in` to `out` without packet number `drop`. */
static void copy_without(const char *in, const char *out, uint64_t drop)
{
    const char *files[] = {in};
    struct pcap_source_config cfg = {.files = files, .nfiles = 1};
    char err[512];
    struct pcap_source *src = pcap_source_open(&cfg, err, sizeof err);
    assert_non_null(src);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(
        pcap_source_linktype(src), pcap_source_snaplen(src), PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = pcap_dump_open(dead, out);
    assert_non_null(d);
    struct packet p;
    while (pcap_source_next(src, &p) == PCAP_SOURCE_PACKET) {
        if (p.index == drop)
            continue;
        struct pcap_pkthdr h = {.caplen = p.caplen, .len = p.wirelen};
        h.ts.tv_sec = (time_t)(p.ts_ns / 1000000000ull);
        h.ts.tv_usec = (suseconds_t)(p.ts_ns % 1000000000ull);
        pcap_dump((u_char *)d, &h, p.data);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    pcap_source_close(src);
}

static void test_dropped_packet_becomes_gap(void **state)
{
    glob_t g;
    if (find_captures(&g) == 0) {
        print_message("no captures found: skipped\n");
        skip();
    }
    /* The biggest capture has the longest streams; any will do. */
    const char *path = g.gl_pathv[0];
    for (size_t i = 0; i < g.gl_pathc; i++)
        if (strstr(g.gl_pathv[i], "basic.pcap"))
            path = g.gl_pathv[i];
    struct run r;
    struct tcp_stream_stats st;
    reassemble(path, &r, &st);
    size_t lf = longest_flow(&r);
    /* A data packet from the middle of the longest flow, delivered in one piece. */
    size_t cands = 0, chosen = SIZE_MAX;
    for (size_t i = 0; i < r.npl; i++)
        cands += r.pl[i].flow_id == lf + 1;
    for (size_t i = 0, seen = 0; i < r.npl; i++) {
        if (r.pl[i].flow_id != lf + 1)
            continue;
        bool whole = (i == 0 || r.pl[i - 1].pkt_index != r.pl[i].pkt_index) &&
                     (i + 1 == r.npl || r.pl[i + 1].pkt_index != r.pl[i].pkt_index);
        if (seen++ >= cands / 2 && whole) {
            chosen = i;
            break;
        }
    }
    assert_true(chosen != SIZE_MAX);
    const struct placed drop = r.pl[chosen];
    const struct flowrec *orig = &r.flows[lf];

    char tmpl[] = "/tmp/oslotrace-lossy-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    copy_without(path, tmpl, drop.pkt_index);
    struct run lossy;
    reassemble(tmpl, &lossy, &st);
    unlink(tmpl);

    const struct flowrec *lf2 = NULL;
    for (size_t i = 0; i < lossy.nflows; i++)
        if (!strcmp(lossy.flows[i].a, orig->a) && !strcmp(lossy.flows[i].b, orig->b))
            lf2 = &lossy.flows[i];
    assert_non_null(lf2);
    assert_int_equal(lf2->ngaps, 1);
    assert_int_equal(lf2->gaps[0].dir, drop.dir);
    assert_int_equal(lf2->gaps[0].pos, drop.pos);
    assert_int_equal(lf2->gaps[0].missing, drop.len);
    assert_int_equal(st.gaps, 1);
    /* Everything else arrives: before the hole, after it, and the other direction. */
    const struct sbuf *o = &orig->d[drop.dir], *l = &lf2->d[drop.dir];
    assert_int_equal(l->n, o->n - drop.len);
    assert_memory_equal(l->p, o->p, drop.pos);
    assert_memory_equal(l->p + drop.pos, o->p + drop.pos + drop.len, o->n - drop.pos - drop.len);
    const struct sbuf *o1 = &orig->d[!drop.dir], *l1 = &lf2->d[!drop.dir];
    assert_int_equal(l1->n, o1->n);
    assert_memory_equal(l1->p, o1->p, o1->n);
    print_message("  %s without packet %llu: gap of %zu bytes at %llu, %zu bytes after it\n",
                  base(path), (unsigned long long)drop.pkt_index, drop.len,
                  (unsigned long long)drop.pos, o->n - drop.pos - drop.len);
    run_free(&lossy);
    run_free(&r);
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_match_tshark),
        cmocka_unit_test(test_dropped_packet_becomes_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * flow_ladder.h: a flow drawn as a ladder (sngrep's call flow), as lines of
 * text of a given width — shared by --flow (ui/flow_text.c) and the TUI's
 * Flows view (ui/tui_flows.c).
 *
 * Columns: the broker first, then every process in the order it first
 * appears. Rows: one per leg of every op, in time order — request publish
 * (client → broker), request deliver (broker → server), reply publish
 * (server → broker), reply deliver (broker → client) — plus a mark where a
 * call timed out. Each row says its time since the flow began and the gap
 * since the row before.
 */
#ifndef OSLOTRACE_UI_FLOW_LADDER_H
#define OSLOTRACE_UI_FLOW_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/flow.h"

enum ladder_leg { LADDER_PUBLISH, LADDER_DELIVER, LADDER_REPLY, LADDER_REPLY_IN, LADDER_TIMEOUT };

struct ladder_row {
    uint64_t t_ns;
    size_t op; /* index in flow.ops */
    enum ladder_leg leg;
    int from, to; /* columns; to < 0: a mark on `from` */
    bool bad;     /* an error, a timeout or a message that went nowhere */
    char label[192];
};

struct ladder {
    const struct flow *f;
    char **cols; /* cols[0] = "broker" */
    size_t ncols;
    struct ladder_row *rows;
    size_t nrows;
};

/* False on no memory (nothing to free then). */
bool flow_ladder_build(struct ladder *l, const struct flow *f);
void flow_ladder_free(struct ladder *l);
/* Column width and the width before the first column, for a line of `width`
 * characters (0 = as wide as the names want). */
int flow_ladder_col_width(const struct ladder *l, int width);
#define FLOW_LADDER_PREFIX 20
/* The column names line, and row i, cut to `width` (0 = whole). */
void flow_ladder_header(const struct ladder *l, int width, char *buf, size_t len);
void flow_ladder_line(const struct ladder *l, size_t i, int width, char *buf, size_t len);
/* "#3 call scheduler.select_destinations": what op i is, for lists and paths. */
void flow_op_title(const struct flow *f, size_t i, char *buf, size_t len);
/* The short name of a column when the columns are narrow: "conductor" for
 * "nova-conductor:30804", "mq" for the broker. */
void flow_ladder_short_name(const char *name, char *buf, size_t len);

#endif

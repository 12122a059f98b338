/*
 * tui_flows.h: the TUI's Flows view (key 5 or F): the flows (one user
 * request across services, dissect/flow.h) as a list — start, first
 * operation, services touched, operations, total time, worst status — and
 * the selected flow's ladder (ui/flow_ladder.h), scrollable, at any width.
 *
 * It keeps copies of the flows that ended (a bounded ring, the oldest
 * evicted and counted) and, each frame it is shown, copies of the flows
 * still open (at most TUI_FLOWS_OPEN_MAX, asked of the engine).
 */
#ifndef OSLOTRACE_UI_TUI_FLOWS_H
#define OSLOTRACE_UI_TUI_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/flow.h"
#include "engine/pipeline.h"

#define TUI_FLOWS_MAX 1000
#define TUI_FLOWS_OPEN_MAX 64

struct tui_flows;

struct tui_flows *tui_flows_new(size_t max);
void tui_flows_free(struct tui_flows *tf);
/* A flow that ended (copied). */
void tui_flows_add(struct tui_flows *tf, const struct flow *f);
/* Replaces the copies of the open flows with the engine's current ones. */
void tui_flows_refresh_open(struct tui_flows *tf, struct pipeline *p);
/* Flows listed: the ended ones, oldest first, then the open ones. */
size_t tui_flows_count(const struct tui_flows *tf);
uint64_t tui_flows_evicted(const struct tui_flows *tf);

/* What the keys do in the view. */
enum tui_flows_move { TUI_FLOWS_BY, TUI_FLOWS_HOME, TUI_FLOWS_END };
void tui_flows_move(struct tui_flows *tf, enum tui_flows_move how, long delta);
/* Enter: the selected flow's ladder; Esc: back to the list. False when
 * there was nothing to do (Esc on the list). */
void tui_flows_open(struct tui_flows *tf);
bool tui_flows_back(struct tui_flows *tf);
bool tui_flows_in_ladder(const struct tui_flows *tf);

/* Draws the view in rows [top, top + rows) of stdscr, width w; bad_attr (a
 * curses attribute) marks flows and legs that ended in an error or a timeout. */
void tui_flows_draw(struct tui_flows *tf, int top, int rows, int w, unsigned bad_attr);

#endif

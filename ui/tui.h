/*
 * tui.h: oslotrace --tui, the interactive view (think sngrep or htop for
 * oslo.messaging RPC). It builds its own pipeline, reads operations and
 * connection events into a bounded store and draws them with ncursesw;
 * it never parses packets itself.
 */
#ifndef OSLOTRACE_UI_TUI_H
#define OSLOTRACE_UI_TUI_H

#include <signal.h>

#include "ui/cli.h"

/* Runs until `q` or a stop request (SIGINT/SIGTERM set *stop_requests).
 * The terminal is restored on every path; errors go to stderr after it is.
 * Returns the exit status: 0, or 1 on a runtime error. */
int tui_run(const struct cli_options *o, volatile sig_atomic_t *stop_requests);

#endif

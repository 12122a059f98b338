/*
 * empty_run.h: what to say when a run reported no operation at all.
 */
#ifndef OSLOTRACE_UI_EMPTY_RUN_H
#define OSLOTRACE_UI_EMPTY_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "common/counters.h"

/* When the registry's ops_reported is zero, writes one or two lines to out:
 * what the capture held (no TCP, no AMQP, AMQP that is no RPC, TLS without
 * keys, operations all filtered out, TCP gaps) and what to try. tls_said:
 * the TLS advice was already printed. Returns whether anything was written. */
bool empty_run_explain(FILE *out, const struct counters *reg, bool tls_said);

#endif

/*
 * flow_json.h: -j --flows: one JSON object per flow (docs/json.md).
 */
#ifndef OSLOTRACE_UI_FLOW_JSON_H
#define OSLOTRACE_UI_FLOW_JSON_H

#include "ui/sink.h"

extern const struct sink flow_json_sink;

#endif

/*
 * redact.h: which oslo keys hold credentials, and masking them in a decoded
 * JSON tree.
 *
 * The request context travels with every message (`_context_auth_token`,
 * sometimes `_context_service_token`, passwords inside args). Every output
 * of the tool — text, NDJSON, report, TUI, -w excepted — goes through this
 * unless the user passed --show-secrets. The rule is by key name so that it
 * also catches keys we have never seen: any name containing token, password,
 * secret or credential (case-insensitive).
 */
#ifndef OSLOTRACE_DISSECT_REDACT_H
#define OSLOTRACE_DISSECT_REDACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REDACT_MASK "***"

/* True when a key of this name holds a secret (len bytes, not NUL-terminated). */
bool redact_key_is_secret(const char *key, size_t len);

/* Replaces, in place, the value of every object member whose key is secret,
 * at any depth, with "***". Iterative (no recursion); returns how many values
 * were masked. */
size_t redact_json(json_t *root);

#endif

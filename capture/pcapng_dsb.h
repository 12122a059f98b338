/*
 * pcapng_dsb.h: the secrets in a pcapng file's Decryption Secrets Blocks.
 *
 * `editcap --inject-secrets tls,keys.txt` stores a TLS key log inside a
 * pcapng file (block type 0x0000000A, secrets type 0x544c534b "TLSK").
 * libpcap skips those blocks, so before the capture is read the file is
 * scanned here, block by block (headers read through the bounds-checked
 * cursor, packet blocks skipped with a seek), and each TLS key log handed to
 * the caller. Files that are not pcapng, and stdin, are left alone.
 */
#ifndef OSLOTRACE_CAPTURE_PCAPNG_DSB_H
#define OSLOTRACE_CAPTURE_PCAPNG_DSB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_DSB_TLS_KEYLOG 0x544c534bu
#define PCAPNG_DSB_MAX (16u << 20) /* larger secrets blocks are skipped */

typedef void (*pcapng_dsb_fn)(void *user, uint32_t secrets_type, const uint8_t *data, size_t len);

/* Calls fn for each DSB; returns how many were found (0 for a pcap file), or
 * -1 when the file is pcapng and damaged (err says where). */
int pcapng_dsb_scan(const char *path, pcapng_dsb_fn fn, void *user, char *err, size_t errlen);

#endif

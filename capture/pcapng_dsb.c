/*
 * pcapng_dsb.c: a block walker over a pcapng file that only stops at
 * Decryption Secrets Blocks. Each Section Header Block sets the byte order
 * of the blocks after it; every other block is skipped by its total length.
 */
#include "capture/pcapng_dsb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/tls_crypto.h"
#include "common/rd.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_DSB 0x0000000Au
#define BOM 0x1A2B3C4Du

static uint32_t u32(const uint8_t *p, bool swap)
{
    struct rd r = rd_make(p, 4);
    uint32_t v = rd_be32(&r);
    if (swap)
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return v;
}

int pcapng_dsb_scan(const char *path, pcapng_dsb_fn fn, void *user, char *err, size_t errlen)
{
    if (!path || !strcmp(path, "-"))
        return 0;
    /* A pipe cannot be read twice: what this read would be lost to the capture reader. */
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0; /* the capture reader reports it */
    uint8_t hdr[12];
    int found = 0;
    bool swap = false, first = true;
    long pos = 0;
    while (fread(hdr, 1, 8, f) == 8) {
        /* The SHB's type reads the same in both byte orders; its byte-order
         * magic says how to read the rest. */
        if (u32(hdr, false) == BT_SHB) {
            if (fread(hdr + 8, 1, 4, f) != 4)
                break;
            uint32_t bom = u32(hdr + 8, false);
            if (bom == BOM)
                swap = false;
            else if (u32(hdr + 8, true) == BOM)
                swap = true;
            else
                break;
            if (fseek(f, -4, SEEK_CUR) != 0)
                break;
        } else if (first) {
            break; /* not pcapng */
        }
        first = false;
        uint32_t type = u32(hdr, swap), total = u32(hdr + 4, swap);
        if (total < 12 || total % 4) {
            snprintf(err, errlen, "%s: damaged pcapng block at offset %ld", path, pos);
            found = -1;
            break;
        }
        size_t body = total - 12;
        if (type == BT_DSB && body >= 8 && body <= PCAPNG_DSB_MAX + 8) {
            uint8_t *b = malloc(body);
            if (!b || fread(b, 1, body, f) != body) {
                free(b);
                break;
            }
            uint32_t stype = u32(b, swap), slen = u32(b + 4, swap);
            if (slen <= body - 8) {
                fn(user, stype, b + 8, slen);
                found++;
            }
            tls_wipe(b, body);
            free(b);
            if (fseek(f, 4, SEEK_CUR) != 0) /* trailing total length */
                break;
        } else if (fseek(f, (long)total - 8, SEEK_CUR) != 0) {
            break;
        }
        pos += total;
    }
    fclose(f);
    return found;
}

/*
 * hex.h: the value of one hexadecimal digit, for every parser that reads hex
 * text (JSON \u escapes, NSS key log secrets, tshark's hex dumps in tests).
 */
#ifndef OSLOTRACE_COMMON_HEX_H
#define OSLOTRACE_COMMON_HEX_H

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif

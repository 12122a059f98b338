/*
 * real_format.h: a double printed exactly as printf("%.16g") prints it, fast.
 *
 * Every NDJSON record carries two or three timestamps and a latency as JSON
 * reals, and jansson prints reals with %.16g. Going through printf cost a
 * seventh of all instructions on small messages (glibc formats floats with
 * multi-precision arithmetic). The values we print are seconds since the
 * epoch and milliseconds: the fast path covers 1e-4 <= |v| < 1e15, computes
 * the correctly rounded 16 digits with one 128-bit multiply and shift, and
 * lays them out as %g does; anything else goes to snprintf. The unit test
 * compares both on millions of values, ties included.
 */
#ifndef OSLOTRACE_COMMON_REAL_FORMAT_H
#define OSLOTRACE_COMMON_REAL_FORMAT_H

#include <stddef.h>

/* Longest %.16g output ("-1.234567890123457e-308") plus NUL, with room to spare. */
#define REAL_FORMAT_LEN 32

/* Writes v as "%.16g" into out (NUL-terminated); returns the length. */
size_t real_format_g16(double v, char out[REAL_FORMAT_LEN]);
/* The same as "%.17g". */
size_t real_format_g17(double v, char out[REAL_FORMAT_LEN]);

#endif

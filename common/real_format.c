/*
 * real_format.c: %.16g without printf for the doubles the sinks print.
 *
 * A finite double is m * 2^e exactly (m < 2^53). For 1e-4 <= v < 1e15, e is
 * negative and at most 66 in size, and %.16g prints v in fixed notation with
 * 16 significant digits: the integer q = round(v * 10^k) for k = 15 - X,
 * where X is v's decimal exponent after rounding. m * 10^k < 2^117 fits in
 * unsigned __int128, so q is the exact product shifted right by -e, rounded
 * half to even as glibc does in the default rounding mode. Then the digits are
 * placed around the decimal point and trailing fraction zeros dropped, as %g
 * does without '#'. %.17g (what jansson prints with JSON_REAL_PRECISION(17),
 * the --amqp -j timestamps) is the same with one digit more.
 */
#include "common/real_format.h"

#include <math.h> /* isfinite, fabs: macros and builtins, no libm */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static size_t slow_path(double v, int prec, char out[REAL_FORMAT_LEN])
{
    int n = snprintf(out, REAL_FORMAT_LEN, "%.*g", prec, v);
    return n < 0 ? 0 : (size_t)n;
}

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* round(m * 10^k / 2^s), ties to even; k <= 19, s in 1..127. */
static uint64_t scaled_round(uint64_t m, int k, int s)
{
    unsigned __int128 n = (unsigned __int128)m * pow10_u64[k];
    unsigned __int128 q = n >> s;
    unsigned __int128 rem = n - (q << s);
    unsigned __int128 half = (unsigned __int128)1 << (s - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    return (uint64_t)q; /* < 10^17 by the caller's choice of k */
}

/* %.<prec>g for prec 16 or 17; the same method, one more digit (17 digits
 * need 10^(16-X) <= 10^19: X >= -3, the rest goes to snprintf). */
static size_t format_g(double v, int prec, char out[REAL_FORMAT_LEN])
{
    if (!isfinite(v))
        return slow_path(v, prec, out);
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return slow_path(v, prec, out);

    /* a is normal here: a = m * 2^-s exactly, 1e-4 > 2^-14 and 1e15 < 2^50 give 3 <= s <= 66. */
    uint64_t bits;
    memcpy(&bits, &a, sizeof(bits));
    int biased = (int)(bits >> 52);
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int s = 1075 - biased;

    /* Guess the decimal exponent (floor(e2 * log10 2), 1233/4096 ~ log10 2), then
     * correct it on the exact digits. */
    int e2 = biased - 1023;
    int X = e2 >= 0 ? (e2 * 1233) >> 12 : -((-e2 * 1233 + 4095) >> 12);
    uint64_t q = 0;
    int tries;
    for (tries = 0; tries < 4; tries++) {
        if (X < prec - 20 || X > 14)
            return slow_path(v, prec, out);
        q = scaled_round(m, prec - 1 - X, s);
        if (q >= pow10_u64[prec])
            X++; /* rounding carried into a new digit, or the guess was low */
        else if (q < pow10_u64[prec - 1])
            X--;
        else
            break;
    }
    if (tries == 4)
        return slow_path(v, prec, out);

    char digits[17];
    for (int i = prec - 1; i >= 0; i--) {
        digits[i] = (char)('0' + q % 10);
        q /= 10;
    }
    int nd = prec; /* significant digits left after dropping trailing zeros */
    int int_digits = X >= 0 ? X + 1 : 0;
    while (nd > int_digits && nd > 1 && digits[nd - 1] == '0')
        nd--;

    size_t n = 0;
    if (v < 0)
        out[n++] = '-';
    if (X >= 0) {
        memcpy(out + n, digits, (size_t)int_digits);
        n += (size_t)int_digits;
        if (nd > int_digits) {
            out[n++] = '.';
            memcpy(out + n, digits + int_digits, (size_t)(nd - int_digits));
            n += (size_t)(nd - int_digits);
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -X - 1; i++)
            out[n++] = '0';
        memcpy(out + n, digits, (size_t)nd);
        n += (size_t)nd;
    }
    out[n] = '\0';
    return n;
}

size_t real_format_g16(double v, char out[REAL_FORMAT_LEN])
{
    return format_g(v, 16, out);
}

size_t real_format_g17(double v, char out[REAL_FORMAT_LEN])
{
    return format_g(v, 17, out);
}

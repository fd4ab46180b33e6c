/* parse_number.c — exact decimal text to double/float/int64 (see parse_number.h).
 *
 * The path of a number:
 *   0. plain_decimal takes the common "[-]digits[.digits]" in one pass
 *      when step 2 applies to it.
 *   1. scan_decimal validates the grammar and reads up to 19 significant
 *      digits into w with a decimal exponent q (value = w * 10^q).
 *   2. Clinger: when w and 10^|q| are both exact in the target type, one
 *      correctly rounded multiplication or division is the answer.
 *   3. Eisel-Lemire: w * (128-bit 5^q) gives the leading bits of the value;
 *      when the error of the truncated power cannot move a rounding decision
 *      (almost always) they are the answer.
 *   4. strtod/strtof on a NUL-terminated copy for everything else. */
#include "etl/parse_number.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#include "etl/pow5_table.inc"

/* ---- 64 x 64 -> 128-bit multiplication ---------------------------------- */

typedef struct {
    uint64_t hi, lo;
} u128;

static inline u128 mul_64x64(uint64_t a, uint64_t b)
{
    u128 r;
#if defined(__SIZEOF_INT128__)
    unsigned __int128 p = (unsigned __int128)a * b;
    r.hi = (uint64_t)(p >> 64);
    r.lo = (uint64_t)p;
#else
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    r.lo = (mid << 32) | (uint32_t)ll;
    r.hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
    return r;
}

static inline int leading_zeros64(uint64_t x)
{ /* x != 0 */
    return __builtin_clzll(x);
}

/* ---- Eisel-Lemire --------------------------------------------------------- */

typedef struct {
    int mantissa_bits;  /* explicit significand bits: 52 / 23 */
    int bias;           /* exponent bias: 1023 / 127 */
    int infinite_power; /* biased exponent of infinity: 0x7FF / 0xFF */
    int zero_below_q;   /* w * 10^q rounds to zero for every w < 2^64 when q < this */
    int inf_above_q;    /* and to infinity for every w >= 1 when q > this */
    /* Exact ties (w * 10^q halfway between two values) exist only for q in
     * this range: a tie has mantissa_bits + 2 significant bits, so 5^-q must
     * divide w < 2^64 (q < 0) or 5^q must divide the tie's odd significand. */
    int tie_min_q, tie_max_q;
} float_format;

static const float_format FORMAT_DOUBLE = {52, 1023, 0x7FF, -342, 308, -4, 23};
static const float_format FORMAT_FLOAT = {23, 127, 0xFF, -64, 38, -17, 10};

/* Sets *bits to the IEEE encoding (without sign) of w * 10^q rounded to
 * nearest-even, or returns false when the 128-bit product leaves the answer
 * open.
 *
 * R = floor(w' * T / 2^64), w' = w normalized to 64 bits, T the 128-bit table
 * entry, computed in full. Let t be the exact w' * 5^q * scale / 2^64. Then,
 * from the table's rounding directions (gen_pow5_table.py):
 *   0 <= q <= 55    T exact:            R <= t < R + 1
 *   q > 55, q < -27 T truncated (under): R <= t < R + 2
 *   -27 <= q <= -1  T floor + 1 (over):  R - 1 < t < R + 1
 * The rounding decision reads R's high word only: the mantissa bits, one
 * round bit and the "below" bits under it. It is safe unless an error of
 * one unit carries into (under) or borrows from (over) that word in a way
 * that can change the decision; those cases return false. */
static bool eisel_lemire(uint64_t w, int64_t q, const float_format *f, uint64_t *bits)
{
    if (w == 0 || q < f->zero_below_q) {
        *bits = 0;
        return true;
    }
    if (q > f->inf_above_q) {
        *bits = (uint64_t)f->infinite_power << f->mantissa_bits;
        return true;
    }
    int lz = leading_zeros64(w);
    w <<= lz;
    const uint64_t *t = POW5_128[q - POW5_MIN_Q];
    u128 first = mul_64x64(w, t[0]);
    u128 second = mul_64x64(w, t[1]);
    uint64_t hi = first.hi, lo = first.lo + second.hi;
    if (lo < second.hi) hi++;

    int upperbit = (int)(hi >> 63);
    int shift = upperbit + 64 - f->mantissa_bits - 3;
    uint64_t mantissa = hi >> shift; /* mantissa_bits + 2 bits: the last is the round bit */
    uint64_t below = hi & ((UINT64_C(1) << shift) - 1);
    bool round_bit = mantissa & 1;

    if (q > 55 || q < -27) {
        if (lo == UINT64_MAX) return false; /* t may carry into hi */
    } else if (q < 0) {
        /* t may lie just under R and borrow from hi. With below != 0 the
         * decision does not change; with the round bit clear, t is within a
         * hair of a representable value and rounds to it either way; with
         * the round bit set, t is a tie (if ties are possible for this q, it
         * is one: a non-tie lies at least 2^-68 relative away, far more than
         * the table's error) or undecidable. */
        if (lo == 0 && below == 0 && round_bit && q < f->tie_min_q) return false;
    }

    /* Binary exponent: the top bit of 10^q is at floor(q * log2(10)),
     * 217706 / 2^16 ~ log2(10), exact for the table's q (the generator checks);
     * >> of a negative value is an arithmetic shift on every supported compiler. */
    int64_t floor_log2_10q = (217706 * q) >> 16;
    int64_t e = floor_log2_10q + 63 - lz + upperbit + f->bias;

    if (e <= 0) {
        /* Subnormal: shift so that one round bit remains below the last
         * representable bit. Ties cannot occur this small (q < -27), so
         * rounding the round bit up is nearest. */
        if (1 - e >= 64) {
            *bits = 0;
            return true;
        }
        mantissa >>= 1 - e;
        mantissa += mantissa & 1;
        mantissa >>= 1;
        /* A carry into bit mantissa_bits makes the smallest normal number,
         * which is exactly what this encoding means with exponent field 1. */
        *bits = mantissa;
        return true;
    }

    if (lo == 0 && below == 0 && (mantissa & 3) == 1 && q >= f->tie_min_q && q <= f->tie_max_q) {
        mantissa &= ~UINT64_C(1); /* exact tie with an even neighbour below: round down */
    }
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if (mantissa >= (UINT64_C(2) << f->mantissa_bits)) { /* rounding carried out */
        mantissa = UINT64_C(1) << f->mantissa_bits;
        e++;
    }
    if (e >= f->infinite_power) {
        *bits = (uint64_t)f->infinite_power << f->mantissa_bits;
        return true;
    }
    mantissa &= ~(UINT64_C(1) << f->mantissa_bits);
    *bits = ((uint64_t)e << f->mantissa_bits) | mantissa;
    return true;
}

bool parse_eisel_lemire_double(uint64_t w, int64_t q, bool negative, double *out)
{
    uint64_t bits;
    if (!eisel_lemire(w, q, &FORMAT_DOUBLE, &bits)) return false;
    if (negative) bits |= UINT64_C(1) << 63;
    memcpy(out, &bits, sizeof *out);
    return true;
}

bool parse_eisel_lemire_float(uint64_t w, int64_t q, bool negative, float *out)
{
    uint64_t bits;
    if (!eisel_lemire(w, q, &FORMAT_FLOAT, &bits)) return false;
    uint32_t b32 = (uint32_t)bits;
    if (negative) b32 |= UINT32_C(1) << 31;
    memcpy(out, &b32, sizeof *out);
    return true;
}

/* ---- the grammar ---------------------------------------------------------- */

typedef struct {
    uint64_t w; /* the significant digits */
    int64_t q;  /* value = w * 10^q when !truncated */
    bool negative;
    bool truncated; /* more than 19 significant digits: w and q are not exact */
} decimal;

#define MAX_SIG_DIGITS 19 /* 10^19 - 1 < 2^64 */
/* Exponents saturate here: far beyond any finite value even after a fraction
 * of 10^14 leading zeros, yet q stays well inside int64_t. */
#define EXPONENT_CLAMP INT64_C(1000000000000000)

static inline bool is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* Eight ASCII digits at p (little-endian load) as a number, or false when
 * any of the eight bytes is not a digit. SWAR: pairs, then quads, then all. */
static inline bool eight_digits(const char *p, uint64_t *value)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    /* every byte in '0'..'9': high nibble 3, and adding 6 keeps it 3 */
    if (((v & 0xF0F0F0F0F0F0F0F0u) | (((v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) !=
        0x3333333333333333u)
        return false;
    v -= 0x3030303030303030u;                        /* bytes d0..d7, d0 first (lowest) */
    v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFu;   /* 16-bit lanes: d0d1, d2d3, ... */
    v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFu; /* 32-bit lanes: d0..d3, d4..d7 */
    *value = (v & 0xFFFFFFFFu) * 10000 + (v >> 32);
    return true;
}

/* Appends the digits at p to *w (wrapping past 19 digits; the caller
 * counts them), returns the end of the run. */
static inline const char *read_digits(const char *p, const char *end, uint64_t *w)
{
    uint64_t acc = *w, eight;
    while (end - p >= 8 && eight_digits(p, &eight)) {
        acc = acc * 100000000u + eight;
        p += 8;
    }
    while (p < end && is_digit(*p))
        acc = acc * 10 + (uint64_t)(*p++ - '0');
    *w = acc;
    return p;
}

static bool scan_decimal(const char *s, size_t len, decimal *d)
{
    const char *p = s, *end = s + len;
    d->negative = false;
    if (p < end && (*p == '+' || *p == '-')) d->negative = (*p++ == '-');

    uint64_t w = 0;
    const char *int_start = p;
    p = read_digits(p, end, &w);
    const char *int_end = p;
    const char *frac_start = p, *frac_end = p;
    if (p < end && *p == '.') {
        frac_start = ++p;
        p = read_digits(p, end, &w);
        frac_end = p;
    }
    size_t ndigits = (size_t)(int_end - int_start) + (size_t)(frac_end - frac_start);
    if (ndigits == 0) return false; /* "", "+", ".", "-.e5" */
    int64_t q = -(int64_t)(frac_end - frac_start);

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool exp_negative = false;
        if (p < end && (*p == '+' || *p == '-')) exp_negative = (*p++ == '-');
        if (p == end || !is_digit(*p)) return false;
        int64_t exp = 0;
        while (p < end && is_digit(*p)) {
            if (exp < EXPONENT_CLAMP) exp = exp * 10 + (*p - '0');
            p++;
        }
        q += exp_negative ? -exp : exp;
    }
    if (p != end) return false;

    d->truncated = false;
    if (ndigits > MAX_SIG_DIGITS) {
        /* Leading zeros (of the integer part, then of the fraction when the
         * integer part is all zeros) added nothing to w; the rest did. */
        size_t zeros = 0;
        const char *z = int_start;
        while (z < int_end && *z == '0')
            z++, zeros++;
        if (z == int_end) {
            z = frac_start;
            while (z < frac_end && *z == '0')
                z++, zeros++;
        }
        d->truncated = ndigits - zeros > MAX_SIG_DIGITS;
    }
    d->w = w;
    d->q = q;
    return true;
}

/* strtod/strtof on a NUL-terminated copy; the grammar is already checked. */
static int fallback_strtod(const char *s, size_t len, bool single, double *out_d, float *out_f)
{
    char stack[512];
    char *copy = len < sizeof stack ? stack : malloc(len + 1);
    if (copy == NULL) return HPCML_EINTERNAL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    char *endp = NULL;
    int rc = HPCML_OK;
    if (single) {
        float v = strtof(copy, &endp);
        if (isinf(v))
            rc = HPCML_EDATA;
        else
            *out_f = v;
    } else {
        double v = strtod(copy, &endp);
        if (isinf(v))
            rc = HPCML_EDATA;
        else
            *out_d = v;
    }
    if (endp != copy + len) rc = HPCML_EDATA;
    if (copy != stack) free(copy);
    return rc;
}

/* ---- public --------------------------------------------------------------- */

/* Exact powers of ten: 10^22 < 2^53 * 2^22 is the largest exact double power
 * usable by Clinger's argument (5^22 < 2^53). */
static const double POW10_DOUBLE[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const float POW10_FLOAT[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                      1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* Clinger's fast path is exact only when each operation rounds once, in the
 * type's own precision (SSE2 and every 64-bit ABI; not the x87 stack). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define CLINGER_OK 1
#else
#define CLINGER_OK 0
#endif

/* The common ETL number, "[-]digits[.digits]" with at most 19 digits and a
 * value that Clinger's path converts exactly: one pass, no exponent, no
 * grammar corner cases (everything else goes the general way). */
static inline bool plain_decimal(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len, *dot = NULL;
    bool negative = p < end && *p == '-';
    p += negative;
    if (end - p > 20) return false;
    uint64_t w = 0;
    int digits = 0;
    for (; p < end; p++) {
        unsigned dg = (unsigned)(unsigned char)*p - '0';
        if (dg < 10) {
            w = w * 10 + dg;
            digits++;
        } else if (*p == '.' && !dot) {
            dot = p;
        } else {
            return false;
        }
    }
    int frac = dot ? (int)(end - dot - 1) : 0;
    if (digits == 0 || digits > MAX_SIG_DIGITS || w > (UINT64_C(1) << 53) || frac > 22)
        return false;
    double v = (double)w / POW10_DOUBLE[frac];
    *out = negative ? -v : v;
    return true;
}

int parse_double(const char *s, size_t len, double *out)
{
    if (CLINGER_OK && plain_decimal(s, len, out)) return HPCML_OK;
    decimal d;
    if (!scan_decimal(s, len, &d)) return HPCML_EDATA;
    if (!d.truncated) {
        if (CLINGER_OK && d.w <= (UINT64_C(1) << 53) && d.q >= -22 && d.q <= 22) {
            double v = (double)d.w;
            v = d.q < 0 ? v / POW10_DOUBLE[-d.q] : v * POW10_DOUBLE[d.q];
            *out = d.negative ? -v : v;
            return HPCML_OK;
        }
        uint64_t bits;
        if (eisel_lemire(d.w, d.q, &FORMAT_DOUBLE, &bits)) {
            if ((bits >> 52) == 0x7FF) return HPCML_EDATA; /* overflow */
            if (d.negative) bits |= UINT64_C(1) << 63;
            memcpy(out, &bits, sizeof *out);
            return HPCML_OK;
        }
    }
    return fallback_strtod(s, len, false, out, NULL);
}

int parse_float(const char *s, size_t len, float *out)
{
    decimal d;
    if (!scan_decimal(s, len, &d)) return HPCML_EDATA;
    if (!d.truncated) {
        if (CLINGER_OK && d.w <= (UINT64_C(1) << 24) && d.q >= -10 && d.q <= 10) {
            float v = (float)d.w;
            v = d.q < 0 ? v / POW10_FLOAT[-d.q] : v * POW10_FLOAT[d.q];
            *out = d.negative ? -v : v;
            return HPCML_OK;
        }
        uint64_t bits;
        if (eisel_lemire(d.w, d.q, &FORMAT_FLOAT, &bits)) {
            if ((bits >> 23) == 0xFF) return HPCML_EDATA;
            uint32_t b32 = (uint32_t)bits;
            if (d.negative) b32 |= UINT32_C(1) << 31;
            memcpy(out, &b32, sizeof *out);
            return HPCML_OK;
        }
    }
    return fallback_strtod(s, len, true, NULL, out);
}

int parse_int64(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    bool negative = false;
    if (p < end && (*p == '+' || *p == '-')) negative = (*p++ == '-');
    if (p == end) return HPCML_EDATA;
    /* Accumulate the magnitude unsigned; -(2^63) is the one value whose
     * magnitude is not an int64_t. */
    uint64_t limit = negative ? (UINT64_C(1) << 63) : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (!is_digit(*p)) return HPCML_EDATA;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (limit - digit) / 10) return HPCML_EDATA;
        v = v * 10 + digit;
    }
    if (negative)
        *out = v == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return HPCML_OK;
}

/* test_parse_number.c — parse_double/parse_float must equal strtod/strtof bit
 * for bit on a few million inputs of every shape the ETL may meet, reject what
 * the grammar forbids, and parse_int64 must catch overflow. Ends by printing
 * the speed of parse_double against strtod (informative, not asserted).
 *
 * HPCML_PARSE_TEST_SCALE=k multiplies the random-case counts (default 1). */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "core/clock.h"
#include "core/status.h"
#include "etl/parse_number.h"

/* ---- helpers -------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t next_u64(void)
{ /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n)
{
    return next_u64() % n;
}

static uint64_t dbits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}
static double from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}
static uint32_t fbits(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static long compared, mismatches;

/* Compares parse_double and parse_float on s with strtod and strtof. */
static void compare(const char *s)
{
    size_t len = strlen(s);
    compared++;
    char *end;
    double ref = strtod(s, &end);
    double got = 0;
    int rc = parse_double(s, len, &got);
    bool ok = *end == '\0' &&
              (isinf(ref) ? rc == HPCML_EDATA : rc == HPCML_OK && dbits(got) == dbits(ref));
    if (!ok && mismatches++ < 20)
        fprintf(stderr,
                "parse_double(\"%s\"): rc %d, %.17g (%016" PRIx64 "), strtod %.17g (%016" PRIx64
                ")\n",
                s, rc, got, dbits(got), ref, dbits(ref));
    CHECK(ok);

    float fref = strtof(s, &end);
    float fgot = 0;
    rc = parse_float(s, len, &fgot);
    ok = *end == '\0' &&
         (isinf(fref) ? rc == HPCML_EDATA : rc == HPCML_OK && fbits(fgot) == fbits(fref));
    if (!ok && mismatches++ < 20)
        fprintf(stderr, "parse_float(\"%s\"): rc %d, %.9g (%08x), strtof %.9g (%08x)\n", s, rc,
                (double)fgot, fbits(fgot), (double)fref, fbits(fref));
    CHECK(ok);
}

static double random_finite_double(void)
{
    for (;;) {
        double x = from_bits(next_u64());
        if (isfinite(x)) return x;
    }
}

static void random_digits(char *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (char)('0' + below(10));
    out[n] = '\0';
}

/* ---- fixed cases ---------------------------------------------------------- */

static void test_grammar(void)
{
    static const char *good[] = {
        "0",
        "-0",
        "+0",
        "1",
        "-1",
        "+1",
        "0.5",
        ".5",
        "5.",
        "-.5e-3",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "00012",
        "0.000",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567890",
        "3.14159",
        "1e308",
        "1.7976931348623157e308",
        "2.2250738585072014e-308",
        "4.9406564584124654e-324",
        "2.4703282292062328e-324",
        "2.4703282292062327e-324",
        "1e-400",
        "0e999999999",
        "1e-99999999999999999999",
        "9007199254740993",
        "9007199254740993.0000000000000000000000000001",
        "0.1",
        "0.2",
        "0.3",
        "77516",
        "-2174",
        "123.456e-10",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "7.2057594037927933e16",
        "3.4028235e38",
        "3.4028236e38",
        "1.17549435e-38",
        "1e-45",
        "7e-46",
        "8.589973e9",
        "1.0000000596046448",
        "1.00000005960464477539062499",
        "340282356779733661637539395458142568447",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
        "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
        "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
        "342711559699508093042880177904174497791.9999999999",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        compare(good[i]);

    /* Long runs of leading zeros with large exponents: the exponent must not
     * saturate before the zeros are paid for. */
    char zeros[1200];
    int k = snprintf(zeros, sizeof zeros, "0.");
    for (int i = 0; i < 1000; i++)
        zeros[k++] = '0';
    static const char *const tails[] = {"1e400", "15e1002", "1e99999999999",
                                        "1e-5",  "7e1308",  "7e1309"};
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        snprintf(zeros + k, sizeof zeros - (size_t)k, "%s", tails[i]);
        compare(zeros);
    }

    static const char *bad[] = {
        "",
        "+",
        "-",
        ".",
        "+.",
        "-.",
        "e5",
        ".e5",
        "1e",
        "1e+",
        "1e-",
        "1.5e",
        " 1",
        "1 ",
        "1,5",
        "1.2.3",
        "1e5.5",
        "--1",
        "+-1",
        "nan",
        "NaN",
        "-nan",
        "inf",
        "-inf",
        "Infinity",
        "INF",
        "0x10",
        "0x1p3",
        "1f",
        "1d",
        "1_000",
        "١",
        "1e400",
        "-1e400",
        "1.8e308",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
        "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
        "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
        "342711559699508093042880177904174497792",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double d = 42;
        int rc = parse_double(bad[i], strlen(bad[i]), &d);
        CHECK_MSG(rc == HPCML_EDATA && d == 42, "parse_double(\"%s\") accepted: %g", bad[i], d);
    }
    float f = 0;
    CHECK_EQ_INT(parse_float("3.5e38", 6, &f), HPCML_EDATA);
    CHECK_EQ_INT(parse_float("1e39", 4, &f), HPCML_EDATA);

    /* The span, not the NUL, ends the number. */
    double d = 0;
    CHECK_EQ_INT(parse_double("12345", 3, &d), HPCML_OK);
    CHECK(d == 123);
    CHECK_EQ_INT(parse_double("1e5x", 3, &d), HPCML_OK);
    CHECK(d == 1e5);
    CHECK_EQ_INT(parse_double("-0", 2, &d), HPCML_OK);
    CHECK(d == 0 && signbit(d));
}

static void test_int64(void)
{
    static const struct {
        const char *s;
        int rc;
        int64_t v;
    } cases[] = {
        {"0", HPCML_OK, 0},
        {"-0", HPCML_OK, 0},
        {"+7", HPCML_OK, 7},
        {"77516", HPCML_OK, 77516},
        {"-2174", HPCML_OK, -2174},
        {"000123", HPCML_OK, 123},
        {"9223372036854775807", HPCML_OK, INT64_MAX},
        {"-9223372036854775808", HPCML_OK, INT64_MIN},
        {"9223372036854775808", HPCML_EDATA, 0},
        {"-9223372036854775809", HPCML_EDATA, 0},
        {"18446744073709551616", HPCML_EDATA, 0},
        {"99999999999999999999999", HPCML_EDATA, 0},
        {"", HPCML_EDATA, 0},
        {"-", HPCML_EDATA, 0},
        {"+", HPCML_EDATA, 0},
        {"1.0", HPCML_EDATA, 0},
        {"1e3", HPCML_EDATA, 0},
        {" 1", HPCML_EDATA, 0},
        {"1 ", HPCML_EDATA, 0},
        {"0x10", HPCML_EDATA, 0},
        {"12a", HPCML_EDATA, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t v = -42;
        int rc = parse_int64(cases[i].s, strlen(cases[i].s), &v);
        CHECK_MSG(rc == cases[i].rc, "parse_int64(\"%s\") rc %d", cases[i].s, rc);
        if (cases[i].rc == HPCML_OK)
            CHECK_MSG(v == cases[i].v, "parse_int64(\"%s\") = %" PRId64, cases[i].s, v);
        else
            CHECK(v == -42);
    }
    /* Against strtoll on random lengths around the overflow edge. */
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        int n = 1 + (int)below(20);
        int k = 0;
        if (below(2)) buf[k++] = '-';
        random_digits(buf + k, n);
        errno = 0;
        char *end;
        long long ref = strtoll(buf, &end, 10);
        bool overflow = errno == ERANGE;
        int64_t v = 0;
        int rc = parse_int64(buf, strlen(buf), &v);
        CHECK_MSG(overflow ? rc == HPCML_EDATA : rc == HPCML_OK && v == ref, "parse_int64(\"%s\")",
                  buf);
    }
}

/* ---- random comparisons against strtod ------------------------------------ */

static void test_random_formats(long n)
{
    char buf[512];
    static const char *formats[] = {"%.17g", "%.6f", "%g", "%.15g", "%.16e", "%.3e", "%.9g"};
    for (long i = 0; i < n; i++) {
        double x = random_finite_double();
        const char *fmt = formats[i % 7];
        if (fmt[2] == '6' && fmt[3] == 'f') {
            /* %.6f of 1e300 has 300 digits: keep fixed notation to ETL-like magnitudes */
            x = (double)(next_u64() >> (12 + below(52))) + (double)(next_u64() >> 11) * 0x1p-53;
            if (below(2)) x = -x;
        }
        snprintf(buf, sizeof buf, fmt, x);
        compare(buf);
    }
}

static void test_random_digit_strings(long n)
{
    char buf[128];
    for (long i = 0; i < n; i++) {
        int nd = 1 + (int)below(19);
        char digits[32];
        random_digits(digits, nd);
        int k = 0;
        if (below(4) == 0) buf[k++] = '-';
        int dot = (int)below((uint64_t)nd + 1);
        memcpy(buf + k, digits, (size_t)dot);
        k += dot;
        if (dot < nd || below(2)) buf[k++] = '.';
        memcpy(buf + k, digits + dot, (size_t)(nd - dot));
        k += nd - dot;
        if (k > 0 && buf[k - 1] == '.' && dot == 0) buf[k++] = '0';
        int exp_kind = (int)below(4);
        if (exp_kind == 1)
            k += snprintf(buf + k, 16, "e%d", (int)below(61) - 30);
        else if (exp_kind >= 2)
            k += snprintf(buf + k, 16, "e%d", (int)below(700) - 360);
        buf[k] = '\0';
        compare(buf);
    }
}

/* The Eisel-Lemire step alone, without the Clinger fast path in front. */
static void test_eisel_lemire_direct(long n, long *undecided)
{
    char buf[64];
    *undecided = 0;
    for (long i = 0; i < n; i++) {
        int nbits = 1 + (int)below(64);
        uint64_t w = next_u64() >> (64 - nbits);
        int64_t q = (int64_t)below(700) - 360;
        if (i % 3 == 0) q = (int64_t)below(60) - 30; /* the tie-prone range */
        snprintf(buf, sizeof buf, "%" PRIu64 "e%" PRId64, w, q);
        double ref = strtod(buf, NULL);
        float fref = strtof(buf, NULL);
        double got;
        float fgot;
        if (parse_eisel_lemire_double(w, q, false, &got)) {
            CHECK_MSG(dbits(got) == dbits(ref), "EL %s: %.17g vs strtod %.17g", buf, got, ref);
        } else {
            (*undecided)++;
        }
        if (parse_eisel_lemire_float(w, q, false, &fgot)) {
            CHECK_MSG(fbits(fgot) == fbits(fref), "EL float %s: %.9g vs strtof %.9g", buf,
                      (double)fgot, (double)fref);
        } else {
            (*undecided)++;
        }
    }
}

/* Exact ties: the value lies halfway between two doubles (or floats), so
 * only round-half-to-even picks the answer. */
static void test_ties(long n)
{
    char buf[128];
    for (long i = 0; i < n; i++) {
        switch (i % 6) {
        case 0: { /* odd 54-bit integer: halfway between neighbours 2 apart */
            uint64_t m = (UINT64_C(1) << 53) | (next_u64() >> 11) | 1;
            snprintf(buf, sizeof buf, "%" PRIu64, m);
            break;
        }
        case 1: { /* integer with a tie at a higher power of two, maybe times 10 */
            int sh = (int)below(11);
            uint64_t m = ((UINT64_C(1) << 53) | (next_u64() >> 11)) | 1;
            uint64_t v = m << sh;
            if (v >> sh != m) v = m;
            snprintf(buf, sizeof buf, "%" PRIu64 "%s", v, below(2) ? "e0" : "");
            break;
        }
        case 2: { /* n + 1/2 with n in [2^52, 2^53): spacing 1 */
            uint64_t m = (UINT64_C(1) << 52) | (next_u64() >> 12);
            snprintf(buf, sizeof buf, "%" PRIu64 ".5", m);
            break;
        }
        case 3: { /* n + 1/4 or 3/4 with n in [2^51, 2^52): spacing 1/2 */
            uint64_t m = (UINT64_C(1) << 51) | (next_u64() >> 13);
            snprintf(buf, sizeof buf, "%" PRIu64 "%s", m, below(2) ? ".25" : ".75");
            break;
        }
        case 4: { /* float ties: odd 25-bit integers, scaled by 10^k as text */
            uint64_t m = (UINT64_C(1) << 24) | (next_u64() >> 40) | 1;
            int k = (int)below(10);
            snprintf(buf, sizeof buf, "%" PRIu64 "e%d", m, k);
            break;
        }
        default: { /* float ties below one: (2m+1) / 2^k written exactly */
            uint64_t m = (UINT64_C(1) << 24) | (next_u64() >> 40) | 1;
            int k = 25 + (int)below(14);
            snprintf(buf, sizeof buf, "%.60g", ldexp((double)m, -k));
            break;
        }
        }
        compare(buf);
    }
}

static void test_edges(long n)
{
    char buf[512];
    const double specials[] = {
        0.0,          -0.0, DBL_MIN, DBL_MAX, DBL_TRUE_MIN, -DBL_MAX,           FLT_MAX, FLT_MIN,
        FLT_TRUE_MIN, 1.0,  0.1,     1e22,    1e23,         9007199254740992.0, 5e-324};
    static const char *fmts[] = {"%.17g", "%.16g", "%.20g", "%.25e", "%a"};
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
        for (int f = 0; f < 4; f++) {
            snprintf(buf, sizeof buf, fmts[f], specials[i]);
            compare(buf);
            double up = nextafter(specials[i], INFINITY), down = nextafter(specials[i], -INFINITY);
            if (isfinite(up)) snprintf(buf, sizeof buf, fmts[f], up), compare(buf);
            if (isfinite(down)) snprintf(buf, sizeof buf, fmts[f], down), compare(buf);
        }
    }
    for (long i = 0; i < n; i++) {
        /* subnormals and the smallest normals, doubles then floats */
        uint64_t b = next_u64() >> (12 + below(52));
        if (i % 4 == 3) b |= UINT64_C(1) << 52;
        double x = from_bits(b);
        snprintf(buf, sizeof buf, i % 2 ? "%.17g" : "%.6g", x);
        compare(buf);
        uint32_t fb = (uint32_t)(next_u64() >> (41 + below(23)));
        float fx;
        memcpy(&fx, &fb, sizeof fx);
        snprintf(buf, sizeof buf, i % 2 ? "%.9g" : "%.4g", (double)fx);
        compare(buf);
        /* near overflow */
        x = from_bits((UINT64_C(0x7FE) << 52) | (next_u64() >> 12));
        snprintf(buf, sizeof buf, "%.*g", 15 + (int)below(4), x);
        compare(buf);
    }
}

static void test_long_mantissas(long n)
{
    char buf[512];
    for (long i = 0; i < n; i++) {
        int k = 0;
        int nd = 20 + (int)below(60);
        random_digits(buf, nd);
        k = nd;
        if (below(2)) { /* a dot somewhere */
            int dot = (int)below((uint64_t)nd);
            memmove(buf + dot + 1, buf + dot, (size_t)(nd - dot));
            buf[dot] = '.';
            k++;
        }
        k += snprintf(buf + k, 16, "e%d", (int)below(680) - 360);
        buf[k] = '\0';
        compare(buf);
    }
}

/* ---- speed ---------------------------------------------------------------- */

static void bench(long n)
{
    /* ETL-like text: a third %.17g round trips, a third %.6f fixed, a third integers. */
    char *text = malloc((size_t)n * 32);
    size_t *off = malloc((size_t)(n + 1) * sizeof *off);
    if (!text || !off) {
        CHECK(!"out of memory");
        free(text);
        free(off);
        return;
    }
    size_t pos = 0;
    for (long i = 0; i < n; i++) {
        off[i] = pos;
        double x = (double)(int64_t)(next_u64() >> 40) / 1000.0 - 5000.0;
        switch (i % 3) {
        case 0:
            pos += (size_t)snprintf(text + pos, 32, "%.17g",
                                    ldexp((double)(next_u64() >> 11), (int)below(41) - 73));
            break;
        case 1: pos += (size_t)snprintf(text + pos, 32, "%.6f", x); break;
        default:
            pos += (size_t)snprintf(text + pos, 32, "%" PRId64, (int64_t)(next_u64() >> 44));
            break;
        }
        text[pos++] = '\0';
    }
    off[n] = pos;
    double sum_fast = 0, sum_ref = 0;
    double best_fast = 1e9, best_ref = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = hpcml_mono_s();
        for (long i = 0; i < n; i++) {
            double v = 0;
            parse_double(text + off[i], off[i + 1] - off[i] - 1, &v);
            sum_fast += v;
        }
        double t1 = hpcml_mono_s();
        for (long i = 0; i < n; i++)
            sum_ref += strtod(text + off[i], NULL);
        double t2 = hpcml_mono_s();
        if (t1 - t0 < best_fast) best_fast = t1 - t0;
        if (t2 - t1 < best_ref) best_ref = t2 - t1;
    }
    CHECK(sum_fast == sum_ref || (isnan(sum_fast) && isnan(sum_ref)) || (isinf(sum_ref)));
    printf("speed: parse_double %.1f ns/value, strtod %.1f ns/value, speedup %.2fx "
           "(%ld ETL-like values: %%.17g, %%.6f, integers; best of 3)\n",
           1e9 * best_fast / (double)n, 1e9 * best_ref / (double)n, best_ref / best_fast, n);
    free(text);
    free(off);
}

int main(void)
{
    long scale = 1;
    const char *env = getenv("HPCML_PARSE_TEST_SCALE");
    if (env && atol(env) > 0) scale = atol(env);

    test_grammar();
    test_int64();
    test_random_formats(700000 * scale);
    test_random_digit_strings(500000 * scale);
    long undecided = 0;
    long n_el = 500000 * scale;
    test_eisel_lemire_direct(n_el, &undecided);
    test_ties(300000 * scale);
    test_edges(100000 * scale);
    test_long_mantissas(30000 * scale);
    printf("compared %ld strings with strtod and strtof (%ld mismatches); Eisel-Lemire alone "
           "left %ld of %ld (w, q) pairs to the fallback\n",
           compared, mismatches, undecided, 2 * n_el);
    bench(1000000);
    CHECK_DONE();
}

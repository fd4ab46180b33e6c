/* test_rng.c — Philox4x32-10 against Random123's known answers, the lane
 * map's purity, and statistical sanity of the derived draws. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/rng.h"

/* Random123 tests/kat_vectors (DEShawResearch/random123, commit 9545ff64),
 * the three "philox4x32 10" lines: counter[4] key[2] -> output[4]. */
static const struct {
    uint32_t ctr[4], key[2], out[4];
} kat[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, /* digits of pi */
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

static void test_known_answers(void)
{
    for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
        rng_u32x4 c = {{kat[t].ctr[0], kat[t].ctr[1], kat[t].ctr[2], kat[t].ctr[3]}};
        rng_u32x4 r = philox4x32_10(c, kat[t].key);
        for (int w = 0; w < 4; w++)
            CHECK_MSG(r.v[w] == kat[t].out[w], "vector %zu word %d: %08x != %08x", t, w, r.v[w],
                      kat[t].out[w]);
    }
    /* rng_block is the same function with the documented counter and key. */
    rng_u32x4 b = rng_block(0x299f31d0a4093822ull, 0x13198a2e, 0x85a308d3243f6a88ull, 0x03707344);
    CHECK_EQ_INT(b.v[0], 0xd16cfe09);
    CHECK_EQ_INT(b.v[3], 0x24126ea1);
}

static void test_conversions(void)
{
    rng_u32x4 zero = {{0, 0, 0, 0}}, ones = {{~0u, ~0u, ~0u, ~0u}};
    CHECK(rng_u01_from(zero, 0) == 0.0);
    CHECK(rng_u01_from(ones, 1) < 1.0);
    CHECK(rng_u01_from(ones, 1) == 1.0 - 0x1.0p-53);
    CHECK(rng_u01f_from_word(0) == 0.0f);
    CHECK(rng_u01f_from_word(~0u) < 1.0f);
}

static void test_purity(void)
{
    /* A draw depends only on its coordinates, not on what was drawn before. */
    double a = rng_normal(7, 3, 1000, 5);
    for (uint32_t j = 0; j < 10; j++)
        (void)rng_normal(7, 3, 1000, j);
    CHECK(rng_normal(7, 3, 1000, 5) == a);
    CHECK(rng_uniform(7, 3, 1000, 5) != rng_uniform(8, 3, 1000, 5));
    CHECK(rng_uniform(7, 3, 1000, 5) != rng_uniform(7, 4, 1000, 5));
    CHECK(rng_uniform(7, 3, 1000, 5) != rng_uniform(7, 3, 1001, 5));
    /* Both Box-Muller halves are used and differ. */
    CHECK(rng_normal(7, 3, 1000, 4) != rng_normal(7, 3, 1000, 5));
    /* The sequential generator is deterministic and its normals pair up. */
    rng_seq s1, s2;
    rng_seq_init(&s1, 9, 1, 42);
    rng_seq_init(&s2, 9, 1, 42);
    int same = 1;
    for (int k = 0; k < 100; k++) {
        double x = (k % 3 == 0) ? rng_seq_normal(&s1) : rng_seq_u01(&s1);
        double y = (k % 3 == 0) ? rng_seq_normal(&s2) : rng_seq_u01(&s2);
        same &= x == y;
    }
    CHECK(same);
    rng_seq_init(&s1, 9, 1, 42);
    double n0 = rng_seq_normal(&s1), n1 = rng_seq_normal(&s1);
    CHECK(n0 != n1);
    /* rng_below stays in range and hits the edges. */
    int in_range = 1, lo = 0, hi = 0;
    for (uint32_t j = 0; j < 2000; j++) {
        uint64_t v = rng_below(1, 2, 3, j, 7);
        in_range &= v < 7;
        lo |= v == 0;
        hi |= v == 6;
    }
    CHECK(in_range && lo && hi);
    CHECK(rng_below(1, 2, 3, 0, 1) == 0);
    uint64_t big = (1ull << 63) + 12345;
    CHECK(rng_below(1, 2, 3, 9, big) < big);
    /* Hashes. */
    CHECK(rng_mix64(0) != 0);
    CHECK(rng_mix64(1) != rng_mix64(2));
    CHECK(rng_hash_bytes("abc", 3, 0) == rng_hash_bytes("abc", 3, 0));
    CHECK(rng_hash_bytes("abc", 3, 0) != rng_hash_bytes("abd", 3, 0));
    CHECK(rng_hash_bytes("abc", 3, 0) != rng_hash_bytes("abc", 3, 1));
}

static void test_uniform_moments(void)
{
    const int n = 1000000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(123, RNG_STREAM_SPLIT, (uint64_t)i, 0);
        sum += u;
        sum2 += u * u;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    /* Standard errors: 0.289/sqrt(n) = 2.9e-4 for the mean, ~9e-5 for the variance. */
    CHECK_NEAR(mean, 0.5, 1.5e-3);
    CHECK_NEAR(var, 1.0 / 12.0, 5e-4);
}

static void test_normal_moments(void)
{
    const int n = 1000000;
    double sum = 0, sum2 = 0, sum4 = 0;
    int tail = 0;
    for (int i = 0; i < n / 2; i++) {
        for (uint32_t j = 0; j < 2; j++) {
            double z = rng_normal(5, RNG_STREAM_INIT, (uint64_t)i, j);
            sum += z;
            sum2 += z * z;
            sum4 += z * z * z * z;
            tail += fabs(z) > 3.0;
        }
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    CHECK_NEAR(mean, 0.0, 5e-3);
    CHECK_NEAR(var, 1.0, 5e-3);
    CHECK_NEAR(sum4 / n, 3.0, 0.05); /* kurtosis: a check on the tails' shape */
    CHECK_NEAR((double)tail / n, 0.0026998, 4e-4);
    /* The sequential normals have the same moments. */
    rng_seq s;
    sum = sum2 = 0;
    for (int i = 0; i < n / 10; i++) {
        rng_seq_init(&s, 11, RNG_STREAM_GEN_ROW, (uint64_t)i);
        for (int k = 0; k < 10; k++) {
            double z = rng_seq_normal(&s);
            sum += z;
            sum2 += z * z;
        }
    }
    CHECK_NEAR(sum / n, 0.0, 5e-3);
    CHECK_NEAR(sum2 / n, 1.0, 5e-3);
}

/* Pearson chi-square of rng_below counts against uniform. */
static double below_chi2(uint64_t n_bins, int draws, uint32_t stream)
{
    long *count = calloc(n_bins, sizeof *count);
    for (int i = 0; i < draws; i++)
        count[rng_below(77, stream, (uint64_t)i, 0, n_bins)]++;
    double expect = (double)draws / (double)n_bins, chi2 = 0;
    for (uint64_t b = 0; b < n_bins; b++)
        chi2 += (count[b] - expect) * (count[b] - expect) / expect;
    free(count);
    return chi2;
}

static void test_below_chi_square(void)
{
    /* 99.9% quantiles: chi2(9) = 27.9, chi2(99) = 148.2, chi2(999) = 1143.9. */
    CHECK_MSG(below_chi2(10, 200000, RNG_STREAM_SWEEP) < 27.9, "10 bins");
    CHECK_MSG(below_chi2(100, 500000, RNG_STREAM_SWEEP) < 148.2, "100 bins");
    CHECK_MSG(below_chi2(1000, 1000000, RNG_STREAM_RESAMPLE) < 1143.9, "1000 bins");
}

static void test_stream_independence(void)
{
    /* Correlation of the same coordinates in two streams, and of adjacent
     * indices in one: both ~ N(0, 1/n), n = 1e6 -> |r| < 0.005 at 5 sigma. */
    const int n = 1000000;
    double sxy = 0, sxx = 0, syy = 0, sx = 0, sy = 0;
    double lag = 0;
    double prev = 0;
    for (int i = 0; i < n; i++) {
        double x = rng_uniform(2024, RNG_STREAM_GEN_ROW, (uint64_t)i, 0) - 0.5;
        double y = rng_uniform(2024, RNG_STREAM_GEN_DEFECT, (uint64_t)i, 0) - 0.5;
        sx += x;
        sy += y;
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
        lag += x * prev;
        prev = x;
    }
    double cov = sxy / n - (sx / n) * (sy / n);
    double r = cov / sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    CHECK_NEAR(r, 0.0, 0.005);
    CHECK_NEAR(lag / n / (1.0 / 12.0), 0.0, 0.005);
    /* Uniform and normal draws of one (seed, stream, index) use different
     * blocks (lane regions), so they are not functions of each other. */
    double sun = 0;
    for (int i = 0; i < n / 10; i++)
        sun += (rng_uniform(1, 1, (uint64_t)i, 0) - 0.5) * rng_normal(1, 1, (uint64_t)i, 0);
    CHECK_NEAR(sun / (n / 10) / sqrt(1.0 / 12.0), 0.0, 0.016);
}

int main(void)
{
    test_known_answers();
    test_conversions();
    test_purity();
    test_uniform_moments();
    test_normal_moments();
    test_below_chi_square();
    test_stream_independence();
    CHECK_DONE();
}

/* test_etl_stats.c — the ETL's exact sums and radix selection, without MPI.
 *
 * The property that matters: cutting the same values into any number of
 * parts, summing each part and merging the parts in any order gives the
 * same bits, and the value is the correctly rounded exact sum. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "etl/etl_stats.h"

static double value(uint64_t i)
{
    /* Wide dynamic range, both signs, some exact cancellations. */
    double u = rng_uniform(1, 99, i, 0), e = rng_uniform(1, 99, i, 1);
    double x = (u - 0.5) * pow(10.0, floor(e * 40.0) - 20.0);
    return (i % 97 == 0) ? 1e300 * (u < 0.5 ? -1 : 1) : x;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_xsum_partition_independence(void)
{
    enum { N = 20000 };
    static double x[N];
    for (int i = 0; i < N; i++)
        x[i] = value((uint64_t)i);
    etl_xsum whole;
    etl_xsum_init(&whole);
    for (int i = 0; i < N; i++)
        etl_xsum_add(&whole, x[i]);
    double ref = etl_xsum_value(&whole);
    for (int parts = 2; parts <= 7; parts++) {
        etl_xsum acc[7];
        for (int p = 0; p < parts; p++) {
            etl_xsum_init(&acc[p]);
            for (int i = p * N / parts; i < (p + 1) * N / parts; i++)
                etl_xsum_add(&acc[p], x[i]);
        }
        /* merge in reverse order, as a different reduction tree would */
        etl_xsum total;
        etl_xsum_init(&total);
        for (int p = parts - 1; p >= 0; p--)
            etl_xsum_merge(&total, &acc[p]);
        CHECK_MSG(same_bits(etl_xsum_value(&total), ref), "parts %d: %.17g vs %.17g", parts,
                  etl_xsum_value(&total), ref);
    }
    /* The 1e300 terms cancel pairwise only roughly; check against a
     * long-double sum of the small terms plus the exact big ones. */
    etl_xsum small;
    etl_xsum_init(&small);
    long double ld = 0;
    for (int i = 0; i < N; i++)
        if (fabs(x[i]) < 1e200) {
            etl_xsum_add(&small, x[i]);
            ld += x[i];
        }
    CHECK_NEAR(etl_xsum_value(&small), (double)ld, fabs((double)ld) * 1e-12 + 1e-30);
}

static void test_xsum_exact_cases(void)
{
    etl_xsum s;
    etl_xsum_init(&s);
    etl_xsum_add(&s, 1e16);
    etl_xsum_add(&s, 1.0);
    etl_xsum_add(&s, -1e16);
    CHECK(etl_xsum_value(&s) == 1.0); /* naive double summation gives 0 */

    etl_xsum_init(&s);
    for (int i = 0; i < 10; i++)
        etl_xsum_add(&s, 0.1);
    CHECK(same_bits(etl_xsum_value(&s), 1.0)); /* exact sum of ten 0.1 doubles rounds to 1.0 */

    etl_xsum_init(&s);
    etl_xsum_add(&s, 4.9e-324); /* smallest subnormal */
    etl_xsum_add(&s, 4.9e-324);
    CHECK(etl_xsum_value(&s) == 2 * 4.9e-324);

    etl_xsum_init(&s);
    etl_xsum_add(&s, -2.5);
    etl_xsum_add(&s, 0.25);
    CHECK(etl_xsum_value(&s) == -2.25);

    etl_xsum_init(&s);
    CHECK(etl_xsum_value(&s) == 0.0);

    /* add_times equals repeated adds */
    etl_xsum a, b;
    etl_xsum_init(&a);
    etl_xsum_init(&b);
    etl_xsum_add(&a, 3.3);
    etl_xsum_add(&b, 3.3);
    etl_xsum_add_times(&a, -0.7, 1000);
    for (int i = 0; i < 1000; i++)
        etl_xsum_add(&b, -0.7);
    CHECK(same_bits(etl_xsum_value(&a), etl_xsum_value(&b)));

    /* correct rounding: 1 + 2^-53 + 2^-80 rounds up to 1 + 2^-52 */
    etl_xsum_init(&s);
    etl_xsum_add(&s, 1.0);
    etl_xsum_add(&s, ldexp(1.0, -53));
    etl_xsum_add(&s, ldexp(1.0, -80));
    CHECK(etl_xsum_value(&s) == 1.0 + ldexp(1.0, -52));
    /* and the tie 1 + 2^-53 rounds to even (1.0) */
    etl_xsum_init(&s);
    etl_xsum_add(&s, 1.0);
    etl_xsum_add(&s, ldexp(1.0, -53));
    CHECK(etl_xsum_value(&s) == 1.0);
}

static void test_double_keys(void)
{
    double v[] = {-INFINITY, -1e300, -2.5, -1e-310, -0.0, 0.0, 1e-310, 1.0, 2.5, 1e300, INFINITY};
    int n = (int)(sizeof v / sizeof v[0]);
    for (int i = 0; i + 1 < n; i++)
        CHECK(etl_double_key(v[i]) < etl_double_key(v[i + 1]));
    for (int i = 0; i < n; i++)
        CHECK(same_bits(etl_key_double(etl_double_key(v[i])), v[i]));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Simulates P ranks: local histograms summed, as MPI_Allreduce would. */
static void test_select_simulated_ranks(void)
{
    enum { N = 5000, P = 3 };
    uint64_t all[N];
    for (int i = 0; i < N; i++)
        all[i] = etl_double_key(floor(value((uint64_t)i) * 3) / 3);
    uint64_t sorted[N];
    memcpy(sorted, all, sizeof all);
    qsort(sorted, N, sizeof *sorted, cmp_u64);
    uint64_t ks[] = {0, 1, N / 2 - 1, N / 2, N - 2, N - 1};
    for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
        etl_select_query rank[P];
        for (int r = 0; r < P; r++) {
            size_t lo = (size_t)r * N / P, hi = (size_t)(r + 1) * N / P;
            uint64_t *mine = malloc((hi - lo) * sizeof *mine);
            memcpy(mine, all + lo, (hi - lo) * sizeof *mine);
            etl_select_init(&rank[r], mine, hi - lo, ks[q]);
        }
        for (int round = 0; round < 8; round++) {
            int64_t sum[256] = {0}, h[256];
            for (int r = 0; r < P; r++) {
                etl_select_histogram(&rank[r], h);
                for (int b = 0; b < 256; b++)
                    sum[b] += h[b];
            }
            for (int r = 0; r < P; r++)
                etl_select_advance(&rank[r], sum);
        }
        for (int r = 0; r < P; r++) {
            CHECK_MSG(rank[r].result == sorted[ks[q]], "k=%llu rank %d", (unsigned long long)ks[q],
                      r);
            etl_select_free(&rank[r]);
        }
    }
}

static void test_sha256(void)
{
    const char *abc = "abc";
    sha256 s;
    char hex[65];
    sha256_init(&s);
    sha256_update(&s, abc, 3);
    sha256_final_hex(&s, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_init(&s);
    sha256_final_hex(&s, hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* 1,000,000 'a' in uneven pieces (FIPS 180-2 test vector) */
    static char a[1000];
    memset(a, 'a', sizeof a);
    sha256_init(&s);
    for (int i = 0; i < 1000; i++) {
        sha256_update(&s, a, 333);
        sha256_update(&s, a, 667);
    }
    sha256_final_hex(&s, hex);
    CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    test_xsum_partition_independence();
    test_xsum_exact_cases();
    test_double_keys();
    test_select_simulated_ranks();
    test_sha256();
    CHECK_DONE();
}

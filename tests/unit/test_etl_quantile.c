/* test_etl_quantile.c — the quantile transform's pure parts, without MPI:
 * Phi^-1 (AS241) against Phi from libm's erfc, the map's rules (levels,
 * ties, bounds, clipping, NaN), and the many-order-statistics selection
 * run by hand over a multiset cut into "ranks", against one sorted copy.
 * (The comparison with scikit-learn is tests/scripts/test_etl_quantile.sh.) */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "etl/etl_quantile.h"
#include "etl/etl_stats.h"

static double phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

static double pdf(double z)
{
    return exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

static void test_ppf(void)
{
    CHECK(etl_norm_ppf(0.5) == 0.0);
    CHECK(isinf(etl_norm_ppf(0.0)) && etl_norm_ppf(0.0) < 0);
    CHECK(isinf(etl_norm_ppf(1.0)) && etl_norm_ppf(1.0) > 0);
    CHECK(isnan(etl_norm_ppf(-0.1)) && isnan(etl_norm_ppf(1.5)) && isnan(etl_norm_ppf(NAN)));
    /* All three regions of AS241 (|q| <= 0.425, r <= 5, r > 5): the error
     * in z, measured as (Phi(z) - p) / phi(z) (libm's erfc is accurate to a
     * few ulp), is below 1e-14 (1 + |z|); AS241 claims about 1e-16. */
    double worst = 0.0;
    for (int i = 1; i < 4000; i++) {
        double p = i / 4000.0;
        double z = etl_norm_ppf(p);
        double dz = fabs(phi(z) - p) / pdf(z) / (1 + fabs(z));
        worst = dz > worst ? dz : worst;
        CHECK_NEAR(etl_norm_ppf(1.0 - p), -z, 1e-12 * (1 + fabs(z)));
    }
    for (int e = 3; e <= 300; e += 3) {
        double p = pow(10.0, -e);
        double z = etl_norm_ppf(p);
        double dz = fabs(phi(z) - p) / pdf(z) / (1 + fabs(z));
        worst = dz > worst ? dz : worst;
    }
    CHECK_MSG(worst < 1e-14, "worst error in z = %g (1 + |z|)", worst);
}

static void test_positions(void)
{
    CHECK_EQ_INT(etl_quantile_count(5, 1000), 5);
    CHECK_EQ_INT(etl_quantile_count(50000, 1000), 1000);
    int64_t lo;
    double w;
    /* 10 values, 4 quantiles: h = 9 k / 3 = 0, 3, 6, 9 */
    for (int k = 0; k < 4; k++) {
        etl_quantile_position(10, 4, k, &lo, &w);
        CHECK_EQ_INT(lo, 3 * k);
        CHECK(w == 0.0);
    }
    /* 4 values, 3 quantiles: h = 0, 1.5, 3 */
    etl_quantile_position(4, 3, 1, &lo, &w);
    CHECK_EQ_INT(lo, 1);
    CHECK(w == 0.5);
    etl_quantile_position(1, 1, 0, &lo, &w);
    CHECK_EQ_INT(lo, 0);
    CHECK(w == 0.0);
    CHECK(etl_quantile_lerp(2.0, 4.0, 0.0) == 2.0 && etl_quantile_lerp(2.0, 4.0, 1.0) == 4.0);
    CHECK(etl_quantile_lerp(2.0, 4.0, 0.25) == 2.5 && etl_quantile_lerp(2.0, 4.0, 0.75) == 3.5);
    CHECK(etl_quantile_level(5, 1) == 0.25 && etl_quantile_level(1, 0) == 0.0);
}

static void test_map(void)
{
    const double q[5] = {0.0, 1.0, 1.0, 1.0, 2.0}; /* p = 0, .25, .5, .75, 1 */
    double clip = etl_norm_ppf(1e-7 - 0x1p-52);
    CHECK(clip < -5.19 && clip > -5.2);
    /* a tie: u is the middle of its p range, (0.25 + 0.75) / 2 */
    CHECK(etl_quantile_normal(1.0, q, 5) == 0.0);
    /* between distinct quantiles: linear in p */
    CHECK_NEAR(etl_quantile_normal(1.5, q, 5), etl_norm_ppf(0.875), 1e-15);
    CHECK_NEAR(etl_quantile_normal(0.5, q, 5), etl_norm_ppf(0.125), 1e-15);
    /* at and beyond the ends (within 1e-7 counts as beyond): clipped */
    CHECK(etl_quantile_normal(0.0, q, 5) == clip);
    CHECK(etl_quantile_normal(-3.0, q, 5) == clip);
    CHECK(etl_quantile_normal(0.5e-7, q, 5) == clip);
    CHECK(etl_quantile_normal(2.0, q, 5) == -clip);
    CHECK(etl_quantile_normal(1e9, q, 5) == -clip);
    CHECK(etl_quantile_normal(2.0 - 0.5e-7, q, 5) == -clip);
    CHECK(isnan(etl_quantile_normal(NAN, q, 5)));
    CHECK(etl_quantile_normal(3.0, q, 0) == 0.0);
    /* one quantile (one train value): the lower bound wins, as in sklearn */
    const double one[1] = {4.0};
    CHECK(etl_quantile_normal(4.0, one, 1) == clip);
    /* non-decreasing in x */
    double prev = -INFINITY;
    int monotone = 1;
    for (int i = -100; i <= 300; i++) {
        double z = etl_quantile_normal(i / 100.0, q, 5);
        monotone &= z >= prev;
        prev = z;
    }
    CHECK(monotone);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double sample(uint64_t i)
{
    double u = rng_uniform(5, 7, i, 0);
    if (i % 3 == 0) return floor(u * 20.0) - 10.0; /* many ties, negatives, zero */
    return (u - 0.3) * pow(10.0, floor(rng_uniform(5, 7, i, 1) * 12.0) - 6.0);
}

static void test_sort_and_multiselect(void)
{
    enum { N = 30011, P = 3 };
    uint64_t *all = malloc(N * sizeof *all), *tmp = malloc(N * sizeof *tmp);
    for (int i = 0; i < N; i++)
        all[i] = etl_double_key(sample((uint64_t)i));
    /* the "ranks": a cut into unequal parts, each sorted locally */
    size_t cut[P + 1] = {0, 7001, 7001 + 19000, N};
    uint64_t *part[P];
    for (int r = 0; r < P; r++) {
        size_t n = cut[r + 1] - cut[r];
        part[r] = malloc((n + 1) * sizeof *part[r]);
        memcpy(part[r], all + cut[r], n * sizeof *all);
        etl_sort_keys(part[r], tmp, n);
        int sorted = 1;
        for (size_t i = 1; i < n; i++)
            sorted &= part[r][i - 1] <= part[r][i];
        CHECK(sorted);
    }
    qsort(all, N, sizeof *all, cmp_u64);
    uint64_t ranks[64];
    int nr = 0;
    for (int i = 0; i < 60; i++)
        ranks[nr++] = (uint64_t)i * (N - 1) / 59;
    ranks[nr++] = N - 1;
    /* ranks must be ascending and unique */
    int w = 1;
    for (int i = 1; i < nr; i++)
        if (ranks[i] != ranks[w - 1]) ranks[w++] = ranks[i];
    nr = w;
    etl_multiselect m[P];
    for (int r = 0; r < P; r++)
        CHECK(etl_multiselect_init(&m[r], part[r], cut[r + 1] - cut[r], ranks, nr) == 0);
    int64_t(*hist)[256] = malloc((size_t)nr * sizeof *hist);
    for (int round = 0; round < 8; round++) {
        /* what etl_multiselect_run does, with the Allreduce as a sum here */
        memset(hist, 0, (size_t)nr * sizeof *hist);
        int groups = 0;
        for (int q = 0; q < nr; q = etl_multiselect_group_end(&m[0], q), groups++)
            for (int r = 0; r < P; r++) {
                int64_t h[256];
                CHECK(etl_multiselect_group_end(&m[r], q) == etl_multiselect_group_end(&m[0], q));
                etl_multiselect_histogram(&m[r], q, h);
                for (int b = 0; b < 256; b++)
                    hist[groups][b] += h[b];
            }
        for (int r = 0; r < P; r++) {
            int g = 0;
            for (int q = 0; q < nr; g++) {
                int e = etl_multiselect_group_end(&m[r], q);
                for (int j = q; j < e; j++)
                    etl_multiselect_advance(&m[r], j, hist[g]);
                q = e;
            }
            etl_multiselect_next_round(&m[r]);
        }
    }
    for (int q = 0; q < nr; q++)
        for (int r = 0; r < P; r++)
            CHECK_MSG(m[r].prefix[q] == all[ranks[q]], "rank %llu: %.17g vs %.17g",
                      (unsigned long long)ranks[q], etl_key_double(m[r].prefix[q]),
                      etl_key_double(all[ranks[q]]));
    for (int r = 0; r < P; r++) {
        etl_multiselect_free(&m[r]);
        free(part[r]);
    }
    free(hist);
    free(all);
    free(tmp);
}

int main(void)
{
    test_ppf();
    test_positions();
    test_map();
    test_sort_and_multiselect();
    CHECK_DONE();
}

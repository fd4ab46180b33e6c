/* test_drift.c — the drift summaries and statistics (src/monitor/drift.h):
 * the bucket grid's bounds, merging, quantile error, KS / chi-square / PSI /
 * Jensen-Shannon against values worked out by hand or known in closed form.
 * The cross-check against scipy is tests/scripts/test_drift_scipy.sh. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/rng.h"
#include "monitor/drift.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* deterministic normal-ish values: sum of 4 uniforms, centred */
static double sample(uint64_t i, double shift, double scale)
{
    double s = 0;
    for (int k = 0; k < 4; k++) {
        uint64_t h = (i * 4 + (uint64_t)k + 1) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        s += (double)(h >> 11) / 9007199254740992.0;
    }
    return shift + scale * (s - 2.0) * 1.7320508075688772;
}

static void test_grid(void)
{
    double lg = log((1 + DRIFT_ALPHA) / (1 - DRIFT_ALPHA));
    CHECK_EQ_INT(DRIFT_SIDE_BUCKETS,
                 (int)ceil(log(DRIFT_MAX_MAGNITUDE / DRIFT_MIN_MAGNITUDE) / lg));
    CHECK_EQ_INT(drift_bucket_of(0.0), DRIFT_ZERO_BUCKET);
    CHECK_EQ_INT(drift_bucket_of(-0.0), DRIFT_ZERO_BUCKET);
    CHECK_EQ_INT(drift_bucket_of(5e-10), DRIFT_ZERO_BUCKET);
    CHECK_EQ_INT(drift_bucket_of(INFINITY), DRIFT_BUCKETS - 1);
    CHECK_EQ_INT(drift_bucket_of(-INFINITY), 0);
    CHECK_EQ_INT(drift_bucket_of(2e18), DRIFT_BUCKETS - 1);
    CHECK_EQ_INT(drift_bucket_of(-2e18), 0);
    CHECK_EQ_INT(drift_bucket_of(1e18), DRIFT_BUCKETS - 2);
    /* monotone, inside its bucket's edges, representative within alpha */
    int prev = -1, bad_order = 0, bad_edge = 0, bad_rel = 0;
    double worst = 0;
    for (double v = -3e17; v < 3e17;) {
        int b = drift_bucket_of(v);
        if (b < prev) bad_order++;
        prev = b;
        double lo = drift_bucket_lower(b), hi = drift_bucket_upper(b);
        double tol = 1e-12 * fabs(v);
        if (v < lo - tol || v > hi + tol) bad_edge++;
        if (b != DRIFT_ZERO_BUCKET) {
            double rel = fabs(drift_bucket_value(b) - v) / fabs(v);
            if (rel > worst) worst = rel;
            if (rel > DRIFT_ALPHA * (1 + 1e-9)) bad_rel++;
        } else if (fabs(v) > DRIFT_MIN_MAGNITUDE) {
            bad_edge++;
        }
        /* steps of 0.3 % in magnitude, crossing zero through the zero bucket */
        if (v < 0)
            v = v > -1e-10 ? 1e-10 : v / 1.003;
        else
            v *= 1.003;
    }
    CHECK_EQ_INT(bad_order, 0);
    CHECK_EQ_INT(bad_edge, 0);
    CHECK_EQ_INT(bad_rel, 0);
    CHECK(worst > 0.9 * DRIFT_ALPHA); /* the bound is tight, not vacuous */
    for (int b = 1; b < DRIFT_BUCKETS; b++)
        if (!(drift_bucket_lower(b) < drift_bucket_upper(b)) ||
            drift_bucket_lower(b) != drift_bucket_upper(b - 1)) {
            CHECK_MSG(0, "bucket %d edges", b);
            break;
        }
}

static void test_quantiles_and_merge(void)
{
    enum { N = 20000 };
    static double v[N];
    drift_numeric *all = malloc(sizeof *all), *part[3];
    for (int p = 0; p < 3; p++) {
        part[p] = malloc(sizeof *part[p]);
        drift_numeric_init(part[p]);
    }
    drift_numeric_init(all);
    for (int i = 0; i < N; i++) {
        v[i] = sample((uint64_t)i, 50.0, 20.0);
        drift_numeric_add(all, v[i]);
        drift_numeric_add(part[(i * 7) % 3], v[i]); /* any cut of the rows */
    }
    drift_numeric_add(all, NAN);
    drift_numeric_add_null(part[1]);
    drift_numeric *merged = malloc(sizeof *merged);
    drift_numeric_init(merged);
    for (int p = 2; p >= 0; p--)
        drift_numeric_merge(merged, part[p]);
    CHECK(memcmp(merged, all, sizeof *all) == 0);
    CHECK_EQ_INT(drift_numeric_count(all), N);
    CHECK_EQ_INT(all->nulls, 1);
    qsort(v, N, sizeof *v, cmp_double);
    int bad = 0;
    for (int k = 0; k <= 100; k++) {
        double q = k / 100.0;
        double exact = v[(int64_t)floor(q * (N - 1))];
        double got = drift_numeric_quantile(all, q);
        if (fabs(got - exact) > DRIFT_ALPHA * fabs(exact) * (1 + 1e-9) + DRIFT_MIN_MAGNITUDE) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    drift_numeric_init(merged);
    CHECK(isnan(drift_numeric_quantile(merged, 0.5)));
    free(all);
    free(merged);
    for (int p = 0; p < 3; p++)
        free(part[p]);
}

static void test_ks(void)
{
    /* integers 1..10 vs 5..14: each value in its own bucket, so D is exact: 0.4 */
    drift_numeric *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    drift_numeric_init(a);
    drift_numeric_init(b);
    for (int i = 1; i <= 10; i++) {
        drift_numeric_add(a, i);
        drift_numeric_add(b, i + 4);
    }
    CHECK_NEAR(drift_ks_statistic(a->counts, b->counts, DRIFT_BUCKETS), 0.4, 1e-15);
    CHECK_NEAR(drift_ks_statistic(a->counts, a->counts, DRIFT_BUCKETS), 0.0, 0);
    /* Kolmogorov distribution: Q(1) = 0.26999967..., Q(1.3581) ~ 0.05, both series agree */
    CHECK_NEAR(drift_kolmogorov_sf(1.0), 0.26999967167735456, 1e-13);
    CHECK_NEAR(drift_kolmogorov_sf(1.3580986393225505), 0.05, 1e-9);
    CHECK_NEAR(drift_kolmogorov_sf(1.18 - 1e-12), drift_kolmogorov_sf(1.18 + 1e-12), 5e-12);
    CHECK_NEAR(drift_kolmogorov_sf(0.2), 1.0 - 5.05e-13, 2e-15);
    CHECK(drift_kolmogorov_sf(0.5) > 0.96 && drift_kolmogorov_sf(0.5) < 0.97);
    CHECK_NEAR(drift_kolmogorov_sf(0.0), 1.0, 0);
    CHECK(drift_kolmogorov_sf(10.0) < 1e-80);
    /* p = Q((sqrt(en) + 0.12 + 0.11 / sqrt(en)) D), en = nm / (n + m) */
    CHECK_NEAR(drift_ks_pvalue(0.1, 1000, 1000),
               drift_kolmogorov_sf((sqrt(500.0) + 0.12 + 0.11 / sqrt(500.0)) * 0.1), 1e-15);
    CHECK(isnan(drift_ks_pvalue(0.1, 0, 10)));
    free(a);
    free(b);
}

static void test_gamma_chi2(void)
{
    double xs[] = {1e-3, 0.1, 0.7, 1.0, 2.5, 7.0, 30.0, 200.0};
    for (int i = 0; i < 8; i++) {
        double x = xs[i];
        CHECK_NEAR(drift_gamma_q(1.0, x), exp(-x), 1e-14 + 1e-13 * exp(-x));
        CHECK_NEAR(drift_gamma_q(0.5, x), erfc(sqrt(x)), 1e-14 + 1e-12 * erfc(sqrt(x)));
        CHECK_NEAR(drift_chi2_sf(x, 2.0), exp(-x / 2), 1e-14 + 1e-13 * exp(-x / 2));
        /* df = 4: Q(2, x/2) = e^(-x/2) (1 + x/2) */
        CHECK_NEAR(drift_chi2_sf(x, 4.0), exp(-x / 2) * (1 + x / 2), 1e-14);
    }
    CHECK_NEAR(drift_chi2_sf(3.841458820694124, 1.0), 0.05, 1e-12);
    CHECK_NEAR(drift_chi2_sf(0.0, 3.0), 1.0, 0);
    CHECK(drift_chi2_sf(1e4, 10.0) < 1e-300 || drift_chi2_sf(1e4, 10.0) == 0);
    /* large df: median of chi2(1000) is about 999.33 */
    CHECK_NEAR(drift_chi2_sf(999.3334, 1000.0), 0.5, 1e-4);
    int64_t obs[3] = {30, 50, 20};
    double exp_share[3] = {0.25, 0.5, 0.25};
    /* (30-25)^2/25 + 0 + (20-25)^2/25 = 2 */
    CHECK_NEAR(drift_chisquare_statistic(obs, exp_share, 3), 2.0, 1e-12);
}

static void test_psi_js(void)
{
    int64_t r[4] = {25, 25, 25, 25}, c[4] = {10, 20, 30, 40};
    double want = 0;
    double rs[4] = {.25, .25, .25, .25}, cs[4] = {.1, .2, .3, .4};
    for (int i = 0; i < 4; i++)
        want += (rs[i] - cs[i]) * log(rs[i] / cs[i]);
    CHECK_NEAR(drift_psi(r, c, 4), want, 1e-15);
    CHECK_NEAR(drift_psi(r, r, 4), 0.0, 0);
    /* zero shares: 1e-4, or smallest / 1e6 when the smallest share <= 1e-4 */
    int64_t z[3] = {0, 5, 5};
    double s[3];
    drift_shares_fill_zeros(z, 3, s);
    CHECK_NEAR(s[0], 1e-4, 0);
    int64_t z2[3] = {0, 1, 99999};
    drift_shares_fill_zeros(z2, 3, s);
    CHECK_NEAR(s[0], 1e-5 / 1e6, 1e-25);
    /* JS: identical 0, disjoint 1 (base 2) */
    int64_t d1[2] = {7, 0}, d2[2] = {0, 3};
    CHECK_NEAR(drift_jensenshannon(r, r, 4), 0.0, 1e-15);
    CHECK_NEAR(drift_jensenshannon(d1, d2, 2), 1.0, 1e-15);
    /* p = (1/2, 1/2), q = (1, 0): JS = 1/2 [1/2 log2(2/3) + 1/2 log2(2)] + 1/2 log2(4/3) */
    int64_t h1[2] = {1, 1}, h2[2] = {1, 0};
    double js = 0.5 * (0.5 * log2(0.5 / 0.75) + 0.5 * log2(0.5 / 0.25)) + 0.5 * log2(1 / 0.75);
    CHECK_NEAR(drift_jensenshannon(h1, h2, 2), sqrt(js), 1e-15);
}

static void fill(drift_numeric *s, int n, uint64_t seed, double shift, double scale)
{
    drift_numeric_init(s);
    for (int i = 0; i < n; i++)
        drift_numeric_add(s, sample(seed + (uint64_t)i, shift, scale));
}

static void test_compare(void)
{
    drift_options o;
    drift_options_default(&o);
    drift_numeric *ref = malloc(sizeof *ref), *same = malloc(sizeof *same),
                  *moved = malloc(sizeof *moved);
    fill(ref, 50000, 0, 10.0, 2.0);
    fill(same, 800, 1000000, 10.0, 2.0);
    fill(moved, 800, 2000000, 11.0, 2.0);
    drift_column_result r;
    /* small current sample: KS */
    CHECK_EQ_INT(drift_compare_numeric(ref, same, &o, &r), 0);
    CHECK_EQ_INT(r.method, DRIFT_METHOD_KS);
    CHECK(!r.drifted && r.p_value > 0.05);
    CHECK_EQ_INT(r.rows_current, 800);
    int64_t sr = 0, sc = 0;
    for (int j = 0; j < r.n_bins; j++) {
        sr += r.reference_counts[j];
        sc += r.current_counts[j];
        CHECK(r.edges[j] < r.edges[j + 1]);
    }
    CHECK_EQ_INT(sr, 50000);
    CHECK_EQ_INT(sc, 800);
    CHECK(r.n_bins >= 18 && r.n_bins <= 22);
    drift_column_result_free(&r);
    CHECK_EQ_INT(drift_compare_numeric(ref, moved, &o, &r), 0);
    CHECK(r.drifted && r.p_value < 1e-6 && r.ks > 0.15);
    drift_column_result_free(&r);
    /* large current sample: Jensen-Shannon distance, threshold 0.1 */
    fill(same, 20000, 3000000, 10.0, 2.0);
    fill(moved, 20000, 4000000, 12.0, 2.0);
    CHECK_EQ_INT(drift_compare_numeric(ref, same, &o, &r), 0);
    CHECK_EQ_INT(r.method, DRIFT_METHOD_JENSENSHANNON);
    CHECK(!r.drifted && r.statistic < 0.05 && isnan(r.p_value));
    drift_column_result_free(&r);
    CHECK_EQ_INT(drift_compare_numeric(ref, moved, &o, &r), 0);
    CHECK(r.drifted && r.statistic > 0.3 && r.psi > 1.0);
    drift_column_result_free(&r);
    /* values beyond the reference's range get bins of their own */
    fill(moved, 1000, 5000000, 100.0, 1.0);
    o.numeric_method = DRIFT_METHOD_PSI;
    CHECK_EQ_INT(drift_compare_numeric(ref, moved, &o, &r), 0);
    CHECK_EQ_INT(r.method, DRIFT_METHOD_PSI);
    CHECK_EQ_INT(r.current_counts[r.n_bins - 1], 1000);
    CHECK_EQ_INT(r.reference_counts[r.n_bins - 1], 0);
    CHECK(r.drifted && r.psi > 5);
    drift_column_result_free(&r);
    free(ref);
    free(same);
    free(moved);
}

static void test_categorical_and_sets(void)
{
    drift_options o;
    drift_options_default(&o);
    const char *names[4] = {"<unknown>", "a", "b", "c"};
    drift_set ref, cur;
    drift_set_init(&ref);
    CHECK_EQ_INT(drift_set_add_numeric(&ref, "x"), 0);
    CHECK_EQ_INT(drift_set_add_categorical(&ref, "cat", 4, names), 1);
    CHECK_EQ_INT(drift_set_find(&ref, "cat"), 1);
    CHECK_EQ_INT(drift_set_find(&ref, "nope"), -1);
    CHECK_EQ_INT(drift_set_clone_empty(&ref, &cur), 0);
    CHECK_EQ_STR(cur.cols[1].categories[2], "b");
    for (int i = 0; i < 3000; i++) {
        drift_numeric_add(ref.cols[0].num, sample((uint64_t)i, 0, 1));
        drift_categorical_add(&ref.cols[1].cat, 1 + i % 3);
    }
    for (int i = 0; i < 500; i++) {
        drift_numeric_add(cur.cols[0].num, i % 50 == 0 ? NAN : sample(9000 + (uint64_t)i, 0, 1));
        /* a fifth of the current rows are a value the reference never saw */
        drift_categorical_add(&cur.cols[1].cat, i % 5 == 0 ? 0 : 1 + i % 3);
    }
    drift_categorical_add(&cur.cols[1].cat, -1);
    drift_categorical_add(&cur.cols[1].cat, 99); /* beyond the vocabulary: unknown */
    CHECK_EQ_INT(cur.cols[1].cat.nulls, 1);
    CHECK_EQ_INT(cur.cols[1].cat.counts[0], 101);

    /* pack / unpack round trip, and the word count */
    int64_t nw = drift_set_n_words(&cur);
    CHECK_EQ_INT(nw, DRIFT_NUMERIC_WORDS + 5);
    int64_t *w = malloc((size_t)nw * sizeof *w);
    drift_set_pack(&cur, w);
    drift_set copy;
    CHECK_EQ_INT(drift_set_clone_empty(&cur, &copy), 0);
    drift_set_unpack(&copy, w);
    CHECK(memcmp(copy.cols[0].num, cur.cols[0].num, sizeof(drift_numeric)) == 0);
    CHECK(memcmp(copy.cols[1].cat.counts, cur.cols[1].cat.counts, 4 * sizeof(int64_t)) == 0);
    CHECK_EQ_INT(copy.cols[1].cat.nulls, 1);
    free(w);

    drift_result res;
    const char *bad = NULL;
    CHECK_EQ_INT(drift_compare(&ref, &cur, &o, &res, &bad), 0);
    CHECK_EQ_INT(res.n_cols, 2);
    drift_column_result *x = &res.cols[0], *c = &res.cols[1];
    CHECK(!x->drifted);
    CHECK_NEAR(x->null_share_current, 10.0 / 500.0, 1e-15);
    CHECK_EQ_INT(c->method, DRIFT_METHOD_CHISQUARE);
    CHECK(c->drifted && c->p_value < 1e-10);
    CHECK_EQ_INT((int)c->chisquare_df, 3);
    CHECK_EQ_STR(c->categories[1], "a");
    CHECK_EQ_INT(res.drifted_columns, 1);
    CHECK_EQ_INT(res.dataset_drift, 1); /* 1 of 2 >= 0.5 */
    drift_result_free(&res);
    o.drift_share = 0.6;
    CHECK_EQ_INT(drift_compare(&ref, &cur, &o, &res, &bad), 0);
    CHECK_EQ_INT(res.dataset_drift, 0);
    drift_result_free(&res);

    /* a column set that does not match is refused, naming the column */
    drift_set other;
    drift_set_init(&other);
    drift_set_add_numeric(&other, "x");
    drift_set_add_numeric(&other, "cat");
    CHECK_EQ_INT(drift_compare(&ref, &other, &o, &res, &bad), -1);
    CHECK(bad && !strcmp(bad, "cat"));
    drift_set_free(&other);
    drift_set_free(&copy);
    drift_set_free(&ref);
    drift_set_free(&cur);

    drift_method m;
    CHECK_EQ_INT(drift_method_parse("jensenshannon", &m), 0);
    CHECK_EQ_INT(m, DRIFT_METHOD_JENSENSHANNON);
    CHECK_EQ_STR(drift_method_name(DRIFT_METHOD_CHISQUARE), "chisquare");
    CHECK_EQ_INT(drift_method_parse("wasserstein", &m), -1);
}

int main(void)
{
    test_grid();
    test_quantiles_and_merge();
    test_ks();
    test_gamma_chi2();
    test_psi_js();
    test_compare();
    test_categorical_and_sets();
    CHECK_DONE();
}

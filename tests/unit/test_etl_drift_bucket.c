/* test_etl_drift_bucket.c — etl_drift_bucket (the table-driven bucket of the
 * ETL's drift reference) against drift_bucket_of, its definition, on every
 * bucket edge and the doubles around it, on random bit patterns over the
 * whole double range, and on the special values. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "etl/etl_drift.h"
#include "monitor/drift.h"

static double from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static uint64_t to_bits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static int64_t mismatches;

static void same(double v)
{
    int want = drift_bucket_of(v), got = etl_drift_bucket(v);
    if (want != got && mismatches++ < 10)
        CHECK_MSG(0, "v = %.17g (bits %016llx): drift_bucket_of %d, etl_drift_bucket %d", v,
                  (unsigned long long)to_bits(v), want, got);
}

/* Each bucket's edges (as drift.c computes them) and 8 doubles on each side,
 * both signs: where a table built from thresholds would go wrong. */
static void test_edges(void)
{
    for (int b = 0; b < DRIFT_BUCKETS; b++) {
        double e[2] = {drift_bucket_lower(b), drift_bucket_upper(b)};
        for (int s = 0; s < 2; s++) {
            uint64_t m = to_bits(fabs(e[s]));
            for (int64_t d = -8; d <= 8; d++) {
                double a = from_bits(m + (uint64_t)d);
                if (isnan(a)) continue;
                same(a);
                same(-a);
            }
        }
    }
    /* the thresholds themselves: the first double of each bucket */
    int prev = drift_bucket_of(0x1p-40);
    for (double a = 0x1p-40; a < 0x1p62; a *= 1.001) {
        int k = drift_bucket_of(a);
        if (k != prev) {
            /* bisect to the exact first double of bucket k (in (a / 1.001, a]) */
            uint64_t lo = to_bits(a / 1.001), hi = to_bits(a);
            while (hi - lo > 1) {
                uint64_t mid = lo + (hi - lo) / 2;
                if (drift_bucket_of(from_bits(mid)) >= k)
                    hi = mid;
                else
                    lo = mid;
            }
            uint64_t m = hi;
            for (int64_t d = -2; d <= 2; d++) {
                same(from_bits(m + (uint64_t)d));
                same(-from_bits(m + (uint64_t)d));
            }
            prev = k;
        }
    }
}

static void test_random_bits(void)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double v = from_bits(s);
        if (isnan(v)) continue;
        same(v);
        /* and values in the grid's range, where the buckets are */
        double w = ldexp(1.0 + (double)(s >> 11) * 0x1p-53, (int)(s % 95) - 32);
        same(s & 1 ? w : -w);
    }
}

static void test_special(void)
{
    const double v[] = {0.0,       -0.0,       INFINITY,  -INFINITY, 1e-9, -1e-9, 1e18,  -1e18,
                        DBL_MIN,   -DBL_MIN,   DBL_MAX,   -DBL_MAX,  1.0,  -1.0,  0x1p-31,
                        0x1p61,    -0x1p61,    0x1p-1074, 5e-324,    1e-300};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        same(v[i]);
}

int main(void)
{
    test_special();
    test_edges();
    test_random_bits();
    CHECK_MSG(mismatches == 0, "%lld mismatches", (long long)mismatches);
    CHECK_DONE();
}

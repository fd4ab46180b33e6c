/* etl_quantile.c — the quantile transform's math. See etl_quantile.h. */
#include "etl/etl_quantile.h"

#include <math.h>

#define BOUNDS_THRESHOLD ETL_QUANTILE_BOUNDS

int64_t etl_quantile_count(int64_t n_values, int64_t n_quantiles)
{
    return n_values < n_quantiles ? n_values : n_quantiles;
}

double etl_quantile_level(int64_t n_q, int64_t k)
{
    return n_q > 1 ? (double)k / (double)(n_q - 1) : 0.0;
}

void etl_quantile_position(int64_t n_values, int64_t n_q, int64_t k, int64_t *lo, double *w)
{
    /* numpy's virtual index for the linear method: (n - 1) p. */
    double h = (double)(n_values - 1) * etl_quantile_level(n_q, k);
    double f = floor(h);
    *lo = (int64_t)f;
    *w = h - f;
    if (*lo >= n_values - 1) {
        *lo = n_values - 1;
        *w = 0.0;
    }
}

double etl_quantile_lerp(double a, double b, double w)
{
    double d = b - a;
    return w >= 0.5 ? b - d * (1.0 - w) : a + d * w;
}

/* AS241's coefficients (Wichura 1988, PPND16), lowest degree first; each denominator's
 * constant term is 1. */
const double etl_as241_coef[6][8] = {
    /* central: q * A(r) / B(r), r = 0.180625 - q^2 */
    {3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
     1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
     3.3430575583588128105e4, 2.5090809287301226727e3},
    {1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
     2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
     5.2264952788528545610e3},
    /* intermediate tail: C(r) / D(r), r = sqrt(-log(min(p, 1 - p))) - 1.6 */
    {1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
     3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
     2.27238449892691845833e-2, 7.74545014278341407640e-4},
    {1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
     1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
     1.05075007164441684324e-9},
    /* far tail: E(r) / F(r), r = sqrt(-log(min(p, 1 - p))) - 5 */
    {6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
     2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
     2.71155556874348757815e-5, 2.01033439929228813265e-7},
    {1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
     7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
     2.04426310338993978564e-15},
};

/* Horner, highest degree first, as AS241 writes it. */
static double poly7(const double c[8], double r)
{
    double v = c[7];
    for (int k = 6; k >= 0; k--)
        v = v * r + c[k];
    return v;
}

double etl_norm_ppf(double p)
{
    if (!(p >= 0.0 && p <= 1.0)) return NAN;
    double q = p - 0.5;
    if (fabs(q) <= ETL_AS241_SPLIT1) {
        double r = ETL_AS241_CONST1 - q * q;
        return q * poly7(etl_as241_coef[0], r) / poly7(etl_as241_coef[1], r);
    }
    double r = q < 0 ? p : 1.0 - p;
    if (r <= 0.0) return q < 0 ? -HUGE_VAL : HUGE_VAL;
    r = sqrt(-log(r));
    double z;
    if (r <= ETL_AS241_SPLIT2) {
        r -= 1.6;
        z = poly7(etl_as241_coef[2], r) / poly7(etl_as241_coef[3], r);
    } else {
        r -= ETL_AS241_SPLIT2;
        z = poly7(etl_as241_coef[4], r) / poly7(etl_as241_coef[5], r);
    }
    return q < 0 ? -z : z;
}

/* numpy.interp(x, xp, fp) for ascending xp of n >= 1 points, where point i
 * is (sign * q[i'], sign * p_i'), i' = i (sign +1) or n - 1 - i (sign -1):
 * the descending interpolation is the ascending one of -x through the
 * reversed, negated table. */
static double point_x(const double *q, int64_t n, int sign, int64_t i)
{
    return sign > 0 ? q[i] : -q[n - 1 - i];
}
static double point_p(int64_t n, int sign, int64_t i)
{
    return sign > 0 ? etl_quantile_level(n, i) : -etl_quantile_level(n, n - 1 - i);
}

static double interp(double x, const double *q, int64_t n, int sign)
{
    if (x < point_x(q, n, sign, 0)) return point_p(n, sign, 0);
    if (x > point_x(q, n, sign, n - 1)) return point_p(n, sign, n - 1);
    /* the last j with xp[j] <= x */
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (point_x(q, n, sign, mid) <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    int64_t j = lo;
    double xj = point_x(q, n, sign, j);
    if (j == n - 1 || xj == x) return point_p(n, sign, j);
    double pj = point_p(n, sign, j);
    double slope = (point_p(n, sign, j + 1) - pj) / (point_x(q, n, sign, j + 1) - xj);
    return slope * (x - xj) + pj;
}

double etl_quantile_normal(double x, const double *q, int64_t n_q)
{
    if (isnan(x)) return x;
    if (n_q <= 0) return 0.0;
    double u = 0.5 * (interp(x, q, n_q, 1) - interp(-x, q, n_q, -1));
    if (x + BOUNDS_THRESHOLD > q[n_q - 1]) u = 1.0;
    if (x - BOUNDS_THRESHOLD < q[0]) u = 0.0;
    static double clip; /* Phi^-1(1e-7 - 2^-52) < 0, computed once (idempotent) */
    if (clip == 0.0) clip = etl_norm_ppf(ETL_QUANTILE_CLIP_P);
    double z = etl_norm_ppf(u);
    return z < clip ? clip : z > -clip ? -clip : z;
}

/* etl_quantile.h — the quantile transform's pure math: which order
 * statistics the fit needs, how they become quantiles, and the map
 * x -> z through them (scale = "quantile"; docs/formats.md, docs/etl.md).
 *
 * The rule is scikit-learn's QuantileTransformer with
 * output_distribution = "normal", so a model trained on hpcml's features
 * and one trained on sklearn's see the same inputs:
 *   quantiles q[0..n_q), n_q = min(etl.n_quantiles, n) for n train values,
 *   at p_k = k / (n_q - 1): numpy's "linear" percentile of the sorted
 *   values x_(0..n): h = (n - 1) p_k, x_(floor h) lerped towards the next
 *   one by h - floor h, then made non-decreasing (running maximum);
 *   u = the mean of the ascending and the descending linear interpolation
 *   of x in (q, p) (numpy.interp; the two differ only on tied quantiles,
 *   where u lands in the middle of the tie's p range), u = 1 where
 *   x + 1e-7 > q[n_q-1] and then u = 0 where x - 1e-7 < q[0];
 *   z = Phi^-1(u) (Wichura's AS241, PPND16, double), clipped to
 *   [Phi^-1(1e-7 - 2^-52), -Phi^-1(1e-7 - 2^-52)].
 * NaN stays NaN. n_q = 0 (no train values) maps everything to 0.
 * Pure functions, unit-tested in tests/unit/test_etl_quantile.c. */
#ifndef HPCML_ETL_QUANTILE_H
#define HPCML_ETL_QUANTILE_H

#include <stdint.h>

/* The number of quantiles for n train values and the configured count. */
int64_t etl_quantile_count(int64_t n_values, int64_t n_quantiles);
/* Quantile k of n_q over n sorted values: the 0-based order statistic
 * *lo and the lerp weight *w towards order statistic *lo + 1 (w = 0 when
 * *lo is the last one). */
void etl_quantile_position(int64_t n_values, int64_t n_q, int64_t k, int64_t *lo, double *w);
/* numpy's lerp of a towards b by w (exact at both ends). */
double etl_quantile_lerp(double a, double b, double w);
/* p_k = k / (n_q - 1) (0 for n_q = 1). */
double etl_quantile_level(int64_t n_q, int64_t k);
/* AS241's rational forms, lowest power first, as numerator/denominator pairs: [0]/[1]
 * for |p - 0.5| <= SPLIT1 (r = CONST1 - (p - 0.5)^2, times p - 0.5), [2]/[3] for
 * r = sqrt(-log(min(p, 1 - p))) <= SPLIT2 (of r - 1.6), [4]/[5] beyond (of r - SPLIT2),
 * negated below 0.5. One table for etl_norm_ppf and the ONNX export's graph
 * (src/export/onnx_quantile.c). */
#define ETL_AS241_SPLIT1 0.425
#define ETL_AS241_SPLIT2 5.0
#define ETL_AS241_CONST1 0.180625
extern const double etl_as241_coef[6][8];
/* The threshold of the bounds (sklearn's BOUNDS_THRESHOLD) and the clip's level. */
#define ETL_QUANTILE_BOUNDS 1e-7
#define ETL_QUANTILE_CLIP_P (1e-7 - 0x1p-52)
/* Phi^-1(p) by AS241 (PPND16); -inf at 0, +inf at 1, NaN outside [0, 1]. */
double etl_norm_ppf(double p);
/* The map: x through the sorted quantiles q[0..n_q) to the standard normal. */
double etl_quantile_normal(double x, const double *q, int64_t n_q);

#endif

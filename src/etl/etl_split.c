/* etl_split.c — per-row split, resampling and class weights. See etl_split.h. */
#include "etl/etl_split.h"

#include <math.h>

#include "core/rng.h"

uint64_t etl_split_hash(uint64_t seed, uint64_t row_key)
{
    return rng_mix64(rng_mix64(seed) ^ row_key);
}

static double unit_of(uint64_t u)
{
    return (double)(u >> 11) * 0x1.0p-53;
}

int etl_split_unstratified(uint64_t u, double train_fraction, double val_fraction)
{
    double f = unit_of(u);
    if (f < train_fraction) return 0;
    if (f < train_fraction + val_fraction) return 1;
    return 2;
}

static int64_t round_count(double x)
{
    return (int64_t)floor(x + 0.5);
}

void etl_split_targets(int64_t n_class, double train_fraction, double val_fraction,
                       int64_t *n_train, int64_t *n_trainval)
{
    double tv = train_fraction + val_fraction;
    if (tv > 1.0) tv = 1.0;
    *n_train = round_count((double)n_class * train_fraction);
    *n_trainval = round_count((double)n_class * tv);
    if (*n_train > n_class) *n_train = n_class;
    if (*n_trainval > n_class) *n_trainval = n_class;
    if (*n_trainval < *n_train) *n_trainval = *n_train;
}

int etl_split_stratified(uint64_t u, int64_t n_class, int64_t n_train, uint64_t t1,
                         int64_t n_trainval, uint64_t t2)
{
    if (n_train == n_class || u < t1) return 0;
    if (n_trainval == n_class || u < t2) return 1;
    return 2;
}

etl_resample_plan etl_resample_plan_make(etl_resample mode, double ratio, const int64_t counts[2])
{
    etl_resample_plan p = {mode, -1, -1, 1.0, 1.0};
    if (mode == ETL_RESAMPLE_NONE || counts[0] == 0 || counts[1] == 0) return p;
    p.minority = counts[1] < counts[0] ? 1 : 0;
    p.majority = 1 - p.minority;
    double n_min = (double)counts[p.minority], n_maj = (double)counts[p.majority];
    if (mode == ETL_RESAMPLE_UNDER) {
        p.keep_probability = fmin(1.0, n_min / (ratio * n_maj));
    } else {
        p.copies = fmax(1.0, ratio * n_maj / n_min);
    }
    return p;
}

int64_t etl_resample_copies(const etl_resample_plan *p, uint64_t seed, uint64_t row_id, int cls)
{
    if (p->mode == ETL_RESAMPLE_NONE || p->minority < 0) return 1;
    double r = rng_uniform(seed, RNG_STREAM_RESAMPLE, row_id, 0);
    if (p->mode == ETL_RESAMPLE_UNDER)
        return cls == p->majority ? (r < p->keep_probability ? 1 : 0) : 1;
    if (cls != p->minority) return 1;
    double whole = floor(p->copies);
    return (int64_t)whole + (r < p->copies - whole ? 1 : 0);
}

void etl_class_weights(const int64_t *counts, int n_classes, int balanced, double *weights)
{
    int64_t n = 0;
    for (int c = 0; c < n_classes; c++)
        n += counts[c];
    for (int c = 0; c < n_classes; c++)
        weights[c] =
            (balanced && counts[c] > 0) ? (double)n / ((double)n_classes * (double)counts[c]) : 1.0;
}

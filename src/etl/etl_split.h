/* etl_split.h — train/val/test assignment, resampling and class weights.
 *
 * Pure functions of (seed, row key) and global counts, so the assignment
 * never depends on how rows are spread over ranks.
 *
 * The row key is the global row number (0-based over all data records of
 * all inputs, in input order), or, with etl.split_key, a hash of that
 * column's text, so rows sharing a key land in the same split. Its split
 * hash is u = rng_mix64(rng_mix64(seed) ^ key): a bijection of the key, so
 * distinct row numbers give distinct u.
 *
 * Unstratified: with f = (u >> 11) * 2^-53 in [0, 1), a row is train when
 * f < train_fraction, val when f < train_fraction + val_fraction, else
 * test. The shares are right in expectation.
 *
 * Stratified (etl.stratify): the shares are exact within each class. For
 * class c with n_c valid rows, n_train = round(n_c * train_fraction) and
 * n_trainval = round(n_c * (train_fraction + val_fraction)); the rows of c
 * sorted by u give the first n_train to train, the next to val, the rest to
 * test. The cut points are order statistics of u found by distributed radix
 * selection (etl_stats.h): t1 = the n_train-th smallest u of class c
 * (0-based), and a row is train when u < t1 (or n_train = n_c). With equal
 * u (split_key duplicates) a key group stays together and the counts are
 * approximate.
 *
 * Resampling of the train split (RNG_STREAM_RESAMPLE at the row number):
 * undersample keeps each majority-class row with probability
 * min(1, n_minority / (ratio * n_majority)); oversample repeats each
 * minority row floor(m) or floor(m) + 1 times (probability frac(m)) with
 * m = max(1, ratio * n_majority / n_minority). Copies sit next to the
 * original row, in global row order. */
#ifndef HPCML_ETL_SPLIT_H
#define HPCML_ETL_SPLIT_H

#include <stdint.h>

uint64_t etl_split_hash(uint64_t seed, uint64_t row_key);
/* 0 train, 1 val, 2 test. */
int etl_split_unstratified(uint64_t u, double train_fraction, double val_fraction);

/* Per-class cut counts of the stratified split. */
void etl_split_targets(int64_t n_class, double train_fraction, double val_fraction,
                       int64_t *n_train, int64_t *n_trainval);
/* The split of a row of its class given the cut values: t1 = the n_train-th
 * smallest u (unused when n_train == n_class), t2 likewise for n_trainval. */
int etl_split_stratified(uint64_t u, int64_t n_class, int64_t n_train, uint64_t t1,
                         int64_t n_trainval, uint64_t t2);

typedef enum { ETL_RESAMPLE_NONE = 0, ETL_RESAMPLE_UNDER = 1, ETL_RESAMPLE_OVER = 2 } etl_resample;

typedef struct {
    etl_resample mode;
    int minority, majority;  /* class indices; -1 when resampling is a no-op */
    double keep_probability; /* undersample: for majority rows */
    double copies;           /* oversample: mean copies of a minority row */
} etl_resample_plan;

/* The plan from the train class counts (two classes). */
etl_resample_plan etl_resample_plan_make(etl_resample mode, double ratio, const int64_t counts[2]);
/* How many times the train row with this global row number and class is
 * written (0, 1 or more). */
int64_t etl_resample_copies(const etl_resample_plan *p, uint64_t seed, uint64_t row_id, int cls);

/* balanced: n / (n_classes * count_c) (1 for an empty class); else all 1. */
void etl_class_weights(const int64_t *counts, int n_classes, int balanced, double *weights);

#endif

/* etl_transform.h — fitting imputation, scaling and vocabularies on the
 * train split, and encoding rows into feature vectors.
 *
 * Everything is fitted on the rows of the train split (before any
 * resampling), so nothing leaks from val/test. For a float or int column:
 *   - the imputation value: mean (exact sum), median (exact order
 *     statistic, the mean of the two middle values for an even count, as in
 *     pandas/numpy), most frequent (ties: the smallest value), constant
 *     (impute_value), none (nulls stay NaN in X), drop (the row was dropped);
 *   - then mean, sample standard deviation (n - 1), min and max of the
 *     train values with nulls imputed; scaling x' = (x - offset) * mul with
 *     standard: offset = mean, mul = 1/std; minmax: offset = min,
 *     mul = 1/(max - min); none: 0 and 1 (a zero spread gives mul = 1);
 *     quantile: 0 and 1, and the value goes through the quantiles of the
 *     non-null train values to the standard normal (etl_quantile.h; the
 *     quantiles are exact order statistics, found like the medians);
 * For a category column: the vocabulary of the train values (etl_vocab.h;
 * at most max_categories values plus index 0 = unknown), one-hot
 * (vocabulary size + 1 features, "name=value", "name=<unknown>") or one
 * index feature; nulls map to the most frequent value with impute =
 * "most_frequent", else to the unknown slot; categories are not scaled.
 * All results are identical on every rank and for every rank count
 * (etl_stats.h).
 *
 * One transform, two callers: hpcml-etl fits it (etl_fit_columns) and
 * applies it; hpcml-predict loads the fitted parameters from model.h5
 * (model_fit_load, io/model_file.h) and applies it through the same
 * functions: etl_extract parses, etl_validate_rows validates,
 * etl_fit_bind + etl_encode_rows impute, encode and scale. */
#ifndef HPCML_ETL_TRANSFORM_H
#define HPCML_ETL_TRANSFORM_H

#include <mpi.h>
#include <stdint.h>

#include "etl/etl_extract.h"
#include "etl/etl_vocab.h"

typedef struct {
    int64_t n_values; /* train values the statistics used (after imputation) */
    int64_t train_nulls;
    double impute_value; /* numeric: the value; category: the index given to nulls */
    double mean, std, min, max;
    double offset, mul;
    double *quantiles; /* scale = "quantile": n_quantiles sorted values (etl_quantile.h) */
    int64_t n_quantiles;
    etl_vocab vocab;
    int32_t *local_to_index; /* this rank's string id -> vocabulary index */
    int first_feature, n_features;
} etl_col_fit;

typedef struct {
    etl_col_fit *cols;
    int n_cols;
    int n_features;
    char **feature_names;
    double *scale_offset, *scale_mul; /* per feature */
} etl_fit;

/* Collective. Uses the rows with drop == ETL_KEEP and split == 0. */
int etl_fit_columns(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_table *t,
                    etl_fit *fit);
/* Local: the category columns' map from t's local string ids to the
 * vocabulary indexes (values outside the vocabulary: 0, the unknown slot).
 * etl_fit_columns calls it; a fit loaded from a model file (io/model_file.h)
 * calls it for the table of the data to score. */
int etl_fit_bind(etl_fit *fit, const etl_schema *s, const etl_table *t);
/* Local rows rows[0..n) into out[n][n_features] (row-major). */
void etl_encode_rows(const etl_schema *s, const etl_fit *fit, const etl_table *t,
                     const int64_t *rows, int64_t n, float *out);
void etl_fit_free(etl_fit *fit);

#endif

/* drift.h — data-drift summaries of columns and their comparison (pure: no
 * MPI, no I/O). docs/drift.md explains the methods and defaults.
 *
 * A summary is a fixed-size array of int64 counts, so it is mergeable by
 * adding counts: an MPI_Allreduce(MPI_INT64_T, MPI_SUM) of the packed words
 * (drift_set_pack) gives the same summary for any rank count and any row
 * order, and its memory and file size do not grow with the row count.
 *
 * Numeric columns: a deterministic log-scale bucket grid (DDSketch-style) of
 * the RAW values (before imputation and scaling), plus the null count.
 *   gamma = (1 + alpha) / (1 - alpha), alpha = DRIFT_ALPHA = 1 %.
 *   |v| <= DRIFT_MIN_MAGNITUDE (1e-9)           -> the zero bucket
 *   m_min * gamma^(k-1) < |v| <= m_min * gamma^k -> bucket k of v's sign,
 *                                                  k = 1..DRIFT_SIDE_BUCKETS
 *   |v| > DRIFT_MAX_MAGNITUDE (1e18), +-inf      -> an outer bucket of v's sign
 *   NaN                                          -> a null
 * Bucket indices 0..DRIFT_BUCKETS-1 are in increasing value order.
 * Error bounds that follow (proved in docs/drift.md):
 *   - quantiles: drift_numeric_quantile returns the representative of the
 *     bucket holding the exact order statistic: relative error <= alpha for
 *     |v| in (1e-9, 1e18], absolute error <= 1e-9 in the zero bucket.
 *   - KS: the statistic computed on buckets, D_b, is EXACTLY the KS
 *     statistic of the two samples after each value is moved to its bucket's
 *     representative (a monotone map moving no value by more than alpha |v|).
 *     Against the raw samples' D: D_b <= D <= D_b + max_k max(r_k, c_k), where
 *     r_k, c_k are the shares of the two samples in bucket k (for a standard
 *     normal the largest bucket share is about 2 alpha * 0.24 = 0.005). So
 *     the p-value from D_b is never smaller than the raw one (conservative).
 *
 * Categorical columns: one count per vocabulary index (index 0 is the
 * unknown slot, as in dataset.h5's vocabularies) and the null count.
 *
 * Comparison (reference = train split, current = new data), per column:
 *   numeric: KS statistic + asymptotic p-value (Kolmogorov distribution with
 *            Stephens' finite-size factor; within a few % of scipy's
 *            ks_2samp(method="asymp"), which evaluates kstwo.sf(D, round(en))),
 *            PSI and Jensen-Shannon distance on coarse bins of the buckets
 *            (reference quantile bins, plus one bin each for current mass
 *            below / above everything the reference holds);
 *   categorical: chi-square goodness of fit of the current counts against
 *            the reference shares + p-value, PSI and Jensen-Shannon distance
 *            on the slots either sample uses.
 *   PSI: zero shares are replaced as Evidently does: by 1e-4, or by
 *   (smallest nonzero share) / 1e6 when that share is <= 1e-4. Jensen-Shannon
 *   distance: base 2 (in [0, 1]), no replacement (it is finite with zeros).
 *   Null values take no part in the tests; their shares are reported.
 * Method "auto" follows Evidently's rule of size (statistical tests for small
 * samples, distances for large ones), keyed on the CURRENT sample's non-null
 * rows (the reference, a whole train split, is nearly always large):
 *   <= auto_max_rows (1000): numeric KS, categorical chi-square, drift when
 *   p < 0.05; otherwise Jensen-Shannon distance, drift when >= 0.1.
 * Dataset drift: drifted columns / columns >= drift_share (0.5).
 *
 * For the tests only (no program calls them): drift_numeric_add_null, drift_numeric_merge,
 * drift_numeric_quantile. Exported for the tests; programs reach them only through this room's
 * other functions: drift_numeric_init, drift_bucket_of, drift_bucket_lower,
 * drift_bucket_upper, drift_bucket_value, drift_categorical_init, drift_categorical_free,
 * drift_set_find, drift_compare_numeric, drift_compare_categorical, drift_column_result_free,
 * drift_ks_statistic, drift_ks_pvalue, drift_kolmogorov_sf, drift_gamma_q, drift_chi2_sf,
 * drift_chisquare_statistic, drift_shares_fill_zeros, drift_psi, drift_jensenshannon. Tests:
 * test_drift.c, mpi_drift_tool.c.
 */
#ifndef HPCML_DRIFT_H
#define HPCML_DRIFT_H

#include <stdint.h>

#define DRIFT_ALPHA         0.01
#define DRIFT_MIN_MAGNITUDE 1e-9
#define DRIFT_MAX_MAGNITUDE 1e18
/* ceil(ln(DRIFT_MAX_MAGNITUDE / DRIFT_MIN_MAGNITUDE) / ln(gamma)); a unit test checks it */
#define DRIFT_SIDE_BUCKETS 3109
/* -outer, negative k = SIDE..1, zero, positive k = 1..SIDE, +outer */
#define DRIFT_BUCKETS     (2 * DRIFT_SIDE_BUCKETS + 3)
#define DRIFT_ZERO_BUCKET (DRIFT_SIDE_BUCKETS + 1)
/* int64 words of one numeric summary: the buckets, then the null count */
#define DRIFT_NUMERIC_WORDS (DRIFT_BUCKETS + 1)

typedef enum { DRIFT_NUMERIC = 0, DRIFT_CATEGORICAL = 1 } drift_column_type;

typedef enum {
    DRIFT_METHOD_AUTO = 0,
    DRIFT_METHOD_KS,
    DRIFT_METHOD_CHISQUARE,
    DRIFT_METHOD_PSI,
    DRIFT_METHOD_JENSENSHANNON,
} drift_method;

/* "auto", "ks", "chisquare", "psi", "jensenshannon" (the drift.json names) */
const char *drift_method_name(drift_method m);
/* -1 for an unknown name */
int drift_method_parse(const char *name, drift_method *out);

/* ---- numeric summary ------------------------------------------------------ */
typedef struct {
    int64_t counts[DRIFT_BUCKETS]; /* non-null values per bucket */
    int64_t nulls;
} drift_numeric;

void drift_numeric_init(drift_numeric *s);
/* NaN counts as a null. */
void drift_numeric_add(drift_numeric *s, double v);
void drift_numeric_add_null(drift_numeric *s);
/* into += from */
void drift_numeric_merge(drift_numeric *into, const drift_numeric *from);
int64_t drift_numeric_count(const drift_numeric *s); /* non-null values */
/* Bucket of a non-NaN value, 0..DRIFT_BUCKETS-1, monotone in v. */
int drift_bucket_of(double v);
/* Bucket b holds the values in (lower, upper] (the zero bucket [-1e-9, 1e-9]).
 * The outer buckets report +-DRIFT_MAX_MAGNITUDE * gamma as their far edge
 * (finite, for files and pictures). */
double drift_bucket_lower(int b);
double drift_bucket_upper(int b);
/* The value that stands for bucket b (relative error <= alpha inside it). */
double drift_bucket_value(int b);
/* q in [0, 1]: the representative of the bucket holding the order statistic
 * of rank floor(q * (n - 1)) (0-based); NaN when the summary has no values. */
double drift_numeric_quantile(const drift_numeric *s, double q);

/* ---- categorical summary -------------------------------------------------- */
typedef struct {
    int32_t n_slots; /* vocabulary size + 1; slot 0 is the unknown slot */
    int64_t *counts; /* [n_slots] (owned) */
    int64_t nulls;
} drift_categorical;

/* Returns 0, or -1 when out of memory. */
int drift_categorical_init(drift_categorical *c, int32_t n_slots);
void drift_categorical_free(drift_categorical *c);
/* index: vocabulary index (0 = unknown); a negative index is a null.
 * An index >= n_slots counts as unknown. */
void drift_categorical_add(drift_categorical *c, int32_t index);
int64_t drift_categorical_count(const drift_categorical *c); /* non-null values */

/* ---- a set of column summaries (a reference, or the current data) -------- */
typedef struct {
    char *name; /* the column name (owned) */
    drift_column_type type;
    drift_numeric *num;    /* DRIFT_NUMERIC (owned) */
    drift_categorical cat; /* DRIFT_CATEGORICAL */
    char **categories;     /* DRIFT_CATEGORICAL: [n_slots] names, [0] = "<unknown>" (owned) */
} drift_column;

typedef struct {
    drift_column *cols;
    int n_cols, cap;
} drift_set;

void drift_set_init(drift_set *set);
void drift_set_free(drift_set *set);
/* Append an empty column; returns its index, or -1 when out of memory.
 * categories: n_slots names (copied), [0] the unknown slot's; may be NULL
 * (then "<unknown>", "1", "2", ...). */
int drift_set_add_numeric(drift_set *set, const char *name);
int drift_set_add_categorical(drift_set *set, const char *name, int32_t n_slots,
                              const char *const *categories);
/* Index of the column with this name, or -1. */
int drift_set_find(const drift_set *set, const char *name);
/* out = the same columns as like (names, types, categories), all counts 0.
 * Returns 0, or -1 when out of memory. */
int drift_set_clone_empty(const drift_set *like, drift_set *out);
/* All counts of the set as one int64 array, in column order (numeric:
 * DRIFT_NUMERIC_WORDS words; categorical: n_slots + 1 words, the null count
 * last): what an MPI_Allreduce(MPI_SUM) merges. */
int64_t drift_set_n_words(const drift_set *set);
void drift_set_pack(const drift_set *set, int64_t *words);
void drift_set_unpack(drift_set *set, const int64_t *words); /* overwrites the counts */

/* ---- comparison ------------------------------------------------------------ */
typedef struct {
    drift_method numeric_method;     /* auto | ks | psi | jensenshannon */
    drift_method categorical_method; /* auto | chisquare | psi | jensenshannon */
    int64_t auto_max_rows;           /* auto: tests up to this many current values (1000) */
    double ks_threshold;             /* drift when p < this (0.05) */
    double chisquare_threshold;      /* drift when p < this (0.05) */
    double psi_threshold;            /* drift when PSI >= this (0.1) */
    double jensenshannon_threshold;  /* drift when distance >= this (0.1) */
    int bins;                        /* numeric PSI / JS: reference quantile bins (20) */
    double drift_share;              /* dataset drift when share of drifted columns >= (0.5) */
} drift_options;

void drift_options_default(drift_options *o);

typedef struct {
    const char *name; /* borrowed from the reference set */
    drift_column_type type;
    drift_method method; /* resolved: never AUTO */
    double statistic;    /* of the method: KS D, chi-square X^2, PSI or JS distance */
    double p_value;      /* ks, chisquare; NaN for the distances */
    double threshold;
    int drifted;
    /* every measure, whatever the method (NaN where it does not apply) */
    double ks, ks_p_value, chisquare, chisquare_p_value, chisquare_df, psi, jensenshannon;
    int64_t rows_reference, rows_current; /* values + nulls */
    double null_share_reference, null_share_current;
    /* the distributions compared by PSI / JS: numeric: n_bins coarse bins with
     * edges[n_bins + 1]; categorical: n_bins = n_slots in slot order (slot 0 =
     * unknown), edges NULL, categories borrowed from the reference. */
    int n_bins;
    double *edges;
    int64_t *reference_counts, *current_counts;
    const char *const *categories;
} drift_column_result;

typedef struct {
    drift_column_result *cols;
    int n_cols;
    int64_t rows_reference, rows_current; /* the largest over the columns */
    int drifted_columns;
    double drift_share; /* the configured share */
    int dataset_drift;
} drift_result;

/* Compare one column: ref and cur must have the same type (and n_slots).
 * Returns 0, or -1 (out of memory / mismatch). */
int drift_compare_numeric(const drift_numeric *ref, const drift_numeric *cur,
                          const drift_options *o, drift_column_result *out);
int drift_compare_categorical(const drift_categorical *ref, const drift_categorical *cur,
                              const drift_options *o, drift_column_result *out);
/* Compare every column of ref with the column of the same name in cur (same
 * type and slots; the column sets must match: returns -1 otherwise, with
 * the name of the first bad column in *bad_column when not NULL). */
int drift_compare(const drift_set *ref, const drift_set *cur, const drift_options *o,
                  drift_result *out, const char **bad_column);
void drift_column_result_free(drift_column_result *r);
void drift_result_free(drift_result *r);

/* ---- the statistics, on plain arrays (exposed for tests) ------------------ */
/* Two-sample KS statistic on counts over the same ordered bins. */
double drift_ks_statistic(const int64_t *a, const int64_t *b, int n_bins);
/* Asymptotic two-sided p-value of KS statistic d for sample sizes n, m:
 * Q((sqrt(en) + 0.12 + 0.11 / sqrt(en)) d), en = n m / (n + m) (Stephens). */
double drift_ks_pvalue(double d, int64_t n, int64_t m);
/* Kolmogorov's limiting survival function Q(lambda) = 2 sum (-1)^(k-1) exp(-2 k^2 lambda^2). */
double drift_kolmogorov_sf(double lambda);
/* Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a). */
double drift_gamma_q(double a, double x);
/* Chi-square survival function: P(X > x), df degrees of freedom. */
double drift_chi2_sf(double x, double df);
/* Goodness of fit of observed counts against expected shares (summing to 1)
 * over n bins: returns X^2 = sum (o - n p)^2 / (n p). */
double drift_chisquare_statistic(const int64_t *observed, const double *expected_share, int n);
/* Shares of counts, zeros replaced by Evidently's rule (see above). */
void drift_shares_fill_zeros(const int64_t *counts, int n, double *shares);
/* PSI = sum (r - c) ln(r / c) on zero-filled shares. */
double drift_psi(const int64_t *reference, const int64_t *current, int n);
/* Jensen-Shannon distance, base 2: sqrt(JS divergence) of the two shares. */
double drift_jensenshannon(const int64_t *reference, const int64_t *current, int n);

#endif

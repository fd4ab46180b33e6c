/* gen_row.h — one row of the synthetic fraud-like table, as a pure function.
 *
 * The table is shaped like the public credit-card-fraud set (Time, V1..V28,
 * Amount, Class; 284,807 rows, 0.172% positives): row i is a function of
 * (params, i) only, so any rank can write any row range and the output never
 * depends on the rank count. Values come from rng stream RNG_STREAM_GEN_ROW,
 * defects (missing cells, malformed rows) from RNG_STREAM_GEN_DEFECT, both at
 * index i.
 *
 * Columns: Time,V1,...,V28,Amount[,Cat1,...,CatK],Class.
 *
 * Model (docs: the comments of gen_row.c give the numbers):
 * - negatives: V_j ~ N(0, s_j), s_j falling geometrically from 2.0 (V1) to
 *   0.33 (V28) like PCA components;
 * - positives: two clusters placed symmetrically (random sign) along a fixed
 *   direction in V1..V4, 7 standard deviations from the negatives' centre,
 *   plus moderate shifts of V10, V11, V12, V14, V17 (and a few hard
 *   positives with the shifts only). A linear model separates one cluster
 *   at most; a small MLP separates both;
 * - Time: non-decreasing over 172,792 s (two days) with jitter;
 * - Amount: lognormal, positives with a lower median and a wider spread;
 * - Cat k: "c0".."c{L-1}", Zipf-like skew, positives partly uniform
 *   (weakly related to the label);
 * - drift (gen_params.drift_*): shifted / rescaled columns and a category
 *   never seen otherwise, from rng stream RNG_STREAM_GEN_DRIFT at index i,
 *   so undrifted columns keep their values.
 *
 * For the tests only (no program calls them): gen_row_format. Exported for the tests; programs
 * reach them only through this room's other functions: gen_row_label. Tests: test_gen_row.c.
 */
#ifndef HPCML_GEN_ROW_H
#define HPCML_GEN_ROW_H

#include <stddef.h>
#include <stdint.h>

#define GEN_V_COLUMNS       28
#define GEN_MAX_CATEGORICAL 26
#define GEN_TIME_SPAN_S     172792.0
/* No row (and no header) is longer than this, newline included. */
#define GEN_ROW_MAX_BYTES 2048

typedef struct {
    uint64_t seed;
    uint64_t rows;             /* rows in the whole table (spreads Time) */
    double positive_fraction;  /* P(Class = 1) */
    int categorical_columns;   /* 0..GEN_MAX_CATEGORICAL */
    int category_levels;       /* >= 2 */
    double missing_fraction;   /* P(a V cell is empty) */
    double malformed_fraction; /* P(a row is malformed on purpose) */
    /* Drifted data (a "next batch" that no longer looks like training):
     * the columns of drift_mask (bit j: V(j+1), bit GEN_V_COLUMNS: Amount)
     * become x' = drift_scale * x + drift_shift * sd (V: sd of the column;
     * Amount: the same on log(Amount) - 3, the negatives' log-median, with their log-sd); each
     * categorical cell is, with P = new_category_fraction, the level
     * "c<category_levels>" that undrifted data never holds. Defaults: no drift. */
    uint32_t drift_mask;
    double drift_shift, drift_scale;
    double new_category_fraction;
} gen_params;

typedef enum {
    GEN_ROW_OK = 0,
    GEN_ROW_TOO_FEW_FIELDS = 1, /* the line stops after a random field */
    GEN_ROW_BAD_NUMBER = 2,     /* text in a V column */
    GEN_ROW_OPEN_QUOTE = 3      /* a field opens a quote that never closes */
} gen_row_defect;

/* What row i is, without formatting it. */
typedef struct {
    int label;             /* Class: 0 or 1 */
    int cluster;           /* positives: +1 or -1 (side of V1..V4), 0 = hard; negatives 0 */
    gen_row_defect defect; /* kind of malformation, GEN_ROW_OK for a clean row */
    int missing_cells;     /* empty V cells (clean rows only) */
} gen_row_info;

/* The defaults of the gen config section (284,807 rows, seed 42, 0.172%). */
void gen_params_default(gen_params *p);
/* Columns of a clean row: 31 + categorical_columns. */
int gen_column_count(const gen_params *p);
/* Bit of drift_mask for column name ("V1".."V28", "Amount"), or -1. */
int gen_drift_bit(const char *name);
/* Name of column c (0-based) into out; returns out. */
const char *gen_column_name(const gen_params *p, int c, char *out, size_t n);

/* Both format functions return the line length n (with its '\n'). Like
 * snprintf, the line and a terminating NUL are written only when n < cap;
 * otherwise buf is left empty (buf[0] = '\0' when cap > 0). A cap of
 * GEN_ROW_MAX_BYTES always suffices. */
size_t gen_header_format(const gen_params *p, char *buf, size_t cap);
size_t gen_row_format(const gen_params *p, uint64_t i, char *buf, size_t cap);
/* Same as gen_row_format and also fills *info (may be NULL). */
size_t gen_row_format_info(const gen_params *p, uint64_t i, char *buf, size_t cap,
                           gen_row_info *info);

/* Class of row i (cheaper than formatting: one Philox block). Positives are
 * stratified: every run of 1/positive_fraction rows holds exactly one, so the
 * table has rows * positive_fraction of them, give or take one. */
int gen_row_label(const gen_params *p, uint64_t i);

#endif

/* etl_transform.c — train-split statistics and row encoding. See etl_transform.h. */
#include "etl/etl_transform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/log.h"
#include "core/status.h"
#include "etl/etl_quantile.h"
#include "etl/etl_stats.h"

static int is_numeric(const etl_column_spec *c)
{
    return c->type == ETL_COL_FLOAT || c->type == ETL_COL_INT;
}

static int fit_row(const etl_table *t, int64_t i)
{
    return t->drop[i] == ETL_KEEP && t->split[i] == 0;
}

/* The most frequent value of a numeric column over the train rows (ties:
 * the smallest), via the vocabulary merge on 8-byte order-preserving keys. */
static int most_frequent_value(MPI_Comm comm, const etl_table *t, int c, double *out, int *found)
{
    etl_strtab tab;
    HPCML_ALLOC_ABORT(comm, etl_strtab_init(&tab) == HPCML_OK, "fitting the transform");
    int64_t *counts = NULL;
    size_t cap = 0;
    for (int64_t i = 0; i < t->n; i++) {
        if (!fit_row(t, i) || isnan(t->num[c][i])) continue;
        uint64_t k = etl_double_key(t->num[c][i]);
        unsigned char be[8];
        for (int b = 0; b < 8; b++)
            be[b] = (unsigned char)(k >> (56 - 8 * b));
        int32_t id = etl_strtab_intern(&tab, (const char *)be, 8);
        HPCML_ALLOC_ABORT(comm, id >= 0, "fitting the transform");
        if ((size_t)id >= cap) {
            size_t nc = cap ? cap * 2 : 1024;
            int64_t *nb = realloc(counts, nc * sizeof *nb);
            HPCML_ALLOC_ABORT(comm, nb, "fitting the transform");
            memset(nb + cap, 0, (nc - cap) * sizeof *nb);
            counts = nb;
            cap = nc;
        }
        counts[id]++;
    }
    etl_vocab v;
    int64_t dummy = 0;
    int rc = etl_vocab_build(comm, &tab, counts ? counts : &dummy, 1, &v);
    *found = rc == HPCML_OK && v.n > 0;
    if (*found) {
        uint64_t k = 0;
        for (int b = 0; b < 8; b++)
            k = (k << 8) | (unsigned char)v.entries[0].bytes[b];
        *out = etl_key_double(k);
    }
    etl_vocab_free(&v);
    etl_strtab_free(&tab);
    free(counts);
    return rc;
}

static char *dup_printf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) : 0) + strlen(fmt) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, fmt, a, b ? b : "");
    return s;
}

/* What the phases of etl_fit_columns share: this rank's train rows and the
 * per-column accumulators of the non-null train values. */
typedef struct {
    int64_t *rows; /* local rows with fit_row() */
    int64_t n_fit;
    etl_xsum *sums;  /* [c]: exact sum, then the exact sum of squared deviations */
    int64_t *counts; /* [c][nonnull, null], global */
    double *mins, *maxs;
} fit_work;

static void fit_work_init(MPI_Comm comm, const etl_table *t, int nc, fit_work *w)
{
    memset(w, 0, sizeof *w);
    w->sums = calloc((size_t)nc, sizeof *w->sums);
    w->counts = calloc(2 * (size_t)nc, sizeof *w->counts);
    w->mins = malloc((size_t)nc * sizeof *w->mins);
    w->maxs = malloc((size_t)nc * sizeof *w->maxs);
    HPCML_ALLOC_ABORT(comm, w->sums && w->counts && w->mins && w->maxs, "fitting the transform");
    w->rows = etl_big_realloc(NULL, 0, ((size_t)t->n + 1) * sizeof *w->rows);
    HPCML_ALLOC_ABORT(comm, w->rows, "fitting the transform");
    for (int64_t i = 0; i < t->n; i++)
        if (fit_row(t, i)) w->rows[w->n_fit++] = i;
}

static void fit_work_free(fit_work *w)
{
    free(w->rows);
    free(w->sums);
    free(w->counts);
    free(w->mins);
    free(w->maxs);
    memset(w, 0, sizeof *w);
}

/* Phase 1: global counts, exact sums, min and max of the non-null train values. */
static void fit_moments(MPI_Comm comm, const etl_schema *s, const etl_table *t, fit_work *w)
{
    int nc = s->n_cols;
    for (int c = 0; c < nc; c++) {
        etl_xsum_init(&w->sums[c]);
        w->mins[c] = INFINITY;
        w->maxs[c] = -INFINITY;
        if (!is_numeric(&s->cols[c])) continue;
        const double *x = t->num[c];
        int64_t nulls = 0;
        double lo = INFINITY, hi = -INFINITY;
        /* Four accumulators break the dependency through the limbs that
         * consecutive values of one column share. */
        etl_xsum part[4];
        for (int q = 0; q < 4; q++)
            etl_xsum_init(&part[q]);
        for (int64_t k = 0; k < w->n_fit; k++) {
            double v = x[w->rows[k]];
            if (isnan(v)) {
                nulls++;
                continue;
            }
            etl_xsum_add(&part[k & 3], v);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        for (int q = 0; q < 4; q++)
            etl_xsum_merge(&w->sums[c], &part[q]);
        w->counts[2 * c] = w->n_fit - nulls;
        w->counts[2 * c + 1] = nulls;
        w->mins[c] = lo;
        w->maxs[c] = hi;
    }
    HPCML_MPI_CHECK_ABORT(
        comm, MPI_Allreduce(MPI_IN_PLACE, w->counts, 2 * nc, MPI_INT64_T, MPI_SUM, comm));
    HPCML_MPI_CHECK_ABORT(comm,
                          MPI_Allreduce(MPI_IN_PLACE, w->mins, nc, MPI_DOUBLE, MPI_MIN, comm));
    HPCML_MPI_CHECK_ABORT(comm,
                          MPI_Allreduce(MPI_IN_PLACE, w->maxs, nc, MPI_DOUBLE, MPI_MAX, comm));
    if (etl_xsum_allreduce(comm, w->sums, nc) != HPCML_OK) hpcml_mpi_abort(comm, HPCML_EINTERNAL);
}

/* Phases 2 and 3: the imputation value of every numeric column. Medians are
 * exact: two order statistics per column, all columns in one selection. */
static void fit_impute_values(MPI_Comm comm, const etl_schema *s, const etl_table *t,
                              const fit_work *w, etl_fit *fit)
{
    int nc = s->n_cols;
    etl_select_query *qs = calloc(2 * (size_t)nc + 1, sizeof *qs);
    int *q_of = malloc(((size_t)nc + 1) * sizeof *q_of);
    HPCML_ALLOC_ABORT(comm, qs && q_of, "fitting the transform");
    int nq = 0;
    for (int c = 0; c < nc; c++) {
        q_of[c] = -1;
        const etl_column_spec *col = &s->cols[c];
        int64_t n = w->counts[2 * c];
        if (!is_numeric(col) || col->impute != ETL_IMPUTE_MEDIAN || n == 0) continue;
        q_of[c] = nq;
        for (int j = 0; j < 2; j++) {
            uint64_t *keys = etl_big_realloc(NULL, 0, ((size_t)t->n + 1) * sizeof *keys);
            HPCML_ALLOC_ABORT(comm, keys, "fitting the transform");
            size_t m = 0;
            for (int64_t k = 0; k < w->n_fit; k++) {
                double v = t->num[c][w->rows[k]];
                if (!isnan(v)) keys[m++] = etl_double_key(v);
            }
            etl_select_init(&qs[nq++], keys, m, (uint64_t)(j == 0 ? (n - 1) / 2 : n / 2));
        }
    }
    if (etl_select_run(comm, qs, nq) != HPCML_OK) hpcml_mpi_abort(comm, HPCML_EINTERNAL);

    for (int c = 0; c < nc; c++) {
        const etl_column_spec *col = &s->cols[c];
        etl_col_fit *f = &fit->cols[c];
        if (!is_numeric(col)) continue;
        int64_t n = w->counts[2 * c];
        f->train_nulls = w->counts[2 * c + 1];
        switch (col->impute) {
        case ETL_IMPUTE_MEAN:
            f->impute_value = n ? etl_xsum_value(&w->sums[c]) / (double)n : 0.0;
            break;
        case ETL_IMPUTE_MEDIAN:
            if (q_of[c] >= 0) {
                double a = etl_key_double(qs[q_of[c]].result);
                double b = etl_key_double(qs[q_of[c] + 1].result);
                f->impute_value = a == b ? a : (a + b) / 2.0;
            }
            break;
        case ETL_IMPUTE_MOST_FREQUENT: {
            int found = 0;
            if (most_frequent_value(comm, t, c, &f->impute_value, &found) != HPCML_OK)
                hpcml_mpi_abort(comm, HPCML_EINTERNAL);
            if (!found) f->impute_value = 0.0;
            break;
        }
        case ETL_IMPUTE_CONSTANT: f->impute_value = col->impute_value; break;
        case ETL_IMPUTE_NONE: f->impute_value = NAN; break;
        case ETL_IMPUTE_DROP: f->impute_value = NAN; break;
        }
        if (n == 0 && col->impute != ETL_IMPUTE_CONSTANT && col->impute != ETL_IMPUTE_NONE)
            f->impute_value = 0.0;
        /* global counts: every rank knows, rank 0 says it (once) */
        if (n == 0 && w->counts[2 * c + 1] > 0 && hpcml_mpi_rank(comm) == 0)
            log_warn("column '%s' has no values in the train split; nulls become %g", col->name,
                     f->impute_value);
    }
    for (int q = 0; q < nq; q++)
        etl_select_free(&qs[q]);
    free(qs);
    free(q_of);
}

/* Phase 4: mean, spread, min, max after imputation, and the scaling they
 * give. The imputed values join the sums exactly (etl_xsum_add_times), so
 * one more pass, for the squared deviations, is enough. */
static void fit_spread_and_scale(MPI_Comm comm, const etl_schema *s, const etl_table *t,
                                 fit_work *w, etl_fit *fit)
{
    int nc = s->n_cols;
    for (int c = 0; c < nc; c++) {
        etl_col_fit *f = &fit->cols[c];
        if (!is_numeric(&s->cols[c])) continue;
        int64_t nonnull = w->counts[2 * c], nulls = w->counts[2 * c + 1];
        double imp = f->impute_value;
        int fill = nulls > 0 && !isnan(imp);
        f->n_values = nonnull + (fill ? nulls : 0);
        if (fill) {
            etl_xsum_add_times(&w->sums[c], imp, nulls);
            w->mins[c] = imp < w->mins[c] ? imp : w->mins[c];
            w->maxs[c] = imp > w->maxs[c] ? imp : w->maxs[c];
        }
        f->mean = f->n_values ? etl_xsum_value(&w->sums[c]) / (double)f->n_values : 0.0;
        f->min = f->n_values ? w->mins[c] : 0.0;
        f->max = f->n_values ? w->maxs[c] : 0.0;
    }
    for (int c = 0; c < nc; c++) {
        etl_xsum_init(&w->sums[c]);
        if (!is_numeric(&s->cols[c])) continue;
        const double *x = t->num[c];
        double mean = fit->cols[c].mean;
        etl_xsum part[4];
        for (int q = 0; q < 4; q++)
            etl_xsum_init(&part[q]);
        for (int64_t k = 0; k < w->n_fit; k++) {
            double v = x[w->rows[k]];
            if (isnan(v)) continue;
            double d = v - mean;
            etl_xsum_add(&part[k & 3], d * d);
        }
        for (int q = 0; q < 4; q++)
            etl_xsum_merge(&w->sums[c], &part[q]);
    }
    if (etl_xsum_allreduce(comm, w->sums, nc) != HPCML_OK) hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    for (int c = 0; c < nc; c++) {
        etl_col_fit *f = &fit->cols[c];
        if (is_numeric(&s->cols[c]) && w->counts[2 * c + 1] > 0 && !isnan(f->impute_value)) {
            double d = f->impute_value - f->mean;
            etl_xsum_add_times(&w->sums[c], d * d, w->counts[2 * c + 1]);
        }
        f->std =
            f->n_values > 1 ? sqrt(etl_xsum_value(&w->sums[c]) / (double)(f->n_values - 1)) : 0.0;
        f->offset = 0.0;
        f->mul = 1.0;
        if (!is_numeric(&s->cols[c])) continue;
        if (s->cols[c].scale == ETL_SCALE_STANDARD) {
            f->offset = f->mean;
            f->mul = f->std > 0 ? 1.0 / f->std : 1.0;
        } else if (s->cols[c].scale == ETL_SCALE_MINMAX) {
            f->offset = f->min;
            f->mul = f->max > f->min ? 1.0 / (f->max - f->min) : 1.0;
        }
    }
}

/* Phase 5: the quantiles of the scale = "quantile" columns, one column at a
 * time: this rank's non-null train values sorted once, then every order
 * statistic the quantiles need in one distributed selection, so the result
 * is exact and the same for any rank count. */
static void fit_quantiles(MPI_Comm comm, const etl_options *o, const etl_schema *s,
                          const etl_table *t, const fit_work *w, etl_fit *fit)
{
    for (int c = 0; c < s->n_cols; c++) {
        const etl_column_spec *col = &s->cols[c];
        etl_col_fit *f = &fit->cols[c];
        if (!is_numeric(col) || col->scale != ETL_SCALE_QUANTILE) continue;
        int64_t n = w->counts[2 * c];
        int64_t nq = etl_quantile_count(n, o->n_quantiles);
        f->n_quantiles = nq;
        f->quantiles = calloc((size_t)nq + 1, sizeof *f->quantiles);
        HPCML_ALLOC_ABORT(comm, f->quantiles, "fitting the quantile transform");
        if (nq == 0) continue;
        /* The order statistics: each quantile's lower one and the next, deduplicated. */
        uint64_t *ranks = malloc(2 * (size_t)nq * sizeof *ranks);
        HPCML_ALLOC_ABORT(comm, ranks, "fitting the quantile transform");
        int n_ranks = 0;
        for (int64_t k = 0; k < nq; k++) {
            int64_t lo;
            double wt;
            etl_quantile_position(n, nq, k, &lo, &wt);
            for (int64_t r = lo; r <= lo + 1 && r < n; r++)
                if (n_ranks == 0 || ranks[n_ranks - 1] < (uint64_t)r)
                    ranks[n_ranks++] = (uint64_t)r;
        }
        uint64_t *keys = malloc(2 * ((size_t)w->n_fit + 1) * sizeof *keys);
        HPCML_ALLOC_ABORT(comm, keys, "fitting the quantile transform");
        size_t m = 0;
        for (int64_t k = 0; k < w->n_fit; k++) {
            double v = t->num[c][w->rows[k]];
            if (!isnan(v)) keys[m++] = etl_double_key(v);
        }
        etl_sort_keys(keys, keys + w->n_fit + 1, m);
        etl_multiselect sel;
        HPCML_ALLOC_ABORT(comm, etl_multiselect_init(&sel, keys, m, ranks, n_ranks) == HPCML_OK,
                          "fitting the quantile transform");
        if (etl_multiselect_run(comm, &sel) != HPCML_OK) hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        int at = 0;
        for (int64_t k = 0; k < nq; k++) {
            int64_t lo;
            double wt;
            etl_quantile_position(n, nq, k, &lo, &wt);
            while (ranks[at] < (uint64_t)lo)
                at++;
            double a = etl_key_double(sel.prefix[at]);
            double b = lo + 1 < n ? etl_key_double(sel.prefix[at + 1]) : a;
            double v = etl_quantile_lerp(a, b, wt);
            f->quantiles[k] = k > 0 && v < f->quantiles[k - 1] ? f->quantiles[k - 1] : v;
        }
        etl_multiselect_free(&sel);
        free(keys);
        free(ranks);
    }
}

/* Phase 6: the category columns' vocabularies. */
static void fit_vocabularies(MPI_Comm comm, const etl_schema *s, const etl_table *t, etl_fit *fit)
{
    for (int c = 0; c < s->n_cols; c++) {
        const etl_column_spec *col = &s->cols[c];
        etl_col_fit *f = &fit->cols[c];
        if (col->type != ETL_COL_CATEGORY) continue;
        const etl_strtab *tab = &t->strtab[c];
        int64_t *lc = calloc((size_t)tab->n + 1, sizeof *lc);
        HPCML_ALLOC_ABORT(comm, lc, "fitting the transform");
        int64_t nulls = 0;
        for (int64_t i = 0; i < t->n; i++) {
            if (!fit_row(t, i)) continue;
            if (t->cat[c][i] >= 0)
                lc[t->cat[c][i]]++;
            else
                nulls++;
        }
        HPCML_MPI_CHECK_ABORT(
            comm, MPI_Allreduce(&nulls, &f->train_nulls, 1, MPI_INT64_T, MPI_SUM, comm));
        if (etl_vocab_build(comm, tab, lc, col->max_categories, &f->vocab) != HPCML_OK)
            hpcml_mpi_abort(comm, HPCML_EINTERNAL);
        free(lc);
        f->impute_value = col->impute == ETL_IMPUTE_MOST_FREQUENT && f->vocab.n > 0 ? 1.0 : 0.0;
        int64_t total = 0;
        for (int32_t k = 0; k < f->vocab.n; k++)
            total += f->vocab.entries[k].count;
        f->n_values = total;
    }
}

/* Phase 7: the feature layout, names and per-feature scaling. */
static void fit_layout(MPI_Comm comm, const etl_schema *s, etl_fit *fit)
{
    int nc = s->n_cols, nf = 0;
    for (int c = 0; c < nc; c++) {
        const etl_column_spec *col = &s->cols[c];
        etl_col_fit *f = &fit->cols[c];
        f->first_feature = nf;
        if (is_numeric(col))
            f->n_features = 1;
        else if (col->type == ETL_COL_CATEGORY)
            f->n_features = col->onehot ? f->vocab.n + 1 : 1;
        else
            f->n_features = 0;
        nf += f->n_features;
    }
    fit->n_features = nf;
    fit->feature_names = calloc((size_t)nf + 1, sizeof *fit->feature_names);
    fit->scale_offset = calloc((size_t)nf + 1, sizeof *fit->scale_offset);
    fit->scale_mul = calloc((size_t)nf + 1, sizeof *fit->scale_mul);
    HPCML_ALLOC_ABORT(comm, fit->feature_names && fit->scale_offset && fit->scale_mul,
                      "fitting the transform");
    for (int c = 0; c < nc; c++) {
        const etl_column_spec *col = &s->cols[c];
        etl_col_fit *f = &fit->cols[c];
        for (int k = 0; k < f->n_features; k++) {
            int j = f->first_feature + k;
            fit->scale_offset[j] = f->offset;
            fit->scale_mul[j] = f->mul;
            if (col->type == ETL_COL_CATEGORY && col->onehot)
                fit->feature_names[j] = dup_printf(
                    "%s=%s", col->name, k == 0 ? "<unknown>" : f->vocab.entries[k - 1].bytes);
            else
                fit->feature_names[j] = dup_printf("%s%s", col->name, NULL);
            HPCML_ALLOC_ABORT(comm, fit->feature_names[j], "fitting the transform");
        }
    }
}

/* Collective from start to end; a local failure (out of memory) aborts. */
int etl_fit_columns(MPI_Comm comm, const etl_options *o, const etl_schema *s, const etl_table *t,
                    etl_fit *fit)
{
    memset(fit, 0, sizeof *fit);
    fit->n_cols = s->n_cols;
    fit->cols = calloc((size_t)s->n_cols + 1, sizeof *fit->cols);
    HPCML_ALLOC_ABORT(comm, fit->cols, "fitting the transform");
    fit_work w;
    fit_work_init(comm, t, s->n_cols, &w);
    fit_moments(comm, s, t, &w);
    fit_impute_values(comm, s, t, &w, fit);
    fit_spread_and_scale(comm, s, t, &w, fit);
    fit_quantiles(comm, o, s, t, &w, fit);
    fit_work_free(&w);
    fit_vocabularies(comm, s, t, fit);
    fit_layout(comm, s, fit);
    HPCML_ALLOC_ABORT(comm, etl_fit_bind(fit, s, t) == HPCML_OK, "fitting the transform");
    return HPCML_OK;
}

int etl_fit_bind(etl_fit *fit, const etl_schema *s, const etl_table *t)
{
    for (int c = 0; c < s->n_cols; c++) {
        etl_col_fit *f = &fit->cols[c];
        if (s->cols[c].type != ETL_COL_CATEGORY || f->n_features == 0) continue;
        const etl_strtab *tab = &t->strtab[c];
        free(f->local_to_index);
        f->local_to_index = malloc(((size_t)tab->n + 1) * sizeof *f->local_to_index);
        HPCML_CHECK(f->local_to_index, HPCML_EINTERNAL, "out of memory");
        for (int32_t id = 0; id < tab->n; id++) {
            size_t len;
            const char *str = etl_strtab_str(tab, id, &len);
            f->local_to_index[id] = etl_vocab_index(&f->vocab, str, len);
        }
    }
    return HPCML_OK;
}

void etl_encode_rows(const etl_schema *s, const etl_fit *fit, const etl_table *t,
                     const int64_t *rows, int64_t n, float *out)
{
    /* Column by column: each column array is read in row order (rows are
     * ascending but for resampled copies) and out, a block that fits in
     * cache, is filled with a stride. */
    size_t nf = (size_t)fit->n_features;
    for (int c = 0; c < s->n_cols; c++) {
        const etl_column_spec *col = &s->cols[c];
        const etl_col_fit *f = &fit->cols[c];
        if (f->n_features == 0) continue;
        float *o = out + f->first_feature;
        if (col->type == ETL_COL_CATEGORY) {
            const int32_t *cat = t->cat[c];
            for (int64_t r = 0; r < n; r++, o += nf) {
                int32_t id = cat[rows[r]];
                int32_t idx = id >= 0 ? f->local_to_index[id] : (int32_t)f->impute_value;
                if (col->onehot) {
                    memset(o, 0, (size_t)f->n_features * sizeof *o);
                    o[idx] = 1.0f;
                } else {
                    o[0] = (float)idx;
                }
            }
            continue;
        }
        const double *x = t->num[c];
        const double impute = f->impute_value, offset = f->offset, mul = f->mul;
        if (col->scale == ETL_SCALE_QUANTILE) {
            for (int64_t r = 0; r < n; r++, o += nf) {
                double v = x[rows[r]];
                if (isnan(v)) v = impute;
                o[0] = (float)etl_quantile_normal(v, f->quantiles, f->n_quantiles);
            }
            continue;
        }
        for (int64_t r = 0; r < n; r++, o += nf) {
            double v = x[rows[r]];
            if (isnan(v)) v = impute;
            o[0] = (float)((v - offset) * mul);
        }
    }
}

void etl_fit_free(etl_fit *fit)
{
    for (int c = 0; c < fit->n_cols; c++) {
        etl_vocab_free(&fit->cols[c].vocab);
        free(fit->cols[c].local_to_index);
        free(fit->cols[c].quantiles);
    }
    for (int j = 0; j < fit->n_features; j++)
        free(fit->feature_names[j]);
    free(fit->feature_names);
    free(fit->scale_offset);
    free(fit->scale_mul);
    free(fit->cols);
    memset(fit, 0, sizeof *fit);
}

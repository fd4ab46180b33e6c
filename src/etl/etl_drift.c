/* etl_drift.c — the train split's drift reference. See etl_drift.h. */
#include "etl/etl_drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "etl/etl_table.h"
#include "monitor/drift_report.h"

/* ---- drift_bucket_of without a log per value --------------------------------
 *
 * For a > 0 let k(a) = drift_bucket_of(a) - DRIFT_ZERO_BUCKET, in
 * 0..DRIFT_SIDE_BUCKETS + 1 (0: the zero bucket; SIDE + 1: the outer one),
 * and drift_bucket_of(-a) = DRIFT_ZERO_BUCKET - k(a): the grid is symmetric.
 * k is monotone (drift.h), so it is the step function of its thresholds
 * thr[j] = the smallest double with k >= j, found once by bisection over the
 * bit patterns of positive doubles (whose integer order is their numeric
 * order) with drift_bucket_of itself as the judge: the rule stays in one
 * place, and the table answers exactly what it answers. A value is then
 * placed by its exponent and top FB_SUB_BITS mantissa bits (a range 2^(1/64)
 * wide, narrower than one bucket, 1.0202) and one comparison with the next
 * threshold (a second one only near the clamps): 3 ns a value against
 * drift_bucket_of's 10 ns on standard-normal-like values, measured here. */
#define FB_SUB_BITS  6
#define FB_LO_EXP    (-31) /* 2^-31 < DRIFT_MIN_MAGNITUDE: below it, k = 0 */
#define FB_HI_EXP    61    /* 2^61 > DRIFT_MAX_MAGNITUDE: from it, k = SIDE + 1 */
#define FB_N_RANGES  ((FB_HI_EXP - FB_LO_EXP) << FB_SUB_BITS)
#define FB_K_OUTER   (DRIFT_SIDE_BUCKETS + 1)

static struct {
    int ready;
    uint64_t lo_bits, hi_bits;
    double thr[FB_K_OUTER + 2]; /* thr[0] = 0, thr[FB_K_OUTER + 1] = +inf (a sentinel) */
    int16_t start[FB_N_RANGES];
} fb;

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static double double_of(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static int k_slow(uint64_t bits)
{
    return drift_bucket_of(double_of(bits)) - DRIFT_ZERO_BUCKET;
}

static void fb_init(void)
{
    uint64_t inf = bits_of(INFINITY);
    fb.thr[0] = 0.0;
    uint64_t lo = 1; /* the smallest subnormal: k = 0 */
    for (int j = 1; j <= FB_K_OUTER; j++) {
        /* smallest b in (lo, inf] with k(b) >= j; k(inf) = FB_K_OUTER */
        uint64_t a = lo, b = inf;
        while (b - a > 1) {
            uint64_t m = a + (b - a) / 2;
            if (k_slow(m) >= j)
                b = m;
            else
                a = m;
        }
        fb.thr[j] = double_of(b);
        lo = a;
    }
    fb.thr[FB_K_OUTER + 1] = INFINITY;
    fb.lo_bits = bits_of(ldexp(1.0, FB_LO_EXP));
    fb.hi_bits = bits_of(ldexp(1.0, FB_HI_EXP));
    int k = 0;
    for (int r = 0; r < FB_N_RANGES; r++) {
        double first = double_of(fb.lo_bits + ((uint64_t)r << (52 - FB_SUB_BITS)));
        while (first >= fb.thr[k + 1])
            k++;
        fb.start[r] = (int16_t)k;
    }
    fb.ready = 1;
}

static inline int fast_bucket(double v)
{
    uint64_t b = bits_of(v), mag = b & ~(1ull << 63);
    int k;
    if (mag < fb.lo_bits) {
        k = 0;
    } else if (mag >= fb.hi_bits) {
        k = FB_K_OUTER;
    } else {
        double a = double_of(mag);
        k = fb.start[(mag - fb.lo_bits) >> (52 - FB_SUB_BITS)];
        k += a >= fb.thr[k + 1]; /* without a branch: true about half the time */
        while (a >= fb.thr[k + 1]) /* a second edge in the range: near the clamps only */
            k++;
    }
    return b >> 63 ? DRIFT_ZERO_BUCKET - k : DRIFT_ZERO_BUCKET + k;
}

int etl_drift_bucket(double v)
{
    if (!fb.ready) fb_init();
    return fast_bucket(v);
}

static void add_values(drift_numeric *d, const double *x, const int64_t *rows, int64_t n)
{
    if (!fb.ready) fb_init();
    for (int64_t r = 0; r < n; r++) {
        double v = x[rows[r]];
        if (isnan(v))
            d->nulls++;
        else
            d->counts[fast_bucket(v)]++;
    }
}

static int add_columns(const etl_schema *s, const etl_fit *fit, drift_set *out)
{
    for (int c = 0; c < s->n_cols; c++) {
        const etl_column_spec *col = &s->cols[c];
        int k = 0;
        if (col->type == ETL_COL_FLOAT || col->type == ETL_COL_INT) {
            k = drift_set_add_numeric(out, col->name);
        } else if (col->type == ETL_COL_CATEGORY) {
            const etl_vocab *v = &fit->cols[c].vocab;
            const char **names = calloc((size_t)v->n + 1, sizeof *names);
            if (!names) return HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
            names[0] = "<unknown>";
            for (int32_t e = 0; e < v->n; e++)
                names[e + 1] = v->entries[e].bytes;
            k = drift_set_add_categorical(out, col->name, v->n + 1, names);
            free(names);
        }
        if (k < 0) return HPCML_FAIL(HPCML_EINTERNAL, "out of memory (drift reference)");
    }
    return HPCML_OK;
}

int etl_drift_summary(MPI_Comm comm, const etl_schema *s, const etl_table *t, const etl_fit *fit,
                      const int64_t *rows, int64_t n_rows, drift_set *out)
{
    drift_set_init(out);
    int rc = add_columns(s, fit, out);
    if (rc == HPCML_OK) {
        int k = 0;
        for (int c = 0; c < s->n_cols; c++) {
            const etl_column_spec *col = &s->cols[c];
            if (col->type == ETL_COL_FLOAT || col->type == ETL_COL_INT) {
                drift_numeric *d = out->cols[k++].num;
                add_values(d, t->num[c], rows, n_rows); /* = drift_numeric_add each */
            } else if (col->type == ETL_COL_CATEGORY) {
                drift_categorical *d = &out->cols[k++].cat;
                const int32_t *id = t->cat[c], *to_index = fit->cols[c].local_to_index;
                for (int64_t r = 0; r < n_rows; r++) {
                    int32_t v = id[rows[r]];
                    drift_categorical_add(d, v >= 0 ? to_index[v] : -1);
                }
            }
        }
    }
    HPCML_TRY(hpcml_mpi_agree(comm, rc));
    return drift_set_allreduce(comm, out);
}

int etl_drift_reference(MPI_Comm comm, const etl_schema *s, const etl_table *t, const etl_fit *fit,
                        drift_set *out, int64_t *rows)
{
    int64_t n = 0;
    int64_t *train = etl_big_realloc(NULL, 0, ((size_t)t->n + 1) * sizeof *train);
    if (!train) {
        HPCML_FAIL(HPCML_EINTERNAL, "out of memory (drift reference)");
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    }
    for (int64_t r = 0; r < t->n; r++)
        if (t->drop[r] == ETL_KEEP && t->split[r] == 0) train[n++] = r;
    int rc = etl_drift_summary(comm, s, t, fit, train, n, out);
    free(train);
    if (rc == HPCML_OK &&
        MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, comm) != MPI_SUCCESS)
        rc = HPCML_FAIL(HPCML_EINTERNAL, "MPI_Allreduce of the train row count failed");
    *rows = n;
    return rc;
}

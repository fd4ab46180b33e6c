/* etl_drift.c — the train split's drift reference. See etl_drift.h. */
#include "etl/etl_drift.h"

#include <stdlib.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "monitor/drift_report.h"

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
                const double *x = t->num[c];
                for (int64_t r = 0; r < n_rows; r++)
                    drift_numeric_add(d, x[rows[r]]);
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
    int64_t *train = malloc(((size_t)t->n + 1) * sizeof *train);
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

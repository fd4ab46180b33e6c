/* etl_validate.c — null, range and unique-key checks. See etl_validate.h. */
#include "etl/etl_validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "etl/etl_table.h"

int etl_validation_init(etl_validation *v, int n_cols)
{
    memset(v, 0, sizeof *v);
    size_t n = (size_t)n_cols + 1;
    v->below_min = calloc(n, sizeof(int64_t));
    v->above_max = calloc(n, sizeof(int64_t));
    v->null_violations = calloc(n, sizeof(int64_t));
    v->impute_drops = calloc(n, sizeof(int64_t));
    HPCML_CHECK(v->below_min && v->above_max && v->null_violations && v->impute_drops,
                HPCML_EINTERNAL, "out of memory");
    return HPCML_OK;
}

void etl_validation_free(etl_validation *v)
{
    free(v->below_min);
    free(v->above_max);
    free(v->null_violations);
    free(v->impute_drops);
    memset(v, 0, sizeof *v);
}

int etl_validate_rows(const etl_options *o, const etl_schema *s, const etl_inputs *in, etl_table *t,
                      etl_validation *v)
{
    for (int64_t i = 0; i < t->n; i++) {
        if (t->drop[i] != ETL_KEEP) continue;
        for (int c = 0; c < s->n_cols && t->drop[i] == ETL_KEEP; c++) {
            const etl_column_spec *col = &s->cols[c];
            int numeric = col->type == ETL_COL_FLOAT || col->type == ETL_COL_INT;
            if (!numeric && col->type != ETL_COL_CATEGORY) continue;
            int null = numeric ? isnan(t->num[c][i]) : t->cat[c][i] < 0;
            if (null) {
                if (!col->nullable) {
                    v->null_violations[c]++;
                    if (o->on_null == ETL_NULL_ERROR) {
                        char where[4200];
                        etl_row_where(in, t, i, where, sizeof where);
                        return HPCML_FAIL(HPCML_EDATA,
                                          "%s: column '%s' is null but nullable = false "
                                          "(etl.on_null_violation = \"error\")",
                                          where, col->name);
                    }
                    if (o->on_null == ETL_NULL_DROP) {
                        t->drop[i] = ETL_DROP_NULL_VIOLATION;
                        break;
                    }
                }
                if (col->impute == ETL_IMPUTE_DROP) {
                    v->impute_drops[c]++;
                    t->drop[i] = ETL_DROP_IMPUTE;
                }
                continue;
            }
            if (!numeric) continue;
            double x = t->num[c][i];
            if (x < col->min) {
                v->below_min[c]++;
                t->drop[i] = ETL_DROP_RANGE;
            } else if (x > col->max) {
                v->above_max[c]++;
                t->drop[i] = ETL_DROP_RANGE;
            }
        }
    }
    return HPCML_OK;
}

typedef struct {
    uint64_t h1, h2, row;
    uint64_t origin; /* index in the receive buffer */
} key_item;

static int key_compare(const void *pa, const void *pb)
{
    const key_item *a = pa, *b = pb;
    if (a->h1 != b->h1) return a->h1 < b->h1 ? -1 : 1;
    if (a->h2 != b->h2) return a->h2 < b->h2 ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

/* Collective throughout; a local failure (out of memory) aborts. */
int etl_dedup(MPI_Comm comm, const etl_schema *s, etl_table *t, etl_validation *v)
{
    if (s->n_key_cols == 0) return HPCML_OK;
    int P = hpcml_mpi_size(comm);
    int *scount = calloc((size_t)P, sizeof(int)), *rcount = calloc((size_t)P, sizeof(int));
    int *sdispl = calloc((size_t)P + 1, sizeof(int)), *rdispl = calloc((size_t)P + 1, sizeof(int));
    int *fill = calloc((size_t)P, sizeof(int));
    HPCML_ALLOC_ABORT(comm, scount && rcount && sdispl && rdispl && fill,
                      "removing duplicate keys");
    for (int64_t i = 0; i < t->n; i++)
        if (t->drop[i] == ETL_KEEP) scount[t->key_hash[2 * i] % (uint64_t)P] += 3;
    for (int r = 0; r < P; r++)
        sdispl[r + 1] = sdispl[r] + scount[r];
    int64_t nsend = sdispl[P] / 3;
    uint64_t *sbuf = etl_big_realloc(NULL, 0, ((size_t)nsend * 3 + 1) * sizeof *sbuf);
    int64_t *where = etl_big_realloc(NULL, 0, ((size_t)nsend + 1) * sizeof *where); /* send slot -> local row */
    HPCML_ALLOC_ABORT(comm, sbuf && where, "removing duplicate keys");
    for (int64_t i = 0; i < t->n; i++) {
        if (t->drop[i] != ETL_KEEP) continue;
        int r = (int)(t->key_hash[2 * i] % (uint64_t)P);
        int at = sdispl[r] + fill[r];
        sbuf[at] = t->key_hash[2 * i];
        sbuf[at + 1] = t->key_hash[2 * i + 1];
        sbuf[at + 2] = (uint64_t)(t->first_row + i);
        where[at / 3] = i;
        fill[r] += 3;
    }
    if (MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    for (int r = 0; r < P; r++)
        rdispl[r + 1] = rdispl[r] + rcount[r];
    int64_t nrecv = rdispl[P] / 3;
    uint64_t *rbuf = etl_big_realloc(NULL, 0, ((size_t)nrecv * 3 + 1) * sizeof *rbuf);
    HPCML_ALLOC_ABORT(comm, rbuf, "removing duplicate keys");
    if (MPI_Alltoallv(sbuf, scount, sdispl, MPI_UINT64_T, rbuf, rcount, rdispl, MPI_UINT64_T,
                      comm) != MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);

    key_item *items = etl_big_realloc(NULL, 0, ((size_t)nrecv + 1) * sizeof *items);
    uint8_t *dup = calloc((size_t)nrecv + 1, 1);
    HPCML_ALLOC_ABORT(comm, items && dup, "removing duplicate keys");
    for (int64_t k = 0; k < nrecv; k++)
        items[k] = (key_item){rbuf[3 * k], rbuf[3 * k + 1], rbuf[3 * k + 2], (uint64_t)k};
    qsort(items, (size_t)nrecv, sizeof *items, key_compare);
    for (int64_t k = 1; k < nrecv; k++)
        if (items[k].h1 == items[k - 1].h1 && items[k].h2 == items[k - 1].h2)
            dup[items[k].origin] = 1;
    free(items);
    free(rbuf);

    /* The marks go back the way the keys came. */
    uint8_t *back = etl_big_realloc(NULL, 0, (size_t)nsend + 1);
    HPCML_ALLOC_ABORT(comm, back, "removing duplicate keys");
    for (int r = 0; r < P; r++) {
        scount[r] /= 3, sdispl[r] /= 3;
        rcount[r] /= 3, rdispl[r] /= 3;
    }
    if (MPI_Alltoallv(dup, rcount, rdispl, MPI_UINT8_T, back, scount, sdispl, MPI_UINT8_T, comm) !=
        MPI_SUCCESS)
        hpcml_mpi_abort(comm, HPCML_EINTERNAL);
    int64_t local_dups = 0;
    for (int64_t k = 0; k < nsend; k++)
        if (back[k]) {
            t->drop[where[k]] = ETL_DROP_DUPLICATE;
            local_dups++;
        }
    v->duplicates += local_dups;
    free(back);
    free(dup);
    free(sbuf);
    free(where);
    free(scount);
    free(rcount);
    free(sdispl);
    free(rdispl);
    free(fill);
    return HPCML_OK;
}

/* data_memory.c — the parts the memory data sources share. See
 * data_memory.h. */
#include "train/data_memory.h"

#include <stdlib.h>
#include <string.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "io/dataset_layout.h"

int memory_open(data_source *src, const data_source_args *a, int replicated)
{
    memory_source *m = calloc(1, sizeof *m);
    int rc = m ? HPCML_OK : HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    if (m) {
        src->impl = m;
        m->smp = a->smp;
        m->comm = a->comm;
        m->size = a->size;
        m->class_weights = a->class_weights;
        rc = epoch_data_init(&m->ed, a->smp, a->rank, a->size, a->n_features, replicated);
        m->bw = malloc((a->smp->steps ? a->smp->steps : 1) * sizeof *m->bw);
        if (rc == HPCML_OK && !m->bw) rc = HPCML_FAIL(HPCML_EINTERNAL, "out of memory");
    }
    rc = hpcml_mpi_agree(a->comm, rc);
    if (rc != HPCML_OK) return rc;
    /* collective: each rank its own hyperslab (replicated: all of it) */
    rc = h5_dataset_read_rows(a->ds, SPLIT_TRAIN, m->ed.shard_lo, m->ed.shard_hi, m->ed.shard_x,
                              m->ed.shard_y, NULL);
    src->slice_lo = m->ed.slice_lo;
    src->slice = m->ed.slice;
    src->held_y = m->ed.shard_y;
    src->held_rows = m->ed.shard_hi - m->ed.shard_lo;
    return hpcml_mpi_agree(a->comm, rc);
}

void memory_batch_weights(memory_source *m)
{
    const epoch_data *ed = &m->ed;
    for (uint64_t s = 0; s < m->smp->steps; s++) {
        double sum = 0.0;
        for (uint64_t j = 0; j < ed->slice; j++) {
            int32_t y = ed->y[s * ed->slice + j];
            sum += m->class_weights ? (double)m->class_weights[y] : 1.0;
        }
        m->bw[s] = sum;
    }
    if (m->size > 1)
        HPCML_MPI_CHECK_ABORT(m->comm, MPI_Allreduce(MPI_IN_PLACE, m->bw, (int)m->smp->steps,
                                                     MPI_DOUBLE, MPI_SUM, m->comm));
}

int memory_batch(data_source *src, uint64_t step, const float **x, const int32_t **y, double *w)
{
    memory_source *m = src->impl;
    memory_peek(src, step, x, y);
    *w = m->bw[step];
    return HPCML_OK;
}

int memory_peek(const data_source *src, uint64_t step, const float **x, const int32_t **y)
{
    const memory_source *m = src->impl;
    *x = m->ed.x + step * m->ed.slice * (uint64_t)m->ed.n_features;
    *y = m->ed.y + step * m->ed.slice;
    return 1;
}

void memory_epoch_end(data_source *src)
{
    (void)src;
}

data_order memory_order(const data_source *src)
{
    (void)src;
    const data_order none = {0, 0};
    return none;
}

void memory_close(data_source *src)
{
    memory_source *m = src->impl;
    if (!m) return;
    epoch_data_free(&m->ed);
    free(m->bw);
    free(m);
    src->impl = NULL;
}

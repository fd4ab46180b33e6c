/* data_memory_replicated.c — the "memory-replicated" data source (small
 * /train, train.replicate_max_mb): every rank holds all of /train and the
 * epoch's rows are a local gather of the same rows in the same order as the
 * sharded exchange, so the batches and the weights are bit-identical to
 * data_memory_sharded.c's, with no communication but the batch weights'
 * allreduce. See data_source.h. */
#include <string.h>

#include "core/status.h"
#include "train/data_memory.h"

static int replicated_open(data_source *src, const data_source_args *a)
{
    return memory_open(src, a, 1);
}

static int replicated_epoch_begin(data_source *src, uint64_t epoch, uint64_t first_step)
{
    (void)first_step;
    memory_source *m = src->impl;
    epoch_data *ed = &m->ed;
    epoch_data_order(ed, m->smp, epoch);
    /* every row is here: a gather, rows fetched ahead of use */
    const size_t F = (size_t)ed->n_features;
    enum { AHEAD = 16 };
    for (uint64_t k = 0; k < ed->local_rows; k++) {
        if (k + AHEAD < ed->local_rows) {
            const float *next = ed->shard_x + ed->req_rows[k + AHEAD] * F;
            __builtin_prefetch(next);
            __builtin_prefetch(next + F - 1);
        }
        const uint64_t row = ed->req_rows[k];
        memcpy(ed->x + k * F, ed->shard_x + row * F, F * sizeof(float));
        ed->y[k] = ed->shard_y[row];
    }
    memory_batch_weights(m);
    return HPCML_OK;
}

const data_source_ops data_memory_replicated = {
    .name = "memory-replicated",
    .open = replicated_open,
    .epoch_begin = replicated_epoch_begin,
    .batch = memory_batch,
    .peek = memory_peek,
    .epoch_end = memory_epoch_end,
    .epoch_report = NULL,
    .order = memory_order,
    .close = memory_close,
};

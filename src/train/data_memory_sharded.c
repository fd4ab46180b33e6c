/* data_memory_sharded.c — the "memory-sharded" data source: each rank holds
 * its shard of /train; every epoch one all-to-all exchange (row_exchange.h)
 * fetches the rows of this rank's batch slices from their owners. See
 * data_source.h and epoch_data.h (costs). */
#include <stdlib.h>

#include "core/hpcml_mpi.h"
#include "core/status.h"
#include "train/data_memory.h"

static int sharded_open(data_source *src, const data_source_args *a)
{
    return memory_open(src, a, 0);
}

typedef struct {
    uint64_t rows, shard_lo;
    int size;
} shard_owners;

static int shard_owner(uint64_t row, const void *ctx)
{
    const shard_owners *o = ctx;
    return sampler_shard_owner(o->rows, o->size, row);
}

static uint64_t shard_local(uint64_t row, const void *ctx)
{
    const shard_owners *o = ctx;
    return row - o->shard_lo; /* wraps to a huge value below the shard: rejected */
}

/* Collective inside the epoch: a failure ends the job (the ranks are past
 * their last agreement point). */
static int sharded_epoch_begin(data_source *src, uint64_t epoch, uint64_t first_step)
{
    (void)first_step; /* the whole epoch's rows are fetched; steps before it are skipped */
    memory_source *m = src->impl;
    epoch_data *ed = &m->ed;
    epoch_data_order(ed, m->smp, epoch);
    const shard_owners owners = {m->smp->rows, ed->shard_lo, ed->size};
    const row_source rs = {shard_owner, shard_local, &owners, ed->shard_x, ed->shard_y,
                           ed->shard_hi - ed->shard_lo};
    const int rc = row_exchange_run(&ed->ex, ed->req_rows, ed->local_rows, &rs, ed->x, ed->y,
                                    m->comm);
    if (rc != HPCML_OK) hpcml_mpi_abort(m->comm, rc);
    memory_batch_weights(m);
    return HPCML_OK;
}

const data_source_ops data_memory_sharded = {
    .name = "memory-sharded",
    .open = sharded_open,
    .epoch_begin = sharded_epoch_begin,
    .batch = memory_batch,
    .peek = memory_peek,
    .epoch_end = memory_epoch_end,
    .epoch_report = NULL,
    .order = memory_order,
    .close = memory_close,
};
